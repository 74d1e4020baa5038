"""Numba kernels of the samplers: counter-based random numbers, per-vertex picks, renumbering.

Randomness is a pure function of ``(key, position, draw)``: ``key`` is derived from the user's
seed and the hop (and edge type), ``position`` is a vertex's place in the hop's frontier, and
``draw`` counts the numbers that vertex uses. No state is shared between threads, so a sample
does not depend on the number of threads, on how the frontier is split between fragments, or
on the order in which the kernels visit vertices.

A hop runs in three kernels: :func:`pick_counts` (picks per frontier vertex), a prefix sum
(numpy), :func:`pick_neighbors` (each vertex writes its picks at its offset); both run once per
fragment over the frontier positions that fragment owns. :func:`renumber` then gives the new
neighbors their batch positions in frontier order, through a global-id -> position map.
"""

from __future__ import annotations

import numba
import numpy as np
from numba import prange

from ..store.kernels import _prefetch

_AHEAD = 16  # prefetch distance (entries) of the random reads

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_GOLDEN2 = np.uint64(0xD1B54A32D192ED03)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S11 = np.uint64(11)
_INV53 = 1.0 / 9007199254740992.0  # 2**-53
_SMALL = 32  # up to this many picks, Floyd's algorithm checks membership by a linear scan

# Below this much work (vertices or picks) a kernel runs on one thread: starting a parallel
# region costs more than it saves there, and much more when other processes share the cores
# (a region waits for its slowest thread's time slice).
PARALLEL_MIN_WORK = 1 << 18


def parallel_for(work: int) -> bool:
    """Whether a kernel over ``work`` items runs its parallel version."""
    return work >= PARALLEL_MIN_WORK and numba.get_num_threads() > 1


def stream_key(seed: int, *parts: int) -> np.uint64:
    """The key of one random stream: ``seed`` mixed with ``parts`` (hop, edge type, ...)."""
    x = np.uint64(int(seed) & 0xFFFFFFFFFFFFFFFF)
    with np.errstate(over="ignore"):
        for p in parts:
            x = mix64(np.uint64(x + np.uint64(int(p) + 1) * _GOLDEN))
    return np.uint64(x)


@numba.njit(cache=True, nogil=True, inline="always")
def mix64(x):
    """splitmix64's finalizer: a bijective 64-bit hash (Steele, Lea & Flood 2014)."""
    x = (x ^ (x >> _S30)) * _M1
    x = (x ^ (x >> _S27)) * _M2
    return x ^ (x >> _S31)


@numba.njit(cache=True, nogil=True, inline="always")
def _state(key, position):
    return mix64(key + np.uint64(position) * _GOLDEN2)


@numba.njit(cache=True, nogil=True, inline="always")
def _uniform(state, draw):
    """Uniform float in [0, 1) for the ``draw``-th number of a vertex's stream."""
    r = mix64(state + np.uint64(draw + 1) * _GOLDEN)
    return np.float64(r >> _S11) * _INV53


@numba.njit(cache=True, nogil=True, inline="always")
def _below(state, draw, n):
    """Uniform integer in [0, n)."""
    k = np.int64(_uniform(state, draw) * n)
    return k if k < n else n - 1


# ---------------------------------------------------------------------------- neighbor picks


@numba.njit(cache=True, nogil=True, inline="always")
def _count_one(p, lids, indptr, eids, fanout, replace, weights, weighted, counts, row_start,
               row_deg):
    r = lids[p]
    start = indptr[r]
    deg = indptr[r + 1] - start
    row_start[p] = start
    row_deg[p] = deg
    if deg == 0 or fanout == 0:
        counts[p] = 0
    elif fanout < 0:
        counts[p] = deg
    elif not weighted:
        counts[p] = fanout if (replace or fanout < deg) else deg
    else:
        eligible = 0
        for i in range(start, start + deg):
            if weights[eids[i]] > 0:
                eligible += 1
        if replace:
            counts[p] = fanout if eligible > 0 else 0
        else:
            counts[p] = min(fanout, eligible)


@numba.njit(cache=True, nogil=True)
def _pick_counts_serial(positions, lids, indptr, eids, fanout, replace, weights, weighted,
                        counts, row_start, row_deg):
    n = positions.shape[0]
    for j in range(n):
        if j + _AHEAD < n:
            _prefetch(indptr, lids[positions[j + _AHEAD]])
        _count_one(positions[j], lids, indptr, eids, fanout, replace, weights, weighted, counts,
                   row_start, row_deg)


