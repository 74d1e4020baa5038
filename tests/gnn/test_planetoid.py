"""Cora with the papers' settings (skipped when ../shared/planetoid is absent).

The 10-seed figures (GCN and GAT on Cora, GCN on CiteSeer, GraphSAGE) are bench/gnn.py's, in
BENCHMARKS.md; these tests keep to what fits the suite's time: GCN over 3 seeds and one
GraphSAGE run through graphengine.gnn.NeighborLoader.
"""

import statistics

import pytest

import graphengine as ge
from graphengine import datasets
from graphengine.gnn import PAPER_SETTINGS, train_node_classifier

MASKS = ("train_mask", "val_mask", "test_mask")


@pytest.fixture(scope="module")
def cora(planetoid):
    with ge.session() as sess:
        yield datasets.load_planetoid(sess, planetoid / "cora", normalize_features=True)


def test_gcn_full_batch_reaches_the_published_accuracy(cora):
    accs = [train_node_classifier(cora, masks=MASKS, seed=seed, progress=False,
                                  **PAPER_SETTINGS["gcn"])[1].test_at_best for seed in range(3)]
    assert statistics.mean(accs) >= 0.805, accs


def test_graphsage_through_the_neighbor_loader(cora):
    _, history = train_node_classifier(cora, masks=MASKS, seed=0, progress=False,
                                       **PAPER_SETTINGS["sage"])
    assert history.test_at_best >= 0.79, history.best
