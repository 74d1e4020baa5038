"""graphengine as a PyG remote backend: :class:`FeatureStore` and :class:`GraphStore`.

``to_pyg(g)`` returns the pair PyG's loaders take as ``data=(feature_store, graph_store)``, so
PyG's own ``NodeLoader`` / ``LinkLoader`` run on a graphengine graph with
:class:`graphengine.sampling.GraphSampler` as their sampler (no pyg-lib or torch-sparse)::

    fs, gs = to_pyg(g)
    loader = NodeLoader((fs, gs), GraphSampler(g, [10, 5]), input_nodes=seeds, batch_size=64)

Indices are those of the sampler: global ids for a graph of one vertex label, per-label rows
(``0 .. n_label - 1``, the order of :meth:`Graph.vertex_table`) for heterogeneous graphs, as in
PyG's ``HeteroData``. With one vertex and one edge label the stores are homogeneous
(``group_name`` / ``edge_type`` ``None``); otherwise node types are vertex labels and edge
types ``(src label, edge label, dst label)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor
from torch_geometric.data import EdgeAttr, FeatureStore, GraphStore, TensorAttr
from torch_geometric.data.graph_store import EdgeLayout
from torch_geometric.index import index2ptr
from torch_geometric.typing import EdgeType

from ..errors import SchemaError
from ..store.graph import Graph
from .features import Columns, NodeFeatures, RowMap, vertex_label


def edge_coo(g: Graph, edge_label: str, direction: str = "in") -> tuple[np.ndarray, ...]:
    """``(src gids, dst gids, eids)`` of every stored adjacency entry of ``edge_label``.

    Messages flow ``src -> dst``: with ``direction="in"`` a vertex receives from its
    in-neighbors (PyG's ``flow="source_to_target"``), with ``"out"`` from its out-neighbors.
    Undirected graphs list each edge in both directions. The arrays are new (a copy).
    """
    if edge_label not in g.edge_labels:
        raise SchemaError(f"unknown edge label {edge_label!r} (the graph has {g.edge_labels})")
    if direction not in ("in", "out"):
        raise SchemaError(f"direction must be 'in' or 'out', got {direction!r}")
    srcs, dsts, eids = [], [], []
    for frag in g.fragments:
        topo = frag.topology.get(edge_label)
        if topo is None:
            continue
        indptr, nbrs, e = topo.arrays(direction)
        keys = frag.inner_gids[np.repeat(np.arange(len(indptr) - 1), np.diff(indptr))]
        srcs.append(nbrs if direction == "in" else keys)
        dsts.append(keys if direction == "in" else nbrs)
        eids.append(e.astype(np.int64))
    if not srcs:
        z = np.zeros(0, dtype=np.int64)
        return z, z, z
    return tuple(np.concatenate(a).astype(np.int64, copy=False) for a in (srcs, dsts, eids))


def is_homogeneous(g: Graph) -> bool:
    """One vertex label and at most one edge label: PyG's ``Data`` rather than ``HeteroData``."""
    return len(g.vertex_labels) == 1 and len(g.edge_labels) <= 1


class GraphFeatureStore(FeatureStore):
    """PyG's :class:`~torch_geometric.data.FeatureStore` over a graph's vertex columns.

    Each vertex label is a group; its attributes are ``x`` (the ``features`` columns), ``y``
    (the ``labels`` column) and any other ``columns`` under their own names. Tensors are
    zero-copy views where :mod:`graphengine.gnn.features` allows. ``put_tensor`` keeps new
    tensors in memory beside the graph's (the graph itself is immutable).
    """

    def __init__(self, g: Graph, features: Columns | None = "feat", labels: str | None = "label",
                 columns: Sequence[str] = (), standardize: bool = False):
        super().__init__()
        self.graph = g
        self.homogeneous = is_homogeneous(g)
        self.nodes: dict[str, NodeFeatures] = {}
        for label in g.vertex_labels:
            names = set(g.schema.vertex_label(label).schema.names)
            feats = features if features is not None and _has(names, features) else None
            if len(g.vertex_labels) == 1 and features is not None and feats is None:
                feats = features  # let NodeFeatures name the missing column
            self.nodes[label] = NodeFeatures.of(
                g, label, feats, labels if labels in names or self.homogeneous else None,
                [c for c in columns if c in names or self.homogeneous], standardize)
        self._tensors: dict[tuple[str, str], Tensor] = {
            (label, name): t for label, nf in self.nodes.items() for name, t in nf.tensors().items()}

    def _label(self, group_name: str | None) -> str:
        if group_name is None:
            return vertex_label(self.graph, None)
        if group_name not in self.nodes:
            raise SchemaError(f"unknown vertex label {group_name!r} (the graph has"
                              f" {list(self.nodes)})")
        return group_name

    def index_rows(self, label: str, index: Tensor) -> Tensor:
        """Rows of the sampler's indices: global ids (homogeneous) or per-label rows."""
        if self.homogeneous:
            return self.nodes[label].rows.rows(index)
        return torch.as_tensor(index, dtype=torch.long)

    def _get_tensor(self, attr: TensorAttr) -> Tensor | None:
        label = self._label(attr.group_name)
        tensor = self._tensors.get((label, attr.attr_name))
        if tensor is None:
            return None
        if attr.index is None:
            return tensor
        if isinstance(attr.index, slice):
            return tensor[attr.index]
        return tensor[self.index_rows(label, attr.index)]

    def _put_tensor(self, tensor: Tensor, attr: TensorAttr) -> bool:
        label = self._label(attr.group_name)
        if attr.index is not None:
            raise SchemaError("put_tensor: only whole tensors (index=None) can be stored")
        if len(tensor) != len(self.nodes[label].rows):
            raise SchemaError(f"put_tensor: {len(tensor)} rows for {len(self.nodes[label].rows)}"
                              f" vertices of {label!r}")
        self._tensors[(label, attr.attr_name)] = torch.as_tensor(tensor)
        return True

    def _remove_tensor(self, attr: TensorAttr) -> bool:
        return self._tensors.pop((self._label(attr.group_name), attr.attr_name), None) is not None

    def _get_tensor_size(self, attr: TensorAttr) -> tuple[int, ...] | None:
        tensor = self._tensors.get((self._label(attr.group_name), attr.attr_name))
        return None if tensor is None else tuple(tensor.shape)

    def get_all_tensor_attrs(self) -> list[TensorAttr]:
        return [TensorAttr(None if self.homogeneous else label, name)
                for label, name in self._tensors]

    def __repr__(self) -> str:
        return f"GraphFeatureStore({sorted(self._tensors)})"


def _has(names: set[str], features: Columns) -> bool:
    return all(f in names for f in ([features] if isinstance(features, str) else features))


@dataclass(frozen=True)
class _Relation:
    edge_label: str
    src: str
    dst: str


class GraphGraphStore(GraphStore):
    """PyG's :class:`~torch_geometric.data.GraphStore` over a graph's adjacency.

    Each edge label and (src label, dst label) relation is an edge type, stored as CSC
    (``(row, colptr)``: sources of the in-edges of each destination). For one fragment and one
    vertex label whose ids run ``0 .. n-1`` the CSC is a zero-copy view of the fragment's
    in-edge arrays; otherwise it is assembled once per edge type. COO and CSR are derived
    by PyG's conversions. Edge indices are read-only (``put_edge_index`` raises).
    """

    def __init__(self, g: Graph):
        super().__init__()
        self.graph = g
        self.homogeneous = is_homogeneous(g)
        self._rows = {label: RowMap.of(g, label) for label in g.vertex_labels}
        self._relations: dict[EdgeType | None, _Relation] = {}
        for el in g.schema.edge_labels:
            for src, dst in el.relations:
                key = None if self.homogeneous else (src, el.name, dst)
                self._relations[key] = _Relation(el.name, src, dst)
        self._csc: dict[EdgeType | None, tuple[Tensor, Tensor, Tensor]] = {}

    def edge_types(self) -> list[EdgeType | None]:
        """The edge types (``[None]`` for a homogeneous graph)."""
        return list(self._relations)

    def csc_with_eids(self, edge_type: EdgeType | None = None) -> tuple[Tensor, Tensor, Tensor]:
        """``(row, colptr, eid)``: CSC of one edge type in the sampler's index space."""
        if edge_type not in self._relations:
            raise SchemaError(f"unknown edge type {edge_type!r} (the graph has"
                              f" {self.edge_types()})")
        if edge_type not in self._csc:
            self._csc[edge_type] = self._build_csc(self._relations[edge_type])
        return self._csc[edge_type]

    def _build_csc(self, rel: _Relation) -> tuple[Tensor, Tensor, Tensor]:
        g = self.graph
        src_rows, dst_rows = self._rows[rel.src], self._rows[rel.dst]
        if self.homogeneous and g.fnum == 1 and dst_rows.start == 0:
            topo = g.fragments[0].topology[rel.edge_label]
            if len(topo.in_indptr) - 1 == len(dst_rows):
                return tuple(torch.from_dlpack(a) for a in
                             (topo.in_nbrs, topo.in_indptr, topo.in_eids))
        src, dst, eid = edge_coo(g, rel.edge_label, "in")
        if len(g.vertex_labels) > 1:
            keep = (np.isin(src, src_rows.gids, assume_unique=False)
                    & np.isin(dst, dst_rows.gids, assume_unique=False))
            src, dst, eid = src[keep], dst[keep], eid[keep]
        if self.homogeneous:
            row, col = torch.from_numpy(src), torch.from_numpy(dst)
        else:
            row, col = src_rows.rows(src, check=False), dst_rows.rows(dst, check=False)
        n_dst = len(dst_rows) if not self.homogeneous else g.id_space
        order = torch.argsort(col * max(int(row.max()) + 1 if len(row) else 1, 1) + row)
        row, col, e = row[order], col[order], torch.from_numpy(eid)[order]
        return row, index2ptr(col, n_dst), e

    def _get_edge_index(self, edge_attr: EdgeAttr) -> tuple[Tensor, Tensor] | None:
        if edge_attr.edge_type not in self._relations:
            return None
        row, colptr, _ = self.csc_with_eids(edge_attr.edge_type)
        layout = EdgeLayout(edge_attr.layout)
        if layout == EdgeLayout.CSC:
            return row, colptr
        attr = EdgeAttr(edge_attr.edge_type, EdgeLayout.CSC, size=self._size(edge_attr.edge_type))
        row, col, _ = self._edge_to_layout(attr, layout)
        return row, col

    def _size(self, edge_type: EdgeType | None) -> tuple[int, int]:
        rel = self._relations[edge_type]
        if self.homogeneous:
            return self.graph.id_space, self.graph.id_space
        return len(self._rows[rel.src]), len(self._rows[rel.dst])

    def _put_edge_index(self, edge_index, edge_attr: EdgeAttr) -> bool:
        raise SchemaError("the graph store is read-only: build a new Graph with add_edges")

    def _remove_edge_index(self, edge_attr: EdgeAttr) -> bool:
        raise SchemaError("the graph store is read-only: build a new Graph with remove_edges")

    def get_all_edge_attrs(self) -> list[EdgeAttr]:
        return [EdgeAttr(key, EdgeLayout.CSC, size=self._size(key)) for key in self._relations]

    def __repr__(self) -> str:
        return f"GraphGraphStore({self.edge_types()})"


def to_pyg(g: Graph, features: Columns | None = "feat", labels: str | None = "label",
           columns: Sequence[str] = (), standardize: bool = False
           ) -> tuple[GraphFeatureStore, GraphGraphStore]:
    """``(feature_store, graph_store)``: the graph as a PyG remote backend.

    Pass the pair as ``data`` to PyG's ``NodeLoader`` / ``LinkLoader`` with
    :class:`graphengine.sampling.GraphSampler` as the sampler.

    Args:
        g: the graph.
        features: feature column(s) of attribute ``x`` (see :func:`feature_tensor`); labels
            without them get no ``x``.
        labels: the column of attribute ``y``.
        columns: more vertex columns, each an attribute of its own name (masks ...).
        standardize: rescale each feature to mean 0, std 1 (a copy; for analytics columns).

    Raises:
        SchemaError: a named column is missing (homogeneous graphs) or not numeric.
    """
    return GraphFeatureStore(g, features, labels, columns, standardize), GraphGraphStore(g)
