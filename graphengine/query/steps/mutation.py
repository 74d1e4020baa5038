"""Mutation steps: addV, addE (from / to), property (cardinality, meta-properties), drop,
mergeV, mergeE (option onCreate / onMatch / outV / inV)."""

from __future__ import annotations

from typing import Any

from gremlin_python.process.traversal import Cardinality, Direction, Merge, T

from ...errors import QueryEvaluationError
from ..graph import Edg, Prop, VProp, Vtx
from ..traversal import (
    NOTHING,
    Compiler,
    Context,
    Step,
    Traversal,
    Traverser,
    cardinality_value,
    is_traversal,
    scope_value,
)
from ..values import equals
from . import register
from .graph import element_id, element_label, to_internal, values_of

START = object()   # the object of the root traverser a start step receives


def _check_writable(ctx: Context) -> None:
    if ctx.strategies.read_only:
        raise QueryEvaluationError("The provided traversal has a mutating step and thus is not"
                                   " read only: ReadOnlyStrategy")


def _card_name(c: Any) -> str:
    return c.name.rstrip("_")


class AddVertexStep(Step):
    name = "addV"

    def __init__(self, c: Compiler, args: list):
        self.label: Any = args[0] if args else "vertex"
        if is_traversal(self.label):
            self.label = c.child(self.label)
        elif self.label is None or not isinstance(self.label, str):
            raise QueryEvaluationError(f"addV() takes a label (string) or a traversal, got {self.label!r}")

    def process(self, ctx, ts):
        _check_writable(ctx)
        g = ctx.graph
        for t in ts:
            label = self.label
            if isinstance(label, Traversal):
                label = label.first(ctx, t)
                if label is NOTHING or not isinstance(label, str):
                    raise QueryEvaluationError("addV(traversal): the traversal must give a label")
            gid = g.add_vertex(label)
            v = Vtx(gid)
            if ctx.strategies.partition_key is not None:
                g.set_vertex_property(gid, ctx.strategies.partition_key, ctx.strategies.write_partition)
            yield (ctx.new_traverser(v) if t.obj is START else t.split(v))


register("addV")(AddVertexStep)


class AddEdgeStep(Step):
    name = "addE"

    def __init__(self, c: Compiler, args: list):
        if len(args) != 1:
            raise QueryEvaluationError("addE() takes an edge label")
        self.label = c.child(args[0]) if is_traversal(args[0]) else args[0]
        if not isinstance(self.label, (str, Traversal)):
            raise QueryEvaluationError(f"addE() takes a label, got {self.label!r}")
        self.src: Any = None
        self.dst: Any = None

    def modulate(self, c, name, args, before=False):
        if name not in ("from", "to"):
            return super().modulate(c, name, args)
        if len(args) != 1:
            raise QueryEvaluationError(f"{name}() takes one argument")
        arg = c.child(args[0]) if is_traversal(args[0]) else args[0]
        if name == "from":
            self.src = arg
        else:
            self.dst = arg

    def _end(self, ctx: Context, t: Traverser, spec: Any, which: str) -> Vtx:
        if spec is None:
            v = t.obj
        elif isinstance(spec, Traversal):
            v = spec.first(ctx, t)
        elif isinstance(spec, str):
            v = scope_value(ctx, t, spec)
        else:
            v = to_internal(ctx, spec)
            if not isinstance(v, Vtx):
                gid = ctx.graph.find_vertex(v)
                v = Vtx(gid) if gid is not None else NOTHING
        if v is NOTHING or v is None:
            raise QueryEvaluationError(f"The value given to addE({which}) must resolve to a Vertex"
                                       f" but null was specified instead")
        if not isinstance(v, Vtx):
            if isinstance(v, (int, str)):
                gid = ctx.graph.find_vertex(v)
                if gid is not None:
                    return Vtx(gid)
            raise QueryEvaluationError(f"The value given to addE({which}) must resolve to a Vertex"
                                       f" but {type(v).__name__} was specified instead")
        return v

    def process(self, ctx, ts):
        _check_writable(ctx)
        g = ctx.graph
        for t in ts:
            label = self.label.first(ctx, t) if isinstance(self.label, Traversal) else self.label
            src = self._end(ctx, t, self.src, "from")
            dst = self._end(ctx, t, self.dst, "to")
            eid = g.add_edge(label, src.gid, dst.gid)
            if ctx.strategies.partition_key is not None:
                g.set_edge_property(eid, ctx.strategies.partition_key, ctx.strategies.write_partition)
            e = Edg(eid)
            yield (ctx.new_traverser(e) if t.obj is START else t.split(e))


