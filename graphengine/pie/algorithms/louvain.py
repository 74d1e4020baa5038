"""Louvain community detection as a PIE app (fragment-local first level, gathered later levels)."""

from __future__ import annotations

from typing import ClassVar

import numba
import numpy as np

from ...errors import AnalyticsError
from ...store import Graph
from ..app import App, State
from ..context import Context
from ..executor import run_app
from ..inputs import check_weights


@numba.njit(cache=True)
def move_nodes(indptr, nbrs, weights, degree, total, comm, m, resolution, order, join_outer):
    """Louvain's local-moving phase over the nodes in ``order``, with a queue of nodes to visit.

    ``comm[v]`` is the community (an index into ``total``, the communities' total degrees) of
    every node slot; the nodes in ``order`` are ``0 .. n-1`` and move, slots ``>= n`` (outer
    vertices) only anchor their communities. Self loops count in ``degree`` only. Each node
    moves to the neighboring community of largest positive modularity gain (networkx's
    ``_one_level`` gain). The nodes are visited in ``order``, then only those with a neighbor
    that moved since their last visit (the queue of Traag, Waltman and van Eck, *From Louvain
    to Leiden*, Sci. Rep. 9, 2019), until the queue is empty: the same stopping point as
    networkx's repeated sweeps (no node can gain by moving), with far fewer visits. Without
    ``join_outer``, communities ``>= n`` (outer vertices on their own) cannot be joined: when
    one would gain the most the node stays put, so a vertex whose ties lead out of the fragment
    is not pulled into a local community. Returns whether a node moved.
    """
    n = order.shape[0]
    size = total.shape[0]
    to_comm = np.zeros(size)
    seen = np.zeros(size, dtype=np.bool_)
    touched = np.empty(size, dtype=np.int64)
    scale = resolution / (2.0 * m * m)
    improved = False
    # a ring buffer of n slots: a node is in it at most once
    queue = order.copy()
    queued = np.ones(n, dtype=np.bool_)
    head = 0
    count = n
    while count > 0:
        u = queue[head]
        head = head + 1 if head + 1 < n else 0
        count -= 1
        queued[u] = False
        nt = 0
        for j in range(indptr[u], indptr[u + 1]):
            v = nbrs[j]
            if v == u:
                continue
            c = comm[v]
            if not seen[c]:
                seen[c] = True
                touched[nt] = c
                nt += 1
            to_comm[c] += weights[j]
        k = degree[u]
        current = comm[u]
        total[current] -= k
        remove_cost = -to_comm[current] / m + total[current] * k * scale
        best = current
        best_gain = 0.0
        for t in range(nt):
            c = touched[t]
            gain = remove_cost + to_comm[c] / m - total[c] * k * scale
            if gain > best_gain:
                best_gain = gain
                best = c
        if best >= n and not join_outer:
            best = current
        total[best] += k
        for t in range(nt):
            to_comm[touched[t]] = 0.0
            seen[touched[t]] = False
        if best != current:
            comm[u] = best
            improved = True
            for j in range(indptr[u], indptr[u + 1]):
                v = nbrs[j]
                if v < n and not queued[v] and comm[v] != best:
                    queued[v] = True
                    tail = head + count
                    queue[tail if tail < n else tail - n] = v
                    count += 1
    return improved


@numba.njit(cache=True)
def spread_within(out_indptr, out_nbrs, comm, label, seeds, ivnum):
    """Min-label propagation along edges whose endpoints share a community.

    The seeds flood in ascending order of their label, each flood a depth-first search
    carrying one label, so a vertex is lowered at most once per call (seeded from every
    vertex, the pass is ``O(V + E)``; a last-in-first-out stack of mixed labels can relabel a
    vertex once per larger label it sees first).
    """
    order = np.argsort(label[seeds], kind="mergesort")
    stack = np.empty(max(ivnum, 1), dtype=np.int64)
    for i in order:
        s = seeds[i]
        ls = label[s]
        top = 0
        stack[top] = s
        top += 1
        while top > 0:
            top -= 1
            u = stack[top]
            if label[u] != ls:  # lowered below ls by an earlier flood: that one went on
                continue
            for j in range(out_indptr[u], out_indptr[u + 1]):
                v = out_nbrs[j]
                if comm[v] == comm[u] and ls < label[v]:
                    label[v] = ls
                    if v < ivnum:
                        stack[top] = v
                        top += 1


