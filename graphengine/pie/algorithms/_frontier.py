"""Level-synchronous, direction-optimizing BFS over one fragment (shared by the BFS app).

Each level expands the vertices whose depth equals the level, either **top-down** (every
frontier vertex pushes ``level + 1`` to its out-neighbors) or **bottom-up** (every inner vertex
not yet at ``level + 1`` looks for an in-neighbor at ``level``), after Beamer, Asanović and
Patterson, *Direction-Optimizing Breadth-First Search*, SC 2012. Both are ``prange`` loops; their
only shared writes store the same value (``level + 1``), so the result does not depend on the
thread schedule. Outer vertices take a depth but are never expanded (their owner does that).
The kernels flag every vertex they give a depth in ``nxt`` (outer ones too when ``nxt`` has a
slot per local id), so the caller learns the next frontier and the outer vertices reached.
Between fragments the frontier travels as a bitmap over global ids (:func:`pack_reached`,
:func:`frontier_of`), as in the replicated-bitmap BFS of the Graph500 reference code.

:func:`bfs_levels` runs a whole search on one fragment; the BFS app drives the levels itself
on several (one level per round).
"""

from __future__ import annotations

import numba
import numpy as np

from ..view import call_either

#: Bottom-up once the frontier's out-edges exceed this fraction of the fragment's edges.
BOTTOM_UP_EDGE_SHARE = 1.0 / 20.0
#: Back to top-down once the frontier is smaller than this fraction of the inner vertices.
TOP_DOWN_VERTEX_SHARE = 1.0 / 24.0


@numba.njit(cache=True, nogil=True, parallel=True)
def _top_down(indptr, nbrs, frontier, depth, level, nxt, ivnum):
    nd = level + 1
    for i in numba.prange(frontier.shape[0]):
        u = frontier[i]
        for j in range(indptr[u], indptr[u + 1]):
            v = nbrs[j]
            if depth[v] > nd:
                depth[v] = nd
                nxt[v] = True


@numba.njit(cache=True, nogil=True)
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


@numba.njit(cache=True, nogil=True, parallel=True)
def _bottom_up(in_indptr, in_nbrs, depth, level, nxt, ivnum):
    nd = level + 1
    for v in numba.prange(ivnum):
        if depth[v] > nd:
            for j in range(in_indptr[v], in_indptr[v + 1]):
                if depth[in_nbrs[j]] == level:
                    depth[v] = nd
                    nxt[v] = True
                    break


@numba.njit(cache=True, nogil=True)
def frontier_edges(indptr, frontier):
    total = 0
    for i in range(frontier.shape[0]):
        total += indptr[frontier[i] + 1] - indptr[frontier[i]]
    return total


#: Top-down levels with fewer frontier edges than this run in the calling thread.
SERIAL_EDGES = 1 << 16


# ---------------------------------------------------------------- several fragments
# The frontier of a level is a bitmap over global ids (most significant bit first, as
# np.packbits), the bitwise or of what every fragment reached. A fragment keeps the depths
# of its inner vertices; an outer vertex is "visited" when its bit is set in the or of the
# frontiers so far. Inner vertices are ranges of global ids (FragmentView.inner_ranges), so
# reading and writing their bits costs a pass over ivnum / 8 bytes, not a lookup per vertex.


def bitmap_bytes(id_space: int) -> int:
    """Bytes of a bitmap over ``id_space`` global ids (whole 64-bit words)."""
    return (id_space + 63) // 64 * 8


