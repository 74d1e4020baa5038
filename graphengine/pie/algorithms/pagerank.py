"""PageRank (Graphalytics PR) as a PIE app."""

from __future__ import annotations

from typing import ClassVar

import numba
import numpy as np

from ...errors import AnalyticsError
from ...store import Graph
from ..app import App, State
from ..context import Context
from ..executor import run_app


@numba.njit(cache=True, nogil=True, parallel=True)
def pull_ranks(in_indptr, in_nbrs, contrib, rank, base):
    """``rank[v] = base + sum(contrib[u] for u in in-neighbors of v)`` for inner vertices."""
    for v in numba.prange(rank.shape[0]):
        s = 0.0
        for j in range(in_indptr[v], in_indptr[v + 1]):
            s += contrib[in_nbrs[j]]
        rank[v] = base + s


#: Fragments with fewer inner vertices publish in the calling thread (a parallel region costs
#: more than this much work when the cores are shared, e.g. by several fragments' steps).
SERIAL_VERTICES = 1 << 19


@numba.njit(cache=True, nogil=True, parallel=True)
def publish_contributions(rank, scale, contrib):
    """``contrib[v] = rank[v] * scale[v]`` for inner vertices; returns the rank mass of the
    dangling ones (``scale[v] == 0``: no out-edge)."""
    dangling = 0.0
    for v in numba.prange(rank.shape[0]):
        s = scale[v]
        if s == 0.0:
            dangling += rank[v]
            contrib[v] = 0.0
        else:
            contrib[v] = rank[v] * s
    return dangling


@numba.njit(cache=True, nogil=True)
def publish_contributions_serial(rank, scale, contrib):
    """:func:`publish_contributions` in the calling thread."""
    dangling = 0.0
    for v in range(rank.shape[0]):
        s = scale[v]
        if s == 0.0:
            dangling += rank[v]
            contrib[v] = 0.0
        else:
            contrib[v] = rank[v] * s
    return dangling


class PageRank(App):
    """Fixed-iteration PageRank, pulling ``delta * rank / out_degree`` over in-edges."""

    sync: ClassVar[dict[str, str]] = {"contrib": "copy"}

    def __init__(self, delta: float = 0.85, max_round: int = 10):
        if not 0.0 <= delta <= 1.0:
            raise AnalyticsError(f"pagerank: delta must be in [0, 1], got {delta}")
        if max_round < 0:
            raise AnalyticsError(f"pagerank: max_round must be >= 0, got {max_round}")
        self.delta = float(delta)
        self.max_round = int(max_round)

    def init(self, frag) -> State:
        deg = frag.out_degree.astype(np.float64)
        # delta / out-degree, 0 for a dangling vertex (a vertex with out-edges never gets 0:
        # delta = 0 makes every contribution 0 anyway)
        scale = np.zeros(frag.ivnum)
        np.divide(self.delta, deg, out=scale, where=deg > 0)
        if self.delta == 0.0:
            scale[:] = 0.0
        return State(rank=np.zeros(frag.ivnum), contrib=np.zeros(frag.vnum), scale=scale,
                     dangling_mask=deg == 0)

    def _publish(self, frag, state, messages) -> None:
        """Contributions of this fragment's ranks for the next iteration."""
        if self.delta == 0.0:
            dangling = float(state.rank[state.dangling_mask].sum())
            state.contrib[:frag.ivnum] = 0.0
        elif frag.ivnum < SERIAL_VERTICES:
            dangling = publish_contributions_serial(state.rank, state.scale, state.contrib)
        else:
            dangling = publish_contributions(state.rank, state.scale, state.contrib)
        messages.reduce("dangling", float(dangling), "sum")
        messages.force_continue()

    def peval(self, frag, state, messages) -> None:
        state.rank[:] = 1.0 / frag.total_vertex_count if frag.total_vertex_count else 0.0
        if self.max_round > 0:
            self._publish(frag, state, messages)

    def inceval(self, frag, state, messages) -> None:
        n = frag.total_vertex_count
        if messages.round > self.max_round or n == 0:
            return
        base = (1.0 - self.delta) / n + self.delta * messages.reduced("dangling", 0.0) / n
        pull_ranks(frag.in_indptr, frag.in_nbrs, state.contrib, state.rank, base)
        if messages.round < self.max_round:
            self._publish(frag, state, messages)

    def output(self, frag, state) -> dict[str, np.ndarray]:
        return {"r": state.rank.copy()}


def pagerank(graph: Graph, delta: float = 0.85, max_round: int = 10,
             executor: str = "local") -> Context:
    """PageRank of every vertex after ``max_round`` iterations (Graphalytics PR).

    Follows the LDBC Graphalytics definition (specification section 2.3.2; Iosup et al.,
    PVLDB 9(13), 2016): ``PR_0(v) = 1/N`` and

    ``PR_i(v) = (1 - d)/N + d * sum_{u -> v} PR_{i-1}(u) / out(u) + d/N * sum_{w dangling} PR_{i-1}(w)``

    where ``d`` is ``delta``, ``out(u)`` the out-degree (parallel edges counted; an undirected
    edge is an edge each way, a self loop of an undirected graph counts twice) and dangling
    vertices have no out-edge; exactly ``max_round`` iterations, no convergence test. Each
    round pulls the mirrors' contributions ("copy" sync) and sums the dangling mass with a
    global aggregate. Work ``O(V + E)`` per iteration.

    Parameters
    ----------
    graph : Graph
    delta : float
        Damping factor in ``[0, 1]``.
    max_round : int
        Number of iterations.
    executor : {"local", "ray"}

    Returns
    -------
    Context
        ``ctx.to_numpy("r")``: float64 ranks in ``ctx.gids`` order (they sum to 1).

    Examples
    --------
    >>> import graphengine
    >>> g = graphengine.session().g().add_edges({"src": [1, 2], "dst": [2, 1]})
    >>> graphengine.pagerank(g).to_numpy("r").round(3).tolist()
    [0.5, 0.5]
    """
    return run_app(graph, PageRank(delta, max_round), executor)
