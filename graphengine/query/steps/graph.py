"""Steps that read the graph: V, E, adjacency (out, in, both, ...E, ...V), has*, element data."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from typing import Any

from gremlin_python.process.traversal import Direction, P, T, TextP, WithOptions
from gremlin_python.structure.graph import Edge, Vertex, VertexProperty

from ...errors import QueryEvaluationError
from ..graph import Edg, Prop, VProp, Vtx
from ..traversal import (
    NOTHING,
    Compiler,
    Context,
    MapEntry,
    Step,
    Traversal,
    Traverser,
    is_traversal,
)
from ..values import equals, is_predicate, test_predicate
from . import register

# ---------------------------------------------------------------------------- helpers


def flatten_ids(args: list) -> list:
    out = []
    for a in args:
        if isinstance(a, (list, tuple, set, frozenset)):
            out.extend(flatten_ids(list(a)))
        elif a is not None:
            out.append(a)
    return out


def to_internal(ctx: Context, value: Any) -> Any:
    """gremlinpython elements given as arguments -> the engine's handles."""
    if isinstance(value, Vertex):
        gid = ctx.graph.find_vertex(value.id)
        return Vtx(gid) if gid is not None else Vtx(-1)
    if isinstance(value, Edge):
        eid = ctx.graph.find_edge(value.id)
        return Edg(eid) if eid is not None else Edg(-1)
    if isinstance(value, list):
        return [to_internal(ctx, v) for v in value]
    if isinstance(value, set):
        return {to_internal(ctx, v) for v in value}
    if isinstance(value, dict):
        return {to_internal(ctx, k): to_internal(ctx, v) for k, v in value.items()}
    return value


def element_id(ctx: Context, obj: Any) -> Any:
    if isinstance(obj, Vtx):
        return ctx.graph.vertex_id(obj.gid)
    if isinstance(obj, Edg):
        return ctx.graph.edge_id(obj.eid)
    if isinstance(obj, VProp):
        return obj.id
    raise QueryEvaluationError(f"id() cannot be applied to {type(obj).__name__} {obj!r}")


def element_label(ctx: Context, obj: Any) -> Any:
    if isinstance(obj, Vtx):
        return ctx.graph.vertex_label(obj.gid)
    if isinstance(obj, Edg):
        return ctx.graph.edge_label(obj.eid)
    if isinstance(obj, (VProp, Prop)):
        return obj.key
    raise QueryEvaluationError(f"label() cannot be applied to {type(obj).__name__} {obj!r}")


def properties_of(ctx: Context, obj: Any, keys: tuple = ()) -> list:
    """Vertex properties of a vertex, properties of an edge, meta-properties of a vp."""
    g = ctx.graph
    if isinstance(obj, Vtx):
        out = []
        props = g.vertex_properties(obj.gid)
        for key in keys or props.keys():
            for vp in props.get(key, ()):
                if ctx.strategies.partition_key is not None and key == ctx.strategies.partition_key:
                    continue
                if (ctx.strategies.subgraph_vprops is not None
                        or ctx.strategies.include_meta_properties) and not ctx.vprop_visible(vp):
                    continue
                out.append(vp)
        return out
    if isinstance(obj, Edg):
        props = g.edge_properties(obj.eid)
        pk = ctx.strategies.partition_key
        return [Prop(obj, k, props[k]) for k in (keys or props.keys()) if k in props and k != pk]
    if isinstance(obj, VProp):
        meta = obj.meta or {}
        pk = ctx.strategies.partition_key
        return [Prop(obj, k, meta[k]) for k in (keys or meta.keys()) if k in meta and k != pk]
    raise QueryEvaluationError(f"properties() cannot be applied to {type(obj).__name__} {obj!r}")


def values_of(ctx: Context, obj: Any, keys: tuple = ()) -> list:
    g = ctx.graph
    if isinstance(obj, Vtx) and len(keys) == 1 and not ctx.strategies.subgraph_vprops \
            and ctx.strategies.partition_key is None:
        return g.vertex_values(obj.gid, keys[0])
    if isinstance(obj, Edg) and len(keys) == 1 and ctx.strategies.partition_key is None:
        return g.edge_values(obj.eid, keys[0])
    if isinstance(obj, dict):
        return [obj[k] for k in (keys or obj.keys()) if k in obj]
    return [p.value for p in properties_of(ctx, obj, keys)]


# ---------------------------------------------------------------------------- V / E


