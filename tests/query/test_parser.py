"""graphengine.query.parser: Gremlin text (TinkerPop 3.8 grammar) -> gremlinpython Bytecode."""

from __future__ import annotations

import datetime as dt
import decimal
import math
import re
import time
import uuid
import warnings
from pathlib import Path

import pytest
from gremlin_python import statics
from gremlin_python.process import strategies as S
from gremlin_python.process.graph_traversal import GraphTraversalSource, __
from gremlin_python.process.traversal import (
    DT,
    Barrier,
    Bytecode,
    Cardinality,
    CardinalityValue,
    Column,
    Direction,
    GType,
    Merge,
    Operator,
    Order,
    P,
    Pick,
    Pop,
    Scope,
    T,
    TextP,
    TraversalStrategies,
    WithOptions,
)
from gremlin_python.structure.graph import Graph

from graphengine.errors import QueryEvaluationError, QuerySyntaxError
from graphengine.query.parser import Float32, ParsedQuery, parse, parse_query

FEATURES = Path(__file__).resolve().parents[2] / ".." / "shared" / "tinkerpop" / "features"


def _g() -> GraphTraversalSource:
    return GraphTraversalSource(Graph(), TraversalStrategies())


g = _g()

# text -> the bytecode gremlinpython's fluent API builds for the same traversal
CASES: list[tuple[str, Bytecode]] = [
    ("g.V()", g.V().bytecode),
    ("g.V().has('name','marko').out('knows')", g.V().has("name", "marko").out("knows").bytecode),
    ('g.V(1, 2).as("a").in("created").select("a")', g.V(1, 2).as_("a").in_("created").select("a").bytecode),
    ("g.V().hasLabel('person').valueMap()", g.V().has_label("person").value_map().bytecode),
    ("g.E().is(null)", g.E().is_(None).bytecode),
    # anonymous traversals, with and without __
    ("g.V().repeat(__.out()).times(2)", g.V().repeat(__.out()).times(2).bytecode),
    ("g.V().repeat(out()).times(2)", g.V().repeat(__.out()).times(2).bytecode),
    ("g.V().where(out().count().is(2))", g.V().where(__.out().count().is_(2)).bytecode),
    ("g.V().not(out('knows'))", g.V().not_(__.out("knows")).bytecode),
    ("g.V().where(__.not(out('knows')))", g.V().where(__.not_(__.out("knows"))).bytecode),
    ("g.V().and(out(), in()).or(both())", g.V().and_(__.out(), __.in_()).or_(__.both()).bytecode),
    ("g.V().union(identity(), out().values('name'))",
     g.V().union(__.identity(), __.out().values("name")).bytecode),
    ("g.V().local(out().limit(1))", g.V().local(__.out().limit(1)).bytecode),
    ("g.V().sum().max(local).min()", g.V().sum_().max_(Scope.local).min_().bytecode),
    # predicates
    ("g.V().has('age', P.gt(30))", g.V().has("age", P.gt(30)).bytecode),
    ("g.V().has('age', gt(30))", g.V().has("age", P.gt(30)).bytecode),
    ("g.V().has('age', P.between(20, 30))", g.V().has("age", P.between(20, 30)).bytecode),
    ("g.V().has('age', inside(20, 30))", g.V().has("age", P.inside(20, 30)).bytecode),
    ("g.V().has('age', P.within(27, 29))", g.V().has("age", P.within(27, 29)).bytecode),
    ("g.V().has('age', within([27, 29]))", g.V().has("age", P.within([27, 29])).bytecode),
    ("g.V().has('age', without())", g.V().has("age", P.without()).bytecode),
    ("g.V().has('age', P.not(P.within(27)))", g.V().has("age", P.not_(P.within(27))).bytecode),
    ("g.V().has('age', not(within(27)))", g.V().has("age", P.not_(P.within(27))).bytecode),
    ("g.V().has('age', gt(1).and(lt(3)).or(eq(9)))",
     g.V().has("age", P.gt(1).and_(P.lt(3)).or_(P.eq(9))).bytecode),
    ("g.V().has('age', P.gt(1).negate())", g.V().has("age", P.lte(1)).bytecode),
    ("g.V().has('name', TextP.containing('ark'))", g.V().has("name", TextP.containing("ark")).bytecode),
    ("g.V().has('name', startingWith('m'))", g.V().has("name", TextP.starting_with("m")).bytecode),
    ("g.V().has('name', TextP.notRegex('^m'))", g.V().has("name", TextP.not_regex("^m")).bytecode),
    ("g.V().values('age').is(P.typeOf(GType.INT))", g.V().values("age").is_(P.type_of(GType.INT)).bytecode),
    ("g.V().values('age').is(typeOf(list))", g.V().values("age").is_(P.type_of(GType.LIST)).bytecode),
    ("g.inject(1).asNumber(int)", g.inject(1).as_number(GType.INT).bytecode),
    # enums, qualified and bare
    ("g.V().order().by('age', desc).by(T.id, Order.asc)",
     g.V().order().by("age", Order.desc).by(T.id, Order.asc).bytecode),
    ("g.V().group().by(label).by(id)", g.V().group().by(T.label).by(T.id).bytecode),
    ("g.V().valueMap().select(keys).select(Column.values)",
     g.V().value_map().select(Column.keys).select(Column.values).bytecode),
    ("g.V().select(all, 'a').select(Pop.first, 'b').select(last, 'c').select(mixed, 'd')",
     g.V().select(Pop.all_, "a").select(Pop.first, "b").select(Pop.last, "c").select(Pop.mixed, "d").bytecode),
    ("g.V().count(local).fold().count(Scope.global)",
     g.V().count(Scope.local).fold().count(Scope.global_).bytecode),
    ("g.V().property(list, 'x', 1).property(Cardinality.set, 'y', 2).property(single, 'z', 3)",
     g.V().property(Cardinality.list_, "x", 1).property(Cardinality.set_, "y", 2)
     .property(Cardinality.single, "z", 3).bytecode),
    ("g.mergeV([name: 'a']).option(onCreate, [age: 1]).option(Merge.onMatch, [age: 2])",
     g.merge_v({"name": "a"}).option(Merge.on_create, {"age": 1}).option(Merge.on_match, {"age": 2}).bytecode),
    ("g.mergeE([(Direction.from): 1, (T.label): 'knows', (Direction.to): 2]).option(outV, [:]).option(inV, [:])",
     g.merge_e({Direction.OUT: 1, T.label: "knows", Direction.IN: 2})
     .option(Merge.out_v, {}).option(Merge.in_v, {}).bytecode),
    ("g.V().to(OUT).from(IN).toV(BOTH)", g.V().to(Direction.OUT).from_(Direction.IN).to_v(Direction.BOTH).bytecode),
    (("g.V().choose(values('age')).option(none, constant(1)).option(Pick.any, constant(2))"
      ".option(unproductive, constant(3))"),
     g.V().choose(__.values("age")).option(Pick.none, __.constant(1)).option(Pick.any_, __.constant(2))
     .option(Pick.unproductive, __.constant(3)).bytecode),
    ("g.withSack(1.0, sum).V().sack(Operator.addAll).sack(mult).sack(sumLong).sack(and).sack(max)",
     g.with_sack(1.0, Operator.sum_).V().sack(Operator.addAll).sack(Operator.mult).sack(Operator.sumLong)
     .sack(Operator.and_).sack(Operator.max_).bytecode),
    ("g.V().barrier(normSack).barrier(Barrier.normSack)",
     g.V().barrier(Barrier.normSack).barrier(Barrier.normSack).bytecode),
    ("g.V().dateAdd(DT.day, 1).dateDiff(datetime('2023-08-08T00:00:00Z')).dateAdd(hour, 2)",
     g.V().date_add(DT.day, 1).date_diff(dt.datetime(2023, 8, 8, tzinfo=dt.timezone.utc))
     .date_add(DT.hour, 2).bytecode),
    ("g.V().valueMap().with(WithOptions.tokens, WithOptions.labels).with(WithOptions.indexer, WithOptions.map)",
     g.V().value_map().with_(WithOptions.tokens, WithOptions.labels)
     .with_(WithOptions.indexer, WithOptions.map).bytecode),
    # source instructions
    ("g.withSideEffect('a', [1, 2]).V()", g.with_side_effect("a", [1, 2]).V().bytecode),
    ("g.withSideEffect('a', 0, Operator.sum).V()", g.with_side_effect("a", 0, Operator.sum_).V().bytecode),
    ("g.withBulk(false).withPath().inject(1)", g.with_bulk(False).with_path().inject(1).bytecode),
    ("g.with('evaluationTimeout', 500).with('x').V()", g.with_("evaluationTimeout", 500).with_("x").V().bytecode),
    # collections
    ("g.inject([1, 'a', [2]], [:], [a: 1, 'b': 2, 3: 4])", g.inject([1, "a", [2]], {}, {"a": 1, "b": 2, 3: 4}).bytecode),
    ("g.inject({1, 2, 'x'})", g.inject({1, 2, "x"}).bytecode),
    ("g.inject(1..3, 'a'..'c', 3..1)", g.inject([1, 2, 3], ["a", "b", "c"], [3, 2, 1]).bytecode),
    ("g.addV('person').property(T.id, 1).property(id, 2)",
     g.add_v("person").property(T.id, 1).property(T.id, 2).bytecode),
    # multi-line, comments, trailing ;
    ("g.V().\n  out()  // the out-vertices\n  .count();", g.V().out().count().bytecode),
]


