"""Betweenness centrality (Brandes, level-synchronous multi-source waves) as a PIE app."""

from __future__ import annotations

import math
import random

import numba
import numpy as np

from ...errors import AnalyticsError
from ...store import Graph
from ..app import App, State
from ..context import Context
from ..executor import run_app

#: Sources whose shortest-path DAGs are built together (one column each).
SOURCES_PER_WAVE = 64
#: Message tags: path counts / dependencies for a vertex, or a source's reached-vertex count.
FLOW, REACH = 0.0, 1.0


@numba.njit(cache=True, nogil=True)
def simple_adjacency(indptr, nbrs, ivnum):
    """Distinct neighbor lids of each inner vertex, self loops dropped (networkx's ``G[v]``)."""
    out_ptr = np.zeros(ivnum + 1, dtype=np.int64)
    out = np.empty(nbrs.shape[0], dtype=np.int64)
    k = 0
    for u in range(ivnum):
        row = np.sort(nbrs[indptr[u]:indptr[u + 1]])
        for j in range(row.shape[0]):
            if row[j] != u and (j == 0 or row[j] != row[j - 1]):
                out[k] = row[j]
                k += 1
        out_ptr[u + 1] = k
    return out_ptr, out[:k].copy()


@numba.njit(cache=True, nogil=True)
def brandes_sources(indptr, nbrs, sources, first, step, endpoints, bc):
    """Add to ``bc`` the dependencies of ``sources[first::step]`` (Brandes, sequential).

    A BFS from each source counts shortest paths (``sigma``) and lists, in BFS order, each
    vertex's successors in the shortest-path DAG (the out-neighbors one level deeper); the
    backward pass reads those lists in reverse: ``delta[v] = sigma[v] * sum coef[w]`` with
    ``coef[w] = (1 + delta[w]) / sigma[w]`` kept per vertex, so a DAG edge costs one addition
    and no in-edges or predecessor lists are needed.
    """
    n = indptr.shape[0] - 1
    dist = np.full(n, -1, dtype=np.int32)
    sigma = np.zeros(n)
    coef = np.zeros(n)
    order = np.empty(n, dtype=np.int32)
    succ = np.empty(nbrs.shape[0], dtype=nbrs.dtype)
    sptr = np.empty(n + 1, dtype=np.int64)
    for i in range(first, sources.shape[0], step):
        s = sources[i]
        dist[s] = 0
        sigma[s] = 1.0
        order[0] = s
        head = 0
        tail = 1
        k = 0
        while head < tail:
            v = order[head]
            sptr[head] = k
            head += 1
            dv = dist[v] + 1
            sv = sigma[v]
            for j in range(indptr[v], indptr[v + 1]):
                w = nbrs[j]
                dw = dist[w]
                if dw < 0:
                    dist[w] = dv
                    order[tail] = w
                    tail += 1
                    sigma[w] = sv
                    succ[k] = w
                    k += 1
                elif dw == dv:
                    sigma[w] += sv
                    succ[k] = w
                    k += 1
        sptr[tail] = k
        for t in range(tail - 1, -1, -1):
            v = order[t]
            d = 0.0
            for j in range(sptr[t], sptr[t + 1]):
                d += coef[succ[j]]
            dlt = d * sigma[v]
            coef[v] = (1.0 + dlt) / sigma[v]
            if v != s:
                bc[v] += dlt + 1.0 if endpoints else dlt
        if endpoints:
            bc[s] += tail - 1
        for t in range(tail):  # reset what this source touched
            dist[order[t]] = -1


@numba.njit(cache=True, nogil=True, parallel=True)
def brandes(indptr, nbrs, sources, endpoints, chunks):
    """Brandes' dependency accumulation from every source over a whole graph (one fragment).

    ``indptr``/``nbrs``: the simple out-adjacency of all vertices; ``sources``: lids. The
    sources are dealt to ``chunks`` interleaved chunks run in parallel, each with its own BFS
    arrays and its own betweenness row (summed at the end), so threads never share a write.
    Returns the raw (unscaled) betweenness, as networkx's ``_accumulate_basic`` /
    ``_accumulate_endpoints`` sum it.
    """
    n = indptr.shape[0] - 1
    parts = np.zeros((chunks, n))
    for c in numba.prange(chunks):
        brandes_sources(indptr, nbrs, sources, c, chunks, endpoints, parts[c])
    return parts.sum(axis=0)


