"""Small graphs for the sampler tests, with their edge lists as the independent reference."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

import graphengine


def build(src, dst, n, directed=True, num_fragments=1, weight=None):
    """A graph of one vertex label ``_`` (ids ``0..n-1``) and edge label ``_e`` (``w``)."""
    with graphengine.session(num_fragments=num_fragments) as sess:
        g = sess.g(directed=directed)
        g = g.add_vertices(pa.table({"id": np.arange(n, dtype=np.int64)}), label="_")
        cols = {"src": np.asarray(src, dtype=np.int64), "dst": np.asarray(dst, dtype=np.int64)}
        if weight is not None:
            cols["w"] = np.asarray(weight, dtype=np.float64)
        return g.add_edges(pa.table(cols), label="_e")


class Ref:
    """A graph with its reference edges: ``src[eid], dst[eid]`` (user ids), and the user id
    of every global id."""

    def __init__(self, g, directed):
        table = g.edge_table("_e")
        assert table.num_rows == g.edge_blocks.total  # eids are the rows: no gaps
        self.g = g
        self.directed = directed
        self.src = table.column("src").to_numpy()
        self.dst = table.column("dst").to_numpy()
        self.uid = np.empty(g.id_space, dtype=np.int64)
        uids = np.arange(g.vertex_count, dtype=np.int64)
        self.uid[g.gids("_", uids)] = uids

    def gids(self, uids):
        return self.g.gids("_", np.asarray(uids, dtype=np.int64))

    def check_edges(self, out, direction="in"):
        """Every sampled edge is the graph edge its id names, oriented as stored."""
        node = out.node.numpy()
        s = self.uid[node[out.row.numpy()]]
        d = self.uid[node[out.col.numpy()]]
        e = out.edge.numpy()
        ok = (self.src[e] == s) & (self.dst[e] == d)
        if not self.directed:
            ok |= (self.src[e] == d) & (self.dst[e] == s)
        assert ok.all(), f"{(~ok).sum()} sampled edges are not graph edges"

