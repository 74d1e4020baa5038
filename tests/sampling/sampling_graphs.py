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



def hetero_graph(directed=True, seed=0, num_fragments=1):
    """Users and items: ``follows`` user -> user, ``buys`` user -> item, and ``links`` with two
    relations (user -> item, item -> item), so an item's ``links`` rows mix neighbor labels.
    Every edge has ``key``: its row in ``tables[label]`` (the reference)."""
    rng = np.random.default_rng(seed)
    nu, ni = 40, 25
    tables = {}

    def edges(n_src, n_dst, m):
        return rng.integers(0, n_src, m), rng.integers(0, n_dst, m)

    specs = [("follows", "user", "user", *edges(nu, nu, 200)),
             ("buys", "user", "item", *edges(nu, ni, 150)),
             ("links", "user", "item", *edges(nu, ni, 60)),
             ("links", "item", "item", *edges(ni, ni, 60))]
    with graphengine.session(num_fragments=num_fragments) as sess:
        g = sess.g(directed=directed)
        g = g.add_vertices(pa.table({"id": np.arange(100, 100 + nu)}), label="user")
        g = g.add_vertices(pa.table({"id": np.arange(500, 500 + ni)}), label="item")
        for label, sl, dl, s, d in specs:
            off = {"user": 100, "item": 500}
            start = len(tables.get(label, {"src": []})["src"])
            t = {"src": s + off[sl], "dst": d + off[dl],
                 "key": np.arange(start, start + len(s), dtype=np.int64),
                 "w": rng.random(len(s)) + 0.1}
            g = g.add_edges(pa.table(t), label=label, src_label=sl, dst_label=dl)
            old = tables.get(label)
            tables[label] = t if old is None else {k: np.concatenate([old[k], t[k]]) for k in t}
    return g, tables
