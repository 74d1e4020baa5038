"""Mutation steps: addV, addE (from / to), property (cardinality, meta-properties), drop,
mergeV, mergeE (option onCreate / onMatch / outV / inV), subgraph.

TinkerPop folds a ``property()`` that directly follows ``addV()`` / ``addE()`` (string, T or
traversal key; for a vertex no cardinality and no meta-properties) into the add step: its
value is computed from the incoming traverser, and vertex properties added that way take
``list`` cardinality. :class:`PropertyStep` does the same (see :meth:`PropertyStep.fold_into`).
"""

from __future__ import annotations

import enum
from typing import Any

from gremlin_python.process.traversal import (
    Cardinality,
    CardinalityValue,
    Direction,
    Merge,
    T,
)

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
from .graph import element_id, element_label, to_internal

START = object()   # the object of the root traverser a start step receives


def _check_writable(ctx: Context) -> None:
    if ctx.strategies.read_only:
        raise QueryEvaluationError("The provided traversal has a mutating step and thus is not"
                                   " read only: ReadOnlyStrategy")


def _check_reserved(ctx: Context, keys: list) -> None:
    """ReservedKeysVerificationStrategy(throwException: true): no property key may be reserved."""
    reserved = ctx.strategies.reserved_keys
    if reserved:
        for k in keys:
            if isinstance(k, str) and k in reserved:
                raise QueryEvaluationError(f"The provided traversal is setting a property key to a"
                                           f" reserved word: {k}")


def _card_name(c: Any) -> str:
    return c.name.rstrip("_")


def _emit(ctx: Context, t: Traverser, obj: Any) -> Traverser:
    return ctx.new_traverser(obj) if t.obj is START else t.split(obj)


def _fmt(x: Any) -> str:
    """A value as Java prints it in an error message."""
    if isinstance(x, T):
        return x.name.rstrip("_")
    if isinstance(x, Direction):
        return {"from_": "OUT", "to": "IN"}.get(x.name, x.name)
    if isinstance(x, Merge):
        return {"on_create": "onCreate", "on_match": "onMatch", "out_v": "outV",
                "in_v": "inV"}.get(x.name, x.name)
    if isinstance(x, dict):
        return "{" + ", ".join(f"{_fmt(k)}={_fmt(v)}" for k, v in x.items()) + "}"
    if x is None:
        return "null"
    return str(x)


def _eval(ctx: Context, t: Traverser, spec: Any, what: str) -> Any:
    """A step argument for one traverser: a traversal's first result, else the constant."""
    if isinstance(spec, Traversal):
        r = spec.first(ctx, t)
        if r is NOTHING:
            raise QueryEvaluationError(f"The provided traverser does not map to a value: {what}")
        return r
    return to_internal(ctx, spec)


def _validate_property_key(key: Any) -> None:
    if key is None:
        raise QueryEvaluationError("Property key can not be null")
    if not isinstance(key, str):
        raise QueryEvaluationError(f"Property key must be a String, got {_fmt(key)}")
    if key == "":
        raise QueryEvaluationError("Property key can not be empty")
    if key.startswith("~"):
        raise QueryEvaluationError(f"Property key can not be a hidden key: {key}")


def _validate_label(label: Any) -> None:
    if label is None:
        raise QueryEvaluationError("Label can not be null")
    if label == "":
        raise QueryEvaluationError("Label can not be empty")
    if isinstance(label, str) and label.startswith("~"):
        raise QueryEvaluationError(f"Label can not be a hidden key: {label}")


def _set_vertex_prop(ctx: Context, gid: int, key: str, value: Any, card: str,
                     meta: dict | None = None) -> None:
    """``vertex.property(card, key, value, meta...)``; a null value removes the key (TinkerGraph
    without null property values)."""
    g = ctx.graph
    if value is None and not g.allow_null:
        for vp in list(g.vertex_properties(gid).get(key, ())):
            g.remove_vertex_property(vp)
        return
    g.set_vertex_property(gid, key, value, card, meta or None)


