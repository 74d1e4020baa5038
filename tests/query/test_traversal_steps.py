"""Branch, filter and side-effect step semantics (TinkerPop 3.8) on the modern graph, with
hand-computed answers.

The modern graph: marko(1, 29) -knows 0.5-> vadas(2, 27), marko -knows 1.0-> josh(4, 32),
marko -created 0.4-> lop(3), josh -created 1.0-> ripple(5), josh -created 0.4-> lop,
peter(6, 35) -created 0.2-> lop.
"""

from __future__ import annotations

import pytest
from gremlin_python.structure.graph import Path, Vertex

import graphengine
from graphengine.datasets import load_modern_graph
from graphengine.errors import GraphEngineError
from graphengine.query import Gremlin


@pytest.fixture(scope="module")
def q():
    return Gremlin(load_modern_graph(graphengine.session()))


def run(q, text):
    return q.execute(text).all()


def names(q, text):
    return sorted(run(q, text))


def ids(results):
    return sorted(v.id for v in results)


# ---------------------------------------------------------------------------- repeat


def test_repeat_times_until_emit(q):
    assert names(q, "g.V(1).repeat(out()).times(2).values('name')") == ["lop", "ripple"]
    assert names(q, "g.V(1).repeat(out()).emit().values('name')") == [
        "josh", "lop", "lop", "ripple", "vadas"]
    assert names(q, "g.V(1).repeat(out()).until(hasLabel('software')).values('name')") == [
        "lop", "lop", "ripple"]
    # emit() / times() before repeat(): checked before the first loop
    assert names(q, "g.V(1).emit().repeat(out()).times(1).values('name')") == [
        "josh", "lop", "marko", "vadas"]
    assert run(q, "g.V(1).times(0).repeat(out()).values('name')") == ["marko"]
    assert names(q, "g.V(1).repeat(out()).until(loops().is(2)).values('name')") == [
        "lop", "ripple"]


def test_repeat_breadth_first_order(q):
    # one start at a time, each drained breadth first
    assert run(q, "g.V(1).repeat(out()).emit().values('name')") == [
        "vadas", "josh", "lop", "ripple", "lop"]


def test_repeat_with_a_barrier_runs_loop_by_loop(q):
    # limit() counts per loop over all starts; dedup() remembers across loops
    assert run(q, "g.V().repeat(both().limit(1)).times(2).count()") == [1]
    assert run(q, "g.V().repeat(dedup().both()).times(2).count()") == [0]
    assert run(q, "g.V().emit().repeat(dedup()).times(2).count()") == [12]
    # a global aggregate() has seen every start before the first result leaves
    assert run(q, "g.V().repeat(aggregate('x')).times(2).select('x').limit(1).unfold().count()") == [12]
    # loop 1: 6 vertices + one 'y'; loop 2: those 7 + one 'y'
    assert run(q, "g.V().repeat(union(constant('y').limit(1), identity())).times(2).count()") == [8]


def test_repeat_errors(q):
    for text in ("g.V().emit()", "g.V().until(identity())", "g.V().times(5)"):
        with pytest.raises(GraphEngineError, match="The repeat\\(\\)-traversal was not defined"):
            run(q, text)
    with pytest.raises(GraphEngineError, match="parent of inject\\(\\)-step can not be repeat"):
        run(q, "g.V().repeat(inject('y')).times(2)")


# ---------------------------------------------------------------------------- branches


def test_union_per_traverser_and_global_with_a_barrier(q):
    assert run(q, "g.V(1).union(out('knows'), out('created')).values('name')") == [
        "vadas", "josh", "lop"]
    got = run(q, "g.V(1, 2).union(outE().count(), inE().count(), outE().values('weight').sum())")
    assert got[:2] == [3, 1] and got[2] == pytest.approx(1.9)


def test_choose(q):
    assert names(q, "g.V().hasLabel('person').choose(values('age').is(gt(30)),"
                    " constant('old'), constant('young'))") == ["old", "old", "young", "young"]
    # the first matching option wins; none when no option matches
    assert names(q, "g.V().hasLabel('person').choose(values('age'))"
                    ".option(between(26, 30), constant('x')).option(between(20, 30), constant('y'))"
                    ".option(none, constant('z'))") == ["x", "x", "z", "z"]
    assert names(q, "g.V().choose(T.label).option('person', values('name'))"
                    ".option('software', constant('sw'))") == [
        "josh", "marko", "peter", "sw", "sw", "vadas"]
    # unproductive choice: identity by default
    assert run(q, "g.V().choose(values('age')).option(gt(30), constant('old'))"
                  ".is('old').count()") == [2]
    assert run(q, "g.V().choose(values('age')).option(gt(30), constant('old'))"
                  ".hasLabel('software').count()") == [2]
    with pytest.raises(GraphEngineError, match="Traversal is not allowed as a Pick token"):
        run(q, "g.V().choose(values('name')).option(__.is('marko'), values('age'))")
    with pytest.raises(GraphEngineError, match="can not have an any-option"):
        run(q, "g.V().choose(values('name')).option(any, values('age'))")


