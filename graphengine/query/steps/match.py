"""match(patterns...): declarative pattern matching over step labels.

Each pattern is a traversal that starts at a label (``__.as('a')...``) and may end at one
(``....as('b')``); ``where()`` and ``not()`` patterns filter the bindings; ``and()`` patterns
add their patterns to the match, ``or()`` patterns match when one of their alternatives does
(TinkerPop nests a MatchStep for both). The incoming object is bound to the start label that no
pattern ends at (labels already in the path keep their values). Patterns run in order as soon
as they can (a pattern once its start label is bound, a filter once all its labels are), a
depth-first search over bindings; an end label that is already bound must be reached again.
Each solution leaves as a map of the match's labels, with the labelled values added to the
path so ``select`` sees them.
"""

from __future__ import annotations

import copy
from typing import Any

from gremlin_python.process.traversal import P

from ...errors import QueryEvaluationError
from ..traversal import NOTHING, Compiler, Step, Traversal, Traverser, scope_value
from ..values import equals, hash_key
from . import register
from .filter import TraversalFilterStep, WhereStep, WhereTest, where_traversal
from .modulators import AsStep


def _as_labels(trav: Any, out: set) -> None:
    """Every label of the as() steps in a traversal (or where-test), at any depth."""
    if isinstance(trav, WhereTest):
        for lab in (trav.start, trav.end):
            if lab:
                out.add(lab)
        _as_labels(trav.trav, out)
        return
    if not isinstance(trav, Traversal):
        return
    for s in trav.steps:
        if isinstance(s, AsStep):
            out.update(s.labels)
        if isinstance(s, WhereStep):
            _where_labels(s, out)
        for c in getattr(s, "travs", ()) or ():
            _as_labels(c, out)


def _pred_labels(p: Any, out: set) -> None:
    if not isinstance(p, P):
        return
    if p.operator in ("and", "or"):
        _pred_labels(p.value, out)
        _pred_labels(p.other, out)
    elif p.operator == "not":
        _pred_labels(p.value, out)
    elif isinstance(p.value, str):
        out.add(p.value)
    elif isinstance(p.value, (list, tuple)):
        out.update(x for x in p.value if isinstance(x, str))


def _where_labels(s: WhereStep, out: set) -> None:
    if s.start_label:
        out.add(s.start_label)
    if s.pred is not None:
        _pred_labels(s.pred, out)
    if s.trav is not None:
        _as_labels(s.trav, out)


class _Seq:
    """as(start)...[as(end)]"""

    def __init__(self, steps: list[Step]):
        if not steps or not isinstance(steps[0], AsStep):
            raise QueryEvaluationError("match() patterns must start with as(label)")
        self.start = next(iter(steps[0].labels))
        steps = steps[1:]
        self.end = None
        if steps and isinstance(steps[-1], AsStep):
            self.end = next(iter(steps[-1].labels))
            steps = steps[:-1]
        self.body = Traversal(steps)

    def labels(self) -> list[str]:
        return [x for x in (self.start, self.end) if x]

    def starts(self) -> set:
        return {self.start}

    def ends(self) -> set:
        return {self.end} if self.end else set()


class _Filter:
    """where(...) / not(...): a test over the bindings."""

    def __init__(self, step: Step):
        self.step = step
        refs: set = set()
        if isinstance(step, WhereStep):
            _where_labels(step, refs)
            self.start = step.start_label or step.trav_start
        else:
            for c in step.travs:
                _as_labels(c, refs)
            first = step.travs[0] if step.travs else None
            self.start = first.start if isinstance(first, WhereTest) else None
        self.refs = refs

    def labels(self) -> list[str]:
        return []

    def starts(self) -> set:
        return set(self.refs)

    def ends(self) -> set:
        return set()


class _Or:
    def __init__(self, alternatives: list[list]):
        self.alternatives = alternatives

    def labels(self) -> list[str]:
        out: list[str] = []
        for alt in self.alternatives:
            for p in alt:
                out.extend(x for x in p.labels() if x not in out)
        return out

    def starts(self) -> set:
        out: set = set()
        for alt in self.alternatives:
            ends = set().union(*(p.ends() for p in alt)) if alt else set()
            for p in alt:
                out |= p.starts() - ends
        return out

    def ends(self) -> set:
        return set().union(*(p.ends() for alt in self.alternatives for p in alt))


