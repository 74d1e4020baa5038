"""The result of an app: columns over all vertices, read with GraphScope-style selectors.

Selectors (as in GraphScope's ``VertexDataContext``):

* ``"r"``: the app's result column; ``"r.<name>"``: another column the app produced;
* ``"v.id"``: the user-visible vertex id; ``"v.label"``: the vertex label name;
* ``"v.<property>"`` / ``"v.data"``: a vertex property of the analyzed graph (``v.data``
  needs the vertices to have exactly one non-id property).

Values are over all vertices in ascending global id order (``ctx.gids``, which is
``graph.all_gids()`` of the analyzed graph).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import AnalyticsError
from ..store import Graph


class Context:
    """Columns of an app's result over all vertices (ascending global id)."""

    def __init__(self, graph: Graph, gids: np.ndarray, columns: Mapping[str, np.ndarray],
                 result: str = "r"):
        self.graph = graph
        self.gids: np.ndarray = gids
        self.columns = dict(columns)
        self.result = result
        #: how the run went, set by the executor: ``app``, ``executor``, ``fragments``,
        #: ``seconds`` and ``rounds`` (per round: ``seconds``, ``slowest_step``, ``sent`` values
        #: and ``nbytes`` between fragments)
        self.stats: dict = {}

    def __len__(self) -> int:
        return len(self.gids)

    def __repr__(self) -> str:
        return f"Context({len(self)} vertices, columns {list(self.columns)})"

    def to_numpy(self, selector: str = "r") -> np.ndarray:
        """The values a selector names, over all vertices in ``ctx.gids`` order."""
        if selector == "r":
            return self.columns[self.result]
        if selector.startswith("r."):
            name = selector[2:]
            if name not in self.columns:
                raise AnalyticsError(f"selector {selector!r}: the result has columns"
                                     f" {list(self.columns)}")
            return self.columns[name]
        if selector == "v.id":
            ids = self.graph.vertex_ids(self.gids)
            return np.asarray(ids) if ids else np.zeros(0, dtype=np.int64)
        if selector == "v.label":
            names = np.asarray(self.graph.vertex_labels, dtype=object)
            return names[self.graph.vertex_label_of(self.gids)]
        if selector.startswith("v."):
            return self._vertex_property(selector[2:])
        raise AnalyticsError(f"unknown selector {selector!r}: use 'r', 'r.<column>', 'v.id',"
                             f" 'v.label', 'v.data' or 'v.<property>'")

    def _vertex_property(self, name: str) -> np.ndarray:
        if name == "data":
            props = {p for v in self.graph.schema.vertex_labels for p in v.schema.names
                     if p != "id"}
            if len(props) != 1:
                raise AnalyticsError(f"selector 'v.data' needs exactly one vertex property,"
                                     f" the graph has {sorted(props)}")
            name = props.pop()
        try:
            return self.graph.vertex_property(name)[self.gids]
        except Exception as e:  # the store raises SchemaError for unknown properties
            raise AnalyticsError(f"selector 'v.{name}': {e}") from e

    def to_dataframe(self, selector: Mapping[str, str] | None = None) -> pd.DataFrame:
        """A DataFrame with one column per ``{column name: selector}`` (default id and result)."""
        selector = selector or {"id": "v.id", "result": "r"}
        return pd.DataFrame({name: self.to_numpy(sel) for name, sel in selector.items()})

    def output(self, path: str | Path, selector: str = "r") -> None:
        """Write ``id,value`` CSV rows (with that header) for every vertex."""
        self.to_dataframe({"id": "v.id", "value": selector}).to_csv(path, index=False)
