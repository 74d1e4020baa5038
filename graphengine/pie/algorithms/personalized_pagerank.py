"""Personalized PageRank from one source (networkx ``pagerank`` with a personalization)."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from ...errors import AnalyticsError
from ...store import Graph
from ..app import App, State
from ..context import Context
from ..executor import run_app
from ..inputs import source_gid
from ._adjacency import matrix_weights, row_sums, weighted_pull
from ._iterative import (
    CONVERGED,
    converged_column,
    ppr_iterations,
    report_convergence,
    threads_for,
)


class PersonalizedPageRank(App):
    """One iteration per round: pull the mirrors' ``x / out_weight`` over in-edges.

    The dangling mass and the change of ``x`` are global sums read in the next round. A graph
    held by one fragment runs the whole iteration in PEval (:func:`ppr_iterations`).
    """

    sync: ClassVar[dict[str, str]] = {"contrib": "copy"}

    def __init__(self, source: int, delta: float = 0.85, max_round: int = 100,
                 tolerance: float = 1e-10):
        if not 0.0 <= delta <= 1.0:
            raise AnalyticsError(f"personalized_pagerank: delta must be in [0, 1], got {delta}")
        if not tolerance > 0:
            raise AnalyticsError(f"personalized_pagerank: tolerance must be > 0, got {tolerance}")
        if max_round < 1:
            raise AnalyticsError(f"personalized_pagerank: max_round must be >= 1,"
                                 f" got {max_round}")
        self.source = source
        self.delta = float(delta)
        self.max_round = int(max_round)
        self.tolerance = float(tolerance)

    def init(self, frag) -> State:
        iv = frag.ivnum
        teleport = np.zeros(iv)
        lid = frag.lids(np.array([self.source]))[0]
        if 0 <= lid < iv:
            teleport[lid] = 1.0
        if frag.directed:  # every entry weighs 1: the row sums are the out-degrees
            out_weight = np.diff(frag.out_indptr).astype(np.float64)
        else:
            out_weight = row_sums(frag.out_indptr,
                                  matrix_weights(frag.out_indptr, frag.out_nbrs, False))
        in_weights = None if frag.fnum == 1 else matrix_weights(frag.in_indptr, frag.in_nbrs,
                                                                frag.directed)
        return State(rank=np.zeros(iv), contrib=np.zeros(frag.vnum), pulled=np.zeros(iv),
                     teleport=teleport, out_weight=out_weight, in_weights=in_weights,
                     source_lid=lid, converged=False, done=False)

    def _publish(self, frag, state, messages) -> None:
        """The contributions of this fragment's ranks and its dangling mass, for the next round."""
        has_out = state.out_weight > 0
        state.contrib[:frag.ivnum][has_out] = state.rank[has_out] / state.out_weight[has_out]
        messages.reduce("dangling", float(state.rank[~has_out].sum()), "sum")
        messages.force_continue()

    def peval(self, frag, state, messages) -> None:
        state.rank[:] = 1.0 / frag.total_vertex_count
        if frag.fnum == 1:  # the whole graph is here: the whole iteration in one kernel
            with threads_for(len(frag.in_nbrs)):
                state.converged = ppr_iterations(
                    frag.in_indptr, frag.in_nbrs, not frag.directed, state.out_weight,
                    state.source_lid, state.rank, self.delta, self.tolerance,
                    self.max_round)
            state.done = True
            return
        self._publish(frag, state, messages)

    def inceval(self, frag, state, messages) -> None:
        if state.done:
            return
        if messages.round > 1:
            state.converged = (messages.reduced("change")
                               < frag.total_vertex_count * self.tolerance)
            if state.converged or messages.round > self.max_round:
                state.done = True
                return
        weighted_pull(frag.in_indptr, frag.in_nbrs, state.in_weights, state.contrib,
                      state.pulled)
        d = self.delta
        rank = d * (state.pulled + messages.reduced("dangling") * state.teleport) \
            + (1.0 - d) * state.teleport
        messages.reduce("change", float(np.abs(rank - state.rank).sum()), "sum")
        state.rank = rank
        self._publish(frag, state, messages)

    def output(self, frag, state) -> dict[str, np.ndarray]:
        return {"r": state.rank.copy(), CONVERGED: converged_column(frag, state.converged)}


def personalized_pagerank(graph: Graph, source, delta: float = 0.85, max_round: int = 100,
                          tolerance: float = 1e-10, executor: str = "local") -> Context:
    """PageRank personalized to one source vertex (networkx ``pagerank(G, personalization=...)``).

    The stationary distribution of a random walk that follows an out-edge with probability
    ``delta`` and jumps back to ``source`` otherwise; a walker on a vertex without out-edges
    jumps to ``source`` (Page et al., *The PageRank citation ranking*, 1999; Haveliwala,
    *Topic-sensitive PageRank*, WWW 2002). Computed as ``networkx.pagerank(G, alpha=delta,
    personalization={source: 1}, max_iter=max_round, tol=tolerance, weight=None)``:
    ``x_0 = 1/n``, ``x_{i+1} = delta (x_i M + dangling(x_i) p) + (1 - delta) p`` with ``M``
    the row-normalized adjacency matrix (parallel edges counted, an undirected self loop once)
    and ``p`` the indicator of ``source``, stopping when ``||x_{i+1} - x_i||_1 < n * tolerance``
    or after ``max_round`` iterations (then the last iterate is returned with a logged
    warning, where networkx raises ``PowerIterationFailedConvergence``). One round per
    iteration, work ``O(V + E)`` each.

    Parameters
    ----------
    graph : Graph
        Directed or undirected.
    source : vertex user id, or ``(label, id)``
        The vertex the walk restarts from.
    delta : float
        Damping factor in ``[0, 1]``.
    max_round : int
        Maximum number of iterations (``>= 1``).
    tolerance : float
        Convergence threshold per vertex (``> 0``).
    executor : {"local", "ray"}

    Returns
    -------
    Context
        ``ctx.to_numpy("r")``: float64 ranks in ``ctx.gids`` order (they sum to 1).

    Raises
    ------
    AnalyticsError
        Unknown source, ``delta`` outside ``[0, 1]``, ``tolerance <= 0`` or ``max_round < 1``.

    Examples
    --------
    >>> import graphengine
    >>> g = graphengine.session().g().add_edges({"src": [1, 2], "dst": [2, 1]})
    >>> graphengine.personalized_pagerank(g, 1).to_numpy("r").round(3).tolist()
    [0.541, 0.459]
    """
    ctx = run_app(graph, PersonalizedPageRank(source_gid(graph, source), delta, max_round,
                                              tolerance), executor)
    return report_convergence(ctx, "personalized_pagerank", max_round)
