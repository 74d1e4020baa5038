"""k-core membership (GraphScope ``k_core``) as a PIE app."""

from __future__ import annotations

import numpy as np

from ...errors import AnalyticsError
from ...store import Graph
from ..context import Context
from ..executor import run_app
from .core_number import CoreNumber


class KCore(CoreNumber):
    """Core numbers, reported as 1 for ``core >= k`` and 0 otherwise."""

    def __init__(self, k: int):
        if not isinstance(k, (int, np.integer)) or isinstance(k, bool) or k < 0:
            raise AnalyticsError(f"k_core: k must be a non-negative integer, got {k!r}")
        self.k = int(k)

    def output(self, frag, state) -> dict[str, np.ndarray]:
        return {"r": (state.core[:frag.ivnum] >= self.k).astype(np.int64)}


def k_core(graph: Graph, k: int, executor: str = "local") -> Context:
    """Whether each vertex is in the ``k``-core: 1 if it is, 0 otherwise (GraphScope ``k_core``).

    The ``k``-core is the maximal subgraph in which every vertex has degree ``>= k`` (Seidman,
    Social Networks 5(3), 1983); a vertex is in it when its core number is ``>= k``
    (networkx ``k_core(G, k).nodes``). Degrees are those of the **underlying simple graph**
    (parallel edges merged, self loops dropped); for a directed graph in-degree + out-degree,
    as in networkx (see :func:`graphengine.core_number`, whose iteration this runs). Work
    ``O(E)`` per round.

    Parameters
    ----------
    graph : Graph
        Directed or undirected.
    k : int
        Minimum degree, ``>= 0`` (every vertex is in the 0-core).
    executor : {"local", "ray"}

    Returns
    -------
    Context
        ``ctx.to_numpy("r")``: int64 0/1 in ``ctx.gids`` order.

    Raises
    ------
    AnalyticsError
        ``k`` is negative or not an integer.

    Examples
    --------
    >>> import graphengine
    >>> g = graphengine.session().g(directed=False).add_edges(
    ...     {"src": [1, 1, 2, 3], "dst": [2, 3, 3, 4]})
    >>> graphengine.k_core(g, 2).to_numpy("r").tolist()
    [1, 1, 1, 0]
    """
    return run_app(graph, KCore(k), executor)