@numba.njit(cache=True, nogil=True)
def settle_level(flow, dist, sigma, level, ivnum):
    """Inner vertices first reached at ``level`` take the path counts that arrived for them.

    Counts for vertices reached earlier are dropped; the inbox is cleared. Returns how many
    (vertex, source) pairs are at ``level``.
    """
    settled = 0
    for v in range(ivnum):
        for s in range(dist.shape[1]):
            c = flow[v, s]
            if c != 0.0:
                flow[v, s] = 0.0
                if dist[v, s] < 0:
                    dist[v, s] = level
                    sigma[v, s] = c
                    settled += 1
    return settled


@numba.njit(cache=True, nogil=True)
def push_path_counts(out_indptr, out_nbrs, dist, sigma, flow, level, ivnum):
    """Vertices at ``level`` add their path counts to their out-neighbors not reached yet."""
    for u in range(ivnum):
        for s in range(dist.shape[1]):
            if dist[u, s] != level:
                continue
            for j in range(out_indptr[u], out_indptr[u + 1]):
                v = out_nbrs[j]
                if v >= ivnum or dist[v, s] < 0:
                    flow[v, s] += sigma[u, s]


@numba.njit(cache=True, nogil=True)
def settle_dependencies(flow, dist, sigma, delta, bc, level, endpoints, ivnum):
    """Vertices at ``level`` compute ``delta = sigma * sum (1 + delta_w) / sigma_w`` and add it."""
    for v in range(ivnum):
        for s in range(dist.shape[1]):
            if dist[v, s] == level:
                delta[v, s] = sigma[v, s] * flow[v, s]
                bc[v] += delta[v, s] + (1.0 if endpoints else 0.0)
            flow[v, s] = 0.0


@numba.njit(cache=True, nogil=True)
def push_dependencies(in_indptr, in_nbrs, dist, sigma, delta, flow, level, ivnum):
    """Vertices at ``level`` send ``(1 + delta) / sigma`` to their in-neighbors one level up."""
    for v in range(ivnum):
        for s in range(dist.shape[1]):
            if dist[v, s] != level:
                continue
            c = (1.0 + delta[v, s]) / sigma[v, s]
            for j in range(in_indptr[v], in_indptr[v + 1]):
                w = in_nbrs[j]
                if w >= ivnum or dist[w, s] == level - 1:
                    flow[w, s] += c


