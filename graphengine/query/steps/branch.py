"""Branch steps: repeat (times / until / emit), union, coalesce, optional, choose, branch."""

from __future__ import annotations

from collections import deque
from typing import Any

from gremlin_python.process.traversal import Pick

from ...errors import QueryEvaluationError
from ..traversal import NOTHING, Compiler, Step, Traversal, Traverser, is_traversal
from ..values import equals, is_predicate, test_predicate
from . import register


class RepeatStep(Step):
    """repeat(body) with times / until / emit before (while-do) or after (do-while)."""

    name = "repeat"
    accepts_pending = True

    def __init__(self, c: Compiler, args: list):
        self.loop_name = None
        if len(args) == 2 and isinstance(args[0], str):
            self.loop_name, args = args[0], args[1:]
        if len(args) != 1 or not is_traversal(args[0]):
            raise QueryEvaluationError("repeat() takes a traversal (and an optional loop name)")
        self.body = c.child(args[0])
        self.until: Traversal | None = None
        self.times: int | None = None
        self.until_first = False
        self.emit: Traversal | None | bool = False
        self.emit_first = False
        self.closed = False

    def modulate(self, c, name, args, before=False):
        if name == "times":
            if len(args) != 1 or not isinstance(args[0], int):
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
        return [t for t in (self.body, self.until) if isinstance(t, Traversal)]

    def _until(self, ctx, t: Traverser) -> bool:
        if self.times is not None:
            return t.loops[-1][1] >= self.times
        if self.until is not None:
            return self.until.test(ctx, t)
        return False

    def _emit(self, ctx, t: Traverser) -> bool:
        if self.emit is False:
            return False
        if self.emit is True:
            return True
        return self.emit.test(ctx, t)

    def process(self, ctx, ts):
        key = self.loop_name or id(self)

        def popped(t: Traverser) -> Traverser:
            nt = t.clone()
            nt.loops = t.loops[:-1]
            return nt

        queue: deque[Traverser] = deque()
        out: deque[Traverser] = deque()

        def enter(t: Traverser) -> None:
            if self.until_first and self._until(ctx, t):
                out.append(popped(t))
                return
            if self.emit_first and self._emit(ctx, t):
                out.append(popped(t))
            queue.append(t)

        for start in ts:
            t = start.clone()
            t.loops = start.loops + ((key, 0),)
            enter(t)
            while out:
                yield out.popleft()
            while queue:
                cur = queue.popleft()
                for r in self.body.results(ctx, cur):
                    ctx.check_time()
                    r = r.clone()
                    top = r.loops[-1]
                    r.loops = r.loops[:-1] + ((top[0], top[1] + 1),)
                    if not self.until_first and self._until(ctx, r):
                        yield popped(r)
                        continue
                    if not self.emit_first and self._emit(ctx, r):
                        yield popped(r)
                    if self.until_first or self.emit_first:
                        enter(r)
                        while out:
                            yield out.popleft()
                    else:
                        queue.append(r)


def _pred_traversal(p: Any) -> Traversal:
    from .filter import IsStep
    step = IsStep.__new__(IsStep)
    step.test = p
    return Traversal([step])


register("repeat")(RepeatStep)


class UnionStep(Step):
    name = "union"

    def __init__(self, c, args):
        for a in args:
            if not is_traversal(a):
                raise QueryEvaluationError(f"union() takes traversals, got {a!r}")
        self.branches = [c.child(a) for a in args]

    def process(self, ctx, ts):
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


class ChooseStep(Step):
    """choose(cond, true, false) / choose(P, true, false) / choose(t).option(...) / branch(t)."""

    def __init__(self, c, name, args):
        self.name = name
        self.pred_mode = False
        self.options: list[tuple[Any, Traversal]] = []
        self.none: Traversal | None = None
        self.any: Traversal | None = None
        self.unproductive: Traversal | None = None
        if not args:
            raise QueryEvaluationError(f"{name}() needs arguments")
        first = args[0]
        if is_predicate(first):
            self.cond = _pred_traversal(first)
        elif is_traversal(first):
            self.cond = c.child(first)
        else:
            raise QueryEvaluationError(f"lambdas are not supported: {name}() takes a traversal")
        if len(args) > 1:
            self.pred_mode = True
            self.true = c.child(args[1])
            self.false = c.child(args[2]) if len(args) > 2 else Traversal([])
        elif name == "choose":
            self.none = Traversal([])
            self.default_none = True

    def modulate(self, c, name, args, before=False):
        if name != "option":
            return super().modulate(c, name, args)
        if len(args) == 1:
            key, trav = Pick.any_, args[0]
            if not is_traversal(trav):
                raise QueryEvaluationError("option() takes a traversal")
            key = NOTHING
            self.options.append((NOTHING, c.child(trav)))
            return
        key, trav = args[0], args[1]
        if not is_traversal(trav):
            raise QueryEvaluationError("option() takes a key and a traversal")
        child = c.child(trav)
        if isinstance(key, Pick):
            n = key.name.rstrip("_")
            if n == "none":
                self.none = child
            elif n == "any":
                self.any = child
            else:
                self.unproductive = child
            return
        if is_traversal(key):
            key = ("trav", c.child(key))
        self.options.append((key, child))

    def children(self):
        return [self.cond] + [t for _, t in self.options]

    def _branches(self, ctx, t: Traverser) -> list[Traversal]:
        if self.pred_mode:
            return [self.true if self.cond.test(ctx, t) else self.false]
        choice = self.cond.first(ctx, t)
        if choice is NOTHING:
            out = [self.unproductive] if self.unproductive is not None else (
                [] if self.name == "branch" or self.none is None else [])
            if self.unproductive is None and self.name == "choose":
                out = [Traversal([])]
            return out + ([self.any] if self.any is not None else [])
        picked = []
        for key, trav in self.options:
            if key is NOTHING:
                picked.append(trav)
            elif isinstance(key, tuple) and len(key) == 2 and key[0] == "trav":
                if key[1].test(ctx, t.split(choice, extend=False)):
                    picked.append(trav)
            elif is_predicate(key):
                if test_predicate(key, choice) is True:
                    picked.append(trav)
            elif equals(key, choice):
                picked.append(trav)
        if not picked and self.none is not None:
            picked = [self.none]
        if self.any is not None:
            picked.append(self.any)
        return picked

    def process(self, ctx, ts):
        for t in ts:
            for b in self._branches(ctx, t):
                yield from b.results(ctx, t)


register("choose")(lambda c, args: ChooseStep(c, "choose", args))
register("branch")(lambda c, args: ChooseStep(c, "branch", args))
