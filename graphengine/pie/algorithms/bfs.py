"""Breadth-first search levels (Graphalytics BFS) as a PIE app."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from ...store import Graph
from ..app import App, State
from ..context import Context
from ..executor import run_app
from ..inputs import source_gid
from .sssp import relax_from

#: Depth of a vertex the source does not reach (Graphalytics: the largest int64).
UNREACHABLE = np.iinfo(np.int64).max


class BFS(App):
    """Hop count from one source along out-edges."""

    sync: ClassVar[dict[str, str]] = {"depth": "min"}

    def __init__(self, source: int):
        self.source = source

    def init(self, frag) -> State:
        return State(depth=np.full(frag.vnum, UNREACHABLE, dtype=np.int64),
                     hops=np.ones(len(frag.out_nbrs), dtype=np.int64))

    def peval(self, frag, state, messages) -> None:
        lid = frag.lids(np.array([self.source]))[0]
        if 0 <= lid < frag.ivnum:
            state.depth[lid] = 0
            relax_from(frag.out_indptr, frag.out_nbrs, state.hops, state.depth,
                       np.array([lid], dtype=np.int64), frag.ivnum)

    def inceval(self, frag, state, messages) -> None:
        relax_from(frag.out_indptr, frag.out_nbrs, state.hops, state.depth,
                   messages.changed("depth"), frag.ivnum)

    def output(self, frag, state) -> dict[str, np.ndarray]:
        return {"r": state.depth[:frag.ivnum].copy()}


def bfs(graph: Graph, src, executor: str = "local") -> Context:
    """Number of hops from ``src`` to every vertex (Graphalytics BFS).

    Follows the LDBC Graphalytics definition (specification section 2.3.1; Iosup et al.,
    PVLDB 9(13), 2016): the depth of ``v`` is the length of the shortest path from ``src`` to
    ``v`` following edge directions; ``src`` has depth 0 and unreachable vertices
    ``9223372036854775807`` (the largest int64). PEval explores the source's fragment; IncEval
    continues from vertices whose depth a mirror lowered ("min" sync). Work ``O(V + E)`` per
    fragment and round (a priority queue orders vertices reached with different depths).

    Parameters
    ----------
    graph : Graph
        Directed or undirected.
    src : vertex user id, or ``(label, id)``
    executor : {"local", "ray"}

    Returns
    -------
    Context
        ``ctx.to_numpy("r")``: int64 depths in ``ctx.gids`` order.

    Raises
    ------
    AnalyticsError
        The source is not in the graph.

    Examples
    --------
    >>> import graphengine
    >>> g = graphengine.session().g().add_edges({"src": [1, 2], "dst": [2, 3]})
    >>> graphengine.bfs(g, 2).to_numpy("r").tolist()
    [9223372036854775807, 0, 1]
    """
    return run_app(graph, BFS(source_gid(graph, src)), executor)
