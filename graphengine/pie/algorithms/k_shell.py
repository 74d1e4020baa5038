"""k-shell membership (GraphScope ``k_shell``) as a PIE app."""

from __future__ import annotations

import numpy as np

from ...errors import AnalyticsError
from ...store import Graph
from ..context import Context
from ..executor import run_app
from .core_number import CoreNumber


class KShell(CoreNumber):
    """Core numbers, reported as 1 for ``core == k`` and 0 otherwise."""

    def __init__(self, k: int):
        if not isinstance(k, (int, np.integer)) or isinstance(k, bool) or k < 0:
            raise AnalyticsError(f"k_shell: k must be a non-negative integer, got {k!r}")
        self.k = int(k)

    def output(self, frag, state) -> dict[str, np.ndarray]:
        return {"r": (state.core[:frag.ivnum] == self.k).astype(np.int64)}


def k_shell(graph: Graph, k: int, executor: str = "local") -> Context:
    """Whether each vertex is in the ``k``-shell: 1 if it is, 0 otherwise (GraphScope ``k_shell``).

    The ``k``-shell is the set of vertices with core number exactly ``k``: in the ``k``-core
    but not in the ``(k+1)``-core (Carmi et al., *A model of Internet topology using k-shell
    decomposition*, PNAS 104(27), 2007; networkx ``k_shell(G, k).nodes``). Degrees are those of
    the **underlying simple graph** (parallel edges merged, self loops dropped); for a directed
    graph in-degree + out-degree, as in networkx (see :func:`graphengine.core_number`, whose
    iteration this runs). Work ``O(E)`` per round.

    Parameters
    ----------
    graph : Graph
        Directed or undirected.
    k : int
        The core number, ``>= 0`` (the 0-shell is the isolated vertices).
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
    >>> graphengine.k_shell(g, 1).to_numpy("r").tolist()
    [0, 0, 0, 1]
    """
    return run_app(graph, KShell(k), executor)