def _patterns(trav: Traversal) -> list:
    steps = list(trav.steps)
    if len(steps) == 1 and isinstance(steps[0], TraversalFilterStep):
        s = steps[0]
        if s.name == "and":
            return [p for c in s.travs for p in _patterns(c)]
        if s.name == "or":
            return [_Or([_patterns(c) for c in s.travs])]
        if s.name == "not":
            node = copy.copy(s)
            node.travs = [where_traversal(c) if isinstance(c, Traversal) else c for c in s.travs]
            return [_Filter(node)]
    if len(steps) == 1 and isinstance(steps[0], WhereStep):
        return [_Filter(steps[0])]
    return [_Seq(steps)]


def _all_labels(patterns: list) -> list[str]:
    out: list[str] = []
    for p in patterns:
        out.extend(x for x in p.labels() if x not in out)
    return out


class MatchStep(Step):
    name = "match"

    def __init__(self, c: Compiler, args: list):
        if not args:
            raise QueryEvaluationError("match() takes pattern traversals")
        self.patterns = [p for a in args for p in _patterns(c.child(a))]
        ends = set().union(*(p.ends() for p in self.patterns))
        starts: list[str] = []
        for p in self.patterns:
            cand = [p.start] if isinstance(p, _Seq) else sorted(p.starts())
            starts.extend(x for x in cand if x and x not in starts)
        free = [s for s in starts if s not in ends]
        self.start_label = free[0] if free else (starts[0] if starts else None)
        self.labels = _all_labels(self.patterns)

    def process(self, ctx, ts):
        for t in ts:
            bound: dict[str, Any] = {}
            if not isinstance(t.obj, dict):
                for lab in self.labels:
                    v = scope_value(ctx, t, lab)
                    if v is not NOTHING:
                        bound[lab] = v
            if self.start_label is not None and self.start_label not in bound:
                bound[self.start_label] = t.obj
            pre = set(bound)
            for sol in self._solve(ctx, t, bound, self.patterns):
                out = {lab: sol[lab] for lab in self.labels if lab in sol}
                nt = t
                for lab in self.labels:
                    if lab in sol and (lab not in pre or lab == self.start_label):
                        nt = nt.split(sol[lab]).labelled([lab])
                yield nt.split(out)

    @staticmethod
    def _with_bindings(t: Traverser, obj: Any, bound: dict) -> Traverser:
        path = t.path
        for lab, v in bound.items():
            path = (path, v, frozenset([lab]))
        return Traverser(obj, 1, (path, obj, frozenset()), t.sack, t.loops)

    def _ready(self, p, bound: dict) -> bool:
        if isinstance(p, _Seq):
            return p.start in bound
        if isinstance(p, _Filter):
            return p.refs <= bound.keys()
        return p.starts() <= bound.keys()

    def _solve(self, ctx, t: Traverser, bound: dict, pending: list):
        if not pending:
            yield dict(bound)
            return
        idx = next((i for i, p in enumerate(pending) if self._ready(p, bound)), None)
        if idx is None:
            # nothing can start from the bound labels: run the first pattern anyway
            idx = 0
        p = pending[idx]
        rest = pending[:idx] + pending[idx + 1:]
        if isinstance(p, _Filter):
            start_obj = bound.get(p.start, t.obj) if p.start else t.obj
            if p.step.keep(ctx, self._with_bindings(t, start_obj, bound)):
                yield from self._solve(ctx, t, bound, rest)
            return
        if isinstance(p, _Or):
            seen: set = set()
            for alt in p.alternatives:
                for sol in self._solve(ctx, t, bound, alt):
                    key = tuple(sorted((k, repr(hash_key(v))) for k, v in sol.items()))
                    if key in seen:
                        continue
                    seen.add(key)
                    yield from self._solve(ctx, t, sol, rest)
            return
        if p.start not in bound:
            return
        tt = self._with_bindings(t, bound[p.start], bound)
        for r in p.body.run(ctx, (tt,)):
            for _ in range(r.bulk):
                if p.end is None:
                    yield from self._solve(ctx, t, bound, rest)
                elif p.end in bound:
                    if equals(bound[p.end], r.obj):
                        yield from self._solve(ctx, t, bound, rest)
                else:
                    nb = dict(bound)
                    nb[p.end] = r.obj
                    yield from self._solve(ctx, t, nb, rest)


register("match")(MatchStep)