@numba.njit(cache=True, nogil=True, parallel=True)
def _pick_counts_parallel(positions, lids, indptr, eids, fanout, replace, weights, weighted,
                          counts, row_start, row_deg):
    for j in prange(positions.shape[0]):
        _count_one(positions[j], lids, indptr, eids, fanout, replace, weights, weighted, counts,
                   row_start, row_deg)


def pick_counts(positions, lids, indptr, eids, fanout, replace, weights, weighted, counts,
                row_start, row_deg):
    """For each frontier vertex ``p`` in ``positions`` (local row ``lids[p]``): ``counts[p]``,
    how many neighbors it picks, and its row's ``row_start[p]`` / ``row_deg[p]``.

    Every neighbor when ``fanout < 0`` or when ``fanout >= degree`` without replacement, else
    ``fanout``. Weighted picks never take an edge whose weight is not positive (or is NaN),
    except ``fanout < 0``, which takes every neighbor.
    """
    kernel = _pick_counts_parallel if parallel_for(len(positions)) else _pick_counts_serial
    kernel(positions, lids, indptr, eids, fanout, replace, weights, weighted, counts,
           row_start, row_deg)


@numba.njit(cache=True, nogil=True, inline="always")
def _choose_one(p, row_start, row_deg, eids, fanout, replace, weights, weighted, key, offsets,
                frontier_base, out_index, out_from):
    o = offsets[p]
    c = offsets[p + 1] - o
    if c == 0:
        return
    start = row_start[p]
    deg = row_deg[p]
    for t in range(c):
        out_from[o + t] = frontier_base + p
    if fanout < 0 or (not replace and c == deg):
        for t in range(c):
            out_index[o + t] = start + t
        return
    state = _state(key, p)
    if not weighted and replace:
        for t in range(c):
            out_index[o + t] = _below(state, t, deg)
    elif not weighted:
        _floyd(state, deg, c, out_index, o)
    elif replace:
        _weighted_with_replacement(state, start, deg, c, eids, weights, out_index, o)
    else:
        _weighted_without_replacement(state, start, deg, c, eids, weights, out_index, o)
    for t in range(c):
        out_index[o + t] += start


@numba.njit(cache=True, nogil=True)
def _choose_serial(positions, row_start, row_deg, eids, fanout, replace, weights, weighted, key,
                   offsets, frontier_base, out_index, out_from):
    for j in range(positions.shape[0]):
        _choose_one(positions[j], row_start, row_deg, eids, fanout, replace, weights, weighted,
                    key, offsets, frontier_base, out_index, out_from)


@numba.njit(cache=True, nogil=True, parallel=True)
def _choose_parallel(positions, row_start, row_deg, eids, fanout, replace, weights, weighted,
                     key, offsets, frontier_base, out_index, out_from):
    for j in prange(positions.shape[0]):
        _choose_one(positions[j], row_start, row_deg, eids, fanout, replace, weights, weighted,
                    key, offsets, frontier_base, out_index, out_from)


@numba.njit(cache=True, nogil=True, inline="always")
def _gather_one(p, offsets, nbrs, eids, out_nbr, out_eid):
    for j in range(offsets[p], offsets[p + 1]):
        i = out_eid[j]
        out_nbr[j] = nbrs[i]
        out_eid[j] = eids[i]


@numba.njit(cache=True, nogil=True)
def _gather_serial(positions, offsets, nbrs, eids, out_nbr, out_eid):
    last = out_eid.shape[0]
    for j in range(positions.shape[0]):
        p = positions[j]
        for k in range(offsets[p], offsets[p + 1]):
            if k + _AHEAD < last:  # another fragment's pick there only wastes the hint
                ahead = out_eid[k + _AHEAD]
                _prefetch(nbrs, ahead)
                _prefetch(eids, ahead)
            i = out_eid[k]
            out_nbr[k] = nbrs[i]
            out_eid[k] = eids[i]


@numba.njit(cache=True, nogil=True, parallel=True)
def _gather_parallel(positions, offsets, nbrs, eids, out_nbr, out_eid):
    for j in prange(positions.shape[0]):
        _gather_one(positions[j], offsets, nbrs, eids, out_nbr, out_eid)


