"""Core numbers (networkx ``core_number``) as a PIE app; ``k_core`` and ``k_shell`` build on it."""

from __future__ import annotations

from typing import ClassVar

import numba
import numpy as np

from ...store import Graph
from ..app import App, State
from ..context import Context
from ..executor import run_app
from ._adjacency import simple_graph

#: Estimate of an outer vertex before its owner sent one: an upper bound of any core number.
NO_ESTIMATE = np.iinfo(np.int64).max


@numba.njit(cache=True)
def settle_cores(indptr, nbrs, mult, core, seeds, ivnum):
    """Lower inner estimates to the h-index of their neighbors' estimates until none changes.

    ``core[v]`` becomes the largest ``h <= core[v]`` such that at least ``h`` neighbor entries
    (counted ``mult`` times) have an estimate ``>= h`` (Montresor et al. 2013). Starting from
    upper bounds, any order of these updates ends at the core numbers. Only inner vertices
    change; a vertex is re-examined when a neighbor drops below its estimate.
    """
    queued = np.zeros(ivnum, dtype=np.bool_)
    stack = np.empty(ivnum, dtype=np.int64)
    top = 0
    for s in seeds:
        if not queued[s]:
            queued[s] = True
            stack[top] = s
            top += 1
    max_degree = 0
    for v in range(ivnum):
        max_degree = max(max_degree, indptr[v + 1] - indptr[v])
    count = np.zeros(2 * max_degree + 1, dtype=np.int64)
    while top:
        top -= 1
        v = stack[top]
        queued[v] = False
        k = core[v]
        if k == 0:
            continue
        for j in range(indptr[v], indptr[v + 1]):
            count[min(core[nbrs[j]], k)] += mult[j]
        h = k
        above = 0
        while h > 0:
            above += count[h]
            if above >= h:
                break
            h -= 1
        count[:k + 1] = 0
        if h < k:
            core[v] = h
            for j in range(indptr[v], indptr[v + 1]):
                u = nbrs[j]
                if u < ivnum and core[u] > h and not queued[u]:
                    queued[u] = True
                    stack[top] = u
                    top += 1


@numba.njit(cache=True, inline="always")
def _move_down(u, du, deg, pos, vert, bin_start):
    """Move ``u`` from bucket ``du`` to bucket ``du - 1``: swap it with the first vertex of
    its bucket, then shrink the bucket from the left."""
    pu = pos[u]
    pw = bin_start[du]
    w = vert[pw]
    pos[u] = pw
    vert[pw] = u
    pos[w] = pu
    vert[pu] = w
    bin_start[du] = pw + 1
    deg[u] = du - 1


@numba.njit(cache=True)
def _peel(indptr, nbrs, mult, ivnum, has_outer, deg, pos, vert):
    total = 0
    for j in range(mult.shape[0]):
        total += mult[j]
    ones = total == mult.shape[0]  # every mult is >= 1
    md = 0
    for v in range(ivnum):
        d = indptr[v + 1] - indptr[v]
        if not ones:
            d = 0
            for j in range(indptr[v], indptr[v + 1]):
                d += mult[j]
        deg[v] = d
        md = max(md, d)
    bin_start = np.zeros(md + 2, dtype=deg.dtype)
    for v in range(ivnum):
        bin_start[deg[v] + 1] += 1
    for d in range(md + 1):
        bin_start[d + 1] += bin_start[d]
    fill = bin_start.copy()
    for v in range(ivnum):
        p = fill[deg[v]]
        pos[v] = p
        vert[p] = v
        fill[deg[v]] = p + 1
    if not has_outer:  # no test for outer neighbors; mult read only where a move happens
        for i in range(ivnum):
            v = vert[i]
            dv = deg[v]
            for j in range(indptr[v], indptr[v + 1]):
                u = nbrs[j]
                du = deg[u]
                if du > dv:
                    _move_down(u, du, deg, pos, vert, bin_start)
                    for _ in range(1, mult[j]):
                        du = deg[u]
                        if du <= dv:
                            break
                        _move_down(u, du, deg, pos, vert, bin_start)
        return
    for i in range(ivnum):
        v = vert[i]
        dv = deg[v]
        for j in range(indptr[v], indptr[v + 1]):
            u = nbrs[j]
            if u >= ivnum:
                continue
            for _ in range(mult[j]):
                du = deg[u]
                if du <= dv:
                    break
                _move_down(u, du, deg, pos, vert, bin_start)


def peel_cores(indptr, nbrs, mult, ivnum: int, core: np.ndarray) -> None:
    """Core numbers by bucket peeling (Batagelj and Zaversnik, *An O(m) algorithm for cores
    decomposition of networks*, 2003), outer vertices never peeled, written to ``core[:ivnum]``
    (``core`` has an entry per local vertex, inner then outer).

    The degree of an inner ``v`` counts its entries ``mult`` times, outer neighbors included;
    vertices are taken in increasing current degree from buckets kept in one array sorted by
    degree, and each removal moves its inner neighbors of higher degree one bucket down,
    ``O(E)`` in all. The final degree of ``v`` is its core number in the graph where every
    outer vertex stays forever. With no outer vertex these are the core numbers; else they
    are the h-index iteration's fixed point for outer estimates that are upper bounds (what
    :func:`settle_cores` reaches), so the iteration can go on from them. The work arrays are
    int32 when degrees and positions fit.
    """
    work = np.int32 if max(ivnum, len(nbrs)) < 2**30 else np.int64
    deg, pos, vert = (np.empty(ivnum, dtype=work) for _ in range(3))
    _peel(indptr, nbrs, mult, ivnum, len(core) > ivnum, deg, pos, vert)
    core[:ivnum] = deg