@pytest.mark.parametrize(("text", "expected"), CASES, ids=[c[0][:60] for c in CASES])
def test_text_gives_gremlinpython_bytecode(text: str, expected: Bytecode) -> None:
    assert parse(text) == expected


def test_terminal_methods_are_stripped_and_reported() -> None:
    assert parse_query("g.V().count().next()") == ParsedQuery(g.V().count().bytecode, "next", None)
    assert parse_query("g.V().next(2)").terminal_arg == 2
    for t in ("toList", "toSet", "toBulkSet", "iterate", "hasNext", "tryNext", "explain"):
        q = parse_query(f"g.V().out().{t}()")
        assert q.terminal == t and q.bytecode == g.V().out().bytecode
    assert parse_query("g.V()").terminal is None
    assert parse_query("g.tx().commit()").bytecode.source_instructions == [["tx", "commit"]]


def _one(text: str) -> object:
    return parse(f"g.inject({text})").step_instructions[0][1]


def test_integer_literals() -> None:
    cases = {
        "1": (1, int), "-7": (-7, int), "2147483647": (2147483647, int),
        "2147483648": (2147483648, statics.long), "-2147483649": (-2147483649, statics.long),
        "9223372036854775808": (9223372036854775808, statics.bigint),
        "1i": (1, int), "1l": (1, statics.long), "1L": (1, statics.long), "3b": (3, statics.SingleByte),
        "-3s": (-3, statics.short), "5n": (5, statics.bigint), "5N": (5, statics.bigint),
        "0x1F": (31, int), "0x1fL": (31, statics.long), "0x1b": (1, statics.SingleByte), "-0x10": (-16, int), "010": (8, int), "1_000": (1000, int),
        "+4": (4, int),
    }
    for text, (value, cls) in cases.items():
        v = _one(text)
        assert v == value and type(v) is cls, text


