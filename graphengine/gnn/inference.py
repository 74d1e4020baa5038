"""Full-graph inference and writing its results back into the graph.

:func:`infer` runs a trained model over every vertex of a label: full-batch (one forward pass
over the whole graph) when no ``batch_size`` is given, else layer-wise as PyG's
``BasicGNN.inference``: layer ``l`` for all vertices, in batches of seeds with **all** their
in-neighbors, before layer ``l + 1`` (each vertex's embedding is computed once per layer,
instead of once per sampled tree). :func:`predict` writes classes, scores or embeddings back
with :meth:`graphengine.Graph.add_column`, so Gremlin and the PIE apps read them.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import torch
from torch import Tensor
from torch_geometric.data import Data
from torch_geometric.sampler import NodeSamplerInput
from tqdm.auto import tqdm

from ..errors import SchemaError
from ..sampling import GraphSampler
from ..store.graph import Graph
from .features import Columns, NodeFeatures, vertex_label
from .loader import resolve_device, torch_threads
from .pyg import edge_coo, to_pyg

log = logging.getLogger(__name__)


def full_graph(g: Graph, features: Columns | None = "feat", labels: str | None = "label",
               columns: Sequence[str] = (), label: str | None = None,
               edge_labels: Sequence[str] | None = None, direction: str = "in",
               standardize: bool = False) -> Data:
    """The vertices of one label and the edges among them as one PyG ``Data`` (full batch).

    Node ``i`` is row ``i`` of the label (:meth:`Graph.vertex_table` order); ``edge_index``
    holds every edge label relating the label to itself (or ``edge_labels``), messages flowing
    along ``direction`` as in :func:`graphengine.gnn.pyg.edge_coo` (undirected graphs: both
    ways). Boolean ``columns`` (masks) become attributes of their own names.
    """
    label = vertex_label(g, label)
    nf = NodeFeatures.of(g, label, features, labels, columns, standardize)
    names = edge_labels if edge_labels is not None else [
        el.name for el in g.schema.edge_labels if (label, label) in el.relations]
    srcs, dsts = [], []
    for name in names:
        src, dst, _ = edge_coo(g, name, direction)
        if len(g.vertex_labels) > 1:
            keep = np.isin(src, nf.rows.gids) & np.isin(dst, nf.rows.gids)
            src, dst = src[keep], dst[keep]
        srcs.append(nf.rows.rows(src, check=False))
        dsts.append(nf.rows.rows(dst, check=False))
    edge_index = (torch.stack([torch.cat(srcs), torch.cat(dsts)]) if srcs
                  else torch.zeros((2, 0), dtype=torch.long))
    data = Data(edge_index=edge_index, num_nodes=len(nf.rows), **nf.tensors())
    data.n_id = nf.rows.gids_of(torch.arange(len(nf.rows)))
    return data


@torch.no_grad()
def infer(model: torch.nn.Module, g: Graph, features: Columns = "feat", *,
          batch_size: int | None = None, label: str | None = None,
          edge_labels: Sequence[str] | None = None, direction: str = "in",
          standardize: bool = False, device: str | torch.device | None = None,
          data: Data | None = None, progress: bool = False) -> Tensor:
    """The model's output for every vertex of ``label`` (rows in :meth:`Graph.vertex_table`
    order), on the CPU.

    Args:
        model: a PyG model ``model(x, edge_index)``; layer-wise inference needs
            ``inference_per_layer`` and ``num_layers`` (PyG's ``BasicGNN``).
        g: the graph.
        features: the feature column(s), as in training.
        batch_size: None for one full-batch pass; else seeds per batch of layer-wise inference
            (memory: one layer's embeddings of all vertices plus one batch).
        label / edge_labels / direction / standardize: as in training.
        device: default :func:`resolve_device`.
        data: a prepared :func:`full_graph` (full batch only).
        progress: a tqdm bar over the layers' batches.
    """
    device = resolve_device(device)
    was_training = model.training
    model.eval()
    try:
        if batch_size is None:
            if data is None:
                data = full_graph(g, features, None, (), label, edge_labels, direction,
                                  standardize)
            data = data.to(device, non_blocking=True)
            return model(data.x, data.edge_index).cpu()
        return _layerwise(model, g, features, batch_size, label, edge_labels, direction,
                          standardize, device, progress)
    finally:
        model.train(was_training)


def _layerwise(model: torch.nn.Module, g: Graph, features: Columns, batch_size: int,
               label: str | None, edge_labels: Sequence[str] | None, direction: str,
               standardize: bool, device: torch.device, progress: bool) -> Tensor:
    if not hasattr(model, "inference_per_layer"):
        raise SchemaError(f"layer-wise inference needs a PyG BasicGNN (inference_per_layer);"
                          f" {type(model).__name__} has none: pass batch_size=None")
    fs, _ = to_pyg(g, features, None, (), standardize)
    if not fs.homogeneous:
        raise SchemaError("layer-wise inference: graphs of one vertex label for now")
    rows = fs.nodes[vertex_label(g, label)].rows
    x = fs.nodes[rows.label].x
    sampler = GraphSampler(g, [-1], direction=direction, edge_labels=edge_labels)
    all_rows = torch.arange(len(rows))
    bar = tqdm(total=model.num_layers * -(-len(rows) // batch_size), disable=not progress,
               desc="inference")
    for layer in range(model.num_layers):
        outs = []
        for start in range(0, len(rows), batch_size):
            seeds = rows.gids_of(all_rows[start:start + batch_size])
            out = sampler.sample_from_nodes(NodeSamplerInput(input_id=None, node=seeds))
            xb = x[rows.rows(out.node, check=False)].to(device, non_blocking=True)
            edge_index = torch.stack([out.row, out.col]).to(device, non_blocking=True)
            outs.append(model.inference_per_layer(layer, xb, edge_index, len(seeds)).cpu())
            bar.update(1)
        x = torch.cat(outs)
    bar.close()
    return x


def predict(g: Graph, model: torch.nn.Module, features: Columns = "feat",
            column: str = "pred", *, output: str = "class", batch_size: int | None = None,
            label: str | None = None, standardize: bool = False,
            device: str | torch.device | None = None, num_threads: int | None = None) -> Graph:
    """A new graph with the model's predictions (or embeddings) as vertex columns.

    Args:
        g: the graph (the one trained on, or a newer version with the same columns).
        model: the trained model.
        features / standardize: the feature column(s), as in training.
        column: the new property's name.
        output: ``"class"`` (``column``: int64 argmax class, ``column + "_score"``: its
            softmax probability), or ``"embedding"`` (``column + "_0"`` ...: one float32
            column per output dimension).
        batch_size / device: see :func:`infer`.
        label: the vertex label (default: the only one); other labels get nulls.
        num_threads: torch's threads meanwhile (see :func:`~graphengine.gnn.torch_threads`).

    Raises:
        SchemaError: unknown output kind, or a column name already taken.
    """
    if output not in ("class", "embedding"):
        raise SchemaError(f"output must be 'class' or 'embedding', got {output!r}")
    label = vertex_label(g, label)
    with torch_threads(num_threads):
        out = infer(model, g, features, batch_size=batch_size, label=label,
                    standardize=standardize, device=device)
    if output == "class":
        prob = out.softmax(dim=-1)
        score, cls = prob.max(dim=-1)
        values = {column: cls.numpy().astype(np.int64), f"{column}_score": score.numpy()}
    else:
        emb = out.float().numpy()
        values = {f"{column}_{i}": np.ascontiguousarray(emb[:, i]) for i in range(emb.shape[1])}
    all_gids = g.all_gids()
    if len(all_gids) != out.shape[0]:  # several labels: place the label's rows among all
        pos = np.searchsorted(all_gids, g.vertex_gids(label))
        values = {k: _scatter(len(all_gids), pos, v) for k, v in values.items()}
    log.info("predict: %s for %d vertices of %r -> %s", output, out.shape[0], label,
             list(values)[:3])
    return g.add_column(values, label=label)


def _scatter(n: int, pos: np.ndarray, values: np.ndarray) -> np.ndarray:
    out = np.zeros(n, dtype=values.dtype)
    out[pos] = values
    return out
