"""Read TinkerPop's GraphSON 3.0 adjacency-list files into a graphengine store graph.

TinkerPop's toy graphs (``tinkerpop-modern-v3.json``, ``-classic``, ``-crew``, ``-sink`` and
``grateful-dead-v3.json``) hold one JSON vertex per line with its ``outE`` / ``inE`` edges and
typed values (``{"@type": "g:Int32", "@value": 29}``). :func:`read_graphson` turns them into a
:class:`~graphengine.Graph`:

- one Arrow table per vertex label: ``id`` (the vertex id: int64, or string when the file's ids
  are strings) and one column per single-valued property, typed from GraphSON (``g:Int32`` ->
  ``int32``, ``g:Int64`` -> ``int64``, ``g:Double`` -> ``float64``, ``g:Float`` -> ``float32``,
  strings, booleans...);
- one edge table per (edge label, source label, target label): ``src``, ``dst``, the GraphSON
  edge id as the int64 property ``id`` (the Gremlin engine exposes it as the edge's ``T.id``) and
  the edge properties;
- what typed columns cannot hold (multi-properties, meta-properties, a key whose values mix
  types) comes back as Gremlin mutations ``(text, bindings)`` to run through
  ``Gremlin(graph).execute(text, bindings)``.

>>> from graphengine.query.graphson import read_graphson
>>> g, extra = read_graphson("../shared/tinkerpop/data/tinkerpop-modern-v3.json")  # doctest: +SKIP
>>> (g.vertex_count, g.edge_count, extra)  # doctest: +SKIP
(6, 6, [])
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
import os
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pyarrow as pa

from ..errors import LoadError
from ..session import session as _session
from ..store.graph import Graph

log = logging.getLogger(__name__)

__all__ = ["GraphSONVertex", "Mutation", "decode", "iter_graphson", "read_graphson"]

PathLike = str | os.PathLike
Mutation = tuple[str, dict[str, Any]]

# GraphSON scalar type -> the Arrow type of a column holding it
_ARROW_TYPES: dict[str, pa.DataType] = {
    "g:Int32": pa.int32(),
    "g:Int64": pa.int64(),
    "g:Double": pa.float64(),
    "g:Float": pa.float32(),
    "gx:Byte": pa.int8(),
    "gx:Int16": pa.int16(),
    "string": pa.string(),
    "boolean": pa.bool_(),
    "g:Date": pa.timestamp("ms", tz="UTC"),
    "g:Timestamp": pa.timestamp("ms", tz="UTC"),
}

# types that widen into another when one key mixes them
_WIDEN: dict[frozenset[str], str] = {
    frozenset({"g:Int32", "g:Int64"}): "g:Int64",
    frozenset({"gx:Byte", "g:Int32"}): "g:Int32",
    frozenset({"gx:Int16", "g:Int32"}): "g:Int32",
    frozenset({"gx:Byte", "gx:Int16"}): "gx:Int16",
    frozenset({"g:Float", "g:Double"}): "g:Double",
}


def decode(value: Any) -> tuple[Any, str]:
    """``(python value, GraphSON type name)`` of a GraphSON 3.0 value.

    Untyped JSON strings are ``"string"``, booleans ``"boolean"``; ``g:List`` / ``g:Set`` /
    ``g:Map`` decode recursively into ``list`` / ``set`` / ``dict``.

    Raises:
        LoadError: a typed value of a type this reader does not know.
    """
    if isinstance(value, bool):
        return value, "boolean"
    if isinstance(value, str):
        return value, "string"
    if value is None:
        return None, "null"
    if isinstance(value, int):  # untyped JSON numbers (not written by TinkerPop's GraphSON 3)
        return value, "g:Int64"
    if isinstance(value, float):
        return value, "g:Double"
    if isinstance(value, list):
        return [decode(v)[0] for v in value], "g:List"
    if not isinstance(value, dict) or "@type" not in value:
        if isinstance(value, dict):
            return {k: decode(v)[0] for k, v in value.items()}, "g:Map"
        raise LoadError(f"GraphSON: unreadable value {value!r}")
    kind, raw = value["@type"], value.get("@value")
    if kind in ("g:Int32", "g:Int64", "gx:Byte", "gx:Int16", "gx:BigInteger"):
        return int(raw), kind
    if kind in ("g:Double", "g:Float"):
        if isinstance(raw, str):  # NaN, Infinity, -Infinity
            return float(raw), kind
        return float(raw), kind
    if kind == "gx:BigDecimal":
        return Decimal(str(raw)), kind
    if kind in ("g:Date", "g:Timestamp"):
        return _dt.datetime.fromtimestamp(int(raw) / 1000, tz=_dt.timezone.utc), kind
    if kind == "g:UUID":
        return uuid.UUID(raw), kind
    if kind == "g:List":
        return [decode(v)[0] for v in raw], kind
    if kind == "g:Set":
        return {_hashable(decode(v)[0]) for v in raw}, kind
    if kind == "g:Map":
        items = [decode(v)[0] for v in raw]
        return {_hashable(items[i]): items[i + 1] for i in range(0, len(items), 2)}, kind
    raise LoadError(f"GraphSON: unsupported value type {kind!r}")


def _hashable(value: Any) -> Any:
    """A hashable stand-in for set members and map keys (lists become tuples)."""
    if isinstance(value, list):
        return tuple(_hashable(v) for v in value)
    if isinstance(value, set):
        return frozenset(value)
    return value


@dataclass
class _Value:
    """One decoded vertex-property value with its meta-properties."""

    value: Any
    kind: str
    meta: dict[str, Any] = field(default_factory=dict)
    id: Any = None


@dataclass
class _Edge:
    """One edge as read from its source vertex's ``outE``."""

    id: Any
    id_kind: str
    label: str
    src: Any
    dst: Any
    properties: dict[str, tuple[Any, str]]


