"""Degree centrality (GraphScope ``degree_centrality``, networkx normalization) as a PIE app."""

from __future__ import annotations

import numpy as np

from ...errors import AnalyticsError
from ...store import Graph
from ..app import App, State
from ..context import Context
from ..executor import run_app

CENTRALITY_TYPES = ("both", "in", "out")


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
        if not frag.directed or self.centrality_type == "out":
            degree = frag.out_degree
        elif self.centrality_type == "in":
            degree = frag.in_degree
        else:
            degree = frag.out_degree + frag.in_degree
        state.centrality[:] = degree / (n - 1.0)

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
