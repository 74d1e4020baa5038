"""Two views of a fragment's adjacency shared by the centrality, core and triangle apps.

* The **adjacency matrix** (what ``networkx.to_scipy_sparse_array`` builds): ``A[u, v]`` is the
  number of edges ``u -> v``; an undirected edge counts both ways and an undirected self loop
  once. A fragment lists an undirected self loop twice, so :func:`matrix_weights` gives each of
  its two entries weight 1/2.
* The **underlying simple graph** (what networkx's triangle, clustering and core functions
  see): distinct neighbors, self loops dropped; :func:`simple_graph` also keeps, for a directed
  graph, whether a neighbor is a predecessor, a successor or both.

And, on a fragment with outer vertices, the reverse lists from each outer vertex to the inner
vertices that list it (:func:`outer_neighbor_lists`).
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True, nogil=True)
def matrix_weights(indptr, nbrs, directed):
    """Weight of each adjacency entry: 1, or 1/2 for each entry of an undirected self loop."""
    w = np.ones(nbrs.shape[0])
    if not directed:
        for v in range(indptr.shape[0] - 1):
            for j in range(indptr[v], indptr[v + 1]):
                if nbrs[j] == v:
                    w[j] = 0.5
    return w


@numba.njit(cache=True, nogil=True)
def row_sums(indptr, values):
    """``sum(values[indptr[v]:indptr[v + 1]])`` for every row ``v``."""
    out = np.zeros(indptr.shape[0] - 1, dtype=values.dtype)
    for v in range(out.shape[0]):
        for j in range(indptr[v], indptr[v + 1]):
            out[v] += values[j]
    return out


@numba.njit(cache=True, nogil=True, parallel=True)
def weighted_pull(indptr, nbrs, weights, values, out):
    """``out[v] = sum(weights[j] * values[nbrs[j]])`` over row ``v``, for every row (a sparse
    matrix-vector product with the fragment's CSR)."""
    for v in numba.prange(out.shape[0]):
        s = 0.0
        for j in range(indptr[v], indptr[v + 1]):
            s += weights[j] * values[nbrs[j]]
        out[v] = s


@numba.njit(cache=True, nogil=True, parallel=True)
def _copy_if_simple(indptr, nbrs, ivnum, out):
    """Whether every row ``v < ivnum`` of a CSR is strictly increasing and lacks ``v`` (then
    the rows are already the distinct neighbors, self excluded, in ascending order); the
    entries are copied into ``out`` (another integer type) on the way unless ``out`` is
    empty."""
    copy = out.shape[0] > 0
    bad = 0
    for v in numba.prange(ivnum):
        prev = -1
        for j in range(indptr[v], indptr[v + 1]):
            u = nbrs[j]
            if u <= prev or u == v:
                bad += 1
                break
            prev = u
            if copy:
                out[j] = u
    return bad == 0


@numba.njit(cache=True, inline="always")
def _ascending(nbrs, start, stop):
    for j in range(start + 1, stop):
        if nbrs[j] < nbrs[j - 1]:
            return False
    return True


@numba.njit(cache=True, nogil=True, parallel=True)
def _simple_rows(out_indptr, out_nbrs, in_indptr, in_nbrs, directed, keys, counts):
    """Per inner vertex, its distinct neighbors (self excluded) as ``lid * 4 + direction bits``
    (1 out, 2 in) sorted at the start of its slice of ``keys``; ``counts[v]`` of them.

    A row's out- and in-entries are merged when each is already ascending (the store keeps
    them in insertion order, often sorted), else written and sorted."""
    for v in numba.prange(counts.shape[0]):
        o0, o1 = out_indptr[v], out_indptr[v + 1]
        i0 = in_indptr[v] if directed else 0
        i1 = in_indptr[v + 1] if directed else 0
        row = keys[o0 + i0:o1 + i1]
        if _ascending(out_nbrs, o0, o1) and _ascending(in_nbrs, i0, i1):
            a, b, k = o0, i0, 0
            while a < o1 or b < i1:
                if b == i1 or (a < o1 and out_nbrs[a] <= in_nbrs[b]):
                    row[k] = out_nbrs[a] * 4 + 1
                    a += 1
                else:
                    row[k] = in_nbrs[b] * 4 + 2
                    b += 1
                k += 1
        else:
            for j in range(o0, o1):
                row[j - o0] = out_nbrs[j] * 4 + 1
            for j in range(i0, i1):
                row[o1 - o0 + j - i0] = in_nbrs[j] * 4 + 2
            row.sort()
        k = 0
        j = 0
        while j < row.shape[0]:
            u = row[j] >> 2
            bits = 0
            while j < row.shape[0] and row[j] >> 2 == u:
                bits |= row[j] & 3
                j += 1
            if u != v:
                row[k] = u * 4 + bits
                k += 1
        counts[v] = k


@numba.njit(cache=True, nogil=True, parallel=True)
def _compact_rows(keys, out_indptr, in_indptr, directed, indptr, nbrs, mult):
    for v in numba.prange(indptr.shape[0] - 1):
        base = out_indptr[v] + (in_indptr[v] if directed else 0)
        for j in range(indptr[v + 1] - indptr[v]):
            key = keys[base + j]
            nbrs[indptr[v] + j] = key >> 2
            mult[indptr[v] + j] = (key & 1) + ((key >> 1) & 1)


def _build_simple(frag) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    directed = bool(frag.directed)
    ivnum = frag.ivnum
    nbr_type = np.int32 if frag.vnum < 2**31 else np.int64
    if not directed:
        # rows already strictly increasing without self loops (e.g. edges added sorted): the
        # simple graph is the out CSR itself, every mult 1
        indptr = frag.out_indptr[:ivnum + 1]
        size = int(indptr[ivnum])
        narrow = nbr_type != frag.out_nbrs.dtype
        nbrs = np.empty(size if narrow else 0, dtype=nbr_type)
        if _copy_if_simple(indptr, frag.out_nbrs, ivnum, nbrs):
            if not narrow:
                nbrs = frag.out_nbrs[:size].view()
            return indptr.view(), nbrs, np.ones(size, dtype=np.int8)
    size = frag.out_indptr[ivnum] + (frag.in_indptr[ivnum] if directed else 0)
    keys = np.empty(size, dtype=np.int64)
    counts = np.zeros(ivnum, dtype=np.int64)
    _simple_rows(frag.out_indptr, frag.out_nbrs, frag.in_indptr, frag.in_nbrs, directed, keys,
                 counts)
    indptr = np.zeros(ivnum + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    nbrs = np.empty(indptr[-1], dtype=nbr_type)
    mult = np.empty(indptr[-1], dtype=np.int8)
    _compact_rows(keys, frag.out_indptr, frag.in_indptr, directed, indptr, nbrs, mult)
    return indptr, nbrs, mult


def simple_graph(frag) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The fragment's underlying simple graph, built once per store fragment (shared by every
    app run on it, see :meth:`graphengine.pie.view.FragmentView.derived`).

    Returns ``(indptr, nbrs, mult)``: a CSR over the inner vertices listing the distinct
    neighbors of each (self excluded, ascending lids; ``nbrs`` int32 when the fragment's lids
    fit, else int64) and, per entry as int8, the number of directions joining the two
    vertices: 1, or 2 for a reciprocal pair ``u -> v``, ``v -> u`` of a directed graph
    (networkx's ``all_neighbors`` lists such a neighbor twice). Read-only.

    On an undirected fragment whose rows are already strictly increasing without self loops
    the result shares the fragment's ``indptr`` (and ``nbrs`` when int64): one parallel
    ``O(E)`` pass; otherwise each row is merged (or sorted when unordered) and deduplicated.
    """
    return frag.derived("simple_graph", _build_simple)


@numba.njit(cache=True, nogil=True)
def outer_neighbors(out_indptr, out_nbrs, in_indptr, in_nbrs, use_in, ivnum, ovnum):
    """CSR from each outer vertex (row ``lid - ivnum``) to the inner vertices that list it."""
    count = np.zeros(ovnum + 1, dtype=np.int64)
    for j in range(out_indptr[ivnum]):
        if out_nbrs[j] >= ivnum:
            count[out_nbrs[j] - ivnum + 1] += 1
    if use_in:
        for j in range(in_indptr[ivnum]):
            if in_nbrs[j] >= ivnum:
                count[in_nbrs[j] - ivnum + 1] += 1
    rev_ptr = np.cumsum(count)
    rev = np.empty(rev_ptr[-1], dtype=np.int64)
    fill = rev_ptr[:-1].copy()
    for v in range(ivnum):
        for j in range(out_indptr[v], out_indptr[v + 1]):
            u = out_nbrs[j]
            if u >= ivnum:
                rev[fill[u - ivnum]] = v
                fill[u - ivnum] += 1
        if use_in:
            for j in range(in_indptr[v], in_indptr[v + 1]):
                u = in_nbrs[j]
                if u >= ivnum:
                    rev[fill[u - ivnum]] = v
                    fill[u - ivnum] += 1
    return rev_ptr, rev


def outer_neighbor_lists(frag) -> tuple[np.ndarray, np.ndarray]:
    """``(rev_ptr, rev)``: the inner vertices listing outer vertex ``lid`` (in either
    direction of a directed graph) are ``rev[rev_ptr[lid - ivnum]:rev_ptr[lid - ivnum + 1]]``;
    built once per store fragment and shared (CDLP, WCC)."""
    return frag.derived("outer_neighbors", lambda f: outer_neighbors(
        f.out_indptr, f.out_nbrs, f.in_indptr, f.in_nbrs, f.directed, f.ivnum, f.ovnum))