@dataclass
class GraphSONVertex:
    """One line of a GraphSON adjacency-list file: a vertex and its outgoing edges."""

    id: Any
    id_kind: str
    label: str
    properties: dict[str, list[_Value]]
    out_edges: list[_Edge]


def iter_graphson(path: PathLike) -> Iterator[GraphSONVertex]:
    """The vertices of a GraphSON 3.0 adjacency-list file, one per non-empty line.

    Raises:
        LoadError: the file is missing or a line is not a GraphSON vertex (file and line named).
    """
    try:
        fh = open(path, encoding="utf-8")  # noqa: SIM115 (closed by the with below)
    except OSError as e:
        raise LoadError(f"GraphSON: cannot open {os.fspath(path)!r}: {e}") from e
    with fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                yield _parse_vertex(json.loads(line))
            except (ValueError, KeyError, TypeError, LoadError) as e:
                raise LoadError(f"GraphSON {os.fspath(path)}:{lineno}: {e}") from e


def _parse_vertex(obj: dict[str, Any]) -> GraphSONVertex:
    """A :class:`GraphSONVertex` from one decoded JSON line."""
    vid, vkind = decode(obj["id"])
    props: dict[str, list[_Value]] = {}
    for key, values in (obj.get("properties") or {}).items():
        out = []
        for vp in values:
            value, kind = decode(vp["value"])
            meta = {k: decode(v)[0] for k, v in (vp.get("properties") or {}).items()}
            out.append(_Value(value, kind, meta, decode(vp["id"])[0] if "id" in vp else None))
        props[key] = out
    edges = []
    for label, elist in (obj.get("outE") or {}).items():
        for e in elist:
            eid, ekind = decode(e["id"])
            dst, _ = decode(e["inV"])
            eprops = {k: decode(v) for k, v in (e.get("properties") or {}).items()}
            edges.append(_Edge(eid, ekind, label, vid, dst, eprops))
    return GraphSONVertex(vid, vkind, obj.get("label", "vertex"), props, edges)


def _column_kind(kinds: Iterable[str]) -> str | None:
    """The GraphSON type a column of values of ``kinds`` takes, or ``None`` when they do not mix."""
    kinds = set(kinds) - {"null"}
    if not kinds:
        return "string"
    if len(kinds) == 1:
        kind = next(iter(kinds))
        return kind if kind in _ARROW_TYPES else None
    widened = _WIDEN.get(frozenset(kinds))
    if widened is None and kinds <= {"g:Int32", "g:Int64", "gx:Byte", "gx:Int16"}:
        widened = "g:Int64"
    return widened


def _quote(text: str) -> str:
    """``text`` as a Gremlin string literal."""
    return json.dumps(text)


def _vertex_mutation(vid: Any, key: str, values: list[_Value], cardinality: str) -> list[Mutation]:
    """Gremlin mutations that add ``values`` of ``key`` (with their meta-properties) to ``vid``."""
    out = []
    for v in values:
        bindings: dict[str, Any] = {"vid": vid, "val": v.value}
        text = f"g.V(vid).property(Cardinality.{cardinality}, {_quote(key)}, val"
        for i, (mk, mv) in enumerate(v.meta.items()):
            bindings[f"m{i}"] = mv
            text += f", {_quote(mk)}, m{i}"
        out.append((text + ")", bindings))
    return out


def _id_array(ids: list[Any], kinds: set[str], what: str) -> pa.Array:
    """The id column: int64 for numeric ids, string otherwise."""
    if kinds <= {"g:Int32", "g:Int64", "gx:Byte", "gx:Int16", "gx:BigInteger"}:
        return pa.array(ids, pa.int64())
    if kinds == {"string"}:
        return pa.array(ids, pa.string())
    if kinds == {"g:UUID"}:
        return pa.array([str(i) for i in ids], pa.string())
    raise LoadError(f"GraphSON: {what} ids of types {sorted(kinds)} cannot form one id column")


