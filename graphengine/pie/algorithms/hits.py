"""Hubs and authorities (HITS; GraphScope ``hits``, networkx ``hits``) as a PIE app."""

from __future__ import annotations

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
    hits_iterations,
    report_convergence,
    threads_for,
)


def _scaled(values: np.ndarray, divisor: float) -> np.ndarray:
    """``values / divisor``, or ``values`` when the divisor is 0 (a graph without edges)."""
    return values / divisor if divisor > 0 else values.copy()


class HITS(App):
    """Power iteration, three rounds per iteration (each needs the previous one's global max).

    1. ``a = A^T h`` pulling the mirrors' hubs over in-edges; publish ``a``; global ``max a``.
    2. ``h = A a`` pulling the mirrors' authorities over out-edges; global ``max h``.
    3. Scale both by their maxima; the change of ``h`` and the sums go to global sums; publish
       ``h``. The next round 1 stops when the change is below the tolerance.

    A graph held by one fragment runs the whole iteration in PEval (:func:`hits_iterations`).
    """

    sync: ClassVar[dict[str, str]] = {"hub": "copy", "auth": "copy"}
    result: ClassVar[str] = "hub"

    def __init__(self, tolerance: float = 0.01, max_round: int = 100, normalized: bool = True):
        if not tolerance > 0:
            raise AnalyticsError(f"hits: tolerance must be > 0, got {tolerance}")
        if max_round < 1:
            raise AnalyticsError(f"hits: max_round must be >= 1, got {max_round}")
        self.tolerance = float(tolerance)
        self.max_round = int(max_round)
        self.normalized = bool(normalized)

    def init(self, frag) -> State:
        iv = frag.ivnum
        return State(hub=np.zeros(frag.vnum), auth=np.zeros(frag.vnum),
                     hub_unscaled=np.zeros(iv), auth_final=np.zeros(iv),
                     in_weights=None if frag.fnum == 1 else matrix_weights(
                         frag.in_indptr, frag.in_nbrs, frag.directed),
                     out_weights=None if frag.fnum == 1 else matrix_weights(
                         frag.out_indptr, frag.out_nbrs, frag.directed),
                     auth_max=0.0, hub_sum=0.0, auth_sum=0.0, converged=False, done=False)

    def peval(self, frag, state, messages) -> None:
        if frag.total_vertex_count:
            state.hub[:frag.ivnum] = 1.0 / frag.total_vertex_count
        if frag.fnum == 1:  # the whole graph is here: the whole iteration in one kernel
            with threads_for(len(frag.in_nbrs)):
                state.converged = hits_iterations(
                    frag.in_indptr, frag.in_nbrs, frag.out_indptr, frag.out_nbrs,
                    not frag.directed, state.hub, state.auth, self.tolerance, self.max_round)
            state.auth_final = state.auth
            state.hub_sum, state.auth_sum = float(state.hub.sum()), float(state.auth.sum())
            state.done = True
            return
        messages.force_continue()

    def inceval(self, frag, state, messages) -> None:
        if state.done:
            return
        iteration, phase = divmod(messages.round - 1, 3)
        iv = frag.ivnum
        if phase == 0:
            if iteration > 0:
                state.converged = messages.reduced("change") < self.tolerance
                state.hub_sum = messages.reduced("hub_sum")
                state.auth_sum = messages.reduced("auth_sum")
                if state.converged or iteration >= self.max_round:
                    state.done = True
                    return
            weighted_pull(frag.in_indptr, frag.in_nbrs, state.in_weights, state.hub,
                          state.auth[:iv])
            messages.reduce("auth_max", float(state.auth[:iv].max(initial=0.0)), "max")
        elif phase == 1:
            state.auth_max = messages.reduced("auth_max")
            weighted_pull(frag.out_indptr, frag.out_nbrs, state.out_weights, state.auth,
                          state.hub_unscaled)
            messages.reduce("hub_max", float(state.hub_unscaled.max(initial=0.0)), "max")
        else:
            hub = _scaled(state.hub_unscaled, messages.reduced("hub_max"))
            state.auth_final = _scaled(state.auth[:iv], state.auth_max)
            messages.reduce("change", float(np.abs(hub - state.hub[:iv]).sum()), "sum")
            messages.reduce("hub_sum", float(hub.sum()), "sum")
            messages.reduce("auth_sum", float(state.auth_final.sum()), "sum")
            state.hub[:iv] = hub
        messages.force_continue()

    def output(self, frag, state) -> dict[str, np.ndarray]:
        hub, auth = state.hub[:frag.ivnum].copy(), state.auth_final
        if self.normalized:
            hub, auth = _scaled(hub, state.hub_sum), _scaled(auth, state.auth_sum)
        return {"hub": hub, "auth": auth, CONVERGED: converged_column(frag, state.converged)}


def hits(graph: Graph, tolerance: float = 0.01, max_round: int = 100, normalized: bool = True,
         executor: str = "local") -> Context:
    """Hub and authority scores of every vertex (HITS; GraphScope ``hits``).

    Kleinberg's definition (*Authoritative sources in a hyperlinked environment*, JACM 46(5),
    1999): authorities ``a = A^T h``, hubs ``h = A a``. Computed by the power iteration of
    networkx's pure-Python HITS (``networkx.algorithms.link_analysis.hits_alg._hits_python``;
    the default ``tolerance`` is GraphScope's): ``h_0 = 1/n``; each iteration computes
    ``a = A^T h``, ``h = A a`` and scales each to maximum 1, stopping when
    ``||h_{i+1} - h_i||_1 < tolerance`` (not scaled by ``n``) or after ``max_round``
    iterations (then the last iterate is returned with a logged warning); ``normalized``
    scales both to sum 1. ``networkx.hits`` computes the same fixed point with a sparse SVD;
    a small ``tolerance`` gives its values. ``A[u, v]`` counts parallel edges and an
    undirected self loop once (``networkx.adjacency_matrix``). On a graph without edges all
    scores are 0. Three rounds per iteration, work ``O(V + E)`` each.

    Parameters
    ----------
    graph : Graph
        Directed or undirected (then hubs equal authorities).
    tolerance : float
        Convergence threshold on the L1 change of the hubs (``> 0``).
    max_round : int
        Maximum number of iterations (``>= 1``).
    normalized : bool
        Scale hubs and authorities to sum 1.
    executor : {"local", "ray"}

    Returns
    -------
    Context
        Columns ``"hub"`` (also ``"r"``) and ``"auth"``, float64 in ``ctx.gids`` order:
        ``ctx.to_numpy("r.hub")``, ``ctx.to_numpy("r.auth")``.

    Raises
    ------
    AnalyticsError
        ``tolerance <= 0`` or ``max_round < 1``.

    Examples
    --------
    >>> import graphengine
    >>> g = graphengine.session().g().add_edges({"src": [1, 1], "dst": [2, 3]})
    >>> ctx = graphengine.hits(g)
    >>> ctx.to_numpy("r.hub").tolist(), ctx.to_numpy("r.auth").tolist()
    ([1.0, 0.0, 0.0], [0.0, 0.5, 0.5])
    """
    ctx = run_app(graph, HITS(tolerance, max_round, normalized), executor)
    return report_convergence(ctx, "hits", max_round)
