"""Filter steps: is, where, filter, not, and, or, dedup, ranges, coin, sample, paths, discard."""

from __future__ import annotations

import copy
from typing import Any

from gremlin_python.process.traversal import P, Scope, TextP

from ...errors import QueryEvaluationError
from ..traversal import (
    NOTHING,
    Compiler,
    MapEntry,
    Step,
    Traversal,
    Traverser,
    is_traversal,
    make_by,
    scope_value,
)
from ..values import PathValue, equals, hash_key, is_predicate, test_predicate
from . import register
from .graph import FilterStep
from .modulators import AsStep


class IsStep(FilterStep):
    name = "is"

    def __init__(self, c: Compiler, args: list):
        if len(args) != 1:
            raise QueryEvaluationError("is() takes one value or predicate")
        self.test = args[0]

    def keep(self, ctx, t):
        if is_predicate(self.test):
            return test_predicate(self.test, t.obj) is True
        return equals(t.obj, self.test)


register("is")(IsStep)


class TraversalFilterStep(FilterStep):
    """filter(t), not(t), and(t...), or(t...)."""

    def __init__(self, c: Compiler, name: str, args: list):
        self.name = name
        if name in ("filter", "not") and len(args) != 1:
            raise QueryEvaluationError(f"{name}() takes one traversal")
        for a in args:
            if not is_traversal(a):
                if callable(a) or type(a).__name__ == "Lambda":
                    raise QueryEvaluationError(f"lambdas are not supported: {name}() takes a traversal")
                raise QueryEvaluationError(f"{name}() takes traversals, got {type(a).__name__} {a!r}")
        self.travs = [c.child(a) for a in args]

    def keep(self, ctx, t):
        if self.name == "filter":
            return self.travs[0].test(ctx, t)
        if self.name == "not":
            return not self.travs[0].test(ctx, t)
        if self.name == "and":
            return all(tr.test(ctx, t) for tr in self.travs)
        return any(tr.test(ctx, t) for tr in self.travs)

    def children(self):
        return self.travs


def _named(cls, n: str):
    """A step factory that passes the bytecode name along."""
    def factory(c, args):
        return cls(c, n, args)
    return factory


for _n in ("filter", "not", "and", "or"):
    register(_n)(_named(TraversalFilterStep, _n))


class WhereTest:
    """A where()-traversal ``as(start)...as(end)``: starts at the object labelled ``start``
    (TinkerPop's WhereStartStep) and passes when it reaches the object labelled ``end`` in the
    incoming traverser's scope (WhereEndStep)."""

    def __init__(self, start: str | None, end: str | None, trav: Traversal):
        self.start, self.end, self.trav = start, end, trav

    def test(self, ctx, t: Traverser) -> bool:
        start = t
        if self.start is not None:
            v = scope_value(ctx, t, self.start)
            if v is NOTHING:
                return False
            start = Traverser(v, 1, (t.path, v, frozenset()), t.sack, t.loops)
        if self.end is None:
            return self.trav.test(ctx, start)
        want = scope_value(ctx, t, self.end)
        if want is NOTHING:
            return False
        return any(equals(r.obj, want) for r in self.trav.run(ctx, (start.clone(1),)))


def where_traversal(trav: Traversal) -> Any:
    """Configure a where()-traversal's start and end labels (inside and / or / not too)."""
    steps = list(trav.steps)
    if steps and isinstance(steps[0], TraversalFilterStep) and steps[0].name in ("and", "or", "not"):
        node = copy.copy(steps[0])
        node.travs = [where_traversal(x) if isinstance(x, Traversal) else x for x in node.travs]
        return Traversal([node, *steps[1:]])
    start = end = None
    if steps and isinstance(steps[0], AsStep) and len(steps[0].labels) == 1:
        start = next(iter(steps[0].labels))
        steps = steps[1:]
    if steps and isinstance(steps[-1], AsStep):
        if len(steps[-1].labels) > 1:
            raise QueryEvaluationError(f"The end step of a where()-traversal can only have one"
                                       f" label: {sorted(steps[-1].labels)}")
        end = next(iter(steps[-1].labels))
        steps = steps[:-1]
    if start is None and end is None:
        return trav
    return WhereTest(start, end, Traversal(steps))


