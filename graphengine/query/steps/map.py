"""Map steps: select, project, path, constant, reducers (count, sum, min, max, mean, fold),
unfold, order, map, flatMap, local, index, loops, sack."""

from __future__ import annotations

import functools
from decimal import Decimal
from typing import Any

from gremlin_python.process.traversal import (
    Column,
    Operator,
    Order,
    Pop,
    Scope,
    T,
    WithOptions,
)
from gremlin_python.statics import long

from ...errors import QueryEvaluationError
from ..graph import Edg, Prop, VProp, Vtx
from ..traversal import (
    NOTHING,
    By,
    Compiler,
    MapEntry,
    Step,
    Traverser,
    column_value,
    is_traversal,
    make_by,
    scope_value,
)
from ..values import (
    ORDER_KEY,
    PathValue,
    cast_number,
    is_number,
    num_kind,
    num_minmax,
    num_op,
    order_cmp,
)
from . import register
from .graph import MapStep, to_internal


class SelectStep(Step):
    """select(label...), select(Pop, label...), select(keys|values), select(traversal)."""

    name = "select"

    def __init__(self, c: Compiler, args: list):
        self.pop = None
        self.column = None
        self.key_trav = None
        if args and isinstance(args[0], Pop):
            self.pop, args = args[0], args[1:]
        if len(args) == 1 and isinstance(args[0], Column):
            self.column = args[0]
            self.keys = []
        elif len(args) == 1 and is_traversal(args[0]):
            self.key_trav = c.child(args[0])
            self.keys = []
        else:
            if not args:
                raise QueryEvaluationError("select() needs a label")
            for a in args:
                if not isinstance(a, str):
                    raise QueryEvaluationError(f"select() takes step labels, got {a!r}")
            self.keys = list(args)
        self.bys: list[By] = []

    def modulate(self, c, name, args, before=False):
        if name != "by":
            return super().modulate(c, name, args)
        self.bys.append(make_by(c, args))

    def _by(self, ctx, i: int, v: Any, t: Traverser) -> Any:
        if not self.bys:
            return v
        return self.bys[i % len(self.bys)].value_of(ctx, v, t)

    def process(self, ctx, ts):
        for t in ts:
            if self.column is not None:
                v = column_value(t.obj, self.column)
                if self.bys:
                    v = self._by(ctx, 0, v, t)
                if v is not NOTHING:
                    yield t.split(v)
                continue
            if self.key_trav is not None:
                key = self.key_trav.first(ctx, t)
                if key is NOTHING:
                    continue
                v = scope_value(ctx, t, key, self.pop)
                if v is not NOTHING:
                    v = self._by(ctx, 0, v, t)
                    if v is not NOTHING:
                        yield t.split(v)
                continue
            if len(self.keys) == 1:
                v = scope_value(ctx, t, self.keys[0], self.pop)
                if v is NOTHING:
                    continue
                v = self._by(ctx, 0, v, t)
                if v is not NOTHING:
                    yield t.split(v)
                continue
            out = {}
            ok = True
            for i, k in enumerate(self.keys):
                v = scope_value(ctx, t, k, self.pop)
                if v is NOTHING:
                    ok = False
                    break
                v = self._by(ctx, i, v, t)
                if v is NOTHING:
                    ok = False
                    break
                out[k] = v
            if ok:
                yield t.split(out)


register("select")(SelectStep)


class ProjectStep(MapStep):
    name = "project"

    def __init__(self, c: Compiler, args: list):
        if not args or not all(isinstance(a, str) for a in args):
            raise QueryEvaluationError("project() takes one or more keys (strings)")
        self.keys = list(args)
        self.bys: list[By] = []

    def modulate(self, c, name, args, before=False):
        if name != "by":
            return super().modulate(c, name, args)
        self.bys.append(make_by(c, args))

    def map(self, ctx, t):
        out = {}
        for i, k in enumerate(self.keys):
            if self.bys:
                v = self.bys[i % len(self.bys)].value(ctx, t)
            else:
                v = t.obj
            if v is NOTHING:
                continue
            out[k] = v
        return out


