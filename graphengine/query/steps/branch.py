"""Branch steps: repeat (times / until / emit), union, coalesce, optional, choose, branch.

TinkerPop's semantics for child traversals that hold a barrier (``Barrier`` steps: reducers,
order, sample, dedup, range/limit/tail, aggregate, side-effect group/groupCount/tree...):
``repeat()``, ``union()``, ``choose()`` and ``branch()`` then hand *all* their input to the
child before iterating it (so ``union(count())`` counts every input and ``repeat(limit(1))``
limits each loop globally); without a barrier they take one traverser at a time.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from gremlin_python.process.traversal import Pick, T

from ...errors import QueryEvaluationError
from ..graph import Vtx
from ..traversal import (
    NOTHING,
    By,
    Compiler,
    Step,
    Traversal,
    Traverser,
    is_traversal,
    token_value,
)
from ..values import equals, hash_key, is_predicate, test_predicate
from . import register


def is_barrier(step: Step) -> bool:
    """True for steps that implement TinkerPop's ``Barrier``."""
    return bool(getattr(step, "barrier", False) or getattr(step, "reducing", False))


def child_traversals(step: Step) -> list[Traversal]:
    """Every traversal a step holds (children, by() modulators, options)."""
    out: list[Traversal] = []

    def walk(v: Any, depth: int) -> None:
        if isinstance(v, Traversal):
            out.append(v)
        elif isinstance(v, By):
            if isinstance(v.arg, Traversal):
                out.append(v.arg)
        elif depth < 3 and isinstance(v, (list, tuple)):
            for x in v:
                walk(x, depth + 1)
        elif depth < 3 and isinstance(v, dict):
            for x in v.values():
                walk(x, depth + 1)

    for v in getattr(step, "__dict__", {}).values():
        walk(v, 0)
    return out


def has_barrier(trav: Traversal) -> bool:
    """Whether a traversal holds a barrier step, at any depth."""
    for s in trav.steps:
        if is_barrier(s):
            return True
        for c in child_traversals(s):
            if has_barrier(c):
                return True
    return False


def global_steps(trav: Traversal) -> list[Step]:
    """The steps of a traversal and of its global children (union/choose/branch options)."""
    out = []
    for s in trav.steps:
        out.append(s)
        if isinstance(s, (UnionStep, ChooseStep)):
            for c in s.global_children():
                out.extend(global_steps(c))
    return out


