"""Modulators: instructions that configure the step before them instead of adding one."""

from __future__ import annotations

from gremlin_python.process.traversal import Direction

from ...errors import QueryEvaluationError
from ..traversal import Compiler, Step, Traverser

MODULATORS = {"as", "by", "option", "with", "from", "to", "emit", "until", "times", "read", "write"}


class AsStep(Step):
    """``as(label...)``: labels the current object in the path."""

    name = "as"

    def __init__(self, labels: list[str]):
        for lab in labels:
            if not isinstance(lab, str):
                raise QueryEvaluationError(f"as() takes step labels (strings), got {lab!r}")
        self.labels = frozenset(labels)

    def process(self, ctx, ts):
        for t in ts:
            yield t.labelled(self.labels)


def apply_modulator(c: Compiler, steps: list[Step], name: str, args: list) -> None:
    if name == "as":
        steps.append(AsStep(args))
        return
    if name in ("to", "from") and args and isinstance(args[0], Direction):
        factory = c.registry["toDirection"]
        steps.append(factory(c, args))
        return
    if name in ("emit", "until", "times"):
        from .branch import RepeatStep
        if steps and isinstance(steps[-1], RepeatStep) and not steps[-1].closed:
            steps[-1].modulate(c, name, args)
        else:
            c.pending.append((name, args))
        return
    if name in ("read", "write"):
        if steps and steps[-1].name == "io":
            steps[-1].modulate(c, name, args)
        return
    if not steps:
        raise QueryEvaluationError(f"{name}() must follow a step it modulates")
    prev = steps[-1]
    if isinstance(prev, AsStep) and len(steps) > 1 and name != "with":
        prev = steps[-2]
    prev.modulate(c, name, args)


__all__ = ["MODULATORS", "AsStep", "Traverser", "apply_modulator"]
