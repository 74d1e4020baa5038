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
from ._frontier import (
    bfs_levels,
    bottom_up_known,
    frontier_edges,
    outer_edges,
    switch_direction,
    top_down,
)

#: Depth of a vertex the source does not reach (Graphalytics: the largest int64).
UNREACHABLE = np.iinfo(np.int64).max


# id(out_nbrs) -> (weak reference to out_nbrs, its edges into outer vertices): the local CSR of
# a fragment is the same array object in every run on it (FragmentView caches it)
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
    """Hop count from one source along out-edges.

    On one fragment PEval runs the whole search. On several, round ``r`` expands level ``r``
    in every fragment (level-synchronous, as Gemini does), all fragments top-down or all
    bottom-up (Beamer's heuristic over the frontier sizes summed by global reductions):

    * the frontier is the inner vertices at depth ``r``: found by this fragment in the round
      before, or lowered to ``r`` by another fragment's push ("min" sync of ``depth``);
    * top-down: the frontier pushes ``r + 1`` along its out-edges, outer vertices included;
    * bottom-up: every inner vertex not reached looks for an in-neighbor at depth ``r``, an
      outer one through ``known`` (the owners' depths, copied to the mirrors: "copy" sync).
      A vertex lowered in this round has not reached the mirrors yet, so it pushes along its
      edges to outer vertices instead.

    Every edge is followed once, by its source's owner or its target's, and no vertex is
    expanded twice.
    """

    sync: ClassVar[dict[str, str]] = {"depth": "min", "known": "copy"}
    #: each level reports the slots it set (messages.report_changed): no whole-array diffs
    sync_tracked: ClassVar[tuple[str, ...]] = ("depth", "known")

    def __init__(self, source: int):
        self.source = source

    def init(self, frag) -> State:
        depth = np.full(frag.vnum, UNREACHABLE, dtype=np.int64)
        if frag.fnum == 1:  # PEval runs the whole search: nothing to tell mirrors (never read)
            return State(depth=depth, known=np.empty(frag.vnum, dtype=np.int64))
        if frag.ovnum:
            outer_indptr, outer_nbrs = _outer_edges(frag)
        else:
            outer_indptr, outer_nbrs = frag.out_indptr, np.zeros(0, dtype=np.int64)
        return State(depth=depth, known=np.full(frag.vnum, UNREACHABLE, dtype=np.int64),
                     outer_indptr=outer_indptr, outer_nbrs=outer_nbrs,
                     frontier=np.zeros(0, dtype=np.int64), bottom_up=False,
                     nxt=np.zeros(frag.vnum, dtype=np.bool_))

    def peval(self, frag, state, messages) -> None:
        inner_gids = frag.gids[:frag.ivnum]  # ascending
        lid = int(np.searchsorted(inner_gids, self.source))
        inner = lid < frag.ivnum and inner_gids[lid] == self.source
        if inner:
            state.depth[lid] = 0
        seeds = np.array([lid] if inner else [], dtype=np.int64)
        if frag.fnum == 1:
            bfs_levels(frag.out_indptr, frag.out_nbrs, frag.in_indptr, frag.in_nbrs,
                       state.depth, seeds, frag.ivnum)
            return
        messages.reduce("edges", int(frag.out_indptr[frag.ivnum]), "sum")
        self._level(frag, state, messages, seeds, seeds, 0, False)

    def inceval(self, frag, state, messages) -> None:
        level = messages.round
        lowered = messages.changed("depth")
        lowered = lowered[state.depth[lowered] == level]
        frontier = state.frontier
        if len(lowered) and len(frontier):  # the union, ascending, by the marks (no sort)
            state.nxt[frontier] = True
            state.nxt[lowered] = True
            frontier = np.flatnonzero(state.nxt)
            state.nxt[frontier] = False
        elif len(lowered):
            frontier = lowered
        edges = messages.reduced("edges", 0)
        messages.reduce("edges", edges, "max")
        bottom_up = switch_direction(state.bottom_up, messages.reduced("frontier_edges", 0),
                                     messages.reduced("frontier_vertices", 0), edges,
                                     frag.total_vertex_count)
        self._level(frag, state, messages, frontier, lowered, level, bottom_up)

    def _level(self, frag, state, messages, frontier, lowered, level, bottom_up) -> None:
        """Expand level ``level``; ``lowered``: the frontier vertices the mirrors do not know."""
        state.bottom_up = bottom_up
        nxt = state.nxt
        if bottom_up:
            bottom_up_known(frag.in_indptr, frag.in_nbrs, state.depth, state.known, level, nxt,
                            frag.ivnum)
            if len(lowered) and len(state.outer_nbrs):
                top_down(state.outer_indptr, state.outer_nbrs, lowered, state.depth, level, nxt,
                         frag.ivnum)
        elif len(frontier):
            top_down(frag.out_indptr, frag.out_nbrs, frontier, state.depth, level, nxt,
                     frag.ivnum)
        reached = np.flatnonzero(nxt)
        nxt[reached] = False
        inner = int(np.searchsorted(reached, frag.ivnum))
        state.frontier = reached[:inner]
        messages.report_changed("depth", reached[inner:])  # pushed to other owners
        # the owners' depths for the mirrors (a "copy" sync of the vertices reached)
        state.known[lowered] = level
        state.known[state.frontier] = level + 1
        messages.report_changed("known", lowered)
        messages.report_changed("known", state.frontier)
        # the next frontier for the next round's direction: the vertices found here and the
        # outer ones pushed to (their owners' edges estimated at this fragment's mean)
        n_in, n_out = len(state.frontier), len(reached) - inner
        fe = frontier_edges(frag.out_indptr, state.frontier)
        fe = fe + (fe / n_in if n_in else frag.out_indptr[frag.ivnum] / max(frag.ivnum, 1)) * n_out
        messages.reduce("frontier_edges", float(fe), "sum")
        messages.reduce("frontier_vertices", n_in + n_out, "sum")
        if len(state.frontier):
            messages.force_continue()

    def output(self, frag, state) -> dict[str, np.ndarray]:
        return {"r": state.depth[:frag.ivnum].copy()}


def bfs(graph: Graph, src, executor: str = "local") -> Context:
    """Number of hops from ``src`` to every vertex (Graphalytics BFS).

    Follows the LDBC Graphalytics definition (specification section 2.3.1; Iosup et al.,
    PVLDB 9(13), 2016): the depth of ``v`` is the length of the shortest path from ``src`` to
    ``v`` following edge directions; ``src`` has depth 0 and unreachable vertices
    ``9223372036854775807`` (the largest int64). On one fragment PEval runs the whole search;
    on several, each round expands one level in every fragment, the frontier being the
    vertices found at that depth locally or through a mirror ("min" sync). Each level runs
    top-down or bottom-up (direction-optimizing, parallel ``prange`` levels). Work ``O(V + E)``
    in all, rounds: the source's eccentricity plus one.

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