def read_graphson(path: PathLike, num_fragments: int = 1,
                  directed: bool = True) -> tuple[Graph, list[Mutation]]:
    """Read a GraphSON 3.0 adjacency-list file into a store graph.

    Args:
        path: the ``.json`` file (one vertex per line).
        num_fragments: fragments of the graph (``graphengine.session(num_fragments=n).g()``).
        directed: build a directed graph (TinkerPop's graphs are directed).

    Returns:
        ``(graph, mutations)``: the graph with every vertex, every edge and every single-valued
        property in typed columns; ``mutations`` are ``(gremlin_text, bindings)`` pairs that add
        the properties columns cannot hold (multi-properties, meta-properties, mixed types) when
        run in order through ``Gremlin(graph).execute(text, bindings)``.

    Raises:
        LoadError: the file is missing or malformed, or an edge names an unknown vertex.
    """
    vertices = list(iter_graphson(path))
    label_of: dict[Any, str] = {}
    by_label: dict[str, list[GraphSONVertex]] = {}
    for v in vertices:
        if v.id in label_of:
            raise LoadError(f"GraphSON {os.fspath(path)}: vertex id {v.id!r} appears twice")
        label_of[v.id] = v.label
        by_label.setdefault(v.label, []).append(v)
    id_kinds = {v.id_kind for v in vertices}

    mutations: list[Mutation] = []
    vp_ids: dict[tuple[Any, str], Any] = {}   # (vertex id, key) -> the file's vertex property id
    g = _session(num_fragments=num_fragments).g(directed=directed)
    for label, vs in by_label.items():
        keys = list(dict.fromkeys(k for v in vs for k in v.properties))
        columns: dict[str, pa.Array] = {}
        for key in keys:
            lists = [v.properties.get(key, []) for v in vs]
            kind = _column_kind(x.kind for values in lists for x in values)
            simple = kind is not None and key != "id" and all(
                len(values) <= 1 and not any(x.meta for x in values) for values in lists)
            if simple:
                columns[key] = pa.array([values[0].value if values else None for values in lists],
                                        _ARROW_TYPES[kind])
                for v, values in zip(vs, lists):
                    if values and values[0].id is not None:
                        vp_ids[(v.id, key)] = values[0].id
                continue
            many = any(len(values) > 1 for values in lists)
            for v, values in zip(vs, lists):
                if values:
                    mutations += _vertex_mutation(v.id, key, values, "list" if many else "single")
        table = pa.table({"id": _id_array([v.id for v in vs], id_kinds, f"vertex {label!r}"),
                          **columns})
        g = g.add_vertices(table, label=label, vid_field="id")

    # edges: one add_edges call per (label, source label, target label); one schema per label
    edges: dict[str, list[_Edge]] = {}
    for v in vertices:
        for e in v.out_edges:
            edges.setdefault(e.label, []).append(e)
    for label, es in edges.items():
        for e in es:
            if e.dst not in label_of:
                raise LoadError(f"GraphSON {os.fspath(path)}: edge {e.id!r} ({label}) names "
                                f"the unknown vertex {e.dst!r}")
        keys = []
        kinds = {}
        for key in dict.fromkeys(k for e in es for k in e.properties):
            kind = _column_kind(e.properties[key][1] for e in es if key in e.properties)
            if kind is None or key in ("id", "src", "dst"):
                # mixed types, or a name the edge table uses: set through Gremlin
                for e in es:
                    if key in e.properties:
                        mutations.append((f"g.E(eid).property({_quote(key)}, val)",
                                          {"eid": e.id, "val": e.properties[key][0]}))
                continue
            keys.append(key)
            kinds[key] = kind
        relations: dict[tuple[str, str], list[_Edge]] = {}
        for e in es:
            relations.setdefault((label_of[e.src], label_of[e.dst]), []).append(e)
        edge_id_kinds = {e.id_kind for e in es}
        for (src_label, dst_label), rel in relations.items():
            table = pa.table({
                "src": _id_array([e.src for e in rel], id_kinds, "vertex"),
                "dst": _id_array([e.dst for e in rel], id_kinds, "vertex"),
                "id": _id_array([e.id for e in rel], edge_id_kinds, f"edge {label!r}"),
                **{key: pa.array([e.properties[key][0] if key in e.properties else None
                                  for e in rel], _ARROW_TYPES[kinds[key]]) for key in keys},
            })
            g = g.add_edges(table, label=label, src_label=src_label, dst_label=dst_label,
                            src_field="src", dst_field="dst", properties=["id", *keys])
    log.info("read %s: %d vertices, %d edges, %d property mutations", os.fspath(path),
             len(vertices), sum(len(es) for es in edges.values()), len(mutations))
    # the Gremlin engine gives column-held vertex properties the file's ids (orderability of
    # vertex properties is by id)
    g.gremlin_vp_ids = vp_ids
    return g, mutations
