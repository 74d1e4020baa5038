"""Mutations through the Gremlin engine: addV / addE / property / drop, mergeV / mergeE,
subgraph(), strategies that change writes, rollback of failed traversals and the export of
the mutated graph as a store version. Answers are hand-computed on TinkerPop's modern graph
(``load_modern_graph``) and on the empty graph."""

from __future__ import annotations

import pytest

import graphengine
from graphengine.datasets import load_modern_graph
from graphengine.errors import QueryEvaluationError
from graphengine.query import Gremlin
from graphengine.store.graph import Graph


@pytest.fixture()
def modern() -> Gremlin:
    return Gremlin(load_modern_graph(graphengine.session()))


@pytest.fixture()
def empty() -> Gremlin:
    return Gremlin(graphengine.session().g())


def run(q: Gremlin, text: str, **bindings) -> list:
    return q.execute(text, bindings or None).all()


def count(q: Gremlin, text: str) -> int:
    return run(q, text + ".count()")[0]


# ---------------------------------------------------------------------------- addV / addE


def test_addv_with_properties_and_addE_between_new_vertices(empty):
    run(empty, "g.addV('person').property('name','a').property('age',1).as('a')."
               "addV('person').property('name','b').as('b')."
               "addE('knows').from('a').to('b').property('weight',0.5)")
    assert count(empty, "g.V()") == 2
    assert count(empty, "g.E()") == 1
    assert run(empty, "g.V().has('name','a').out('knows').values('name')") == ["b"]
    assert run(empty, "g.E().values('weight')") == [0.5]
    assert run(empty, "g.V().has('name','a').values('age')") == [1]


def test_addE_property_before_from_to_is_folded(modern):
    # TinkerPop folds property() into addE(), so from()/to() may come after it
    out = run(modern, "g.addE('likes').property('since',2020).from(V().has('name','marko'))"
                      ".to(V().has('name','ripple')).values('since')")
    assert out == [2020]
    assert run(modern, "g.V().has('name','marko').out('likes').values('name')") == ["ripple"]


def test_folded_addV_properties_are_lists_and_read_the_incoming_traverser(modern):
    run(modern, "g.addV('animal').property('name','mateo').property('name','gateo')")
    assert sorted(run(modern, "g.V().hasLabel('animal').values('name')")) == ["gateo", "mateo"]
    # values computed from the incoming vertex, not from the new one
    out = run(modern, "g.V().hasLabel('software').addV('copy').property('name', __.values('name'))"
                      ".values('name')")
    assert sorted(out) == ["lop", "ripple"]


def test_addE_to_a_missing_vertex_fails_with_tinkerpop_message(modern):
    with pytest.raises(QueryEvaluationError, match="must resolve to a Vertex or the ID of a Vertex"):
        # the second addE() has no to(): its in-vertex would be the incoming edge
        run(modern, "g.addE('x').from(V(1)).to(V(2)).addE('y').from(V(1))")
    assert count(modern, "g.E()") == 6


# ---------------------------------------------------------------------------- property


def test_property_cardinalities_and_meta_properties(modern):
    run(modern, "g.V().has('name','marko').property(list,'nick','m').property(list,'nick','mm')")
    assert sorted(run(modern, "g.V().has('name','marko').values('nick')")) == ["m", "mm"]
    run(modern, "g.V().has('name','marko').property(set,'nick','m')")   # already there
    assert count(modern, "g.V().has('name','marko').properties('nick')") == 2
    run(modern, "g.V().has('name','marko').property(single,'nick','one')")
    assert run(modern, "g.V().has('name','marko').values('nick')") == ["one"]
    run(modern, "g.V().has('name','marko').property('city','sf','since',2001)")
    assert run(modern, "g.V().has('name','marko').properties('city').values('since')") == [2001]


def test_property_null_removes_and_null_keys_name_nothing(modern):
    run(modern, "g.V().has('name','marko').property('age', null)")
    assert run(modern, "g.V().has('name','marko').values('age')") == []
    assert sorted(run(modern, "g.V().hasLabel('person').values('age', null)")) == [27, 32, 35]