def test_float_and_special_literals() -> None:
    cases = {
        "1.5": (1.5, float), "1.0d": (1.0, float), "2d": (2.0, float), "1e3": (1000.0, float),
        "-2.5E-1": (-0.25, float), "1.5f": (1.5, Float32), "3F": (3.0, Float32),
        "1.25m": (decimal.Decimal("1.25"), decimal.Decimal), "7m": (decimal.Decimal(7), decimal.Decimal),
        "Infinity": (math.inf, float), "-Infinity": (-math.inf, float), "+Infinity": (math.inf, float),
        "true": (True, bool), "false": (False, bool),
    }
    for text, (value, cls) in cases.items():
        v = _one(text)
        assert v == value and type(v) is cls, text
    assert math.isnan(_one("NaN"))
    assert _one("null") is None


def test_strings_and_escapes() -> None:
    assert _one(r"'a\'b'") == "a'b"
    assert _one(r'"a\"b"') == 'a"b'
    assert _one(r"'tab\there\nnl \\ \u00e9 \101'") == "tab\there\nnl \\ \u00e9 A"
    assert _one("''") == "" and _one('""') == ""
    assert _one("'multi\nline'") == "multi\nline"


def test_dates_uuids_and_cardinality_values() -> None:
    utc = dt.timezone.utc
    assert _one("datetime('2023-08-02T00:00:00Z')") == dt.datetime(2023, 8, 2, tzinfo=utc)
    assert _one('datetime("2018-03-22T00:35:44.741+16:00")') == dt.datetime(
        2018, 3, 22, 0, 35, 44, 741000, tzinfo=dt.timezone(dt.timedelta(hours=16)))
    assert _one("datetime('2018-03-22T00:35:44.741-0130')").utcoffset() == -dt.timedelta(hours=1, minutes=30)
    assert _one("datetime('2018-03-22')") == dt.datetime(2018, 3, 22, tzinfo=utc)
    assert _one("datetime('2018-03')") == dt.datetime(2018, 3, 1, tzinfo=utc)
    assert _one("datetime('1970-01-01T00:00')") == dt.datetime(1970, 1, 1, tzinfo=utc)
    assert _one("DateTime('2018-03-22T00:35:44')").tzinfo == utc
    assert _one("datetime()").tzinfo is not None
    u = "f47af10b-58cc-4372-a567-0f02b2f3d479"
    assert _one(f'UUID("{u}")') == uuid.UUID(u)
    assert isinstance(_one("UUID()"), uuid.UUID)
    assert _one("Cardinality.list(3)") == CardinalityValue.list_(3)
    assert parse("g.V().property(single(1), 'x')").step_instructions[1][1] == CardinalityValue.single(1)


