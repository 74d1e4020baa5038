"""Vertex columns as tensors: zero copy where Arrow's layout allows, stacked copies otherwise."""

import numpy as np
import pyarrow as pa
import pytest
import torch

import graphengine as ge
from graphengine import datasets
from graphengine.errors import GraphEngineError, SchemaError, UnknownVertexError
from graphengine.gnn import (
    NodeFeatures,
    RowMap,
    column_tensor,
    feature_tensor,
    masks,
    to_pyg,
)


def _address(array: pa.Array) -> int:
    return array.buffers()[1].address + array.offset * array.type.bit_width // 8


@pytest.fixture(scope="module")
def sbm():
    with ge.session() as sess:
        yield datasets.sbm(sess, [30, 30, 30], 0.2, 0.02, num_features=6, seed=3)


def test_feature_column_is_a_view_of_the_arrow_buffer(sbm):
    feat = sbm.vertex_table("_").column("feat").chunk(0)
    x = column_tensor(sbm, "feat")
    assert x.shape == (90, 6) and x.dtype == torch.float32
    assert x.data_ptr() == _address(feat.flatten())
    assert np.array_equal(x.numpy(), datasets.feature_matrix(feat))
    y = column_tensor(sbm, "label")
    assert y.data_ptr() == _address(sbm.vertex_table("_").column("label").chunk(0))
    assert feature_tensor(sbm, "feat").data_ptr() == x.data_ptr()  # one float32 column: a view


def test_scalar_columns_stack_into_a_copy(sbm):
    pr = np.linspace(0, 1, 90)
    core = np.arange(90) % 4
    g = sbm.add_column({"pagerank": pr, "core": core})
    x = feature_tensor(g, ["pagerank", "core"])
    assert x.shape == (90, 2) and x.dtype == torch.float32
    assert np.allclose(x[:, 0].numpy(), pr) and np.array_equal(x[:, 1].numpy(), core)
    both = feature_tensor(g, ["feat", "pagerank"], standardize=True)
    assert both.shape == (90, 7)
    assert torch.allclose(both.mean(0), torch.zeros(7), atol=1e-5)
    assert torch.allclose(both.std(0, unbiased=False), torch.ones(7), atol=1e-4)


def test_masks_labels_and_nulls(sbm):
    train = np.arange(90) < 10
    g = sbm.add_column({"train_mask": train})
    assert torch.equal(masks(g, ["train_mask"])["train_mask"], torch.from_numpy(train))
    nf = NodeFeatures.of(g, columns=["train_mask"])
    assert nf.y.dtype == torch.long and set(nf.tensors()) == {"x", "y", "train_mask"}


def test_several_fragments_copy_but_keep_row_order():
    with ge.session(num_fragments=3) as sess:
        g = datasets.sbm(sess, [20, 20], 0.3, 0.05, num_features=4, seed=5)
    x = column_tensor(g, "feat")
    table = g.vertex_table("_")
    assert np.array_equal(x.numpy(), datasets.feature_matrix(table.column("feat")))
    rows = RowMap.of(g, "_")
    gids = g.vertex_gids("_")
    assert torch.equal(rows.rows(torch.from_numpy(gids[::-1].copy())),
                       torch.arange(len(gids) - 1, -1, -1))


def test_gaps_in_the_id_space_map_through_searchsorted():
    with ge.session() as sess:
        g = sess.g(directed=True)
        g = g.add_vertices(pa.table({"id": [0, 1, 2], "f": [1.0, 2.0, 3.0]}), label="a")
        g = g.add_vertices(pa.table({"id": [7, 8], "f": [4.0, 5.0]}), label="b")
        g = g.add_vertices(pa.table({"id": [3], "f": [6.0]}), label="a")
    rows = RowMap.of(g, "a")
    assert rows.start == -1  # label a's gids are 0, 1, 2, 5
    assert rows.rows(torch.tensor([5, 0])).tolist() == [3, 0]
    with pytest.raises(UnknownVertexError, match="not vertices of label 'a'"):
        rows.rows(torch.tensor([3]))
    assert column_tensor(g, "f", "a").tolist() == [1.0, 2.0, 3.0, 6.0]


def test_unknown_label_or_column_is_a_schema_error(sbm):
    with pytest.raises(SchemaError, match="no property 'nope'"):
        column_tensor(sbm, "nope")
    with pytest.raises(SchemaError, match="unknown vertex label 'person'"):
        column_tensor(sbm, "feat", "person")
    with pytest.raises(GraphEngineError, match="no property 'missing'"):
        to_pyg(sbm, features="missing")
    with pytest.raises(SchemaError, match="no property 'nolabel'"):
        to_pyg(sbm, labels="nolabel")
