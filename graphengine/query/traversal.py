"""The interpreter's core: traversers, the evaluation context, compiled traversals, by() modulators.

A bytecode's step instructions compile into a :class:`Traversal`: a list of :class:`Step`
objects, each a generator over traversers (pull-based, so ``limit`` stops upstream work and
``repeat`` can run over cycles). Modulators (``as``, ``by``, ``option``, ``with``, ``from``,
``to``, ``emit``, ``until``, ``times``, ``read``, ``write``) configure the step before them.
Child traversals (``__.out()``, ``by(__.count())`` ...) compile to traversals of their own and
run per traverser.

A traverser carries its object, its bulk (how many identical traversers it stands for), its
path (a linked list of ``(previous, object, labels)``, extended by the steps that produce new
objects), its sack and its loop counters.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from gremlin_python.process.traversal import (
    Bytecode,
    CardinalityValue,
    Column,
    Order,
    P,
    T,
    TextP,
)

from ..errors import QueryEvaluationError
from .graph import Edg, Prop, QueryGraph, VProp, Vtx
from .values import PathValue

NOTHING = object()   # "no value": an unproductive by(), a missing property


class MapEntry:
    """A ``Map.Entry`` produced by unfolding a map (leaves the engine as a one-item dict)."""

    __slots__ = ("key", "value")

    def __init__(self, key: Any, value: Any):
        self.key = key
        self.value = value

    def __eq__(self, other: object) -> bool:
        from .values import equals
        return type(other) is MapEntry and equals(self.key, other.key) and equals(self.value, other.value)

    def __hash__(self) -> int:
        from .values import hash_key
        return hash(("entry", hash_key(self.key), hash_key(self.value)))

    def __repr__(self) -> str:
        return f"{{{self.key!r}: {self.value!r}}}"


class Traverser:
    """One traverser (see the module docstring)."""

    __slots__ = ("bulk", "loops", "obj", "path", "sack")

    def __init__(self, obj: Any, bulk: int = 1, path: tuple | None = None, sack: Any = None,
                 loops: tuple = ()):
        self.obj = obj
        self.bulk = bulk
        self.path = path
        self.sack = sack
        self.loops = loops

    def split(self, obj: Any, extend: bool = True) -> Traverser:
        """A traverser at ``obj`` that inherits this one's history."""
        path = (self.path, obj, frozenset()) if extend else self.path
        return Traverser(obj, self.bulk, path, self.sack, self.loops)

    def clone(self, bulk: int | None = None) -> Traverser:
        return Traverser(self.obj, self.bulk if bulk is None else bulk, self.path, self.sack,
                         self.loops)

    def labelled(self, labels: Iterable[str]) -> Traverser:
        """This traverser with ``labels`` added to its path's last object."""
        labels = frozenset(labels)
        if self.path is None:
            path = (None, self.obj, labels)
        else:
            prev, obj, old = self.path
            path = (prev, obj, old | labels)
        return Traverser(self.obj, self.bulk, path, self.sack, self.loops)

    def path_items(self) -> list[tuple[Any, frozenset]]:
        items = []
        node = self.path
        while node is not None:
            items.append((node[1], node[2]))
            node = node[0]
        items.reverse()
        return items

    def path_value(self) -> PathValue:
        items = self.path_items()
        return PathValue([lab for _, lab in items], [o for o, _ in items])

    def labelled_values(self, label: str) -> list:
        """Objects of the path labelled ``label``, oldest first."""
        out = []
        node = self.path
        while node is not None:
            if label in node[2]:
                out.append(node[1])
            node = node[0]
        out.reverse()
        return out

    def loop_count(self, name: str | None = None) -> int:
        if not self.loops:
            return 0
        if name is None:
            return self.loops[-1][1]
        for n, c in reversed(self.loops):
            if n == name:
                return c
        return 0

    def __repr__(self) -> str:
        return f"Traverser({self.obj!r}, bulk={self.bulk})"


class Strategies:
    """The strategies a traversal source was configured with that change results."""

    def __init__(self) -> None:
        self.subgraph_vertices: Traversal | None = None
        self.subgraph_edges: Traversal | None = None
        self.subgraph_vprops: Traversal | None = None
        self.check_adjacent = True
        self.partition_key: str | None = None
        self.write_partition: Any = None
        self.read_partitions: list = []
        self.include_meta_properties = False
        self.read_only = False
        self.productive_by = False
        self.seed: int | None = None
        self.reserved_keys: frozenset[str] | None = None   # ReservedKeysVerificationStrategy


