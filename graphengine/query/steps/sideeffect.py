"""Side-effect and barrier steps: aggregate, group, groupCount, tree, cap, sideEffect, barrier,
inject, and the sack operators."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from gremlin_python.process.traversal import Barrier, Operator, Scope

from ...errors import QueryEvaluationError
from ..traversal import (
    NOTHING,
    By,
    Compiler,
    Step,
    Traversal,
    Traverser,
    is_traversal,
    make_by,
)
from ..values import BulkList, hash_key, is_number
from . import register
from .branch import label_signature
from .graph import to_internal
from .map import _fresh, add
from .mutation import START


def apply_operator(op: Operator, a: Any, b: Any) -> Any:
    """Gremlin's ``Operator`` (sack merges, fold with a seed, withSideEffect reducers)."""
    name = op.name.rstrip("_")
    if name in ("sum", "sumLong"):
        return add(a, b)
    if name in ("minus", "mult", "div") and is_number(a) and is_number(b):
        from ..values import num_op
        return num_op({"minus": "sub", "mult": "mul", "div": "div"}[name], a, b)
    if name == "minus":
        return a - b
    if name == "mult":
        return a * b
    if name == "div":
        if isinstance(a, int) and isinstance(b, int) and not isinstance(a, bool):
            if b == 0:
                raise QueryEvaluationError("division by zero")
            q = abs(a) // abs(b)
            return q if (a >= 0) == (b >= 0) else -q
        if isinstance(a, Decimal) or isinstance(b, Decimal):
            return Decimal(str(a)) / Decimal(str(b))
        return a / b
    if name in ("min", "max") and is_number(a) and is_number(b):
        from ..values import num_minmax
        return num_minmax(name, a, b)   # NumberHelper: NaN loses, the common number type
    if name == "min":
        return a if (b is None or (a is not None and a <= b)) else b
    if name == "max":
        return a if (b is None or (a is not None and a >= b)) else b
    if name == "and":
        return a and b
    if name == "or":
        return a or b
    if name == "assign":
        return b
    if name == "addAll":
        if isinstance(a, dict):
            return {**a, **b}
        if isinstance(a, set):
            return a | set(b)
        return list(a) + list(b)
    raise QueryEvaluationError(f"unknown operator {op!r}")


class GroupValue:
    """A group / groupCount side effect: traversers per key, reduced when read."""

    def __init__(self, count: bool, value_by: By | None, ctx):
        self.count = count
        self.value_by = value_by
        self.ctx = ctx
        self.keys: dict[Any, Any] = {}
        self.members: dict[Any, list[Traverser]] = {}

    def add(self, key: Any, t: Traverser) -> None:
        h = hash_key(key)
        if h not in self.keys:
            self.keys[h] = key
            self.members[h] = []
        self.members[h].append(t)

    def final(self) -> dict:
        """The group map (TinkerPop's GroupStep): a key / token / identity value by() folds the
        values; a value traversal without a barrier keeps its first result of the key's last
        productive traverser; with a barrier, the part before it runs over all the key's
        traversers and the rest reduces them (keys whose values are filtered out vanish)."""
        out = {}
        items = list(self.keys.items())
        if self.ctx.strategies.seed is not None and all(isinstance(k, str) for _, k in items):
            # seeded steps in the value traversals draw in the order Java's HashMap gives
            items = _java_hash_order(items)
        for h, key in items:
            ts = self.members[h]
            if self.count:
                out[_hkey(key)] = sum(t.bulk for t in ts)
                continue
            v = self._value(ts)
            if v is not NOTHING:
                out[_hkey(key)] = v
        return out

    def _value(self, ts: list[Traverser]) -> Any:
        by, ctx = self.value_by, self.ctx
        if by is None or by.kind != "traversal":
            vals = []
            for t in ts:
                v = t.obj if by is None else by.value(ctx, t)
                if v is not NOTHING:
                    vals.extend([v] * t.bulk)
            return vals
        trav: Traversal = by.arg
        steps = trav.steps
        idx = next((i for i, s in enumerate(steps) if _group_barrier(s)), None)
        if idx is None:
            value = NOTHING
            for t in ts:
                r = trav.first(ctx, t)
                if r is not NOTHING:
                    value = r
            return value
        pre, rest = Traversal(steps[:idx]), Traversal(steps[idx:])
        if getattr(ctx, "path_free", False) and ctx.sack_init is None and ctx.bulk_enabled:
            from .branch import bulked
            ts = bulked(ts)
        collected = list(pre.run(ctx, (t.clone() for t in ts)))
        if not collected and not steps[idx].reducing and not any(
                getattr(s, "reducing", False) for s in steps[idx + 1:]):
            return NOTHING
        for r in rest.run(ctx, iter(collected)):
            return r.obj
        return NOTHING


