"""The graph a traversal reads and writes: a store version plus a small mutable delta.

The store's :class:`~graphengine.store.Graph` is immutable. Gremlin mutates, so the engine
reads through a :class:`QueryGraph`: the base version's arrays and Arrow columns for every
element the traversals did not touch, and a delta (added vertices and edges, dropped ones,
changed properties, multi- and meta-properties) for the rest. ``QueryGraph.to_store()``
writes the current state back as a new store version.

Elements inside the engine are small handles: :class:`Vtx` (a global vertex id, ``gid``) and
:class:`Edg` (an edge id, ``eid``). Base elements keep their store ids; added ones get ids past
the base's id spaces. Gremlin's ``T.id`` is the store's user id for vertices, and for edges the
``id`` property when the edge label has one (TinkerPop's edge ids, see
:func:`graphengine.datasets.load_modern_graph`), else the edge id.

Every mutation records how to undo itself: a traversal that fails rolls back
(:meth:`QueryGraph.rollback`), so a failed query leaves the graph as it was.
"""

from __future__ import annotations

import io
import itertools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
from gremlin_python.structure.io.graphbinaryV1 import (
    GraphBinaryReader,
    GraphBinaryWriter,
)

from ..errors import QueryEvaluationError
from ..store.graph import Graph


class Vtx:
    """A vertex inside the engine (its global id)."""

    __slots__ = ("gid",)

    def __init__(self, gid: int):
        self.gid = gid

    def __eq__(self, other: object) -> bool:
        return type(other) is Vtx and other.gid == self.gid

    def __hash__(self) -> int:
        return hash(("v", self.gid))

    def __repr__(self) -> str:
        return f"v[{self.gid}]"


class Edg:
    """An edge inside the engine (its edge id)."""

    __slots__ = ("eid",)

    def __init__(self, eid: int):
        self.eid = eid

    def __eq__(self, other: object) -> bool:
        return type(other) is Edg and other.eid == self.eid

    def __hash__(self) -> int:
        return hash(("e", self.eid))

    def __repr__(self) -> str:
        return f"e[{self.eid}]"


class VProp:
    """A vertex property: owner vertex, key, value, id and meta-properties."""

    __slots__ = ("id", "key", "meta", "value", "vertex")

    def __init__(self, vertex: Vtx, key: str, value: Any, id: Any, meta: dict | None = None):
        self.vertex = vertex
        self.key = key
        self.value = value
        self.id = id
        self.meta = meta

    def __eq__(self, other: object) -> bool:
        return type(other) is VProp and other.id == self.id

    def __hash__(self) -> int:
        return hash(("vp", self.id))

    def __repr__(self) -> str:
        return f"vp[{self.key}->{self.value!r}]"


class Prop:
    """An edge property or a meta-property: owner element, key and value."""

    __slots__ = ("element", "key", "value")

    def __init__(self, element: Any, key: str, value: Any):
        self.element = element
        self.key = key
        self.value = value

    def __eq__(self, other: object) -> bool:
        # TinkerPop's ElementHelper.areEqual(Property, Object): key and value, not the owner
        return (type(other) is Prop and other.key == self.key
                and type(other.value) is type(self.value) and other.value == self.value)

    def __hash__(self) -> int:
        return hash(("p", self.key, _hashable(self.value)))

    def __repr__(self) -> str:
        return f"p[{self.key}->{self.value!r}]"


def _hashable(value: Any) -> Any:
    try:
        hash(value)
        return value
    except TypeError:
        return repr(value)


@dataclass
class _VRec:
    label: str
    id: Any
    props: dict[str, list[VProp]] = field(default_factory=dict)


@dataclass
class _ERec:
    label: str
    out: int
    inn: int
    id: Any
    props: dict[str, Any] = field(default_factory=dict)


VPROPS_COLUMN = "~gremlin.vprops"


def encode_vprops(props: dict[str, list[VProp]]) -> bytes:
    """The multi- and meta-properties of a vertex as one GraphBinary value (``{key: [[id,
    value, meta], ...]}``), so a store column can keep them with their types."""
    body = {k: [[p.id, p.value, p.meta or None] for p in vps] for k, vps in props.items()}
    return bytes(GraphBinaryWriter().write_object(body))


