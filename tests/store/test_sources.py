"""Every source type loads the same graph; every export gives it back."""

import networkx as nx
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import graphengine
from graphengine import Loader

PEOPLE = pd.DataFrame({"id": [10, 20, 30, 40], "name": ["ann", "bob", "cy", "di"],
                       "age": [31, 42, 27, 55]})
KNOWS = pd.DataFrame({"src_id": [10, 10, 20, 30], "dst_id": [20, 30, 40, 10],
                      "weight": [0.5, 1.0, 0.25, 2.0]})


def expected_edges():
    return sorted(zip(KNOWS.src_id, KNOWS.dst_id, KNOWS.weight))


def check(g: graphengine.Graph):
    v = g.to_pandas("person").sort_values("id").reset_index(drop=True)
    pd.testing.assert_frame_equal(v, PEOPLE, check_dtype=False)
    e = g.to_pandas("knows", kind="edge")
    assert sorted(zip(e.src, e.dst, e.weight)) == expected_edges()


def build(sess, vsrc, esrc, **vkw):
    g = sess.g().add_vertices(vsrc, label="person", **vkw)
    return g.add_edges(esrc, label="knows", src_label="person", dst_label="person")


@pytest.fixture
def sess():
    with graphengine.session(num_fragments=3) as s:
        yield s


def test_pandas(sess):
    check(build(sess, PEOPLE, KNOWS))


def test_arrow(sess):
    check(build(sess, pa.Table.from_pandas(PEOPLE), pa.Table.from_pandas(KNOWS)))


def test_record_batch_and_dict(sess):
    check(build(sess, pa.RecordBatch.from_pandas(PEOPLE), {c: KNOWS[c].to_numpy() for c in KNOWS}))


def test_csv_with_header_and_delimiter(sess, tmp_path):
    PEOPLE.to_csv(tmp_path / "p.csv", sep="|", index=False)
    KNOWS.to_csv(tmp_path / "k.csv", index=False)
    check(build(sess, Loader(tmp_path / "p.csv", delimiter="|"), str(tmp_path / "k.csv")))


def test_csv_without_header(sess, tmp_path):
    PEOPLE.to_csv(tmp_path / "p.csv", index=False, header=False)
    KNOWS.to_csv(tmp_path / "k.csv", index=False, header=False)
    v = Loader(tmp_path / "p.csv", header_row=False, column_names=("id", "name", "age"))
    e = Loader(tmp_path / "k.csv", header_row=False, column_names=("src_id", "dst_id", "weight"))
    check(build(sess, v, e))