def _java_hash_order(items: list) -> list:
    """(hash, str key) pairs in java.util.HashMap iteration order."""
    n = 16
    while len(items) > n * 0.75:
        n *= 2

    def bucket(kv) -> int:
        h = 0
        for ch in kv[1]:
            h = (31 * h + ord(ch)) & 0xFFFFFFFF
        return (h ^ (h >> 16)) & (n - 1)
    return sorted(items, key=bucket)


def _hkey(key: Any) -> Any:
    """Map keys must be hashable: lists become tuples (they leave the engine as lists), sets
    frozensets, maps FrozenDicts."""
    from ..values import freeze
    return freeze(key)


def _group_barrier(step: Step) -> bool:
    """A barrier that splits a group value traversal (TinkerPop: not a LocalBarrier)."""
    if not (getattr(step, "barrier", False) or getattr(step, "reducing", False)):
        return False
    if isinstance(step, (AggregateStep, BarrierStep)):
        return False
    return not (isinstance(step, (GroupStep, TreeStep)) and step.key is not None)


class GroupStep(Step):
    """group() / groupCount(), as a barrier that emits the map or as a side effect (key)."""

    def __init__(self, c: Compiler, name: str, args: list):
        self.name = name
        self.count = name == "groupCount"
        self.key = args[0] if args else None
        if self.key is not None and not isinstance(self.key, str):
            raise QueryEvaluationError(f"{name}() takes a side-effect key, got {self.key!r}")
        self.reducing = self.key is None
        self.barrier = True
        self.bys: list[By] = []

    def modulate(self, c, name, args, before=False):
        if name != "by":
            return super().modulate(c, name, args)
        if self.count and self.bys:
            raise QueryEvaluationError("GroupCount step can only have one by modulator")
        if len(self.bys) >= 2:
            raise QueryEvaluationError("The key and value traversals for group()-step have already"
                                       " been set")
        self.bys.append(make_by(c, args))

    def process(self, ctx, ts):
        acc = GroupValue(self.count, self.bys[1] if len(self.bys) > 1 else None, ctx)
        if self.key is not None:
            prev = ctx.side_effects.get(self.key)
            if isinstance(prev, GroupValue):
                acc = prev
            ctx.side_effects[self.key] = acc
        key_by = self.bys[0] if self.bys else None
        buf = []
        for t in ts:
            if self.key is not None:
                buf.append(t)
            k = key_by.value(ctx, t) if key_by is not None else t.obj
            if k is NOTHING:
                continue
            acc.add(k, t)
        if self.key is None:
            yield _fresh(ctx, acc.final())
        else:
            yield from buf


register("group")(lambda c, args: GroupStep(c, "group", args))
register("groupCount")(lambda c, args: GroupStep(c, "groupCount", args))