def test_drop_vertex_drops_its_edges(modern):
    run(modern, "g.V().has('name','lop').drop()")
    assert count(modern, "g.V()") == 5
    assert count(modern, "g.E()") == 3      # the three created edges into lop are gone
    assert run(modern, "g.V(1,2,3,4).values('name')") == ["marko", "vadas", "josh"]


def test_dropped_added_vertex_is_gone_by_id(empty):
    run(empty, "g.addV('a').property(T.id, 10)")
    run(empty, "g.V(10).drop()")
    assert run(empty, "g.V(10)") == []
    run(empty, "g.addV('b').property(T.id, 10)")     # the id is free again
    assert run(empty, "g.V(10).label()") == ["b"]


# ---------------------------------------------------------------------------- merge


def test_mergeV_creates_then_matches(empty):
    m = "g.mergeV([name:'alice', (T.label):'person']).option(Merge.onCreate,[age:1])" \
        ".option(Merge.onMatch,[age:2])"
    run(empty, m)
    assert run(empty, "g.V().has('person','name','alice').values('age')") == [1]
    run(empty, m)
    assert count(empty, "g.V()") == 1
    assert run(empty, "g.V().has('person','name','alice').values('age')") == [2]


def test_mergeV_onMatch_cardinality_option(empty):
    run(empty, "g.addV('person').property('name','m').property(list,'age',1).property(list,'age',2)")
    run(empty, "g.mergeV([name:'m']).option(Merge.onMatch,[age:3],Cardinality.single)")
    assert run(empty, "g.V().values('age')") == [3]


def test_mergeV_rejects_overrides_and_hidden_keys(empty):
    with pytest.raises(QueryEvaluationError, match="cannot override values from merge"):
        run(empty, "g.mergeV([(T.label):'a']).option(Merge.onCreate,[(T.label):'b'])")
    with pytest.raises(QueryEvaluationError, match="Property key can not be a hidden key: ~id"):
        run(empty, "g.mergeV(['~id':1])")


def test_mergeE_with_outV_inV_options_and_match(modern):
    q = ("g.V().has('name','vadas').as('x').V().has('name','lop').as('y')"
         ".mergeE([(T.label):'rates',(Direction.OUT):Merge.outV,(Direction.IN):Merge.inV])"
         ".option(Merge.outV, select('x')).option(Merge.inV, select('y'))")
    run(modern, q)
    run(modern, q)
    assert count(modern, "g.E().hasLabel('rates')") == 1
    assert run(modern, "g.V().has('name','vadas').out('rates').values('name')") == ["lop"]
    # an existing edge: onMatch sets a property on it
    run(modern, "g.mergeE([(T.label):'knows',(Direction.OUT):1,(Direction.IN):2])"
                ".option(Merge.onMatch,[weight:0.9])")
    assert run(modern, "g.V(1).outE('knows').where(inV().hasId(2)).values('weight')") == [0.9]


def test_mergeE_without_out_vertex_fails(empty):
    with pytest.raises(QueryEvaluationError, match="Out Vertex not specified"):
        run(empty, "g.mergeE([:])")


# ---------------------------------------------------------------------------- strategies


def test_read_only_strategy_rejects_writes(modern):
    with pytest.raises(QueryEvaluationError, match="mutating step and thus is not read only"):
        run(modern, "g.withStrategies(ReadOnlyStrategy).addV('x')")
    assert count(modern, "g.V()") == 6


def test_partition_strategy_writes_the_partition_key(empty):
    p = "g.withStrategies(new PartitionStrategy(partitionKey: '_p', writePartition: 'a'," \
        " readPartitions: ['a']))"
    run(empty, p + ".addV('x').property('name','in-a')")
    assert run(empty, "g.V().values('_p')") == ["a"]
    assert run(empty, p + ".V().values('name')") == ["in-a"]
    other = "g.withStrategies(new PartitionStrategy(partitionKey: '_p', writePartition: 'b'," \
            " readPartitions: ['b']))"
    assert run(empty, other + ".V().count()") == [0]


# ---------------------------------------------------------------------------- subgraph