def decode_vprops(v: Vtx, blob: bytes) -> dict[str, list[VProp]]:
    body = GraphBinaryReader().read_object(io.BytesIO(blob))
    return {k: [VProp(v, k, value, vp_id, dict(meta) if meta else None)
                for vp_id, value, meta in vps] for k, vps in body.items()}


def needs_blob(props: dict[str, list[VProp]]) -> bool:
    """True when a vertex's properties do not fit one typed value per key."""
    return any(len(vps) > 1 or any(p.meta for p in vps) for vps in props.values())


class QueryGraph:
    """A store version plus the delta written by traversals (see the module docstring)."""

    def __init__(self, base: Graph, allow_null: bool = False):
        self.base = base
        #: TinkerGraph's allowNullPropertyValues: property(k, null) stores a null value
        #: instead of removing the property (only the delta holds nulls; the store reads a
        #: null column value as no property)
        self.allow_null = allow_null
        self.directed = base.directed
        self._cols: dict[tuple[str, str], list] = {}
        self._ecols: dict[tuple[str, str], np.ndarray] = {}
        n = base.id_space
        self._vlabel = np.full(n, -1, dtype=np.int64)
        self._row = np.zeros(n, dtype=np.int64)
        for li, name in enumerate(base.vertex_labels):
            gids = base.vertex_gids(name)
            self._vlabel[gids] = li
            self._row[gids] = np.arange(len(gids))
        self._frag = np.zeros(n, dtype=np.int64)
        self._lid = np.zeros(n, dtype=np.int64)
        for f in base.fragments:
            inner = f.inner_gids
            self._frag[inner] = f.fid
            self._lid[inner] = np.arange(len(inner))
        self._vkeys = {v.name: [k for k in v.schema.names if k not in ("id", VPROPS_COLUMN)]
                       for v in base.schema.vertex_labels}
        # labels whose vertices may carry multi- or meta-properties (see encode_vprops)
        self._blob_labels = {v.name for v in base.schema.vertex_labels
                             if VPROPS_COLUMN in v.schema.names}
        self._ekeys = {e.name: [k for k in e.schema.names if k != "id"]
                       for e in base.schema.edge_labels}
        self._edge_arrays: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        # delta
        self.new_v: dict[int, _VRec] = {}
        self.new_e: dict[int, _ERec] = {}
        self.vprops: dict[int, dict[str, list[VProp]]] = {}   # base vertices whose props changed
        self.eprops: dict[int, dict[str, Any]] = {}            # base edges whose props changed
        self.dropped_v: set[int] = set()
        self.dropped_e: set[int] = set()
        self.out_adj: dict[int, list[int]] = {}
        self.in_adj: dict[int, list[int]] = {}
        self._vid_index: dict[Any, int] = {}
        self._eid_index: dict[Any, int] | None = None
        self._next_gid = n
        self._next_eid = base.edge_blocks.total
        self._ids: Iterator[int] | None = None   # made on first use: it reads every id column
        self._undo: list[Callable[[], None]] | None = None
        self.version = 0

    # ------------------------------------------------------------------ state
    @property
    def pristine(self) -> bool:
        """True while no traversal changed the graph: the base arrays are the whole truth."""
        return not (self.new_v or self.new_e or self.vprops or self.eprops or self.dropped_v
                    or self.dropped_e)

    def _first_free_id(self) -> int:
        # the fragments' own id columns (views): edge_table() would gather and reorder them all
        top = 0
        for frag in self.base.fragments:
            for table in (*frag.vertex_tables.values(), *frag.edge_tables.values()):
                if "id" in table.column_names and pa.types.is_integer(table.schema.field("id").type):
                    largest = pa.compute.max(table.column("id")).as_py()
                    if largest is not None:
                        top = max(top, int(largest))
        for vp_id in (getattr(self.base, "gremlin_vp_ids", None) or {}).values():
            if isinstance(vp_id, int) and not isinstance(vp_id, bool):
                top = max(top, vp_id)
        return top + 1

    def new_id(self) -> int:
        """A fresh id for an added element (TinkerGraph's counter, above every existing id)."""
        if self._ids is None:
            self._ids = itertools.count(self._first_free_id())
        return next(self._ids)

    def begin(self) -> None:
        """Start recording undo steps (one traversal)."""
        self._undo = []

    def commit(self) -> None:
        if self._undo:
            self.version += 1
        self._undo = None

    def rollback(self) -> None:
        """Undo every change since :meth:`begin`."""
        undo, self._undo = self._undo or [], None
        for step in reversed(undo):
            step()

    def _record(self, step: Callable[[], None]) -> None:
        if self._undo is not None:
            self._undo.append(step)

    # ------------------------------------------------------------------ vertices
    def is_base_v(self, gid: int) -> bool:
        return gid < len(self._vlabel)

    def vertex_exists(self, gid: int) -> bool:
        if gid in self.dropped_v:
            return False
        if gid in self.new_v:
            return True
        return 0 <= gid < len(self._vlabel) and self._vlabel[gid] >= 0

    def vertex_label(self, gid: int) -> str:
        rec = self.new_v.get(gid)
        if rec is not None:
            return rec.label
        return self.base.vertex_labels[self._vlabel[gid]]

    def vertex_id(self, gid: int) -> Any:
        rec = self.new_v.get(gid)
        if rec is not None:
            return rec.id
        return self._column(self.vertex_label(gid), "id")[self._row[gid]]

    def _column(self, label: str, key: str) -> list:
        col = self._cols.get((label, key))
        if col is None:
            col = self.base.vertex_table(label).column(key).to_pylist()
            self._cols[(label, key)] = col
        return col

    def vertex_properties(self, gid: int) -> dict[str, list[VProp]]:
        """Key -> vertex properties of one vertex (a fresh dict for base vertices)."""
        rec = self.new_v.get(gid)
        if rec is not None:
            return rec.props
        over = self.vprops.get(gid)
        if over is not None:
            return over
        label = self.vertex_label(gid)
        row = self._row[gid]
        v = Vtx(gid)
        out = {}
        for key in self._vkeys[label]:
            val = self._column(label, key)[row]
            if val is not None:
                out[key] = [VProp(v, key, val, self._base_vp_id(gid, key))]
        if label in self._blob_labels:
            blob = self._column(label, VPROPS_COLUMN)[row]
            if blob is not None:
                out.update(decode_vprops(v, blob))
        return out

    def vertex_values(self, gid: int, key: str) -> list:
        """Values of property ``key`` of one vertex (several for a multi-property)."""
        if gid in self.new_v or gid in self.vprops:
            return [p.value for p in self.vertex_properties(gid).get(key, ())]
        label = self.vertex_label(gid)
        if label in self._blob_labels and self._column(label, VPROPS_COLUMN)[self._row[gid]]:
            return [p.value for p in self.vertex_properties(gid).get(key, ())]
        if key not in self._vkeys[label]:
            return []
        val = self._column(label, key)[self._row[gid]]
        return [] if val is None else [val]

    def _base_vp_id(self, gid: int, key: str) -> Any:
        ids = getattr(self.base, "gremlin_vp_ids", None)   # set by query.graphson.read_graphson
        if ids:
            vp_id = ids.get((self.vertex_id(gid), key))
            if vp_id is not None:
                return vp_id
        return f"{gid}:{key}"

    def vertices(self) -> Iterator[int]:
        """Every live vertex, base vertices in global id order then added ones."""
        for gid in self.base.all_gids().tolist():
            if gid not in self.dropped_v:
                yield gid
        yield from list(self.new_v)

    def candidate_vertices(self, label: str | None = None, key: str | None = None,
                           value: Any = None) -> list[int]:
        """Live vertices that may have ``label`` and property ``key`` equal to ``value``: a
        superset of the matches, in :meth:`vertices` order (callers test each one). Base
        vertices are narrowed with the label's gids and an Arrow comparison of the column."""
        labels = self.base.vertex_labels if label is None else \
            [label] if label in self.base.vertex_labels else []
        parts = []
        for name in labels:
            gids = self.base.vertex_gids(name)
            if key is not None and key not in self._vkeys[name]:
                continue
            if key is not None and len(gids):
                col = self.base.vertex_table(name).column(key)
                typ = col.type
                scalar = None
                if isinstance(value, str) and (pa.types.is_string(typ) or pa.types.is_large_string(typ)):
                    scalar = pa.scalar(value, typ)
                elif isinstance(value, (int, float)) and not isinstance(value, bool) and \
                        (pa.types.is_integer(typ) or pa.types.is_floating(typ)):
                    scalar = value
                if scalar is not None:
                    mask = pa.compute.fill_null(pa.compute.equal(col, scalar), False)
                    gids = gids[np.asarray(mask.to_numpy(zero_copy_only=False), dtype=bool)]
            parts.append(np.asarray(gids, dtype=np.int64))
        if self.vprops:      # changed base vertices: their columns are stale
            changed = [g for g in self.vprops
                       if label is None or self.vertex_label(g) == label]
            parts.append(np.asarray(changed, dtype=np.int64))
        base = np.unique(np.concatenate(parts)) if parts else np.zeros(0, dtype=np.int64)
        out = [g for g in base.tolist() if g not in self.dropped_v]
        out += [g for g, rec in self.new_v.items() if label is None or rec.label == label]
        return out

    def find_vertex(self, vid: Any) -> int | None:
        """The gid of the vertex with Gremlin id ``vid``, or None."""
        if isinstance(vid, Vtx):
            return vid.gid if self.vertex_exists(vid.gid) else None
        gid = self._vid_index.get(_hashable(vid))
        if gid is not None:
            return gid if self.vertex_exists(gid) else None
        if type(vid) is int or isinstance(vid, np.integer):
            found = self._dense_lookup(int(vid))
            if found is not None:
                return found if found >= 0 and found not in self.dropped_v else None
        for label in self.base.vertex_labels:
            typ = self.base.schema.vertex_label(label).schema.field("id").type
            if isinstance(vid, bool):
                continue
            if pa.types.is_integer(typ):
                if isinstance(vid, str):
                    try:
                        vid_n = int(vid)
                    except ValueError:
                        continue
                elif isinstance(vid, (int, np.integer)) or (isinstance(vid, float) and vid.is_integer()):
                    vid_n = int(vid)
                else:
                    continue
                found = self.base.gids(label, [vid_n])[0]
            elif isinstance(vid, str):
                found = self.base.gids(label, [vid])[0]
            else:
                continue
            if found >= 0 and found not in self.dropped_v:
                return int(found)
        return None

    def _dense_lookup(self, vid: int) -> int | None:
        """gid of an integer id through the labels' dense id tables: -1 when no label has it,
        None when some label's ids are not a dense integer range (the general path decides)."""
        tables = self.__dict__.get("_dense_tables")
        if tables is None:
            tables = []
            for label in self.base.vertex_labels:
                dense = self.base._index(label).dense_table() \
                    if pa.types.is_integer(self.base.schema.vertex_label(label).schema.field("id").type) \
                    else None
                if dense is None:
                    tables = False
                    break
                tables.append(dense)
            self._dense_tables = tables
        if tables is False:
            return None
        for lo, table in tables:
            if lo <= vid < lo + len(table) and table[vid - lo] >= 0:
                return int(table[vid - lo])
        return -1

    # ------------------------------------------------------------------ edges
    def _edge_data(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if self._edge_arrays is None:
            total = self.base.edge_blocks.total
            src = np.full(total, -1, dtype=np.int64)
            dst = np.full(total, -1, dtype=np.int64)
            lab = np.full(total, -1, dtype=np.int64)
            for li, name in enumerate(self.base.edge_labels):
                s, d, e = self.base._edge_list(name)
                src[e], dst[e], lab[e] = s, d, li
            self._edge_arrays = (src, dst, lab)
        return self._edge_arrays

    def edge_exists(self, eid: int) -> bool:
        if eid in self.dropped_e:
            return False
        if eid in self.new_e:
            return True
        src, _, _ = self._edge_data()
        return 0 <= eid < len(src) and src[eid] >= 0

    def edge_label(self, eid: int) -> str:
        rec = self.new_e.get(eid)
        if rec is not None:
            return rec.label
        return self.base.edge_labels[self._edge_data()[2][eid]]

    def edge_ends(self, eid: int) -> tuple[int, int]:
        """``(out vertex gid, in vertex gid)``."""
        rec = self.new_e.get(eid)
        if rec is not None:
            return rec.out, rec.inn
        src, dst, _ = self._edge_data()
        return int(src[eid]), int(dst[eid])

    def _ecolumn(self, label: str, key: str) -> np.ndarray:
        col = self._ecols.get((label, key))
        if col is None:
            col = np.empty(self.base.edge_blocks.total, dtype=object)
            blocks = self.base._edge_rows(label)
            for s, f, r, c in zip(blocks.start, blocks.fid, blocks.row, blocks.count):
                table = self.base.fragments[f].edge_tables[label]
                col[s:s + c] = table.column(key).slice(r, c).to_pylist()
            self._ecols[(label, key)] = col
        return col

    def edge_id(self, eid: int) -> Any:
        rec = self.new_e.get(eid)
        if rec is not None:
            return rec.id
        label = self.edge_label(eid)
        if "id" in self.base.schema.edge_label(label).schema.names:
            val = self._ecolumn(label, "id")[eid]
            if val is not None:
                return val
        return eid

    def edge_properties(self, eid: int) -> dict[str, Any]:
        rec = self.new_e.get(eid)
        if rec is not None:
            return rec.props
        over = self.eprops.get(eid)
        if over is not None:
            return over
        label = self.edge_label(eid)
        out = {}
        for key in self._ekeys[label]:
            val = self._ecolumn(label, key)[eid]
            if val is not None:
                out[key] = val
        return out

    def edge_values(self, eid: int, key: str) -> list:
        """``[value]`` of property ``key`` of one edge, ``[]`` when it has none (a stored null
        value gives ``[None]``)."""
        if eid in self.new_e or eid in self.eprops:
            props = self.edge_properties(eid)
            return [props[key]] if key in props else []
        v = self.edge_value(eid, key)
        return [] if v is None else [v]

    def edge_value(self, eid: int, key: str) -> Any:
        if eid in self.new_e or eid in self.eprops:
            return self.edge_properties(eid).get(key)
        label = self.edge_label(eid)
        if key not in self._ekeys[label]:
            return None
        return self._ecolumn(label, key)[eid]

    def edges(self) -> Iterator[int]:
        src, _, _ = self._edge_data()
        for eid in np.flatnonzero(src >= 0).tolist():
            if eid not in self.dropped_e:
                yield eid
        yield from list(self.new_e)

    def find_edge(self, eid_or_id: Any) -> int | None:
        if isinstance(eid_or_id, Edg):
            return eid_or_id.eid if self.edge_exists(eid_or_id.eid) else None
        if self._eid_index is None:
            index: dict[Any, int] = {}
            for eid in self.edges():
                index[_hashable(self.edge_id(eid))] = eid
            self._eid_index = index
        key = _hashable(eid_or_id)
        found = self._eid_index.get(key)
        if found is None and isinstance(eid_or_id, str):
            try:
                found = self._eid_index.get(int(eid_or_id))
            except ValueError:
                found = None
        if found is None or not self.edge_exists(found):
            return None
        return found

    def adjacent(self, gid: int, direction: str, labels: tuple[str, ...] = ()) -> list[tuple[int, int]]:
        """``(eid, other end gid)`` of the edges of one vertex; direction ``out``/``in``."""
        out: list[tuple[int, int]] = []
        if self.is_base_v(gid) and self._vlabel[gid] >= 0:
            frag = self.base.fragments[self._frag[gid]]
            lid = self._lid[gid]
            names = labels or tuple(frag.topology)
            for name in names:
                topo = frag.topology.get(name)
                if topo is None:
                    continue
                indptr, nbrs, eids = topo.arrays(direction if self.directed else "out")
                a, b = indptr[lid], indptr[lid + 1]
                if a == b:
                    continue
                es = eids[a:b].tolist()
                ns = nbrs[a:b].tolist()
                if self.dropped_e or self.dropped_v:
                    out.extend((e, n) for e, n in zip(es, ns)
                               if e not in self.dropped_e and n not in self.dropped_v)
                else:
                    out.extend(zip(es, ns))
        adj = self.out_adj if direction == "out" else self.in_adj
        for eid in adj.get(gid, ()):
            rec = self.new_e[eid]
            if labels and rec.label not in labels:
                continue
            out.append((eid, rec.inn if direction == "out" else rec.out))
        return out

    # ------------------------------------------------------------------ mutations
    def add_vertex(self, label: str, vid: Any = None) -> int:
        if vid is None:
            vid = self.new_id()
        elif self.find_vertex(vid) is not None:
            raise QueryEvaluationError(f"Vertex with id already exists: {vid!r}")
        gid = self._next_gid
        self._next_gid += 1
        self.new_v[gid] = _VRec(label, vid)
        key = _hashable(vid)
        self._vid_index[key] = gid

        def undo() -> None:
            del self.new_v[gid]
            self._vid_index.pop(key, None)
            self._next_gid = gid
        self._record(undo)
        return gid

    def _own_vprops(self, gid: int) -> dict[str, list[VProp]]:
        """The vertex's property dict, copied into the delta first for a base vertex."""
        rec = self.new_v.get(gid)
        if rec is not None:
            return rec.props
        over = self.vprops.get(gid)
        if over is None:
            over = self.vertex_properties(gid)
            self.vprops[gid] = over

            def undo() -> None:
                self.vprops.pop(gid, None)
            self._record(undo)
        return over

    def set_vertex_property(self, gid: int, key: str, value: Any, cardinality: str = "single",
                            meta: dict | None = None, vp_id: Any = None) -> VProp:
        """Add a vertex property with ``single`` / ``list`` / ``set`` cardinality."""
        props = self._own_vprops(gid)
        old = list(props.get(key, ()))
        existing = None
        if cardinality == "set":
            existing = next((p for p in old if _same(p.value, value)), None)
        if existing is not None:
            vp = existing
            old_meta = dict(vp.meta) if vp.meta else None
            if meta:
                vp.meta = {**(vp.meta or {}), **meta}
        else:
            vp = VProp(Vtx(gid), key, value, self.new_id() if vp_id is None else vp_id,
                       dict(meta) if meta else None)
            props[key] = [vp] if cardinality == "single" else old + [vp]
            old_meta = None

        def undo() -> None:
            if old:
                props[key] = old
            else:
                props.pop(key, None)
            if existing is not None:
                existing.meta = old_meta
        self._record(undo)
        return vp

    def remove_vertex_property(self, vp: VProp) -> None:
        gid = vp.vertex.gid
        if not self.vertex_exists(gid):
            return
        props = self._own_vprops(gid)
        old = list(props.get(vp.key, ()))
        keep = [p for p in old if p.id != vp.id]
        if keep:
            props[vp.key] = keep
        else:
            props.pop(vp.key, None)

        def undo() -> None:
            props[vp.key] = old
        self._record(undo)

    def set_meta_property(self, vp: VProp, key: str, value: Any) -> None:
        props = self._own_vprops(vp.vertex.gid)
        target = next((p for p in props.get(vp.key, ()) if p.id == vp.id), vp)
        old = dict(target.meta) if target.meta else None
        target.meta = {**(target.meta or {}), key: value}

        def undo() -> None:
            target.meta = old
        self._record(undo)

    def remove_meta_property(self, vp: VProp, key: str) -> None:
        props = self._own_vprops(vp.vertex.gid)
        target = next((p for p in props.get(vp.key, ()) if p.id == vp.id), vp)
        if not target.meta or key not in target.meta:
            return
        old = dict(target.meta)
        del target.meta[key]

        def undo() -> None:
            target.meta = old
        self._record(undo)

    def add_edge(self, label: str, out_gid: int, in_gid: int, eid_value: Any = None) -> int:
        if eid_value is None:
            eid_value = self.new_id()
        elif self.find_edge(eid_value) is not None:
            raise QueryEvaluationError(f"Edge with id already exists: {eid_value!r}")
        eid = self._next_eid
        self._next_eid += 1
        self.new_e[eid] = _ERec(label, out_gid, in_gid, eid_value)
        self.out_adj.setdefault(out_gid, []).append(eid)
        self.in_adj.setdefault(in_gid, []).append(eid)
        if self._eid_index is not None:
            self._eid_index[_hashable(eid_value)] = eid

        def undo() -> None:
            del self.new_e[eid]
            self.out_adj[out_gid].remove(eid)
            self.in_adj[in_gid].remove(eid)
            if self._eid_index is not None:
                self._eid_index.pop(_hashable(eid_value), None)
            self._next_eid = eid
        self._record(undo)
        return eid

    def set_edge_property(self, eid: int, key: str, value: Any) -> None:
        rec = self.new_e.get(eid)
        if rec is not None:
            props = rec.props
        else:
            props = self.eprops.get(eid)
            if props is None:
                props = dict(self.edge_properties(eid))
                self.eprops[eid] = props

                def undo_copy() -> None:
                    self.eprops.pop(eid, None)
                self._record(undo_copy)
        had, old = key in props, props.get(key)
        props[key] = value

        def undo() -> None:
            if had:
                props[key] = old
            else:
                props.pop(key, None)
        self._record(undo)

    def remove_edge_property(self, eid: int, key: str) -> None:
        if not self.edge_exists(eid):
            return
        props = self.new_e[eid].props if eid in self.new_e else None
        if props is None:
            props = self.eprops.get(eid)
            if props is None:
                props = dict(self.edge_properties(eid))
                self.eprops[eid] = props

                def undo_copy() -> None:
                    self.eprops.pop(eid, None)
                self._record(undo_copy)
        if key not in props:
            return
        old = props.pop(key)

        def undo() -> None:
            props[key] = old
        self._record(undo)

    def drop_edge(self, eid: int) -> None:
        if not self.edge_exists(eid):
            return
        rec = self.new_e.pop(eid, None)
        if rec is not None:
            self.out_adj[rec.out].remove(eid)
            self.in_adj[rec.inn].remove(eid)

            def undo_new() -> None:
                self.new_e[eid] = rec
                self.out_adj[rec.out].append(eid)
                self.in_adj[rec.inn].append(eid)
            self._record(undo_new)
            return
        self.dropped_e.add(eid)
        self._record(lambda: self.dropped_e.discard(eid))

    def drop_vertex(self, gid: int) -> None:
        if not self.vertex_exists(gid):
            return
        for direction in ("out", "in"):
            for eid, _ in self.adjacent(gid, direction):
                self.drop_edge(eid)
        rec = self.new_v.pop(gid, None)
        if rec is not None:
            def undo_new() -> None:
                self.new_v[gid] = rec
            self._record(undo_new)
            return
        self.dropped_v.add(gid)
        self._record(lambda: self.dropped_v.discard(gid))

    # ------------------------------------------------------------------ export
    def to_store(self, num_fragments: int | None = None) -> Graph:
        """The current state as a new store version (the base itself when nothing changed).

        Multi-properties become list columns; meta-properties are not kept by the store.
        """
        if self.pristine:
            return self.base
        from .export import export_graph

        return export_graph(self, num_fragments or self.base.fnum,
                            self.base.partitioner.kind)

    def iter_vertices_of(self, gids: Iterable[int]) -> Iterator[Vtx]:
        for g in gids:
            yield Vtx(g)


def _same(a: Any, b: Any) -> bool:
    return type(a) is type(b) and a == b if not isinstance(a, (int, float)) else a == b