class GraphStep(Step):
    """``V(ids...)`` / ``E(ids...)``: a start step, or mid-traversal for every input."""

    accepts_pending = False

    def __init__(self, c: Compiler, args: list, edges: bool):
        self.name = "E" if edges else "V"
        self.edges = edges
        self.raw = args
        self.ids = flatten_ids(args)
        self.all = not args
        self.pred = None
        if len(args) == 1 and is_predicate(args[0]):
            self.pred, self.ids, self.all = args[0], [], True

    def elements(self, ctx: Context) -> Iterator[Any]:
        g = ctx.graph
        if self.all:
            if self.edges:
                items: Iterator[Any] = (Edg(e) for e in g.edges())
            else:
                items = (Vtx(v) for v in g.vertices())
        else:
            found = []
            for i in self.ids:
                i = to_internal(ctx, i)
                if self.edges:
                    e = g.find_edge(i)
                    if e is not None:
                        found.append(Edg(e))
                else:
                    v = g.find_vertex(i)
                    if v is not None:
                        found.append(Vtx(v))
            items = iter(found)
        visible = ctx.edge_visible if self.edges else ctx.vertex_visible
        for el in items:
            if ctx.filtered and not visible(el):
                continue
            if self.pred is not None and test_predicate(self.pred, element_id(ctx, el)) is not True:
                continue
            yield el

    def process(self, ctx, ts):
        for t in ts:
            for el in self.elements(ctx):
                ctx.check_time()
                yield t.split(el)


@register("V")
def _v(c: Compiler, args: list) -> Step:
    return GraphStep(c, args, edges=False)


@register("E")
def _e(c: Compiler, args: list) -> Step:
    return GraphStep(c, args, edges=True)


# ---------------------------------------------------------------------------- adjacency


class VertexStep(Step):
    """out / in / both (vertices) and outE / inE / bothE (edges)."""

    def __init__(self, direction: str, labels: list, edges: bool, name: str):
        self.name = name
        self.direction = direction
        for lab in labels:
            if not isinstance(lab, str):
                raise QueryEvaluationError(f"{name}() takes edge labels (strings), got {lab!r}")
        self.labels = tuple(labels)
        self.edges = edges

    def neighbors(self, ctx: Context, v: Vtx) -> Iterator[Any]:
        g = ctx.graph
        dirs = ("out", "in") if self.direction == "both" else (self.direction,)
        if not g.directed:
            dirs = ("out",)
        for d in dirs:
            for eid, other in g.adjacent(v.gid, d, self.labels):
                if ctx.filtered:
                    if not ctx.edge_visible(Edg(eid)):
                        continue
                    if not self.edges and not ctx.vertex_visible(Vtx(other)):
                        continue
                yield Edg(eid) if self.edges else Vtx(other)

    def process(self, ctx, ts):
        for t in ts:
            obj = t.obj
            if not isinstance(obj, Vtx):
                raise QueryEvaluationError(f"{self.name}() expects vertices, got"
                                           f" {type(obj).__name__} {obj!r}")
            for n in self.neighbors(ctx, obj):
                ctx.check_time()
                yield t.split(n)


def _vertex_step(direction: str, edges: bool, name: str):
    def factory(c: Compiler, args: list) -> Step:
        return VertexStep(direction, args, edges, name)
    return factory


for _name, _d, _edges in (("out", "out", False), ("in", "in", False), ("both", "both", False),
                          ("outE", "out", True), ("inE", "in", True), ("bothE", "both", True)):
    register(_name)(_vertex_step(_d, _edges, _name))


_DIRS = {"OUT": "out", "IN": "in", "BOTH": "both", "from_": "out", "to": "in"}


@register("toDirection", "to")
def _to(c: Compiler, args: list) -> Step:
    if not args or not isinstance(args[0], Direction):
        raise QueryEvaluationError("to() as a step takes a Direction and edge labels")
    return VertexStep(_DIRS[args[0].name], args[1:], False, "to")


@register("toE")
def _to_e(c: Compiler, args: list) -> Step:
    if not args or not isinstance(args[0], Direction):
        raise QueryEvaluationError("toE() takes a Direction and edge labels")
    return VertexStep(_DIRS[args[0].name], args[1:], True, "toE")