def test_branch_any_and_barrier_options(q):
    got = run(q, "g.V(1, 3).branch(label()).option('person', values('age')).option(any, label())")
    assert sorted(got, key=str) == sorted([29, "person", "software"], key=str)
    # options holding a barrier see every traverser routed to them
    assert run(q, "g.V().branch(label()).option('person', count())"
                  ".option('software', values('name').fold())") == [4, ["lop", "ripple"]]


def test_coalesce_optional_local(q):
    assert run(q, "g.V(1, 3).coalesce(out('knows').values('name'), constant('none'))") == [
        "vadas", "josh", "none"]
    assert names(q, "g.V(2, 4).optional(out()).values('name')") == ["lop", "ripple", "vadas"]
    assert run(q, "g.V().hasLabel('person').local(outE().limit(1)).count()") == [3]
    assert run(q, "g.V().hasLabel('person').local(out().count())") == [3, 0, 2, 1]


# ---------------------------------------------------------------------------- filters


def test_where(q):
    assert names(q, "g.V().where(out('created')).values('name')") == ["josh", "marko", "peter"]
    assert names(q, "g.V(1).as('a').out('created').in('created').where(neq('a'))"
                    ".values('name')") == ["josh", "peter"]
    got = run(q, "g.V().as('a').out().as('b').where(__.as('a').out('knows').as('b'))"
                 ".select('a', 'b').by('name')")
    assert got == [{"a": "marko", "b": "vadas"}, {"a": "marko", "b": "josh"}]
    # infix and() / or() (ConnectiveStrategy): and binds tighter
    assert names(q, "g.V().where(out('created').and().out('knows')).values('name')") == ["marko"]
    assert names(q, "g.V().where(out('created').and().out('knows').or().in('knows'))"
                    ".values('name')") == ["josh", "marko", "vadas"]
    # a side effect in within()
    assert names(q, "g.withSideEffect('a', ['josh', 'peter']).V(1).out('created').in('created')"
                    ".values('name').where(within('a'))") == ["josh", "peter"]
    # by() modulators in turn: age for a, weight... here age for both labels
    assert names(q, "g.V().as('a').out('knows').as('b').where('a', gt('b')).by('age')"
                    ".select('b').values('name')") == ["vadas"]


def test_dedup(q):
    assert run(q, "g.V().both().dedup().count()") == [6]
    assert run(q, "g.V().dedup().by(label).count()") == [2]
    assert run(q, "g.inject([1, 1, 2]).dedup(local)") == [{1, 2}]
    # a label whose by() is unproductive filters the traverser
    assert run(q, "g.V(1).as('a').both().as('b').dedup('a', 'b').by('age').select('b')"
                  ".values('name')") == ["vadas", "josh"]
    with pytest.raises(GraphEngineError, match="Dedup step can only have one by modulator"):
        run(q, "g.V().dedup().by('name').by('age')")


def test_ranges(q):
    assert run(q, "g.V().range(1, 3).count()") == [2]
    assert run(q, "g.V().limit(2).count()") == [2]
    assert run(q, "g.V().skip(4).count()") == [2]
    assert run(q, "g.V().tail(2)") == run(q, "g.V()")[-2:]
    # local ranges keep collections (TinkerPop 3.8)
    assert run(q, "g.inject([1, 2, 3]).range(local, 1, 2)") == [[2]]
    assert run(q, "g.inject([1, 2, 3]).limit(local, 1)") == [[1]]
    assert run(q, "g.inject([1, 2, 3]).tail(local, 1)") == [[3]]
    assert run(q, "g.inject([1, 2, 3]).tail(local, 2)") == [[2, 3]]
    assert run(q, "g.V().fold().range(local, 6, 7)") == [[]]


# ---------------------------------------------------------------------------- side effects


