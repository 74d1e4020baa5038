"""Training loops: node classification and link prediction with PyG models.

Both loops share one shape: pick the device (CUDA when present), train an epoch (full batch, or
mini-batches from :class:`~graphengine.gnn.NeighborLoader` with a tqdm bar), evaluate on the
validation split, keep the best state (and save it as a checkpoint), stop early when the
validation metric has not improved for ``patience`` epochs, then restore the best state. The
per-epoch figures are a :class:`History`, which :meth:`History.plot` draws as a PNG.

References:
    Kipf & Welling, ICLR 2017 (GCN); Veličković et al., ICLR 2018 (GAT); Hamilton, Ying &
    Leskovec, NeurIPS 2017 (GraphSAGE, unsupervised link objective).
"""

from __future__ import annotations

import copy
import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor
from tqdm.auto import tqdm

from ..errors import SchemaError
from ..store.graph import Graph
from .features import Columns, RowMap, column_tensor, vertex_label
from .inference import full_graph, infer
from .loader import (
    LinkNeighborLoader,
    NeighborLoader,
    resolve_device,
    supervision_edges,
    torch_threads,
)
from .models import make_model
from .pyg import edge_coo, to_pyg

log = logging.getLogger(__name__)


@dataclass
class EpochRecord:
    """One epoch's figures: mean training loss, the metric on each split, the validation
    loss (NaN where not computed)."""

    epoch: int
    loss: float
    train: float
    val: float
    test: float
    val_loss: float
    seconds: float


@dataclass
class History:
    """What a training run did, epoch by epoch.

    Attributes:
        metric: the metric's name (``"accuracy"`` or ``"auc"``).
        records: one :class:`EpochRecord` per epoch run.
        best_epoch: the epoch of the best validation metric (its state is the model's).
        device: where the model trained.
        checkpoint / curve: the files written, if any.
    """

    metric: str
    records: list[EpochRecord] = field(default_factory=list)
    best_epoch: int = -1
    device: str = "cpu"
    checkpoint: Path | None = None
    curve: Path | None = None

    @property
    def best(self) -> EpochRecord:
        """The record of the best epoch."""
        return next(r for r in self.records if r.epoch == self.best_epoch)

    @property
    def best_val(self) -> float:
        return self.best.val

    @property
    def test_at_best(self) -> float:
        """The test metric of the epoch selected by validation."""
        return self.best.test

    def plot(self, path: str | Path) -> Path:
        """Loss and metric curves as a PNG (matplotlib, Agg backend)."""
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        epochs = [r.epoch for r in self.records]
        fig, (ax_loss, ax_metric) = plt.subplots(1, 2, figsize=(10, 4))
        ax_loss.plot(epochs, [r.loss for r in self.records], label="train loss")
        ax_loss.set_xlabel("epoch")
        ax_loss.set_ylabel("loss")
        ax_loss.legend()
        for split in ("train", "val", "test"):
            ax_metric.plot(epochs, [getattr(r, split) for r in self.records], label=split)
        ax_metric.axvline(self.best_epoch, color="grey", linestyle=":", label="best val")
        ax_metric.set_xlabel("epoch")
        ax_metric.set_ylabel(self.metric)
        ax_metric.legend()
        fig.tight_layout()
        path = Path(path)
        fig.savefig(path, dpi=100)
        plt.close(fig)
        return path


@dataclass
class EarlyStopping:
    """Stop when the validation metric has not improved for ``patience`` epochs (None: never).

    An epoch improves on the best one with a higher metric, or the same metric and a lower
    validation loss (the papers stop on both: Veličković et al. 2018, section 3.3).
    """

    patience: int | None = None
    best: tuple[float, float] = (float("-inf"), float("-inf"))
    bad_epochs: int = 0

    def step(self, value: float, loss: float = float("nan")) -> tuple[bool, bool]:
        """``(improved, stop)`` after an epoch of validation metric ``value`` and ``loss``."""
        key = (value, float("-inf") if math.isnan(loss) else -loss)
        if key > self.best:
            self.best, self.bad_epochs = key, 0
            return True, False
        self.bad_epochs += 1
        return False, self.patience is not None and self.bad_epochs >= self.patience