class BetweennessCentrality(App):
    """Brandes' accumulation over waves of sources, one BFS level per round.

    Per wave: forward rounds settle one level of every source's BFS DAG; path counts pushed to
    outer vertices travel to their owners as explicit messages (vertices reached earlier drop
    them). When a round settled nothing anywhere (global aggregate), backward rounds walk the
    levels down, dependencies travelling over in-edges the same way. With ``endpoints``, each
    source's owner also receives how many vertices each fragment reached from it. A message is
    a row of ``SOURCES_PER_WAVE`` values plus a tag column (:data:`FLOW` or :data:`REACH`).
    A graph held by one fragment skips the rounds: PEval runs :func:`brandes` over it, the
    sources spread over the threads.
    """

    def __init__(self, sources: np.ndarray, normalized: bool = True, endpoints: bool = False,
                 sampled: bool = False):
        self.sources = np.ascontiguousarray(sources, dtype=np.int64)
        self.normalized = bool(normalized)
        self.endpoints = bool(endpoints)
        self.sampled = bool(sampled)

    def init(self, frag) -> State:
        out_indptr, out_nbrs = simple_adjacency(frag.out_indptr, frag.out_nbrs, frag.ivnum)
        if frag.fnum == 1:  # the whole graph is here: PEval runs Brandes' algorithm over it
            narrow = np.int32 if frag.vnum < 2**31 else np.int64  # half the memory traffic
            return State(out_indptr=out_indptr, out_nbrs=out_nbrs.astype(narrow),
                         bc=np.zeros(frag.ivnum), phase="done")
        if frag.directed:
            in_indptr, in_nbrs = simple_adjacency(frag.in_indptr, frag.in_nbrs, frag.ivnum)
        else:
            in_indptr, in_nbrs = out_indptr, out_nbrs
        w = SOURCES_PER_WAVE
        return State(out_indptr=out_indptr, out_nbrs=out_nbrs, in_indptr=in_indptr,
                     in_nbrs=in_nbrs, dist=np.full((frag.ivnum, w), -1, dtype=np.int64),
                     sigma=np.zeros((frag.ivnum, w)), delta=np.zeros((frag.ivnum, w)),
                     flow=np.zeros((frag.vnum, w)), bc=np.zeros(frag.ivnum),
                     wave=0, level=0, phase="forward")

    def peval(self, frag, state, messages) -> None:
        if frag.fnum == 1:
            chunks = max(1, min(len(self.sources), 4 * numba.get_num_threads()))
            state.bc[:] = brandes(state.out_indptr, state.out_nbrs, frag.lids(self.sources),
                                  self.endpoints, chunks)
            return
        self._start_wave(frag, state, messages)

    def inceval(self, frag, state, messages) -> None:
        lids, rows = messages.received()
        if len(lids):
            flow = rows[:, -1] == FLOW
            np.add.at(state.flow, lids[flow], rows[flow, :-1])
            reach = rows[~flow, :-1].sum(axis=1)
            np.add.at(state.bc, lids[~flow], reach)
        if state.phase == "forward":
            if messages.reduced("settled", 1) > 0:
                state.level += 1
                self._forward(frag, state, messages)
                return
            # the last level settled nothing: walk back from the deepest one
            state.phase = "backward"
            state.level -= 1
            if self.endpoints:
                self._send_reach(frag, state, messages)
        if state.phase == "backward":
            if state.level >= 1:
                settle_dependencies(state.flow, state.dist, state.sigma, state.delta,
                                    state.bc, state.level, self.endpoints, frag.ivnum)
            if state.level > 1:
                push_dependencies(state.in_indptr, state.in_nbrs, state.dist, state.sigma,
                                  state.delta, state.flow, state.level, frag.ivnum)
                self._send_flow(frag, state, messages)
                state.level -= 1
                messages.force_continue()
            else:
                state.wave += 1
                self._start_wave(frag, state, messages)

    def _start_wave(self, frag, state, messages) -> None:
        first = state.wave * SOURCES_PER_WAVE
        if first >= len(self.sources):
            state.phase = "done"
            return
        wave = self.sources[first:first + SOURCES_PER_WAVE]
        state.dist[:] = -1
        state.delta[:] = 0.0
        lids = frag.lids(wave)
        cols = np.flatnonzero((lids >= 0) & (lids < frag.ivnum))
        state.flow[lids[cols], cols] = 1.0
        state.phase = "forward"
        state.level = 0
        self._forward(frag, state, messages)

    def _forward(self, frag, state, messages) -> None:
        settled = settle_level(state.flow, state.dist, state.sigma, state.level, frag.ivnum)
        push_path_counts(state.out_indptr, state.out_nbrs, state.dist, state.sigma,
                         state.flow, state.level, frag.ivnum)
        self._send_flow(frag, state, messages)
        messages.reduce("settled", settled, "sum")
        messages.force_continue()

    @staticmethod
    def _send_flow(frag, state, messages) -> None:
        """Ship what the pushes left on outer vertices to their owners."""
        iv = frag.ivnum
        outer = iv + np.flatnonzero(state.flow[iv:].any(axis=1))
        rows = np.empty((len(outer), SOURCES_PER_WAVE + 1))
        rows[:, :-1] = state.flow[outer]
        rows[:, -1] = FLOW
        messages.send(frag.gids[outer], rows)
        state.flow[outer] = 0.0

    def _send_reach(self, frag, state, messages) -> None:
        """Tell each source's owner how many vertices here it reached (itself excluded)."""
        first = state.wave * SOURCES_PER_WAVE
        wave = self.sources[first:first + SOURCES_PER_WAVE]
        reached = (state.dist[:, :len(wave)] > 0).sum(axis=0)
        some = np.flatnonzero(reached)
        rows = np.zeros((len(some), SOURCES_PER_WAVE + 1))
        rows[np.arange(len(some)), some] = reached[some]
        rows[:, -1] = REACH
        messages.send(wave[some], rows)

    def output(self, frag, state) -> dict[str, np.ndarray]:
        bc = state.bc.copy()
        n = frag.total_vertex_count
        k = len(self.sources) if self.sampled else None
        scale = _scales(n, self.normalized, frag.directed, self.endpoints, k)
        if scale is None:
            return {"r": bc}
        scale_source, scale_other = scale
        is_source = np.isin(frag.gids[:frag.ivnum], self.sources)
        return {"r": bc * np.where(is_source, scale_source, scale_other)}


