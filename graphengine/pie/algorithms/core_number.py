"""Core numbers (networkx ``core_number``) as a PIE app; ``k_core`` and ``k_shell`` build on it."""

from __future__ import annotations

from typing import ClassVar

import numba
import numpy as np

from ...store import Graph
from ..app import App, State
from ..context import Context
from ..executor import run_app
from ._adjacency import outer_neighbors, simple_graph

#: Estimate of an outer vertex before its owner sent one: an upper bound of any core number.
NO_ESTIMATE = np.iinfo(np.int64).max


@numba.njit(cache=True, nogil=True)
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


@numba.njit(cache=True, nogil=True)
def _peel(indptr, nbrs, mult, ivnum, has_outer, deg, queue, rest):
    total = 0
    for j in range(mult.shape[0]):
        total += mult[j]
    ones = total == mult.shape[0]  # every mult is >= 1
    for v in range(ivnum):
        d = indptr[v + 1] - indptr[v]
        if not ones:
            d = 0
            for j in range(indptr[v], indptr[v + 1]):
                d += mult[j]
        deg[v] = d
        rest[v] = v
    n_rest = ivnum
    top = 0  # queue[:top]: the vertices peeled so far, level by level
    k = -1  # the level peeled last
    while True:
        # one pass over the vertices left: drop those peeled at level k, start level k + 1
        # with those of that degree, keep the others (and their least degree)
        start = top
        keep = 0
        least = np.iinfo(np.int64).max
        for i in range(n_rest):
            v = rest[i]
            dv = deg[v]
            if dv == k + 1:
                queue[top] = v
                top += 1
            elif dv > k + 1:
                rest[keep] = v
                keep += 1
                least = min(least, dv)
        n_rest = keep
        if top > start:
            k += 1
        elif not n_rest:
            return
        else:  # no vertex of degree k + 1: the next level is the least degree left
            k = least
            keep = 0
            for i in range(n_rest):
                v = rest[i]
                if deg[v] == k:
                    queue[top] = v
                    top += 1
                else:
                    rest[keep] = v
                    keep += 1
            n_rest = keep
        # peel the level: a neighbor above k loses the entries to it, down to k at most, and
        # joins the level when it gets there
        i = start
        while i < top:
            v = queue[i]
            i += 1
            for j in range(indptr[v], indptr[v + 1]):
                u = nbrs[j]
                if has_outer and u >= ivnum:
                    continue
                du = deg[u]
                if du > k:
                    du = max(du - (1 if ones else mult[j]), k)
                    deg[u] = du
                    if du == k:
                        queue[top] = u
                        top += 1


def peel_cores(indptr, nbrs, mult, ivnum: int, core: np.ndarray) -> None:
    """Core numbers by peeling level by level, outer vertices never peeled, written to
    ``core[:ivnum]`` (``core`` has an entry per local vertex, inner then outer).

    The degree of an inner ``v`` counts its entries ``mult`` times, outer neighbors included.
    Level ``k`` is the least degree left: its vertices are peeled, and each peeled vertex
    lowers the degree of its inner neighbors above ``k`` (never below ``k``); a neighbor that
    reaches ``k`` joins the level (the PKC scheme of Kabir and Madduri, *Parallel k-core
    decomposition on multicore platforms*, 2017, here on one thread: one random access per
    entry, against the bucket moves of Batagelj and Zaversnik's ``O(m)`` algorithm, 2003).
    The final degree of ``v`` is its core number in the graph where every outer vertex stays
    forever. The vertices left are scanned once per level, and a vertex stays for at most
    its core number + 1 levels, so the work is ``O(V + E)``. With no outer vertex these are
    the core numbers; else they are the h-index iteration's fixed point for outer estimates
    that are upper bounds (what :func:`settle_cores` reaches), so the iteration can go on from
    them. The work arrays are int32 when degrees fit.
    """
    work = np.int32 if max(ivnum, 2 * len(nbrs)) < 2**31 else np.int64  # mult is 1 or 2
    deg, queue, rest = (np.empty(ivnum, dtype=work) for _ in range(3))
    _peel(indptr, nbrs, mult, ivnum, len(core) > ivnum, deg, queue, rest)
    core[:ivnum] = deg


@numba.njit(cache=True, nogil=True)
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
    """Peeling in each fragment, then the distributed h-index iteration across them.

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
                outer_neighbors(state.indptr, state.nbrs, state.indptr, state.nbrs, False, f.ivnum,
                                f.ovnum)))
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
    twice. Each fragment peels its vertices level by level (the least degree left, as in
    Batagelj and Zaversnik, *An O(m) algorithm for cores decomposition of networks*, arXiv
    cs/0310049, 2003, with the level queues of Kabir and Madduri's PKC, 2017), the other
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
