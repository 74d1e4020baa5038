"""Gremlin value steps and value semantics: string steps, dates, asNumber / asBool, list
operations, reducers with Java number promotion, call() services, comparability and
orderability. Answers are hand-computed on TinkerPop's modern graph (``load_modern_graph``)
and on injected values."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal
from pathlib import Path

import pytest
from gremlin_python.statics import SingleByte, bigint, long, short

import graphengine
from graphengine.datasets import load_modern_graph
from graphengine.errors import QueryEvaluationError
from graphengine.query import Gremlin
from graphengine.query.values import (
    cast_number,
    compare,
    equals,
    java_class,
    make_set,
    num_kind,
    num_op,
    order_cmp,
)

UTC = dt.timezone.utc


@pytest.fixture(scope="module")
def modern() -> Gremlin:
    return Gremlin(load_modern_graph(graphengine.session()))


def run(q: Gremlin, text: str, **bindings) -> list:
    return q.execute(text, bindings or None).all()


def error(q: Gremlin, text: str) -> str:
    with pytest.raises(QueryEvaluationError) as e:
        run(q, text)
    return str(e.value)


# ---------------------------------------------------------------------------- strings


def test_string_steps(modern):
    assert run(modern, "g.inject('  Ab c ').trim()") == ["Ab c"]
    assert run(modern, "g.inject('  Ab c ').lTrim()") == ["Ab c "]
    assert run(modern, "g.inject('  Ab c ').rTrim()") == ["  Ab c"]
    assert run(modern, "g.inject('Ab').toUpper()") == ["AB"]
    assert run(modern, "g.inject('Ab').toLower()") == ["ab"]
    assert run(modern, "g.inject('abc').length()") == [3]
    assert run(modern, "g.inject('abc').reverse()") == ["cba"]
    assert run(modern, "g.inject('a-b-c').split('-')") == [["a", "b", "c"]]
    assert run(modern, "g.inject('abcdef').substring(1, 3)") == ["bc"]
    assert run(modern, "g.inject('abcdef').substring(-2)") == ["ef"]
    assert run(modern, "g.inject('aXbX').replace('X', 'y')") == ["ayby"]
    assert run(modern, "g.inject(null).toUpper()") == [None]


def test_string_steps_local_and_type_errors(modern):
    assert run(modern, "g.inject([' a', null, 'b ']).trim(local)") == [["a", None, "b"]]
    msg = error(modern, "g.inject([1, 2]).trim(local)")
    assert "The trim(local) step can only take string or list of strings" in msg
    assert "class java.lang.Integer in list" in msg
    msg = error(modern, "g.inject(1).toUpper()")
    assert "The toUpper() step can only take string as argument, encountered class " \
           "java.lang.Integer" in msg


def test_reverse_of_lists_paths_and_other_values(modern):
    assert run(modern, "g.inject([1, 2, 3]).reverse()") == [[3, 2, 1]]
    assert run(modern, "g.V().has('name','marko').out('created').path().by('name').reverse()") \
        == [["lop", "marko"]]
    assert sorted(run(modern, "g.V().values('age').reverse()")) == [27, 29, 32, 35]


def test_as_string_concat_conjoin_format(modern):
    assert run(modern, "g.inject(1, 2.5, true).asString()") == ["1", "2.5", "true"]
    assert run(modern, "g.inject([1, 2]).asString(local)") == [["1", "2"]]
    assert "Can't parse null as String." in error(modern, "g.inject(null).asString()")
    assert run(modern, "g.inject('a').concat('b', 'c')") == ["abc"]
    assert run(modern, "g.inject('a', 'b').concat(__.inject('c'))") == ["aa", "bb"]
    assert "String concat() can only take string as argument" in \
        error(modern, "g.inject(['a']).concat('d')")
    assert run(modern, "g.inject([1, null, 'b']).conjoin('-')") == ["1-b"]
    assert run(modern, "g.inject([]).conjoin('-')") == [""]
    assert "Incoming traverser for conjoin step can't be null" in \
        error(modern, "g.inject(null).conjoin('-')")
    assert run(modern, "g.V().has('name','marko').format('%{name} is %{age}')") \
        == ["marko is 29"]


# ---------------------------------------------------------------------------- dates


def test_as_date_date_add_date_diff(modern):
    d = dt.datetime(2023, 8, 2, tzinfo=UTC)
    assert run(modern, "g.inject('2023-08-02T00:00:00Z').asDate()") == [d]
    assert run(modern, "g.inject(1690934400000).asDate()") == [d]
    assert "Can't parse" in error(modern, "g.inject(1690934400000.5d).asDate()")
    assert "Can't parse null as OffsetDateTime." in error(modern, "g.inject(null).asDate()")
    assert run(modern, "g.inject(datetime('2023-08-02T00:00:00Z')).dateAdd(DT.day, 7)") \
        == [dt.datetime(2023, 8, 9, tzinfo=UTC)]
    # milliseconds, a Long
    out = run(modern, "g.inject(datetime('2023-08-02T00:00:00Z'))"
                      ".dateDiff(datetime('2023-08-09T00:00:00Z'))")
    assert out == [-604800000] and type(out[0]) is long
    assert run(modern, "g.inject(datetime('1970-01-01T00:00:01Z')).dateDiff(constant(null))") \
        == [1000]
    assert run(modern, "g.inject(datetime('2023-08-02T00:00:00Z')).asNumber()") \
        == [1690934400000]


# ---------------------------------------------------------------------------- asNumber / asBool


def test_as_number_parses_like_java(modern):
    out = run(modern, "g.inject('5', '0x1F', '1.5', '2147483648', '1e400').asNumber()")
    assert out[:3] == [5, 31, 1.5]
    assert [num_kind(x) for x in out] == ["int", "int", "float", "long", "bigdecimal"]
    assert "Can't parse string '1,000' as number." in error(modern, "g.inject('1,000').asNumber()")
    assert "Can't parse type ArrayList as number." in error(modern, "g.inject([1]).asNumber()")
    assert run(modern, "g.inject(null).asNumber()") == [None]


def test_as_number_casts(modern):
    assert run(modern, "g.inject(5.67).asNumber(GType.INT)") == [5]
    out = run(modern, "g.inject(12).asNumber(GType.BYTE)")
    assert out == [12] and isinstance(out[0], SingleByte)
    assert isinstance(run(modern, "g.inject(456).asNumber(GType.BIGINT)")[0], bigint)
    assert run(modern, "g.inject(2.5).asNumber(GType.FLOAT).is(P.typeOf(GType.FLOAT))") == [2.5]
    assert run(modern, "g.inject(1).asNumber(GType.BIGDECIMAL)") == [Decimal(1)]
    assert "Can't convert number of type Integer to Short due to overflow." in \
        error(modern, "g.inject(32768).asNumber(GType.SHORT)")
    assert "asNumber() requires a numeric type token, got VERTEX" in \
        error(modern, "g.inject(1).asNumber(GType.VERTEX)")
    assert run(modern, "g.inject(1.0, 2, '4', '0x5').asNumber().sum().asNumber(GType.BYTE)") \
        == [12]


def test_as_bool(modern):
    assert run(modern, "g.inject(1, 0, 0.0, 'TRUE', ' false ', true).asBool()") \
        == [True, False, False, True, False, True]
    assert "Can't parse null as Boolean." in error(modern, "g.inject(null).asBool()")
    assert "Can't parse hello as Boolean." in error(modern, "g.inject('hello').asBool()")


# ---------------------------------------------------------------------------- list operations


def test_list_operations(modern):
    assert run(modern, "g.inject([1, 2]).combine([2, 3])") == [[1, 2, 2, 3]]
    assert run(modern, "g.inject([1, 2]).product(['a'])") == [[[1, "a"], [2, "a"]]]
    assert run(modern, "g.inject([1, 2, 2]).difference([2, 3])") == [{1}]
    assert run(modern, "g.inject([1, 2]).disjunct([2, 3])") == [{1, 3}]
    assert run(modern, "g.inject([1, 2]).intersect([2, 3])") == [{2}]
    assert run(modern, "g.inject([1, 2]).merge([2, 3])") == [{1, 2, 3}]
    assert run(modern, "g.inject([[1], [2]]).merge([[1]])") == [{(1,), (2,)}]
    assert run(modern, "g.V().has('name','marko').valueMap('name').merge([age: [29]])") \
        == [{"name": ["marko"], "age": [29]}]


def test_list_operation_errors(modern):
    assert "Incoming traverser for combine step can't be null." in \
        error(modern, "g.inject(null).combine([1])")
    assert "intersect step can only take an array or an Iterable type for incoming traversers" \
        in error(modern, "g.inject(1).intersect([1])")
    assert "Provided traversal argument for difference step must yield an iterable type, " \
           "not null" in error(modern, "g.V().fold().difference(__.constant(null))")
    assert "Provided traversal argument for product step must yield an iterable type, " \
           "encountered class" in error(modern, "g.V().fold().product(__.V())")
    assert "disjunct step can only take an array or an Iterable as an argument, encountered " \
           "class java.lang.Integer" in error(modern, "g.V().fold().disjunct(2)")
    assert "Argument provided for merge step can't be null." in \
        error(modern, "g.V().fold().merge(null)")
    assert "step type mismatch: expected argument to be Iterable but got Map" in \
        error(modern, "g.V().fold().merge([k: 'v'])")
    assert "merge step expected provided argument to evaluate to a Map" in \
        error(modern, "g.V().elementMap().merge(__.constant('a'))")


# ---------------------------------------------------------------------------- reducers


def test_reducers(modern):
    assert run(modern, "g.V().values('age').sum()") == [123]
    assert run(modern, "g.V().values('age').mean()") == [30.75]
    assert run(modern, "g.V().values('age').min()") == [27]
    assert run(modern, "g.V().values('age').max()") == [35]
    assert run(modern, "g.V().values('age').fold().sum(local)") == [123]
    assert run(modern, "g.inject(null, 10, 5, null).sum()") == [15]
    # all nulls give null, nothing gives nothing
    assert run(modern, "g.inject(null, null).sum()") == [None]
    assert run(modern, "g.inject(null, null).mean()") == [None]
    assert run(modern, "g.inject(null, null).max()") == [None]
    assert run(modern, "g.V().values('foo').sum()") == []
    assert run(modern, "g.inject([null, null]).min(local)") == [None]


def test_sum_promotes_on_overflow(modern):
    out = run(modern, "g.inject(2147483647, 1).sum()")
    assert out == [2147483648] and type(out[0]) is long
    assert "long overflow" in error(modern, "g.inject(9223372036854775807L, 1L).sum()")
    out = run(modern, "g.inject(1.5f, 2.5f).sum()")
    assert out == [4.0] and num_kind(out[0]) == "float"
    out = run(modern, "g.inject(1, 2.5d).sum()")
    assert out == [3.5] and num_kind(out[0]) == "double"
    assert run(modern, "g.inject(1.5m, 1).sum()") == [Decimal("2.5")]
    out = run(modern, "g.inject(1b, 2s).sum()")
    assert out == [3] and isinstance(out[0], short)


def test_number_helper():
    assert num_op("add", 2 ** 31 - 1, 1) == 2 ** 31
    assert num_kind(num_op("add", SingleByte(100), SingleByte(100))) == "short"
    assert num_op("div", 7, 2) == 3 and num_op("div", -7, 2) == -3
    assert num_op("div", 7, long(2), force_fp=True) == 3.5
    assert num_op("mul", 1e308, 10.0) == math.inf
    assert num_op("add", None, 1) is None and num_op("add", 1, None) == 1
    assert num_op("div", Decimal(1), Decimal(4)) == Decimal("0.25")
    assert cast_number(5.9, "int") == 5
    with pytest.raises(QueryEvaluationError, match="Can't convert NaN to Integer"):
        cast_number(math.nan, "int")
    with pytest.raises(QueryEvaluationError, match="Integer to Byte due to overflow"):
        cast_number(300, "byte")


def test_operators_in_sack_and_fold(modern):
    assert run(modern, "g.inject(1, 2, 3).fold(1, Operator.mult)") == [6]
    assert run(modern, "g.inject(3, 4).fold(100, Operator.minus)") == [93]
    assert run(modern, "g.inject(2).fold(7, Operator.div)") == [3]
    out = run(modern, "g.inject(2147483647).fold(2, Operator.mult)")
    assert out == [4294967294] and type(out[0]) is long


# ---------------------------------------------------------------------------- call()


def test_call_services(modern):
    assert sorted(run(modern, "g.call('--list')")) == ["tinker.degree.centrality",
                                                       "tinker.search"]
    assert run(modern, "g.call('--list').with('service', 'tinker.search')") == ["tinker.search"]
    names = run(modern, "g.call('tinker.search', [search: 'vada']).element().values('name')")
    assert names == ["vadas"]
    assert run(modern, "g.call('tinker.search').with('search', 'mar').with('type', 'Edge')") == []
    degrees = run(modern, "g.V().as('v').call('tinker.degree.centrality')"
                          ".project('n', 'd').by(select('v').values('name')).by()")
    assert {m["n"]: m["d"] for m in degrees} == {"marko": 0, "vadas": 1, "lop": 3, "josh": 1,
                                                 "ripple": 1, "peter": 0}
    out = run(modern, "g.V().has('name','marko').call('tinker.degree.centrality')"
                      ".with('direction', Direction.OUT)")
    assert out == [3]


# ---------------------------------------------------------------------------- semantics


def test_comparability():
    assert compare(None, None) == 0
    assert compare(None, 1) is None
    assert compare(1, 1.0) == 0
    assert compare(math.nan, 1) is None
    assert compare("a", 1) is None
    assert compare(Decimal("1.5"), 1) == 1
    assert equals(1, 1.0) and not equals(math.nan, math.nan) and not equals(1, "1")


def test_comparability_in_predicates(modern):
    assert run(modern, "g.inject(null).is(P.lte(null))") == [None]
    assert run(modern, "g.inject(null).is(P.lt(null))") == []
    assert run(modern, "g.inject(1, 'a', null).is(P.gt(0))") == [1]


def test_orderability():
    values = ["b", 2, None, True, 1.5, [1], {"a": 1}, math.nan, dt.datetime(2020, 1, 1, tzinfo=UTC)]
    from functools import cmp_to_key
    out = sorted(values, key=cmp_to_key(order_cmp))
    assert out[0] is None and out[1] is True
    assert out[2:5] == [1.5, 2, out[4]] and math.isnan(out[4])
    assert out[5:] == [dt.datetime(2020, 1, 1, tzinfo=UTC), "b", [1], {"a": 1}]


def test_sets_and_java_names():
    assert make_set([1, 1.0, [1], [1]]) in ({1, (1,)}, {1.0, (1,)})
    assert java_class(1) == "class java.lang.Integer"
    assert java_class(2 ** 40) == "class java.lang.Long"
    assert java_class([1]) == "class java.util.ArrayList"
    assert java_class(None) == "null"


def test_type_of(modern):
    assert run(modern, "g.inject(1, 1L, 1.0, 'a', [1]).is(P.typeOf(GType.NUMBER)).count()") == [3]
    assert run(modern, "g.inject(1L).is(P.typeOf(GType.LONG))") == [1]
    assert run(modern, "g.inject(1).is(P.typeOf(GType.LONG))") == []
    assert run(modern, "g.inject([1]).is(P.typeOf(GType.LIST))") == [[1]]


def test_type_of_registered_names_trees_and_sets(modern):
    assert run(modern, "g.V().values('age').is(P.typeOf('Integer')).count()") == [4]
    assert run(modern, "g.V().values('name').is(P.typeOf('String')).count()") == [6]
    assert "is not a registered type" in error(modern, "g.V().values('age').is(P.typeOf('nope'))")
    assert run(modern, "g.V().has('name','marko').out().tree().is(P.typeOf(GType.TREE)).count()") \
        == [1]
    out = run(modern, "g.V().values('name').aggregate('x').cap('x').is(P.typeOf(GType.SET))")
    assert sorted(out[0]) == ["josh", "lop", "marko", "peter", "ripple", "vadas"]
    keys = run(modern, "g.V().valueMap().select(keys).dedup().is(P.typeOf(GType.SET))")
    assert sorted(map(sorted, keys)) == [["age", "name"], ["lang", "name"]]


def test_java_string_forms(modern):
    from graphengine.query.steps.text import java_datetime_str, java_float_str
    assert run(modern, "g.inject(1e10, 0.5, 1.5f).asString()") == ["1.0E10", "0.5", "1.5"]
    assert java_float_str(1.5e-5) == "1.5E-5" and java_float_str(123.0) == "123.0"
    assert java_datetime_str(dt.datetime(2023, 8, 2, tzinfo=UTC)) == "2023-08-02T00:00Z"
    assert java_datetime_str(dt.datetime(2023, 8, 2, 1, 2, 3, 500000, tzinfo=UTC)) \
        == "2023-08-02T01:02:03.500Z"


_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "tinkerpop" / "data"


@pytest.mark.skipif(not (_DATA / "tinkerpop-modern-v3.json").exists(),
                    reason=f"TinkerPop data not found at {_DATA}")
def test_vertex_properties_order_by_their_graphson_ids():
    from graphengine.query.graphson import read_graphson
    graph, mutations = read_graphson(_DATA / "tinkerpop-modern-v3.json")
    assert not mutations
    q = Gremlin(graph)
    assert run(q, "g.V().properties().order().id()") == list(range(12))
    assert [p.label for p in run(q, "g.V(1).properties().order()")] == ["name", "age"]
    # an added vertex property gets an id above every id of the file
    added = run(q, "g.V(1).property('x', 1).properties('x').id()")
    assert added[0] > 12


def test_min_max_follow_number_helper(modern):
    # NaN and null lose; numbers meet in their common type
    assert run(modern, "g.inject(NaN, 1, null).max()") == [1]
    assert math.isnan(run(modern, "g.inject(NaN).min()")[0])
    out = run(modern, "g.inject(3, 2.0d).max()")
    assert out == [3.0] and isinstance(out[0], float)
    assert run(modern, "g.inject('b', 'a').min()") == ["a"]
    assert run(modern, "g.inject([1, NaN, 5]).max(local)") == [5]


def test_comparability_of_composites_and_elements(modern):
    assert compare([1, 2], [1, 3]) == -1
    assert compare([1, 2], [1, 2, 0]) == -1
    assert compare([1, "a"], [1, 2]) is None          # a pair that is not comparable: ERROR
    assert compare({1, 2}, {2, 1}) == 0
    assert compare({"a": 1}, {"a": 2}) == -1
    assert compare([1, math.nan], [2, 1]) is None
    assert run(modern, "g.inject([1, 2]).is(P.lt([1, 3]))") == [[1, 2]]
    # vertices compare by id
    assert run(modern, "g.V(1).as('a').out().as('b').where('a', P.lt('b')).values('name')"
                       ".order()") == ["josh", "lop", "vadas"]