@numba.njit(cache=True)
def inner_neighbors_of_outer(indptr, nbrs, ivnum, ovnum):
    """CSR from each outer vertex (row ``lid - ivnum``) to the inner vertices adjacent to it."""
    count = np.zeros(ovnum + 1, dtype=np.int64)
    for j in range(nbrs.shape[0]):
        if nbrs[j] >= ivnum:
            count[nbrs[j] - ivnum + 1] += 1
    rev_ptr = np.cumsum(count)
    rev = np.empty(rev_ptr[-1], dtype=np.int64)
    fill = rev_ptr[:-1].copy()
    for v in range(ivnum):
        for j in range(indptr[v], indptr[v + 1]):
            u = nbrs[j]
            if u >= ivnum:
                rev[fill[u - ivnum]] = v
                fill[u - ivnum] += 1
    return rev_ptr, rev


@numba.njit(cache=True)
def rows_of(indptr, values, rows):
    """The entries of the given CSR rows, concatenated."""
    size = 0
    for r in rows:
        size += indptr[r + 1] - indptr[r]
    out = np.empty(size, dtype=values.dtype)
    k = 0
    for r in rows:
        for j in range(indptr[r], indptr[r + 1]):
            out[k] = values[j]
            k += 1
    return out


class CoreNumber(App):
    """Bucket peeling in each fragment, then the distributed h-index iteration across them.

    PEval peels the fragment with the outer vertices never peeled (their estimates unknown:
    an upper bound), which on one fragment gives the core numbers; every change of an inner
    estimate reaches the mirrors ("copy" sync), and IncEval re-settles (h-index, estimates
    only go down) the inner neighbors of the outer vertices whose estimate dropped.
    """

    sync: ClassVar[dict[str, str]] = {"core": "copy"}

    def init(self, frag) -> State:
        indptr, nbrs, mult = simple_graph(frag)
        return State(core=np.full(frag.vnum, NO_ESTIMATE, dtype=np.int64), indptr=indptr,
                     nbrs=nbrs, mult=mult)

    def peval(self, frag, state, messages) -> None:
        peel_cores(state.indptr, state.nbrs, state.mult, frag.ivnum, state.core)

    def inceval(self, frag, state, messages) -> None:
        outer = messages.changed("core") - frag.ivnum
        if len(outer):
            rev_ptr, rev = frag.derived("inner_neighbors_of_outer", lambda f: (
                inner_neighbors_of_outer(state.indptr, state.nbrs, f.ivnum, f.ovnum)))
            self._settle(frag, state, rows_of(rev_ptr, rev, outer))

    @staticmethod
    def _settle(frag, state, seeds) -> None:
        settle_cores(state.indptr, state.nbrs, state.mult, state.core, seeds, frag.ivnum)

    def output(self, frag, state) -> dict[str, np.ndarray]:
        return {"r": state.core[:frag.ivnum].copy()}


def core_number(graph: Graph, executor: str = "local") -> Context:
    """Core number of every vertex: the largest ``k`` such that it is in the ``k``-core.

    The ``k``-core is the maximal subgraph whose vertices all have degree ``>= k`` (Seidman,
    *Network structure and minimum degree*, Social Networks 5(3), 1983); semantics of
    ``networkx.core_number`` on the **underlying simple graph**: parallel edges are merged and
    self loops dropped (networkx refuses both; here the result equals networkx's on
    ``nx.Graph(G)`` / ``nx.DiGraph(G)`` without self loops). For a directed graph the degree is
    in-degree + out-degree, as in networkx, so a reciprocal pair ``u -> v``, ``v -> u`` counts
    twice. Each fragment peels its vertices by degree buckets (Batagelj and Zaversnik, *An
    O(m) algorithm for cores decomposition of networks*, arXiv cs/0310049, 2003), the other
    fragments' vertices held as never peeled; across fragments the estimates are lowered by the
    h-index iteration of Montresor, De Pellegrini and Miorandi (*Distributed k-core
    decomposition*, IEEE TPDS 24(2), 2013). Work ``O(E)`` on one fragment; on several, plus the
    re-examinations, rounds bounded by the number of estimate changes crossing fragments.

    Parameters
    ----------
    graph : Graph
        Directed or undirected.
    executor : {"local", "ray"}

    Returns
    -------
    Context
        ``ctx.to_numpy("r")``: int64 core numbers in ``ctx.gids`` order (0 for isolated
        vertices).

    Examples
    --------
    >>> import graphengine
    >>> g = graphengine.session().g(directed=False).add_edges(
    ...     {"src": [1, 1, 2, 3], "dst": [2, 3, 3, 4]})
    >>> graphengine.core_number(g).to_numpy("r").tolist()
    [2, 2, 2, 1]
    """
    return run_app(graph, CoreNumber(), executor)