register("project")(ProjectStep)


class PathStep(MapStep):
    name = "path"

    def __init__(self):
        self.bys: list[By] = []
        self.start = self.end = None

    def modulate(self, c, name, args, before=False):
        if name == "by":
            self.bys.append(make_by(c, args))
        elif name == "from":
            self.start = args[0]
        elif name == "to":
            self.end = args[0]
        else:
            super().modulate(c, name, args)

    def map(self, ctx, t):
        items = t.path_items()
        if self.start is not None:
            idx = next((i for i, (_, labs) in enumerate(items) if self.start in labs), None)
            if idx is None:
                return NOTHING
            items = items[idx:]
        if self.end is not None:
            idx = next((i for i, (_, labs) in enumerate(items) if self.end in labs), None)
            if idx is None:
                return NOTHING
            items = items[:idx + 1]
        objs = [o for o, _ in items]
        if self.bys:
            new = []
            for i, o in enumerate(objs):
                v = self.bys[i % len(self.bys)].value_of(ctx, o, t)
                if v is NOTHING:
                    return NOTHING
                new.append(v)
            objs = new
        return PathValue([lab for _, lab in items], objs)


register("path")(lambda c, args: PathStep())


class ConstantStep(MapStep):
    name = "constant"

    def __init__(self, c, args):
        if len(args) != 1:
            raise QueryEvaluationError("constant() takes one value")
        self.value = args[0]

    def map(self, ctx, t):
        return to_internal(ctx, self.value)


register("constant")(ConstantStep)


# ---------------------------------------------------------------------------- reducers


def _numbers(name: str, values: list) -> list:
    out = []
    for v in values:
        if v is None:
            continue
        if not is_number(v):
            raise QueryEvaluationError(f"{name}() expects numbers, got {type(v).__name__} {v!r}")
        out.append(v)
    return out


def add(a: Any, b: Any) -> Any:
    """Gremlin's ``Operator.sum`` (TinkerPop's NumberHelper.add: common type, overflow promotes
    int -> long)."""
    if is_number(a) and is_number(b):
        return num_op("add", a, b)
    if isinstance(a, Decimal) or isinstance(b, Decimal):
        return Decimal(str(a)) + Decimal(str(b))
    return a + b


def reduce_values(name: str, items: list[tuple[Any, int]]) -> Any:
    """Reduce ``(value, bulk)`` pairs; NOTHING when there is nothing to reduce, ``None`` when
    every value is null (sum, mean, min, max)."""
    if name == "count":
        return sum(b for _, b in items)
    if name == "fold":
        out = []
        for v, b in items:
            out.extend([v] * b)
        return out
    if not items:
        return NOTHING
    if name == "sum":
        vals = [(v, b) for v, b in items if v is not None]
        _numbers("sum", [v for v, _ in vals])
        if not vals:
            return None
        total: Any = None
        for v, b in vals:
            x = v if b == 1 else num_op("mul", v, cast_number_soft(b, num_kind(v)))
            total = x if total is None else num_op("add", total, x)
        return total
    if name == "mean":
        vals = [(v, b) for v, b in items if v is not None]
        _numbers("mean", [v for v, _ in vals])
        if not vals:
            return None
        total = None
        for v, b in vals:
            x = v if b == 1 else num_op("mul", v, b)
            total = x if total is None else num_op("add", total, x)
        return num_op("div", total, long(sum(b for _, b in vals)), force_fp=True)
    # Operator.min / max (NumberHelper): nulls and NaN lose, numbers meet in their common type
    acc: Any = None
    for v, _ in items:
        if v is None:
            continue
        if acc is None:
            acc = v
        elif is_number(acc) and is_number(v):
            acc = num_minmax(name, acc, v)
        else:
            c = order_cmp(v, acc)
            if (c > 0) if name == "max" else (c < 0):
                acc = v
    return acc


def cast_number_soft(n: int, kind: str) -> Any:
    """NumberHelper.coerceTo: ``n`` as ``kind`` when it fits, else unchanged."""
    try:
        return cast_number(n, kind)
    except QueryEvaluationError:
        return n


