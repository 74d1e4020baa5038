"""The Gremlin engine's API: execute, gremlinpython's fluent API in process, errors that leave
the graph as it was, the vectorized path against the interpreter, and analytics columns."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from gremlin_python.process.graph_traversal import __
from gremlin_python.process.traversal import P
from gremlin_python.structure.graph import Edge, Path, Vertex

import graphengine
from graphengine.datasets import load_modern_graph, rmat_graph
from graphengine.errors import GraphEngineError, QueryEvaluationError, QuerySyntaxError
from graphengine.query import Gremlin, vectorized


@pytest.fixture
def modern():
    return load_modern_graph(graphengine.session(num_fragments=2))


def test_execute_returns_gremlinpython_types(modern):
    q = graphengine.session().gremlin(modern)
    marko = q.execute("g.V().has('name', 'marko')").one()
    assert isinstance(marko, Vertex) and marko.id == 1 and marko.label == "person"
    edges = q.execute("g.V(1).outE('knows')").all()
    assert {e.id for e in edges} == {7, 8}
    assert all(isinstance(e, Edge) and e.outV.id == 1 for e in edges)
    path = q.execute("g.V(1).out('knows').has('name', 'josh').path()").one()
    assert isinstance(path, Path) and [v.id for v in path.objects] == [1, 4]
    assert q.execute("g.V(xs).values('name')", {"xs": [2, 4]}).all() == ["vadas", "josh"]


def test_fluent_api_runs_in_process(modern):
    q = Gremlin(modern)
    g = q.traversal_source()
    assert sorted(g.V().has("age", P.gt(30)).values("name").to_list()) == ["josh", "peter"]
    assert g.V(1).out("created").in_("created").where(__.has_id(P.neq(1))).values("name") \
        .to_list() == ["josh", "peter"]
    assert g.V().group().by("age").by(__.count()).next() == \
        q.execute("g.V().group().by('age').by(count())").one()


def test_malformed_query_names_line_and_column(modern):
    q = Gremlin(modern)
    with pytest.raises(QuerySyntaxError) as err:
        q.execute("g.V().has('name',\n  'marko'))")
    assert (err.value.line, err.value.column) == (2, 11)
    assert "line 2, column 11" in str(err.value)


@pytest.mark.parametrize("text, words", [
    ("g.V().frobnicate()", "unknown step frobnicate()"),
    ("g.V().has(1, 'x')", "the key must be a string"),
    ("g.V().out(3)", "edge labels"),
    ("g.V().filter{ it.get().value('age') > 30 }", "lambdas are not supported"),
    ("g.V().limit('two')", "integers"),
])
def test_bad_steps_raise_clear_errors(modern, text, words):
    q = Gremlin(modern)
    with pytest.raises(QueryEvaluationError, match=words.replace("(", r"\(").replace(")", r"\)")):
        q.execute(text)


def test_failed_mutation_leaves_graph_unchanged(modern):
    q = Gremlin(modern)
    before = q.execute("g.V().count()").one()
    with pytest.raises(GraphEngineError):
        # the vertex is added, then math() fails on a vertex: the addition is undone
        q.execute("g.addV('x').property('name', 'new').math('_ + 1')")
    assert q.execute("g.V().count()").one() == before
    assert q.execute("g.V().has('name', 'new').count()").one() == 0
    assert q.graph is modern


def test_mutations_reach_the_store(modern, tmp_path):
    q = Gremlin(modern)
    q.execute("g.addV('person').property(T.id, 100).property('name', 'ana').property('age', 41)")
    q.execute("g.V(100).addE('knows').to(V(1)).property('weight', 0.7)")
    q.execute("g.V(2).property('age', 28)")
    g2 = q.graph
    assert modern.vertex_count == 6 and g2.vertex_count == 7
    people = g2.to_pandas("person").set_index("id")
    assert people.loc[100, "name"] == "ana" and people.loc[2, "age"] == 28
    knows = g2.to_pandas("knows", kind="edge")
    assert ((knows.src == 100) & (knows.dst == 1)).sum() == 1
    g2.save(tmp_path / "g")
    back = graphengine.load_graph(tmp_path / "g")
    assert Gremlin(back).execute("g.V(100).out('knows').values('name')").all() == ["marko"]


def test_only_additions_share_the_base_buffers(modern):
    q = Gremlin(modern)
    q.execute("g.addV('person').property(T.id, 50).property('name', 'zed').property('age', 3)")
    g2 = q.graph
    # the neighbor arrays are shared everywhere; the fragment that got the vertex pads its indptr
    assert all(f1.topology["created"].out_nbrs is f2.topology["created"].out_nbrs
               for f1, f2 in zip(modern.fragments, g2.fragments))
    assert sum(f1.topology["created"] is f2.topology["created"]
               for f1, f2 in zip(modern.fragments, g2.fragments)) == modern.fnum - 1


QUERIES = [
    "g.V().count()", "g.V().out().out().count()", "g.V(5).in().count()",
    "g.V(5, 17).both().both().count()", "g.V().has('age', gt(50)).count()",
    "g.V().has('age', between(10, 20)).out().dedup().count()",
    "g.V().groupCount().by('age')", "g.V(3).out().groupCount().by('age')",
    "g.V().has('name', within('p1', 'p2', 'p3')).out().out().count()",
    "g.V().hasLabel('person').out('knows').in('knows').count()",
]


@pytest.mark.parametrize("fragments", [1, 3])
def test_vectorized_path_matches_the_interpreter(fragments, monkeypatch):
    sess = graphengine.session(num_fragments=fragments)
    g = rmat_graph(sess, scale=9, edge_factor=4, seed=5)
    n = g.vertex_count
    rng = np.random.default_rng(0)
    g = g.add_column({"age": rng.integers(0, 60, n), "name": np.array([f"p{i}" for i in range(n)])})
    g = g.project(vertices={"_": None}, edges={"_e": None})
    import pyarrow as pa  # relabel for hasLabel / label names in the queries
    t = g.to_arrow("_")
    edges = g.to_arrow("_e", kind="edge")
    g = sess.g().add_vertices(t, label="person", vid_field="id") \
        .add_edges(pa.table({"src": edges["src"], "dst": edges["dst"]}), label="knows")
    q = Gremlin(g)
    fast = [q.execute(text).all() for text in QUERIES]
    monkeypatch.setattr(vectorized, "compile_count", lambda qg, inst: None)
    slow = [Gremlin(g).execute(text).all() for text in QUERIES]   # a new engine: no plans
    assert fast == slow


@pytest.mark.parametrize("lists", [True, False])
@pytest.mark.parametrize("fragments", [1, 3])
def test_count_plans_from_a_few_ids_match_the_interpreter(fragments, lists, monkeypatch):
    """From a few ids a plan hops over Python lists (until a hop gives more than a few, then
    the arrays take over), counts a last hop from degree arrays and keeps the result of a
    plan without ids: every answer is the interpreter's, repeated ids and hubs included;
    with list copies of the degrees, id tables and neighbors (small graphs) or without."""
    if not lists:
        monkeypatch.setattr(vectorized, "_LISTS", 0)
        monkeypatch.setattr(vectorized, "_ADJ_LISTS", 0)
    sess = graphengine.session(num_fragments=fragments)
    g = rmat_graph(sess, scale=8, edge_factor=4, seed=3)
    q = Gremlin(g)
    hub = max(range(g.vertex_count), key=lambda v: q.execute(f"g.V({v}).both().count()").one())
    texts = [f"g.V({ids}).{steps}" for ids in ("1", "2, 2", "7, 11, 3", str(hub), f"{hub}, 1",
                                                 "9999", "")
             for steps in ("out().count()", "in().count()", "both().count()",
                           "out().out().count()", "both().both().count()",
                           "out().dedup().out().count()", "out().groupCount()",
                           "in().out().groupCount().by(label)")]
    got = [[q.execute(t).all() for t in texts] for _ in range(2)]   # plans made, then reused
    monkeypatch.setattr(vectorized, "compile_count", lambda qg, inst: None)
    want = [Gremlin(g).execute(t).all() for t in texts]
    assert got[0] == want and got[1] == want


def test_count_plans_serve_every_id_of_a_shape(modern, monkeypatch):
    """One compiled count plan per traversal shape, whatever the ids of V(); the answers are
    the interpreter's; a change to the graph sends the shape back to the interpreter."""
    shapes = ["g.V({}).out().count()", "g.V({}).out('knows').both().count()",
              "g.V({}).both().dedup().groupCount().by(label)", "g.V({}).has('age', gt(28)).count()"]
    ids = [1, 2, 4, 6, 99, "1", "[1, 4, 4]"]
    q = Gremlin(modern)
    got = [q.execute(text.format(v)).all() for text in shapes for v in ids]
    assert len(q._plans) == len(shapes)
    with monkeypatch.context() as m:
        m.setattr(vectorized, "compile_count", lambda qg, inst: None)
        ref = Gremlin(modern)
        want = [ref.execute(text.format(v)).all() for text in shapes for v in ids]
    assert got == want
    assert q.execute("g.V(x).out().count()", {"x": 4}).all() == [2]    # a binding is a value
    q.execute("g.V(1).addE('knows').to(V(3))").all()
    assert q.execute("g.V(1).out().count()").all() == [4]
    assert q.execute("g.V(1).out('knows').both().count()").all() == [8]