register("addE")(AddEdgeStep)


class PropertyStep(Step):
    name = "property"

    def __init__(self, c: Compiler, args: list):
        self.card = None
        if args and isinstance(args[0], Cardinality):
            self.card, args = _card_name(args[0]), args[1:]
        self.map = None
        if len(args) == 1 and isinstance(args[0], dict):
            self.map = args[0]
            self.key = self.value = None
            self.meta = []
            return
        if len(args) < 2 or len(args) % 2:
            raise QueryEvaluationError("property() takes a key and a value, then meta-property"
                                       " key/value pairs")
        self.key = args[0]
        if not isinstance(self.key, (str, T)):
            raise QueryEvaluationError(f"property(): the key must be a string or T, got {self.key!r}")
        self.value = c.child(args[1]) if is_traversal(args[1]) else args[1]
        self.meta = [(args[i], c.child(args[i + 1]) if is_traversal(args[i + 1]) else args[i + 1])
                     for i in range(2, len(args), 2)]

    def _resolve(self, ctx, t, v):
        if isinstance(v, Traversal):
            r = v.first(ctx, t)
            if r is NOTHING:
                raise QueryEvaluationError("property(): the value traversal produced no value")
            return r
        return to_internal(ctx, v)

    def process(self, ctx, ts):
        _check_writable(ctx)
        for t in ts:
            if self.map is not None:
                for k, v in self.map.items():
                    card = self.card
                    cv = cardinality_value(v)
                    if cv is not None:
                        card, v = cv
                    self._set(ctx, t, k, self._resolve(ctx, t, v), card, [])
            else:
                value = self._resolve(ctx, t, self.value)
                card = self.card
                cv = cardinality_value(value)
                if cv is not None:
                    card, value = cv
                meta = [(k, self._resolve(ctx, t, v)) for k, v in self.meta]
                self._set(ctx, t, self.key, value, card, meta)
            yield t

    def _set(self, ctx: Context, t: Traverser, key: Any, value: Any, card: str | None,
             meta: list) -> None:
        g = ctx.graph
        obj = t.obj
        if isinstance(key, T):
            name = key.name.rstrip("_")
            if isinstance(obj, Vtx) and obj.gid in g.new_v:
                rec = g.new_v[obj.gid]
                if name == "id":
                    if g.find_vertex(value) is not None and not equals(rec.id, value):
                        raise QueryEvaluationError(f"Vertex with id already exists: {value}")
                    g._vid_index.pop(rec.id if not isinstance(rec.id, list) else None, None)
                    rec.id = value
                    g._vid_index[value] = obj.gid
                    return
                if name == "label":
                    rec.label = value
                    return
            if isinstance(obj, Edg) and obj.eid in g.new_e and name == "id":
                g.new_e[obj.eid].id = value
                if g._eid_index is not None:
                    g._eid_index[value] = obj.eid
                return
            raise QueryEvaluationError(f"T.{name} cannot be set by property() on an existing element")
        if isinstance(obj, Vtx):
            if value is None:
                for vp in list(g.vertex_properties(obj.gid).get(key, ())):
                    g.remove_vertex_property(vp)
                return
            card = card or "single"
            meta_d = {k: v for k, v in meta}
            if ctx.strategies.partition_key is not None and ctx.strategies.include_meta_properties:
                meta_d[ctx.strategies.partition_key] = ctx.strategies.write_partition
            g.set_vertex_property(obj.gid, key, value, card, meta_d or None)
        elif isinstance(obj, Edg):
            if card is not None and card != "single":
                raise QueryEvaluationError("Edge properties do not have cardinality: property(list|set,...)"
                                           " applies to vertices")
            if meta:
                raise QueryEvaluationError("Property does not support meta-properties on edges")
            if value is None:
                g.remove_edge_property(obj.eid, key)
            else:
                g.set_edge_property(obj.eid, key, value)
        elif isinstance(obj, VProp):
            if value is None:
                g.remove_meta_property(obj, key)
            else:
                g.set_meta_property(obj, key, value)
        else:
            raise QueryEvaluationError(f"property() can only be applied to an element, got"
                                       f" {type(obj).__name__} {obj!r}")