class ReduceStep(Step):
    """count / sum / min / max / mean / fold; global (a reducing barrier) or local."""

    reducing = True

    def __init__(self, name: str, args: list):
        self.name = name
        self.local = bool(args) and args[0] == Scope.local
        self.seed = NOTHING
        if name == "fold" and len(args) == 2:
            self.seed, self.op = args
            self.local = False
        elif args and not isinstance(args[0], Scope):
            raise QueryEvaluationError(f"{name}() takes an optional Scope, got {args!r}")
        if self.local:
            self.reducing = False

    def process(self, ctx, ts):
        if self.local:
            for t in ts:
                obj = t.obj
                if isinstance(obj, dict):
                    seq = list(obj.values()) if self.name != "count" else list(obj)
                elif isinstance(obj, PathValue):
                    seq = obj.objects
                elif isinstance(obj, (list, tuple, set, frozenset)):
                    seq = list(obj)
                else:
                    seq = [obj]
                v = reduce_values(self.name, [(x, 1) for x in seq])
                if v is not NOTHING:
                    yield t.split(v)
            return
        if self.seed is not NOTHING:
            from .sideeffect import apply_operator
            acc = self.seed
            for t in ts:
                for _ in range(t.bulk):
                    acc = apply_operator(self.op, acc, t.obj)
            yield _fresh(ctx, acc)
            return
        items = [(t.obj, t.bulk) for t in ts]
        v = reduce_values(self.name, items)
        if v is not NOTHING:
            yield _fresh(ctx, v)


def _fresh(ctx, obj: Any) -> Traverser:
    t = Traverser(obj, 1, (None, obj, frozenset()))
    if ctx.sack_init is not None:
        t.sack = ctx.sack_init()
    return t


def _reduce_step(name: str, c: Compiler, args: list) -> ReduceStep:
    return ReduceStep(name, args)


for _n in ("count", "sum", "min", "max", "mean", "fold"):
    register(_n)(functools.partial(_reduce_step, _n))


class UnfoldStep(Step):
    name = "unfold"

    def process(self, ctx, ts):
        for t in ts:
            obj = t.obj
            if isinstance(obj, dict):
                for k, v in obj.items():
                    yield t.split(MapEntry(k, v))
            elif isinstance(obj, PathValue):
                for o in obj.objects:
                    yield t.split(o)
            elif isinstance(obj, (list, tuple, set, frozenset)):
                for o in obj:
                    yield t.split(o)
            else:
                yield t


register("unfold")(lambda c, args: UnfoldStep())


# ---------------------------------------------------------------------------- order


def _token_name(v: Any) -> Any:
    """T tokens (elementMap keys) order by their names among strings."""
    return v.name.rstrip("_") if isinstance(v, T) else v


class OrderStep(Step):
    name = "order"

    def __init__(self, c, args):
        self.local = bool(args) and args[0] == Scope.local
        self.barrier = not self.local
        self.bys: list[By] = []

    def modulate(self, c, name, args, before=False):
        if name != "by":
            return super().modulate(c, name, args)
        by = make_by(c, args)
        if by.order is not None and not isinstance(by.order, Order):
            raise QueryEvaluationError("lambdas are not supported: by() in order() takes an Order")
        self.bys.append(by)

    def _sort(self, ctx, items: list, key_of) -> list | None:
        """Sort items by the by() modulators; None if one of them is unproductive."""
        bys = self.bys or [By("identity")]
        if any(b.order == Order.shuffle for b in bys):
            out = list(items)
            ctx.rng.shuffle(out)
            return out
        keyed = []
        for it in items:
            ks = []
            for b in bys:
                v = key_of(b, it)
                if v is NOTHING:
                    break
                ks.append(v)
            else:
                keyed.append((ks, it))
        for i in reversed(range(len(bys))):
            desc = bys[i].order == Order.desc
            keyed.sort(key=lambda kv, i=i: ORDER_KEY(_token_name(kv[0][i])), reverse=desc)
        return [it for _, it in keyed]

    def process(self, ctx, ts):
        if self.local:
            for t in ts:
                obj = t.obj
                if isinstance(obj, dict):
                    entries = [MapEntry(k, v) for k, v in obj.items()]
                    out = self._sort(ctx, entries, lambda b, e, t=t: b.value_of(ctx, e, t))
                    yield t.split({e.key: e.value for e in out})
                elif isinstance(obj, (list, tuple, set, frozenset, PathValue)):
                    seq = obj.objects if isinstance(obj, PathValue) else list(obj)
                    yield t.split(self._sort(ctx, seq, lambda b, x, t=t: b.value_of(ctx, x, t)))
                else:
                    yield t
            return
        items = list(ts)
        out = self._sort(ctx, items, lambda b, tr: b.value(ctx, tr))
        yield from out


