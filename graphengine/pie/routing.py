"""Numba kernels that route a round's synchronized values and messages between fragments.

Each fragment pair agrees once per run on an order of the vertices they share: fragment ``f``
lists the inner vertices fragment ``d`` mirrors in ``mirror_lids[d]`` (ascending global id),
and ``d`` lists its outer vertices owned by ``f`` in the same order. A round then ships
*positions* in that shared list (int32) and values, or the values alone when most of the list
changed; no global id is looked up on either side. Every kernel is one pass over the slots it
touches (no ``np.unique``, no ``np.ufunc.at``, no per-destination masks), so a round's routing
costs what it ships, however many fragments there are.
"""

from __future__ import annotations

import numba
import numpy as np

#: Aggregator codes of the fold kernel.
FOLD_OPS = {"min": 0, "max": 1, "sum": 2}


def segments(parts: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """``(ptr, values)``: the arrays of ``parts`` concatenated, ``parts[i]`` being
    ``values[ptr[i]:ptr[i + 1]]``."""
    ptr = np.zeros(len(parts) + 1, dtype=np.int64)
    ptr[1:] = np.cumsum([len(p) for p in parts])
    values = np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, np.int64)
    return ptr, values


@numba.njit(cache=True, inline="always")
def _differs(a, b):
    # NaN-aware inequality: NaN equals NaN here (an unchanged NaN slot is not a change)
    return a != b and not (a != a and b != b)  # noqa: PLR0124


@numba.njit(cache=True, nogil=True)
def changed_positions(arr, snap, snap_offset, ptr, lids):
    """Per segment ``s`` the positions ``k`` (within ``lids[ptr[s]:ptr[s + 1]]``) whose slot
    ``arr[lid]`` differs from ``snap[lid - snap_offset]``. Returns ``(counts, positions)``:
    segment ``s``'s positions are ``positions[ptr[s]:ptr[s] + counts[s]]``."""
    nseg = ptr.shape[0] - 1
    counts = np.zeros(nseg, dtype=np.int64)
    pos = np.empty(lids.shape[0], dtype=np.int32)
    for s in range(nseg):
        c = 0
        base = ptr[s]
        for j in range(ptr[s], ptr[s + 1]):
            lid = lids[j]
            if _differs(arr[lid], snap[lid - snap_offset]):
                pos[base + c] = j - base
                c += 1
        counts[s] = c
    return counts, pos


@numba.njit(cache=True, nogil=True)
def gather(arr, lids, pos):
    """``arr[lids[pos]]`` (``pos`` int32 positions into ``lids``)."""
    out = np.empty(pos.shape[0], dtype=arr.dtype)
    for i in range(pos.shape[0]):
        out[i] = arr[lids[pos[i]]]
    return out


@numba.njit(cache=True, nogil=True)
def take_and_zero(arr, lids, pos):
    """``arr[lids[pos]]``, then those slots set to 0 (what a "sum" sync ships)."""
    out = np.empty(pos.shape[0], dtype=arr.dtype)
    for i in range(pos.shape[0]):
        lid = lids[pos[i]]
        out[i] = arr[lid]
        arr[lid] = 0
    return out


@numba.njit(cache=True, nogil=True)
def fold(arr, lids, pos, dense, values, op, mark, touched, ntouched, old):
    """Fold ``values`` into ``arr[lids[pos[i]]]`` (``lids[i]`` when ``dense``) with ``op``
    (0 min, 1 max, 2 sum; min / max as ``np.minimum`` / ``np.maximum``: NaN wins).

    The first touch of a slot sets ``mark[lid]``, keeps its value in ``old[lid]`` and appends
    the lid to ``touched`` (from ``ntouched`` on). Returns the new number of touched slots,
    -1 for a position outside ``lids``.
    """
    for i in range(values.shape[0]):
        k = i if dense else pos[i]
        if k < 0 or k >= lids.shape[0]:
            return -1  # not a position in the shared list: the caller raises
        lid = lids[k]
        a = arr[lid]
        if not mark[lid]:
            mark[lid] = True
            old[lid] = a
            touched[ntouched] = lid
            ntouched += 1
        v = values[i]
        if op == 0:
            if v < a or v != v:  # noqa: PLR0124
                arr[lid] = v
        elif op == 1:
            if v > a or v != v:  # noqa: PLR0124
                arr[lid] = v
        else:
            arr[lid] = a + v
    return ntouched


