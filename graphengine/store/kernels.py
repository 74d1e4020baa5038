"""Numba kernels that build and edit the compressed adjacency arrays of a fragment.

Every kernel is a counting sort or a linear scan: O(V + E) time, no Python loop per edge.
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True, nogil=True)
def build_csr(n: int, keys: np.ndarray, nbrs: np.ndarray, eids: np.ndarray):
    """Group ``(keys[i], nbrs[i], eids[i])`` by key into CSR arrays over ``n`` rows.

    The sort is stable: within a row, entries keep their input order.
    """
    indptr = np.zeros(n + 1, dtype=np.int64)
    for k in keys:
        indptr[k + 1] += 1
    for i in range(n):
        indptr[i + 1] += indptr[i]
    cursor = indptr[:-1].copy()
    out_nbrs = np.empty(keys.shape[0], dtype=np.int64)
    out_eids = np.empty(keys.shape[0], dtype=np.int64)
    for i in range(keys.shape[0]):
        pos = cursor[keys[i]]
        out_nbrs[pos] = nbrs[i]
        out_eids[pos] = eids[i]
        cursor[keys[i]] = pos + 1
    return indptr, out_nbrs, out_eids


@numba.njit(cache=True, nogil=True)
def merge_csr(n: int, indptr: np.ndarray, nbrs: np.ndarray, eids: np.ndarray,
              keys: np.ndarray, new_nbrs: np.ndarray, new_eids: np.ndarray):
    """Append entries to an existing CSR (over ``len(indptr) - 1 <= n`` rows): old entries first."""
    old_n = indptr.shape[0] - 1
    counts = np.zeros(n + 1, dtype=np.int64)
    for v in range(old_n):
        counts[v + 1] = indptr[v + 1] - indptr[v]
    for k in keys:
        counts[k + 1] += 1
    for i in range(n):
        counts[i + 1] += counts[i]
    total = counts[n]
    out_nbrs = np.empty(total, dtype=np.int64)
    out_eids = np.empty(total, dtype=np.int64)
    cursor = counts[:-1].copy()
    for v in range(old_n):
        for j in range(indptr[v], indptr[v + 1]):
            out_nbrs[cursor[v]] = nbrs[j]
            out_eids[cursor[v]] = eids[j]
            cursor[v] += 1
    for i in range(keys.shape[0]):
        pos = cursor[keys[i]]
        out_nbrs[pos] = new_nbrs[i]
        out_eids[pos] = new_eids[i]
        cursor[keys[i]] = pos + 1
    return counts, out_nbrs, out_eids


@numba.njit(cache=True, nogil=True)
def filter_csr(indptr: np.ndarray, nbrs: np.ndarray, eids: np.ndarray, keep: np.ndarray):
    """Keep the entries whose ``keep[j]`` is true."""
    n = indptr.shape[0] - 1
    out_indptr = np.zeros(n + 1, dtype=np.int64)
    total = 0
    for v in range(n):
        for j in range(indptr[v], indptr[v + 1]):
            if keep[j]:
                total += 1
        out_indptr[v + 1] = total
    out_nbrs = np.empty(total, dtype=np.int64)
    out_eids = np.empty(total, dtype=np.int64)
    pos = 0
    for j in range(nbrs.shape[0]):
        if keep[j]:
            out_nbrs[pos] = nbrs[j]
            out_eids[pos] = eids[j]
            pos += 1
    return out_indptr, out_nbrs, out_eids


@numba.njit(cache=True, nogil=True)
def outer_vertices(nbrs: np.ndarray, inner_ranges: np.ndarray, vertex_count: int) -> np.ndarray:
    """Sorted global ids in ``nbrs`` that fall outside the fragment's inner id ranges."""
    seen = np.zeros(vertex_count, dtype=np.bool_)
    for g in nbrs:
        seen[g] = True
    for r in range(inner_ranges.shape[0]):
        start = inner_ranges[r, 0]
        seen[start:start + inner_ranges[r, 1]] = False
    return np.flatnonzero(seen).astype(np.int64)


@numba.njit(cache=True, nogil=True)
def locate(ids: np.ndarray, starts: np.ndarray, owner: np.ndarray, base: np.ndarray):
    """Map ids to ``(owner, base + offset)`` through sorted block ``starts`` (a tiny array)."""
    n = ids.shape[0]
    out_owner = np.empty(n, dtype=np.int64)
    out_offset = np.empty(n, dtype=np.int64)
    nb = starts.shape[0]
    for i in range(n):
        g = ids[i]
        lo, hi = 0, nb
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if starts[mid] <= g:
                lo = mid
            else:
                hi = mid
        out_owner[i] = owner[lo]
        out_offset[i] = base[lo] + g - starts[lo]
    return out_owner, out_offset


@numba.njit(cache=True, nogil=True)
def group_by_owner(owner: np.ndarray, fnum: int) -> np.ndarray:
    """Stable permutation that orders positions by owner fragment (a counting sort)."""
    counts = np.zeros(fnum + 1, dtype=np.int64)
    for f in owner:
        counts[f + 1] += 1
    for f in range(fnum):
        counts[f + 1] += counts[f]
    perm = np.empty(owner.shape[0], dtype=np.int64)
    for i in range(owner.shape[0]):
        perm[counts[owner[i]]] = i
        counts[owner[i]] += 1
    return perm
