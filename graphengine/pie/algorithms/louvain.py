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
from .wcc import _find


@numba.njit(cache=True, inline="always")
def _links(u, indptr, nbrs, weights, unit, comm, to_comm, seen, touched):
    """Sum into ``to_comm`` the weight from node ``u`` to each community next to it (self
    loops left out) and list those communities once each in ``touched``; returns how many.
    The list is written without a branch (an entry is kept only when its community was not
    seen), as the branch mispredicts half the time on a graph with communities."""
    nt = 0
    for j in range(indptr[u], indptr[u + 1]):
        v = nbrs[j]
        if v == u:
            continue
        c = comm[v]
        touched[nt] = c
        nt += 1 - seen[c]
        seen[c] = 1
        to_comm[c] += 1.0 if unit else weights[j]
    return nt


@numba.njit(cache=True, nogil=True)
def move_nodes(indptr, nbrs, weights, unit, degree, total, comm, m, resolution, order,
               join_outer):
    """Louvain's local-moving phase over the nodes in ``order``, with a queue of nodes to visit.

    ``comm[v]`` is the community (an index into ``total``, the communities' total degrees) of
    every node slot; the nodes in ``order`` are ``0 .. n-1`` and move, slots ``>= n`` (outer
    vertices) only anchor their communities. Self loops count in ``degree`` only; with
    ``unit`` every entry weighs 1 and ``weights`` is not read. Each node moves to the
    neighboring community of largest positive modularity gain (networkx's ``_one_level``
    gain: ``to_comm[c] / m - total[c] * degree[u] * resolution / (2 m^2)``, compared with
    its own community's after leaving it). The nodes are visited in ``order``, then only
    those with a neighbor that moved since their last visit (the queue of Traag, Waltman and
    van Eck, *From Louvain to Leiden*, Sci. Rep. 9, 2019), until the queue is empty: the same
    stopping point as networkx's repeated sweeps (no node can gain by moving), with far fewer
    visits. Without ``join_outer``, communities ``>= n`` (outer vertices on their own) cannot
    be joined: when one would gain the most the node stays put, so a vertex whose ties lead
    out of the fragment is not pulled into a local community. Returns whether a node moved.
    """
    n = order.shape[0]
    size = total.shape[0]
    to_comm = np.zeros(size)
    seen = np.zeros(size, dtype=np.uint8)
    touched = np.empty(size + 1, dtype=np.int64)
    scale = resolution / (2.0 * m * m)
    inv_m = 1.0 / m
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
        start, stop = indptr[u], indptr[u + 1]
        nt = _links(u, indptr, nbrs, weights, unit, comm, to_comm, seen, touched)
        k = degree[u]
        ks = k * scale
        current = comm[u]
        total[current] -= k
        best = current
        best_value = to_comm[current] * inv_m - total[current] * ks
        for t in range(nt):
            c = touched[t]
            value = to_comm[c] * inv_m - total[c] * ks
            if value > best_value:
                best_value = value
                best = c
        if best >= n and not join_outer:
            best = current
        total[best] += k
        for t in range(nt):
            to_comm[touched[t]] = 0.0
            seen[touched[t]] = 0
        if best != current:
            comm[u] = best
            improved = True
            for j in range(start, stop):
                v = nbrs[j]
                if v < n and not queued[v] and comm[v] != best:
                    queued[v] = True
                    tail = head + count
                    queue[tail if tail < n else tail - n] = v
                    count += 1
    return improved


