"""Katz centrality (networkx ``katz_centrality``, GraphScope ``katz_centrality``) as a PIE app."""

from __future__ import annotations

import math
from typing import ClassVar

import numpy as np

from ...errors import AnalyticsError
from ...store import Graph
from ..app import App, State
from ..context import Context
from ..executor import run_app
from ._adjacency import matrix_weights, weighted_pull
from ._iterative import (
    CONVERGED,
    converged_column,
    katz_iterations,
    report_convergence,
    threads_for,
)


class KatzCentrality(App):
    """One iteration per round: pull the mirrors' ``x`` over in-edges, publish the new ``x``.

    A graph held by one fragment runs the whole iteration in PEval (:func:`katz_iterations`).
    """

    sync: ClassVar[dict[str, str]] = {"x": "copy"}

    def __init__(self, alpha: float = 0.1, beta: float = 1.0, tolerance: float = 1e-6,
                 max_round: int = 100, normalized: bool = True):
        if not tolerance > 0:
            raise AnalyticsError(f"katz_centrality: tolerance must be > 0, got {tolerance}")
        if max_round < 1:
            raise AnalyticsError(f"katz_centrality: max_round must be >= 1, got {max_round}")
        self.alpha = float(alpha)
        self.beta = float(beta)
        self.tolerance = float(tolerance)
        self.max_round = int(max_round)
        self.normalized = bool(normalized)

    def init(self, frag) -> State:
        weights = None if frag.fnum == 1 else matrix_weights(frag.in_indptr, frag.in_nbrs,
                                                             frag.directed)
        return State(x=np.zeros(frag.vnum), pulled=np.zeros(frag.ivnum), weights=weights,
                     scale=1.0, converged=False, done=False)

    def _iterate(self, frag, state, messages) -> None:
        """``x <- alpha A^T x + beta``; the change and the squared norm go to global sums."""
        iv = frag.ivnum
        weighted_pull(frag.in_indptr, frag.in_nbrs, state.weights, state.x, state.pulled)
        x = self.alpha * state.pulled + self.beta
        messages.reduce("change", float(np.abs(x - state.x[:iv]).sum()), "sum")
        messages.reduce("sumsq", float(np.dot(x, x)), "sum")
        state.x[:iv] = x
        messages.force_continue()

    def peval(self, frag, state, messages) -> None:
        if frag.fnum == 1:  # the whole graph is here: the whole iteration in one kernel
            with threads_for(len(frag.in_nbrs)):
                state.converged, norm = katz_iterations(
                    frag.in_indptr, frag.in_nbrs, not frag.directed, state.x, self.alpha,
                    self.beta, self.tolerance, self.max_round)
            state.scale = 1.0 / norm if self.normalized and norm > 0 else 1.0
            state.done = True
            return
        self._iterate(frag, state, messages)

    def inceval(self, frag, state, messages) -> None:
        if state.done:
            return
        state.converged = messages.reduced("change") < frag.total_vertex_count * self.tolerance
        if state.converged or messages.round >= self.max_round:
            state.done = True
            norm = math.sqrt(messages.reduced("sumsq"))
            state.scale = 1.0 / norm if self.normalized and norm > 0 else 1.0
            return
        self._iterate(frag, state, messages)

    def output(self, frag, state) -> dict[str, np.ndarray]:
        return {"r": state.x[:frag.ivnum] * state.scale,
                CONVERGED: converged_column(frag, state.converged)}


def katz_centrality(graph: Graph, alpha: float = 0.1, beta: float = 1.0,
                    tolerance: float = 1e-6, max_round: int = 100, normalized: bool = True,
                    executor: str = "local") -> Context:
    """Katz centrality of every vertex (networkx ``katz_centrality``).

    ``x_v = alpha * sum_{u -> v} A[u, v] x_u + beta`` (Katz, *A new status index derived from
    sociometric analysis*, Psychometrika 18(1), 1953): for a directed graph the in-edges count,
    as in networkx. Computed by networkx's iteration: ``x_0 = 0``,
    ``x_{i+1} = alpha A^T x_i + beta``, stopping when ``||x_{i+1} - x_i||_1 < n * tolerance``
    or after ``max_round`` iterations (then the last iterate is returned with a logged
    warning, where networkx raises ``PowerIterationFailedConvergence``); ``normalized``
    divides by the Euclidean norm. It converges when ``alpha`` is below ``1 / lambda_max``.
    ``A[u, v]`` counts parallel edges and an undirected self loop once
    (``networkx.to_scipy_sparse_array``; networkx's own function refuses multigraphs and
    equals this on a graph whose ``weight`` is the edge multiplicity). One round per
    iteration, work ``O(V + E)`` each.

    Parameters
    ----------
    graph : Graph
        Directed or undirected.
    alpha : float
        Attenuation factor.
    beta : float
        Weight of every vertex's immediate neighborhood (the same for all vertices).
    tolerance : float
        Convergence threshold per vertex (``> 0``).
    max_round : int
        Maximum number of iterations (``>= 1``).
    normalized : bool
        Scale the result to Euclidean norm 1.
    executor : {"local", "ray"}

    Returns
    -------
    Context
        ``ctx.to_numpy("r")``: float64 centralities in ``ctx.gids`` order.

    Raises
    ------
    AnalyticsError
        ``tolerance <= 0`` or ``max_round < 1``.

    Examples
    --------
    >>> import graphengine
    >>> g = graphengine.session().g().add_edges({"src": [1, 2], "dst": [2, 3]})
    >>> graphengine.katz_centrality(g, normalized=False).to_numpy("r").round(3).tolist()
    [1.0, 1.1, 1.11]
    """
    ctx = run_app(graph, KatzCentrality(alpha, beta, tolerance, max_round, normalized), executor)
    return report_convergence(ctx, "katz_centrality", max_round)