def _set_edge_prop(ctx: Context, eid: int, key: str, value: Any) -> None:
    if value is None and not ctx.graph.allow_null:
        ctx.graph.remove_edge_property(eid, key)
    else:
        ctx.graph.set_edge_property(eid, key, value)


# ---------------------------------------------------------------------------- addV / addE


class _AddStep(Step):
    """What addV and addE share: folded ``property()`` parameters and ``with()``."""

    def __init__(self) -> None:
        self.params: list[tuple[Any, Any]] = []   # (key, value): str | T | Traversal each

    def modulate(self, c, name, args, before=False):
        if name == "with":
            return   # configuration for providers: no effect on TinkerGraph's results
        return super().modulate(c, name, args)

    def children(self):
        return [x for kv in self.params for x in kv if isinstance(x, Traversal)]

    def resolved_params(self, ctx: Context, t: Traverser) -> list[tuple[Any, Any]]:
        out = []
        for k, v in self.params:
            key = _eval(ctx, t, k, "property key") if isinstance(k, Traversal) else k
            val = _eval(ctx, t, v, "property value")
            out.append((key, val))
        return out


class AddVertexStep(_AddStep):
    name = "addV"

    def __init__(self, c: Compiler, args: list):
        super().__init__()
        self.label: Any = args[0] if args else "vertex"
        if is_traversal(self.label):
            self.label = c.child(self.label)
        elif self.label is None or not isinstance(self.label, str):
            raise QueryEvaluationError(f"addV() takes a label (string) or a traversal, got {self.label!r}")

    def children(self):
        return super().children() + ([self.label] if isinstance(self.label, Traversal) else [])

    def process(self, ctx, ts):
        _check_writable(ctx)
        _check_reserved(ctx, [k for k, _ in self.params])
        g = ctx.graph
        st = ctx.strategies
        for t in ts:
            label = self.label
            if isinstance(label, Traversal):
                label = label.first(ctx, t)
                if label is NOTHING or not isinstance(label, str):
                    raise QueryEvaluationError("addV(traversal): the traversal must give a label")
            params = self.resolved_params(ctx, t)
            vid = None
            props = []
            for k, v in params:
                if isinstance(k, T):
                    name = k.name.rstrip("_")
                    if v is None:
                        raise QueryEvaluationError("Value of T cannot be null")
                    if name == "id":
                        vid = v
                    elif name == "label":
                        label = v
                    else:
                        raise QueryEvaluationError(f"T.{name} cannot be set by property()")
                else:
                    props.append((k, v))
            _validate_label(label)
            gid = g.add_vertex(label, vid)
            meta = {st.partition_key: st.write_partition} \
                if st.partition_key is not None and st.include_meta_properties else None
            for k, v in props:
                cv = cardinality_value(v)
                card = "list"
                if cv is not None:
                    card, v = cv
                _validate_property_key(k)
                _set_vertex_prop(ctx, gid, k, v, card, meta)
            if st.partition_key is not None:
                g.set_vertex_property(gid, st.partition_key, st.write_partition)
            yield _emit(ctx, t, Vtx(gid))


register("addV")(AddVertexStep)


