"""Eigenvector centrality (networkx ``eigenvector_centrality``) as a PIE app."""

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
    eigenvector_iterations,
    report_convergence,
    threads_for,
)


class EigenvectorCentrality(App):
    """Power iteration with ``A^T + I``, two rounds per iteration.

    Odd rounds multiply (pulling the mirrors' ``x`` over in-edges) and sum the squares;
    even rounds normalize by the global norm, measure the change and publish ``x``. A graph
    held by one fragment runs the whole iteration in PEval (:func:`eigenvector_iterations`).
    """

    sync: ClassVar[dict[str, str]] = {"x": "copy"}

    def __init__(self, tolerance: float = 1e-6, max_round: int = 100):
        if not tolerance > 0:
            raise AnalyticsError(f"eigenvector_centrality: tolerance must be > 0, got {tolerance}")
        if max_round < 1:
            raise AnalyticsError(f"eigenvector_centrality: max_round must be >= 1,"
                                 f" got {max_round}")
        self.tolerance = float(tolerance)
        self.max_round = int(max_round)

    def check(self, graph: Graph) -> None:
        if graph.vertex_count == 0:
            raise AnalyticsError("eigenvector_centrality: the graph has no vertex")

    def init(self, frag) -> State:
        weights = None if frag.fnum == 1 else matrix_weights(frag.in_indptr, frag.in_nbrs,
                                                             frag.directed)
        return State(x=np.zeros(frag.vnum), y=np.zeros(frag.ivnum), weights=weights,
                     converged=False, done=False)

    def peval(self, frag, state, messages) -> None:
        state.x[:frag.ivnum] = 1.0 / frag.total_vertex_count
        if frag.fnum == 1:  # the whole graph is here: the whole iteration in one kernel
            with threads_for(len(frag.in_nbrs)):
                state.converged = eigenvector_iterations(frag.in_indptr, frag.in_nbrs,
                                                         not frag.directed, state.x,
                                                         self.tolerance, self.max_round)
            state.done = True
            return
        messages.force_continue()

    def inceval(self, frag, state, messages) -> None:
        if state.done:
            return
        iteration, normalize = divmod(messages.round + 1, 2)
        iv = frag.ivnum
        if normalize:
            norm = math.sqrt(messages.reduced("sumsq")) or 1.0
            x = state.y / norm
            messages.reduce("change", float(np.abs(x - state.x[:iv]).sum()), "sum")
            state.x[:iv] = x
            messages.force_continue()
            return
        if iteration > 1:
            state.converged = (messages.reduced("change")
                               < frag.total_vertex_count * self.tolerance)
            if state.converged or iteration > self.max_round:
                state.done = True
                return
        weighted_pull(frag.in_indptr, frag.in_nbrs, state.weights, state.x, state.y)
        state.y += state.x[:iv]
        messages.reduce("sumsq", float(np.dot(state.y, state.y)), "sum")
        messages.force_continue()

    def output(self, frag, state) -> dict[str, np.ndarray]:
        return {"r": state.x[:frag.ivnum].copy(), CONVERGED: converged_column(frag, state.converged)}


def eigenvector_centrality(graph: Graph, tolerance: float = 1e-6, max_round: int = 100,
                           executor: str = "local") -> Context:
    """Eigenvector centrality of every vertex (networkx ``eigenvector_centrality``).

    The centrality ``x`` is the principal left eigenvector of the adjacency matrix,
    ``x_v = 1/lambda * sum_{u -> v} A[u, v] x_u`` (Bonacich, *Technique for analyzing
    overlapping memberships*, Sociological Methodology 4, 1972): for a directed graph the
    in-edges count, as in networkx. Computed by networkx's power iteration: ``x_0 = 1/n``,
    ``x_{i+1} = (A^T + I) x_i / ||(A^T + I) x_i||_2``, stopping when
    ``||x_{i+1} - x_i||_1 < n * tolerance`` or after ``max_round`` iterations (then the last
    iterate is returned with a logged warning, where networkx raises
    ``PowerIterationFailedConvergence``). ``A[u, v]`` counts parallel edges and an undirected
    self loop once (``networkx.to_scipy_sparse_array``; networkx's own function refuses
    multigraphs and equals this on a graph whose ``weight`` is the edge multiplicity). Two
    rounds per iteration, work ``O(V + E)`` each.

    Parameters
    ----------
    graph : Graph
        Directed or undirected, with at least one vertex.
    tolerance : float
        Convergence threshold per vertex (``> 0``).
    max_round : int
        Maximum number of iterations (``>= 1``).
    executor : {"local", "ray"}

    Returns
    -------
    Context
        ``ctx.to_numpy("r")``: float64 centralities in ``ctx.gids`` order (Euclidean norm 1).

    Raises
    ------
    AnalyticsError
        Empty graph, ``tolerance <= 0`` or ``max_round < 1``.

    Examples
    --------
    >>> import graphengine
    >>> g = graphengine.session().g(directed=False).add_edges({"src": [1, 2], "dst": [2, 3]})
    >>> graphengine.eigenvector_centrality(g).to_numpy("r").round(3).tolist()
    [0.5, 0.707, 0.5]
    """
    ctx = run_app(graph, EigenvectorCentrality(tolerance, max_round), executor)
    return report_convergence(ctx, "eigenvector_centrality", max_round)
