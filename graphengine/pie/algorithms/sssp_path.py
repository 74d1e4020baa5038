"""Shortest-path trees, reachability and average shortest path length as PIE apps."""

from __future__ import annotations

from typing import ClassVar

import numba
import numpy as np

from ...errors import AnalyticsError
from ...store import Graph
from ..app import App, State
from ..context import Context
from ..executor import run_app
from ..inputs import source_gid
from .closeness_centrality import DistanceSums
from .sssp import SSSP, relax_from


@numba.njit(cache=True, nogil=True)
def tight_hop_weights(out_indptr, out_nbrs, out_weights, dist):
    """1 for an out-edge ``u -> v`` on a shortest path (``dist[u] + w == dist[v]``), else inf."""
    hop = np.full(out_nbrs.shape[0], np.inf)
    for u in range(out_indptr.shape[0] - 1):
        du = dist[u]
        if du == np.inf:
            continue
        for j in range(out_indptr[u], out_indptr[u + 1]):
            if du + out_weights[j] == dist[out_nbrs[j]]:
                hop[j] = 1.0
    return hop


@numba.njit(cache=True, nogil=True)
def pick_predecessors(in_indptr, in_nbrs, in_weights, dist, hops, gids, source_lid, pred):
    """Predecessor of each inner vertex: the smallest-gid in-neighbor ``u`` with
    ``dist[u] + w == dist[v]`` and ``hops[u] == hops[v] - 1`` (-1 for the source, unreached)."""
    for v in range(pred.shape[0]):
        pred[v] = -1
        if v == source_lid or hops[v] == np.inf:
            continue
        for j in range(in_indptr[v], in_indptr[v + 1]):
            u = in_nbrs[j]
            tight = hops[u] == hops[v] - 1.0 and dist[u] + in_weights[j] == dist[v]
            if tight and (pred[v] < 0 or gids[u] < pred[v]):
                pred[v] = gids[u]


@numba.njit(cache=True, nogil=True)
def spread_reach(out_indptr, out_nbrs, reached, seeds, ivnum, target):
    """Mark what is reachable from ``seeds`` along out-edges (outer vertices not expanded),
    breadth first, stopping as soon as ``target`` (a lid, or -1) is marked: a near target is
    found after its few levels. Returns whether the target is marked."""
    if 0 <= target and reached[target]:
        return True
    queue = np.empty(max(ivnum, 1), dtype=np.int64)
    tail = 0
    for s in seeds:
        queue[tail] = s
        tail += 1
    head = 0
    while head < tail:
        u = queue[head]
        head += 1
        for j in range(out_indptr[u], out_indptr[u + 1]):
            v = out_nbrs[j]
            if not reached[v]:
                reached[v] = 1
                if v == target:
                    return True
                if v < ivnum:
                    queue[tail] = v
                    tail += 1
    return False


@numba.njit(cache=True, inline="always")
def _before(d1, h1, d2, h2):
    return d1 < d2 or (d1 == d2 and h1 < h2)


@numba.njit(cache=True, inline="always")
def _pair_up(dists, hops, verts, pos, i, d, h, v):
    """:func:`~graphengine.pie.algorithms.sssp.heap_up` with ``(distance, hops)`` keys in
    lexicographic order."""
    while i > 0:
        p = (i - 1) >> 2
        if not _before(d, h, dists[p], hops[p]):
            break
        dists[i] = dists[p]
        hops[i] = hops[p]
        verts[i] = verts[p]
        pos[verts[i]] = i
        i = p
    dists[i] = d
    hops[i] = h
    verts[i] = v
    pos[v] = i


@numba.njit(cache=True, inline="always")
def _pair_pop(dists, hops, verts, pos, size):
    """:func:`~graphengine.pie.algorithms.sssp.heap_pop` with ``(distance, hops)`` keys."""
    pos[verts[0]] = -1
    size -= 1
    if size == 0:
        return
    d, h, v = dists[size], hops[size], verts[size]
    i = 0
    while True:
        c = 4 * i + 1
        if c >= size:
            break
        best = c
        for cc in range(c + 1, min(c + 4, size)):
            if _before(dists[cc], hops[cc], dists[best], hops[best]):
                best = cc
        if not _before(dists[best], hops[best], d, h):
            break
        dists[i] = dists[best]
        hops[i] = hops[best]
        verts[i] = verts[best]
        pos[verts[i]] = i
        i = best
    dists[i] = d
    hops[i] = h
    verts[i] = v
    pos[v] = i