def _run(model: torch.nn.Module, epochs: int, history: History,
         train_epoch: Callable[[int], float],
         evaluate: Callable[[], tuple[float, float, float, float]],
         patience: int | None, checkpoint: str | Path | None, curve: str | Path | None,
         progress: bool, num_threads: int | None) -> History:
    """The loop both tasks share: epochs, selection by validation, checkpoint, curve."""
    with torch_threads(num_threads):
        best_state = _epochs(model, epochs, history, train_epoch, evaluate, patience,
                             checkpoint, progress)
    if best_state is not None:
        model.load_state_dict(best_state)
    if curve is not None:
        try:
            history.curve = history.plot(curve)
        except ImportError:  # the model is trained: a missing plotting library loses only the PNG
            log.warning("curve %s not written: matplotlib is not installed", curve)
    if history.records:
        log.info("best epoch %d: val %s %.4f, test %.4f", history.best_epoch, history.metric,
                 history.best_val, history.test_at_best)
    return history


def _epochs(model: torch.nn.Module, epochs: int, history: History,
            train_epoch: Callable[[int], float],
            evaluate: Callable[[], tuple[float, float, float, float]],
            patience: int | None, checkpoint: str | Path | None, progress: bool) -> dict | None:
    """Run the epochs; the best state (None if no epoch ran)."""
    stopper = EarlyStopping(patience)
    best_state = None
    bar = tqdm(range(1, epochs + 1), disable=not progress, desc="epochs", leave=False)
    for epoch in bar:
        t0 = time.perf_counter()
        loss = train_epoch(epoch)
        train, val, test, val_loss = evaluate()
        history.records.append(EpochRecord(epoch, loss, train, val, test, val_loss,
                                           time.perf_counter() - t0))
        improved, stop = stopper.step(val, val_loss)
        if improved:
            history.best_epoch = epoch
            best_state = copy.deepcopy(model.state_dict())
            if checkpoint is not None:
                history.checkpoint = Path(checkpoint)
                torch.save({"epoch": epoch, "val": val, "model_state": best_state},
                           history.checkpoint)
        bar.set_postfix(loss=f"{loss:.4f}", val=f"{val:.4f}")
        log.debug("epoch %d: loss %.4f train %.4f val %.4f test %.4f", epoch, loss, train,
                  val, test)
        if stop:
            log.info("early stop at epoch %d (best %d)", epoch, history.best_epoch)
            break
    return best_state


def _split_masks(g: Graph, label: str, y: Tensor, masks: Sequence[str] | None,
                 split: Sequence[float], seed: int) -> tuple[Tensor, Tensor, Tensor]:
    """Train / val / test masks from columns, or a random split of the labeled vertices."""
    if masks is not None:
        if len(masks) != 3:
            raise SchemaError("masks: three column names (train, val, test)")
        return tuple(column_tensor(g, m, label).bool() for m in masks)
    labeled = (y >= 0).nonzero().view(-1)
    perm = labeled[torch.randperm(len(labeled), generator=torch.Generator().manual_seed(seed))]
    n_train, n_val = int(split[0] * len(perm)), int(split[1] * len(perm))
    out = []
    for part in (perm[:n_train], perm[n_train:n_train + n_val], perm[n_train + n_val:]):
        mask = torch.zeros(len(y), dtype=torch.bool)
        mask[part] = True
        out.append(mask)
    return tuple(out)


def _accuracy(logits: Tensor, y: Tensor, mask: Tensor) -> float:
    if not bool(mask.any()):
        return float("nan")
    return float((logits[mask].argmax(-1) == y[mask]).float().mean())