class EdgeVertexStep(Step):
    """outV / inV / bothV / otherV."""

    def __init__(self, which: str):
        self.name = which

    def process(self, ctx, ts):
        g = ctx.graph
        for t in ts:
            e = t.obj
            if not isinstance(e, Edg):
                raise QueryEvaluationError(f"{self.name}() expects edges, got {type(e).__name__} {e!r}")
            out, inn = g.edge_ends(e.eid)
            if self.name == "outV":
                ends = [out]
            elif self.name == "inV":
                ends = [inn]
            elif self.name == "bothV":
                ends = [out, inn]
            else:
                prev = t.path[0][1] if t.path is not None and t.path[0] is not None else None
                if isinstance(prev, Vtx) and prev.gid == out:
                    ends = [inn]
                elif isinstance(prev, Vtx) and prev.gid == inn:
                    ends = [out]
                else:
                    ends = [inn]
            for v in ends:
                if ctx.filtered and not ctx.vertex_visible(Vtx(v)):
                    continue
                yield t.split(Vtx(v))


for _name in ("outV", "inV", "bothV", "otherV"):
    register(_name)(partial(lambda n, c, args: EdgeVertexStep(n), _name))


@register("toV")
def _to_v(c: Compiler, args: list) -> Step:
    d = args[0].name if args and isinstance(args[0], Direction) else "BOTH"
    return EdgeVertexStep({"OUT": "outV", "IN": "inV", "BOTH": "bothV", "from_": "outV",
                           "to": "inV"}[d])


# ---------------------------------------------------------------------------- has*


class FilterStep(Step):
    def keep(self, ctx: Context, t: Traverser) -> bool:
        raise NotImplementedError

    def process(self, ctx, ts):
        keep = self.keep
        for t in ts:
            if keep(ctx, t):
                yield t


def _matches(value: Any, test: Any) -> bool:
    if is_predicate(test):
        return test_predicate(test, value) is True
    return equals(value, test)


class HasStep(FilterStep):
    """has(key), has(key, value|P|traversal), has(label, key, value), has(T, value)."""

    name = "has"

    def __init__(self, c: Compiler, args: list):
        self.label = None
        self.trav: Traversal | None = None
        if len(args) == 1:
            self.key, self.test = args[0], NOTHING
        elif len(args) == 2:
            self.key, self.test = args
        elif len(args) == 3:
            self.label, self.key, self.test = args
            if not isinstance(self.label, str):
                raise QueryEvaluationError(f"has(label, key, value): label must be a string, got {self.label!r}")
        else:
            raise QueryEvaluationError(f"has() takes 1 to 3 arguments, got {len(args)}")
        if self.key is not None and not isinstance(self.key, (str, T)):
            raise QueryEvaluationError(f"has(): the key must be a string or a T token, got"
                                       f" {type(self.key).__name__} {self.key!r}")
        if is_traversal(self.test):
            self.trav = c.child(self.test)

    def keep(self, ctx, t):
        obj = t.obj
        if not isinstance(obj, (Vtx, Edg, VProp, Prop)):
            return False
        if self.label is not None and not _matches(element_label(ctx, obj), self.label):
            return False
        key = self.key
        if isinstance(key, T):
            name = key.name.rstrip("_")
            if name == "id":
                vals = [element_id(ctx, obj)] if not isinstance(obj, Prop) else []
            elif name == "label":
                vals = [element_label(ctx, obj)]
            elif name == "key":
                vals = [obj.key] if isinstance(obj, (VProp, Prop)) else []
            else:
                vals = [obj.value] if isinstance(obj, (VProp, Prop)) else []
            if self.test is NOTHING:
                return bool(vals)
            if name == "id" and self.trav is None and not is_predicate(self.test):
                return any(_id_equal(v, self.test) for v in vals)
            return any(self._test(ctx, t, v) for v in vals)
        if isinstance(obj, Prop) or key is None:
            return False
        vals = values_of(ctx, obj, (key,))
        if self.test is NOTHING:
            return bool(vals)
        return any(self._test(ctx, t, v) for v in vals)

    def _test(self, ctx: Context, t: Traverser, v: Any) -> bool:
        if self.trav is not None:
            return self.trav.test(ctx, t.split(v))
        return _matches(v, self.test)


register("has")(HasStep)


class HasNotStep(FilterStep):
    name = "hasNot"

    def __init__(self, c: Compiler, args: list):
        if len(args) != 1:
            raise QueryEvaluationError("hasNot() takes one property key")
        self.key = args[0]

    def keep(self, ctx, t):
        if not isinstance(t.obj, (Vtx, Edg, VProp)):
            return True
        return not values_of(ctx, t.obj, (self.key,))


