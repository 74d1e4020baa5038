"""Level-synchronous, direction-optimizing BFS over one fragment (shared by the BFS app).

Each level expands the vertices whose depth equals the level, either **top-down** (every
frontier vertex pushes ``level + 1`` to its out-neighbors) or **bottom-up** (every inner vertex
not yet at ``level + 1`` looks for an in-neighbor at ``level``), after Beamer, Asanović and
Patterson, *Direction-Optimizing Breadth-First Search*, SC 2012. Both are ``prange`` loops; their
only shared writes store the same value (``level + 1``), so the result does not depend on the
thread schedule. Outer vertices take a depth but are never expanded (their owner does that).
The kernels flag every vertex they give a depth in ``nxt`` (outer ones too when ``nxt`` has a
slot per local id), so the caller learns the next frontier and the outer vertices reached.

:func:`bfs_levels` runs a whole search on one fragment; the BFS app drives the levels itself
on several (one level per round).
"""

from __future__ import annotations

import numba
import numpy as np

#: Bottom-up once the frontier's out-edges exceed this fraction of the fragment's edges.
BOTTOM_UP_EDGE_SHARE = 1.0 / 20.0
#: Back to top-down once the frontier is smaller than this fraction of the inner vertices.
TOP_DOWN_VERTEX_SHARE = 1.0 / 24.0


@numba.njit(cache=True, parallel=True)
def _top_down(indptr, nbrs, frontier, depth, level, nxt, ivnum):
    nd = level + 1
    for i in numba.prange(frontier.shape[0]):
        u = frontier[i]
        for j in range(indptr[u], indptr[u + 1]):
            v = nbrs[j]
            if depth[v] > nd:
                depth[v] = nd
                nxt[v] = True


@numba.njit(cache=True)
def _top_down_serial(indptr, nbrs, frontier, depth, level, nxt, ivnum):
    """:func:`_top_down` in the calling thread, for small frontiers: a parallel region costs
    more than the work when the cores are busy (several fragments' sweeps, other processes)."""
    nd = level + 1
    for i in range(frontier.shape[0]):
        u = frontier[i]
        for j in range(indptr[u], indptr[u + 1]):
            v = nbrs[j]
            if depth[v] > nd:
                depth[v] = nd
                nxt[v] = True


@numba.njit(cache=True, parallel=True)
def _bottom_up(in_indptr, in_nbrs, depth, level, nxt, ivnum):
    nd = level + 1
    for v in numba.prange(ivnum):
        if depth[v] > nd:
            for j in range(in_indptr[v], in_indptr[v + 1]):
                u = in_nbrs[j]
                if u < ivnum and depth[u] == level:
                    depth[v] = nd
                    nxt[v] = True
                    break


@numba.njit(cache=True, parallel=True)
def bottom_up_known(in_indptr, in_nbrs, depth, known, level, nxt, ivnum):
    """A bottom-up level on a fragment with outer vertices: an in-neighbor is at ``level``
    when its depth (inner) or its owner's last report in ``known`` (outer) says so."""
    nd = level + 1
    for v in numba.prange(ivnum):
        if depth[v] > nd:
            for j in range(in_indptr[v], in_indptr[v + 1]):
                u = in_nbrs[j]
                if (depth[u] == level) if u < ivnum else (known[u] == level):
                    depth[v] = nd
                    nxt[v] = True
                    break


@numba.njit(cache=True)
def frontier_edges(indptr, frontier):
    total = 0
    for i in range(frontier.shape[0]):
        total += indptr[frontier[i] + 1] - indptr[frontier[i]]
    return total


#: Top-down levels with fewer frontier edges than this run in the calling thread.
SERIAL_EDGES = 1 << 16


