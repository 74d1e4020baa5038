"""Heterogeneous neighbor sampling: per edge type fanouts, PyG's keys, label filtering."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sampling_graphs import hetero_graph

from graphengine.errors import SamplingError, SchemaError
from graphengine.sampling import edge_types, sample_neighbors


@pytest.fixture(scope="module")
def hetero():
    return hetero_graph()


def user_ids(g, label, index):
    return g.vertex_table(label).column("id").to_numpy()[index]


def check(g, tables, out, direction, fanouts, directed=True):
    for et in out.row:
        s, label, d = et
        src = user_ids(g, s, out.node[s].numpy()[out.row[et].numpy()])
        dst = user_ids(g, d, out.node[d].numpy()[out.col[et].numpy()])
        key = g.edge_property("key", label)[out.edge[et].numpy()]
        ok = (tables[label]["src"][key] == src) & (tables[label]["dst"][key] == dst)
        if not directed:
            ok |= (tables[label]["src"][key] == dst) & (tables[label]["dst"][key] == src)
        assert ok.all(), et
        picker = (out.col[et] if direction == "in" else out.row[et]).numpy()
        if len(picker) and min(fanouts[et]) >= 0:
            assert np.bincount(picker).max() <= max(fanouts[et])
        assert len(out.num_sampled_edges[et]) == len(fanouts[et])
        assert sum(out.num_sampled_edges[et]) == len(out.edge[et])
    for t, node in out.node.items():
        assert len(np.unique(node.numpy())) == len(node)
        assert sum(out.num_sampled_nodes[t]) == len(node)


@pytest.mark.parametrize("direction", ["in", "out"])
def test_hetero_sample_valid(hetero, direction):
    g, tables = hetero
    types = edge_types(g, g.edge_labels)
    assert types == [("user", "follows", "user"), ("user", "buys", "item"),
                     ("user", "links", "item"), ("item", "links", "item")]
    fanouts = {et: [3, 2] for et in types}
    seeds = {"user": [0, 5, 7], "item": [1, 2]}
    out = sample_neighbors(g, seeds, fanouts, direction=direction, seed=3)
    assert set(out.node) == {"user", "item"} and set(out.row) == set(types)
    assert out.node["user"][:3].tolist() == [0, 5, 7]
    assert out.node["item"][:2].tolist() == [1, 2]
    assert out.num_sampled_nodes["user"][0] == 3
    check(g, tables, out, direction, fanouts)


def test_mixed_relation_rows_are_filtered(hetero):
    """Items' in-rows of ``links`` hold users and items: each edge type keeps its own."""
    g, tables = hetero
    out = sample_neighbors(g, {"item": np.arange(25)}, [-1], edge_labels=["links"], seed=0)
    # every in-edge of every item, split by source label
    for et, src_label in ((("user", "links", "item"), "user"), (("item", "links", "item"), "item")):
        n = (tables["links"]["src"] >= 500) == (src_label == "item")
        assert len(out.edge[et]) == n.sum()
    check(g, tables, out, "in", {et: [-1] for et in out.row})


def test_hetero_fanout_dict_forms(hetero):
    g, _ = hetero
    a = sample_neighbors(g, {"user": [1]}, {"follows": [2, 1], "buys": [1, 1], "links": [0, 0]},
                         seed=1)
    assert len(a.edge[("user", "links", "item")]) == 0
    b = sample_neighbors(g, {"user": [1]}, {"user__follows__user": [2, 1],
                                            ("user", "buys", "item"): [1, 1],
                                            "links": [0, 0]}, seed=1)
    for et in a.edge:
        assert torch.equal(a.edge[et], b.edge[et])


def test_hetero_weighted_and_reproducible(hetero):
    g, tables = hetero
    a = sample_neighbors(g, {"user": np.arange(40)}, [2, 2], weight="w", seed=5)
    b = sample_neighbors(g, {"user": np.arange(40)}, [2, 2], weight="w", seed=5)
    for et in a.edge:
        assert torch.equal(a.edge[et], b.edge[et])
    check(g, tables, a, "in", {et: [2, 2] for et in a.row})


@pytest.mark.parametrize("direction", ["in", "out"])
def test_hetero_fragments(direction):
    """Three fragments: valid samples; along out-edges the same sample (by user id) as one
    fragment. Per-label indices follow gid order, which the partitioning changes."""
    one, tables = hetero_graph()
    three, _ = hetero_graph(num_fragments=3)
    uids = {"user": [100, 105, 107], "item": [501, 502]}

    def index(g, label, ids):
        return np.searchsorted(g.vertex_gids(label), g.gids(label, ids))

    a = sample_neighbors(one, {t: index(one, t, v) for t, v in uids.items()}, [3, 2],
                         direction=direction, seed=4)
    b = sample_neighbors(three, {t: index(three, t, v) for t, v in uids.items()}, [3, 2],
                         direction=direction, seed=4)
    check(three, tables, b, direction, {et: [3, 2] for et in b.row})
    if direction == "out":
        for t in a.node:
            ids_one = user_ids(one, t, a.node[t].numpy())
            assert (ids_one == user_ids(three, t, b.node[t].numpy())).all()
        for et in a.row:
            assert torch.equal(a.row[et], b.row[et]) and torch.equal(a.col[et], b.col[et])


def test_undirected_hetero_both_orientations():
    g, tables = hetero_graph(directed=False)
    types = edge_types(g, g.edge_labels)
    assert ("item", "buys", "user") in types and ("user", "buys", "item") in types
    out = sample_neighbors(g, {"user": [0, 1, 2]}, [4, 4], seed=2)
    check(g, tables, out, "in", {et: [4, 4] for et in types}, directed=False)
    assert len(out.edge[("item", "buys", "user")]) > 0


def test_modern_graph_hetero():
    import graphengine
    from graphengine.datasets import load_modern_graph
    with graphengine.session() as sess:
        g = load_modern_graph(sess)
    # marko (person 0) created lop (software 0); josh (person 2) created both
    out = sample_neighbors(g, {"software": [0, 1]}, [-1], seed=0)
    et = ("person", "created", "software")
    pairs = sorted(zip(out.node["person"][out.row[et]].tolist(),
                       out.node["software"][out.col[et]].tolist()))
    assert pairs == [(0, 0), (2, 0), (2, 1), (3, 0)]


def test_hetero_bad_input(hetero):
    g, _ = hetero
    with pytest.raises(SamplingError, match="one length"):
        sample_neighbors(g, {"user": [0]}, {"follows": [2, 1], "buys": [1], "links": [1]})
    with pytest.raises(SamplingError, match="missing"):
        sample_neighbors(g, {"user": [0]}, {"follows": [2]})
    with pytest.raises(SchemaError, match="nope"):
        sample_neighbors(g, {"user": [0]}, {("user", "nope", "user"): [2]})
    with pytest.raises(SchemaError, match="shop"):
        sample_neighbors(g, {"shop": [0]}, [2])
    with pytest.raises(SamplingError, match="40"):
        sample_neighbors(g, {"user": [40]}, [2])
    with pytest.raises(SchemaError, match="zz"):
        sample_neighbors(g, {"user": [0]}, [2], weight="zz")