def _csr(src: np.ndarray, dst: np.ndarray, weights: np.ndarray, n: int):
    order = np.argsort(src, kind="stable")
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(src, minlength=n), out=indptr[1:])
    return indptr, dst[order], weights[order]


def _combine(src: np.ndarray, dst: np.ndarray, weights: np.ndarray, n: int):
    """Sum the weights of equal ``(src, dst)`` pairs."""
    keys, inverse = np.unique(src * n + dst, return_inverse=True)
    return keys // n, keys % n, np.bincount(inverse, weights=weights)


def _modularity(src, dst, weights, comm, degree, m: float, resolution: float) -> float:
    inside = weights[comm[src] == comm[dst]].sum()
    totals = np.bincount(comm, weights=degree)
    return float(inside / (2 * m) - resolution * ((totals / (2 * m)) ** 2).sum())


def louvain_levels(src: np.ndarray, dst: np.ndarray, weights: np.ndarray, n: int, m: float,
                   resolution: float, threshold: float, rng) -> np.ndarray:
    """Sequential Louvain over a weighted graph given as symmetric ``(src, dst, w)`` entries.

    Every undirected edge is an entry each way (a self loop of weight ``w``: one ``(u, u, 2w)``
    entry); ``m`` is the total edge weight. Levels of :func:`move_nodes` and aggregation run
    until a level improves modularity by at most ``threshold`` (networkx's stopping rule).
    Returns the community index of each node.
    """
    assign = np.arange(n)
    degree = np.bincount(src, weights=weights, minlength=n)
    mod = _modularity(src, dst, weights, assign, degree, m, resolution)
    while True:
        indptr, nbrs, w = _csr(src, dst, weights, n)
        order = rng.permutation(n) if rng is not None else np.arange(n)
        comm = np.arange(n)
        if not move_nodes(indptr, nbrs, w, degree, degree.copy(), comm, m, resolution, order,
                          False):
            return assign
        _, comm = np.unique(comm, return_inverse=True)
        assign = comm[assign]
        new_mod = _modularity(src, dst, weights, comm, degree, m, resolution)
        n = int(comm.max()) + 1
        src, dst, weights = _combine(comm[src], comm[dst], weights, n)
        degree = np.bincount(src, weights=weights, minlength=n)
        if new_mod - mod <= threshold:
            return assign
        mod = new_mod