def test_pagerank_column_orders_a_traversal(modern):
    sess = graphengine.session()
    ranks = graphengine.pagerank(modern, delta=0.85, max_round=20)
    g = modern.add_column(ranks, {"pagerank": "r"})
    q = sess.gremlin(g)
    got = q.execute("g.V().order().by('pagerank', desc).limit(2).values('name')").all()
    table = pd.concat([g.to_pandas("person"), g.to_pandas("software")])
    want = table.sort_values("pagerank", ascending=False, kind="stable").name.tolist()[:2]
    assert got == want


def test_multi_and_meta_properties_survive_save_and_load(tmp_path):
    q = Gremlin(graphengine.session().g())
    q.execute("g.addV('person').property(T.id, 1).property('name', 'marko')"
              ".property(list, 'location', 'san diego', 'startTime', 1997, 'endTime', 2001)"
              ".property(list, 'location', 'santa fe', 'startTime', 2005)")
    query = ("g.V(1).properties('location').order().by(value)"
             ".project('v', 'meta').by(value).by(valueMap())")
    want = q.execute(query).all()
    assert want == [{"v": "san diego", "meta": {"startTime": 1997, "endTime": 2001}},
                    {"v": "santa fe", "meta": {"startTime": 2005}}]
    q.graph.save(tmp_path / "g")
    back = graphengine.load_graph(tmp_path / "g")
    assert Gremlin(back).execute(query).all() == want
    # the store's own column keeps one value per key for analytics and GNN steps
    assert back.to_pandas("person").loc[0, "location"] == "san diego"