@numba.njit(cache=True, nogil=True)
def shortest_path_tree(out_indptr, out_nbrs, weights, gids, source, dist, hops, pred):
    """Dijkstra over ``(distance, hops)`` pairs in lexicographic order from ``source``, on a
    whole graph held by one fragment: the distances, the fewest hops among shortest paths, and
    the predecessor of each vertex (the smallest-gid ``u`` with ``dist[u] + w == dist[v]`` and
    ``hops[u] == hops[v] - 1``) in one ``O((V + E) log V)`` pass, with a 4-ary heap with
    decrease-key over the vertices that have out-edges."""
    n = out_indptr.shape[0] - 1
    heap_d = np.empty(n)
    heap_h = np.empty(n, dtype=np.int64)
    verts = np.empty(n, dtype=np.int64)
    pos = np.full(n, -1, dtype=np.int64)
    dist[source] = 0.0
    hops[source] = 0
    size = 1
    _pair_up(heap_d, heap_h, verts, pos, 0, 0.0, 0, source)
    while size:
        u = verts[0]
        d = heap_d[0]
        h = heap_h[0]
        _pair_pop(heap_d, heap_h, verts, pos, size)
        size -= 1
        gu = gids[u]
        for j in range(out_indptr[u], out_indptr[u + 1]):
            v = out_nbrs[j]
            nd = d + weights[j]
            nh = h + 1
            if nd < dist[v] or (nd == dist[v] and nh < hops[v]):
                dist[v] = nd
                hops[v] = nh
                pred[v] = gu
                if out_indptr[v + 1] > out_indptr[v]:  # else nothing to relax from v
                    i = pos[v]
                    if i < 0:
                        i = size
                        size += 1
                    _pair_up(heap_d, heap_h, verts, pos, i, nd, nh, v)
            elif nd == dist[v] and nh == hops[v] and gu < pred[v]:
                pred[v] = gu


class SSSPPath(SSSP):
    """Dijkstra distances, then the hop depth over shortest-path edges, then predecessors.

    Phases, each ended by a round in which a global sum aggregate saw no change: (1) SSSP's
    Dijkstra ("min" sync of ``dist``); (2) the settled distances are copied to the mirrors
    ("copy" sync) and a BFS over *tight* edges (``dist[u] + w == dist[v]``) gives every vertex
    its hop depth, so zero-weight cycles cannot make the tree cyclic; (3) the depths are copied
    to the mirrors and each vertex picks its predecessor over its in-edges. A graph held by
    one fragment skips the rounds: PEval runs :func:`shortest_path_tree`.
    """

    sync: ClassVar[dict[str, str]] = {"dist": "min", "settled": "copy", "hops": "min",
                                      "settled_hops": "copy"}
    result: ClassVar[str] = "pred"

    def __init__(self, source: int, weight: str | None = "weight"):
        super().__init__(source, weight)
        self.in_edge_properties = self.edge_properties  # phase 3 reads the in-edges' weights

    def init(self, frag) -> State:
        state = super().init(frag)
        if frag.fnum == 1:  # PEval's one Dijkstra reads out-edges only
            state.in_weights = None
        elif self.weight:
            state.in_weights = np.ascontiguousarray(frag.in_edge_values(self.weight),
                                                    dtype=np.float64)
        else:
            state.in_weights = np.ones(len(frag.in_nbrs), dtype=np.float64)
        state.settled = np.full(frag.vnum, np.inf)
        state.hops = np.full(frag.vnum, np.inf)
        state.settled_hops = np.full(frag.vnum, np.inf)
        state.pred = np.full(frag.ivnum, -1, dtype=np.int64)
        state.phase = "dist"
        return state

    def peval(self, frag, state, messages) -> None:
        if frag.fnum == 1:  # the whole graph is here: one Dijkstra gives the tree
            lid = frag.lids(np.array([self.source]))[0]
            hops = np.full(frag.vnum, np.iinfo(np.int64).max, dtype=np.int64)
            state.pred[:] = np.iinfo(np.int64).max
            shortest_path_tree(frag.out_indptr, frag.out_nbrs, state.weights, frag.gids, lid,
                               state.dist, hops, state.pred)
            state.pred[state.pred == np.iinfo(np.int64).max] = -1
            state.pred[lid] = -1
            state.phase = "done"
            return
        before = state.dist.copy()
        super().peval(frag, state, messages)
        self._report(messages, int(np.count_nonzero(state.dist != before)))

    def inceval(self, frag, state, messages) -> None:
        iv = frag.ivnum
        quiet = messages.reduced("changed", 1) == 0
        if state.phase == "dist" and quiet:
            state.settled[:iv] = state.dist[:iv]
            state.phase = "hops_start"
            messages.force_continue()
        elif state.phase == "dist":
            before = state.dist.copy()
            super().inceval(frag, state, messages)
            self._report(messages, int(np.count_nonzero(state.dist != before)))
        elif state.phase == "hops_start":
            state.tight = tight_hop_weights(frag.out_indptr, frag.out_nbrs, state.weights,
                                            state.settled)
            state.phase = "hops"
            lid = frag.lids(np.array([self.source]))[0]
            seeds = np.zeros(0, dtype=np.int64)
            if 0 <= lid < iv:
                state.hops[lid] = 0.0
                seeds = np.array([lid], dtype=np.int64)
            self._relax_hops(frag, state, messages, seeds)
        elif state.phase == "hops" and quiet:
            state.settled_hops[:iv] = state.hops[:iv]
            state.phase = "pred"
            messages.force_continue()
        elif state.phase == "hops":
            self._relax_hops(frag, state, messages, messages.changed("hops"))
        elif state.phase == "pred":
            lid = frag.lids(np.array([self.source]))[0]
            pick_predecessors(frag.in_indptr, frag.in_nbrs, state.in_weights, state.settled,
                              state.settled_hops, frag.gids, lid, state.pred)
            state.phase = "done"

    def _relax_hops(self, frag, state, messages, seeds) -> None:
        before = state.hops.copy()
        relax_from(frag.out_indptr, frag.out_nbrs, state.tight, state.hops, seeds, frag.ivnum)
        self._report(messages, int(np.count_nonzero(state.hops != before)))

    @staticmethod
    def _report(messages, changed: int) -> None:
        messages.reduce("changed", changed, "sum")
        messages.force_continue()

    def output(self, frag, state) -> dict[str, np.ndarray]:
        return {"pred": state.pred.copy(), "dist": frag.inner_part(state.dist)}