register("property")(PropertyStep)


class DropStep(Step):
    name = "drop"

    def process(self, ctx, ts):
        _check_writable(ctx)
        g = ctx.graph
        for t in list(ts):
            obj = t.obj
            if isinstance(obj, Vtx):
                g.drop_vertex(obj.gid)
            elif isinstance(obj, Edg):
                g.drop_edge(obj.eid)
            elif isinstance(obj, VProp):
                g.remove_vertex_property(obj)
            elif isinstance(obj, Prop):
                el = obj.element
                if isinstance(el, Edg):
                    g.remove_edge_property(el.eid, obj.key)
                elif isinstance(el, VProp):
                    g.remove_meta_property(el, obj.key)
            else:
                raise QueryEvaluationError(f"drop() applies to elements and properties, got {obj!r}")
        return
        yield


register("drop")(lambda c, args: DropStep())


# ---------------------------------------------------------------------------- merge


def _resolve_map(ctx: Context, t: Traverser, spec: Any, what: str) -> dict | None:
    if spec is None:
        return None
    if isinstance(spec, Traversal):
        v = spec.first(ctx, t)
        if v is NOTHING or v is None:
            return None
        spec = v
    if not isinstance(spec, dict):
        raise QueryEvaluationError(f"{what} must be a Map, got {type(spec).__name__} {spec!r}")
    return spec


def _token(k: Any) -> str | None:
    if isinstance(k, T):
        return k.name.rstrip("_")
    if isinstance(k, Direction):
        return {"OUT": "out", "IN": "in", "from_": "out", "to": "in"}.get(k.name)
    return None


