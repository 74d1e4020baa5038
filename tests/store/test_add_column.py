"""add_column with the values a new user has at hand: numpy arrays, lists, pandas Series."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import graphengine
from graphengine.datasets import load_modern_graph
from graphengine.errors import SchemaError, UnknownVertexError


@pytest.fixture
def modern():
    return load_modern_graph(graphengine.session(num_fragments=2))


def test_array_aligned_with_a_label(modern):
    people = modern.to_pandas("person")
    g = modern.add_column(people.age.to_numpy() * 2, "double_age", label="person")
    got = g.to_pandas("person")
    assert (got.double_age == got.age * 2).all()
    assert "double_age" not in g.schema.vertex_label("software").properties


def test_array_over_all_vertices(modern):
    g = modern.add_column(np.arange(modern.vertex_count, dtype=np.int64), "pos")
    ids = g.vertex_ids(g.all_gids())
    both = pd.concat([g.to_pandas("person"), g.to_pandas("software")]).set_index("id")
    assert [both.loc[i, "pos"] for i in ids] == list(range(6))


def test_series_indexed_by_user_id(modern):
    s = pd.Series({4: 0.5, 1: 0.25})
    g = modern.add_column(s, "score", label="person")
    got = g.to_pandas("person").set_index("id").score
    assert got[4] == 0.5 and got[1] == 0.25 and got[[2, 6]].isna().all()


def test_clear_errors(modern):
    with pytest.raises(SchemaError, match="shape"):
        modern.add_column(np.zeros(3), "x", label="person")
    with pytest.raises(SchemaError, match="name"):
        modern.add_column(np.zeros(4), label="person")
    with pytest.raises(UnknownVertexError, match="99"):
        modern.add_column(pd.Series({99: 1.0}), "x", label="person")
    with pytest.raises(SchemaError, match="array / Series"):
        modern.add_column(3.0, "x")