class Context:
    """What one traversal's execution shares: the graph, side effects, sack, strategies."""

    def __init__(self, graph: QueryGraph, deadline: float | None = None):
        self.graph = graph
        self.side_effects: dict[str, Any] = {}
        self.side_effect_reducers: dict[str, Any] = {}
        self.sack_init: Callable[[], Any] | None = None
        self.sack_merge: Any = None
        self.strategies = Strategies()
        self._rng: random.Random | None = None
        self.deadline = deadline
        self.bulk_enabled = True
        self._ticks = 0

    @property
    def rng(self) -> random.Random:
        """The random source of coin / sample / shuffle (made on first use: seeding from the OS
        costs more than a short traversal)."""
        if self._rng is None:
            self._rng = random.Random()
        return self._rng

    def check_time(self) -> None:
        """Raise when the evaluation deadline has passed (checked every few thousand steps)."""
        self._ticks += 1
        if self.deadline is not None and self._ticks & 0xFFF == 0 and time.monotonic() > self.deadline:
            raise QueryTimeout("evaluation exceeded its time limit")

    def new_traverser(self, obj: Any, bulk: int = 1) -> Traverser:
        sack = self.sack_init() if self.sack_init is not None else None
        return Traverser(obj, bulk, (None, obj, frozenset()), sack)

    # strategy filters --------------------------------------------------------------
    def vertex_visible(self, v: Vtx) -> bool:
        s = self.strategies
        if s.partition_key is not None:
            vals = self.graph.vertex_values(v.gid, s.partition_key)
            if not any(x in s.read_partitions for x in vals):
                return False
        if s.subgraph_vertices is not None:
            return self._criterion(s.subgraph_vertices, v)
        return True

    def _criterion(self, trav: Traversal, obj: Any) -> bool:
        """A SubgraphStrategy filter for one element; it reads the whole graph (TinkerPop does
        not apply the strategy to its own filters)."""
        saved = self.strategies
        self.strategies = Strategies()
        try:
            return trav.test(self, Traverser(obj, 1, (None, obj, frozenset())))
        finally:
            self.strategies = saved

    def edge_visible(self, e: Edg) -> bool:
        s = self.strategies
        if s.partition_key is not None:
            val = self.graph.edge_value(e.eid, s.partition_key)
            if val not in s.read_partitions:
                return False
        if s.subgraph_edges is not None and not self._criterion(s.subgraph_edges, e):
            return False
        if s.subgraph_vertices is not None and s.check_adjacent:
            out, inn = self.graph.edge_ends(e.eid)
            return self.vertex_visible(Vtx(out)) and self.vertex_visible(Vtx(inn))
        return True

    def vprop_visible(self, p: VProp) -> bool:
        s = self.strategies
        if (s.partition_key is not None and s.include_meta_properties
                and (p.meta or {}).get(s.partition_key) not in s.read_partitions):
            return False
        if s.subgraph_vprops is not None:
            return self._criterion(s.subgraph_vprops, p)
        return True

    @property
    def filtered(self) -> bool:
        s = self.strategies
        return (s.subgraph_vertices is not None or s.subgraph_edges is not None
                or s.partition_key is not None)


class QueryTimeout(QueryEvaluationError):
    """The evaluation took longer than its limit."""


class Step:
    """One step of a compiled traversal."""

    name = "step"
    #: True for steps that consume all input before emitting (reducing barriers reset paths)
    reducing = False

    def process(self, ctx: Context, ts: Iterator[Traverser]) -> Iterator[Traverser]:
        raise NotImplementedError

    # modulators: a step accepts the ones it overrides --------------------------------
    def modulate(self, c: Compiler, name: str, args: list) -> None:
        raise QueryEvaluationError(f"{self.name}() cannot be modulated by {name}()")

    def children(self) -> list[Traversal]:
        return []


class Traversal:
    """A compiled list of steps."""

    def __init__(self, steps: list[Step]):
        self.steps = steps

    def run(self, ctx: Context, starts: Iterable[Traverser]) -> Iterator[Traverser]:
        it: Iterator[Traverser] = iter(starts)
        for s in self.steps:
            it = s.process(ctx, it)
        return it

    def results(self, ctx: Context, t: Traverser) -> Iterator[Traverser]:
        """Run on one traverser (keeping its bulk)."""
        return self.run(ctx, (t,))

    def first(self, ctx: Context, t: Traverser) -> Any:
        """The first object the traversal gives for ``t`` (bulk 1), or NOTHING."""
        for r in self.run(ctx, (t.clone(1),)):
            return r.obj
        return NOTHING

    def test(self, ctx: Context, t: Traverser) -> bool:
        for _ in self.run(ctx, (t.clone(1),)):
            return True
        return False

    @property
    def is_reducing(self) -> bool:
        return bool(self.steps) and self.steps[-1].reducing

    @property
    def is_identity(self) -> bool:
        return not self.steps