@numba.njit(cache=True, nogil=True, parallel=True)
def move_nodes_concurrently(indptr, nbrs, weights, unit, degree, total, comm, m, resolution,
                            order, join_outer, threads):
    """:func:`move_nodes` on ``threads`` threads: sweeps over ``order`` in which each thread
    moves its share of the nodes, as NetworKit's PLM does (Staudt and Meyerhenke, *Engineering
    parallel algorithms for community detection in massive networks*, IEEE TPDS 27(1), 2016).

    A node is visited in a sweep when a neighbor moved since its last visit (all nodes in the
    first); the sweeps stop when none moves. A thread sees the other's moves as they happen,
    so the partition can differ between runs (not its quality). The community totals a sweep
    updates without locks are recomputed exactly after it (the totals at the start plus the
    degrees that moved in, minus those that moved out). Shares are interleaved blocks of
    ``order``, so hubs at its start are split between threads. Returns whether a node moved.
    """
    n = order.shape[0]
    size = total.shape[0]
    scale = resolution / (2.0 * m * m)
    inv_m = 1.0 / m
    start_comm = comm[:n].copy()
    start_total = total.copy()
    active = np.ones(n, dtype=np.uint8)
    block = 256
    blocks = (n + block - 1) // block
    improved = False
    while True:
        moved = 0
        for t in numba.prange(threads):
            to_comm = np.zeros(size)
            seen = np.zeros(size, dtype=np.uint8)
            touched = np.empty(size + 1, dtype=np.int64)
            for b in range(t, blocks, threads):
                for i in range(b * block, min(n, (b + 1) * block)):
                    u = order[i]
                    if active[u] == 0:
                        continue
                    active[u] = 0
                    begin, end = indptr[u], indptr[u + 1]
                    nt = _links(u, indptr, nbrs, weights, unit, comm, to_comm, seen, touched)
                    k = degree[u]
                    ks = k * scale
                    current = comm[u]
                    best = current
                    best_value = to_comm[current] * inv_m - (total[current] - k) * ks
                    for x in range(nt):
                        c = touched[x]
                        value = to_comm[c] * inv_m - total[c] * ks
                        if c != current and value > best_value:
                            best_value = value
                            best = c
                    if best >= n and not join_outer:
                        best = current
                    for x in range(nt):
                        to_comm[touched[x]] = 0.0
                        seen[touched[x]] = 0
                    if best != current:
                        total[current] -= k
                        total[best] += k
                        comm[u] = best
                        moved += 1
                        for j in range(begin, end):
                            v = nbrs[j]
                            if v < n and comm[v] != best:
                                active[v] = 1
        if moved == 0:
            return improved
        improved = True
        total[:] = start_total
        for u in range(n):
            total[start_comm[u]] -= degree[u]
            total[comm[u]] += degree[u]


#: Below this many adjacency entries, or on one thread, the local moving is one sequential
#: queue (:func:`move_nodes`: the same partition on every run); above, the nodes move on
#: all of Numba's threads (:func:`move_nodes_concurrently`).
PARALLEL_MIN_ENTRIES = 1 << 18


#: Consecutive nodes a shuffled order keeps together on the threads.
ORDER_BLOCK = 256