@numba.njit(cache=True)
def outer_edges(indptr, nbrs, ivnum):
    """The sub-CSR of the edges that end at an outer vertex (lid >= ``ivnum``)."""
    n = indptr.shape[0] - 1
    ptr = np.zeros(n + 1, dtype=np.int64)
    for u in range(n):
        c = 0
        for j in range(indptr[u], indptr[u + 1]):
            if nbrs[j] >= ivnum:
                c += 1
        ptr[u + 1] = ptr[u] + c
    out = np.empty(ptr[n], dtype=np.int64)
    k = 0
    for u in range(n):
        for j in range(indptr[u], indptr[u + 1]):
            if nbrs[j] >= ivnum:
                out[k] = nbrs[j]
                k += 1
    return ptr, out


def expand_level(out_indptr, out_nbrs, in_indptr, in_nbrs, depth, frontier, level, ivnum,
                 nxt, bottom_up: bool) -> np.ndarray:
    """One level on a fragment without outer vertices: the vertices of ``frontier`` (all the
    inner lids at depth ``level``) give ``level + 1`` to the vertices they reach, top-down or
    (``bottom_up``) bottom-up. Returns the next frontier (ascending). ``nxt`` is an all-False
    scratch of ``ivnum`` flags, left all-False."""
    if bottom_up:
        _bottom_up(in_indptr, in_nbrs, depth, level, nxt, ivnum)
    else:
        top_down(out_indptr, out_nbrs, frontier, depth, level, nxt, ivnum)
    frontier = np.flatnonzero(nxt)
    nxt[frontier] = False
    return frontier


def top_down(indptr, nbrs, frontier, depth, level, nxt, ivnum) -> None:
    """A top-down level, in the calling thread when the frontier has few edges."""
    if frontier_edges(indptr, frontier) < SERIAL_EDGES:
        _top_down_serial(indptr, nbrs, frontier, depth, level, nxt, ivnum)
    else:
        _top_down(indptr, nbrs, frontier, depth, level, nxt, ivnum)


def switch_direction(bottom_up: bool, frontier_edges: int, frontier_vertices: int,
                     edges: int, vertices: int) -> bool:
    """Beamer's heuristic: go bottom-up once the frontier's out-edges exceed
    ``BOTTOM_UP_EDGE_SHARE`` of the edges, back top-down once it holds fewer than
    ``TOP_DOWN_VERTEX_SHARE`` of the vertices."""
    if bottom_up:
        return frontier_vertices >= vertices * TOP_DOWN_VERTEX_SHARE
    return frontier_edges > max(edges, 1) * BOTTOM_UP_EDGE_SHARE


def bfs_levels(out_indptr, out_nbrs, in_indptr, in_nbrs, depth, seeds, ivnum) -> None:
    """Lower ``depth`` (int64) by a BFS from ``seeds`` (inner lids) over a fragment without
    outer vertices. Unreached vertices keep their value."""
    seeds = np.asarray(seeds, dtype=np.int64)
    if not len(seeds):
        return
    seed_depth = depth[seeds]
    order = np.argsort(seed_depth, kind="stable")
    seeds, seed_depth = seeds[order], seed_depth[order]
    nxt = np.zeros(ivnum, dtype=np.bool_)
    frontier = np.zeros(0, dtype=np.int64)
    level = int(seed_depth[0])
    k = 0
    bottom_up = False
    while True:
        if k < len(seeds) and seed_depth[k] == level:
            hi = int(np.searchsorted(seed_depth, level, side="right"))
            joining = seeds[k:hi]
            joining = joining[depth[joining] == level]  # not lowered meanwhile
            if len(frontier):  # the union, ascending, by the marks (no sort)
                nxt[frontier] = True
                nxt[joining] = True
                frontier = np.flatnonzero(nxt)
                nxt[frontier] = False
            else:
                frontier = joining
            k = hi
        if not len(frontier):
            if k >= len(seeds):
                return
            level = int(seed_depth[k])
            continue
        bottom_up = switch_direction(bottom_up, frontier_edges(out_indptr, frontier),
                                     len(frontier), int(out_indptr[ivnum]), ivnum)
        frontier = expand_level(out_indptr, out_nbrs, in_indptr, in_nbrs, depth, frontier,
                                level, ivnum, nxt, bottom_up)
        level += 1
