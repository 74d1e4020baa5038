"""Vertex property columns as torch tensors: features, labels and masks of one vertex label.

A numeric column of one Arrow chunk becomes a tensor **without a copy**
(``torch.from_dlpack`` on the Arrow buffer); a ``fixed_size_list`` column becomes a 2-D
``(n, d)`` view of its flat child buffer (the layout of
:func:`graphengine.datasets.feature_matrix`). Three cases copy, because Arrow's layout
differs from torch's: several scalar columns stacked into one feature matrix (``pagerank``,
``core`` ... side by side), boolean columns (Arrow packs bits), and columns with nulls or
split over several chunks (a graph of several fragments or blocks).

Rows follow :meth:`graphengine.Graph.vertex_table`: row ``i`` is the ``i``-th global id of the
label, ascending. :class:`RowMap` translates global ids (what the samplers return) to rows.
Tensors share memory with the graph's buffers: treat them as read-only.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import torch
from torch import Tensor

from ..errors import SchemaError, UnknownVertexError
from ..store.graph import Graph

log = logging.getLogger(__name__)

Columns = str | Sequence[str]


@dataclass(frozen=True)
class RowMap:
    """Global ids -> rows of one vertex label's table (a subtraction when the ids are dense)."""

    label: str
    gids: np.ndarray  # ascending global ids of the label: row i holds gids[i]
    start: int  # first gid when the gids are the dense range [start, start + n), else -1

    @classmethod
    def of(cls, g: Graph, label: str) -> RowMap:
        gids = g.vertex_gids(label)
        dense = len(gids) == 0 or int(gids[-1]) - int(gids[0]) + 1 == len(gids)
        return cls(label, gids, int(gids[0]) if dense and len(gids) else (0 if dense else -1))

    def __len__(self) -> int:
        return len(self.gids)

    def rows(self, gids: Tensor | np.ndarray, check: bool = True) -> Tensor:
        """Rows of ``gids`` (int64 tensor); raises :class:`UnknownVertexError` when ``check``
        and a gid is not a vertex of the label."""
        ids = torch.as_tensor(gids, dtype=torch.long)
        if self.start >= 0:
            rows = ids - self.start
            if check and len(rows) and (int(rows.min()) < 0 or int(rows.max()) >= len(self)):
                bad = ids[(rows < 0) | (rows >= len(self))][:5].tolist()
                raise UnknownVertexError(f"global ids {bad} are not vertices of label"
                                         f" {self.label!r} (its ids: {self.start}.."
                                         f"{self.start + len(self) - 1})")
            return rows
        sorted_gids = torch.from_numpy(self.gids)
        rows = torch.searchsorted(sorted_gids, ids).clamp_(max=max(len(self) - 1, 0))
        if check and len(rows) and not bool((sorted_gids[rows] == ids).all()):
            bad = ids[sorted_gids[rows] != ids][:5].tolist()
            raise UnknownVertexError(f"global ids {bad} are not vertices of label {self.label!r}")
        return rows

    def gids_of(self, rows: Tensor) -> Tensor:
        """Global ids of rows."""
        if self.start >= 0:
            return rows + self.start
        return torch.from_numpy(self.gids)[rows]


def column_tensor(g: Graph, name: str, label: str | None = None) -> Tensor:
    """One vertex property column as a tensor over the label's rows.

    Numeric columns (and ``fixed_size_list`` columns, as ``(n, d)``) of one chunk without nulls
    are zero-copy views of the Arrow buffer; booleans, nulls (filled with ``-1`` for integers,
    NaN for floats) and several chunks copy.

    Raises:
        SchemaError: unknown label or column, or a column type torch cannot hold.
    """
    label = vertex_label(g, label)
    table = g.vertex_table(label)
    if name not in table.column_names:
        raise SchemaError(f"vertex label {label!r} has no property {name!r}"
                          f" (it has {[c for c in table.column_names if c != 'id']})")
    column = table.column(name)
    array = column.chunk(0) if column.num_chunks == 1 else column.combine_chunks()
    if column.num_chunks > 1:
        log.debug("column %r of %r spans %d chunks: copied", name, label, column.num_chunks)
    return _array_tensor(array, f"{label}.{name}")


