"""The Gremlin engine's entry point: :class:`Gremlin` (GraphScope's ``sess.gremlin(g)``).

``Gremlin(g).execute(text)`` parses Gremlin text into gremlinpython's ``Bytecode``; a
``traversal_source()`` built on the same object sends the bytecode of gremlinpython's own
fluent API. Both run through :meth:`Gremlin.submit`, which applies the source instructions
(``withSideEffect``, ``withSack``, ``withStrategies`` ...), compiles the steps and runs them
over the graph. A traversal that raises leaves the graph as it was (its changes are undone).
Results are gremlinpython's structure types, as a Gremlin Server would return them.
"""

from __future__ import annotations

import copy
import logging
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from gremlin_python.driver.remote_connection import RemoteConnection, RemoteTraversal
from gremlin_python.process.anonymous_traversal import traversal
from gremlin_python.process.graph_traversal import GraphTraversalSource
from gremlin_python.process.traversal import Bytecode, Operator
from gremlin_python.process.traversal import Traverser as GTraverser
from gremlin_python.structure.graph import Edge, Path, Property, Vertex, VertexProperty

from ..errors import GraphEngineError, QueryEvaluationError
from ..store.graph import Graph
from . import vectorized
from .graph import Edg, Prop, QueryGraph, VProp, Vtx
from .steps import load_all
from .steps.branch import needs_path
from .steps.mutation import START, SubgraphValue
from .steps.sideeffect import GroupValue, TreeValue
from .traversal import Compiler, Context, MapEntry, Traverser
from .values import ELEMENT_ID, KeySet, PathValue, set_of

log = logging.getLogger(__name__)


class ResultSet:
    """The results of one query: ``all()`` (a list) and ``one()`` (the single result)."""

    def __init__(self, results: list):
        self._results = results

    def all(self) -> list:
        return list(self._results)

    def one(self) -> Any:
        if len(self._results) != 1:
            raise QueryEvaluationError(f"one(): the query gave {len(self._results)} results, not 1")
        return self._results[0]

    def __iter__(self) -> Iterator:
        return iter(self._results)

    def __len__(self) -> int:
        return len(self._results)

    def __repr__(self) -> str:
        return f"ResultSet({self._results!r})"


_PLAIN = frozenset({int, float, str, bool, type(None)})   # values that cross as they are
_UNPLANNED = object()       # a traversal shape not yet planned
_MAX_PLANS = 1024           # traversal shapes whose count plans are kept