class Reachability(App):
    """Vertices reachable from a source ("max" sync of a flag), stopping once the target is."""

    sync: ClassVar[dict[str, str]] = {"reached": "max"}

    def __init__(self, source: int, target: int):
        self.source = source
        self.target = target

    def init(self, frag) -> State:
        return State(reached=np.zeros(frag.vnum, dtype=np.int8), found=False)

    def peval(self, frag, state, messages) -> None:
        lid = frag.lids(np.array([self.source]))[0]
        seeds = np.zeros(0, dtype=np.int64)
        if 0 <= lid < frag.ivnum:
            state.reached[lid] = 1
            seeds = np.array([lid], dtype=np.int64)
        self._spread(frag, state, messages, seeds)

    def inceval(self, frag, state, messages) -> None:
        state.found = state.found or messages.reduced("found", 0) > 0
        if not state.found:
            self._spread(frag, state, messages, messages.changed("reached"))

    def _spread(self, frag, state, messages, seeds) -> None:
        lid = frag.lids(np.array([self.target]))[0]
        target = lid if 0 <= lid < frag.ivnum else -1
        if spread_reach(frag.out_indptr, frag.out_nbrs, state.reached, seeds, frag.ivnum,
                        target):
            messages.reduce("found", 1, "max")
            messages.force_continue()

    def output(self, frag, state) -> dict[str, np.ndarray]:
        return {"r": state.reached[:frag.ivnum].astype(bool)}