class RepeatStep(Step):
    """repeat(body) with times / until / emit before (while-do) or after (do-while).

    The body runs breadth first: one start at a time (each start's loops drained before the
    next) when the body holds no barrier, loop by loop over all starts when it does.
    """

    name = "repeat"
    accepts_pending = True

    def __init__(self, c: Compiler, args: list):
        self.loop_name = None
        if len(args) == 2 and isinstance(args[0], str):
            self.loop_name, args = args[0], args[1:]
        if len(args) != 1 or not is_traversal(args[0]):
            raise QueryEvaluationError("repeat() takes a traversal (and an optional loop name)")
        self.body = c.child(args[0])
        for s in self.body.steps:
            if getattr(s, "name", "") == "inject":
                raise QueryEvaluationError("The parent of inject()-step can not be repeat()-step")
        self.until: Traversal | None = None
        self.times: int | None = None
        self.until_first = False
        self.emit: Traversal | None | bool = False
        self.emit_first = False
        self.closed = False
        self._barrier: bool | None = None

    def modulate(self, c, name, args, before=False):
        if name == "times":
            if len(args) != 1 or isinstance(args[0], bool) or not isinstance(args[0], int):
                raise QueryEvaluationError("times() takes an integer")
            self.times = args[0]
            self.until_first = before
        elif name == "until":
            if len(args) != 1 or not (is_traversal(args[0]) or is_predicate(args[0])):
                raise QueryEvaluationError("lambdas are not supported: until() takes a traversal")
            self.until = c.child(args[0]) if is_traversal(args[0]) else _pred_traversal(args[0])
            self.until_first = before
        elif name == "emit":
            if args:
                if not (is_traversal(args[0]) or is_predicate(args[0])):
                    raise QueryEvaluationError("lambdas are not supported: emit() takes a traversal")
                self.emit = c.child(args[0]) if is_traversal(args[0]) else _pred_traversal(args[0])
            else:
                self.emit = True
            self.emit_first = before
        else:
            super().modulate(c, name, args)

    def children(self):
        return [t for t in (self.body, self.until, self.emit) if isinstance(t, Traversal)]

    def _until(self, ctx, t: Traverser, first: bool) -> bool:
        if first != self.until_first:
            return False
        if self.times is not None:
            return t.loops[-1][1] >= self.times
        if self.until is not None:
            return self.until.test(ctx, t)
        return False

    def _emit(self, ctx, t: Traverser, first: bool) -> bool:
        if first != self.emit_first or self.emit is False:
            return False
        if self.emit is True:
            return True
        return self.emit.test(ctx, t)

    def process(self, ctx, ts):
        if self._barrier is None:
            self._barrier = has_barrier(self.body)
        # like TinkerPop's RepeatUnrollStrategy + LazyBarrierStrategy: times(n) over a
        # path-free traversal runs loop by loop with equal traversers bulked together
        bulk = getattr(ctx, "path_free", False) and ctx.bulk_enabled and ctx.sack_init is None
        unroll = bulk and self.times is not None and self.until is None and self.emit is False
        if self._barrier or unroll:
            return self._levels(ctx, ts, bulk, unroll)
        return self._per_start(ctx, ts, bulk)

    @staticmethod
    def _popped(t: Traverser) -> Traverser:
        nt = t.clone()
        nt.loops = t.loops[:-1]
        return nt

    @staticmethod
    def _incr(r: Traverser) -> Traverser:
        r = r.clone()
        top = r.loops[-1]
        r.loops = r.loops[:-1] + ((top[0], top[1] + 1),)
        return r

    def _per_start(self, ctx, ts, bulk: bool = False):
        key = self.loop_name or id(self)
        popped, incr = self._popped, self._incr
        for start in ts:
            t = start.clone()
            t.loops = start.loops + ((key, 0),)
            queue: deque[Traverser] = deque((t,))
            # like TinkerPop's TraverserSet, equal traversers waiting for the body merge
            waiting: dict[tuple, Traverser] = {}
            while queue:
                cur = queue.popleft()
                if waiting and type(cur.obj) is Vtx:
                    waiting.pop((cur.obj.gid, cur.loops, label_signature(cur)), None)
                if self._until(ctx, cur, True):
                    yield popped(cur)
                    continue
                if self._emit(ctx, cur, True):
                    yield popped(cur)
                for r in self.body.results(ctx, cur):
                    ctx.check_time()
                    r = incr(r)
                    if self._until(ctx, r, False):
                        yield popped(r)
                        continue
                    if bulk and type(r.obj) is Vtx:
                        k = (r.obj.gid, r.loops, label_signature(r))
                        m = waiting.get(k)
                        if m is not None:
                            m.bulk += r.bulk
                        else:
                            waiting[k] = m = r.clone()
                            queue.append(m)
                    else:
                        queue.append(r)
                    if self._emit(ctx, r, False):
                        yield popped(r)

    def _levels(self, ctx, ts, merge: bool = False, unroll: bool = False):
        key = self.loop_name or id(self)
        popped, incr = self._popped, self._incr
        store = getattr(ctx, "persist", None)
        if store is None:
            store = ctx.persist = {}
        keep = [id(s) for s in global_steps(self.body) if getattr(s, "persistent", False)]
        saved = {k: store.get(k) for k in keep}
        for k in keep:
            store[k] = set()
        try:
            pending = []
            for start in ts:
                t = start.clone()
                t.loops = start.loops + ((key, 0),)
                pending.append(t)
            while pending:
                if merge:
                    pending = bulked(pending)
                level = []
                for cur in pending:
                    if self._until(ctx, cur, True):
                        yield popped(cur)
                        continue
                    if self._emit(ctx, cur, True):
                        yield popped(cur)
                    level.append(cur)
                pending = []
                outs: list[Traverser] = []
                for r in self.body.run(ctx, iter(level)):
                    ctx.check_time()
                    r = incr(r)
                    if self._until(ctx, r, False):
                        if unroll:
                            outs.append(popped(r))
                        else:
                            yield popped(r)
                        continue
                    pending.append(r)
                    if self._emit(ctx, r, False):
                        yield popped(r)
                if outs:
                    yield from bulked(outs)
        finally:
            for k, v in saved.items():
                if v is None:
                    store.pop(k, None)
                else:
                    store[k] = v