class MergeStep(Step):
    """mergeV(map) / mergeE(map) with option(Merge.onCreate | onMatch | outV | inV, map)."""

    def __init__(self, c: Compiler, name: str, args: list):
        self.name = name
        self.edge = name == "mergeE"
        self.spec = None
        if args:
            a = args[0]
            self.spec = c.child(a) if is_traversal(a) else a
            if self.spec is not None and not isinstance(self.spec, (dict, Traversal)):
                raise QueryEvaluationError(f"{name}() takes a Map or a traversal, got {a!r}")
        self.given = bool(args)
        self.on_create = None
        self.on_match = None
        self.out_v = None
        self.in_v = None

    def modulate(self, c, name, args, before=False):
        if name != "option":
            return super().modulate(c, name, args)
        if len(args) != 2 or not isinstance(args[0], Merge):
            raise QueryEvaluationError(f"{self.name}().option() takes a Merge token and a Map")
        val = c.child(args[1]) if is_traversal(args[1]) else args[1]
        n = args[0].name
        if n in ("on_create", "onCreate"):
            self.on_create = val
        elif n in ("on_match", "onMatch"):
            self.on_match = val
        elif n in ("out_v", "outV"):
            self.out_v = val
        else:
            self.in_v = val

    def _validate(self, m: dict, what: str) -> None:
        for k in m:
            tok = _token(k)
            if isinstance(k, str) or tok in ("id", "label") or (self.edge and tok in ("out", "in")):
                continue
            raise QueryEvaluationError(f"{what} may only contain String, T.id, T.label"
                                       f"{', Direction.OUT, Direction.IN' if self.edge else ''}"
                                       f" keys - found {k!r}")
            # noqa

    def process(self, ctx, ts):
        _check_writable(ctx)
        for t in ts:
            if self.given:
                search = _resolve_map(ctx, t, self.spec, f"{self.name}()")
            else:
                search = t.obj if isinstance(t.obj, dict) else None
            search = dict(search or {})
            self._validate(search, self.name)
            if self.edge:
                search = self._edge_ends(ctx, t, search)
            matches = self._find(ctx, search)
            if matches:
                om = _resolve_map(ctx, t, self.on_match, "onMatch")
                for m in matches:
                    if om:
                        self._apply_match(ctx, t, m, om)
                    yield t.split(m) if t.obj is not START else ctx.new_traverser(m)
            else:
                oc = _resolve_map(ctx, t, self.on_create, "onCreate")
                created = self._create(ctx, t, search, oc or {})
                yield t.split(created) if t.obj is not START else ctx.new_traverser(created)

    def _edge_ends(self, ctx, t, search: dict) -> dict:
        out = {}
        for k, v in search.items():
            tok = _token(k)
            if tok in ("out", "in"):
                if isinstance(v, Merge):
                    spec = self.out_v if v.name in ("out_v", "outV") else self.in_v
                    m = _resolve_map(ctx, t, spec, "option(Merge.outV/inV)")
                    v = self._find_vertex_by_map(ctx, m)
                out[tok] = self._vertex(ctx, v)
            else:
                out[k] = v
        return out

    def _find_vertex_by_map(self, ctx, m: dict | None) -> Any:
        if m is None:
            raise QueryEvaluationError("option(Merge.outV/inV) must give a Map")
        found = _match_vertices(ctx, m)
        if not found:
            raise QueryEvaluationError(f"Vertex for outV/inV could not be found: {m}")
        return found[0]

    def _vertex(self, ctx, v: Any) -> Vtx:
        v = to_internal(ctx, v)
        if isinstance(v, Vtx):
            if not ctx.graph.vertex_exists(v.gid):
                raise QueryEvaluationError("Vertex does not exist")
            return v
        gid = ctx.graph.find_vertex(v)
        if gid is None:
            raise QueryEvaluationError(f"Vertex id could not be resolved from mergeE: {v!r}")
        return Vtx(gid)

    def _find(self, ctx, search: dict) -> list:
        if self.edge:
            return _match_edges(ctx, search)
        return _match_vertices(ctx, search)

    def _apply_match(self, ctx, t, el, om: dict) -> None:
        g = ctx.graph
        for k in om:
            if _token(k) in ("id", "label", "out", "in"):
                raise QueryEvaluationError(f"{self.name}() onMatch cannot override {k!r}")
        for k, v in om.items():
            card = "single"
            cv = cardinality_value(v)
            if cv is not None:
                card, v = cv
            if isinstance(el, Vtx):
                if v is None:
                    for vp in list(g.vertex_properties(el.gid).get(k, ())):
                        g.remove_vertex_property(vp)
                else:
                    g.set_vertex_property(el.gid, k, v, card)
            else:
                if v is None:
                    g.remove_edge_property(el.eid, k)
                else:
                    g.set_edge_property(el.eid, k, v)

    def _create(self, ctx, t, search: dict, oc: dict) -> Any:
        g = ctx.graph
        for k, v in oc.items():
            if k in search and not equals(search[k], v) or (
                    _token(k) and any(_token(s) == _token(k) and not equals(search[s], v) for s in search)):
                raise QueryEvaluationError(f"option(onCreate) cannot override values from the"
                                           f" search criteria: {k!r}")
        full = {**search, **oc}
        ident = next((v for k, v in full.items() if _token(k) == "id"), None)
        label = next((v for k, v in full.items() if _token(k) == "label"), None)
        if self.edge:
            src = full.get("out")
            dst = full.get("in")
            for k, v in full.items():
                if _token(k) in ("out", "in") and not isinstance(v, Vtx):
                    v = self._vertex(ctx, v)
                    if _token(k) == "out":
                        src = v
                    else:
                        dst = v
            if src is None or dst is None:
                raise QueryEvaluationError("mergeE() needs Direction.OUT and Direction.IN to create an edge")
            eid = g.add_edge(label or "edge", src.gid, dst.gid, ident)
            for k, v in full.items():
                if isinstance(k, str) and v is not None:
                    g.set_edge_property(eid, k, v)
            if ctx.strategies.partition_key is not None:
                g.set_edge_property(eid, ctx.strategies.partition_key, ctx.strategies.write_partition)
            return Edg(eid)
        gid = g.add_vertex(label or "vertex", ident)
        for k, v in full.items():
            if isinstance(k, str):
                card = "single"
                cv = cardinality_value(v)
                if cv is not None:
                    card, v = cv
                if v is not None:
                    g.set_vertex_property(gid, k, v, card)
        if ctx.strategies.partition_key is not None:
            g.set_vertex_property(gid, ctx.strategies.partition_key, ctx.strategies.write_partition)
        return Vtx(gid)


