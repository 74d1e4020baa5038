"""The Ray cluster session: the local session's methods over fragments kept on Ray workers.

>>> import graphengine                                         # doctest: +SKIP
>>> sess = graphengine.session(cluster="ray", address="auto", num_fragments=4)
>>> g = sess.load_from(edges={"knows": "/data/knows/"}, vertices={"person": "/data/person/"})
>>> ranks = graphengine.pagerank(g)              # runs in the actors holding the fragments
>>> g = g.add_column(ranks, {"pagerank": "r"})   # each fragment adds its own part
"""

from __future__ import annotations

import os
from typing import Any

from ..errors import SchemaError
from ..session import Session
from ..store import Graph
from .graph import DistributedGraph, load_distributed
from .runtime import RayCluster


class RaySession(Session):
    """A session whose graphs live in Ray actors, one per fragment (``num_fragments``).

    Args:
        num_fragments: fragments per graph, one actor each, spread over the cluster's nodes.
        partitioner: ``"hash"`` (the only one a cluster session supports: every worker finds
            the owner of an id without asking anyone).
        address: ``None`` (start Ray on this machine unless it is running in this process),
            ``"auto"`` (the cluster ``ray start --head`` started on this machine) or
            ``"ray://host:10001"`` (Ray Client). An already initialized Ray is used as is.
    """

    def __init__(self, num_fragments: int = 1, partitioner: str = "hash",
                 address: str | None = None):
        if partitioner != "hash":
            raise SchemaError(f"a cluster session partitions by hash, got {partitioner!r}")
        if num_fragments < 1:
            raise SchemaError(f"number of fragments must be >= 1, got {num_fragments}")
        super().__init__(num_fragments, partitioner)
        self.address = address
        self.cluster = RayCluster(num_fragments, address)

    def __repr__(self) -> str:
        return f"RaySession(num_fragments={self.num_fragments}, address={self.address!r})"

    def close(self) -> None:
        """End the session: its actors and their fragments go (and Ray, if it started it)."""
        super().close()
        self.cluster.shutdown()

    def _check_fnum(self, num_fragments: int | None) -> None:
        if num_fragments not in (None, self.num_fragments):
            raise SchemaError(f"this cluster session has {self.num_fragments} fragment workers;"
                              f" num_fragments={num_fragments} needs another session")

    def g(self, incoming_data: Any = None, directed: bool = True,
          num_fragments: int | None = None) -> DistributedGraph:
        """An empty distributed graph, or one converted from a networkx graph."""
        self._check_fnum(num_fragments)
        if incoming_data is None:
            return DistributedGraph.empty(self.cluster, directed)
        return self.distribute(super().g(incoming_data, directed, self.num_fragments))

    def load_from(self, edges, vertices=None, directed: bool = True,
                  num_fragments: int | None = None) -> DistributedGraph:
        """As :meth:`graphengine.Session.load_from`; a source may also be a list of files, a
        directory or a glob pattern, each worker reading its share."""
        self._check_fnum(num_fragments)
        return super().load_from(edges, vertices, directed, num_fragments)

    def distribute(self, graph: Graph) -> DistributedGraph:
        """A local graph's fragments sent to the workers (it must have as many fragments and
        be hash-partitioned)."""
        if graph.fnum != self.num_fragments or graph.partitioner.kind != "hash":
            raise SchemaError(f"distribute: the graph has {graph.fnum} {graph.partitioner.kind}"
                              f" fragments, the session {self.num_fragments} hash fragments")
        from .actor import Head

        cl = self.cluster
        version = cl.next_id()
        refs = [cl.ray.put(f) for f in graph.fragments]
        cl.get([a.adopt.remote(version, [r]) for a, r in zip(cl.actors, refs)])
        cl.refs[version] = refs
        head = Head(graph.schema, graph.partitioner, graph.vertex_blocks, graph.edge_blocks)
        return DistributedGraph(cl, head, version)

    def load_graph(self, path: os.PathLike | str) -> DistributedGraph:
        """A graph saved by :meth:`DistributedGraph.save` or :meth:`Graph.save`, read back
        onto the workers (worker ``f`` reads fragment ``f``; saved with as many fragments)."""
        return load_distributed(self.cluster, path)

    def gremlin(self, graph, evaluation_timeout: float | None = None):
        """A Gremlin engine over a local graph (for a distributed one: ``g.to_local()``)."""
        return super().gremlin(_local(graph, "gremlin"), evaluation_timeout)

    def serve(self, graphs: Any, port: int = 8182, host: str = "127.0.0.1", **options: Any):
        """As :meth:`graphengine.Session.serve`, for local graphs (``g.to_local()``)."""
        if isinstance(graphs, dict):
            graphs = {k: _local(v, "serve") for k, v in graphs.items()}
        else:
            graphs = _local(graphs, "serve")
        return super().serve(graphs, port, host, **options)


def _local(graph: Any, what: str) -> Any:
    if isinstance(graph, DistributedGraph):
        raise SchemaError(f"{what}: the graph's fragments are on the Ray cluster; the Gremlin"
                          f" engine needs the whole graph in this process: pass g.to_local()"
                          f" (it gathers every fragment to the driver)")
    return graph
