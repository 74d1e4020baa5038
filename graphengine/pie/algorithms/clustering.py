"""Clustering coefficient (GraphScope ``clustering``, networkx ``clustering``) as a PIE app."""

from __future__ import annotations

import numpy as np

from ...store import Graph
from ..context import Context
from ..executor import run_app
from ._adjacency import row_sums
from .triangles import Triangles


class Clustering(Triangles):
    """Triangle counts (weighted by reciprocity on a directed graph) turned into coefficients."""

    def output(self, frag, state) -> dict[str, np.ndarray]:
        count = state.count[:frag.ivnum].astype(np.float64)
        if frag.directed:
            # Fagiolo: T(v) = 2 * sum over triangles of the product of their edges' mults
            total = row_sums(state.indptr, state.mult.astype(np.int64))
            reciprocal = row_sums(state.indptr, (state.mult == 2).astype(np.int64))
            pairs = 2.0 * (total * (total - 1.0) - 2.0 * reciprocal)
        else:
            degree = np.diff(state.indptr)
            pairs = degree * (degree - 1.0)
        triangles = 2.0 * count  # undirected: each triangle closes two ordered pairs
        coefficient = np.zeros(frag.ivnum)
        has = triangles > 0
        coefficient[has] = triangles[has] / pairs[has]
        return {"r": coefficient}


def clustering(graph: Graph, executor: str = "local") -> Context:
    """Clustering coefficient of every vertex (networkx ``clustering``, unweighted).

    Undirected graph: the fraction of pairs of neighbors that are adjacent,
    ``c_v = 2 T(v) / (d(v) (d(v) - 1))`` (Watts and Strogatz, *Collective dynamics of
    'small-world' networks*, Nature 393, 1998). Directed graph: Fagiolo's coefficient
    (*Clustering in complex directed networks*, Phys. Rev. E 76, 026107, 2007), as in
    networkx: ``c_v = T(v) / (2 (d_tot(v) (d_tot(v) - 1) - 2 d_rec(v)))`` where ``T(v)`` counts
    the directed triangles through ``v``, ``d_tot`` is in-degree + out-degree and ``d_rec``
    the number of reciprocated neighbors. Both on the **underlying simple graph** (parallel
    edges merged, self loops dropped; networkx ignores self loops and refuses multigraphs:
    equal to networkx on ``nx.Graph(G)`` / ``nx.DiGraph(G)``); 0 without triangles. Runs the
    :func:`graphengine.triangles` app, each triangle counted once with the product of its
    edges' directions; work ``O(E^1.5)``.

    Parameters
    ----------
    graph : Graph
        Directed or undirected.
    executor : {"local", "ray"}

    Returns
    -------
    Context
        ``ctx.to_numpy("r")``: float64 coefficients in ``ctx.gids`` order.

    Examples
    --------
    >>> import graphengine
    >>> g = graphengine.session().g(directed=False).add_edges(
    ...     {"src": [1, 1, 2, 3], "dst": [2, 3, 3, 4]})
    >>> graphengine.clustering(g).to_numpy("r").round(3).tolist()
    [1.0, 1.0, 0.333, 0.0]
    """
    return run_app(graph, Clustering(), executor)