class Gremlin:
    """A Gremlin engine over one graph; mutations made through it build on each other.

    Args:
        graph: the store graph to query (``sess.gremlin(g)`` makes one).
        evaluation_timeout: seconds a traversal may run (None: no limit).
        allow_null_properties: ``property(k, null)`` stores a null value (TinkerGraph's
            ``allowNullPropertyValues``) instead of removing the property.
        allow_io: whether ``io(file).read()`` may read files (the server turns it off).

    >>> import graphengine
    >>> from graphengine.datasets import load_modern_graph
    >>> q = Gremlin(load_modern_graph(graphengine.session()))
    >>> q.execute("g.V().has('name','marko').out('knows').values('name')").all()
    ['vadas', 'josh']
    """

    def __init__(self, graph: Graph, evaluation_timeout: float | None = None,
                 allow_null_properties: bool = False, allow_io: bool = True):
        self._qg = QueryGraph(graph, allow_null_properties)
        self.allow_io = allow_io
        self.evaluation_timeout = evaluation_timeout
        self._compiler = Compiler(load_all())
        self._plans: dict[tuple, vectorized.CountPlan | None] = {}   # shape -> plan (None: no plan)
        self._store: Graph | None = graph
        self._store_version = 0
        self._listeners: list[Callable[[], None]] = []

    @property
    def version(self) -> int:
        """How many traversals changed the graph through this engine (0: it is the graph it was
        made with)."""
        return self._qg.version

    def add_change_listener(self, listener: Callable[[], None]) -> None:
        """Call ``listener()`` after each traversal that changed the graph, before its results
        are returned (the Gremlin server's replica processes learn of changes this way)."""
        self._listeners.append(listener)

    # ------------------------------------------------------------------ public API
    @property
    def graph(self) -> Graph:
        """The store graph after the mutations made through this object (a new version)."""
        if self._store is None or self._store_version != self._qg.version:
            self._store = self._qg.to_store()
            self._store_version = self._qg.version
        return self._store

    def execute(self, text: str, bindings: Mapping[str, Any] | None = None) -> ResultSet:
        """Run Gremlin text (TinkerPop's gremlin-language syntax) with optional bindings."""
        from .parser import parse_query

        parsed = parse_query(text, bindings)
        results = self.submit(parsed.bytecode)
        values = [v for t in results for v in [t.object] * t.bulk]
        terminal = parsed.terminal
        if terminal == "next":
            n = parsed.terminal_arg
            values = values[:1] if n is None else values[:n]
        elif terminal == "hasNext":
            values = [bool(values)]
        elif terminal == "iterate":
            values = []
        return ResultSet(values)

    def traversal_source(self) -> GraphTraversalSource:
        """A gremlinpython ``GraphTraversalSource`` that runs in this process, no server."""
        return traversal().with_(_InProcessConnection(self))

    def submit(self, bytecode: Bytecode) -> list[GTraverser]:
        """Run bytecode; results as gremlinpython ``Traverser`` objects (object, bulk)."""
        if not bytecode.source_instructions:
            fast = self._vectorized(bytecode.step_instructions)
            if fast is not None:
                return fast
        deadline = (time.monotonic() + self.evaluation_timeout) if self.evaluation_timeout else None
        ctx = Context(self._qg, deadline)
        ctx.io_allowed = self.allow_io
        qg = self._qg
        qg.begin()
        token = ELEMENT_ID.set(self._element_id)
        try:
            self._compiler.connective = not any(
                inst[0] == "withoutStrategies" and any("ConnectiveStrategy" in str(a) for a in inst[1:])
                for inst in bytecode.source_instructions)
            self._source(ctx, bytecode)
            trav = self._compiler.compile(bytecode.step_instructions)
            ctx.path_free = not needs_path(trav)
            root = ctx.new_traverser(START)
            root.path = None
            out = list(trav.run(ctx, (root,)))
            results = [GTraverser(self._out(t.obj), t.bulk) for t in out]
        except GraphEngineError:
            qg.rollback()
            raise
        except RecursionError as e:
            qg.rollback()
            raise QueryEvaluationError("the traversal nests too deeply") from e
        except (TypeError, ValueError, KeyError, AttributeError, IndexError, ZeroDivisionError,
                OverflowError, ArithmeticError) as e:
            qg.rollback()
            raise QueryEvaluationError(f"{type(e).__name__}: {e}") from e
        except BaseException:
            qg.rollback()
            raise
        finally:
            ELEMENT_ID.reset(token)
        self._commit()
        return results

    def _vectorized(self, instructions: list) -> list[GTraverser] | None:
        """The results of a count-like traversal on the unchanged graph through its compiled
        :class:`~graphengine.query.vectorized.CountPlan` (made on the first traversal of its
        shape, kept while the graph is unchanged), or None: the interpreter runs it. The plan
        only reads the graph, so nothing is recorded for a rollback."""
        qg = self._qg
        if not qg.pristine:
            return None
        key = vectorized.shape(instructions)
        if key is None:
            return None
        plans = self._plans
        plan = plans.get(key, _UNPLANNED)
        try:
            if plan is _UNPLANNED:
                if len(plans) >= _MAX_PLANS:
                    plans.clear()
                plan = plans[key] = vectorized.compile_count(qg, instructions)
            if plan is None:
                return None
            fast = plan.run(instructions[0][1:])
        except GraphEngineError:
            raise
        except (TypeError, ValueError, KeyError, AttributeError, IndexError, OverflowError,
                ArithmeticError) as e:
            raise QueryEvaluationError(f"{type(e).__name__}: {e}") from e
        return None if fast is None else [GTraverser(self._out(v), b) for v, b in fast]

    def count_plan(self, bytecode: Bytecode) -> vectorized.CountPlan | None:
        """The count plan :meth:`submit` ran this bytecode's shape through (made by an earlier
        submit), or None (not planned, not plannable, or the graph has changed)."""
        if bytecode.source_instructions or not self._qg.pristine:
            return None
        key = vectorized.shape(bytecode.step_instructions)
        plan = None if key is None else self._plans.get(key)
        return plan if isinstance(plan, vectorized.CountPlan) else None

    def run_plan(self, plan: vectorized.CountPlan, start: list) -> list[GTraverser] | None:
        """What :meth:`submit` gives for ``V(*start)`` followed by ``plan``'s steps (a plan from
        :meth:`count_plan`), or None when the plan no longer applies (the graph has changed)
        or does not take these ids: then :meth:`submit` it. Only reads the graph."""
        if plan.qg is not self._qg or not self._qg.pristine:
            return None
        fast = plan.run(start)
        return None if fast is None else [GTraverser(self._out(v), b) for v, b in fast]

    def _commit(self) -> None:
        qg = self._qg
        version = qg.version
        qg.commit()
        if qg.version != version:
            for listener in self._listeners:
                listener()

    # ------------------------------------------------------------------ source instructions
    def _source(self, ctx: Context, bytecode: Bytecode) -> None:
        """Apply source instructions."""
        for inst in bytecode.source_instructions:
            name, args = inst[0], list(inst[1:])
            if name == "withSideEffect":
                if len(args) < 2:
                    raise QueryEvaluationError("withSideEffect() takes a key and a value")
                from .steps.graph import to_internal
                ctx.side_effects[args[0]] = to_internal(ctx, copy.copy(args[1]))
                if len(args) > 2 and isinstance(args[2], Operator):
                    ctx.side_effect_reducers[args[0]] = args[2]
            elif name == "withSack":
                init = args[0] if args else None
                if callable(init) or type(init).__name__ == "Lambda":
                    raise QueryEvaluationError("lambdas are not supported: withSack() takes a value")
                ctx.sack_init = (lambda v=init: copy.deepcopy(v))
                ctx.sack_merge = args[1] if len(args) > 1 else None
            elif name == "withStrategies":
                for s in args:
                    self._strategy(ctx, s)
            elif name == "withoutStrategies":
                continue
            elif name == "withBulk":
                ctx.bulk_enabled = bool(args[0]) if args else True
            elif name == "withPath":
                continue
            elif name == "withComputer":
                raise QueryEvaluationError("withComputer(): graph computer traversals are not"
                                           " supported by graphengine's Gremlin engine")
            else:
                raise QueryEvaluationError(f"unknown source instruction {name}()")
        _verify_strategies(bytecode)

    def _strategy(self, ctx: Context, s: Any) -> None:
        name = getattr(s, "strategy_name", None) or type(s).__name__
        if isinstance(s, str):
            name = s
        name = name.rsplit(".", 1)[-1]
        conf = dict(getattr(s, "configuration", {}) or {})
        st = ctx.strategies
        if name == "SubgraphStrategy":
            for key, attr in (("vertices", "subgraph_vertices"), ("edges", "subgraph_edges"),
                              ("vertexProperties", "subgraph_vprops")):
                if conf.get(key) is not None:
                    setattr(st, attr, self._compiler.child(conf[key]))
            if "checkAdjacentVertices" in conf:
                st.check_adjacent = bool(conf["checkAdjacentVertices"])
        elif name == "PartitionStrategy":
            st.partition_key = conf.get("partitionKey")
            st.write_partition = conf.get("writePartition")
            rp = conf.get("readPartitions", [])
            st.read_partitions = list(rp) if isinstance(rp, (list, set, tuple)) else [rp]
            st.include_meta_properties = bool(conf.get("includeMetaProperties", False))
        elif name == "ReadOnlyStrategy":
            st.read_only = True
        elif name == "ReservedKeysVerificationStrategy":
            if conf.get("throwException"):
                keys = conf.get("keys")
                st.reserved_keys = frozenset(keys if keys else ("id", "label"))
        elif name == "ProductiveByStrategy":
            st.productive_by = True
        elif name == "SeedStrategy":
            st.seed = conf.get("seed")
            ctx.rng.seed(st.seed)
        # the other strategies only optimize: results do not change

    # ------------------------------------------------------------------ results
    def _out(self, v: Any) -> Any:
        """Engine values -> gremlinpython's types."""
        if type(v) in _PLAIN:
            return v
        g = self._qg
        if isinstance(v, Vtx):
            return Vertex(g.vertex_id(v.gid), g.vertex_label(v.gid))
        if isinstance(v, Edg):
            o, i = g.edge_ends(v.eid)
            return Edge(g.edge_id(v.eid), Vertex(g.vertex_id(o), g.vertex_label(o)),
                        g.edge_label(v.eid), Vertex(g.vertex_id(i), g.vertex_label(i)))
        if isinstance(v, VProp):
            return VertexProperty(v.id, v.key, self._out(v.value), self._out(v.vertex))
        if isinstance(v, Prop):
            return Property(v.key, self._out(v.value), self._out(v.element))
        if isinstance(v, PathValue):
            return Path([set(lab) for lab in v.labels], [self._out(o) for o in v.objects])
        if isinstance(v, MapEntry):
            return {_key(self._out(v.key)): self._out(v.value)}
        if isinstance(v, SubgraphValue):
            return v.to_store(g)
        if isinstance(v, (GroupValue, TreeValue)):
            return self._out(v.final())
        if isinstance(v, dict):
            return {_key(self._out(k)): self._out(x) for k, x in v.items()}
        if isinstance(v, KeySet):
            return self._out(set(set_of(v)))
        if isinstance(v, list):
            return [self._out(x) for x in v]
        if isinstance(v, tuple):
            return [self._out(x) for x in v]
        if isinstance(v, (set, frozenset)):
            items = [self._out(x) for x in v]
            try:
                return set(items)
            except TypeError:
                return {_key(x) for x in items}
        if v is START:
            return None
        return v

    def _element_id(self, e: Any) -> Any:
        g = self._qg
        if isinstance(e, Vtx):
            return g.vertex_id(e.gid)
        if isinstance(e, Edg):
            return g.edge_id(e.eid)
        return getattr(e, "id", None)


