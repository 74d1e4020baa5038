"""Two views of a fragment's adjacency shared by the centrality, core and triangle apps.

* The **adjacency matrix** (what ``networkx.to_scipy_sparse_array`` builds): ``A[u, v]`` is the
  number of edges ``u -> v``; an undirected edge counts both ways and an undirected self loop
  once. A fragment lists an undirected self loop twice, so :func:`matrix_weights` gives each of
  its two entries weight 1/2.
* The **underlying simple graph** (what networkx's triangle, clustering and core functions
  see): distinct neighbors, self loops dropped. :func:`simple_neighbors` also keeps, for a
  directed graph, whether a neighbor is a predecessor, a successor or both.
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True)
def matrix_weights(indptr, nbrs, directed):
    """Weight of each adjacency entry: 1, or 1/2 for each entry of an undirected self loop."""
    w = np.ones(nbrs.shape[0])
    if not directed:
        for v in range(indptr.shape[0] - 1):
            for j in range(indptr[v], indptr[v + 1]):
                if nbrs[j] == v:
                    w[j] = 0.5
    return w


@numba.njit(cache=True)
def simple_neighbors(out_indptr, out_nbrs, in_indptr, in_nbrs, directed):
    """Distinct neighbors (self excluded, ascending lids) of every inner vertex.

    Returns ``(indptr, nbrs, mult)``: a CSR over the inner vertices and, per entry, the number
    of directions joining the two vertices: 1, or 2 for a reciprocal pair ``u -> v``,
    ``v -> u`` of a directed graph (networkx's ``all_neighbors`` lists such a neighbor twice).
    """
    ivnum = out_indptr.shape[0] - 1
    size = out_indptr[ivnum] + (in_indptr[ivnum] if directed else 0)
    indptr = np.zeros(ivnum + 1, dtype=np.int64)
    nbrs = np.empty(size, dtype=np.int64)
    mult = np.empty(size, dtype=np.int64)
    k = 0
    for v in range(ivnum):
        n_out = out_indptr[v + 1] - out_indptr[v]
        n_in = in_indptr[v + 1] - in_indptr[v] if directed else 0
        # key = lid * 4 + direction bit (1 out, 2 in): sorting groups a neighbor's entries
        keys = np.empty(n_out + n_in, dtype=np.int64)
        for j in range(n_out):
            keys[j] = out_nbrs[out_indptr[v] + j] * 4 + 1
        for j in range(n_in):
            keys[n_out + j] = in_nbrs[in_indptr[v] + j] * 4 + 2
        keys.sort()
        j = 0
        while j < keys.shape[0]:
            u = keys[j] >> 2
            bits = 0
            while j < keys.shape[0] and keys[j] >> 2 == u:
                bits |= keys[j] & 3
                j += 1
            if u != v:
                nbrs[k] = u
                mult[k] = (bits & 1) + (bits >> 1)
                k += 1
        indptr[v + 1] = k
    return indptr, nbrs[:k].copy(), mult[:k].copy()


@numba.njit(cache=True)
def row_sums(indptr, values):
    """``sum(values[indptr[v]:indptr[v + 1]])`` for every row ``v``."""
    out = np.zeros(indptr.shape[0] - 1, dtype=values.dtype)
    for v in range(out.shape[0]):
        for j in range(indptr[v], indptr[v + 1]):
            out[v] += values[j]
    return out


@numba.njit(cache=True, parallel=True)
def weighted_pull(indptr, nbrs, weights, values, out):
    """``out[v] = sum(weights[j] * values[nbrs[j]])`` over row ``v``, for every row (a sparse
    matrix-vector product with the fragment's CSR)."""
    for v in numba.prange(out.shape[0]):
        s = 0.0
        for j in range(indptr[v], indptr[v + 1]):
            s += weights[j] * values[nbrs[j]]
        out[v] = s


@numba.njit(cache=True, parallel=True)
def _simple_rows(out_indptr, out_nbrs, in_indptr, in_nbrs, directed, keys, counts):
    """Per inner vertex, its distinct neighbors (self excluded) as ``lid * 4 + direction bits``
    sorted at the start of its slice of ``keys``; ``counts[v]`` of them."""
    for v in numba.prange(counts.shape[0]):
        n_out = out_indptr[v + 1] - out_indptr[v]
        n_in = in_indptr[v + 1] - in_indptr[v] if directed else 0
        base = out_indptr[v] + (in_indptr[v] if directed else 0)
        row = keys[base:base + n_out + n_in]
        for j in range(n_out):
            row[j] = out_nbrs[out_indptr[v] + j] * 4 + 1
        for j in range(n_in):
            row[n_out + j] = in_nbrs[in_indptr[v] + j] * 4 + 2
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


@numba.njit(cache=True, parallel=True)
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
    size = frag.out_indptr[ivnum] + (frag.in_indptr[ivnum] if directed else 0)
    keys = np.empty(size, dtype=np.int64)
    counts = np.zeros(ivnum, dtype=np.int64)
    _simple_rows(frag.out_indptr, frag.out_nbrs, frag.in_indptr, frag.in_nbrs, directed, keys,
                 counts)
    indptr = np.zeros(ivnum + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    nbrs = np.empty(indptr[-1], dtype=np.int64)
    mult = np.empty(indptr[-1], dtype=np.int8)
    _compact_rows(keys, frag.out_indptr, frag.in_indptr, directed, indptr, nbrs, mult)
    return indptr, nbrs, mult


def simple_graph(frag) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The fragment's underlying simple graph, built once per store fragment (shared by every
    app run on it, see :meth:`graphengine.pie.view.FragmentView.derived`).

    Returns ``(indptr, nbrs, mult)`` as :func:`simple_neighbors` does (distinct neighbors of
    every inner vertex, self excluded, ascending lids), with ``mult`` as int8. Read-only.
    """
    return frag.derived("simple_graph", _build_simple)