register("hasNot")(HasNotStep)


class HasAnyStep(FilterStep):
    """hasLabel / hasId / hasKey / hasValue: one of the values (or a predicate) matches."""

    def __init__(self, name: str, args: list):
        self.name = name
        if not args:
            raise QueryEvaluationError(f"{name}() needs at least one argument")
        self.preds = [a for a in args if is_predicate(a)]
        vals = flatten_ids([a for a in args if not is_predicate(a)]) if name == "hasId" \
            else [a for a in args if not is_predicate(a)]
        self.values = vals
        if name == "hasLabel":
            for v in vals:
                if v is not None and not isinstance(v, str):
                    raise QueryEvaluationError(f"hasLabel() takes strings or a predicate, got {v!r}")

    def _get(self, ctx, obj):
        if self.name == "hasLabel":
            return element_label(ctx, obj) if isinstance(obj, (Vtx, Edg, VProp, Prop)) else NOTHING
        if self.name == "hasId":
            return element_id(ctx, obj) if isinstance(obj, (Vtx, Edg, VProp)) else NOTHING
        if self.name == "hasKey":
            return obj.key if isinstance(obj, (VProp, Prop)) else NOTHING
        return obj.value if isinstance(obj, (VProp, Prop)) else NOTHING

    def keep(self, ctx, t):
        v = self._get(ctx, t.obj)
        if v is NOTHING:
            return False
        if self.name == "hasId" and self.values:
            vals = [to_internal(ctx, x) for x in self.values]
            for x in vals:
                if isinstance(x, (Vtx, Edg)) and x == t.obj:
                    return True
            if any(_id_equal(v, x) for x in vals if not isinstance(x, (Vtx, Edg))):
                return True
        elif any(equals(v, x) for x in self.values):
            return True
        return any(test_predicate(p, v) is True for p in self.preds)


def _id_equal(a: Any, b: Any) -> bool:
    if equals(a, b):
        return True
    if isinstance(a, str) != isinstance(b, str):
        return str(a) == str(b)
    return False


for _name in ("hasLabel", "hasId", "hasKey", "hasValue"):
    register(_name)(partial(lambda n, c, args: HasAnyStep(n, args), _name))


# ---------------------------------------------------------------------------- element data


class MapStep(Step):
    def map(self, ctx: Context, t: Traverser) -> Any:
        raise NotImplementedError

    def process(self, ctx, ts):
        f = self.map
        for t in ts:
            v = f(ctx, t)
            if v is not NOTHING:
                yield t.split(v)


class FlatMapStep(Step):
    def flat(self, ctx: Context, t: Traverser) -> Any:
        raise NotImplementedError

    def process(self, ctx, ts):
        f = self.flat
        for t in ts:
            for v in f(ctx, t):
                yield t.split(v)


class IdStep(MapStep):
    name = "id"

    def map(self, ctx, t):
        return element_id(ctx, t.obj)


class LabelStep(MapStep):
    name = "label"

    def map(self, ctx, t):
        return element_label(ctx, t.obj)


register("id")(lambda c, args: IdStep())
register("label")(lambda c, args: LabelStep())


class KeyValueStep(MapStep):
    def __init__(self, name: str):
        self.name = name

    def map(self, ctx, t):
        obj = t.obj
        if isinstance(obj, (VProp, Prop)):
            return obj.key if self.name == "key" else obj.value
        if isinstance(obj, MapEntry):
            return obj.key if self.name == "key" else obj.value
        raise QueryEvaluationError(f"{self.name}() expects a property, got {type(obj).__name__} {obj!r}")


register("key")(lambda c, args: KeyValueStep("key"))
register("value")(lambda c, args: KeyValueStep("value"))


class PropertiesStep(FlatMapStep):
    def __init__(self, name: str, keys: list):
        self.name = name
        for k in keys:
            if k is not None and not isinstance(k, str):   # a null key names no property
                raise QueryEvaluationError(f"{name}() takes property keys (strings), got {k!r}")
        self.keys = tuple(keys)

    def flat(self, ctx, t):
        obj = t.obj
        if self.name == "values":
            if isinstance(obj, (Vtx, Edg, VProp, dict)):
                return values_of(ctx, obj, self.keys)
            raise QueryEvaluationError(f"values() expects an element, got {type(obj).__name__} {obj!r}")
        return properties_of(ctx, obj, self.keys)


