"""Degree centrality (GraphScope ``degree_centrality``, networkx normalization) as a PIE app."""

from __future__ import annotations

import numba
import numpy as np

from ...errors import AnalyticsError
from ...store import Graph
from ..app import App, State
from ..context import Context
from ..executor import run_app
from ._iterative import threads_for

CENTRALITY_TYPES = ("both", "in", "out")


@numba.njit(cache=True, nogil=True, parallel=True)
def scaled_degrees(first_indptr, second_indptr, both, scale, out):
    """``out[v] = scale * (degree in the first CSR [+ degree in the second])``, in one pass."""
    for v in numba.prange(out.shape[0]):
        d = first_indptr[v + 1] - first_indptr[v]
        if both:
            d += second_indptr[v + 1] - second_indptr[v]
        out[v] = d * scale


class DegreeCentrality(App):
    """Each fragment divides its inner vertices' degrees by ``n - 1``; no messages."""

    def __init__(self, centrality_type: str = "both"):
        if centrality_type not in CENTRALITY_TYPES:
            raise AnalyticsError(f"degree_centrality: centrality_type must be one of"
                                 f" {CENTRALITY_TYPES}, got {centrality_type!r}")
        self.centrality_type = centrality_type

    def init(self, frag) -> State:
        return State(centrality=np.zeros(frag.ivnum))

    def peval(self, frag, state, messages) -> None:
        n = frag.total_vertex_count
        if n <= 1:  # networkx: the single vertex of a one-vertex graph has centrality 1
            state.centrality[:] = 1.0
            return
        first, second = frag.out_indptr, frag.in_indptr
        if frag.directed and self.centrality_type == "in":
            first = frag.in_indptr
        both = frag.directed and self.centrality_type == "both"
        with threads_for(8 * frag.ivnum):  # a pass over the offsets: one thread below 32k vertices
            scaled_degrees(first, second, both, 1.0 / (n - 1.0), state.centrality)

    def inceval(self, frag, state, messages) -> None:
        pass

    def output(self, frag, state) -> dict[str, np.ndarray]:
        return {"r": state.centrality}


def degree_centrality(graph: Graph, centrality_type: str = "both",
                      executor: str = "local") -> Context:
    """Degree centrality of every vertex: its degree divided by ``n - 1``.

    Follows ``networkx.degree_centrality`` / ``in_degree_centrality`` /
    ``out_degree_centrality`` (Freeman, *Centrality in social networks conceptual
    clarification*, Social Networks 1(3), 1979), called as GraphScope's ``degree_centrality``.
    Degrees count parallel edges; an undirected self loop adds 2 to its vertex's degree and a
    directed one 1 to the in- and 1 to the out-degree (networkx ``G.degree`` of a
    multigraph). A graph with one vertex gives it centrality 1. Work ``O(V)``, one round.

    Parameters
    ----------
    graph : Graph
    centrality_type : {"both", "in", "out"}
        For a directed graph: in-degree + out-degree, in-degree or out-degree. An undirected
        graph has one degree, used for all three.
    executor : {"local", "ray"}

    Returns
    -------
    Context
        ``ctx.to_numpy("r")``: float64 centralities in ``ctx.gids`` order.

    Raises
    ------
    AnalyticsError
        Unknown ``centrality_type``.

    Examples
    --------
    >>> import graphengine
    >>> g = graphengine.session().g().add_edges({"src": [1, 1], "dst": [2, 3]})
    >>> graphengine.degree_centrality(g, "out").to_numpy("r").tolist()
    [1.0, 0.0, 0.0]
    """
    return run_app(graph, DegreeCentrality(centrality_type), executor)
