"""The result of an app run on a distributed graph: its columns stay on the cluster.

Each fragment actor's output (arrays over its inner vertices) is a driver-owned object in its
node's object store; :meth:`DistributedGraph.add_column` hands each actor its own part, and
the columns are gathered to the driver only when read (``to_numpy``, ``to_dataframe``,
``output``).
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np

from ..errors import AnalyticsError
from ..pie.context import Context

if TYPE_CHECKING:
    from .graph import DistributedGraph


class DistributedContext(Context):
    """A :class:`~graphengine.pie.Context` whose columns are gathered on first read."""

    def __init__(self, graph: DistributedGraph, refs: list, dtypes: dict[str, np.dtype],
                 result: str = "r"):
        self.graph = graph
        self.refs = refs
        self.dtypes = dict(dtypes)
        self.result = result
        #: per round: ``seconds`` (wall, on the driver), ``nbytes`` (bundles sent between
        #: fragments), ``slowest_step`` (seconds of the slowest fragment's step)
        self.stats: dict = {"rounds": []}

    def __len__(self) -> int:
        return self.graph.vertex_count

    def __repr__(self) -> str:
        return (f"DistributedContext({len(self)} vertices on {len(self.refs)} fragments,"
                f" columns {list(self.dtypes)})")

    def column_name(self, selector: str) -> str:
        """The output column a ``r`` / ``r.<name>`` selector names."""
        name = self.result if selector == "r" else selector[2:]
        if name not in self.dtypes:
            raise AnalyticsError(f"selector {selector!r}: the result has columns"
                                 f" {list(self.dtypes)}")
        return name

    @property
    def _order(self) -> tuple[np.ndarray, np.ndarray | None]:
        return self.graph.result_order

    @cached_property
    def gids(self) -> np.ndarray:  # type: ignore[override]
        """Global ids of all vertices, ascending (the order of every column)."""
        return self._order[0]

    @cached_property
    def columns(self) -> dict[str, np.ndarray]:  # type: ignore[override]
        """Every output column over all vertices, gathered from the actors."""
        outputs = self.graph.cluster.get(self.refs)
        order = self._order[1]
        columns = {}
        for name in self.dtypes:
            col = np.concatenate([np.asarray(o[name]) for o in outputs])
            columns[name] = col if order is None else col[order]
        return columns
