"""Weakly connected components (Graphalytics WCC) as a PIE app."""

from __future__ import annotations

from typing import ClassVar

import numba
import numpy as np

from ...store import Graph
from ..app import App, State
from ..context import Context
from ..executor import run_app
from ._adjacency import outer_neighbor_lists


@numba.njit(cache=True, inline="always")
def _find(parent, x):
    while parent[x] != x:
        parent[x] = parent[parent[x]]  # path halving
        x = parent[x]
    return x


@numba.njit(cache=True, inline="always")
def _union(parent, u, v):
    """Join the sets of ``u`` and ``v``; the smaller root becomes the root."""
    a = _find(parent, u)
    b = _find(parent, v)
    if a < b:
        parent[b] = a
    elif b < a:
        parent[a] = b


#: Neighbors per vertex linked before the largest component is looked for.
SAMPLE = 2


@numba.njit(cache=True, nogil=True)
def sampled_components(out_indptr, out_nbrs, in_indptr, in_nbrs, directed, n):
    """Connected components of a graph whose every vertex is inner, by union-find that
    skips the largest component (Afforest: Sutton, Ben-Nun and Barak, *Optimizing parallel
    graph connectivity computation via subgraph sampling*, IPDPS 2018).

    Each vertex is first joined to its first :data:`SAMPLE` out-neighbors; then only the
    vertices outside the largest set so far go through their other edges (a directed
    graph's in-lists as well). An edge of a vertex in that set either stays inside it or
    reaches a vertex outside, whose lists hold the same edge: no edge is lost, and the
    giant component's edges, most of a real graph's, are never read. Returns every vertex's
    root, its component's smallest id.
    """
    parent = _sampled_union(out_indptr, out_nbrs, in_indptr, in_nbrs, directed, n, n)[0]
    for x in range(n):
        parent[x] = parent[parent[x]]
    return parent


@numba.njit(cache=True, nogil=True)
def _sampled_union(out_indptr, out_nbrs, in_indptr, in_nbrs, directed, ivnum, vnum):
    """Afforest's first two steps over ``vnum`` vertices whose first ``ivnum`` have lists:
    each joins its first :data:`SAMPLE` out-neighbors, then those outside the largest set
    so far go through all their edges. Returns the parents and a member of that set."""
    parent = np.arange(vnum, dtype=np.int64)
    for u in range(ivnum):
        for j in range(out_indptr[u], min(out_indptr[u] + SAMPLE, out_indptr[u + 1])):
            _union(parent, u, out_nbrs[j])
    count = np.zeros(vnum, dtype=np.int64)
    for x in range(vnum):
        parent[x] = parent[parent[x]]  # a parent is never larger than its child
        count[parent[x]] += 1
    big = np.argmax(count) if vnum else 0
    for u in range(ivnum):
        if _find(parent, u) == _find(parent, big):
            continue
        for j in range(min(out_indptr[u] + SAMPLE, out_indptr[u + 1]), out_indptr[u + 1]):
            _union(parent, u, out_nbrs[j])
        if directed:
            for j in range(in_indptr[u], in_indptr[u + 1]):
                _union(parent, u, in_nbrs[j])
    return parent, big


@numba.njit(cache=True, nogil=True)
def local_components(out_indptr, out_nbrs, in_indptr, in_nbrs, directed, ivnum, vnum,
                     rev_ptr, rev):
    """Connected components of the fragment's local graph (inner and outer vertices, every
    edge an inner vertex lists, directions ignored), by Afforest's sampled union-find as in
    :func:`sampled_components`, extended to outer vertices, which have no lists here:

    1. every inner vertex joins its first :data:`SAMPLE` out-neighbors;
    2. an inner vertex outside the largest set goes through all its edges (out and in);
    3. an outer vertex joins the largest set through the first inner vertex of the set (as
       it was after step 2) that lists it (``rev_ptr`` / ``rev``: the reverse lists of the
       outer vertices).

    No edge is lost: an edge between an inner vertex of the largest set and an inner vertex
    outside is in the other one's lists; one between an inner vertex outside the set and an
    outer vertex is taken in step 2; one between an inner vertex of the set and an outer vertex
    makes the outer vertex find it in step 3. Returns the component root (its
    smallest lid) of every lid. A fragment without outer vertices (a graph held whole) takes
    :func:`sampled_components`.
    """
    if vnum == ivnum:
        return sampled_components(out_indptr, out_nbrs, in_indptr, in_nbrs, directed, ivnum)
    parent, big = _sampled_union(out_indptr, out_nbrs, in_indptr, in_nbrs, directed, ivnum,
                                 vnum)
    for x in range(vnum):  # flattened: a vertex's set is one sequential read away
        parent[x] = parent[parent[x]]
    root = parent[big]
    in_big = np.empty(ivnum, dtype=np.bool_)  # a byte per inner vertex: reads stay in cache
    for u in range(ivnum):
        in_big[u] = parent[u] == root
    for v in range(ivnum, vnum):
        if parent[v] == root:  # linked by a sample
            continue
        for j in range(rev_ptr[v - ivnum], rev_ptr[v - ivnum + 1]):
            if in_big[rev[j]]:
                if parent[v] == v:  # alone so far: the root is smaller than v
                    parent[v] = _find(parent, root)
                else:
                    _union(parent, v, root)
                break
    for x in range(vnum):  # roots are smaller than their members: one pass flattens
        parent[x] = parent[parent[x]]
    return parent