register("values")(lambda c, args: PropertiesStep("values", args))
register("properties")(lambda c, args: PropertiesStep("properties", args))


class ElementStep(MapStep):
    name = "element"

    def map(self, ctx, t):
        obj = t.obj
        if isinstance(obj, VProp):
            return obj.vertex
        if isinstance(obj, Prop):
            return obj.element
        raise QueryEvaluationError(f"element() expects a property, got {obj!r}")


register("element")(lambda c, args: ElementStep())


class PropertyMapStep(MapStep):
    """valueMap / propertyMap / elementMap, with ``by()`` on values and ``with(tokens)``."""

    def __init__(self, c: Compiler, name: str, args: list):
        self.name = name
        self.tokens = 0           # 0 none, 1 ids, 2 labels, 15 all
        if name == "valueMap" and args and isinstance(args[0], bool):
            self.tokens = 15 if args[0] else 0
            args = args[1:]
        for k in args:
            if k is not None and not isinstance(k, str):   # a null key names no property
                raise QueryEvaluationError(f"{name}() takes property keys, got {k!r}")
        self.keys = tuple(args)
        self.by = None
        self.c = c

    def modulate(self, c, name, args, before=False):
        if name == "by" and self.name == "valueMap":
            from ..traversal import make_by
            if self.by is not None:
                raise QueryEvaluationError("valueMap() step can only have one by modulator")
            self.by = make_by(c, args)
        elif name == "with":
            key = args[0] if args else None
            if key == WithOptions.tokens:
                val = args[1] if len(args) > 1 else WithOptions.all
                self.tokens = {WithOptions.none: 0, WithOptions.ids: 1, WithOptions.labels: 2,
                               WithOptions.keys: 4, WithOptions.values: 8,
                               WithOptions.all: 15}.get(val, val if isinstance(val, int) else 15)
        else:
            super().modulate(c, name, args)

    def map(self, ctx, t):
        obj = t.obj
        g = ctx.graph
        out: dict = {}
        if self.name == "elementMap" or self.tokens:
            if isinstance(obj, (Vtx, Edg)):
                if self.name == "elementMap" or self.tokens & 1:
                    out[T.id] = element_id(ctx, obj)
                if self.name == "elementMap" or self.tokens & 2:
                    out[T.label] = element_label(ctx, obj)
            elif isinstance(obj, VProp):
                if self.tokens & 1:
                    out[T.id] = obj.id
                if self.tokens & 4:
                    out[T.key] = obj.key
                if self.tokens & 8:
                    out[T.value] = obj.value
        if self.name == "elementMap" and isinstance(obj, Edg):
            o, i = g.edge_ends(obj.eid)
            out[Direction.IN] = {T.id: g.vertex_id(i), T.label: g.vertex_label(i)}
            out[Direction.OUT] = {T.id: g.vertex_id(o), T.label: g.vertex_label(o)}
        if not isinstance(obj, (Vtx, Edg, VProp)):
            raise QueryEvaluationError(f"{self.name}() expects an element, got {type(obj).__name__} {obj!r}")
        props = properties_of(ctx, obj, self.keys)
        if isinstance(obj, Vtx):
            grouped: dict = {}
            for p in props:
                grouped.setdefault(p.key, []).append(p)
            for k, ps in grouped.items():
                if self.name == "valueMap":
                    out[k] = [p.value for p in ps]
                elif self.name == "propertyMap":
                    out[k] = ps
                else:
                    out[k] = ps[0].value
        else:
            for p in props:
                if self.name == "propertyMap":
                    out[p.key] = [p] if isinstance(obj, Vtx) else p
                else:
                    out[p.key] = p.value
        if self.by is not None:
            for k in list(out):
                if isinstance(k, str):
                    v = self.by.value_of(ctx, out[k], t)
                    if v is NOTHING:
                        del out[k]
                    else:
                        out[k] = v
        return out


for _name in ("valueMap", "propertyMap", "elementMap"):
    register(_name)(partial(lambda n, c, args: PropertyMapStep(c, n, args), _name))


__all__ = [
    "FilterStep",
    "FlatMapStep",
    "MapStep",
    "P",
    "TextP",
    "VertexProperty",
    "element_id",
    "element_label",
    "properties_of",
    "to_internal",
    "values_of",
]