def test_maps_sets_and_keys() -> None:
    m = _one("[name: 'marko', \"age\": 29, (T.id): 1, T.label: 'person', 1: 'x', 2.5: 'y', "
             "id: 'kw', (label): 'T', Direction.OUT: 3, [1, 2]: 'l', {3}: 's', [a: 1]: 'm']")
    assert m == {"name": "marko", "age": 29, T.id: 1, T.label: "person", 1: "x", 2.5: "y", "id": "kw",
                 T.label: "T", Direction.OUT: 3, (1, 2): "l", frozenset({3}): "s", (("a", 1),): "m"}
    assert list(m)[:3] == ["name", "age", T.id]
    assert _one("{1, [2, 3], {4}}") == {1, (2, 3), frozenset({4})}
    assert _one("{}") == set()
    assert _one("[1..3]") == [[1, 2, 3]]
    assert _one("[[:], []]") == [{}, []]
    assert _one("[nested: [x: __.out()]]") == {"nested": {"x": __.out().bytecode}}


def test_enum_members() -> None:
    assert _one("T.key") is T.key and _one("T.value") is T.value
    assert _one("Direction.from") is Direction.OUT and _one("Direction.to") is Direction.IN
    assert _one("GType.BIGDECIMAL") is GType.BIGDECIMAL and _one("GType.uuid") is GType.UUID
    assert _one("DT.second") is DT.second and _one("minute") is DT.minute
    assert _one("Order.shuffle") is Order.shuffle and _one("shuffle") is Order.shuffle
    assert _one("Operator.or") is Operator.or_ and _one("div") is Operator.div and _one("Operator.min") is Operator.min_
    assert _one("Pop.all") is Pop.all_ and _one("Pick.any") is Pick.any_
    assert _one("Cardinality.list") is Cardinality.list_ and _one("set") is Cardinality.set_
    assert _one("WithOptions.all") == WithOptions.all and _one("WithOptions.list") == WithOptions.list
    assert _one("IO.reader") == "~tinkerpop.io.reader"
    assert _one("ShortestPath.maxDistance") == "~tinkerpop.shortestPath.maxDistance"
    assert _one("PageRank.propertyName") == "~tinkerpop.pageRank.propertyName"
    assert _one("Column.keys") is Column.keys and _one("onMatch") is Merge.on_match


def test_strategies() -> None:
    bc = parse("g.withStrategies(new SubgraphStrategy(vertices: __.hasLabel('person'), "
               "checkAdjacentVertices: false), ReadOnlyStrategy, SeedStrategy(seed: 7)).V()")
    ins = bc.source_instructions[0]
    assert ins[0] == "withStrategies" and len(ins) == 4
    sub, ro, seed = ins[1:]
    assert type(sub) is S.SubgraphStrategy
    assert sub.configuration == {"vertices": __.has_label("person").bytecode, "checkAdjacentVertices": False}
    assert sub.fqcn.endswith("decoration.SubgraphStrategy")
    assert type(ro) is S.ReadOnlyStrategy and ro.configuration == {}
    assert type(seed) is S.SeedStrategy and seed.configuration == {"seed": 7}
    p = parse("g.withStrategies(PartitionStrategy(partitionKey: '_partition', writePartition: 'a', "
              "readPartitions: ['a'])).V()").source_instructions[0][1]
    assert type(p) is S.PartitionStrategy
    assert p.configuration == {"partitionKey": "_partition", "writePartition": "a", "readPartitions": ["a"]}
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # ProductiveByStrategy's deprecation warning is not leaked
        assert type(parse("g.withStrategies(ProductiveByStrategy).V()").source_instructions[0][1]) \
            is S.ProductiveByStrategy
    unknown = parse("g.withStrategies(MyStrategy(k: 1)).V()").source_instructions[0][1]
    assert unknown.strategy_name == "MyStrategy" and unknown.configuration == {"k": 1}
    assert parse("g.withoutStrategies(RepeatUnrollStrategy, CountStrategy).V()").source_instructions == [
        ["withoutStrategies", "RepeatUnrollStrategy", "CountStrategy"]]
    opts = parse("g.with('a', 1).with('b').V()").source_instructions
    assert len(opts) == 1 and opts[0][1].configuration == {"a": 1, "b": True}