def train_node_classifier(
        g: Graph, features: Columns = "feat", label: str = "label", *,
        model: torch.nn.Module | None = None, arch: str = "sage",
        masks: Sequence[str] | None = None, split: Sequence[float] = (0.6, 0.2, 0.2),
        num_neighbors: Sequence[int] | None = None, batch_size: int = 512, epochs: int = 100,
        lr: float = 0.01, weight_decay: float = 5e-4, hidden_channels: int = 64,
        num_layers: int = 2, dropout: float = 0.5, input_dropout: float | None = None,
        heads: int = 8, patience: int | None = None, checkpoint: str | Path | None = None,
        curve: str | Path | None = None, standardize: bool = False,
        vertex_label_name: str | None = None, inference_batch_size: int | None = None,
        device: str | torch.device | None = None, seed: int = 0, progress: bool = True,
        num_threads: int | None = None,
) -> tuple[torch.nn.Module, History]:
    """Train a GNN to predict a vertex column (classes ``0..C-1``; ``-1``: unlabeled).

    Full batch (Kipf & Welling 2017's setting) when ``num_neighbors`` is None, else
    mini-batches of training seeds with sampled neighborhoods (Hamilton et al. 2017) through
    :class:`~graphengine.gnn.NeighborLoader`. Every epoch evaluates the whole graph
    (:func:`~graphengine.gnn.infer`) and the model returned is the one of the best validation
    accuracy.

    Args:
        g: the graph.
        features: feature column(s): a ``fixed_size_list`` column and/or scalar columns such as
            ``pagerank`` (stacked: see :func:`~graphengine.gnn.feature_tensor`).
        label: the class column.
        model: a PyG model ``model(x, edge_index)``; default :func:`make_model` (``arch``,
            ``hidden_channels``, ``num_layers``, ``dropout``, ``input_dropout``, ``heads``).
        masks: names of the train / val / test boolean columns; default: a random ``split``
            of the labeled vertices (fractions train, val; the rest is test).
        num_neighbors / batch_size: sampling fanouts per hop and seeds per batch.
        epochs / lr / weight_decay: Adam's schedule.
        patience: early stopping (epochs without a better validation accuracy).
        checkpoint: file for ``torch.save`` of the best state (``{"epoch", "val",
            "model_state"}``).
        curve: PNG file for the loss / accuracy curves.
        standardize: rescale features to mean 0, std 1 (for analytics columns).
        vertex_label_name: the vertex label (default: the only one).
        inference_batch_size: None for full-batch evaluation, else layer-wise in batches.
        device: default CUDA when available, else CPU.
        seed: seeds the model's initialization, dropout, split, shuffle and sampler.
        progress: tqdm bars.
        num_threads: torch's threads while training (None: unchanged; 1 is fastest for
            small graphs on busy cores, see :func:`~graphengine.gnn.torch_threads`).

    Returns:
        ``(model, history)``: the best model (in eval mode) and the per-epoch figures.

    Raises:
        SchemaError: unknown label, column or architecture.
    """
    dev = resolve_device(device)
    torch.manual_seed(seed)
    np.random.seed(seed)
    vl = vertex_label(g, vertex_label_name)
    data = full_graph(g, features, label, (), vl, standardize=standardize)
    y = data.y
    if y.is_floating_point():
        raise SchemaError(f"label column {label!r} holds floats: classes must be integers")
    train_mask, val_mask, test_mask = _split_masks(g, vl, y, masks, split, seed)
    train_mask = train_mask & (y >= 0)
    if not bool(train_mask.any()) or not bool(val_mask.any()):
        raise SchemaError("train_node_classifier: the split has no labeled training or no"
                          " validation vertices (the model is selected on validation)")
    num_classes = int(y.max()) + 1
    if model is None:
        model = make_model(arch, data.num_features, num_classes, hidden_channels, num_layers,
                           dropout, input_dropout, heads)
    model = model.to(dev)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    history = History("accuracy", device=str(dev))
    log.info("node classification on %s: %d vertices, %d features, %d classes, %s, %s",
             vl, data.num_nodes, data.num_features, num_classes,
             "full batch" if num_neighbors is None else f"fanouts {list(num_neighbors)}", dev)

    # on the device when training or evaluation is full batch (``Data.to`` moves in place)
    full = (data.to(dev, non_blocking=True)
            if num_neighbors is None or inference_batch_size is None else None)
    if num_neighbors is None:
        train_on = train_mask.to(dev)

        def train_epoch(epoch: int) -> float:
            model.train()
            optimizer.zero_grad()
            out = model(full.x, full.edge_index)
            loss = F.cross_entropy(out[train_on], full.y[train_on])
            loss.backward()
            optimizer.step()
            return float(loss.detach())
    else:
        stores = to_pyg(g, features, label, (), standardize)
        loader = NeighborLoader(g, num_neighbors, input_nodes=train_mask, batch_size=batch_size,
                                shuffle=True, label=vl, seed=seed, device=dev, data=stores)

        def train_epoch(epoch: int) -> float:
            model.train()
            total, count = 0.0, 0
            for batch in tqdm(loader, disable=not progress, desc=f"epoch {epoch}", leave=False):
                optimizer.zero_grad()
                out = model(batch.x, batch.edge_index)[:batch.batch_size]
                loss = F.cross_entropy(out, batch.y[:batch.batch_size])
                loss.backward()
                optimizer.step()
                total += float(loss.detach()) * batch.batch_size
                count += batch.batch_size
            return total / max(count, 1)

    def evaluate() -> tuple[float, float, float, float]:
        logits = infer(model, g, features, batch_size=inference_batch_size, label=vl,
                       standardize=standardize, device=dev, data=full)
        val_loss = float(F.cross_entropy(logits[val_mask], y[val_mask])) if bool(
            val_mask.any()) else float("nan")
        return (_accuracy(logits, y, train_mask), _accuracy(logits, y, val_mask),
                _accuracy(logits, y, test_mask), val_loss)

    _run(model, epochs, history, train_epoch, evaluate, patience, checkpoint, curve, progress,
         num_threads)
    return model.eval(), history


