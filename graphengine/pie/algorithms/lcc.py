"""Local clustering coefficient (Graphalytics LCC) as a PIE app."""

from __future__ import annotations

import numba
import numpy as np

from ...store import Graph
from ..app import App
from ..context import Context
from ..executor import run_app


@numba.njit(cache=True)
def distinct_out_sets(out_indptr, out_nbrs, ivnum, outer_src, outer_dst, vnum):
    """Sorted distinct out-neighbor lids (self excluded) of every vertex, as a CSR over ``vnum``.

    Inner vertices take them from the fragment; outer ones from ``(outer_src, outer_dst)``
    pairs their owners sent (destinations unknown here are ``-1`` and dropped).
    """
    count = np.zeros(vnum + 1, dtype=np.int64)
    for u in range(ivnum):
        count[u + 1] = out_indptr[u + 1] - out_indptr[u]
    for i in range(outer_src.shape[0]):
        if outer_dst[i] >= 0:
            count[outer_src[i] + 1] += 1
    indptr = np.cumsum(count)
    nbrs = np.empty(indptr[-1], dtype=np.int64)
    fill = indptr[:-1].copy()
    for u in range(ivnum):
        for j in range(out_indptr[u], out_indptr[u + 1]):
            nbrs[fill[u]] = out_nbrs[j]
            fill[u] += 1
    for i in range(outer_src.shape[0]):
        if outer_dst[i] >= 0:
            nbrs[fill[outer_src[i]]] = outer_dst[i]
            fill[outer_src[i]] += 1
    # sort, drop duplicates and self loops, compact
    out_ptr = np.zeros(vnum + 1, dtype=np.int64)
    k = 0
    for u in range(vnum):
        row = np.sort(nbrs[indptr[u]:indptr[u + 1]])
        for j in range(row.shape[0]):
            if row[j] != u and (j == 0 or row[j] != row[j - 1]):
                nbrs[k] = row[j]
                k += 1
        out_ptr[u + 1] = k
    return out_ptr, nbrs[:k].copy()


@numba.njit(cache=True)
def _count_common(a, b):
    """Size of the intersection of two sorted arrays of distinct values: a merge, or binary
    searches of the shorter one's values when the other is much longer (a hub's list), so a
    pair costs ``O(min * log max)`` rather than ``O(min + max)``."""
    if a.shape[0] > b.shape[0]:
        a, b = b, a
    if a.shape[0] * 16 < b.shape[0]:
        c = 0
        lo = 0
        for x in a:
            lo = lo + np.searchsorted(b[lo:], x)
            if lo == b.shape[0]:
                break
            if b[lo] == x:
                c += 1
        return c
    i = j = c = 0
    while i < a.shape[0] and j < b.shape[0]:
        if a[i] < b[j]:
            i += 1
        elif a[i] > b[j]:
            j += 1
        else:
            c += 1
            i += 1
            j += 1
    return c


@numba.njit(cache=True, parallel=True)
def clustering(set_ptr, set_nbrs, in_indptr, in_nbrs, directed, lcc):
    """``lcc[v]`` = edges among the neighbors of ``v`` / (d (d - 1)) for every inner vertex."""
    for v in numba.prange(lcc.shape[0]):
        outs = set_nbrs[set_ptr[v]:set_ptr[v + 1]]
        if directed:
            ins = np.empty(in_indptr[v + 1] - in_indptr[v], dtype=np.int64)
            k = 0
            for j in range(in_indptr[v], in_indptr[v + 1]):
                if in_nbrs[j] != v:
                    ins[k] = in_nbrs[j]
                    k += 1
            hood = np.unique(np.concatenate((outs, ins[:k])))
        else:
            hood = outs
        d = hood.shape[0]
        if d < 2:
            lcc[v] = 0.0
            continue
        links = 0
        for u in hood:
            links += _count_common(set_nbrs[set_ptr[u]:set_ptr[u + 1]], hood)
        lcc[v] = links / (d * (d - 1.0))


class LCC(App):
    """PEval ships each mirrored vertex's out-neighbors; IncEval counts links locally."""

    def peval(self, frag, state, messages) -> None:
        iv = frag.ivnum
        deg = np.diff(frag.out_indptr)
        mirrored = np.zeros(iv, dtype=bool)
        for lids in frag.mirror_lids:
            mirrored[lids] = True
        src = np.repeat(np.arange(iv, dtype=np.int64), deg)
        keep = mirrored[src]
        messages.send_to_mirrors(src[keep], frag.gids[frag.out_nbrs[keep]])
        messages.force_continue()

    def inceval(self, frag, state, messages) -> None:
        if messages.round > 1:
            return
        outer_src, outer_dst_gids = messages.received_on_mirrors()
        outer_dst = frag.lids(outer_dst_gids.astype(np.int64))
        set_ptr, set_nbrs = distinct_out_sets(frag.out_indptr, frag.out_nbrs, frag.ivnum,
                                              outer_src, outer_dst, frag.vnum)
        state.lcc = np.zeros(frag.ivnum)
        clustering(set_ptr, set_nbrs, frag.in_indptr, frag.in_nbrs, frag.directed, state.lcc)

    def output(self, frag, state) -> dict[str, np.ndarray]:
        return {"r": state.lcc}


def lcc(graph: Graph, executor: str = "local") -> Context:
    """Local clustering coefficient of every vertex (Graphalytics LCC).

    Follows the LDBC Graphalytics definition (specification section 2.3.4, after Watts and
    Strogatz, *Collective dynamics of 'small-world' networks*, Nature 393, 1998): the
    neighborhood ``N(v)`` is the set of distinct vertices joined to ``v`` by an edge in either
    direction, ``v`` itself excluded; the coefficient is the number of edges ``u -> w`` with
    ``u, w`` in ``N(v)`` (distinct ordered pairs; an undirected edge counts both ways) divided
    by ``|N(v)| (|N(v)| - 1)``, and 0 when ``|N(v)| < 2``. Parallel edges and self loops do not
    count. On an undirected graph this is the usual ``2 T(v) / (d (d - 1))``. PEval sends
    every mirrored vertex's out-neighbors to the fragments that mirror it; IncEval intersects
    sorted neighbor sets. Work ``O(sum_v d(v)^2)`` in the worst case.

    Parameters
    ----------
    graph : Graph
    executor : {"local", "ray"}

    Returns
    -------
    Context
        ``ctx.to_numpy("r")``: float64 coefficients in ``ctx.gids`` order.

    Examples
    --------
    >>> import graphengine
    >>> g = graphengine.session().g(directed=False).add_edges(
    ...     {"src": [1, 1, 2, 3], "dst": [2, 3, 3, 4]})
    >>> graphengine.lcc(g).to_numpy("r").round(3).tolist()
    [1.0, 1.0, 0.333, 0.0]
    """
    return run_app(graph, LCC(), executor)