def pick_neighbors(positions, row_start, row_deg, nbrs, eids, fanout, replace, weights, weighted,
                   key, offsets, frontier_base, out_nbr, out_eid, out_from):
    """Write the picks of each frontier vertex ``p`` in ``positions`` at ``offsets[p]``:
    neighbor gid, edge id and ``frontier_base + p`` (the picking vertex's batch position).

    Uniform picks without replacement use Floyd's algorithm (a uniform ``k``-subset in ``k``
    draws); weighted ones Efraimidis & Spirakis's keys ``log(u) / w`` (the ``k`` largest form a
    weighted sample without replacement); weighted picks with replacement invert the
    cumulative weights. The choice of row entries and their gather are two passes: the gather
    is a tight loop of independent loads, which the CPU overlaps (the arrays are far larger
    than the caches).
    """
    work = len(positions) * len(out_nbr) // max(len(offsets) - 1, 1)  # about this call's picks
    par = parallel_for(work)
    (_choose_parallel if par else _choose_serial)(
        positions, row_start, row_deg, eids, fanout, replace, weights, weighted, key, offsets,
        frontier_base, out_eid, out_from)
    (_gather_parallel if par else _gather_serial)(positions, offsets, nbrs, eids, out_nbr,
                                                  out_eid)


@numba.njit(cache=True, nogil=True)
def _floyd(state, deg, c, out, o):
    """``c`` distinct offsets of ``range(deg)``, uniformly, into ``out[o:o + c]``: Floyd's
    algorithm (Bentley & Floyd 1987), or Knuth's selection sampling (Algorithm S) when the
    row is at most four times the picks (no scratch memory, O(deg))."""
    if c > _SMALL and deg <= 4 * c:
        t = 0
        for i in range(deg):
            if _uniform(state, i) * (deg - i) < c - t:
                out[o + t] = i
                t += 1
                if t == c:
                    break
        return
    if c <= _SMALL:
        for t in range(c):
            jj = deg - c + t
            x = _below(state, t, jj + 1)
            for s in range(t):
                if out[o + s] == x:
                    x = jj
                    break
            out[o + t] = x
        return
    size = 1
    while size < 2 * c:
        size *= 2
    table = np.full(size, -1, dtype=np.int64)  # open addressing over the chosen offsets
    for t in range(c):
        jj = deg - c + t
        x = _below(state, t, jj + 1)
        if _insert(table, x):
            out[o + t] = x
        else:
            _insert(table, jj)
            out[o + t] = jj


@numba.njit(cache=True, nogil=True, inline="always")
def _insert(table, x):
    """Add ``x >= 0`` to an open-addressing set; False when it was there already."""
    mask = table.shape[0] - 1
    h = np.int64(mix64(np.uint64(x)) & np.uint64(mask))
    while table[h] >= 0:
        if table[h] == x:
            return False
        h = (h + 1) & mask
    table[h] = x
    return True


@numba.njit(cache=True, nogil=True)
def _weighted_with_replacement(state, start, deg, c, eids, weights, out, o):
    cum = np.empty(deg, dtype=np.float64)
    total = 0.0
    for i in range(deg):
        w = weights[eids[start + i]]
        if w > 0:
            total += w
        cum[i] = total
    for t in range(c):
        u = _uniform(state, t) * total
        lo, hi = 0, deg - 1  # first i with cum[i] > u (never a zero-weight edge)
        while lo < hi:
            mid = (lo + hi) // 2
            if cum[mid] > u:
                hi = mid
            else:
                lo = mid + 1
        out[o + t] = lo


@numba.njit(cache=True, nogil=True)
def _weighted_without_replacement(state, start, deg, c, eids, weights, out, o):
    # a min-heap of the c largest keys; out[o:o + c] holds their offsets
    heap = np.empty(c, dtype=np.float64)
    n = 0
    for i in range(deg):
        w = weights[eids[start + i]]
        if not w > 0:
            continue
        u = _uniform(state, i)
        k = np.log(u) / w if u > 0 else -np.inf
        if n < c:
            s = n  # sift up
            n += 1
            while s > 0:
                parent = (s - 1) // 2
                if heap[parent] <= k:
                    break
                heap[s] = heap[parent]
                out[o + s] = out[o + parent]
                s = parent
            heap[s] = k
            out[o + s] = i
        elif k > heap[0]:
            s = 0  # replace the root, sift down
            while True:
                child = 2 * s + 1
                if child >= n:
                    break
                if child + 1 < n and heap[child + 1] < heap[child]:
                    child += 1
                if heap[child] >= k:
                    break
                heap[s] = heap[child]
                out[o + s] = out[o + child]
                s = child
            heap[s] = k
            out[o + s] = i


@numba.njit(cache=True, nogil=True)
def register_seeds(seeds, local_of, base):
    """Seeds take batch positions ``base, base + 1, ...``; a repeated seed maps to its first."""
    for i in range(seeds.shape[0]):
        v = seeds[i]
        if local_of[v] < 0:
            local_of[v] = base + i