def test_subgraph_side_effect_is_a_store_graph(modern):
    sg = run(modern, "g.V(1).outE('knows').subgraph('sg').cap('sg')")[0]
    assert isinstance(sg, Graph)
    inner = Gremlin(sg)
    assert sorted(v.id for v in run(inner, "g.V()")) == [1, 2, 4]
    assert sorted(e.id for e in run(inner, "g.E()")) == [7, 8]
    assert run(inner, "g.V(1).values('name')") == ["marko"]


# ---------------------------------------------------------------------------- rollback / export


def test_failed_mutating_traversal_leaves_the_graph_as_it_was(modern):
    before = (count(modern, "g.V()"), count(modern, "g.E()"),
              run(modern, "g.V(1).values('age')"))
    with pytest.raises(QueryEvaluationError):
        # adds a vertex, changes marko, then fails on an edge to a missing vertex
        run(modern, "g.addV('tmp').property('name','tmp').V(1).property('age', 99)"
                    ".addE('x').to(V().has('name','nobody'))")
    with pytest.raises(QueryEvaluationError):
        # drops marko and his edges, then fails to create an edge with no out vertex
        run(modern, "g.V(1).sideEffect(drop()).mergeE([(T.label):'zzz'])")
    after = (count(modern, "g.V()"), count(modern, "g.E()"), run(modern, "g.V(1).values('age')"))
    assert after == before
    assert run(modern, "g.V().has('name','tmp')") == []


def test_graph_after_mutations_is_a_new_store_version(modern):
    base = modern.graph
    run(modern, "g.addV('person').property(T.id, 100).property('name','zed').property('age',40)")
    run(modern, "g.V().has('name','lop').property('lang','kotlin')")
    run(modern, "g.addE('knows').from(V(100)).to(V(1)).property('weight',0.1)")
    g = modern.graph
    assert isinstance(g, Graph) and g is not base
    people = g.to_pandas("person").set_index("id")
    assert people.loc[100, "name"] == "zed" and people.loc[100, "age"] == 40
    assert g.to_pandas("software").set_index("name").loc["lop", "lang"] == "kotlin"
    knows = g.to_pandas("knows", kind="edge")
    assert ((knows["src"] == 100) & (knows["dst"] == 1)).sum() == 1
    # the store version queried anew gives the same answers
    fresh = Gremlin(g)
    assert count(fresh, "g.V()") == 7
    assert run(fresh, "g.V(100).out('knows').values('name')") == ["marko"]
    # the base version is untouched
    assert count(Gremlin(base), "g.V()") == 6


def test_null_property_values_when_allowed():
    q = Gremlin(graphengine.session().g(), allow_null_properties=True)
    run(q, "g.addV('person').property('name','josh').property('age', null)")
    run(q, "g.addV('person').property('name','vadas').as('v').addE('knows').from('v').to('v')"
           ".property('weight', null)")
    assert count(q, "g.V().has('person','age',null)") == 1
    assert count(q, "g.E().has('knows','weight',null)") == 1
    assert run(q, "g.V().has('name','josh').valueMap('age')") == [{"age": [None]}]
    run(q, "g.V().has('name','josh').property('age', 3)")
    assert run(q, "g.V().has('name','josh').values('age')") == [3]


def test_mergeV_search_narrowing_agrees_with_a_full_scan(modern):
    from graphengine.query.values import equals

    run(modern, "g.V(2).property('name','marko')")                   # a changed base vertex
    run(modern, "g.V(6).drop()")
    run(modern, "g.addV('person').property('name','marko').property('age',29.0)")
    qg = modern._qg
    for label in (None, "person", "software", "nope"):
        for key, value in ((None, None), ("name", "marko"), ("age", 29), ("lang", "java"),
                           ("name", 5), ("age", "x"), ("missing", 1)):
            found = qg.candidate_vertices(label, key, value)
            truth = [g for g in qg.vertices()
                     if (label is None or qg.vertex_label(g) == label)
                     and (key is None or any(equals(x, value) for x in qg.vertex_values(g, key)))]
            assert set(truth) <= set(found)
    assert len(run(modern, "g.mergeV([name:'marko'])")) == 3
    assert len(run(modern, "g.mergeV([(T.label):'person', age:29])")) == 2