def test_group_and_group_count(q):
    assert run(q, "g.V().groupCount().by(label)") == [{"person": 4, "software": 2}]
    assert run(q, "g.V().group().by(label).by(count())") == [{"person": 4, "software": 2}]
    assert run(q, "g.V().group().by(label).by('name')") == [
        {"person": ["marko", "vadas", "josh", "peter"], "software": ["lop", "ripple"]}]
    # a value traversal without a barrier keeps one value; keys without one vanish
    assert run(q, "g.V().hasLabel('person').group().by('name').by(in('knows').values('name'))") == [
        {"vadas": "marko", "josh": "marko"}]
    assert run(q, "g.V().group().by(values('name').substring(0, 1)).by(constant(1))") == [
        {"m": 1, "v": 1, "l": 1, "j": 1, "r": 1, "p": 1}]
    got = run(q, "g.V().has('name', within('vadas', 'peter')).group().by('name')"
                 ".by(out().order().fold().count(local))")
    assert got == [{"vadas": 0, "peter": 1}]
    # side-effect group / groupCount are barriers: select sees the whole map
    assert run(q, "g.V().groupCount('a').select('a').count(local)") == [6] * 6
    assert run(q, "g.V().group('a').by('name').select('a').count(local)") == [6] * 6
    with pytest.raises(GraphEngineError, match="GroupCount step can only have one by modulator"):
        run(q, "g.V().groupCount('x').by('name').by('age')")


def test_aggregate_and_cap(q):
    assert run(q, "g.V().aggregate('x').by('age').cap('x')") == [[29, 27, 32, 35]]
    assert run(q, "g.withSideEffect('a', [1, 2, 3], Operator.assign).V().aggregate('a')"
                  ".by('age').cap('a')") == [[29, 27, 32, 35]]
    assert run(q, "g.V(1).out().aggregate('x').out().where(without('x')).values('name')") == [
        "ripple"]
    with pytest.raises(GraphEngineError, match="Aggregate step can only have one by modulator"):
        run(q, "g.V().aggregate('x').by('name').by('age').cap('x')")


def test_sack(q):
    assert sorted(run(q, "g.withSack(1.0).V(1).outE('knows').sack(mult).by('weight').inV()"
                         ".sack()")) == [0.5, 1.0]
    # barrier() merges equal traversers: bulks add up, sacks merge by the operator
    assert sorted(run(q, "g.withSack(1, sum).V().out().barrier().sack()")) == [1, 1, 1, 3, 3, 3]
    assert sorted(run(q, "g.withBulk(false).withSack(1, sum).V().out().barrier().sack()")) == [
        1, 1, 1, 3]
    with pytest.raises(GraphEngineError, match="Sack step can only have one by modulator"):
        run(q, "g.V().sack(assign).by('age').by('name').sack()")


def test_tree(q):
    (tree,) = run(q, "g.V(1).out().tree()")
    ((root, children),) = tree.items()
    assert root.id == 1 and sorted(v.id for v in children) == [2, 3, 4]
    assert run(q, "g.V().out().tree('a').select('a').count(local)") == [3] * 6


# ---------------------------------------------------------------------------- match, select, path


def test_match(q):
    got = run(q, "g.V().match(__.as('a').out('knows').as('b')).select('a', 'b').by('name')")
    assert got == [{"a": "marko", "b": "vadas"}, {"a": "marko", "b": "josh"}]
    got = run(q, "g.V().match(__.as('a').out('created').as('b'),"
                 " __.as('b').in('created').as('c')).where('a', neq('c'))"
                 ".select('a', 'c').by('name')")
    assert sorted((m["a"], m["c"]) for m in got) == [
        ("josh", "marko"), ("josh", "peter"), ("marko", "josh"), ("marko", "peter"),
        ("peter", "josh"), ("peter", "marko")]


def test_select_and_path(q):
    assert run(q, "g.V(1).as('a').out('knows').as('b').select('a', 'b').by('name')") == [
        {"a": "marko", "b": "vadas"}, {"a": "marko", "b": "josh"}]
    assert run(q, "g.V(1).out().out().select('nope')") == []
    assert ids(run(q, "g.V(1).as('x').out().as('x').select(first, 'x')")) == [1, 1, 1]
    (p,) = run(q, "g.V(1).out('created').path().by('name')")
    assert isinstance(p, Path) and p.objects == ["marko", "lop"]
    (p,) = run(q, "g.V(1).out('created').path()")
    assert all(isinstance(o, Vertex) for o in p.objects)


def test_fail(q):
    with pytest.raises(GraphEngineError, match="msg"):
        run(q, "g.V().fail('msg')")