class Compiler:
    """Turns step instructions into a :class:`Traversal` (see ``steps`` for the registry)."""

    def __init__(self, registry: dict[str, Callable[[Compiler, list], Step]]):
        self.registry = registry
        self.pending: list[tuple[str, list]] = []   # emit/until/times before their repeat()

    def compile(self, instructions: list[list]) -> Traversal:
        steps: list[Step] = []
        saved, self.pending = self.pending, []
        for inst in instructions:
            name, args = inst[0], list(inst[1:])
            self._add(steps, name, args)
        if self.pending:
            # emit()/until()/times() with no repeat() after them
            name = self.pending[0][0]
            self.pending = saved
            raise QueryEvaluationError(f"The repeat()-traversal was not defined: {name}() must"
                                       f" modulate a repeat() step")
        self.pending = saved
        if not getattr(self, "connective", True):
            return Traversal(steps)
        from .steps.filter import apply_connective
        return Traversal(apply_connective(steps))

    def child(self, arg: Any) -> Traversal:
        """Compile an argument that must be a traversal."""
        if isinstance(arg, Bytecode):
            if arg.source_instructions:
                raise QueryEvaluationError("a child traversal cannot carry source instructions")
            child = self.compile(arg.step_instructions)
            if child.steps:
                # a child's start step sees the parent's traverser first (TinkerPop's StartStep)
                child.steps[0].child_start = True
            return child
        if isinstance(arg, Traversal):
            return arg
        if hasattr(arg, "bytecode"):
            return self.child(arg.bytecode)
        raise QueryEvaluationError(f"expected a traversal, got {type(arg).__name__} {arg!r}")

    def _add(self, steps: list[Step], name: str, args: list) -> None:
        from .steps.modulators import MODULATORS, apply_modulator

        if name in MODULATORS:
            apply_modulator(self, steps, name, args)
            return
        factory = self.registry.get(name)
        if factory is None:
            raise QueryEvaluationError(f"unknown step {name}()")
        step = factory(self, args)
        if self.pending and getattr(step, "accepts_pending", False):
            for pname, pargs in self.pending:
                step.modulate(self, pname, pargs, before=True)
            self.pending = []
        fold = getattr(step, "fold_into", None)   # property() after addV()/addE()
        if fold is not None and fold(steps):
            return
        steps.append(step)


def is_traversal(arg: Any) -> bool:
    if isinstance(arg, CardinalityValue):
        return False
    return isinstance(arg, (Bytecode, Traversal)) or hasattr(arg, "bytecode")


def cardinality_value(arg: Any) -> tuple[str, Any] | None:
    """``(cardinality name, value)`` of a ``Cardinality.list(value)`` argument, else None."""
    if isinstance(arg, CardinalityValue):
        _, card, value = arg.source_instructions[0]
        return card.name.rstrip("_"), value
    return None


# ---------------------------------------------------------------------------- by() modulators

class By:
    """One ``by()`` modulator: how to get a value from a traverser (and an order for order())."""

    def __init__(self, kind: str, arg: Any = None, order: Any = None):
        self.kind = kind      # identity | key | token | traversal | column
        self.arg = arg
        self.order = order

    def value(self, ctx: Context, t: Traverser) -> Any:
        """The modulated value, NOTHING when unproductive (ProductiveByStrategy: None)."""
        v = self._value(ctx, t)
        if v is NOTHING and ctx.strategies.productive_by:
            return None
        return v

    def _value(self, ctx: Context, t: Traverser) -> Any:
        kind = self.kind
        if kind == "identity":
            return t.obj
        if kind == "key":
            return property_value(ctx, t.obj, self.arg)
        if kind == "token":
            return token_value(ctx, t.obj, self.arg)
        if kind == "column":
            return column_value(t.obj, self.arg)
        return self.arg.first(ctx, t)

    def value_of(self, ctx: Context, obj: Any, parent: Traverser | None = None) -> Any:
        base = parent.split(obj) if parent is not None else Traverser(obj, 1, (None, obj, frozenset()))
        return self.value(ctx, base)