@pytest.mark.parametrize("late", ["2.5", "x7", ""], ids=["float", "string", "null"])
def test_csv_types_come_from_the_whole_file(tmp_path, late):
    """Columns are read with the types of the first block when the rest fits them (less
    memory); a later row that needs a wider type gives the whole file's inferred types, as
    pyarrow's own read does. A column empty in the first block is inferred from the rest."""
    import pyarrow.csv as pacsv

    from graphengine.store.sources import read_file

    n = 200_000  # ~2.4 MB: the first 1 MiB block has integers only
    lines = ["a,b,c"] + [f"{i},{i * 3},{'' if i < n - 5 else i}" for i in range(n)]
    lines[n // 2] = f"{n // 2},{late},"
    path = tmp_path / "t.csv"
    path.write_text("\n".join(lines) + "\n")
    got, want = read_file(Loader(path)), pacsv.read_csv(path)
    assert got.schema == want.schema
    assert got.equals(want)


def test_parquet(sess, tmp_path):
    pq.write_table(pa.Table.from_pandas(PEOPLE), tmp_path / "p.parquet")
    pq.write_table(pa.Table.from_pandas(KNOWS), tmp_path / "k.parquet")
    check(build(sess, tmp_path / "p.parquet", tmp_path / "k.parquet"))


def test_numpy(sess):
    g = sess.g().add_vertices(np.array([10, 20, 30, 40]), label="person")
    g = g.add_edges(KNOWS[["src_id", "dst_id"]].to_numpy(), label="knows")
    e = g.to_pandas("knows", kind="edge")
    assert sorted(zip(e.src, e.dst)) == [(a, b) for a, b, _ in expected_edges()]
    assert g.to_pandas("person").id.sort_values().tolist() == [10, 20, 30, 40]


def test_named_vid_field_and_property_selection(sess):
    df = PEOPLE.rename(columns={"id": "pid"})[["name", "pid", "age"]]
    g = sess.g().add_vertices(df, label="person", vid_field="pid", properties=["age"])
    assert g.schema.vertex_label("person").properties == ["age"]
    assert sorted(g.to_pandas("person").id) == [10, 20, 30, 40]


def test_property_type_cast(sess):
    g = sess.g().add_vertices(PEOPLE, label="person", properties=[("age", "float64")])
    assert g.to_arrow("person").schema.field("age").type == pa.float64()


def test_load_from_graphscope_form(sess, tmp_path):
    PEOPLE.to_csv(tmp_path / "p.csv", index=False)
    KNOWS.to_csv(tmp_path / "k.csv", index=False)
    g = sess.load_from(
        vertices={"person": (Loader(tmp_path / "p.csv"), ["name", "age"], "id")},
        edges={"knows": (Loader(tmp_path / "k.csv"), ["weight"], ("src_id", "person"),
                         ("dst_id", "person"))})
    check(g)


def test_vertices_deduced_from_edges_and_string_ids(sess):
    g = sess.load_from(edges={"e": {"source": {"a": ["x", "y", "z"], "b": ["y", "z", "q"]}}})
    assert sorted(g.to_pandas().id) == ["q", "x", "y", "z"]
    assert g.edge_count == 3


def test_multi_label_graph_and_networkx_export(sess):
    g = build(sess, PEOPLE, KNOWS)
    g = g.add_vertices({"id": ["lop", "ripple"], "lang": ["java", "java"]}, label="software")
    g = g.add_edges({"s": [10, 40], "d": ["lop", "ripple"]}, label="created",
                    src_label="person", dst_label="software")
    G = g.to_networkx()
    assert G.number_of_nodes() == 6 and G.number_of_edges() == 6
    assert G.nodes[("person", 10)]["name"] == "ann"
    assert G.has_edge(("person", 40), ("software", "ripple"))
    created = [(u, v) for u, v, d in G.edges(data=True) if d["label"] == "created"]
    assert sorted(created) == [(("person", 10), ("software", "lop")),
                               (("person", 40), ("software", "ripple"))]
    assert g.schema.edge_label("created").relations == (("person", "software"),)


def test_networkx_round_trip(sess):
    G = nx.les_miserables_graph()
    g = sess.g(G)
    assert not g.directed
    assert g.vertex_count == G.number_of_nodes() and g.edge_count == G.number_of_edges()
    H = g.to_networkx()
    assert set(H.nodes) == set(G.nodes)
    assert {frozenset((u, v)): d["weight"] for u, v, d in H.edges(data=True)} == \
        {frozenset((u, v)): d["weight"] for u, v, d in G.edges(data=True)}
    D = nx.gnp_random_graph(50, 0.1, seed=1, directed=True)
    assert sorted(sess.g(D).to_networkx().edges()) == sorted(D.edges())


def test_vertex_and_edge_property_arrays(sess):
    g = build(sess, PEOPLE, KNOWS)
    ages = g.vertex_property("age")
    gids = g.gids("person", [10, 20, 30, 40])
    assert ages[gids].tolist() == [31, 42, 27, 55]
    w = g.edge_property("weight")
    src, dst, eid = g._edge_list("knows")
    got = sorted(zip(g.vertex_ids(src), g.vertex_ids(dst), w[eid]))
    assert got == expected_edges()