def _is_connective_marker(s: Step) -> bool:
    return isinstance(s, TraversalFilterStep) and s.name in ("and", "or") and not s.travs


def apply_connective(steps: list[Step]) -> list[Step]:
    """TinkerPop's ConnectiveStrategy: ``a.and().b`` -> ``and(a, b)``, ``a.or().b`` ->
    ``or(a, b)`` (and binds tighter); the start step (V(), inject()) stays in front."""
    if not any(_is_connective_marker(s) for s in steps):
        return steps
    first = 0
    if steps and getattr(steps[0], "name", None) in ("V", "E", "inject"):
        first = 1
        while first < len(steps) and isinstance(steps[first], AsStep):
            first += 1
    return steps[:first] + _connect(steps[first:])


def _connect(steps: list[Step]) -> list[Step]:
    for name in ("or", "and"):
        for i, s in enumerate(steps):
            if _is_connective_marker(s) and s.name == name:
                node = copy.copy(s)
                node.travs = [Traversal(_connect(steps[:i])), Traversal(_connect(steps[i + 1:]))]
                return [node]
    return steps


class WhereStep(FilterStep):
    """where(P), where(label, P), where(traversal), with by() modulators."""

    name = "where"

    def __init__(self, c: Compiler, args: list):
        self.bys = []
        self.start_label = None
        self.pred = None
        self.trav: Traversal | None = None
        self.trav_start = self.trav_end = None
        if len(args) == 1 and is_traversal(args[0]):
            self.trav = where_traversal(c.child(args[0]))
            if isinstance(self.trav, WhereTest):
                self.trav_start, self.trav_end = self.trav.start, self.trav.end
        elif len(args) == 1 and is_predicate(args[0]):
            self.pred = args[0]
        elif len(args) == 2 and isinstance(args[0], str) and is_predicate(args[1]):
            self.start_label, self.pred = args
        else:
            raise QueryEvaluationError(f"where() takes a predicate, a label and a predicate, or a"
                                       f" traversal; got {args!r}")

    def modulate(self, c, name, args, before=False):
        if name != "by":
            return super().modulate(c, name, args)
        self.bys.append(make_by(c, args))

    def _by(self, i: int):
        if not self.bys:
            return None
        return self.bys[i % len(self.bys)]

    def keep(self, ctx, t):
        if self.trav is not None:
            return self.trav.test(ctx, t)
        if self.start_label is not None:
            a = scope_value(ctx, t, self.start_label)
            if a is NOTHING:
                return False
        else:
            a = t.obj
        by0 = self._by(0)
        if by0 is not None:
            a = by0.value_of(ctx, a, t)
            if a is NOTHING:
                return False
        pred = self._resolve(ctx, t, self.pred, [1])
        if pred is NOTHING:
            return False
        return test_predicate(pred, a) is True

    def _resolve(self, ctx, t, p: P, ring: list[int]) -> Any:
        """The predicate with its label arguments replaced by the labelled values; the by()
        modulators apply in turn (the first to the start, the next ones to each label)."""
        if p.operator in ("and", "or"):
            a = self._resolve(ctx, t, p.value, ring)
            b = self._resolve(ctx, t, p.other, ring)
            if a is NOTHING or b is NOTHING:
                return NOTHING
            return P(p.operator, a, b)
        if p.operator == "not":
            a = self._resolve(ctx, t, p.value, ring)
            return NOTHING if a is NOTHING else P("not", a)
        by = self._by(ring[0])
        ring[0] += 1

        def value(label):
            v = scope_value(ctx, t, label)
            if v is NOTHING:
                return NOTHING
            if by is not None:
                v = by.value_of(ctx, v, t)
            return v
        if p.operator in ("within", "without"):
            labels = p.value if isinstance(p.value, (list, tuple)) else [p.value] + (
                [p.other] if p.other is not None else [])
            vals = []
            for x in labels:
                v = value(x)
                if isinstance(v, (list, tuple, set, frozenset)):
                    vals.extend(v)
                elif v is not NOTHING:
                    vals.append(v)
            return P(p.operator, vals)
        v = value(p.value)
        if v is NOTHING:
            return NOTHING
        cls = TextP if isinstance(p, TextP) else P
        return cls(p.operator, v)


register("where")(WhereStep)


