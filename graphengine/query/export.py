"""Writing a :class:`~graphengine.query.graph.QueryGraph`'s state back as a store version.

When traversals only added vertices and edges (with the properties their labels already
have) and dropped edges, the new version is built from the base with the store's own
updates (``add_vertices``, ``add_edges``, ``remove_edges``), so every untouched buffer is
shared. Any other change (dropped vertices, changed properties, new property keys on an
existing label) rebuilds the graph from the current state. Multi-properties become list
columns; a property whose values mix types (an int on one vertex, a string on another) becomes
a string column; null property values become nulls (no property); meta-properties are not kept
by the store (they live on in the engine's delta).

:func:`export_subgraph` writes some vertices and edges as a graph of their own (``subgraph()``).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from typing import Any

import pyarrow as pa

from ..errors import SchemaError
from ..store.graph import Graph
from .graph import VPROPS_COLUMN, encode_vprops, needs_blob

log = logging.getLogger(__name__)


def export_graph(qg: Any, fnum: int, partitioner: str) -> Graph:
    """The current state of ``qg`` as a store graph (see the module docstring)."""
    base: Graph = qg.base
    if not (qg.vprops or qg.eprops or qg.dropped_v):
        try:
            return _extend(qg, base)
        except (SchemaError, pa.ArrowInvalid, pa.ArrowTypeError) as e:
            log.info("export: rebuilding the graph (%s)", e)
    return _rebuild(qg, fnum, partitioner)


def _vertex_rows(qg: Any, gids: list[int]) -> tuple[list, dict[str, list]]:
    """User ids and property columns; a key's column holds its first value, and a vertex with
    multi- or meta-properties also gets all of them in the ``VPROPS_COLUMN`` blob."""
    ids = [qg.vertex_id(g) for g in gids]
    cols: dict[str, list] = {}
    blobs: list = [None] * len(gids)
    for i, gid in enumerate(gids):
        props = qg.vertex_properties(gid)
        for key, vps in props.items():
            if vps:
                cols.setdefault(key, [None] * len(gids))[i] = vps[0].value
        if needs_blob(props):
            blobs[i] = encode_vprops(props)
    if any(b is not None for b in blobs):
        cols[VPROPS_COLUMN] = blobs
    return ids, cols


def _array(values: list, typ: pa.DataType | None = None) -> pa.Array:
    try:
        return pa.array(values, type=typ)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return pa.array([None if v is None else str(v) for v in values], type=pa.string())


def _id_array(ids: list, typ: pa.DataType | None = None) -> pa.Array:
    if typ is not None:
        return _array(ids, typ)
    if all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
        return pa.array(ids, type=pa.int64())
    return pa.array([str(i) for i in ids], type=pa.string())


def _edge_rows(qg: Any, eids: list[int]) -> dict[tuple[str, str, str], dict[str, list]]:
    groups: dict[tuple[str, str, str], dict[str, list]] = {}
    for eid in eids:
        o, i = qg.edge_ends(eid)
        key = (qg.edge_label(eid), qg.vertex_label(o), qg.vertex_label(i))
        rows = groups.setdefault(key, defaultdict(list))
        n = len(rows["src"])
        rows["src"].append(qg.vertex_id(o))
        rows["dst"].append(qg.vertex_id(i))
        rows["id"].append(qg.edge_id(eid))
        for k, v in qg.edge_properties(eid).items():
            col = rows[k]
            col.extend([None] * (n - len(col)))
            col.append(v)
    for rows in groups.values():
        n = len(rows["src"])
        for col in rows.values():
            col.extend([None] * (n - len(col)))
    return groups


def _add_edges(g: Graph, groups: dict, id_types: dict[str, pa.DataType]) -> Graph:
    for (label, sl, dl), rows in groups.items():
        cols = {"src": _id_array(rows["src"], id_types.get(sl)),
                "dst": _id_array(rows["dst"], id_types.get(dl))}
        props = []
        existing = g.schema.edge_label(label).schema if label in g.edge_labels else None
        for k, v in rows.items():
            if k in ("src", "dst"):
                continue
            typ = existing.field(k).type if existing is not None and k in existing.names else None
            cols[k] = _array(v, typ)
            props.append(k)
        g = g.add_edges(pa.table(cols), label=label, src_label=sl, dst_label=dl,
                        src_field="src", dst_field="dst", properties=props)
    return g


def _extend(qg: Any, base: Graph) -> Graph:
    g = base
    if qg.dropped_e:
        g = g.remove_edges(sorted(qg.dropped_e))
    by_label: dict[str, list[int]] = defaultdict(list)
    for gid in qg.new_v:
        by_label[qg.vertex_label(gid)].append(gid)
    for label, gids in by_label.items():
        ids, cols = _vertex_rows(qg, gids)
        if label in g.vertex_labels:
            schema = g.schema.vertex_label(label).schema
            if set(cols) - set(schema.names):
                raise SchemaError(f"new properties on label {label!r}")
            table = pa.table({"id": _id_array(ids, schema.field("id").type),
                              **{f.name: _array(cols.get(f.name, [None] * len(ids)), f.type)
                                 for f in schema if f.name != "id"}})
        else:
            table = pa.table({"id": _id_array(ids), **{k: _array(v) for k, v in cols.items()}})
        g = g.add_vertices(table, label=label, vid_field="id")
    id_types = {v.name: v.schema.field("id").type for v in g.schema.vertex_labels}
    return _add_edges(g, _edge_rows(qg, list(qg.new_e)), id_types)


def _rebuild(qg: Any, fnum: int, partitioner: str) -> Graph:
    g = Graph.empty(qg.directed, fnum, partitioner)
    by_label: dict[str, list[int]] = defaultdict(list)
    for gid in qg.vertices():
        by_label[qg.vertex_label(gid)].append(gid)
    for label, gids in by_label.items():
        ids, cols = _vertex_rows(qg, gids)
        table = pa.table({"id": _id_array(ids), **{k: _array(v) for k, v in cols.items()}})
        g = g.add_vertices(table, label=label, vid_field="id")
    id_types = {v.name: v.schema.field("id").type for v in g.schema.vertex_labels}
    return _add_edges(g, _edge_rows(qg, list(qg.edges())), id_types)


def export_subgraph(qg: Any, gids: list[int], eids: list[int]) -> Graph:
    """A new store graph of some vertices and edges of ``qg`` (``subgraph()``'s result), with
    their ids, labels and properties."""
    base: Graph = qg.base
    g = Graph.empty(qg.directed, base.fnum, base.partitioner.kind)
    by_label: dict[str, list[int]] = defaultdict(list)
    for gid in gids:
        by_label[qg.vertex_label(gid)].append(gid)
    for label, group in by_label.items():
        ids, cols = _vertex_rows(qg, group)
        table = pa.table({"id": _id_array(ids), **{k: _array(v) for k, v in cols.items()}})
        g = g.add_vertices(table, label=label, vid_field="id")
    id_types = {v.name: v.schema.field("id").type for v in g.schema.vertex_labels}
    return _add_edges(g, _edge_rows(qg, eids), id_types)