def make_by(c: Compiler, args: list) -> By:
    """Compile the arguments of one ``by()``."""
    if not args:
        return By("identity")
    first, rest = args[0], args[1:]
    order = rest[0] if rest else None
    if len(rest) > 1:
        raise QueryEvaluationError(f"by() takes at most two arguments, got {len(args)}")
    if isinstance(first, Order):
        return By("identity", order=first)
    if isinstance(first, str):
        return By("key", first, order)
    if isinstance(first, T):
        return By("token", first, order)
    if isinstance(first, Column):
        return By("column", first, order)
    if is_traversal(first):
        return By("traversal", c.child(first), order)
    if isinstance(first, (P, TextP)):
        raise QueryEvaluationError("by() does not take a predicate")
    if callable(first) or type(first).__name__ == "Lambda":
        raise QueryEvaluationError("lambdas are not supported: by() takes a key, a token, a"
                                   " traversal or an order")
    raise QueryEvaluationError(f"by() does not take {type(first).__name__} {first!r}")


def property_value(ctx: Context, obj: Any, key: str) -> Any:
    """``by('key')``: the property of an element, an entry of a map, else an error."""
    g = ctx.graph
    if isinstance(obj, Vtx):
        vals = g.vertex_values(obj.gid, key)
        if not vals:
            return NOTHING
        if len(vals) > 1:
            raise QueryEvaluationError(f"Multiple properties exist for the provided key, use"
                                       f" Vertex.properties({key})")
        return vals[0]
    if isinstance(obj, Edg):
        v = g.edge_value(obj.eid, key)
        return NOTHING if v is None else v
    if isinstance(obj, VProp):
        meta = obj.meta or {}
        return meta.get(key, NOTHING)
    if isinstance(obj, dict):
        return obj.get(key, NOTHING)
    raise QueryEvaluationError(f"The by(\"{key}\") modulator can only be applied to a traverser"
                               f" that is an Element or a Map - it is being applied to"
                               f" [{obj!r}] a {type(obj).__name__} class instead")


def token_value(ctx: Context, obj: Any, token: T) -> Any:
    g = ctx.graph
    name = token.name.rstrip("_")
    if name == "id":
        if isinstance(obj, Vtx):
            return g.vertex_id(obj.gid)
        if isinstance(obj, Edg):
            return g.edge_id(obj.eid)
        if isinstance(obj, VProp):
            return obj.id
    elif name == "label":
        if isinstance(obj, Vtx):
            return g.vertex_label(obj.gid)
        if isinstance(obj, Edg):
            return g.edge_label(obj.eid)
        if isinstance(obj, (VProp, Prop)):
            return obj.key
    elif name == "key":
        if isinstance(obj, (VProp, Prop)):
            return obj.key
        if isinstance(obj, MapEntry):
            return obj.key
    elif name == "value":
        if isinstance(obj, (VProp, Prop)):
            return obj.value
        if isinstance(obj, MapEntry):
            return obj.value
    if isinstance(obj, dict):
        for k in (token, name):
            if k in obj:
                return obj[k]
        return NOTHING
    raise QueryEvaluationError(f"T.{name} cannot be read from {type(obj).__name__} {obj!r}")


def column_value(obj: Any, col: Column) -> Any:
    keys = col.name.startswith("key")
    if isinstance(obj, MapEntry):
        return obj.key if keys else obj.value
    if isinstance(obj, dict):
        if keys:
            from .values import KeySet
            return KeySet(obj.keys())
        return list(obj.values())
    if isinstance(obj, PathValue):
        return obj.labels if keys else obj.objects
    raise QueryEvaluationError(f"Column.{col.name} cannot be read from {type(obj).__name__}")


def scope_value(ctx: Context, t: Traverser, key: Any, pop: Any = None) -> Any:
    """The value ``select(key)`` sees: an entry of the current map, a side effect, or the
    objects of the path labelled ``key`` (by ``pop``: last by default); NOTHING if none."""
    obj = t.obj
    if isinstance(obj, dict) and key in obj:
        return obj[key]
    if isinstance(key, str):
        if key in ctx.side_effects:
            v = ctx.side_effects[key]
            return v.final() if hasattr(v, "final") else v
        vals = t.labelled_values(key)
        if vals:
            name = pop.name.rstrip("_") if pop is not None else "last"
            if name == "last":
                return vals[-1]
            if name == "first":
                return vals[0]
            if name == "all":
                return list(vals)
            return vals[0] if len(vals) == 1 else list(vals)
    return NOTHING