class AddEdgeStep(_AddStep):
    name = "addE"

    def __init__(self, c: Compiler, args: list):
        super().__init__()
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

    def children(self):
        extra = [x for x in (self.label, self.src, self.dst) if isinstance(x, Traversal)]
        return super().children() + extra

    def _end(self, ctx: Context, t: Traverser, spec: Any, which: str, label: str) -> Vtx:
        if spec is None:
            v = t.obj
        elif isinstance(spec, Traversal):
            v = spec.first(ctx, t)
        elif isinstance(spec, str):
            v = scope_value(ctx, t, spec)
        else:
            v = to_internal(ctx, spec)
        if isinstance(v, Vtx) and ctx.graph.vertex_exists(v.gid):
            return v
        if v is not NOTHING and v is not None and not isinstance(v, (Vtx, Edg, VProp, Prop, dict, list)) \
                and v is not START:
            gid = ctx.graph.find_vertex(v)
            if gid is not None:
                return Vtx(gid)
        raise QueryEvaluationError(
            f"The value given to addE({label}).{which}() must resolve to a Vertex or the ID of a"
            f" Vertex present in the graph. The provided value does not match any vertices in"
            f" the graph")

    def process(self, ctx, ts):
        _check_writable(ctx)
        _check_reserved(ctx, [k for k, _ in self.params])
        g = ctx.graph
        st = ctx.strategies
        for t in ts:
            label = self.label.first(ctx, t) if isinstance(self.label, Traversal) else self.label
            if label is NOTHING or not isinstance(label, str):
                raise QueryEvaluationError("addE(traversal): the traversal must give a label")
            _validate_label(label)
            dst = self._end(ctx, t, self.dst, "to", label)
            src = self._end(ctx, t, self.src, "from", label)
            params = self.resolved_params(ctx, t)
            eid_value = None
            props = []
            for k, v in params:
                if isinstance(k, T):
                    if v is None:
                        raise QueryEvaluationError("Value of T cannot be null")
                    if k.name.rstrip("_") == "id":
                        eid_value = v
                    else:
                        raise QueryEvaluationError(f"T.{_fmt(k)} cannot be set by property() on an edge")
                else:
                    props.append((k, v))
            eid = g.add_edge(label, src.gid, dst.gid, eid_value)
            for k, v in props:
                _validate_property_key(k)
                _set_edge_prop(ctx, eid, k, v)
            if st.partition_key is not None:
                g.set_edge_property(eid, st.partition_key, st.write_partition)
            yield _emit(ctx, t, Edg(eid))


register("addE")(AddEdgeStep)


# ---------------------------------------------------------------------------- property