@numba.njit(cache=True, nogil=True)
def renumber(picked, local_of, base, new_nodes, out_local):
    """Batch position of each picked gid; gids seen for the first time take the positions
    ``base, base + 1, ...`` in pick order and are written to ``new_nodes``. Returns how many."""
    m = 0
    n = picked.shape[0]
    for j in range(n):
        if j + _AHEAD < n:
            _prefetch(local_of, picked[j + _AHEAD])
        v = picked[j]
        loc = local_of[v]
        if loc < 0:
            loc = base + m
            local_of[v] = loc
            new_nodes[m] = v
            m += 1
        out_local[j] = loc
    return m


@numba.njit(cache=True, nogil=True)
def reset(nodes, local_of):
    """Clear the map entries a batch touched (the map is reused by the next batch)."""
    for i in range(nodes.shape[0]):
        local_of[nodes[i]] = -1


# ---------------------------------------------------------------------------- induced subgraphs


@numba.njit(cache=True, nogil=True, parallel=True)
def induced_counts(positions, lids, indptr, nbrs, local_of, counts):
    """``counts[p]``: neighbors of node ``p`` that are in the node set (``local_of >= 0``)."""
    for j in prange(positions.shape[0]):
        p = positions[j]
        r = lids[p]
        c = 0
        for i in range(indptr[r], indptr[r + 1]):
            if local_of[nbrs[i]] >= 0:
                c += 1
        counts[p] = c


@numba.njit(cache=True, nogil=True, parallel=True)
def induced_edges(positions, lids, indptr, nbrs, eids, local_of, offsets, out_from, out_to,
                  out_eid):
    """Write the edges from node ``p`` to nodes of the set at ``offsets[p]``."""
    for j in prange(positions.shape[0]):
        p = positions[j]
        r = lids[p]
        o = offsets[p]
        for i in range(indptr[r], indptr[r + 1]):
            loc = local_of[nbrs[i]]
            if loc >= 0:
                out_from[o] = p
                out_to[o] = loc
                out_eid[o] = eids[i]
                o += 1


# ---------------------------------------------------------------------------- random walks


@numba.njit(cache=True, nogil=True, inline="always")
def _locate(g, starts, fids, local):
    lo, hi = 0, starts.shape[0]
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if starts[mid] <= g:
            lo = mid
        else:
            hi = mid
    return fids[lo], local[lo] + g - starts[lo]


@numba.njit(cache=True, nogil=True, inline="always")
def _adjacent(indptrs, sorted_nbrs, starts, fids, local, a, b):
    """Whether ``b`` is a neighbor of ``a`` (binary search in ``a``'s sorted row)."""
    f, r = _locate(a, starts, fids, local)
    row = sorted_nbrs[f]
    lo, hi = indptrs[f][r], indptrs[f][r + 1]
    while lo < hi:
        mid = (lo + hi) // 2
        if row[mid] < b:
            lo = mid + 1
        else:
            hi = mid
    return lo < indptrs[f][r + 1] and row[lo] == b


@numba.njit(cache=True, nogil=True, parallel=True)
def random_walks(starts_gid, length, indptrs, nbrs, sorted_nbrs, block_start, block_fid,
                 block_local, p, q, key, out):
    """Walks of ``length`` steps from each start; ``out[w, 0]`` is the start.

    With ``p == q == 1`` each step moves to a uniform neighbor; otherwise node2vec's
    second-order step by rejection: a uniform neighbor ``x`` of the current vertex is kept
    with probability ``(1/p if x is the previous vertex, 1 if x neighbors it, else 1/q)``
    divided by the largest of the three. A walk at a vertex without neighbors stays there.
    """
    second_order = p != 1.0 or q != 1.0
    inv_p, inv_q = 1.0 / p, 1.0 / q
    bound = max(inv_p, 1.0, inv_q)
    for w in prange(starts_gid.shape[0]):
        state = _state(key, w)
        draw = 0
        cur = starts_gid[w]
        prev = np.int64(-1)
        out[w, 0] = cur
        for s in range(1, length + 1):
            f, r = _locate(cur, block_start, block_fid, block_local)
            row_start = indptrs[f][r]
            deg = indptrs[f][r + 1] - row_start
            if deg == 0:
                out[w, s] = cur
                continue
            nxt = nbrs[f][row_start + _below(state, draw, deg)]
            draw += 1
            if second_order and prev >= 0:
                while True:
                    if nxt == prev:
                        accept = inv_p
                    elif _adjacent(indptrs, sorted_nbrs, block_start, block_fid, block_local,
                                   prev, nxt):
                        accept = 1.0
                    else:
                        accept = inv_q
                    u = _uniform(state, draw)
                    draw += 1
                    if u * bound < accept:
                        break
                    nxt = nbrs[f][row_start + _below(state, draw, deg)]
                    draw += 1
            prev = cur
            cur = nxt
            out[w, s] = cur