def _auc(pos: Tensor, neg: Tensor) -> float:
    """Area under the ROC curve: the chance a positive scores above a negative (ties 1/2)."""
    scores = torch.cat([pos, neg])
    order = scores.argsort()
    ranks = torch.empty_like(scores, dtype=torch.float64)
    ranks[order] = torch.arange(1, len(scores) + 1, dtype=torch.float64)
    # average ranks of ties
    uniq, inverse = torch.unique(scores, return_inverse=True)
    sums = torch.zeros(len(uniq), dtype=torch.float64).index_add_(0, inverse, ranks)
    counts = torch.zeros(len(uniq), dtype=torch.float64).index_add_(
        0, inverse, torch.ones_like(ranks))
    ranks = (sums / counts)[inverse]
    n_pos, n_neg = len(pos), len(neg)
    return float((ranks[:n_pos].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def train_link_predictor(
        g: Graph, features: Columns = "feat", *, model: torch.nn.Module | None = None,
        arch: str = "sage", edge_type: str | None = None, val_ratio: float = 0.1,
        test_ratio: float = 0.1, num_neighbors: Sequence[int] = (10, 5), batch_size: int = 256,
        neg_sampling_ratio: float = 1.0, epochs: int = 20, lr: float = 0.01,
        weight_decay: float = 0.0, hidden_channels: int = 64, num_layers: int = 2,
        dropout: float = 0.0, patience: int | None = None, checkpoint: str | Path | None = None,
        curve: str | Path | None = None, standardize: bool = False,
        device: str | torch.device | None = None, seed: int = 0, progress: bool = True,
        num_threads: int | None = None,
) -> tuple[torch.nn.Module, History, Graph]:
    """Train a GNN encoder whose embeddings' dot products score edges (Hamilton et al. 2017).

    The edges of ``edge_type`` are split into train / val / test; the val and test edges are
    removed from the graph the model sees (``g.remove_edges``). Mini-batches come from
    :class:`~graphengine.gnn.LinkNeighborLoader` with binary negative sampling; the metric is
    the ROC AUC of held-out edges against as many random vertex pairs.

    Arguments as in :func:`train_node_classifier`, plus the split (``val_ratio``,
    ``test_ratio``) and ``neg_sampling_ratio`` (negatives per positive edge).

    Returns:
        ``(model, history, train_graph)``: the best encoder, the figures, and the graph
        without the held-out edges (embed with ``predict(train_graph, model,
        output="embedding")``).

    Raises:
        SchemaError: unknown edge label or column.
    """
    dev = resolve_device(device)
    torch.manual_seed(seed)
    if edge_type is None:
        if len(g.edge_labels) != 1:
            raise SchemaError(f"the graph has edge labels {g.edge_labels}: name edge_type")
        edge_type = g.edge_labels[0]
    if edge_type not in g.edge_labels:
        raise SchemaError(f"unknown edge label {edge_type!r} (the graph has {g.edge_labels})")
    src, dst, eid = edge_coo(g, edge_type, "out")
    keep = src <= dst if not g.directed else np.ones(len(src), dtype=bool)
    src, dst, eid = src[keep], dst[keep], eid[keep]
    rng = np.random.default_rng(seed)
    perm = rng.permutation(len(eid))
    n_val, n_test = int(val_ratio * len(perm)), int(test_ratio * len(perm))
    val, test, train = perm[:n_val], perm[n_val:n_val + n_test], perm[n_val + n_test:]
    train_g = g.remove_edges(eid[np.concatenate([val, test])]) if n_val + n_test else g
    rows = RowMap.of(g, vertex_label(g, None))
    ends = torch.stack([rows.rows(src, check=False), rows.rows(dst, check=False)])
    n = len(rows)

    def negatives(count: int) -> Tensor:
        return torch.from_numpy(rng.integers(0, n, size=(2, count)))

    val_pos, test_pos = ends[:, val], ends[:, test]
    val_neg, test_neg = negatives(len(val)), negatives(len(test))
    stores = to_pyg(train_g, features, None, (), standardize)
    x_dim = stores[0].nodes[vertex_label(g, None)].x.shape[1]
    if model is None:
        model = make_model(arch, x_dim, hidden_channels, hidden_channels, num_layers, dropout,
                           0.0)
    model = model.to(dev)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    loader = LinkNeighborLoader(train_g, list(num_neighbors),
                                edge_label_index=supervision_edges(train_g, edge_type),
                                neg_sampling="binary", neg_sampling_ratio=neg_sampling_ratio,
                                batch_size=batch_size, shuffle=True, seed=seed, device=dev,
                                data=stores)
    full = full_graph(train_g, features, None, standardize=standardize).to(dev)
    history = History("auc", device=str(dev))

    def train_epoch(epoch: int) -> float:
        model.train()
        total, count = 0.0, 0
        for batch in tqdm(loader, disable=not progress, desc=f"epoch {epoch}", leave=False):
            optimizer.zero_grad()
            z = model(batch.x, batch.edge_index)
            s, d = batch.edge_label_index
            loss = F.binary_cross_entropy_with_logits((z[s] * z[d]).sum(-1),
                                                      batch.edge_label.float())
            loss.backward()
            optimizer.step()
            total += float(loss.detach()) * len(s)
            count += len(s)
        return total / max(count, 1)

    def score(z: Tensor, index: Tensor) -> Tensor:
        return (z[index[0]] * z[index[1]]).sum(-1)

    def evaluate() -> tuple[float, float, float, float]:
        z = infer(model, train_g, features, device=dev, data=full)
        train_pos = ends[:, rng.choice(train, size=min(len(train), max(len(val), 100)),
                                       replace=False)]
        return (_auc(score(z, train_pos), score(z, negatives(train_pos.shape[1]))),
                _auc(score(z, val_pos), score(z, val_neg)) if len(val) else float("nan"),
                _auc(score(z, test_pos), score(z, test_neg)) if len(test) else float("nan"),
                float("nan"))

    _run(model, epochs, history, train_epoch, evaluate, patience, checkpoint, curve, progress,
         num_threads)
    return model.eval(), history, train_g
