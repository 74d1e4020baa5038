"""Loaders: PyG's NodeLoader over to_pyg(g) and graphengine's NeighborLoader agree; PyG's
conventions hold; bad input fails with graphengine errors."""

import numpy as np
import pyarrow as pa
import pytest
import torch
import torch.nn.functional as F
from torch_geometric.data import EdgeAttr
from torch_geometric.data.graph_store import EdgeLayout
from torch_geometric.loader import LinkLoader, NodeLoader
from torch_geometric.nn import GraphSAGE

import graphengine as ge
from graphengine import datasets
from graphengine.errors import SamplingError, SchemaError
from graphengine.gnn import (
    LinkNeighborLoader,
    NeighborLoader,
    Prefetcher,
    edge_coo,
    to_pyg,
)
from graphengine.gnn.loader import supervision_edges
from graphengine.sampling import GraphSampler


@pytest.fixture(scope="module")
def sbm():
    with ge.session() as sess:
        yield datasets.sbm(sess, [60, 60, 60], 0.1, 0.01, num_features=8, seed=2)


def _fixed(matrix: np.ndarray) -> pa.Array:
    return pa.FixedSizeListArray.from_arrays(pa.array(matrix.reshape(-1)), matrix.shape[1])


def _edges(g) -> set[tuple[int, int]]:
    src, dst, _ = edge_coo(g, "_e", "in")
    return set(zip(src.tolist(), dst.tolist()))


def test_pyg_node_loader_over_to_pyg_yields_the_same_batches(sbm):
    seeds = torch.arange(0, 180, 2)
    pyg = NodeLoader(to_pyg(sbm), GraphSampler(sbm, [5, 3], seed=11), input_nodes=seeds,
                     batch_size=16)
    ours = NeighborLoader(sbm, [5, 3], input_nodes=seeds, batch_size=16, seed=11)
    a, b = list(pyg), list(ours)
    assert len(a) == len(b) == len(ours) == 6
    for x, y in zip(a, b):
        for key in ("n_id", "e_id", "edge_index", "x", "y", "input_id"):
            assert torch.equal(x[key], y[key]), key
        assert x.batch_size == y.batch_size


def test_batches_follow_pyg_conventions(sbm):
    seeds = torch.tensor([5, 70, 130, 17, 3])
    batch = next(iter(NeighborLoader(sbm, [4, 2], input_nodes=seeds, batch_size=5, seed=0)))
    assert batch.batch_size == 5 and torch.equal(batch.n_id[:5], seeds)  # seeds first
    feat = torch.tensor(datasets.feature_matrix(sbm.vertex_table("_").column("feat")))
    assert torch.equal(batch.x, feat[batch.n_id])
    assert torch.equal(batch.y, torch.from_numpy(sbm.vertex_property("label"))[batch.n_id])
    edges = _edges(sbm)
    src, dst = batch.n_id[batch.edge_index[0]], batch.n_id[batch.edge_index[1]]
    assert all((s, d) in edges for s, d in zip(src.tolist(), dst.tolist()))
    assert batch.num_sampled_nodes[0] == 5
    assert int(batch.edge_index.max()) < batch.num_nodes


def test_input_nodes_as_mask_column_and_shuffle_reproducible(sbm):
    g = sbm.add_column({"train_mask": np.arange(180) % 3 == 0})
    first = [b.n_id[:b.batch_size] for b in NeighborLoader(g, [3], input_nodes="train_mask",
                                                             batch_size=20, shuffle=True, seed=4)]
    again = [b.n_id[:b.batch_size] for b in NeighborLoader(g, [3], input_nodes="train_mask",
                                                             batch_size=20, shuffle=True, seed=4)]
    assert all(torch.equal(a, b) for a, b in zip(first, again))
    seen = torch.cat(first).sort().values
    assert torch.equal(seen, torch.arange(0, 180, 3))
    assert not torch.equal(torch.cat(first), seen)  # shuffled