def test_variables_from_bindings() -> None:
    sub = __.out().bytecode
    bc = parse("g.V(vid1).has('age', within(xx1)).where(xx2).property(xx3, l1)",
               {"vid1": 1, "xx1": [27, 29], "xx2": sub, "xx3": "k", "l1": None})
    assert bc == g.V(1).has("age", P.within([27, 29])).where(__.out()).property("k", None).bytecode
    assert parse("g.V().has('age', within(xx1))", {"xx1": {5}}).step_instructions[1][2] == P("within", [5])
    assert parse("g.V().has('age', within(xx1))", {"xx1": 5}).step_instructions[1][2] == P("within", [5])
    with pytest.raises(QuerySyntaxError, match="undefined variable 'xx9'") as e:
        parse("g.V(xx9)")
    assert (e.value.line, e.value.column) == (1, 5)


@pytest.mark.parametrize(("text", "line", "column", "message"), [
    ("g.V().has('name',", 1, 18, "unexpected end of input"),
    ("g.V(].out()", 1, 5, "unexpected ']'"),
    ("g.V().has('name', 'marko)", 1, 19, "unterminated string"),
    ("g.V().has(T.foo, 1)", 1, 13, "T.id"),
    ("g.V()\n  .out()\n  .has('x' 1)", 3, 12, "expected ',' or ')'"),
    ("g.V().out", 1, 10, "'(' after out"),
    ("g.V().out() extra", 1, 13, "unexpected 'extra'"),
    ("g.V(); g.E()", 1, 8, "unexpected 'g'"),
    ("g.V().toList().count()", 1, 15, "terminal method toList"),
    ("x.V()", 1, 1, "expected 'g'"),
    ("", 1, 1, "unexpected end of input"),
    ("g.V().has('a', P.foo(1))", 1, 18, "P predicate"),
    ("g.V().has('a', gt(1, 2))", 1, 16, "takes 1 argument"),
    ("g.V().is(1b + 2)", 1, 13, "character '+'"),
    ("g.inject(300b)", 1, 10, "out of range"),
    ("g.inject(datetime('yesterday'))", 1, 19, "malformed datetime"),
    ("g.inject(UUID('nope'))", 1, 15, "malformed UUID"),
    ("g.inject([1, 2)", 1, 15, "expected ',' or ']'"),
    ("g.V(1,)", 1, 7, "expected a value"),
    ("g.V().out(g.V())", 1, 11, "nested traversal starts with __"),
    ("g.inject({1, gt(2)})", 1, 14, "a P cannot be a set element"),
    ("g.inject([(out()): 1])", 1, 12, "a Bytecode cannot be a map key"),
])
def test_syntax_errors_name_line_and_column(text: str, line: int, column: int, message: str) -> None:
    with pytest.raises(QuerySyntaxError) as e:
        parse(text)
    assert (e.value.line, e.value.column) == (line, column), str(e.value)
    assert message in str(e.value)
    assert str(e.value).startswith(f"line {line}, column {column}: ")


@pytest.mark.parametrize("text", [
    "g.V().filter{ it.get().value('age') > 30 }",
    "g.V().map({ x -> x.get() })",
    "g.V().filter({it.get().label() == 'person'})",
    "g.V().map(Lambda.function('it.get()'))",
    "g.V().map(lambda: 'x')",
])
def test_lambdas_are_refused(text: str) -> None:
    with pytest.raises(QueryEvaluationError, match=r"lambdas are not supported: line 1, column \d+"):
        parse(text)


def test_edge_cases() -> None:
    assert parse("g.V().has('url', 'http://x//y') // a comment") == g.V().has("url", "http://x//y").bytecode
    assert parse("g.V(\u00e9t\u00e9)", {"\u00e9t\u00e9": 1}) == g.V(1).bytecode
    assert parse("g.V().where(xx1)", {"xx1": __.out()}) == g.V().where(__.out()).bytecode  # Traversal -> Bytecode
    assert parse("g.V().map(__.not(gt(1)))").step_instructions[1][1] == __.not_(P.gt(1)).bytecode
    with pytest.raises(QuerySyntaxError, match="'.' after __"):
        parse("g.V(__)")
    with pytest.raises(QuerySyntaxError, match="malformed integer"):
        parse("g.V(0xb)")  # the b is the byte suffix, as in Java
    deep = "g.V().where(" + "local(" * 400 + "out()" + ")" * 400 + ")"
    with pytest.raises(QuerySyntaxError, match="nested too deeply"):
        parse(deep)
    assert parse("g.V().where(" + "local(" * 50 + "out()" + ")" * 50 + ")")