class PropertyStep(Step):
    name = "property"

    def __init__(self, c: Compiler, args: list):
        self.card = None
        if args and isinstance(args[0], Cardinality):
            self.card, args = _card_name(args[0]), args[1:]
        self.map = None
        if len(args) == 1 and (isinstance(args[0], dict) or args[0] is None):
            self.map = {k: (c.child(v) if is_traversal(v) and cardinality_value(v) is None else v)
                        for k, v in (args[0] or {}).items()}
            self.key = self.value = None
            self.meta = []
            return
        if len(args) < 2 or len(args) % 2:
            raise QueryEvaluationError("property() takes a key and a value, then meta-property"
                                       " key/value pairs")
        self.key = c.child(args[0]) if is_traversal(args[0]) else args[0]
        if not isinstance(self.key, (str, T, Traversal)):
            raise QueryEvaluationError(f"property(): the key must be a string or T, got {self.key!r}")
        if isinstance(self.key, T) and args[1] is None:
            raise QueryEvaluationError("Value of T cannot be null")
        self.value = c.child(args[1]) if is_traversal(args[1]) else args[1]
        self.meta = [(args[i], c.child(args[i + 1]) if is_traversal(args[i + 1]) else args[i + 1])
                     for i in range(2, len(args), 2)]

    def fold_into(self, steps: list[Step]) -> bool:
        """Fold into a directly preceding addV()/addE() as TinkerPop does; True when folded."""
        from .modulators import AsStep
        i = len(steps) - 1
        while i >= 0 and isinstance(steps[i], (PropertyStep, AsStep)):
            i -= 1
        if i < 0 or self.map is not None:
            return False
        target = steps[i]
        if isinstance(target, AddEdgeStep):
            if self.card is not None and self.card != "single":
                raise QueryEvaluationError(
                    f"Multi-property cardinality of [{self.card}] can only be set for a Vertex but"
                    f" is being used for addE() with key: {_fmt(self.key)}")
            target.params.append((self.key, self.value))
            return True
        if isinstance(target, AddVertexStep) and not self.meta and (
                isinstance(self.key, (T, Traversal)) or (isinstance(self.key, str) and self.card is None)):
            target.params.append((self.key, self.value))
            return True
        return False

    def modulate(self, c, name, args, before=False):
        if name == "with":
            return
        return super().modulate(c, name, args)

    def children(self):
        out = [x for x in (self.key, self.value) if isinstance(x, Traversal)]
        out += [v for _, v in self.meta if isinstance(v, Traversal)]
        if self.map:
            out += [v for v in self.map.values() if isinstance(v, Traversal)]
        return out

    def process(self, ctx, ts):
        _check_writable(ctx)
        _check_reserved(ctx, list(self.map or ()) + [self.key] + [k for k, _ in self.meta])
        for t in ts:
            if self.map is not None:
                for k, v in self.map.items():
                    card = self.card
                    cv = cardinality_value(v)
                    if cv is not None:
                        card, v = cv
                    self._set(ctx, t, k, _eval(ctx, t, v, "property value"), card, [])
            else:
                key = _eval(ctx, t, self.key, "property key") if isinstance(self.key, Traversal) else self.key
                value = _eval(ctx, t, self.value, "property value")
                card = self.card
                cv = cardinality_value(value)
                if cv is not None:
                    card, value = cv
                meta = [(k, _eval(ctx, t, v, "meta-property value")) for k, v in self.meta]
                self._set(ctx, t, key, value, card, meta)
            yield t

    def _set(self, ctx: Context, t: Traverser, key: Any, value: Any, card: str | None,
             meta: list) -> None:
        g = ctx.graph
        obj = t.obj
        if isinstance(key, T):
            name = key.name.rstrip("_")
            if value is None:
                raise QueryEvaluationError("Value of T cannot be null")
            # only a property() folded into addV()/addE() may set T (see fold_into)
            raise QueryEvaluationError(f"T.{name} is immutable on existing elements")
        if isinstance(obj, Vtx):
            _validate_property_key(key)
            meta_d = {}
            for k, v in meta:
                _validate_property_key(k)
                if v is not None or g.allow_null:
                    meta_d[k] = v
            st = ctx.strategies
            if st.partition_key is not None and st.include_meta_properties:
                meta_d[st.partition_key] = st.write_partition
            _set_vertex_prop(ctx, obj.gid, key, value, card or "single", meta_d)
        elif isinstance(obj, Edg):
            if card is not None and card != "single":
                raise QueryEvaluationError(
                    f"Multi-property cardinality of [{card}] can only be set for a Vertex but is"
                    f" being used for addE() with key: {_fmt(key)}")
            if meta:
                raise QueryEvaluationError("Property does not support meta-properties on edges")
            _validate_property_key(key)
            _set_edge_prop(ctx, obj.eid, key, value)
        elif isinstance(obj, VProp):
            if card is not None and card != "single":
                raise QueryEvaluationError("Meta-properties have no cardinality")
            _validate_property_key(key)
            if value is None and not g.allow_null:
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

_OUT, _IN = Direction.OUT, Direction.IN


def _norm_key(k: Any) -> Any:
    """Canonical merge-map key: strings as they are, ``T.id``/``T.label``, ``Direction.OUT/IN``."""
    if isinstance(k, Direction):
        if k.name in ("OUT", "from_"):
            return _OUT
        if k.name in ("IN", "to"):
            return _IN
    return k


def _is_merge(v: Any, name: str) -> bool:
    return isinstance(v, Merge) and v.name == name


class _Const:
    """A constant option / merge argument (as opposed to a traversal or the identity)."""

    __slots__ = ("value",)

    def __init__(self, value: Any):
        self.value = value


