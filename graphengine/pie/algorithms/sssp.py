"""Single-source shortest paths (Graphalytics SSSP) as a PIE app."""

from __future__ import annotations

from typing import ClassVar

import numba
import numpy as np

from ...store import Graph
from ..app import App, State
from ..context import Context
from ..executor import run_app
from ..inputs import check_weights, source_gid


@numba.njit(cache=True, inline="always")
def heap_up(keys, verts, pos, i, key, v):
    """Put vertex ``v`` with ``key`` at slot ``i`` of a 4-ary min-heap and sift it up.

    The heap is ``keys`` / ``verts`` (slots ``0 .. size-1``); ``pos[v]`` is ``v``'s slot, or
    -1 when it is not in the heap: a vertex is in it at most once, and a shorter distance
    moves it up (decrease-key) instead of pushing a second entry.
    """
    while i > 0:
        p = (i - 1) >> 2
        if keys[p] <= key:
            break
        keys[i] = keys[p]
        verts[i] = verts[p]
        pos[verts[i]] = i
        i = p
    keys[i] = key
    verts[i] = v
    pos[v] = i


@numba.njit(cache=True, inline="always")
def heap_push(keys, verts, pos, size, key, v):
    """Insert ``v`` with ``key``, or lower its key if it is in the heap already; returns the
    new size."""
    i = pos[v]
    if i < 0:
        i = size
        size += 1
    heap_up(keys, verts, pos, i, key, v)
    return size


@numba.njit(cache=True, inline="always")
def heap_pop(keys, verts, pos, size):
    """Remove the root of the heap of ``size`` slots (see :func:`heap_up`): the last slot's
    vertex goes down from the root to its place."""
    pos[verts[0]] = -1
    size -= 1
    if size == 0:
        return
    key = keys[size]
    v = verts[size]
    i = 0
    while True:
        c = 4 * i + 1
        if c >= size:
            break
        best = c
        best_key = keys[c]
        for cc in range(c + 1, min(c + 4, size)):
            if keys[cc] < best_key:
                best_key = keys[cc]
                best = cc
        if best_key >= key:
            break
        keys[i] = best_key
        verts[i] = verts[best]
        pos[verts[i]] = i
        i = best
    keys[i] = key
    verts[i] = v
    pos[v] = i


@numba.njit(cache=True, nogil=True)
def relax_from(indptr, nbrs, weights, dist, seeds, ivnum):
    """Dijkstra from the ``seeds`` (inner lids with their current ``dist``) over the fragment.

    Outer vertices get their tentative distance but are not expanded: their owner does that
    once the runtime folded the value in; nor are vertices without out-edges (nothing to
    relax), so neither enters the heap: a 4-ary heap with decrease-key over the inner
    vertices (:func:`heap_up`), half the time of a heap of ``(distance, vertex)`` pairs with
    a stale entry per shorter distance. Works for integer and float distances.
    """
    keys = np.empty(max(ivnum, 1), dtype=dist.dtype)
    verts = np.empty(max(ivnum, 1), dtype=np.int64)
    pos = np.full(max(ivnum, 1), -1, dtype=np.int64)
    size = 0
    for s in seeds:
        if s < ivnum and indptr[s + 1] > indptr[s]:
            size = heap_push(keys, verts, pos, size, dist[s], s)
    while size:
        u = verts[0]
        d = keys[0]
        heap_pop(keys, verts, pos, size)
        size -= 1
        for j in range(indptr[u], indptr[u + 1]):
            v = nbrs[j]
            nd = d + weights[j]
            if nd < dist[v]:
                dist[v] = nd
                if v < ivnum and indptr[v + 1] > indptr[v]:
                    size = heap_push(keys, verts, pos, size, nd, v)


class SSSP(App):
    """Shortest path lengths from one source along out-edges with non-negative weights."""

    sync: ClassVar[dict[str, str]] = {"dist": "min"}

    def __init__(self, source: int, weight: str | None = "weight"):
        self.source = source
        self.weight = weight
        self.edge_properties = (weight,) if weight else ()

    def check(self, graph: Graph) -> None:
        if self.weight is not None:
            check_weights(graph, self.weight, "sssp",
                          ": Dijkstra-based SSSP needs non-negative weights")

    def init(self, frag) -> State:
        weights = (np.ascontiguousarray(frag.out_edge_values(self.weight), dtype=np.float64)
                   if self.weight else np.ones(len(frag.out_nbrs), dtype=np.float64))
        return State(dist=np.full(frag.vnum, np.inf), weights=weights)

    def peval(self, frag, state, messages) -> None:
        lid = frag.lids(np.array([self.source]))[0]
        if 0 <= lid < frag.ivnum:
            state.dist[lid] = 0.0
            relax_from(frag.out_indptr, frag.out_nbrs, state.weights, state.dist,
                       np.array([lid], dtype=np.int64), frag.ivnum)

    def inceval(self, frag, state, messages) -> None:
        relax_from(frag.out_indptr, frag.out_nbrs, state.weights, state.dist,
                   messages.changed("dist"), frag.ivnum)

    def output(self, frag, state) -> dict[str, np.ndarray]:
        return {"r": frag.inner_part(state.dist)}


def sssp(graph: Graph, src, weight: str | None = "weight", executor: str = "local") -> Context:
    """Length of the shortest path from ``src`` to every vertex (Graphalytics SSSP).

    Follows the LDBC Graphalytics definition (Iosup et al., *LDBC Graphalytics: A Benchmark for
    Large-Scale Graph Analysis on Parallel and Distributed Platforms*, PVLDB 9(13), 2016;
    specification section 2.3.6): the distance of ``v`` is the minimum total weight of a path
    from ``src`` to ``v`` following edge directions (any edge of an undirected graph);
    unreachable vertices get ``inf``. PEval runs Dijkstra inside the source's fragment;
    IncEval continues Dijkstra from the vertices whose distance a mirror lowered ("min" sync).
    Work ``O((V + E) log V)`` per round.

    Parameters
    ----------
    graph : Graph
        Directed or undirected; a property graph runs on all its edge labels (project first
        to restrict it).
    src : vertex user id, or ``(label, id)``
        The source vertex.
    weight : str or None
        Edge property holding non-negative weights (indexed by edge id); ``None`` for unit
        weights.
    executor : {"local", "ray"}

    Returns
    -------
    Context
        ``ctx.to_numpy("r")``: float64 distances in ``ctx.gids`` order.

    Raises
    ------
    AnalyticsError
        Unknown source, missing or non-numeric weight property, negative or missing weights.

    Examples
    --------
    >>> import graphengine
    >>> sess = graphengine.session()
    >>> g = sess.g().add_edges({"src": [1, 2], "dst": [2, 3], "weight": [0.5, 2.0]})
    >>> graphengine.sssp(g, 1).to_numpy("r").tolist()
    [0.0, 0.5, 2.5]
    """
    return run_app(graph, SSSP(source_gid(graph, src), weight), executor)