def sssp_path(graph: Graph, src, weight: str | None = "weight", executor: str = "local") -> Context:
    """Shortest-path tree from ``src``: the predecessor of every vertex (GraphScope ``sssp_path``).

    The distance of ``v`` is the minimum total weight of a path from ``src`` to ``v`` along edge
    directions, as in :func:`graphengine.sssp` (Dijkstra, *A note on two problems in connexion
    with graphs*, Numerische Mathematik 1, 1959). The predecessor of a reached ``v != src`` is
    the in-neighbor ``u`` with ``dist(u) + w(u, v) == dist(v)`` that is one hop closer to
    ``src`` in the fewest-hops shortest-path tree, ties going to the smallest global id; so the
    predecessors form a tree of shortest paths (with fewest edges among the shortest) whatever
    the fragmentation. Following predecessors from ``v`` back to ``src`` gives a shortest path.
    Three PIE phases (distances, hop depths over shortest-path edges, predecessors), each
    ``O((V + E) log V)`` work per round, the phase ends detected with a global sum aggregate.

    Parameters
    ----------
    graph : Graph
        Directed or undirected.
    src : vertex user id, or ``(label, id)``
    weight : str or None
        Edge property with non-negative weights; ``None`` for unit weights.
    executor : {"local", "ray"}

    Returns
    -------
    Context
        ``ctx.to_numpy("r")``: int64 global id of each vertex's predecessor (``-1`` for ``src``
        and unreached vertices; ``graph.vertex_ids`` maps global ids to user ids);
        ``ctx.to_numpy("r.dist")``: float64 distances (``inf`` when unreached).

    Raises
    ------
    AnalyticsError
        Unknown source, missing or non-numeric weight property, negative or missing weights.

    Examples
    --------
    >>> import graphengine
    >>> g = graphengine.session().g().add_edges({"src": [1, 2, 1], "dst": [2, 3, 3],
    ...                                          "weight": [1.0, 1.0, 5.0]})
    >>> graphengine.sssp_path(g, 1).to_numpy("r").tolist()
    [-1, 0, 1]
    """
    return run_app(graph, SSSPPath(source_gid(graph, src), weight), executor)


def sssp_has_path(graph: Graph, src, target, executor: str = "local") -> bool:
    """Whether a path leads from ``src`` to ``target`` (GraphScope ``sssp_has_path``).

    As ``networkx.has_path``: along edge directions, and ``True`` when ``src == target``.
    Reachability from ``src`` spreads with a "max" sync of a flag (PEval inside the source's
    fragment, IncEval from the vertices a mirror marked); the run stops one round after the
    target's owner reports it reached through a global aggregate. ``O(V + E)`` work.

    Parameters
    ----------
    graph : Graph
    src, target : vertex user id, or ``(label, id)``
    executor : {"local", "ray"}

    Returns
    -------
    bool

    Raises
    ------
    AnalyticsError
        ``src`` or ``target`` is not in the graph.

    Examples
    --------
    >>> import graphengine
    >>> g = graphengine.session().g().add_edges({"src": [1, 2], "dst": [2, 3]})
    >>> graphengine.sssp_has_path(g, 1, 3), graphengine.sssp_has_path(g, 3, 1)
    (True, False)
    """
    s, t = source_gid(graph, src), source_gid(graph, target)
    ctx = run_app(graph, Reachability(s, t), executor)
    return bool(ctx.to_numpy("r")[np.searchsorted(ctx.gids, t)])


def sssp_average_length(graph: Graph, executor: str = "local") -> float:
    """Average shortest path length (GraphScope ``sssp_average_length``).

    As ``networkx.average_shortest_path_length`` with ``weight=None``:
    ``sum_{s != t} d(s, t) / (n (n - 1))`` over hop distances along edge directions, ``0`` for a
    single vertex. Computed from the all-pairs BFS waves of
    :func:`graphengine.closeness_centrality` (each vertex's incoming distance sum).
    ``O(V / 256 * (V + E) * D)`` word operations for diameter ``D``.

    Parameters
    ----------
    graph : Graph
        Connected (undirected) or strongly connected (directed); edge weights are ignored.
    executor : {"local", "ray"}

    Returns
    -------
    float

    Raises
    ------
    AnalyticsError
        The graph is empty, or not (strongly) connected.

    Examples
    --------
    >>> import graphengine
    >>> g = graphengine.session().g(directed=False).add_edges({"src": [1, 2], "dst": [2, 3]})
    >>> graphengine.sssp_average_length(g)
    1.3333333333333333
    """
    n = graph.vertex_count
    if n == 0:
        raise AnalyticsError("sssp_average_length: the graph has no vertices")
    ctx = run_app(graph, DistanceSums(), executor)
    if n == 1:
        return 0.0
    if (ctx.to_numpy("r.reach") != n).any():
        kind = "strongly connected" if graph.directed else "connected"
        raise AnalyticsError(f"sssp_average_length: the graph is not {kind}")
    return float(ctx.to_numpy("r.total").sum()) / (n * (n - 1))