def _array_tensor(array: pa.Array, what: str) -> Tensor:
    if pa.types.is_fixed_size_list(array.type):
        if array.null_count:
            raise SchemaError(f"feature column {what} has null rows")
        d = array.type.list_size
        return _array_tensor(array.flatten(), what).view(-1, d)
    kind = array.type
    if pa.types.is_boolean(kind):
        return torch.from_numpy(array.fill_null(False).to_numpy(zero_copy_only=False))
    if not (pa.types.is_integer(kind) or pa.types.is_floating(kind)):
        raise SchemaError(f"column {what} has type {kind}: not numeric")
    if array.null_count:
        fill = float("nan") if pa.types.is_floating(kind) else -1
        return torch.from_numpy(array.fill_null(fill).to_numpy(zero_copy_only=False).copy())
    if len(array) == 0:
        return torch.from_numpy(array.to_numpy(zero_copy_only=False).copy())
    return torch.from_dlpack(array)


def feature_tensor(g: Graph, features: Columns, label: str | None = None,
                   standardize: bool = False) -> Tensor:
    """The float32 ``(n, d)`` feature matrix of one vertex label.

    ``features`` names one column (a ``fixed_size_list`` column is returned as a zero-copy
    view when already float32 and ``standardize`` is off) or several columns, stacked side by
    side into a new matrix (scalar columns such as ``pagerank`` and ``core`` become one
    feature each; this copies). ``standardize`` rescales each feature to mean 0, std 1
    (a copy), which scalar analytics columns such as PageRank need before a GNN uses them.
    """
    names = [features] if isinstance(features, str) else list(features)
    if not names:
        raise SchemaError("features: at least one column is needed")
    parts = []
    for name in names:
        t = column_tensor(g, name, label)
        parts.append(t.unsqueeze(1) if t.dim() == 1 else t)
    if len(parts) == 1 and parts[0].dtype == torch.float32 and not standardize:
        return parts[0]
    x = torch.cat([p.to(torch.float32) for p in parts], dim=1)
    if standardize:
        std = x.std(dim=0, unbiased=False)
        x = (x - x.mean(dim=0)) / torch.where(std > 0, std, torch.ones_like(std))
    return x


def vertex_label(g: Graph, label: str | None) -> str:
    """``label`` checked against the graph, or the graph's only vertex label."""
    if label is None:
        if len(g.vertex_labels) != 1:
            raise SchemaError(f"the graph has vertex labels {g.vertex_labels}: name one")
        return g.vertex_labels[0]
    if label not in g.vertex_labels:
        raise SchemaError(f"unknown vertex label {label!r} (the graph has {g.vertex_labels})")
    return label


@dataclass
class NodeFeatures:
    """Features, targets and other columns of one vertex label, as tensors over its rows.

    Attributes:
        rows: the global id -> row map of the label.
        x: the ``(n, d)`` float32 feature matrix, or None.
        y: the target column (long for class labels), or None.
        extra: other requested columns (masks ...), by name.
    """

    rows: RowMap
    x: Tensor | None = None
    y: Tensor | None = None
    extra: dict[str, Tensor] = field(default_factory=dict)

    @classmethod
    def of(cls, g: Graph, label: str | None = None, features: Columns | None = "feat",
           labels: str | None = "label", columns: Sequence[str] = (),
           standardize: bool = False) -> NodeFeatures:
        """The tensors of one vertex label (see :func:`feature_tensor`, :func:`column_tensor`)."""
        label = vertex_label(g, label)
        x = feature_tensor(g, features, label, standardize) if features is not None else None
        y = column_tensor(g, labels, label) if labels is not None else None
        if y is not None and not y.is_floating_point():
            y = y.long()
        extra = {name: column_tensor(g, name, label) for name in columns}
        return cls(RowMap.of(g, label), x, y, extra)

    def tensors(self) -> dict[str, Tensor]:
        """Every tensor by its PyG attribute name (``x``, ``y``, then the extra columns)."""
        out = {k: v for k, v in (("x", self.x), ("y", self.y)) if v is not None}
        out.update(self.extra)
        return out


def masks(g: Graph, names: Sequence[str], label: str | None = None) -> dict[str, Tensor]:
    """Boolean masks over the label's rows from boolean (or 0/1) columns."""
    return {name: column_tensor(g, name, label).bool() for name in names}