class Louvain(App):
    """Louvain in four PIE phases, then a split of disconnected communities.

    Rounds: (0) weighted degrees ("copy" sync to the mirrors), total weight and the leader (the
    smallest global id, owned by one fragment) as global aggregates; (1) each fragment runs the
    local-moving phase over its inner vertices, joining only communities of its own inner
    vertices but with the true degrees and the global total weight; a vertex whose best move
    would be to an outer neighbor stays put; each community is named by its smallest member
    ("copy" sync to the mirrors); (2) each fragment sends the leader its share of the
    community graph (community pairs with summed weights) as explicit messages; (3) the leader
    runs sequential Louvain (local moving and aggregation until the gain is below the
    threshold) on that graph and sends each first-level community its final community and
    that community's total degree; (4) vertices take both ("copy" sync); (5) one refining
    local-moving sweep per fragment over the final communities, now joinable across fragments,
    with their global totals (moves in different fragments are concurrent, so totals seen by
    one fragment ignore the other fragments' moves of this sweep); (6+) min-label propagation
    along edges inside a community ("min" sync) splits communities into connected pieces,
    which only raises modularity, and names each piece by its smallest global id.
    """

    sync: ClassVar[dict[str, str]] = {"degree": "copy", "comm": "copy", "comm_total": "copy",
                                      "label": "min"}

    def __init__(self, weight: str | None = None, resolution: float = 1.0,
                 threshold: float = 1e-7, seed: int | None = None):
        self.weight = weight
        self.edge_properties = (weight,) if weight else ()
        self.resolution = float(resolution)
        self.threshold = float(threshold)
        self.seed = seed

    def check(self, graph: Graph) -> None:
        if graph.directed:
            raise AnalyticsError("louvain: needs an undirected graph")
        if self.resolution <= 0:
            raise AnalyticsError(f"louvain: resolution must be positive, got {self.resolution}")
        if self.weight is not None:
            check_weights(graph, self.weight, "louvain")

    def init(self, frag) -> State:
        weights = (np.ascontiguousarray(frag.out_edge_values(self.weight), dtype=np.float64)
                   if self.weight else np.ones(len(frag.out_nbrs)))
        return State(weights=weights, degree=np.zeros(frag.vnum), comm=frag.gids.copy(),
                     comm_total=np.zeros(frag.vnum),
                     label=frag.gids.copy(), m=0.0, leader=-1)

    def peval(self, frag, state, messages) -> None:
        rows = np.repeat(np.arange(frag.ivnum), np.diff(frag.out_indptr))
        state.degree[:frag.ivnum] = np.bincount(rows, weights=state.weights, minlength=frag.ivnum)
        messages.reduce("two_m", float(state.degree[:frag.ivnum].sum()), "sum")
        if frag.ivnum:
            messages.reduce("leader", int(frag.gids[0]), "min")
        messages.force_continue()

    def inceval(self, frag, state, messages) -> None:
        rnd = messages.round
        if rnd == 1:
            state.m = messages.reduced("two_m", 0.0) / 2
            state.leader = messages.reduced("leader", -1)
            if state.m > 0:
                self._first_level(frag, state)
                messages.force_continue()
        elif rnd == 2:
            self._send_community_graph(frag, state, messages)
        elif rnd == 3:
            self._leader_levels(frag, state, messages)
        elif rnd == 4:
            iv = frag.ivnum
            lids, final = messages.received()
            final_of = np.full(iv, -1, dtype=np.int64)
            total_of = np.zeros(iv)
            final_of[lids] = final[:, 0].astype(np.int64)
            total_of[lids] = final[:, 1]
            first = frag.lids(state.comm[:iv])
            moved = final_of[first] >= 0
            state.comm[:iv][moved] = final_of[first[moved]]
            state.comm_total[:iv] = np.where(moved, total_of[first], state.degree[:iv])
            messages.force_continue()
        elif rnd == 5:
            self._refine(frag, state)
            messages.force_continue()
        elif rnd == 6:
            self._split(frag, state, np.arange(frag.ivnum, dtype=np.int64))
        else:
            self._split(frag, state, messages.changed("label"))

    def _first_level(self, frag, state) -> None:
        iv = frag.ivnum
        order = (np.random.default_rng([self.seed, frag.fid]).permutation(iv)
                 if self.seed is not None else np.arange(iv))
        comm = np.arange(frag.vnum)
        move_nodes(frag.out_indptr, frag.out_nbrs, state.weights, state.degree,
                   state.degree.copy(), comm, state.m, self.resolution, order, False)
        smallest = np.full(iv, np.iinfo(np.int64).max)
        np.minimum.at(smallest, comm[:iv], frag.gids[:iv])
        state.comm[:iv] = smallest[comm[:iv]]

    def _send_community_graph(self, frag, state, messages) -> None:
        rows = np.repeat(np.arange(frag.ivnum), np.diff(frag.out_indptr))
        names, dense = np.unique(state.comm, return_inverse=True)
        k = len(names)
        keys, inverse = np.unique(dense[rows] * k + dense[frag.out_nbrs], return_inverse=True)
        pairs = np.empty((len(keys), 3))
        pairs[:, 0] = names[keys // k]
        pairs[:, 1] = names[keys % k]
        pairs[:, 2] = np.bincount(inverse, weights=state.weights, minlength=len(keys))
        messages.send(np.full(len(keys), state.leader, dtype=np.int64), pairs)
        messages.force_continue()

    def _leader_levels(self, frag, state, messages) -> None:
        messages.force_continue()
        _, pairs = messages.received()
        if not len(pairs):
            return
        reps, dense = np.unique(pairs[:, :2].astype(np.int64), return_inverse=True)
        dense = dense.reshape(-1, 2)
        src, dst, weights = _combine(dense[:, 0], dense[:, 1], pairs[:, 2], len(reps))
        rng = np.random.default_rng(self.seed) if self.seed is not None else None
        assign = louvain_levels(src, dst, weights, len(reps), state.m, self.resolution,
                                self.threshold, rng)
        smallest = np.full(int(assign.max()) + 1, np.iinfo(np.int64).max)
        np.minimum.at(smallest, assign, reps)
        totals = np.bincount(assign, weights=np.bincount(src, weights=weights, minlength=len(reps)))
        messages.send(reps, np.stack([smallest[assign], totals[assign]], axis=1))

    def _refine(self, frag, state) -> None:
        """One vertex-level moving sweep over the final communities (their global totals)."""
        iv = frag.ivnum
        names, comm = np.unique(state.comm, return_inverse=True)
        total = np.zeros(len(names))
        total[comm] = state.comm_total
        order = (np.random.default_rng([self.seed, frag.fid, 1]).permutation(iv)
                 if self.seed is not None else np.arange(iv))
        move_nodes(frag.out_indptr, frag.out_nbrs, state.weights, state.degree, total, comm,
                   state.m, self.resolution, order, True)
        state.comm[:iv] = names[comm[:iv]]

    @staticmethod
    def _split(frag, state, seeds: np.ndarray) -> None:
        spread_within(frag.out_indptr, frag.out_nbrs, state.comm, state.label, seeds, frag.ivnum)

    def output(self, frag, state) -> dict[str, np.ndarray]:
        return {"r": state.label[:frag.ivnum].copy()}


def louvain(graph: Graph, weight: str | None = None, resolution: float = 1.0,
            threshold: float = 1e-7, seed: int | None = None, executor: str = "local") -> Context:
    """Louvain communities: a partition of high modularity (GraphScope ``louvain``).

    Modularity ``Q = sum_c [L_c / m - resolution * (d_c / 2m)^2]`` (``L_c``: weight inside
    community ``c``, ``d_c``: its total degree, ``m``: total weight) is increased greedily by
    moving single vertices to neighboring communities, then aggregating each community into one
    vertex and repeating (Blondel, Guillaume, Lambiotte and Lefebvre, *Fast unfolding of
    communities in large networks*, J. Stat. Mech. P10008, 2008), with networkx's gain formula
    and stopping rule (a level gaining at most ``threshold``). Self loops count in degrees and
    in ``L_c``; parallel edges add their weights (networkx's multigraph conversion).

    Distribution (see :class:`Louvain`): the first level runs inside each fragment over its
    inner vertices (true degrees, global ``m``; a vertex only joins communities of its own
    fragment, as in Wickramaarachchi et al., *Fast parallel algorithm for unfolding of
    communities in large graphs*, HPEC 2014); the community graph of that level, usually much
    smaller than the graph, is gathered to one fragment through explicit messages, which runs
    the later levels sequentially and sends the result back; one vertex-level sweep then lets
    every vertex move to a neighboring final community (global community totals), repairing
    first-level choices made without the other fragments. Communities are finally split into
    connected pieces (this never lowers modularity), so every community is connected. With
    one fragment this is sequential Louvain (plus the sweep, which finds nothing to move).
    The result depends on the number of fragments, as the visiting order does in networkx. Work ``O(E)`` per local-moving sweep; the
    gathered graph has at most one vertex per first-level community.

    Parameters
    ----------
    graph : Graph
        Undirected.
    weight : str or None
        Edge property with non-negative weights; ``None`` for weight 1.
    resolution : float
        Positive; below 1 favors larger communities.
    threshold : float
        Stop when a level raises modularity by at most this much.
    seed : int or None
        Seed of the vertex visiting order (``None``: global id order, deterministic).
    executor : {"local", "ray"}

    Returns
    -------
    Context
        ``ctx.to_numpy("r")``: int64 community ids (the smallest global id in each community)
        in ``ctx.gids`` order.

    Raises
    ------
    AnalyticsError
        Directed graph, non-positive resolution, missing/non-numeric/negative weights.

    Examples
    --------
    >>> import graphengine
    >>> g = graphengine.session().g(directed=False).add_edges(
    ...     {"src": [1, 1, 2, 4, 4, 5, 3], "dst": [2, 3, 3, 5, 6, 6, 4]})
    >>> graphengine.louvain(g).to_numpy("r").tolist()
    [0, 0, 0, 3, 3, 3]
    """
    return run_app(graph, Louvain(weight, resolution, threshold, seed), executor)
