"""Training and inference: the GNN beats a features-only MLP on a block model; predictions
and embeddings go back into the graph; checkpoints, curves and early stopping."""

import numpy as np
import pytest
import torch
from torch_geometric.nn import MLP

import graphengine as ge
from graphengine import datasets
from graphengine.errors import SchemaError
from graphengine.gnn import (
    History,
    infer,
    make_model,
    predict,
    train_link_predictor,
    train_node_classifier,
)


@pytest.fixture(scope="module")
def sbm():
    # noisy features (class_sep 0.3), homophilous edges: neighbors carry the class signal
    with ge.session() as sess:
        yield datasets.sbm(sess, [150] * 4, 0.05, 0.005, num_features=8, class_sep=0.3, seed=1)


class FeaturesOnly(torch.nn.Module):
    def __init__(self, channels: list[int]):
        super().__init__()
        self.mlp = MLP(channels, dropout=0.5)

    def forward(self, x, edge_index):
        return self.mlp(x)


def test_sampled_graphsage_beats_a_features_only_mlp(sbm, tmp_path):
    _, sage = train_node_classifier(sbm, epochs=30, num_neighbors=[10, 5], batch_size=64,
                                    hidden_channels=32, progress=False,
                                    checkpoint=tmp_path / "best.pt", curve=tmp_path / "c.png")
    _, mlp = train_node_classifier(sbm, epochs=60, model=FeaturesOnly([8, 32, 4]),
                                   progress=False)
    assert sage.test_at_best > mlp.test_at_best + 0.15, (sage.test_at_best, mlp.test_at_best)
    assert sage.test_at_best > 0.8
    saved = torch.load(sage.checkpoint)
    assert saved["epoch"] == sage.best_epoch and saved["val"] == pytest.approx(sage.best_val)
    assert sage.curve.read_bytes()[:4] == b"\x89PNG"


def test_early_stopping_and_best_state(sbm):
    model, history = train_node_classifier(sbm, epochs=200, arch="gcn", patience=5, lr=0.05,
                                           progress=False)
    assert len(history.records) < 200
    assert history.records[-1].epoch - history.best_epoch == 5
    logits = infer(model, sbm)  # the restored best state reproduces the best val accuracy
    assert isinstance(history, History) and logits.shape == (600, 4)


def test_layerwise_inference_matches_full_batch(sbm):
    torch.manual_seed(0)
    model = make_model("sage", 8, 4, hidden_channels=16).eval()
    full = infer(model, sbm)
    layerwise = infer(model, sbm, batch_size=64)
    assert torch.allclose(full, layerwise, atol=1e-5)


def test_predict_writes_classes_and_embeddings_back(sbm):
    torch.manual_seed(0)
    model = make_model("gcn", 8, 4, hidden_channels=16)
    g = predict(sbm, model, column="pred")
    pred = g.vertex_property("pred")
    assert pred.dtype == np.int64 and set(pred) <= {0, 1, 2, 3}
    assert np.array_equal(pred, infer(model, sbm).argmax(-1).numpy())
    score = g.vertex_property("pred_score")
    assert ((score > 0.25 - 1e-6) & (score <= 1)).all()
    g2 = predict(g, make_model("sage", 8, 3, hidden_channels=8), column="emb",
                 output="embedding", batch_size=100)
    assert {"emb_0", "emb_1", "emb_2"} <= set(g2.vertex_table("_").column_names)
    assert sbm.vertex_table("_").column_names == ["id", "label", "feat"]  # old version intact
    with pytest.raises(SchemaError, match="already has property 'pred'"):
        predict(g, model, column="pred")
    with pytest.raises(SchemaError, match="output must be"):
        predict(sbm, model, output="logits")


def test_bad_training_input(sbm):
    with pytest.raises(SchemaError, match="no property 'klass'"):
        train_node_classifier(sbm, label="klass", epochs=1, progress=False)
    with pytest.raises(SchemaError, match="unknown architecture 'gin'"):
        train_node_classifier(sbm, arch="gin", epochs=1, progress=False)
    with pytest.raises(SchemaError, match="no property 'train'"):
        train_node_classifier(sbm, masks=("train", "val", "test"), epochs=1, progress=False)
    g = sbm.add_column({"none": np.zeros(600, dtype=bool), "all": np.ones(600, dtype=bool)})
    with pytest.raises(SchemaError, match="no labeled training or no validation"):
        train_node_classifier(g, masks=("all", "none", "all"), epochs=1, progress=False)


def test_link_prediction_learns():
    with ge.session() as sess:
        g = datasets.sbm(sess, [100] * 4, 0.08, 0.004, num_features=8, class_sep=1.0, seed=1)
    model, history, train_g = train_link_predictor(g, epochs=5, num_neighbors=[5, 5],
                                                   batch_size=256, hidden_channels=16,
                                                   progress=False)
    assert train_g.edge_count == g.edge_count - 2 * int(0.1 * g.edge_count)
    assert history.metric == "auc" and history.test_at_best > 0.8
    emb = predict(train_g, model, column="z", output="embedding")
    assert emb.vertex_property("z_15").shape == (400,)