class AggregateStep(Step):
    """aggregate(key) (a barrier) and aggregate(local, key) / store(key) (lazy)."""

    name = "aggregate"

    def __init__(self, c, args, lazy=False):
        self.lazy = lazy
        if args and isinstance(args[0], Scope):
            self.lazy = args[0] == Scope.local
            args = args[1:]
        if len(args) != 1 or not isinstance(args[0], str):
            raise QueryEvaluationError("aggregate() takes a side-effect key")
        self.key = args[0]
        self.barrier = not self.lazy
        self.by: By | None = None

    def modulate(self, c, name, args, before=False):
        if name != "by":
            return super().modulate(c, name, args)
        if self.by is not None:
            raise QueryEvaluationError("Aggregate step can only have one by modulator")
        self.by = make_by(c, args)

    def _add(self, ctx, t):
        coll = ctx.side_effects.get(self.key)
        if coll is None:
            coll = BulkList()
            ctx.side_effects[self.key] = coll
        v = self.by.value(ctx, t) if self.by is not None else t.obj
        if v is NOTHING:
            return
        reducer = ctx.side_effect_reducers.get(self.key)
        if reducer is not None and not isinstance(coll, (list, set)):
            for _ in range(t.bulk):
                ctx.side_effects[self.key] = apply_operator(reducer, ctx.side_effects[self.key], v)
            return
        if isinstance(coll, set):
            coll.add(v)
        elif isinstance(coll, list):
            coll.extend([v] * t.bulk)
        else:
            raise QueryEvaluationError(f"side effect {self.key!r} is not a collection")

    def process(self, ctx, ts):
        if self.key not in ctx.side_effects:
            ctx.side_effects[self.key] = BulkList()
        if self.lazy:
            for t in ts:
                self._add(ctx, t)
                yield t
            return
        buf = list(ts)
        reducer = ctx.side_effect_reducers.get(self.key)
        if reducer is not None and reducer.name.rstrip("_") == "assign":
            # the barrier's collection is merged into the side effect by its reducer
            vals = []
            for t in buf:
                v = self.by.value(ctx, t) if self.by is not None else t.obj
                if v is not NOTHING:
                    vals.extend([v] * t.bulk)
            old = ctx.side_effects.get(self.key)
            ctx.side_effects[self.key] = set(vals) if isinstance(old, set) else vals
        else:
            for t in buf:
                self._add(ctx, t)
        yield from buf


register("aggregate")(lambda c, args: AggregateStep(c, args))
register("store")(lambda c, args: AggregateStep(c, args, lazy=True))


class TreeValue:
    def __init__(self, bys: list[By], ctx):
        self.bys = bys
        self.ctx = ctx
        self.root: dict = {}

    def add(self, t: Traverser) -> None:
        node = self.root
        for i, (obj, _) in enumerate(t.path_items()):
            if self.bys:
                obj = self.bys[i % len(self.bys)].value_of(self.ctx, obj, t)
                if obj is NOTHING:
                    return
            h = hash_key(obj)
            if h not in node:
                node[h] = (obj, {})
            node = node[h][1]

    def final(self) -> dict:
        from ..values import TreeDict

        def conv(node):
            return TreeDict({obj: conv(child) for obj, child in node.values()})
        return conv(self.root)


class TreeStep(Step):
    name = "tree"

    def __init__(self, c, args):
        self.key = args[0] if args else None
        self.reducing = self.key is None
        self.barrier = True
        self.bys: list[By] = []

    def modulate(self, c, name, args, before=False):
        if name != "by":
            return super().modulate(c, name, args)
        self.bys.append(make_by(c, args))

    def process(self, ctx, ts):
        tree = TreeValue(self.bys, ctx)
        if self.key is not None:
            prev = ctx.side_effects.get(self.key)
            if isinstance(prev, TreeValue):
                tree = prev
            ctx.side_effects[self.key] = tree
        buf = []
        for t in ts:
            tree.add(t)
            if self.key is not None:
                buf.append(t)
        yield from buf
        if self.key is None:
            yield _fresh(ctx, tree.final())