class MergeStep(Step):
    """mergeV / mergeE with option(Merge.onCreate | onMatch | outV | inV), TinkerPop 3.8's
    MergeVertexStep / MergeEdgeStep."""

    def __init__(self, c: Compiler, name: str, args: list):
        self.name = name
        self.edge = name == "mergeE"
        self.allowed = (T.id, T.label, _IN, _OUT) if self.edge else (T.id, T.label)
        if len(args) > 1:
            raise QueryEvaluationError(f"{name}() takes one argument")
        if not args:
            self.spec: Any = None                      # the incoming object
        elif is_traversal(args[0]):
            self.spec = c.child(args[0])
        else:
            a = args[0]
            if a is not None and not isinstance(a, dict):
                raise QueryEvaluationError(f"{name}() takes a Map or a traversal, got {a!r}")
            self.spec = _Const(self._norm(a))
            self._validate(self.spec.value, False)
        self.on_create: Any = None
        self.on_match: Any = None
        self.out_v: Any = None
        self.in_v: Any = None

    def _norm(self, m: Any) -> Any:
        if isinstance(m, dict):
            return {_norm_key(k): v for k, v in m.items()}
        return m

    def modulate(self, c, name, args, before=False):
        if name != "option":
            return super().modulate(c, name, args)
        if len(args) not in (2, 3) or not isinstance(args[0], Merge):
            raise QueryEvaluationError(f"{self.name}().option() takes a Merge token and a Map")
        token, val = args[0], args[1]
        if is_traversal(val):
            val = c.child(val)
        else:
            if val is not None and not isinstance(val, dict):
                raise QueryEvaluationError(f"option({_fmt(token)}) takes a Map or a traversal,"
                                           f" got {val!r}")
            val = dict(val) if val is not None else None
            if len(args) == 3:
                if self.edge:
                    raise QueryEvaluationError("option() with the Cardinality argument can only be"
                                               " used following mergeV()")
                card = args[2]
                if val is not None:
                    for k, v in list(val.items()):
                        if not isinstance(v, CardinalityValue) and not isinstance(k, T):
                            val[k] = CardinalityValue(card, v)
            val = _Const(self._norm(val))
        n = token.name
        if n == "on_create":
            self.on_create = val
            if isinstance(self.spec, _Const) and isinstance(val, _Const) and \
                    isinstance(self.spec.value, dict) and isinstance(val.value, dict):
                self._no_overrides(self.spec.value, val.value)
        elif n == "on_match":
            self.on_match = val
        elif n == "out_v" and self.edge:
            self.out_v = val
        elif n == "in_v" and self.edge:
            self.in_v = val
        else:
            raise QueryEvaluationError(f"Option {_fmt(token)} for Merge is not supported")

    def children(self):
        return [x for x in (self.spec, self.on_create, self.on_match, self.out_v, self.in_v)
                if isinstance(x, Traversal)]

    # -------------------------------------------------------------- validation
    def _validate(self, m: Any, on_match: bool) -> None:
        if not isinstance(m, dict):
            return
        op = self.name
        for k, v in m.items():
            if on_match:
                if not isinstance(k, str):
                    raise QueryEvaluationError(f"option(onMatch) expects keys in Map to be of"
                                               f" String - check: {_fmt(k)}")
                _validate_property_key(k)
                continue
            if isinstance(k, enum.Enum) and v is None:
                raise QueryEvaluationError(f"{op}() does not allow null Map values - check: {_fmt(k)}")
            if not isinstance(k, str) and k not in self.allowed:
                allowed = ", ".join(_fmt(a) for a in self.allowed)
                raise QueryEvaluationError(f"{op}() and option(onCreate) args expect keys in Map to"
                                           f" be either String or [{allowed}] - check: {_fmt(k)}")
            if k is T.label:
                if not isinstance(v, str):
                    raise QueryEvaluationError(f"{op}() and option(onCreate) args expect T.label"
                                               f" value to be of String - found: {type(v).__name__}")
                _validate_label(v)
            if k is _OUT and isinstance(v, Merge) and not _is_merge(v, "out_v"):
                raise QueryEvaluationError(f"Only Merge.outV token may be used for Direction.OUT,"
                                           f" found: {_fmt(v)}")
            if k is _IN and isinstance(v, Merge) and not _is_merge(v, "in_v"):
                raise QueryEvaluationError(f"Only Merge.inV token may be used for Direction.IN,"
                                           f" found: {_fmt(v)}")
            if isinstance(k, str):
                _validate_property_key(k)

    @staticmethod
    def _no_overrides(merge: dict, create: dict) -> None:
        for k, v in create.items():
            if k in merge and not _same_value(v, merge[k]):
                raise QueryEvaluationError(f"option(onCreate) cannot override values from merge()"
                                           f" argument: ({_fmt(k)}, {_fmt(v)})")

    # -------------------------------------------------------------- evaluation
    def _map(self, ctx: Context, t: Traverser, spec: Any, what: str) -> dict:
        """materializeMap: the Map of an argument for one traverser (null: an empty Map)."""
        if spec is None:
            m = t.obj if what == "merge" else None
        elif isinstance(spec, _Const):
            m = spec.value
        else:
            m = spec.first(ctx, t)
            if m is NOTHING:
                raise QueryEvaluationError(f"The provided traverser does not map to a value:"
                                           f" {self.name}() {what}")
        if m is None:
            m = {}
        if not isinstance(m, dict):
            raise QueryEvaluationError(f"{self.name}() {what} must be a Map, got"
                                       f" {type(m).__name__} {m!r}")
        m = {_norm_key(k): to_internal(ctx, v) if not isinstance(v, CardinalityValue) else v
             for k, v in m.items()}
        st = ctx.strategies
        if st.partition_key is not None:
            m[st.partition_key] = st.write_partition
        return m

    def process(self, ctx, ts):
        _check_writable(ctx)
        for t in ts:
            merge = self._map(ctx, t, self.spec, "merge")
            self._validate(merge, False)
            if self.edge:
                resolved = self._resolve_vertices(ctx, t, dict(merge))
                found = self._search_edges(ctx, resolved)
            else:
                resolved = merge
                found = _search_vertices(ctx, merge)
            if self.on_match is not None and isinstance(self.on_match, _Const):
                self._validate(self.on_match.value, True)
            if found:
                for el in found:
                    if self.on_match is not None:
                        tm = Traverser(el, t.bulk, t.path, t.sack, t.loops)
                        om = self._map(ctx, tm, self.on_match, "onMatch")
                        self._validate(om, True)
                        self._apply_match(ctx, el, om)
                    yield _emit(ctx, t, el)
                continue
            create = self._create_map(ctx, t, merge, resolved)
            yield _emit(ctx, t, self._create(ctx, create))

    def _create_map(self, ctx: Context, t: Traverser, merge: dict, resolved: dict) -> dict:
        if self.on_create is None:
            return resolved
        oc = self._map(ctx, t, self.on_create, "onCreate")
        st = ctx.strategies
        if not oc or (st.partition_key is not None and list(oc) == [st.partition_key]):
            return resolved
        self._validate(oc, False)
        if not self.edge and not merge:
            return oc
        self._no_overrides(merge, oc)
        combined = {**oc, **resolved}
        if self.edge:
            combined = self._resolve_vertices(ctx, t, combined)
        return combined

    def _apply_match(self, ctx: Context, el: Any, om: dict) -> None:
        for k, v in om.items():
            if isinstance(el, Vtx):
                card = "single"
                cv = cardinality_value(v)
                if cv is not None:
                    card, v = cv
                _set_vertex_prop(ctx, el.gid, k, v, card)
            else:
                cv = cardinality_value(v)
                if cv is not None:
                    v = cv[1]
                _set_edge_prop(ctx, el.eid, k, v)

    def _create(self, ctx: Context, m: dict) -> Any:
        g = ctx.graph
        ident = m.get(T.id)
        label = m.get(T.label)
        if self.edge:
            if _OUT not in m:
                raise QueryEvaluationError("Out Vertex not specified in onCreate - edge cannot be created")
            if _IN not in m:
                raise QueryEvaluationError("In Vertex not specified in onCreate - edge cannot be created")
            src = _vertex_of(ctx, m[_OUT])
            dst = _vertex_of(ctx, m[_IN])
            eid = g.add_edge(label if label is not None else "edge", src.gid, dst.gid, ident)
            for k, v in m.items():
                if isinstance(k, str):
                    cv = cardinality_value(v)
                    _set_edge_prop(ctx, eid, k, cv[1] if cv is not None else v)
            return Edg(eid)
        gid = g.add_vertex(label if label is not None else "vertex", ident)
        explicit = []
        for k, v in m.items():
            if not isinstance(k, str):
                continue
            cv = cardinality_value(v)
            if cv is not None:
                explicit.append((k, cv))
            elif v is not None or g.allow_null:
                g.set_vertex_property(gid, k, v, "list")
        for k, (card, v) in explicit:
            _set_vertex_prop(ctx, gid, k, v, card)
        return Vtx(gid)

    # -------------------------------------------------------------- mergeE vertices
    def _resolve_vertices(self, ctx: Context, t: Traverser, m: dict) -> dict:
        for direction, token, spec in ((_OUT, "out_v", self.out_v), (_IN, "in_v", self.in_v)):
            if direction not in m:
                continue
            v = m[direction]
            if _is_merge(v, token):
                if spec is None:
                    raise QueryEvaluationError(f"option({_fmt(v)}) must be specified if it is used"
                                               f" for {_fmt(direction)}")
                o = spec.value if isinstance(spec, _Const) else spec.first(ctx, t)
                o = to_internal(ctx, o)
                if isinstance(o, Vtx):
                    m[direction] = o
                elif isinstance(o, dict):
                    found = _search_vertices(ctx, {_norm_key(k): x for k, x in o.items()})
                    if not found:
                        raise QueryEvaluationError(f"Vertex could not be resolved from mergeE: {_fmt(o)}")
                    m[direction] = found[0]
                else:
                    raise QueryEvaluationError(f"Vertex could not be resolved from mergeE:"
                                               f" {_fmt(None if o is NOTHING else o)}")
        return m

    def _search_edges(self, ctx: Context, m: dict) -> list:
        g = ctx.graph
        out_v, in_v = m.get(_OUT), m.get(_IN)
        out_gid = _gid_of(ctx, out_v) if out_v is not None else None
        in_gid = _gid_of(ctx, in_v) if in_v is not None else None
        if (out_v is not None and out_gid is None) or (in_v is not None and in_gid is None):
            return []
        if T.id in m:
            eid = g.find_edge(m[T.id])
            cands = [eid] if eid is not None else []
        elif out_gid is not None:
            cands = [e for e, _ in g.adjacent(out_gid, "out")]
        elif in_gid is not None:
            cands = [e for e, _ in g.adjacent(in_gid, "in")]
        else:
            cands = list(g.edges())
        label = m.get(T.label)
        found = []
        for eid in cands:
            if label is not None and g.edge_label(eid) != label:
                continue
            o, i = g.edge_ends(eid)
            if out_gid is not None and o != out_gid or in_gid is not None and i != in_gid:
                continue
            if all(any(_has(x, v) for x in g.edge_values(eid, k))
                   for k, v in m.items() if isinstance(k, str)):
                found.append(Edg(eid))
        return found


