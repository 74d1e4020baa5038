"""Core numbers (networkx ``core_number``) as a PIE app; ``k_core`` and ``k_shell`` build on it."""

from __future__ import annotations

from typing import ClassVar

import numba
import numpy as np

from ...store import Graph
from ..app import App, State
from ..context import Context
from ..executor import run_app
from ._adjacency import row_sums, simple_neighbors

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
    """Distributed h-index iteration: estimates start at the degree and only go down.

    PEval settles the fragment with outer estimates unknown (an upper bound); every change of
    an inner estimate reaches the mirrors ("copy" sync), and IncEval re-settles the inner
    neighbors of the outer vertices whose estimate dropped.
    """

    sync: ClassVar[dict[str, str]] = {"core": "copy"}

    def init(self, frag) -> State:
        indptr, nbrs, mult = simple_neighbors(frag.out_indptr, frag.out_nbrs, frag.in_indptr,
                                              frag.in_nbrs, frag.directed)
        rev_ptr, rev = inner_neighbors_of_outer(indptr, nbrs, frag.ivnum, frag.ovnum)
        return State(core=np.full(frag.vnum, NO_ESTIMATE, dtype=np.int64), indptr=indptr,
                     nbrs=nbrs, mult=mult, rev_ptr=rev_ptr, rev=rev)

    def peval(self, frag, state, messages) -> None:
        state.core[:frag.ivnum] = row_sums(state.indptr, state.mult)
        self._settle(frag, state, np.arange(frag.ivnum, dtype=np.int64))

    def inceval(self, frag, state, messages) -> None:
        outer = messages.changed("core") - frag.ivnum
        if len(outer):
            self._settle(frag, state, rows_of(state.rev_ptr, state.rev, outer))

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
    twice. Computed by the distributed h-index iteration of Montresor, De Pellegrini and
    Miorandi (*Distributed k-core decomposition*, IEEE TPDS 24(2), 2013): work ``O(E)`` per
    round plus the re-examinations, rounds bounded by the number of estimate changes crossing
    fragments.

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
