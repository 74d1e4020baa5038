"""match(patterns...): declarative pattern matching over step labels.

Each pattern is a traversal that starts at a label (``__.as('a')...``) and may end at one
(``....as('b')``); ``where()`` and ``not()`` patterns filter the bindings. The incoming object
is bound to the start label that no pattern ends at (the first pattern's otherwise). Patterns
run in order as soon as their start label is bound (a depth-first search over bindings);
an end label that is already bound must be reached again. Each solution leaves as a map of
the match's labels, with the labelled values added to the path so ``select`` sees them.
"""

from __future__ import annotations

from typing import Any

from ...errors import QueryEvaluationError
from ..traversal import Compiler, Step, Traversal, Traverser, scope_value, NOTHING
from ..values import equals
from . import register
from .filter import TraversalFilterStep, WhereStep
from .modulators import AsStep


class _Pattern:
    def __init__(self, trav: Traversal):
        steps = list(trav.steps)
        self.filter: Step | None = None
        self.start = self.end = None
        if len(steps) == 1 and isinstance(steps[0], (WhereStep, TraversalFilterStep)):
            self.filter = steps[0]
            inner = getattr(steps[0], "travs", None)
            if inner and inner[0].steps and isinstance(inner[0].steps[0], AsStep):
                self.start = next(iter(inner[0].steps[0].labels))
            elif isinstance(steps[0], WhereStep):
                self.start = steps[0].start_label or steps[0].trav_start
            self.body = None
            return
        if not steps or not isinstance(steps[0], AsStep):
            raise QueryEvaluationError("match() patterns must start with as(label)")
        self.start = next(iter(steps[0].labels))
        steps = steps[1:]
        if steps and isinstance(steps[-1], AsStep):
            self.end = next(iter(steps[-1].labels))
            steps = steps[:-1]
        self.body = Traversal(steps)


class MatchStep(Step):
    name = "match"

    def __init__(self, c: Compiler, args: list):
        if not args:
            raise QueryEvaluationError("match() takes pattern traversals")
        self.patterns = [_Pattern(c.child(a)) for a in args]
        ends = {p.end for p in self.patterns if p.end}
        starts = [p.start for p in self.patterns if p.start and p.filter is None]
        free = [s for s in starts if s not in ends]
        self.start_label = free[0] if free else (starts[0] if starts else None)
        labels: list[str] = []
        for p in self.patterns:
            for lab in (p.start, p.end):
                if lab and lab not in labels:
                    labels.append(lab)
        self.labels = labels

    def process(self, ctx, ts):
        for t in ts:
            bound: dict[str, Any] = {}
            for lab in self.labels:
                v = scope_value(ctx, t, lab)
                if v is not NOTHING and not isinstance(t.obj, dict):
                    bound[lab] = v
            if self.start_label is not None and self.start_label not in bound:
                bound[self.start_label] = t.obj
            elif self.start_label is not None and not equals(bound[self.start_label], t.obj):
                pass
            for sol in self._solve(ctx, t, bound, [False] * len(self.patterns)):
                nt = t
                for lab in self.labels:
                    if lab in sol and lab not in bound or (lab in sol and lab == self.start_label):
                        nt = nt.split(sol[lab]).labelled([lab])
                out = {lab: sol[lab] for lab in self.labels if lab in sol}
                yield nt.split(out)

    def _with_bindings(self, t: Traverser, obj: Any, bound: dict) -> Traverser:
        nt = Traverser(obj, 1, t.path, t.sack, t.loops)
        for lab, v in bound.items():
            nt = Traverser(obj, 1, (nt.path, v, frozenset([lab])), t.sack, t.loops)
        return Traverser(obj, 1, (nt.path, obj, frozenset()), t.sack, t.loops)

    def _solve(self, ctx, t: Traverser, bound: dict, done: list[bool]):
        pending = [i for i, d in enumerate(done) if not d]
        if not pending:
            yield dict(bound)
            return
        for i in pending:
            p = self.patterns[i]
            if p.start is not None and p.start not in bound:
                continue
            nd = list(done)
            nd[i] = True
            start_obj = bound.get(p.start, t.obj)
            if p.filter is not None:
                tt = self._with_bindings(t, start_obj, bound)
                if p.filter.keep(ctx, tt):
                    yield from self._solve(ctx, t, bound, nd)
                return
            tt = self._with_bindings(t, start_obj, bound)
            for r in p.body.run(ctx, (tt,)):
                if p.end is None:
                    yield from self._solve(ctx, t, bound, nd)
                    continue
                if p.end in bound:
                    if equals(bound[p.end], r.obj):
                        yield from self._solve(ctx, t, bound, nd)
                    continue
                nb = dict(bound)
                nb[p.end] = r.obj
                yield from self._solve(ctx, t, nb, nd)
            return
        # patterns whose start labels are never bound
        raise QueryEvaluationError("match(): no pattern can start from the bound labels")


register("match")(MatchStep)