def test_truncated_and_mangled_text_raises_only_query_errors() -> None:
    texts = [
        ("g.withStrategies(new SubgraphStrategy(vertices: __.has('name', P.within('a', 'b')))).V()"
         ".has('age', gt(1).and(lt(9))).group().by(label).by(values('x').fold()).next()"),
        'g.inject([a: 1, (T.id): [1..3], "s": {1, 2}], 1.5f, -2L, datetime("2023-08-02T00:00:00Z"))',
    ]
    for text in texts:
        for k in range(len(text)):
            for variant in (text[:k], text[:k] + text[k + 1:], text[:k] + "(" + text[k:]):
                try:
                    parse(variant)
                except (QuerySyntaxError, QueryEvaluationError):
                    pass


def test_parse_speed() -> None:
    text = ("g.V().has('person', 'name', 'marko').outE('knows').has('weight', gt(0.5)).inV()"
            ".values('name').order().by(desc).limit(10)")
    parse(text)
    n = 300
    t0 = time.perf_counter()
    for _ in range(n):
        parse(text)
    per_query = (time.perf_counter() - t0) / n
    assert per_query < 1e-3, f"{per_query * 1e3:.3f} ms per parse"


# ---------------------------------------------------------------------------------------------
# Every traversal of TinkerPop's feature suite
# ---------------------------------------------------------------------------------------------

_PARAM = re.compile(r"^\s*(?:Given|And|When|Then)\s+using the parameter (\w+) defined as")
_DOC_STEP = re.compile(r"^\s*(?:Given|And)\s+(?:the graph initializer of|the traversal of)\s*$")
_COUNT_OF = re.compile(r'the graph should return \d+ for count of "(.*)"\s*$')


def _feature_traversals(root: Path) -> list[tuple[str, str, list[str], str]]:
    """(file, scenario, parameter names, text) for every initializer, traversal and count-of check."""
    out: list[tuple[str, str, list[str], str]] = []
    for path in sorted(root.rglob("*.feature")):
        lines = path.read_text(encoding="utf-8").split("\n")
        scenario, params = "", []
        i = 0
        while i < len(lines):
            s = lines[i].strip()
            if s.startswith("Scenario:"):
                scenario, params = s.split(":", 1)[1].strip(), []
            elif m := _PARAM.match(s):
                params.append(m.group(1))
            elif _DOC_STEP.match(s):
                j = i + 1
                while lines[j].strip().startswith("#"):
                    j += 1
                assert lines[j].strip() == '"""', f"{path}:{j + 1}"
                k = j + 1
                while lines[k].strip() != '"""':
                    k += 1
                out.append((str(path.relative_to(root)), scenario, list(params), "\n".join(lines[j + 1:k])))
                i = k
            elif m := _COUNT_OF.search(s):
                out.append((str(path.relative_to(root)), scenario, list(params), m.group(1).replace('\\"', '"')))
            i += 1
    return out


@pytest.mark.skipif(not FEATURES.is_dir(), reason=f"TinkerPop features not found at {FEATURES}")
def test_every_feature_traversal_parses() -> None:
    items = _feature_traversals(FEATURES)
    assert len(items) > 2000
    failures: list[str] = []
    lambdas = 0
    t0 = time.perf_counter()
    for file, scenario, params, text in items:
        try:
            bc = parse_query(text, {p: f"<{p}>" for p in params}).bytecode
            assert bc.step_instructions or bc.source_instructions
        except QueryEvaluationError:
            lambdas += 1
        except Exception as e:  # noqa: BLE001 - every failure is reported
            failures.append(f"{file} {scenario}: {e}\n    {text.strip()[:200]}")
    elapsed = time.perf_counter() - t0
    print(f"\nparsed {len(items) - len(failures) - lambdas} of {len(items)} feature traversals "
          f"({lambdas} lambdas refused) in {elapsed:.2f} s")
    assert not failures, f"{len(failures)} failures:\n" + "\n".join(failures[:30])
