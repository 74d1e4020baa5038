"""Single-source shortest paths (Graphalytics SSSP) as a PIE app."""

from __future__ import annotations

import heapq
from typing import ClassVar

import numba
import numpy as np

from ...store import Graph
from ..app import App, State
from ..context import Context
from ..executor import run_app
from ..inputs import check_weights, source_gid


@numba.njit(cache=True)
def relax_from(indptr, nbrs, weights, dist, seeds, ivnum):
    """Dijkstra from the ``seeds`` (inner lids with their current ``dist``) over the fragment.

    Outer vertices get their tentative distance but are not expanded: their owner does that
    once the runtime folded the value in; nor are vertices without out-edges (nothing to
    relax), so neither enters the heap. Works for integer and float distances.
    """
    if seeds.shape[0] == 0:
        return
    heap = [(dist[seeds[0]], seeds[0])]
    for i in range(1, seeds.shape[0]):
        heap.append((dist[seeds[i]], seeds[i]))
    heapq.heapify(heap)
    while len(heap):
        d, u = heapq.heappop(heap)
        if d > dist[u] or u >= ivnum:
            continue
        for j in range(indptr[u], indptr[u + 1]):
            v = nbrs[j]
            nd = d + weights[j]
            if nd < dist[v]:
                dist[v] = nd
                if v < ivnum and indptr[v + 1] > indptr[v]:
                    heapq.heappush(heap, (nd, v))


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
        return {"r": state.dist[:frag.ivnum].copy()}


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