def _strategy_name(s: Any) -> str:
    name = s if isinstance(s, str) else (getattr(s, "strategy_name", None) or type(s).__name__)
    return name.rsplit(".", 1)[-1]


def _verify_strategies(bytecode: Bytecode) -> None:
    """The verification strategies that reject a traversal before it runs."""
    active: dict[str, Any] = {}
    for inst in bytecode.source_instructions:
        if inst[0] == "withStrategies":
            for s in inst[1:]:
                active[_strategy_name(s)] = s
        elif inst[0] == "withoutStrategies":
            for s in inst[1:]:
                active.pop(_strategy_name(s), None)
    if "VertexProgramRestrictionStrategy" in active and "VertexProgramStrategy" in active:
        raise QueryEvaluationError("The TraversalSource does not allow the use of a GraphComputer")
    elv = active.get("EdgeLabelVerificationStrategy")
    if elv is not None and (getattr(elv, "configuration", None) or {}).get("throwException") \
            and _unlabeled_vertex_step(bytecode.step_instructions):
        raise QueryEvaluationError("The provided traversal contains a vertex step without any"
                                   " specified edge label")


def _unlabeled_vertex_step(instructions: list) -> bool:
    for inst in instructions:
        name, args = inst[0], list(inst[1:])
        if name in ("out", "in", "both", "outE", "inE", "bothE") and not args:
            return True
        if name in ("to", "toE") and len(args) == 1 and type(args[0]).__name__ == "Direction":
            return True
        for a in args:
            bc = a if isinstance(a, Bytecode) else getattr(a, "bytecode", None)
            if isinstance(bc, Bytecode) and _unlabeled_vertex_step(bc.step_instructions):
                return True
    return False


def _key(k: Any) -> Any:
    """Dict keys must be hashable: lists become tuples, maps frozen."""
    if isinstance(k, list):
        return tuple(_key(x) for x in k)
    if isinstance(k, dict):
        return _HashableDict(k)
    if isinstance(k, set):
        return frozenset(_key(x) for x in k)
    return k


class _HashableDict(dict):
    def __hash__(self) -> int:   # type: ignore[override]
        return hash(frozenset((k, _key(v)) for k, v in self.items()))


class _InProcessConnection(RemoteConnection):
    """A gremlinpython RemoteConnection that submits bytecode to a :class:`Gremlin` in process."""

    def __init__(self, engine: Gremlin):
        super().__init__("inprocess://graphengine", "g")
        self.engine = engine

    def submit(self, bytecode: Bytecode) -> RemoteTraversal:
        return RemoteTraversal(iter(self.engine.submit(bytecode)))

    def is_closed(self) -> bool:
        return False

__all__ = ["Gremlin", "ResultSet", "Traverser"]
