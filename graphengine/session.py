"""The session: the user's entry point that builds graphs and runs engines on them.

>>> import graphengine
>>> with graphengine.session(num_fragments=2) as sess:
...     g = sess.g(directed=True)
...     g = g.add_edges({"src": [1, 2], "dst": [2, 3]}, label="link")
...     g.edge_count
2
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from .errors import LoadError, SchemaError
from .store.graph import Graph

log = logging.getLogger(__name__)


class Session:
    """Holds the defaults of the graphs it builds (number of fragments, partitioner).

    Analytics choose where they run per call (``executor="local"`` or ``"ray"``).

    Args:
        num_fragments: fragments per graph (edge-cut partitions).
        partitioner: ``"hash"`` of the user id (default), ``"range"`` of sorted ids, or
            ``"fennel"``: streaming over the graph's first edges, which cuts fewer edges
            (``Graph.edge_cut()``; see docs/scaling.md).
    """

    def __init__(self, num_fragments: int = 1, partitioner: str = "hash"):
        self.num_fragments = num_fragments
        self.partitioner = partitioner
        self.closed = False
        self._servers: list[Any] = []

    def __enter__(self) -> Session:  # noqa: PYI034 (typing.Self needs Python 3.11)
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """End the session (stops the Gremlin servers it started)."""
        for server in self._servers:
            server.stop()
        self._servers.clear()
        self.closed = True

    def __repr__(self) -> str:
        return f"Session(num_fragments={self.num_fragments}, partitioner={self.partitioner!r})"

    def g(self, incoming_data: Any = None, directed: bool = True,
          num_fragments: int | None = None) -> Graph:
        """An empty graph, or one converted from a networkx graph (``incoming_data``)."""
        fnum = num_fragments or self.num_fragments
        if incoming_data is None:
            return Graph.empty(directed, fnum, self.partitioner)
        if hasattr(incoming_data, "is_directed") and hasattr(incoming_data, "nodes"):
            return from_networkx(incoming_data, fnum, self.partitioner)
        raise LoadError(f"sess.g(): cannot build a graph from {type(incoming_data).__name__}")

    def load_from(self, edges: Mapping[str, Any], vertices: Mapping[str, Any] | None = None,
                  directed: bool = True, num_fragments: int | None = None) -> Graph:
        """Build a graph from per-label sources, in GraphScope's ``load_from`` form.

        ``vertices[label]`` is a source or ``(source, properties, vid_field)``;
        ``edges[label]`` is a source, ``(source, properties, (src_field, src_label),
        (dst_field, dst_label))``, a dict of :meth:`Graph.add_edges` arguments, or a list of
        these (one per relation). Vertex labels without a source are deduced from the edges.
        """
        g = self.g(directed=directed, num_fragments=num_fragments)
        for label, spec in (vertices or {}).items():
            source, kwargs = _spec(spec, edge=False)
            g = g.add_vertices(source, label=label, **kwargs)
        for label, specs in edges.items():
            for spec in specs if isinstance(specs, list) else [specs]:
                source, kwargs = _spec(spec, edge=True)
                g = g.add_edges(source, label=label, **kwargs)
        return g


    def gremlin(self, graph: Graph, evaluation_timeout: float | None = None):
        """A Gremlin engine over ``graph`` (GraphScope's ``sess.gremlin(g)``).

        ``q.execute(text, bindings)`` runs Gremlin text, ``q.traversal_source()`` gives a
        gremlinpython ``GraphTraversalSource`` that runs in this process, and ``q.graph`` is
        the graph after the mutations made through ``q``. See :class:`graphengine.query.Gremlin`.
        """
        from .query import Gremlin

        return Gremlin(graph, evaluation_timeout=evaluation_timeout)

    def serve(self, graphs: Any, port: int = 8182, host: str = "127.0.0.1", **options: Any):
        """Serve graphs to Gremlin drivers over TinkerPop's websocket protocol, in the background.

        ``graphs`` is one graph (traversal source ``g``) or a mapping such as
        ``{"gmodern": g1, "g": g2}``; a ``sess.gremlin(g)`` engine is served as is. Returns the
        running :class:`graphengine.query.server.GremlinServer` (``url``, ``engine(name)``,
        ``graph(name)``, ``stop()``); it stops with the session. ``options``: the server's
        keyword arguments (``credentials``, ``evaluation_timeout``, ``max_frame_bytes`` ...).
        """
        from .query.server import GremlinServer

        server = GremlinServer(graphs, host=host, port=port, **options).start()
        self._servers.append(server)
        return server


def session(num_fragments: int = 1, partitioner: str = "hash", cluster: str | None = None,
            address: str | None = None) -> Session:
    """Start a session (a context manager): ``with graphengine.session() as sess: ...``.

    ``cluster="ray"`` keeps the graphs' fragments on a Ray cluster, one actor per fragment
    (:class:`graphengine.cluster.RaySession`); ``address`` is Ray's: ``None`` (start Ray here),
    ``"auto"`` (the cluster of ``ray start --head`` on this machine) or ``"ray://host:port"``.
    """
    if cluster is None:
        if address is not None:
            raise SchemaError("session(address=...) needs cluster='ray'")
        return Session(num_fragments=num_fragments, partitioner=partitioner)
    if cluster != "ray":
        raise SchemaError(f"cluster must be None or 'ray', got {cluster!r}")
    from .cluster import RaySession

    return RaySession(num_fragments=num_fragments, partitioner=partitioner, address=address)


def _spec(spec: Any, edge: bool) -> tuple[Any, dict]:
    """``(source, keyword arguments)`` of one ``load_from`` entry (see :meth:`Session.load_from`)."""
    if isinstance(spec, dict):
        spec = dict(spec)
        return spec.pop("source"), spec
    if not isinstance(spec, tuple):
        return spec, {}
    kwargs: dict[str, Any] = {}
    if len(spec) > 1:
        kwargs["properties"] = spec[1]
    if not edge and len(spec) > 2:
        kwargs["vid_field"] = spec[2]
    for end, item in zip(("src", "dst"), spec[2:4] if edge else ()):
        if isinstance(item, tuple):
            kwargs[f"{end}_field"], kwargs[f"{end}_label"] = item
        else:
            kwargs[f"{end}_field"] = item
    return spec[0], kwargs


def from_networkx(G, num_fragments: int = 1, partitioner: str = "hash") -> Graph:
    """Convert a networkx graph: one vertex label ``_`` and one edge label ``_e``.

    Node and edge attributes become properties (columns of the union of attribute names;
    missing values are null). Node ids must all be integers or all strings.
    """
    nodes = list(G.nodes)
    kinds = {type(n) for n in nodes}
    if kinds - {int, np.int64, np.int32} and kinds - {str}:
        raise SchemaError(f"networkx node ids must all be int or all be str, got {sorted(k.__name__ for k in kinds)}")
    vdf = pd.DataFrame([{**attrs} for _, attrs in G.nodes(data=True)])
    ids = pa.array(nodes, type=pa.int64() if kinds <= {int, np.int64, np.int32} else pa.large_string())
    vt = pa.Table.from_pandas(vdf, preserve_index=False) if len(vdf.columns) else pa.table({})
    g = Graph.empty(G.is_directed(), num_fragments, partitioner)
    g = g._add_vertex_table("_", ids, vt)
    edges = list(G.edges(data=True))
    src = pa.array([u for u, _, _ in edges], type=ids.type)
    dst = pa.array([v for _, v, _ in edges], type=ids.type)
    edf = pd.DataFrame([d for _, _, d in edges])
    et = pa.Table.from_pandas(edf, preserve_index=False) if len(edf.columns) else pa.table({})
    return g._add_edge_table("_e", {"src": src, "dst": dst}, et, "_", "_", False)
