"""PyG integration: GraphSampler behind PyG's NodeLoader / LinkLoader, link + negative
sampling with PyG's metadata."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from sampling_graphs import hetero_graph
from torch_geometric.data import Data, HeteroData
from torch_geometric.loader import LinkLoader, NodeLoader
from torch_geometric.nn import SAGEConv
from torch_geometric.sampler import NegativeSampling

from graphengine.errors import SamplingError
from graphengine.sampling import GraphSampler, sample_links


@pytest.fixture(scope="module")
def data(er):
    torch.manual_seed(0)
    n = er.g.id_space
    edge_index = torch.from_numpy(np.stack([er.src, er.dst]))  # PyG's filter rewrites it
    return Data(x=torch.randn(n, 8), y=torch.randint(0, 3, (n,)), edge_index=edge_index,
                num_nodes=n)


def test_node_loader_runs_with_graph_sampler(er, data):
    seeds = torch.arange(0, 300, 2)
    loader = NodeLoader(data, node_sampler=GraphSampler(er.g, [5, 3], seed=0),
                        input_nodes=seeds, batch_size=32)
    model = SAGEConv(8, 3)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    seen = []
    for batch in loader:
        assert torch.equal(batch.n_id[:batch.batch_size], batch.input_id * 2)
        assert torch.equal(batch.x, data.x[batch.n_id])
        assert torch.equal(batch.y, data.y[batch.n_id])
        assert batch.e_id.numel() == batch.edge_index.size(1)
        assert batch.num_sampled_nodes[0] == batch.batch_size
        er.check_edges(type("Out", (), {"node": batch.n_id, "row": batch.edge_index[0],
                                        "col": batch.edge_index[1], "edge": batch.e_id}))
        loss = torch.nn.functional.cross_entropy(
            model(batch.x, batch.edge_index)[:batch.batch_size], batch.y[:batch.batch_size])
        opt.zero_grad()
        loss.backward()
        opt.step()
        seen.append(batch.n_id[:batch.batch_size])
    assert torch.equal(torch.cat(seen), seeds)


def test_loader_reproducible_under_torch_seed(er, data):
    def run():
        torch.manual_seed(42)
        loader = NodeLoader(data, node_sampler=GraphSampler(er.g, [4, 2]),
                            input_nodes=torch.arange(100), batch_size=25, shuffle=True)
        return [b.n_id for b in loader]

    for a, b in zip(run(), run()):
        assert torch.equal(a, b)


def test_hetero_node_loader():
    g, _ = hetero_graph()
    data = HeteroData()
    data["user"].x = torch.randn(40, 4)
    data["item"].x = torch.randn(25, 4)
    for et in GraphSampler(g, [1]).edge_types:
        data[et].edge_index = torch.zeros(2, 0, dtype=torch.long)  # PyG's filter rewrites it
    loader = NodeLoader(data, node_sampler=GraphSampler(g, [3, 2], seed=1),
                        input_nodes=("user", torch.arange(40)), batch_size=16)
    batches = list(loader)
    assert len(batches) == 3
    for b in batches:
        assert torch.equal(b["user"].x, data["user"].x[b["user"].n_id])
        assert b["user"].batch_size == len(b["user"].input_id)
        for et in b.edge_types:
            ei = b[et].edge_index
            assert ei.size(1) == 0 or ei[0].max() < b[et[0]].num_nodes


@pytest.mark.parametrize("amount", [1, 2.5])
def test_link_loader_binary(er, data, amount):
    pos = torch.from_numpy(np.stack([er.src[:64], er.dst[:64]]))
    loader = LinkLoader(data, link_sampler=GraphSampler(er.g, [3, 2], seed=0),
                        edge_label_index=pos, neg_sampling=NegativeSampling("binary", amount),
                        batch_size=16)
    for i, b in enumerate(loader):
        npos = 16
        nneg = math.ceil(npos * amount)
        assert b.edge_label_index.shape == (2, npos + nneg)
        assert torch.equal(b.edge_label, torch.cat([torch.ones(npos), torch.zeros(nneg)]))
        assert torch.equal(b.n_id[b.edge_label_index[:, :npos]], pos[:, 16 * i:16 * (i + 1)])


def test_sample_links_metadata_matches_pyg(er):
    pos = np.stack([er.src[:10], er.dst[:10]])
    out = sample_links(er.g, pos, [3], neg_sampling="binary", seed=1)
    input_id, eli, label, time = out.metadata
    assert torch.equal(input_id, torch.arange(10)) and time is None
    assert eli.shape == (2, 20) and torch.equal(out.node[eli[:, :10]], torch.from_numpy(pos))
    assert torch.equal(label, torch.cat([torch.ones(10), torch.zeros(10)]))
    seeds = torch.unique(out.node[eli].reshape(-1))
    assert torch.equal(out.node[:len(seeds)], seeds)  # PyG's unique (sorted) seeds first
    again = sample_links(er.g, pos, [3], neg_sampling="binary", seed=1)
    assert torch.equal(out.node, again.node) and torch.equal(out.metadata[1], again.metadata[1])

    trip = sample_links(er.g, pos, [3], neg_sampling=NegativeSampling("triplet", 3), seed=1)
    _, src_index, dst_pos_index, dst_neg_index, _ = trip.metadata
    assert src_index.shape == (10,) and dst_pos_index.shape == (10,)
    assert dst_neg_index.shape == (10, 3)
    assert torch.equal(trip.node[src_index], torch.from_numpy(pos[0]))
    assert torch.equal(trip.node[dst_pos_index], torch.from_numpy(pos[1]))
    one = sample_links(er.g, pos, [3], neg_sampling="triplet", seed=1)
    assert one.metadata[3].shape == (10,)

    plain = sample_links(er.g, pos, [3], edge_label=torch.arange(10), seed=1)
    assert plain.metadata[1].shape == (2, 10) and torch.equal(plain.metadata[2], torch.arange(10))


def test_hetero_links():
    g, tables = hetero_graph()
    et = ("user", "buys", "item")
    pos = np.stack([tables["buys"]["src"][:8] - 100, tables["buys"]["dst"][:8] - 500])
    out = sample_links(g, pos, [2, 2], input_type=et, neg_sampling="triplet", seed=0)
    _, src_index, dst_pos_index, dst_neg_index, _ = out.metadata
    assert torch.equal(out.node["user"][src_index], torch.from_numpy(pos[0]))
    assert torch.equal(out.node["item"][dst_pos_index], torch.from_numpy(pos[1]))
    assert dst_neg_index.shape == (8,) and int(out.node["item"][dst_neg_index].max()) < 25


def test_negatives_skip_unused_ids():
    """After ``project`` drops a label, its global ids are unused: negatives avoid them."""
    g, _ = hetero_graph()
    g = g.project(vertices={"item": None}, edges={})
    assert g.vertex_count < g.id_space
    items = g.vertex_gids("item")
    out = sample_links(g, np.stack([items[:5], items[5:10]]), [2],
                       neg_sampling=NegativeSampling("binary", 20), seed=0)
    assert np.isin(out.node.numpy(), items).all()


def test_link_bad_input(er):
    with pytest.raises(SamplingError, match="shape"):
        sample_links(er.g, [1, 2, 3], [2])
    with pytest.raises(SamplingError, match="300"):
        sample_links(er.g, [[0, 1], [2, 300]], [2])


def test_graph_sampler_checks_fanouts_up_front(er):
    with pytest.raises(SamplingError, match=">= -1"):
        GraphSampler(er.g, [3, -2])
    with pytest.raises(SamplingError, match="missing"):
        GraphSampler(hetero_graph()[0], {"follows": [2]})
