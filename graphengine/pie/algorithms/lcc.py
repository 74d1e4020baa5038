"""Local clustering coefficient (Graphalytics LCC) as a PIE app."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from ...store import Graph
from ..context import Context
from ..executor import run_app
from .triangles import OPPOSITE, Triangles


class LCC(Triangles):
    """Triangles of the underlying simple graph, each credited to a vertex with the number of
    directed edges between the two others (see :class:`Triangles` for the rounds)."""

    credit: ClassVar[int] = OPPOSITE

    def output(self, frag, state) -> dict[str, np.ndarray]:
        d = np.diff(state.indptr).astype(np.float64)
        links = state.count[:frag.ivnum] * (1 if frag.directed else 2)
        lcc = np.zeros(frag.ivnum)
        has = d >= 2
        lcc[has] = links[has] / (d[has] * (d[has] - 1.0))
        return {"r": lcc}


def lcc(graph: Graph, executor: str = "local") -> Context:
    """Local clustering coefficient of every vertex (Graphalytics LCC).

    Follows the LDBC Graphalytics definition (specification section 2.3.4, after Watts and
    Strogatz, *Collective dynamics of 'small-world' networks*, Nature 393, 1998): the
    neighborhood ``N(v)`` is the set of distinct vertices joined to ``v`` by an edge in either
    direction, ``v`` itself excluded; the coefficient is the number of edges ``u -> w`` with
    ``u, w`` in ``N(v)`` (distinct ordered pairs; an undirected edge counts both ways) divided
    by ``|N(v)| (|N(v)| - 1)``, and 0 when ``|N(v)| < 2``. Parallel edges and self loops do not
    count. On an undirected graph this is the usual ``2 T(v) / (d (d - 1))``. The numerator is
    summed over the triangles ``v, u, w`` of the underlying simple graph (each pair counted
    with the number of directed edges between ``u`` and ``w``), listed once each over the
    degree-ordered orientation by the :func:`graphengine.triangles` app (Schank and Wagner,
    WEA 2005). Work ``O(E^1.5)``, in parallel.

    Parameters
    ----------
    graph : Graph
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
    >>> graphengine.lcc(g).to_numpy("r").round(3).tolist()
    [1.0, 1.0, 0.333, 0.0]
    """
    return run_app(graph, LCC(), executor)