def flag_array(n: int) -> np.ndarray:
    """``n`` False flags, padded to whole 64-bit words (scanned eight at a time)."""
    return np.zeros((n + 7) // 8 * 8, dtype=np.bool_)


@numba.njit(cache=True, nogil=True)
def popcount(bits):
    """Number of set bits of a bitmap of whole 64-bit words (SWAR count per word)."""
    words = bits.view(np.uint64)
    total = 0
    for i in range(words.shape[0]):
        x = words[i]
        x = x - ((x >> np.uint64(1)) & np.uint64(0x5555555555555555))
        x = (x & np.uint64(0x3333333333333333)) + ((x >> np.uint64(2)) & np.uint64(0x3333333333333333))
        x = (x + (x >> np.uint64(4))) & np.uint64(0x0F0F0F0F0F0F0F0F)
        total += (x * np.uint64(0x0101010101010101)) >> np.uint64(56)
    return total


# per byte value: how many bits are set and where (most significant bit first)
_BIT_COUNT = np.array([x.bit_count() for x in range(256)], dtype=np.int64)
_BIT_POS = np.array([[j for j in range(8) if (x >> (7 - j)) & 1] + [0] * (8 - x.bit_count())
                     for x in range(256)], dtype=np.int64)


@numba.njit(cache=True, nogil=True)
def _frontier_of(bits, starts, counts, bases, depth, level, out_indptr, collect, lower):
    n = 0
    if collect:
        for r in range(starts.shape[0]):
            n += counts[r]
    out = np.empty(n, dtype=np.int64)
    k = 0
    edges = 0
    for r in range(starts.shape[0]):
        lo, hi, base = starts[r], starts[r] + counts[r], bases[r]
        for b in range(lo >> 3, (hi + 7) >> 3):
            x = bits[b]
            if x:
                for t in range(_BIT_COUNT[x]):
                    g = 8 * b + _BIT_POS[x, t]
                    if lo <= g < hi:
                        lid = base + g - lo
                        if lower:
                            depth[lid] = min(depth[lid], level)
                        if collect:
                            out[k] = lid
                            k += 1
                            edges += out_indptr[lid + 1] - out_indptr[lid]
    return out[:k], edges


def frontier_of(bits: np.ndarray, view, depth: np.ndarray, level: int, collect: bool,
                lower: bool) -> tuple[np.ndarray, int]:
    """The inner vertices whose bit is set: with ``lower``, given depth ``level`` where they
    had none lower (the ones other fragments reached; those this one reached have it);
    with ``collect``, returned (ascending lids) with their out-edges, else ``([], 0)``."""
    return _frontier_of(bits, *view.inner_ranges, depth, level, view.out_indptr, collect,
                        lower)


#: times a word of eight 0/1 flag bytes: its top byte holds them as bits, the flag at the
#: lowest address in the most significant bit (the order of np.packbits)
_GATHER_BITS = np.uint64(0x8040201008040201)


@numba.njit(cache=True, nogil=True)
def _pack_one(nxt, lid, g, out):
    if nxt[lid]:
        nxt[lid] = False
        out[g >> 3] |= np.uint8(128 >> (g & 7))
        return 1
    return 0


@numba.njit(cache=True, nogil=True)
def _pack_flags(nxt, words, gids, starts, counts, bases, ivnum, stop, out):
    reached = 0
    # inner vertices: ranges of global ids, eight flags at once as one byte of the bitmap
    for r in range(starts.shape[0]):
        lo, n, base = starts[r], counts[r], bases[r]
        end = base + n
        first, last = (base + 7) >> 3, end >> 3  # the words wholly inside the range
        if first >= last:
            for lid in range(base, end):
                reached += _pack_one(nxt, lid, lo + lid - base, out)
            continue
        for lid in range(base, 8 * first):
            reached += _pack_one(nxt, lid, lo + lid - base, out)
        for w in range(first, last):
            x = words[w]
            if x:
                words[w] = 0
                byte = (x * _GATHER_BITS) >> np.uint64(56)
                reached += _BIT_COUNT[byte]
                g = lo + 8 * w - base
                b, sh = g >> 3, g & 7
                out[b] |= np.uint8(byte >> sh)
                if sh:
                    out[b + 1] |= np.uint8((byte << (8 - sh)) & 255)
        for lid in range(8 * last, end):
            reached += _pack_one(nxt, lid, lo + lid - base, out)
    # outer vertices: by their global ids, a word's eight flags without a branch each
    first, last = (ivnum + 7) >> 3, stop >> 3
    for lid in range(ivnum, min(8 * first, stop)):
        reached += _pack_one(nxt, lid, gids[lid], out)
    for w in range(first, last):
        x = words[w]
        if x:
            words[w] = 0
            reached += _BIT_COUNT[(x * _GATHER_BITS) >> np.uint64(56)]
            for t in range(8):
                g = gids[8 * w + t]
                out[g >> 3] |= np.uint8(((x >> np.uint64(8 * t)) & np.uint64(1))
                                        << np.uint64(7 - (g & 7)))
    for lid in range(max(8 * last, min(8 * first, stop)), stop):
        reached += _pack_one(nxt, lid, gids[lid], out)
    return reached


def pack_reached(nxt: np.ndarray, view, nbytes: int, outer: bool = True
                 ) -> tuple[np.ndarray, int]:
    """The bitmap of the vertices flagged in ``nxt`` (from :func:`flag_array`, cleared here)
    and their number, in one pass over the flags; ``outer=False``: only inner vertices can be
    flagged (a bottom-up level), the outer flags are not scanned."""
    out = np.zeros(nbytes, dtype=np.uint8)
    stop = view.vnum if outer else view.ivnum
    reached = _pack_flags(nxt, nxt.view(np.uint64), view.gids, *view.inner_ranges, view.ivnum,
                          stop, out)
    return out, int(reached)


@numba.njit(cache=True, nogil=True, parallel=True)
def _top_down_bits(indptr, nbrs, frontier, depth, gids, visited, level, nxt, ivnum):
    nd = level + 1
    for i in numba.prange(frontier.shape[0]):
        u = frontier[i]
        for j in range(indptr[u], indptr[u + 1]):
            v = nbrs[j]
            if v < ivnum:
                if depth[v] > nd:
                    depth[v] = nd
                    nxt[v] = True
            elif not nxt[v]:
                g = gids[v]
                if not (visited[g >> 3] >> (7 - (g & 7))) & 1:
                    nxt[v] = True


@numba.njit(cache=True, nogil=True)
def _top_down_bits_serial(indptr, nbrs, frontier, depth, gids, visited, level, nxt, ivnum):
    nd = level + 1
    for i in range(frontier.shape[0]):
        u = frontier[i]
        for j in range(indptr[u], indptr[u + 1]):
            v = nbrs[j]
            if v < ivnum:
                if depth[v] > nd:
                    depth[v] = nd
                    nxt[v] = True
            elif not nxt[v]:
                g = gids[v]
                if not (visited[g >> 3] >> (7 - (g & 7))) & 1:
                    nxt[v] = True


def top_down_bits(view, frontier, edges: int, depth, visited, level, nxt) -> None:
    """A top-down level on a fragment with outer vertices: the inner ``frontier`` (``edges``
    out-edges) flags in ``nxt`` the inner vertices it gives ``level + 1`` and the outer ones
    not ``visited`` (the or of the frontier bitmaps up to ``level``)."""
    call_either(_top_down_bits_serial, _top_down_bits, edges >= SERIAL_EDGES, view.out_indptr,
                view.out_nbrs, frontier, depth, view.gids, visited, level, nxt, view.ivnum)


@numba.njit(cache=True, nogil=True, parallel=True)
def _bottom_up_bits(in_indptr, in_nbrs, depth, gids, bits, level, front, nxt, ivnum):
    # the frontier as a byte per local id: the loop below reads one byte per in-neighbor
    for lid in numba.prange(gids.shape[0]):
        g = gids[lid]
        front[lid] = (bits[g >> 3] >> (7 - (g & 7))) & 1
    nd = level + 1
    for v in numba.prange(ivnum):
        if depth[v] > nd:
            for j in range(in_indptr[v], in_indptr[v + 1]):
                if front[in_nbrs[j]]:
                    depth[v] = nd
                    nxt[v] = True
                    break


def bottom_up_bits(view, depth, bits, level, front, nxt) -> None:
    """A bottom-up level on a fragment with outer vertices: every inner vertex not reached
    looks for an in-neighbor whose bit is set in ``bits``. ``front``: a uint8 scratch of
    ``vnum`` bytes."""
    _bottom_up_bits(view.in_indptr, view.in_nbrs, depth, view.gids, bits, level, front, nxt,
                    view.ivnum)


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
    call_either(_top_down_serial, _top_down, frontier_edges(indptr, frontier) >= SERIAL_EDGES,
                indptr, nbrs, frontier, depth, level, nxt, ivnum)


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