def _match_vertices(ctx: Context, m: dict) -> list:
    g = ctx.graph
    ident = next((v for k, v in m.items() if _token(k) == "id"), NOTHING)
    if ident is not NOTHING:
        gid = g.find_vertex(ident)
        cands = [Vtx(gid)] if gid is not None else []
    else:
        cands = [Vtx(v) for v in g.vertices()]
    out = []
    for v in cands:
        if ctx.filtered and not ctx.vertex_visible(v):
            continue
        ok = True
        for k, val in m.items():
            tok = _token(k)
            if tok == "id":
                continue
            if tok == "label":
                ok = equals(element_label(ctx, v), val)
            else:
                cv = cardinality_value(val)
                if cv is not None:
                    val = cv[1]
                vals = values_of(ctx, v, (k,))
                ok = (not vals) if val is None else any(equals(x, val) for x in vals)
            if not ok:
                break
        if ok:
            out.append(v)
    return out


def _match_edges(ctx: Context, m: dict) -> list:
    g = ctx.graph
    ident = next((v for k, v in m.items() if _token(k) == "id"), NOTHING)
    if ident is not NOTHING:
        eid = g.find_edge(ident)
        cands = [Edg(eid)] if eid is not None else []
    elif isinstance(m.get("out"), Vtx):
        cands = [Edg(e) for e, _ in g.adjacent(m["out"].gid, "out")]
    elif isinstance(m.get("in"), Vtx):
        cands = [Edg(e) for e, _ in g.adjacent(m["in"].gid, "in")]
    else:
        cands = [Edg(e) for e in g.edges()]
    out = []
    for e in cands:
        if ctx.filtered and not ctx.edge_visible(e):
            continue
        o, i = g.edge_ends(e.eid)
        ok = True
        for k, val in m.items():
            tok = _token(k)
            if tok == "id":
                continue
            if k == "out":
                ok = val.gid == o
            elif k == "in":
                ok = val.gid == i
            elif tok == "label":
                ok = equals(g.edge_label(e.eid), val)
            else:
                v = g.edge_value(e.eid, k)
                ok = (v is None) if val is None else (v is not None and equals(v, val))
            if not ok:
                break
        if ok:
            out.append(e)
    return out


register("mergeV")(lambda c, args: MergeStep(c, "mergeV", args))
register("mergeE")(lambda c, args: MergeStep(c, "mergeE", args))

__all__ = ["START", "element_id"]