@numba.njit(cache=True, nogil=True)
def component_minima(comp, label, comp_min):
    """``comp_min[r] = min(label[v] for v in component r)``."""
    for v in range(comp.shape[0]):
        comp_min[comp[v]] = min(comp_min[comp[v]], label[v])


@numba.njit(cache=True, nogil=True)
def lower_components(comp, label, seeds, comp_min, ivnum):
    """Fold the lowered labels of ``seeds`` into their components and relabel every member
    of the components that got a smaller minimum; returns the outer lids relabelled."""
    lowered = False
    for s in seeds:
        r = comp[s]
        if label[s] < comp_min[r]:
            comp_min[r] = label[s]
            lowered = True
    n = comp.shape[0]
    changed = np.empty(n - ivnum if lowered else 0, dtype=np.int64)
    k = 0
    if lowered:
        for v in range(n):
            m = comp_min[comp[v]]
            if m < label[v]:
                label[v] = m
                if v >= ivnum:
                    changed[k] = v
                    k += 1
    return changed[:k]


class WCC(App):
    """Union-find inside each fragment, minimum labels across fragments."""

    sync: ClassVar[dict[str, str]] = {"label": "min"}
    #: the steps report the outer labels they lowered (no snapshot and diff of the array)
    sync_tracked: ClassVar[tuple[str, ...]] = ("label",)

    def init(self, frag) -> State:
        return State(label=frag.gids.copy())

    def peval(self, frag, state, messages) -> None:
        rev_ptr, rev = (outer_neighbor_lists(frag) if frag.ovnum
                        else (np.zeros(1, np.int64), np.zeros(0, np.int64)))
        state.comp = local_components(frag.out_indptr, frag.out_nbrs, frag.in_indptr,
                                      frag.in_nbrs, frag.directed, frag.ivnum, frag.vnum,
                                      rev_ptr, rev)
        if frag.ovnum == 0:  # a root is its component's smallest lid, so its smallest gid
            np.take(frag.gids, state.comp, out=state.label)
            state.comp_min = state.label.copy()
            return
        state.comp_min = np.full(frag.vnum, np.iinfo(np.int64).max, dtype=np.int64)
        component_minima(state.comp, state.label, state.comp_min)
        np.take(state.comp_min, state.comp, out=state.label)
        iv = frag.ivnum
        messages.report_changed("label", np.flatnonzero(state.label[iv:] != frag.gids[iv:]) + iv)

    def inceval(self, frag, state, messages) -> None:
        messages.report_changed("label", lower_components(
            state.comp, state.label, messages.changed("label"), state.comp_min, frag.ivnum))

    def output(self, frag, state) -> dict[str, np.ndarray]:
        return {"r": state.label[:frag.ivnum].copy()}


def wcc(graph: Graph, executor: str = "local") -> Context:
    """Weakly connected component of every vertex (Graphalytics WCC).

    Follows the LDBC Graphalytics definition (specification section 2.3.5; Iosup et al.,
    PVLDB 9(13), 2016): two vertices are in the same component when a path joins them ignoring
    edge directions. The component id is the **smallest internal global id** in the component
    (``ctx.gids`` holds the global ids; ``graph.vertex_ids`` maps one to its user id), so ids
    are comparable across runs on the same graph whatever the executor or fragment count.
    PEval finds the components of each fragment's local graph by union-find (on a graph held
    by one fragment, without reading most of the largest component's edges: see
    :func:`sampled_components`) and gives each the smallest id it holds; IncEval folds in the labels mirrors lowered ("min" sync) and
    relabels the components that got smaller. Work ``O(E alpha(V))`` in PEval and ``O(V)``
    per later round, rounds bounded by the number of fragment hops along a component.

    Parameters
    ----------
    graph : Graph
        Directed or undirected.
    executor : {"local", "ray"}

    Returns
    -------
    Context
        ``ctx.to_numpy("r")``: int64 component ids in ``ctx.gids`` order.

    Examples
    --------
    >>> import graphengine
    >>> g = graphengine.session().g().add_edges({"src": [1, 3], "dst": [2, 4]})
    >>> graphengine.wcc(g).to_numpy("r").tolist()
    [0, 0, 2, 2]
    """
    return run_app(graph, WCC(), executor)