def test_a_pyg_model_trains_on_the_batches(sbm):
    torch.manual_seed(0)
    model = GraphSAGE(8, 16, 2, 3)
    opt = torch.optim.Adam(model.parameters(), lr=0.02)
    loader = NeighborLoader(sbm, [5, 5], batch_size=30, shuffle=True, seed=1)
    losses = []
    for _ in range(8):
        total = 0.0
        for batch in loader:
            opt.zero_grad()
            out = model(batch.x, batch.edge_index)[:batch.batch_size]
            loss = F.cross_entropy(out, batch.y[:batch.batch_size])
            loss.backward()
            opt.step()
            total += float(loss.detach())
        losses.append(total / len(loader))
    assert losses[-1] < 0.7 * losses[0]


def test_graph_store_csc_holds_every_edge(sbm):
    _, gs = to_pyg(sbm)
    (attr,) = gs.get_all_edge_attrs()
    assert attr.edge_type is None and attr.layout == EdgeLayout.CSC
    row, colptr = gs[attr]
    col = torch.repeat_interleave(torch.arange(len(colptr) - 1), colptr.diff())
    assert set(zip(row.tolist(), col.tolist())) == _edges(sbm)
    coo_row, coo_col = gs.get_edge_index(EdgeAttr(None, "coo", size=attr.size))
    assert set(zip(coo_row.tolist(), coo_col.tolist())) == _edges(sbm)
    with pytest.raises(SchemaError, match="read-only"):
        gs.put_edge_index((row, col), EdgeAttr(None, "coo"))


def test_feature_store_put_get_remove(sbm):
    fs, _ = to_pyg(sbm)
    assert {a.attr_name for a in fs.get_all_tensor_attrs()} == {"x", "y"}
    emb = torch.randn(180, 4)
    fs.put_tensor(emb, group_name=None, attr_name="emb", index=None)
    assert torch.equal(fs.get_tensor(None, "emb", torch.tensor([3, 1])), emb[[3, 1]])
    assert fs.get_tensor_size(None, "x") == (180, 8)
    assert fs.remove_tensor(None, "emb", None)


def test_link_loader_batches(sbm):
    loader = LinkNeighborLoader(sbm, [4, 2], neg_sampling="binary", batch_size=32, seed=3,
                                shuffle=True)
    batch = next(iter(loader))
    assert batch.edge_label_index.shape == (2, 64)
    assert batch.edge_label.tolist() == [1.0] * 32 + [0.0] * 32
    edges = _edges(sbm)
    pos = batch.n_id[batch.edge_label_index[:, :32]]
    assert all((int(s), int(d)) in edges for s, d in pos.t())
    torch.manual_seed(0)
    pyg = LinkLoader(to_pyg(sbm), GraphSampler(sbm, [4, 2], seed=3),
                     edge_label_index=(None, supervision_edges(sbm)), neg_sampling="triplet",
                     batch_size=16)
    triplet = next(iter(pyg))
    assert triplet.src_index.shape == triplet.dst_pos_index.shape == (16,)
    assert triplet.x.shape == (triplet.num_nodes, 8)


def test_prefetcher_raises_the_producer_error_and_stops_early():
    def batches():
        yield from range(3)
        raise ValueError("boom")

    class Item(int):
        def pin_memory(self):
            return self

    with pytest.raises(ValueError, match="boom"):
        list(Prefetcher((Item(i) for i in batches()), torch.device("cpu")))
    it = iter(Prefetcher(map(Item, range(1000)), torch.device("cpu"), depth=2))
    assert next(it) == 0
    it.close()  # the thread stops instead of filling the queue forever