def _scales(n: int, normalized: bool, directed: bool, endpoints: bool,
            k: int | None) -> tuple[float, float] | None:
    """networkx's rescaling: (factor for sampled sources, factor for the other vertices)."""
    pairs_n = n if endpoints else n - 1
    if pairs_n < 2:
        return None
    k_source = pairs_n if k is None else k
    correction = 1 if directed else 2
    if k is None or endpoints:
        scale = 1 / (k_source * (pairs_n - 1)) if normalized else pairs_n / (k_source * correction)
        return scale, scale
    if normalized:
        scale_source = 1 / ((k_source - 1) * (pairs_n - 1)) if k_source > 1 else math.nan
        return scale_source, 1 / (k_source * (pairs_n - 1))
    scale_source = pairs_n / ((k_source - 1) * correction) if k_source > 1 else math.nan
    return scale_source, pairs_n / (k_source * correction)


def betweenness_centrality(graph: Graph, k: int | None = None, normalized: bool = True,
                           endpoints: bool = False, seed=None, executor: str = "local") -> Context:
    """Shortest-path betweenness centrality of every vertex, as ``networkx.betweenness_centrality``.

    ``c_B(v) = sum_{s != v != t} sigma(s, t | v) / sigma(s, t)``, the fraction of shortest
    ``s``-``t`` paths through ``v`` (Freeman, *A set of measures of centrality based on
    betweenness*, Sociometry 40, 1977), computed with Brandes' dependency accumulation
    (Brandes, *A faster algorithm for betweenness centrality*, J. Math. Sociol. 25, 2001;
    endpoints variant from Brandes, *On variants of shortest-path betweenness centrality and
    their generic computation*, Social Networks 30, 2008). Paths are unweighted and counted on
    the simple graph, as networkx does for multigraphs: parallel edges count once and self
    loops are ignored. Normalization and the rescaling of sampled sources are networkx's.

    Sources are processed in waves of :data:`SOURCES_PER_WAVE`; one round settles one BFS
    level of every source in the wave (path counts for outer vertices go to their owners as explicit messages), then
    one round per level walks the dependencies back (the same way), each phase end
    detected with a global sum aggregate. ``O(k / 64 * (V + E) * 64)`` work in
    ``O(k / 64 * D)`` rounds for diameter ``D``; memory ``O(64 V)`` per fragment. On one
    fragment, Brandes' sequential algorithm runs instead, one BFS per source, the sources
    spread over the threads: ``O(k (V + E))`` work, ``O(threads V)`` memory.

    Parameters
    ----------
    graph : Graph
        Directed or undirected; edge weights are ignored (networkx's ``weight=None``).
    k : int or None
        Number of sampled sources; ``None`` (or the vertex count) for all vertices, exactly.
        The sources are ``random.Random(seed).sample(vertices, k)`` with the vertices in
        ``ctx.gids`` order, so a networkx graph whose nodes were added in that order samples
        the same sources.
    normalized : bool
        Divide by the number of source-target pairs (else scale to the full, and for an
        undirected graph unordered, pair count).
    endpoints : bool
        Count the path endpoints as on the path.
    seed : int, random.Random or None
        Seed of the source sample.
    executor : {"local", "ray"}

    Returns
    -------
    Context
        ``ctx.to_numpy("r")``: float64 betweenness in ``ctx.gids`` order.

    Raises
    ------
    AnalyticsError
        ``k`` is below 1 or above the vertex count.

    Examples
    --------
    >>> import graphengine
    >>> g = graphengine.session().g(directed=False).add_edges({"src": [1, 2], "dst": [2, 3]})
    >>> graphengine.betweenness_centrality(g).to_numpy("r").tolist()
    [0.0, 1.0, 0.0]
    """
    gids = graph.all_gids()
    n = len(gids)
    if k is not None and not 1 <= k <= n:
        raise AnalyticsError(f"betweenness_centrality: k must be in [1, {n}], got {k}")
    if k is None or k == n:
        sources, sampled = gids, False
    else:
        rng = seed if isinstance(seed, random.Random) else random.Random(seed)
        sources, sampled = gids[rng.sample(range(n), k)], True
    return run_app(graph, BetweennessCentrality(sources, normalized, endpoints, sampled), executor)