def bulked(items: list[Traverser]) -> list[Traverser]:
    """Merge traversers at the same vertex with the same loops (path-free traversals only)."""
    seen: dict[tuple, Traverser] = {}
    out = []
    for t in items:
        if type(t.obj) is Vtx:
            k = (t.obj.gid, t.loops, label_signature(t))
            m = seen.get(k)
            if m is not None:
                m.bulk += t.bulk
                continue
            t = seen[k] = t.clone()
        out.append(t)
    return out


def label_signature(t: Traverser) -> tuple:
    """The labelled part of a traverser's path (what select / where / match can see)."""
    sig = []
    node = t.path
    while node is not None:
        if node[2]:
            sig.append((node[2], hash_key(node[1])))
        node = node[0]
    return tuple(sig)


def needs_path(trav: Traversal) -> bool:
    """Whether any step of a traversal (at any depth) reads the traversers' whole paths
    (steps that read labels only need the labelled part, see label_signature)."""
    from .filter import PathFilterStep
    from .map import PathStep
    from .sideeffect import TreeStep
    kinds = (PathStep, PathFilterStep, TreeStep)

    def walk(t: Traversal) -> bool:
        for s in t.steps:
            if isinstance(s, kinds) or getattr(s, "name", "") == "otherV":
                return True
            if any(walk(c) for c in child_traversals(s)):
                return True
        return False
    return walk(trav)


def _pred_traversal(p: Any) -> Traversal:
    from .filter import IsStep
    step = IsStep.__new__(IsStep)
    step.test = p
    return Traversal([step])


class _TokenStep(Step):
    """The value of a T token (choose(T.label))."""

    name = "token"

    def __init__(self, token: T):
        self.token = token

    def process(self, ctx, ts):
        for t in ts:
            yield t.split(token_value(ctx, t.obj, self.token))


register("repeat")(RepeatStep)


class UnionStep(Step):
    name = "union"

    def __init__(self, c, args):
        for a in args:
            if not is_traversal(a):
                raise QueryEvaluationError(f"union() takes traversals, got {a!r}")
        self.branches = [c.child(a) for a in args]
        self._barrier: bool | None = None

    def global_children(self) -> list[Traversal]:
        return self.branches

    def process(self, ctx, ts):
        if self._barrier is None:
            self._barrier = any(has_barrier(b) for b in self.branches)
        if self._barrier:
            items = list(ts)
            for b in self.branches:
                yield from b.run(ctx, (t.clone() for t in items))
            return
        for t in ts:
            for b in self.branches:
                yield from b.results(ctx, t)

    def children(self):
        return self.branches


register("union")(UnionStep)


class CoalesceStep(Step):
    name = "coalesce"

    def __init__(self, c, args):
        for a in args:
            if not is_traversal(a):
                raise QueryEvaluationError(f"coalesce() takes traversals, got {a!r}")
        self.branches = [c.child(a) for a in args]

    def process(self, ctx, ts):
        for t in ts:
            for b in self.branches:
                got = list(b.results(ctx, t))
                if got:
                    yield from got
                    break

    def children(self):
        return self.branches


register("coalesce")(CoalesceStep)


class OptionalStep(Step):
    name = "optional"

    def __init__(self, c, args):
        if len(args) != 1 or not is_traversal(args[0]):
            raise QueryEvaluationError("optional() takes a traversal")
        self.trav = c.child(args[0])

    def process(self, ctx, ts):
        for t in ts:
            got = list(self.trav.results(ctx, t))
            if got:
                yield from got
            else:
                yield t

    def children(self):
        return [self.trav]


register("optional")(OptionalStep)

_IDENTITY = Traversal([])