def _same_value(a: Any, b: Any) -> bool:
    ca, cb = cardinality_value(a), cardinality_value(b)
    if ca is not None or cb is not None:
        return ca is not None and cb is not None and ca[0] == cb[0] and equals(ca[1], cb[1])
    if isinstance(a, Merge) or isinstance(b, Merge):
        return a is b
    return equals(a, b)


def _has(actual: Any, expected: Any) -> bool:
    """``has(key, value)`` for one value the element has (a stored null matches null)."""
    cv = cardinality_value(expected)
    if cv is not None:
        expected = cv[1]
    return equals(actual, expected)


def _gid_of(ctx: Context, v: Any) -> int | None:
    if isinstance(v, Vtx):
        return v.gid if ctx.graph.vertex_exists(v.gid) else None
    if isinstance(v, (dict, list, Edg, VProp, Prop)) or v is None:
        return None
    return ctx.graph.find_vertex(v)


def _vertex_of(ctx: Context, v: Any) -> Vtx:
    gid = _gid_of(ctx, v)
    if gid is None:
        if isinstance(v, Vtx):
            raise QueryEvaluationError(f"Vertex could not be resolved from mergeE: {v}")
        raise QueryEvaluationError(f"Vertex id could not be resolved from mergeE: {_fmt(v)}")
    return Vtx(gid)