class DedupStep(Step):
    name = "dedup"

    def __init__(self, c: Compiler, args: list):
        self.local = bool(args) and args[0] == Scope.local
        if args and isinstance(args[0], Scope):
            args = args[1:]
        self.labels = list(args)
        self.by = None
        self.barrier = self.persistent = not self.local

    def modulate(self, c, name, args, before=False):
        if name != "by":
            return super().modulate(c, name, args)
        if self.by is not None:
            raise QueryEvaluationError("Dedup step can only have one by modulator")
        self.by = make_by(c, args)

    def _key(self, ctx, t):
        if self.labels:
            vals = []
            for lab in self.labels:
                v = scope_value(ctx, t, lab)
                if v is NOTHING:
                    return NOTHING
                if self.by is not None:
                    v = self.by.value_of(ctx, v, t)
                    if v is NOTHING:
                        return NOTHING
                vals.append(v)
            return hash_key(vals)
        if self.by is not None:
            v = self.by.value(ctx, t)
            return NOTHING if v is NOTHING else hash_key(v)
        return hash_key(t.obj)

    def process(self, ctx, ts):
        if self.local:
            for t in ts:
                obj = t.obj
                seq = list(obj.values()) if isinstance(obj, dict) else obj
                if not isinstance(seq, (list, tuple, set, frozenset, PathValue)):
                    yield t
                    continue
                seen, out = set(), []
                for x in (seq.objects if isinstance(seq, PathValue) else seq):
                    k = hash_key(x)
                    if k not in seen:
                        seen.add(k)
                        out.append(x)
                try:
                    yield t.split(set(out))
                except TypeError:
                    yield t.split(out)
            return
        store = getattr(ctx, "persist", None)
        seen = store.get(id(self)) if store else None
        if seen is None:
            seen = set()
        for t in ts:
            k = self._key(ctx, t)
            if k is NOTHING or k in seen:
                continue
            seen.add(k)
            yield t.clone(1) if t.bulk != 1 else t


register("dedup")(DedupStep)


def local_range(obj: Any, low: int, high: int) -> Any:
    """range(local) (TinkerPop 3.8): a sub-list / sub-set / sub-map, always a collection;
    other objects pass unchanged."""
    end = None if high < 0 else high
    if isinstance(obj, dict):
        return dict(list(obj.items())[low:end])
    if isinstance(obj, PathValue):
        return list(obj.objects)[low:end]
    if isinstance(obj, (set, frozenset)):
        return set(list(obj)[low:end])
    if isinstance(obj, (list, tuple)):
        return list(obj)[low:end]
    return obj


class RangeStep(Step):
    """range / limit / skip / tail, global or local."""

    def __init__(self, name: str, args: list):
        self.name = name
        self.local = bool(args) and isinstance(args[0], Scope) and args[0] == Scope.local
        if args and isinstance(args[0], Scope):
            args = args[1:]
        self.barrier = not self.local
        for a in args:
            if isinstance(a, bool) or not isinstance(a, int):
                raise QueryEvaluationError(f"{name}() takes integers, got {a!r}")
        if name == "range":
            if len(args) != 2:
                raise QueryEvaluationError("range() takes a low and a high bound")
            self.low, self.high = args
            if self.high >= 0 and self.high < self.low:
                raise QueryEvaluationError(f"Not a legal range: [{self.low}, {self.high}]")
        elif name == "limit":
            self.low, self.high = 0, args[0] if args else 1
        elif name == "skip":
            self.low, self.high = args[0] if args else 0, -1
        else:
            self.n = args[0] if args else 1

    def process(self, ctx, ts):
        if self.name == "tail":
            if self.local:
                for t in ts:
                    obj = t.obj
                    if isinstance(obj, (dict, list, tuple, set, frozenset)):
                        size = len(obj)
                    elif isinstance(obj, PathValue):
                        size = len(obj.objects)
                    else:
                        yield t
                        continue
                    yield t.split(local_range(obj, max(0, size - self.n), size))
                return
            buf: list[Traverser] = list(ts)
            total = sum(t.bulk for t in buf)
            skip = max(0, total - self.n)
            for t in buf:
                if skip >= t.bulk:
                    skip -= t.bulk
                    continue
                yield t.clone(t.bulk - skip) if skip else t
                skip = 0
            return
        if self.local:
            for t in ts:
                yield t.split(local_range(t.obj, self.low, self.high))
            return
        low, high = self.low, self.high
        if high == 0:
            return
        seen = 0
        for t in ts:
            b = t.bulk
            start, end = seen, seen + b
            seen = end
            a = max(start, low)
            z = end if high < 0 else min(end, high)
            if z > a:
                yield t if z - a == b else t.clone(z - a)
            if 0 <= high <= seen:
                return


