"""Average clustering coefficient (GraphScope ``avg_clustering``) and its one-value context."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ...errors import AnalyticsError
from ...store import Graph
from ..executor import run_app
from .clustering import Clustering


class ScalarContext:
    """A result that is one number for the whole graph (GraphScope's ``TensorContext``).

    ``ctx.to_numpy("r")`` is a one-element array (GraphScope reads it with
    ``ctx.to_numpy("r", axis=0)[0]``); ``float(ctx)`` and ``ctx.value`` give the number.
    """

    def __init__(self, graph: Graph, value: float):
        self.graph = graph
        self.value = float(value)

    def __float__(self) -> float:
        return self.value

    def __repr__(self) -> str:
        return f"ScalarContext({self.value!r})"

    def to_numpy(self, selector: str = "r", axis: int = 0) -> np.ndarray:
        """``[value]`` for the selector ``"r"`` (``axis`` is accepted for GraphScope's calls)."""
        if selector != "r":
            raise AnalyticsError(f"selector {selector!r}: a one-value result has only 'r'")
        return np.array([self.value])

    def to_dataframe(self, selector: dict[str, str] | None = None) -> pd.DataFrame:
        """A one-row DataFrame, one column per ``{column name: "r"}`` (default ``"result"``)."""
        selector = selector or {"result": "r"}
        return pd.DataFrame({name: self.to_numpy(sel) for name, sel in selector.items()})


def avg_clustering(graph: Graph, executor: str = "local") -> ScalarContext:
    """Average clustering coefficient of the graph (networkx ``average_clustering``).

    The mean of :func:`graphengine.clustering` over all vertices, those with coefficient 0
    included (``count_zeros=True``; Kaiser, *Mean clustering coefficients: the role of
    isolated nodes and leafs on clustering measures for small-world networks*, New J. Phys.
    10, 083042, 2008). Undirected or directed (Fagiolo's coefficient), on the underlying
    simple graph. As in GraphScope the result is a context holding one value; the mean of the
    per-vertex coefficients is taken on the driver. Work ``O(E^1.5)``.

    Parameters
    ----------
    graph : Graph
        Directed or undirected, with at least one vertex.
    executor : {"local", "ray"}

    Returns
    -------
    ScalarContext
        ``ctx.to_numpy("r")[0]`` (or ``float(ctx)``): the average coefficient.

    Raises
    ------
    AnalyticsError
        The graph has no vertex (networkx divides by zero).

    Examples
    --------
    >>> import graphengine
    >>> g = graphengine.session().g(directed=False).add_edges(
    ...     {"src": [1, 1, 2, 3], "dst": [2, 3, 3, 4]})
    >>> round(float(graphengine.avg_clustering(g)), 4)
    0.5833
    """
    if graph.vertex_count == 0:
        raise AnalyticsError("avg_clustering: the graph has no vertex")
    coefficients = run_app(graph, Clustering(), executor).to_numpy("r")
    return ScalarContext(graph, float(coefficients.mean()))
