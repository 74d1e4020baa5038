"""Breadth-first search levels (Graphalytics BFS) as a PIE app."""

from __future__ import annotations

import numpy as np

from ...store import Graph
from ..app import App, State
from ..context import Context
from ..executor import run_app
from ..inputs import source_gid
from ._frontier import (
    bfs_levels,
    bitmap_bytes,
    bottom_up_bits,
    flag_array,
    frontier_of,
    pack_reached,
    popcount,
    switch_direction,
    top_down_bits,
)

#: Depth of a vertex the source does not reach (Graphalytics: the largest int64).
UNREACHABLE = np.iinfo(np.int64).max


class BFS(App):
    """Hop count from one source along out-edges.

    On one fragment PEval runs the whole search. On several, round ``r`` expands level ``r``
    in every fragment (level-synchronous, as Gemini does), all fragments top-down or all
    bottom-up (Beamer's heuristic over the frontier's size and estimated out-edges):

    * the frontier of level ``r`` travels as a bitmap over global ids, the bitwise or of what
      every fragment reached in round ``r - 1`` (an ``"or"`` reduction: ``id_space / 8``
      bytes per fragment and round, whatever the cut, as in Graph500's replicated-bitmap
      BFS); a fragment keeps its inner vertices' depths and, in ``visited``, the or of the
      frontiers so far;
    * top-down: the inner frontier gives ``r + 1`` to its inner out-neighbors and flags the
      outer ones not visited (their owners learn it from the bitmap);
    * bottom-up: every inner vertex not reached looks for an in-neighbor in the frontier.

    Every edge is followed at most once per level, by its source's owner or its target's.
    """

    def __init__(self, source: int):
        self.source = source

    def init(self, frag) -> State:
        if frag.fnum == 1:  # PEval runs the whole search
            return State(depth=np.full(frag.vnum, UNREACHABLE, dtype=np.int64))
        nbytes = bitmap_bytes(frag.id_space)
        return State(depth=np.full(frag.ivnum, UNREACHABLE, dtype=np.int64),
                     nxt=flag_array(frag.vnum), visited=np.zeros(nbytes, dtype=np.uint8),
                     front=None, bottom_up=False, edges=0, size=1)

    def peval(self, frag, state, messages) -> None:
        inner_gids = frag.gids[:frag.ivnum]  # ascending
        lid = int(np.searchsorted(inner_gids, self.source))
        seeds = np.array([lid] if lid < frag.ivnum and inner_gids[lid] == self.source else [],
                         dtype=np.int64)
        state.depth[seeds] = 0
        if frag.fnum == 1:
            bfs_levels(frag.out_indptr, frag.out_nbrs, frag.in_indptr, frag.in_nbrs,
                       state.depth, seeds, frag.ivnum)
            return
        state.visited[self.source >> 3] |= np.uint8(128 >> (self.source & 7))
        messages.reduce("edges", int(frag.out_indptr[frag.ivnum]), "sum")
        edges = int(frag.out_indptr[seeds + 1].sum() - frag.out_indptr[seeds].sum())
        self._level(frag, state, messages, seeds, edges, 0, False, None)

    def inceval(self, frag, state, messages) -> None:
        bits = messages.reduced("frontier")
        if bits is None:  # the last level reached nothing: done
            return
        level = messages.round
        if level == 1:
            state.edges = messages.reduced("edges", 0)
        np.bitwise_or(state.visited, bits, out=state.visited)
        size = popcount(bits)
        # the frontier's out-edges, estimated at the mean out-degree of the level before
        estimate = size * messages.reduced("frontier_edges", 0) / state.size
        bottom_up = switch_direction(state.bottom_up, estimate, size, state.edges,
                                     frag.total_vertex_count)
        state.size = size
        # after a bottom-up level this fragment set every inner depth itself; a bottom-up
        # level needs neither the inner frontier nor its edges (it switches back on the size)
        frontier, edges = frontier_of(bits, frag, state.depth, level, not bottom_up,
                                      not state.bottom_up)
        self._level(frag, state, messages, frontier, edges, level, bottom_up, bits)

    def _level(self, frag, state, messages, frontier, edges, level, bottom_up, bits) -> None:
        """Expand level ``level`` from the inner ``frontier`` (``edges`` out-edges; ``bits``:
        the whole frontier); announce what it reached."""
        state.bottom_up = bottom_up
        if bottom_up:
            if state.front is None:
                state.front = np.empty(frag.vnum, dtype=np.uint8)
            bottom_up_bits(frag, state.depth, bits, level, state.front, state.nxt)
        elif len(frontier):
            top_down_bits(frag, frontier, edges, state.depth, state.visited, level, state.nxt)
        reached, count = pack_reached(state.nxt, frag, len(state.visited), not bottom_up)
        messages.reduce("frontier_edges", int(edges), "sum")
        if count:  # a level that reached nothing anywhere ends the run with its own round
            messages.reduce("frontier", reached, "or")
            messages.force_continue()

    def output(self, frag, state) -> dict[str, np.ndarray]:
        return {"r": frag.inner_part(state.depth)}


def bfs(graph: Graph, src, executor: str = "local") -> Context:
    """Number of hops from ``src`` to every vertex (Graphalytics BFS).

    Follows the LDBC Graphalytics definition (specification section 2.3.1; Iosup et al.,
    PVLDB 9(13), 2016): the depth of ``v`` is the length of the shortest path from ``src`` to
    ``v`` following edge directions; ``src`` has depth 0 and unreachable vertices
    ``9223372036854775807`` (the largest int64). On one fragment PEval runs the whole search;
    on several, each round expands one level in every fragment, the frontier being a bitmap
    over global ids or-reduced over the fragments. Each level runs
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