for _n in ("range", "limit", "skip", "tail"):
    register(_n)(_named(lambda c, n, args: RangeStep(n, args), _n))


class JavaRandom:
    """java.util.Random, so that SeedStrategy gives TinkerPop's own choices."""

    MASK = (1 << 48) - 1

    def __init__(self, seed: int):
        self.seed = (seed ^ 0x5DEECE66D) & self.MASK

    def next(self, bits: int) -> int:
        self.seed = (self.seed * 0x5DEECE66D + 0xB) & self.MASK
        r = self.seed >> (48 - bits)
        return r - (1 << bits) if r >= 1 << (bits - 1) else r

    def next_double(self) -> float:
        hi = self.next(26) & ((1 << 26) - 1)
        lo = self.next(27) & ((1 << 27) - 1)
        return ((hi << 27) + lo) * (1.0 / (1 << 53))

    def next_int(self, bound: int) -> int:
        if bound & -bound == bound:
            return (bound * (self.next(31) & 0x7FFFFFFF)) >> 31
        while True:
            bits = self.next(31) & 0x7FFFFFFF
            val = bits % bound
            if bits - val + (bound - 1) < (1 << 31):
                return val


def seeded_random(ctx, step: Step) -> JavaRandom | None:
    """The step's own java.util.Random under SeedStrategy (None without a seed)."""
    seed = ctx.strategies.seed
    if seed is None:
        return None
    rngs = getattr(ctx, "java_rngs", None)
    if rngs is None:
        rngs = ctx.java_rngs = {}
    r = rngs.get(id(step))
    if r is None:
        r = rngs[id(step)] = JavaRandom(int(seed))
    return r


class CoinStep(Step):
    name = "coin"

    def __init__(self, c, args):
        if len(args) != 1 or not isinstance(args[0], (int, float)):
            raise QueryEvaluationError("coin() takes a probability")
        self.p = float(args[0])

    def process(self, ctx, ts):
        jr = seeded_random(ctx, self)
        for t in ts:
            if jr is None:
                if ctx.rng.random() < self.p:
                    yield t
                continue
            if t.bulk < 100:
                bulk = sum(1 for _ in range(t.bulk) if self.p >= jr.next_double())
            else:
                bulk = round(self.p * t.bulk)
            if bulk:
                yield t if bulk == t.bulk else t.clone(bulk)


register("coin")(CoinStep)