register("tree")(TreeStep)


def final_value(v: Any) -> Any:
    """A side effect as users see it (groups and trees reduced)."""
    return v.final() if isinstance(v, (GroupValue, TreeValue)) else v


class CapStep(Step):
    name = "cap"
    reducing = True

    def __init__(self, c, args):
        if not args:
            raise QueryEvaluationError("cap() takes side-effect keys")
        self.keys = list(args)

    def process(self, ctx, ts):
        for _ in ts:
            pass
        if len(self.keys) == 1:
            if self.keys[0] not in ctx.side_effects:
                raise QueryEvaluationError(f"The side-effect key does not exist in the"
                                           f" side-effects: {self.keys[0]}")
            yield _fresh(ctx, final_value(ctx.side_effects[self.keys[0]]))
        else:
            yield _fresh(ctx, {k: final_value(ctx.side_effects.get(k)) for k in self.keys})


register("cap")(CapStep)


class SideEffectStep(Step):
    name = "sideEffect"

    def __init__(self, c, args):
        if len(args) != 1 or not is_traversal(args[0]):
            raise QueryEvaluationError("lambdas are not supported: sideEffect() takes a traversal")
        self.trav = c.child(args[0])

    def process(self, ctx, ts):
        for t in ts:
            for _ in self.trav.results(ctx, t.clone()):
                pass
            yield t

    def children(self):
        return [self.trav]


register("sideEffect")(SideEffectStep)


class BarrierStep(Step):
    name = "barrier"
    barrier = True

    def __init__(self, c, args):
        self.norm = bool(args) and isinstance(args[0], Barrier)

    def process(self, ctx, ts):
        buf = list(ts)
        if getattr(ctx, "path_free", False) and len(buf) > 1:
            buf = _merge_equal(ctx, buf)
        if self.norm:
            total = sum(t.sack * t.bulk for t in buf if is_number(t.sack))
            for t in buf:
                if is_number(t.sack) and total:
                    t.sack = t.sack / total
        yield from buf


register("barrier")(BarrierStep)


def _merge_equal(ctx, buf: list[Traverser]) -> list[Traverser]:
    """A TraverserSet: equal traversers (object, loops) merge their bulks (unless withBulk(false))
    and their sacks (by the sack's merge operator)."""
    seen: dict[Any, Traverser] = {}
    out = []
    for t in buf:
        try:
            k = (hash_key(t.obj), t.loops, label_signature(t))
            hash(k)
        except TypeError:
            out.append(t)
            continue
        m = seen.get(k)
        if m is None:
            m = seen[k] = t.clone()
            out.append(m)
            continue
        if ctx.bulk_enabled:
            m.bulk += t.bulk
        if ctx.sack_merge is not None and m.sack is not None:
            m.sack = apply_operator(ctx.sack_merge, m.sack, t.sack)
    return out


class InjectStep(Step):
    name = "inject"

    def __init__(self, c, args):
        self.values = list(args)

    def process(self, ctx, ts):
        if getattr(self, "child_start", False):
            # in a child traversal the parent's traverser comes before the injected values
            for t in ts:
                if t.obj is not START:
                    yield t
            for v in self.values:
                yield ctx.new_traverser(to_internal(ctx, v))
            return
        for v in self.values:
            yield ctx.new_traverser(to_internal(ctx, v))
        for t in ts:
            if t.obj is not START:
                yield t


register("inject")(InjectStep)


class FailStep(Step):
    """fail([message]): raise as soon as a traverser reaches it."""

    name = "fail"

    def __init__(self, c, args):
        if len(args) > 1 or (args and not isinstance(args[0], str)):
            raise QueryEvaluationError("fail() takes an optional message")
        self.message = args[0] if args else "fail() step triggered"

    def process(self, ctx, ts):
        for _ in ts:
            raise QueryEvaluationError(self.message)
        return
        yield


register("fail")(FailStep)