@numba.njit(cache=True, nogil=True)
def changed_touched(arr, mark, touched, ntouched, old):
    """The touched lids whose value differs from ``old``, ascending; clears ``mark``. Sorts the
    touched lids when they are few, scans the marks when they are many."""
    out = np.empty(ntouched, dtype=np.int64)
    c = 0
    n = mark.shape[0]
    if ntouched * 8 < n:
        for lid in np.sort(touched[:ntouched]):
            mark[lid] = False
            if _differs(arr[lid], old[lid]):
                out[c] = lid
                c += 1
    else:
        for lid in range(n):
            if mark[lid]:
                mark[lid] = False
                if _differs(arr[lid], old[lid]):
                    out[c] = lid
                    c += 1
    return out[:c]


@numba.njit(cache=True, nogil=True)
def copy_in(arr, lids, pos, dense, values, changed, nchanged):
    """``arr[lids[pos[i]]] = values[i]`` (``lids[i]`` when ``dense``); appends the lids whose
    value changed to ``changed`` from ``nchanged`` on and returns the new count, -1 for a
    position outside ``lids`` (every slot is written by one sender: its owner)."""
    for i in range(values.shape[0]):
        k = i if dense else pos[i]
        if k < 0 or k >= lids.shape[0]:
            return -1  # not a position in the shared list: the caller raises
        lid = lids[k]
        v = values[i]
        if _differs(arr[lid], v):
            arr[lid] = v
            changed[nchanged] = lid
            nchanged += 1
    return nchanged


@numba.njit(cache=True, nogil=True)
def mirror_targets(ivnum, ptr, lids):
    """Inverse of the mirror lists: for each inner lid the ``(fragment, position)`` pairs
    where it appears, as a CSR ``(tptr, tdst, tpos)`` over inner lids."""
    tptr = np.zeros(ivnum + 1, dtype=np.int64)
    for j in range(lids.shape[0]):
        tptr[lids[j] + 1] += 1
    for v in range(ivnum):
        tptr[v + 1] += tptr[v]
    fill = tptr[:-1].copy()
    tdst = np.empty(lids.shape[0], dtype=np.int32)
    tpos = np.empty(lids.shape[0], dtype=np.int32)
    for d in range(ptr.shape[0] - 1):
        for j in range(ptr[d], ptr[d + 1]):
            v = lids[j]
            tdst[fill[v]] = d
            tpos[fill[v]] = j - ptr[d]
            fill[v] += 1
    return tptr, tdst, tpos


@numba.njit(cache=True, nogil=True)
def route_to_mirrors(lids, tptr, tdst, tpos, fnum):
    """For explicit messages from inner ``lids``: per destination fragment the positions in
    its mirror list and the index of the message, in send order. Returns
    ``(ptr, positions, message_index)`` grouped by destination."""
    counts = np.zeros(fnum + 1, dtype=np.int64)
    for i in range(lids.shape[0]):
        v = lids[i]
        for t in range(tptr[v], tptr[v + 1]):
            counts[tdst[t] + 1] += 1
    for d in range(fnum):
        counts[d + 1] += counts[d]
    total = counts[fnum]
    pos = np.empty(total, dtype=np.int32)
    idx = np.empty(total, dtype=np.int64)
    fill = counts[:-1].copy()
    for i in range(lids.shape[0]):
        v = lids[i]
        for t in range(tptr[v], tptr[v + 1]):
            d = tdst[t]
            pos[fill[d]] = tpos[t]
            idx[fill[d]] = i
            fill[d] += 1
    return counts, pos, idx


@numba.njit(cache=True, nogil=True)
def group_by(keys, nkeys):
    """Stable counting sort of ``keys`` in ``[0, nkeys)``: ``(ptr, order)``."""
    ptr = np.zeros(nkeys + 1, dtype=np.int64)
    for i in range(keys.shape[0]):
        ptr[keys[i] + 1] += 1
    for k in range(nkeys):
        ptr[k + 1] += ptr[k]
    fill = ptr[:-1].copy()
    order = np.empty(keys.shape[0], dtype=np.int64)
    for i in range(keys.shape[0]):
        k = keys[i]
        order[fill[k]] = i
        fill[k] += 1
    return ptr, order