class ChooseStep(Step):
    """choose(cond, true[, false]) / choose(P, ...) / choose(t|T).option(...) / branch(t).option(...).

    TinkerPop's BranchStep / ChooseStep: the choice is the first result of the choice
    traversal (``Pick.unproductive`` when there is none); options whose key equals the choice
    (or whose predicate / traversal accepts it) get the traverser, ``Pick.none`` when none does,
    ``Pick.any`` (branch only) always. choose() takes the first matching option only and
    defaults none / unproductive to identity().
    """

    def __init__(self, c, name, args):
        self.name = name
        self.if_mode = False
        self.options: list[tuple[Any, Traversal]] = []
        self.picks: dict[str, list[Traversal]] = {}
        self.default_picks: set[str] = set()
        self._barrier: bool | None = None
        if not args:
            raise QueryEvaluationError(f"{name}() needs arguments")
        first = args[0]
        if is_predicate(first):
            if len(args) < 2:
                raise QueryEvaluationError(f"{name}(P) takes a true-branch traversal")
            self.cond = _pred_traversal(first)
        elif isinstance(first, T):
            self.cond = Traversal([_TokenStep(first)])
        elif is_traversal(first):
            self.cond = c.child(first)
        else:
            raise QueryEvaluationError(f"lambdas are not supported: {name}() takes a traversal")
        if len(args) > 1:
            if name != "choose" or len(args) > 3:
                raise QueryEvaluationError(f"{name}() takes a choice traversal")
            for a in args[1:]:
                if not is_traversal(a):
                    raise QueryEvaluationError(f"choose() branches must be traversals, got {a!r}")
            self.if_mode = True
            self.true = c.child(args[1])
            self.false = c.child(args[2]) if len(args) > 2 else Traversal([])
        if name == "choose":
            self.picks = {"unproductive": [Traversal([])], "none": [Traversal([])]}
            self.default_picks = {"unproductive", "none"}

    def modulate(self, c, name, args, before=False):
        if name != "option":
            return super().modulate(c, name, args)
        if len(args) == 1:
            key, trav = Pick.any, args[0]
        elif len(args) == 2:
            key, trav = args
        else:
            raise QueryEvaluationError("option() takes a pick token and a traversal")
        if trav is None:
            from .map import ConstantStep
            step = ConstantStep.__new__(ConstantStep)
            step.value = None
            child = Traversal([step])
        elif is_traversal(trav):
            child = c.child(trav)
        else:
            raise QueryEvaluationError(f"option() takes a traversal, got {trav!r}")
        if isinstance(key, Pick):
            n = key.name.rstrip("_")
            if self.name == "choose":
                if n == "any":
                    raise QueryEvaluationError("Choose step can not have an any-option as only one"
                                               " option per traverser is allowed")
                if n in self.default_picks:
                    self.default_picks.discard(n)
                    self.picks[n] = [child]
                return
            self.picks.setdefault(n, []).append(child)
            return
        if is_traversal(key):
            if self.name == "choose":
                raise QueryEvaluationError("Traversal is not allowed as a Pick token for"
                                           " choose().option()")
            key = ("trav", c.child(key))
        self.options.append((key, child))

    def global_children(self) -> list[Traversal]:
        if self.if_mode:
            return [self.true, self.false]
        out = []
        for n in ("any", "none", "unproductive"):
            out.extend(self.picks.get(n, ()))
        out.extend(t for _, t in self.options)
        return out

    def children(self):
        return [self.cond] + self.global_children()

    def _match(self, ctx, key, choice, t: Traverser) -> bool:
        if isinstance(key, tuple) and len(key) == 2 and key[0] == "trav":
            return key[1].test(ctx, Traverser(choice, 1, (t.path, choice, frozenset()), t.sack,
                                               t.loops))
        if is_predicate(key):
            return test_predicate(key, choice) is True
        return equals(key, choice)

    def _branches(self, ctx, t: Traverser) -> list[Traversal]:
        if self.if_mode:
            return [self.true if self.cond.test(ctx, t) else self.false]
        choice = self.cond.first(ctx, t)
        if choice is NOTHING:
            picked = list(self.picks.get("unproductive") or self.picks.get("none") or ())
        else:
            picked = [trav for key, trav in self.options if self._match(ctx, key, choice, t)]
            if not picked:
                picked = list(self.picks.get("none") or ())
        if self.name == "choose":
            return picked[:1]
        return picked + list(self.picks.get("any", ()))

    def process(self, ctx, ts):
        order = {id(b): i for i, b in enumerate(self.global_children())}
        if self._barrier is None:
            self._barrier = any(has_barrier(b) for b in self.global_children())
        if self._barrier:
            buckets: dict[int, tuple[Traversal, list[Traverser]]] = {}
            for t in ts:
                for b in self._branches(ctx, t):
                    buckets.setdefault(order.get(id(b), -1), (b, []))[1].append(t.clone())
            for i in sorted(buckets):
                b, items = buckets[i]
                yield from b.run(ctx, iter(items))
            return
        for t in ts:
            branches = self._branches(ctx, t)
            if len(branches) == 1:
                yield from branches[0].results(ctx, t)
                continue
            branches.sort(key=lambda b: order.get(id(b), -1))
            for b in branches:
                yield from b.results(ctx, t.clone())


register("choose")(lambda c, args: ChooseStep(c, "choose", args))
register("branch")(lambda c, args: ChooseStep(c, "branch", args))