def _search_vertices(ctx: Context, m: dict) -> list:
    """``g.V(id).hasLabel(label).has(k, v)...`` over the whole graph (no strategies)."""
    g = ctx.graph
    label = m.get(T.label)
    props = [(k, v) for k, v in m.items() if isinstance(k, str)]
    if T.id in m:
        gid = g.find_vertex(m[T.id])
        cands = [gid] if gid is not None else []
    else:
        key, value = next(((k, v) for k, v in props if cardinality_value(v) is None), (None, None))
        cands = g.candidate_vertices(label, key, value)
    found = []
    for gid in cands:
        if label is not None and g.vertex_label(gid) != label:
            continue
        if all(any(_has(x, v) for x in g.vertex_values(gid, k)) for k, v in props):
            found.append(Vtx(gid))
    return found


register("mergeV")(lambda c, args: MergeStep(c, "mergeV", args))
register("mergeE")(lambda c, args: MergeStep(c, "mergeE", args))


# ---------------------------------------------------------------------------- subgraph


class SubgraphValue:
    """The side effect of ``subgraph(key)``: the edges seen (and their end vertices).

    Leaves the engine as a store :class:`~graphengine.store.Graph` holding those vertices and
    edges with their ids, labels and properties (see :meth:`to_store`).
    """

    def __init__(self) -> None:
        self.vertices: dict[int, None] = {}
        self.edges: dict[int, None] = {}

    def add_edge(self, ctx: Context, eid: int) -> None:
        if eid in self.edges:
            return
        self.edges[eid] = None
        o, i = ctx.graph.edge_ends(eid)
        self.vertices[o] = None
        self.vertices[i] = None

    def to_store(self, qg: Any) -> Any:
        from ..export import export_subgraph
        return export_subgraph(qg, list(self.vertices), list(self.edges))

    def __repr__(self) -> str:
        return f"subgraph[{len(self.vertices)} vertices, {len(self.edges)} edges]"


class SubgraphStep(Step):
    name = "subgraph"

    def __init__(self, c: Compiler, args: list):
        if len(args) != 1 or not isinstance(args[0], str):
            raise QueryEvaluationError("subgraph() takes a side-effect key")
        self.key = args[0]

    def process(self, ctx, ts):
        sg = ctx.side_effects.get(self.key)
        if not isinstance(sg, SubgraphValue):
            sg = SubgraphValue()
            ctx.side_effects[self.key] = sg
        for t in ts:
            if not isinstance(t.obj, Edg):
                raise QueryEvaluationError(f"The subgraph() step can only take an edge as its"
                                           f" input, got {type(t.obj).__name__} {t.obj!r}")
            sg.add_edge(ctx, t.obj.eid)
            yield t


register("subgraph")(SubgraphStep)

__all__ = ["START", "SubgraphValue", "element_id", "element_label"]
