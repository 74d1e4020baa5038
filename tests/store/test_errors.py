"""Bad input gets an error that names the problem, and leaves existing graphs untouched."""

import numpy as np
import pandas as pd
import pytest

import graphengine
from graphengine import Loader
from graphengine.errors import (
    DuplicateVertexError,
    GraphEngineError,
    LoadError,
    PersistenceError,
    SchemaError,
    UnknownVertexError,
)


@pytest.fixture
def g():
    with graphengine.session(num_fragments=2) as sess:
        g = sess.g().add_vertices({"id": [1, 2, 3], "age": [10, 20, 30]}, label="person")
        yield g.add_edges({"s": [1, 2], "d": [2, 3], "w": [1.0, 2.0]}, label="knows")


def snapshot(g):
    return (g.to_pandas("person").sort_values("id").to_dict("list"),
            g.to_pandas("knows", "edge").sort_values(["src", "dst"]).to_dict("list"),
            [f.out_nbrs.tolist() for f in g.fragments])


def test_all_errors_share_one_base():
    for cls in (DuplicateVertexError, LoadError, PersistenceError, SchemaError,
                UnknownVertexError):
        assert issubclass(cls, GraphEngineError)


def test_malformed_csv_names_file_and_line(g, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("id,age\n4,40\n5,50\n6,60,600\n7,70\n")
    before = snapshot(g)
    with pytest.raises(LoadError, match=r"bad\.csv:4: expected 2 columns, got 3"):
        g.add_vertices(str(path), label="person")
    assert snapshot(g) == before


def test_bad_value_in_typed_csv_column_names_line_and_column(tmp_path):
    path = tmp_path / "typed.csv"
    path.write_text("id|age\n1|10\n2|x\n")
    loader = Loader(path, delimiter="|", column_types={"age": "int64"})
    with graphengine.session() as sess, pytest.raises(LoadError, match=r"typed\.csv:3: column 'age'"):
        sess.g().add_vertices(loader)


def test_missing_file_and_missing_column(g, tmp_path):
    with pytest.raises(LoadError, match="no such file"):
        g.add_vertices(str(tmp_path / "nope.csv"))
    with pytest.raises(LoadError, match="vid_field='pid' is not a column"):
        g.add_vertices({"id": [9]}, label="person", vid_field="pid")


def test_edge_to_unknown_vertex_is_an_error_unless_asked(g):
    before = snapshot(g)
    with pytest.raises(UnknownVertexError, match=r"row 1: dst id 99 is not a vertex of label 'person'"):
        g.add_edges({"s": [1, 3], "d": [3, 99], "w": [1.0, 1.0]}, label="knows")
    assert snapshot(g) == before
    g2 = g.add_edges({"s": [1, 3], "d": [3, 99], "w": [1.0, 1.0]}, label="knows",
                     create_missing_vertices=True)
    assert sorted(g2.to_pandas("person").id) == [1, 2, 3, 99]
    assert pd.isna(g2.to_pandas("person").set_index("id").loc[99, "age"])
    assert g2.edge_count == 4
    assert snapshot(g) == before


def test_duplicate_vertex_ids(g):
    before = snapshot(g)
    with pytest.raises(DuplicateVertexError, match="duplicate id 7"):
        g.add_vertices({"id": [7, 8, 7], "age": [1, 2, 3]}, label="person")
    with pytest.raises(DuplicateVertexError, match="id 2 is already in the graph"):
        g.add_vertices({"id": [8, 2], "age": [1, 2]}, label="person")
    with pytest.raises(DuplicateVertexError, match="duplicate id 'a'"):
        g.add_vertices({"id": ["a", "b", "a"]}, label="other")
    assert snapshot(g) == before


def test_wrong_types(g):
    before = snapshot(g)
    with pytest.raises(SchemaError, match="vertex ids must be int64 or string, got double"):
        g.add_vertices({"id": [1.5, 2.5]}, label="floaty")
    with pytest.raises(SchemaError, match="column 'age' has type string"):
        g.add_vertices({"id": [5], "age": ["old"]}, label="person")
    with pytest.raises(SchemaError, match="vertex ids of this label are int64"):
        g.add_edges({"s": ["a"], "d": ["b"], "w": [1.0]}, label="knows")
    with pytest.raises(SchemaError, match="cannot be read as int64"):
        g.add_vertices({"id": [5], "age": ["x"]}, label="p2", properties=[("age", "int64")])
    with pytest.raises(SchemaError, match="unknown vertex label 'robot'"):
        g.vertex_table("robot")
    assert snapshot(g) == before


def test_columns_must_match_label_schema(g):
    with pytest.raises(SchemaError, match="do not match the label's columns"):
        g.add_vertices({"id": [5], "height": [1.8]}, label="person")


def test_null_ids_and_bad_numpy_shape():
    with graphengine.session() as sess:
        with pytest.raises(SchemaError, match="null"):
            sess.g().add_vertices({"id": [1, None]})
        with pytest.raises(LoadError, match="1-D or 2-D"):
            sess.g().add_vertices(np.zeros((2, 2, 2)))


def test_bad_partitioner():
    with pytest.raises(SchemaError, match="partitioner must be one of .*'random'"):
        graphengine.session(partitioner="random").g()


def test_load_graph_errors(tmp_path):
    with pytest.raises(PersistenceError, match="manifest.json missing"):
        graphengine.load_graph(tmp_path / "nothing")
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "manifest.json").write_text("{not json")
    with pytest.raises(PersistenceError, match="unreadable manifest"):
        graphengine.load_graph(tmp_path / "broken")


def test_large_loads_show_progress(capsys, monkeypatch):
    from graphengine.store import progress

    monkeypatch.setattr(progress, "THRESHOLD", 10)
    with graphengine.session(num_fragments=2) as sess:
        sess.g().add_vertices({"id": np.arange(50)}).add_edges({"s": np.arange(49), "d": np.arange(1, 50)})
    err = capsys.readouterr().err
    assert "vertices _" in err and "edges _e" in err and "rows" in err


def test_edge_load_progress_moves_before_the_end(monkeypatch):
    """The bar of a new edge label advances at each stage, not only when the load is done."""
    from graphengine.store import progress

    monkeypatch.setattr(progress, "THRESHOLD", 10)
    steps = []
    original = progress.Progress.update

    def update(self, n):
        steps.append(n)
        original(self, n)

    monkeypatch.setattr(progress.Progress, "update", update)
    with graphengine.session(num_fragments=2) as sess:
        sess.g().add_edges({"s": np.arange(1000), "d": np.arange(1, 1001)})
    assert [n for n in steps if n][-2:] == [500, 250]  # after the CSR, after the CSC