def local_moving(indptr, nbrs, weights, unit, degree, total, comm, m, resolution, n, rng,
                 join_outer) -> bool:
    """:func:`move_nodes` over the nodes ``0 .. n-1``, or :func:`move_nodes_concurrently` on
    a large graph. They are visited in ascending order without ``rng`` (a numpy Generator),
    else in a random order: a permutation of the nodes, or on the threads a permutation of
    blocks of :data:`ORDER_BLOCK` consecutive nodes (a node's list and its neighbors' are
    then near the previous node's in memory: a quarter less time than single nodes in
    random order, the same modularity)."""
    threads = numba.get_num_threads()
    concurrent = threads > 1 and len(nbrs) >= PARALLEL_MIN_ENTRIES
    if rng is None:
        order = np.arange(n)
    elif concurrent:
        blocks = rng.permutation((n + ORDER_BLOCK - 1) // ORDER_BLOCK)
        order = (blocks[:, None] * ORDER_BLOCK + np.arange(ORDER_BLOCK)).ravel()
        order = order[order < n]
    else:
        order = rng.permutation(n)
    if concurrent:
        return move_nodes_concurrently(indptr, nbrs, weights, unit, degree, total, comm, m,
                                       resolution, order, join_outer, threads)
    return move_nodes(indptr, nbrs, weights, unit, degree, total, comm, m, resolution, order,
                      join_outer)


@numba.njit(cache=True, nogil=True)
def representatives(comm, gids):
    """For every node, the node of smallest global id in its community (the community's
    name in messages)."""
    n = comm.shape[0]
    best = np.full(gids.shape[0], -1, dtype=np.int64)
    for u in range(n):
        c = comm[u]
        if best[c] < 0 or gids[u] < gids[best[c]]:
            best[c] = u
    out = np.empty(n, dtype=np.int64)
    for u in range(n):
        out[u] = best[comm[u]]
    return out


@numba.njit(cache=True, nogil=True)
def label_pieces(out_indptr, out_nbrs, comm, label, ivnum):
    """Give every vertex the smallest ``label`` of its piece: the vertices joined to it by
    edges whose endpoints share a community, by union-find over the inner vertices' lists
    (undirected: an edge between inner vertices is taken at its higher end only)."""
    vnum = label.shape[0]
    parent = np.arange(vnum)
    for u in range(ivnum):
        cu = comm[u]
        for j in range(out_indptr[u], out_indptr[u + 1]):
            v = out_nbrs[j]
            if (v > u and v < ivnum) or comm[v] != cu:
                continue
            a = _find(parent, u)
            b = _find(parent, v)
            if a != b:
                parent[max(a, b)] = min(a, b)
    low = label.copy()
    for x in range(vnum):
        r = _find(parent, x)
        low[r] = min(low[r], label[x])
    for x in range(vnum):
        label[x] = low[_find(parent, x)]


@numba.njit(cache=True, nogil=True)
def aggregate(indptr, nbrs, weights, unit, comm, k):
    """The community graph: row ``c`` (``0 <= c < k``) lists each community ``d`` joined to
    ``c`` once, with the summed weight of the entries ``u -> v`` with ``comm[u] = c`` and
    ``comm[v] = d`` (so an edge inside ``c`` gives ``(c, c)`` twice its weight, the
    convention of :func:`louvain_levels`). ``indptr`` rows are the nodes ``0 .. n-1``;
    ``comm`` may be longer (outer vertices). ``O(E + k)``: members gathered by a counting
    sort, each community's row summed in a dense array, no sort of the entries.
    """
    n = indptr.shape[0] - 1
    first = np.zeros(k + 1, dtype=np.int64)
    for u in range(n):
        first[comm[u] + 1] += 1
    for c in range(k):
        first[c + 1] += first[c]
    members = np.empty(n, dtype=np.int64)
    fill = first[:-1].copy()
    for u in range(n):
        members[fill[comm[u]]] = u
        fill[comm[u]] += 1
    acc = np.zeros(k)
    seen = np.zeros(k, dtype=np.uint8)
    touched = np.empty(k + 1, dtype=np.int64)
    out_ptr = np.zeros(k + 1, dtype=np.int64)
    out_nbrs = np.empty(nbrs.shape[0], dtype=np.int64)
    out_w = np.empty(nbrs.shape[0])
    e = 0
    for c in range(k):
        nt = 0
        for i in range(first[c], first[c + 1]):
            u = members[i]
            for j in range(indptr[u], indptr[u + 1]):
                d = comm[nbrs[j]]
                touched[nt] = d
                nt += 1 - seen[d]
                seen[d] = 1
                acc[d] += 1.0 if unit else weights[j]
        for t in range(nt):
            d = touched[t]
            out_nbrs[e] = d
            out_w[e] = acc[d]
            e += 1
            acc[d] = 0.0
            seen[d] = 0
        out_ptr[c + 1] = e
    return out_ptr, out_nbrs[:e].copy(), out_w[:e].copy()


@numba.njit(cache=True, nogil=True)
def csr_of(src, dst, n):
    """CSR rows of ``n`` nodes from ``(src, dst)`` entries (a stable counting sort): returns
    ``(indptr, dst in row order, the permutation)``."""
    indptr = np.zeros(n + 1, dtype=np.int64)
    for s in src:
        indptr[s + 1] += 1
    for u in range(n):
        indptr[u + 1] += indptr[u]
    fill = indptr[:-1].copy()
    perm = np.empty(src.shape[0], dtype=np.int64)
    for i in range(src.shape[0]):
        perm[fill[src[i]]] = i
        fill[src[i]] += 1
    return indptr, dst[perm], perm


@numba.njit(cache=True, nogil=True)
def self_loop_weight(indptr, nbrs, weights):
    """The summed weight of the entries ``u -> u``."""
    s = 0.0
    for u in range(indptr.shape[0] - 1):
        for j in range(indptr[u], indptr[u + 1]):
            if nbrs[j] == u:
                s += weights[j]
    return s


@numba.njit(cache=True, nogil=True)
def weighted_degrees(indptr, weights, unit):
    """Row sums of the entries' weights."""
    out = np.zeros(indptr.shape[0] - 1)
    for u in range(out.shape[0]):
        if unit:
            out[u] = indptr[u + 1] - indptr[u]
        else:
            s = 0.0
            for j in range(indptr[u], indptr[u + 1]):
                s += weights[j]
            out[u] = s
    return out


@numba.njit(cache=True, nogil=True)
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


def _modularity(indptr: np.ndarray, nbrs: np.ndarray, weights: np.ndarray, m: float,
                resolution: float) -> float:
    """Modularity of the partition whose community graph is ``(indptr, nbrs, weights)``: its
    self-loop entries are the weight inside the communities, its row sums their degrees."""
    totals = weighted_degrees(indptr, weights, False)
    return float(self_loop_weight(indptr, nbrs, weights) / (2 * m)
                 - resolution * ((totals / (2 * m)) ** 2).sum())


def louvain_levels(indptr: np.ndarray, nbrs: np.ndarray, weights: np.ndarray, m: float,
                   resolution: float, threshold: float, rng) -> np.ndarray:
    """Sequential Louvain over a weighted graph given as symmetric CSR rows.

    Every undirected edge is an entry each way (a self loop of weight ``w``: one ``u -> u``
    entry of ``2w``), each neighbor once per row; ``m`` is the total edge weight. Levels of
    :func:`move_nodes` and :func:`aggregate` run until a level improves modularity by at most
    ``threshold`` (networkx's stopping rule). Returns the community index of each node.
    """
    n = len(indptr) - 1
    assign = np.arange(n)
    degree = weighted_degrees(indptr, weights, False)
    mod = _modularity(indptr, nbrs, weights, m, resolution)
    while True:
        comm = np.arange(n)
        if not local_moving(indptr, nbrs, weights, False, degree, degree.copy(), comm, m,
                            resolution, n, rng, False):
            return assign
        _, comm = np.unique(comm, return_inverse=True)
        assign = comm[assign]
        n = int(comm.max()) + 1
        indptr, nbrs, weights = aggregate(indptr, nbrs, weights, False, comm, n)
        degree = weighted_degrees(indptr, weights, False)
        new_mod = _modularity(indptr, nbrs, weights, m, resolution)
        if new_mod - mod <= threshold:
            return assign
        mod = new_mod


def _dense_names(names: np.ndarray, id_space: int) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(names, return_inverse=True)`` for global ids, by a table over the id
    space instead of a sort."""
    present = np.zeros(id_space, dtype=np.bool_)
    present[names] = True
    index = np.cumsum(present) - 1
    return np.flatnonzero(present), index[names]


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
    local-moving phase per fragment over the final communities, now joinable across
    fragments, with their global totals (moves in different fragments are concurrent, so
    totals seen by one fragment ignore the other fragments' moves of this phase); (6) each
    fragment labels the pieces of its communities (union-find over edges inside a community)
    with their smallest global id, and (7+) min-label propagation along those edges ("min"
    sync) joins pieces across fragments: communities are split into connected pieces, which
    only raises modularity, each named by its smallest global id. Community graphs are built
    by :func:`aggregate` (no sort of the entries); the local moving of a large fragment runs
    on all threads (:func:`local_moving`).
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
                   if self.weight else np.empty(0))
        return State(weights=weights, unit=self.weight is None, degree=np.zeros(frag.vnum), comm=frag.gids.copy(),
                     comm_total=np.zeros(frag.vnum),
                     label=frag.gids.copy(), m=0.0, leader=-1, first=None,
                     community_graph=None)

    def peval(self, frag, state, messages) -> None:
        state.degree[:frag.ivnum] = weighted_degrees(frag.out_indptr, state.weights, state.unit)
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
            first = state.first
            moved = final_of[first] >= 0
            state.comm[:iv][moved] = final_of[first[moved]]
            state.comm_total[:iv] = np.where(moved, total_of[first], state.degree[:iv])
            messages.force_continue()
        elif rnd == 5:
            self._refine(frag, state)
            messages.force_continue()
        elif rnd == 6:
            label_pieces(frag.out_indptr, frag.out_nbrs, state.comm, state.label, frag.ivnum)
        else:
            self._split(frag, state, messages.changed("label"))

    def _first_level(self, frag, state) -> None:
        iv = frag.ivnum
        rng = np.random.default_rng([self.seed, frag.fid]) if self.seed is not None else None
        comm = np.arange(frag.vnum)
        local_moving(frag.out_indptr, frag.out_nbrs, state.weights, state.unit, state.degree,
                     state.degree.copy(), comm, state.m, self.resolution, iv, rng, False)
        state.first = representatives(comm[:iv], frag.gids)
        state.comm[:iv] = frag.gids[state.first]

    def _send_community_graph(self, frag, state, messages) -> None:
        names, dense = _dense_names(state.comm, frag.id_space)
        k = len(names)
        indptr, nbrs, weights = aggregate(frag.out_indptr, frag.out_nbrs, state.weights,
                                          state.unit, dense, k)
        messages.force_continue()
        if frag.fnum == 1:  # the leader is here: no messages to pack and merge
            state.community_graph = (names, indptr, nbrs, weights)
            return
        pairs = np.empty((len(nbrs), 3))
        pairs[:, 0] = names[np.repeat(np.arange(k), np.diff(indptr))]
        pairs[:, 1] = names[nbrs]
        pairs[:, 2] = weights
        messages.send(np.full(len(nbrs), state.leader, dtype=np.int64), pairs)

    def _leader_levels(self, frag, state, messages) -> None:
        messages.force_continue()
        if frag.fnum == 1:
            reps, indptr, nbrs, weights = state.community_graph
            state.community_graph = None
        else:
            _, pairs = messages.received()
            if not len(pairs):
                return
            # the first-level communities (named by global ids) as dense indices
            named = pairs[:, :2].astype(np.int64)
            reps, index = _dense_names(named.ravel(), frag.id_space)
            k = len(reps)
            index = index.reshape(-1, 2)
            indptr, nbrs, perm = csr_of(index[:, 0], index[:, 1], k)
            # entries of a pair sent by several fragments are summed
            indptr, nbrs, weights = aggregate(indptr, nbrs, pairs[perm, 2], False,
                                              np.arange(k), k)
        rng = np.random.default_rng(self.seed) if self.seed is not None else None
        assign = louvain_levels(indptr, nbrs, weights, state.m, self.resolution,
                                self.threshold, rng)
        smallest = np.full(int(assign.max()) + 1, np.iinfo(np.int64).max)
        np.minimum.at(smallest, assign, reps)
        totals = np.bincount(assign, weights=weighted_degrees(indptr, weights, False))
        messages.send(reps, np.stack([smallest[assign], totals[assign]], axis=1))

    def _refine(self, frag, state) -> None:
        """One vertex-level moving sweep over the final communities (their global totals)."""
        iv = frag.ivnum
        names, comm = _dense_names(state.comm, frag.id_space)
        total = np.zeros(len(names))
        total[comm] = state.comm_total
        rng = (np.random.default_rng([self.seed, frag.fid, 1]) if self.seed is not None
               else None)
        local_moving(frag.out_indptr, frag.out_nbrs, state.weights, state.unit, state.degree,
                     total, comm, state.m, self.resolution, iv, rng, True)
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
    one fragment this is Louvain followed by one vertex-level moving phase over its final
    communities (NetworKit's PLM with ``refine=True``; on R-MAT graphs it raises modularity
    by about 5%). The result depends on the number of fragments, as the visiting order does
    in networkx. On a fragment of more than ``2^18`` adjacency entries with several Numba
    threads, the vertices of the first level and of the refining phase move on all threads
    at once, as in NetworKit's PLM: the partition can then differ between runs (its
    modularity by a fraction of a percent); with ``numba.set_num_threads(1)`` it is the same
    on every run. Work ``O(E)`` per local-moving sweep; the gathered graph has at most one
    vertex per first-level community.

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
        Seed of the vertex visiting order (``None``: global id order; on the threads,
        blocks of 256 consecutive vertices are shuffled, see :func:`local_moving`).
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
