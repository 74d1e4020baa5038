"""Breadth-first search levels (Graphalytics BFS) as a PIE app."""

from __future__ import annotations

import weakref
from typing import ClassVar

import numpy as np

from ...store import Graph
from ..app import App, State
from ..context import Context
from ..executor import run_app
from ..inputs import source_gid
from ._frontier import bfs_levels, outer_edges

#: Depth of a vertex the source does not reach (Graphalytics: the largest int64).
UNREACHABLE = np.iinfo(np.int64).max


# id(out_nbrs) -> (weak reference to out_nbrs, its outer edges): the local CSR of a fragment is
# the same array object in every run on it (FragmentView caches it), so later runs reuse this
_outer_cache: dict[int, tuple] = {}


def _outer_edges(frag) -> tuple[np.ndarray, np.ndarray]:
    key = id(frag.out_nbrs)
    hit = _outer_cache.get(key)
    if hit is not None and hit[0]() is frag.out_nbrs:
        return hit[1]
    result = outer_edges(frag.out_indptr, frag.out_nbrs, frag.ivnum)
    try:
        ref = weakref.ref(frag.out_nbrs, lambda _, key=key: _outer_cache.pop(key, None))
    except TypeError:  # an array that cannot be weakly referenced: not cached
        return result
    _outer_cache[key] = (ref, result)
    return result


class BFS(App):
    """Hop count from one source along out-edges."""

    sync: ClassVar[dict[str, str]] = {"depth": "min"}

    def __init__(self, source: int):
        self.source = source

    def init(self, frag) -> State:
        if frag.ovnum:
            outer_indptr, outer_nbrs = _outer_edges(frag)
        else:
            outer_indptr, outer_nbrs = frag.out_indptr, np.zeros(0, dtype=np.int64)
        return State(depth=np.full(frag.vnum, UNREACHABLE, dtype=np.int64),
                     outer_indptr=outer_indptr, outer_nbrs=outer_nbrs)

    def _sweep(self, frag, state, seeds) -> None:
        bfs_levels(frag.out_indptr, frag.out_nbrs, frag.in_indptr, frag.in_nbrs,
                   state.outer_indptr, state.outer_nbrs, state.depth, seeds, frag.ivnum)

    def peval(self, frag, state, messages) -> None:
        lid = frag.lids(np.array([self.source]))[0]
        if 0 <= lid < frag.ivnum:
            state.depth[lid] = 0
            self._sweep(frag, state, np.array([lid], dtype=np.int64))

    def inceval(self, frag, state, messages) -> None:
        self._sweep(frag, state, messages.changed("depth"))

    def output(self, frag, state) -> dict[str, np.ndarray]:
        return {"r": state.depth[:frag.ivnum].copy()}


def bfs(graph: Graph, src, executor: str = "local") -> Context:
    """Number of hops from ``src`` to every vertex (Graphalytics BFS).

    Follows the LDBC Graphalytics definition (specification section 2.3.1; Iosup et al.,
    PVLDB 9(13), 2016): the depth of ``v`` is the length of the shortest path from ``src`` to
    ``v`` following edge directions; ``src`` has depth 0 and unreachable vertices
    ``9223372036854775807`` (the largest int64). PEval explores the source's fragment; IncEval
    continues from vertices whose depth a mirror lowered ("min" sync). Each fragment sweeps level
    by level, top-down or bottom-up (direction-optimizing, parallel ``prange`` levels); seeds
    reached with different depths join when the sweep reaches their depth. Work ``O(V + E)``
    per fragment and round.

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