class SampleStep(Step):
    name = "sample"

    def __init__(self, c, args):
        self.local = bool(args) and args[0] == Scope.local
        if args and isinstance(args[0], Scope):
            args = args[1:]
        if len(args) != 1 or not isinstance(args[0], int):
            raise QueryEvaluationError("sample() takes a number of traversers")
        self.n = args[0]
        self.by = None
        self.barrier = not self.local

    def modulate(self, c, name, args, before=False):
        if name != "by":
            return super().modulate(c, name, args)
        if self.by is not None:
            raise QueryEvaluationError("Sample step can only have one by modulator")
        self.by = make_by(c, args)

    def process(self, ctx, ts):
        if self.local:
            for t in ts:
                obj = t.obj
                seq = list(obj.items()) if isinstance(obj, dict) else list(obj) \
                    if isinstance(obj, (list, tuple, set)) else None
                if seq is None:
                    yield t
                    continue
                jr = seeded_random(ctx, self)
                if jr is not None:
                    if len(seq) <= self.n:
                        yield t
                        continue
                    pick = [seq.pop(jr.next_int(len(seq))) for _ in range(self.n)]
                else:
                    pick = ctx.rng.sample(seq, min(self.n, len(seq)))
                yield t.split(dict(pick) if isinstance(obj, dict) else pick)
            return
        items = []
        for t in ts:
            w = 1.0
            if self.by is not None:
                w = self.by.value(ctx, t)
                if w is NOTHING:
                    continue
            for _ in range(t.bulk):
                items.append((t, float(w)))
        jr = seeded_random(ctx, self)
        if jr is not None:
            yield from self._java_sample(jr, items)
            return
        chosen = []
        pool = list(items)
        while pool and len(chosen) < self.n:
            total = sum(w for _, w in pool)
            if total <= 0:
                break
            r = ctx.rng.random() * total
            acc = 0.0
            for i, (t, w) in enumerate(pool):
                acc += w
                if r < acc:
                    chosen.append(t.clone(1))
                    pool.pop(i)
                    break
        yield from chosen


    def _java_sample(self, jr: JavaRandom, items: list) -> list:
        """SampleGlobalStep's weighted sampling, draw for draw."""
        if len(items) <= self.n:
            return [t.clone(1) for t, _ in items]
        total = sum(w for _, w in items)
        if total <= 0:
            return []
        taken = [False] * len(items)
        out: list[Traverser] = []
        while len(out) < self.n:
            running = total
            for i, (t, w) in enumerate(items):
                if taken[i]:
                    continue
                if jr.next_double() <= w / running:
                    taken[i] = True
                    out.append(t.clone(1))
                    break
                running -= w
            else:
                if not any(w > 0 for (_, w), tk in zip(items, taken, strict=True) if not tk):
                    break
        return out


register("sample")(SampleStep)


class PathFilterStep(FilterStep):
    """simplePath / cyclicPath (with from / to / by)."""

    def __init__(self, name: str):
        self.name = name
        self.start = self.end = None
        self.by = None

    def modulate(self, c, name, args, before=False):
        if name == "from":
            self.start = args[0]
        elif name == "to":
            self.end = args[0]
        elif name == "by":
            self.by = make_by(c, args)
        else:
            super().modulate(c, name, args)

    def keep(self, ctx, t):
        items = t.path_items()
        if self.start is not None:
            idx = next((i for i, (_, labs) in enumerate(items) if self.start in labs), None)
            if idx is None:
                return False
            items = items[idx:]
        if self.end is not None:
            idx = next((i for i, (_, labs) in enumerate(items) if self.end in labs), None)
            if idx is None:
                return False
            items = items[:idx + 1]
        objs = [o for o, _ in items]
        if self.by is not None:
            objs = [self.by.value_of(ctx, o, t) for o in objs]
            if any(o is NOTHING for o in objs):
                return False
        keys = [hash_key(o) for o in objs]
        simple = len(set(keys)) == len(keys)
        return simple if self.name == "simplePath" else not simple


register("simplePath")(lambda c, args: PathFilterStep("simplePath"))
register("cyclicPath")(lambda c, args: PathFilterStep("cyclicPath"))


class PassStep(Step):
    def __init__(self, name: str):
        self.name = name

    def process(self, ctx, ts):
        return ts

    def modulate(self, c, name, args, before=False):
        if name != "with":
            super().modulate(c, name, args)


register("identity")(lambda c, args: PassStep("identity"))
register("timeLimit")(lambda c, args: PassStep("timeLimit"))


class DiscardStep(Step):
    name = "discard"

    def process(self, ctx, ts):
        for _ in ts:
            pass
        return
        yield


register("discard")(lambda c, args: DiscardStep())


class ListPredicateStep(FilterStep):
    """any(P) / all(P) / none(P) over the elements of a list."""

    def __init__(self, name: str, args: list):
        self.name = name
        if len(args) != 1 or not is_predicate(args[0]):
            raise QueryEvaluationError(f"{name}() takes one predicate")
        self.pred = args[0]

    def keep(self, ctx, t):
        obj = t.obj
        if isinstance(obj, PathValue):
            obj = obj.objects
        if not isinstance(obj, (list, tuple, set, frozenset)):
            return False
        results = [test_predicate(self.pred, x) is True for x in obj]
        if self.name == "any":
            return any(results)
        if self.name == "all":
            return all(results)
        return not any(results)


for _n in ("any", "all", "none"):
    register(_n)(_named(lambda c, n, args: ListPredicateStep(n, args), _n))


__all__ = ["MapEntry", "local_range"]