def test_bad_input_raises_graphengine_errors(sbm):
    with pytest.raises(SchemaError, match="no property 'nope'"):
        NeighborLoader(sbm, [2], features="nope")
    with pytest.raises(SchemaError, match="no property 'nolabel'"):
        NeighborLoader(sbm, [2], labels="nolabel")
    with pytest.raises(SchemaError, match="unknown vertex label 'user'"):
        NeighborLoader(sbm, [2], label="user")
    with pytest.raises(SchemaError, match="no property 'train_mask'"):
        NeighborLoader(sbm, [2], input_nodes="train_mask")
    with pytest.raises(SamplingError, match=r"global ids \[180\]"):
        NeighborLoader(sbm, [2], input_nodes=[0, 180])
    with pytest.raises(SamplingError, match=r"global ids \[-1\]"):
        NeighborLoader(sbm, [2], input_nodes=torch.tensor([-1]))
    with pytest.raises(SamplingError, match="fanout"):
        NeighborLoader(sbm, [])
    with pytest.raises(SamplingError, match="fanout"):
        NeighborLoader(sbm, [5, -2])
    with pytest.raises(SamplingError, match="edge_label_index"):
        LinkNeighborLoader(sbm, [2], edge_label_index=torch.tensor([[0], [500]]))
    with pytest.raises(SchemaError, match=r"shape \(2, m\)"):
        LinkNeighborLoader(sbm, [2], edge_label_index=torch.tensor([0, 1, 2]))
    with pytest.raises(SchemaError, match="mask has 3 entries"):
        NeighborLoader(sbm, [2], input_nodes=torch.tensor([True, False, True]))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_cuda_batches_arrive_on_the_device(sbm):
    loader = NeighborLoader(sbm, [5, 3], batch_size=32, seed=0)
    assert loader.device.type == "cuda"
    for batch in loader:
        assert batch.x.is_cuda and batch.edge_index.is_cuda and batch.y.is_cuda
    model = GraphSAGE(8, 16, 2, 3).cuda()
    out = model(batch.x, batch.edge_index)
    assert out.is_cuda
    from graphengine.gnn import predict, train_node_classifier

    model, history = train_node_classifier(sbm, epochs=3, num_neighbors=[5, 5], progress=False)
    assert history.device.startswith("cuda") and next(model.parameters()).is_cuda
    assert predict(sbm, model).vertex_property("pred").shape == (180,)


def test_several_labels_give_hetero_batches():
    rng = np.random.default_rng(0)
    user_x = rng.random((10, 3), dtype=np.float32)
    item_x = rng.random((6, 5), dtype=np.float32)
    with ge.session() as sess:
        g = sess.g(directed=True)
        g = g.add_vertices(pa.table({"id": np.arange(10), "feat": _fixed(user_x),
                                     "label": np.arange(10) % 2}), label="user")
        g = g.add_vertices(pa.table({"id": np.arange(100, 106), "feat": _fixed(item_x)}),
                           label="item")
        g = g.add_edges(pa.table({"src": [0, 1, 2, 3, 4, 5], "dst": [100, 101, 102, 100, 104, 105]}),
                        label="buys", src_label="user", dst_label="item")
        g = g.add_edges(pa.table({"src": [0, 1, 2, 3], "dst": [1, 2, 3, 0]}), label="follows",
                        src_label="user", dst_label="user")
    _, gs = to_pyg(g)
    assert {a.edge_type for a in gs.get_all_edge_attrs()} == {
        ("user", "buys", "item"), ("user", "follows", "user")}
    (batch,) = list(NeighborLoader(g, [3, 2], label="user", input_nodes=[0, 1, 2, 5],
                                   batch_size=4, seed=0, direction="out"))
    assert batch["user"].batch_size == 4 and batch["user"].n_id[:4].tolist() == [0, 1, 2, 5]
    assert torch.equal(batch["user"].x, torch.from_numpy(user_x)[batch["user"].n_id])
    assert torch.equal(batch["item"].x, torch.from_numpy(item_x)[batch["item"].n_id])
    assert batch["user"].y.tolist() == (batch["user"].n_id % 2).tolist()
    s, d = batch["user", "buys", "item"].edge_index
    bought = {(u, i - 100) for u, i in zip([0, 1, 2, 3, 4, 5], [100, 101, 102, 100, 104, 105])}
    pairs = zip(batch["user"].n_id[s].tolist(), batch["item"].n_id[d].tolist())
    assert set(pairs) <= bought
    with pytest.raises(SchemaError, match="vertex labels"):
        NeighborLoader(g, [2])  # which label the seeds are: name it