register("order")(OrderStep)


# ---------------------------------------------------------------------------- map / flatMap / local


class TraversalMapStep(Step):
    def __init__(self, c, name, args):
        self.name = name
        if len(args) != 1 or not is_traversal(args[0]):
            raise QueryEvaluationError(f"lambdas are not supported: {name}() takes a traversal")
        self.trav = c.child(args[0])

    def process(self, ctx, ts):
        for t in ts:
            if self.name == "map":
                v = self.trav.first(ctx, t)
                if v is not NOTHING:
                    yield t.split(v)
            elif self.name == "flatMap":
                for r in self.trav.results(ctx, t):
                    yield t.split(r.obj).clone(r.bulk)
            elif t.bulk == 1:
                yield from self.trav.results(ctx, t)
            else:
                # local() takes one unit of bulk at a time (TinkerPop's LocalStep)
                one = t.clone(1)
                for _ in range(t.bulk):
                    yield from self.trav.results(ctx, one.clone())

    def children(self):
        return [self.trav]


def _traversal_map(n: str):
    def factory(c, args):
        return TraversalMapStep(c, n, args)
    return factory


for _n in ("map", "flatMap", "local"):
    register(_n)(_traversal_map(_n))


class IndexStep(MapStep):
    name = "index"

    def __init__(self):
        self.as_map = False

    def modulate(self, c, name, args, before=False):
        if name == "with" and args and args[0] == WithOptions.indexer:
            self.as_map = args[1] == WithOptions.map
        else:
            super().modulate(c, name, args)

    def map(self, ctx, t):
        obj = t.obj
        seq = list(obj.items()) if isinstance(obj, dict) else list(obj) \
            if isinstance(obj, (list, tuple, set, frozenset)) else [obj]
        seq = [MapEntry(k, v) for k, v in seq] if isinstance(obj, dict) else seq
        if self.as_map:
            return {i: x for i, x in enumerate(seq)}
        return [[x, i] for i, x in enumerate(seq)]


register("index")(lambda c, args: IndexStep())


class LoopsStep(MapStep):
    name = "loops"

    def __init__(self, args):
        self.loop_name = args[0] if args else None

    def map(self, ctx, t):
        return t.loop_count(self.loop_name)


register("loops")(lambda c, args: LoopsStep(args))


class SackStep(Step):
    """sack() reads the sack; sack(operator).by(...) merges a value into it."""

    name = "sack"

    def __init__(self, c, args):
        self.op = args[0] if args else None
        if self.op is not None and not isinstance(self.op, Operator):
            raise QueryEvaluationError("lambdas are not supported: sack() takes an Operator")
        self.by: By | None = None

    def modulate(self, c, name, args, before=False):
        if name != "by":
            return super().modulate(c, name, args)
        if self.by is not None:
            raise QueryEvaluationError("Sack step can only have one by modulator")
        self.by = make_by(c, args)

    def process(self, ctx, ts):
        from .sideeffect import apply_operator
        for t in ts:
            if self.op is None:
                yield t.split(t.sack)
                continue
            v = self.by.value(ctx, t) if self.by is not None else t.obj
            if v is NOTHING:
                continue
            nt = t.clone()
            nt.sack = apply_operator(self.op, t.sack, v)
            yield nt


register("sack")(SackStep)


__all__ = ["Edg", "Prop", "T", "VProp", "Vtx", "add", "reduce_values"]
