"""PyG models by name, with the papers' input dropout.

The models are PyG's own (:class:`torch_geometric.nn.models.GCN`, ``GAT``, ``GraphSAGE``);
:class:`InputDropout` adds the dropout on the input features that the papers apply before the
first layer (PyG's ``BasicGNN`` drops out only between layers).

References:
    Kipf & Welling, *Semi-Supervised Classification with Graph Convolutional Networks*,
    ICLR 2017 (GCN). Veličković et al., *Graph Attention Networks*, ICLR 2018 (GAT).
    Hamilton, Ying & Leskovec, *Inductive Representation Learning on Large Graphs*,
    NeurIPS 2017 (GraphSAGE).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor
from torch_geometric.nn.models import GAT, GCN, GraphSAGE
from torch_geometric.nn.models.basic_gnn import BasicGNN

from ..errors import SchemaError


class PaperGAT(GAT):
    """PyG's :class:`~torch_geometric.nn.models.GAT` with the paper's output layer:
    ``output_heads`` attention heads averaged (Veličković et al. 2018 use one on Cora and
    CiteSeer; PyG's model gives the output layer the hidden layers' ``heads``)."""

    def __init__(self, *args, output_heads: int = 1, **kwargs):
        object.__setattr__(self, "_output_heads", output_heads)  # read by init_conv in super
        super().__init__(*args, **kwargs)

    def init_conv(self, in_channels, out_channels, **kwargs):
        if getattr(self, "_is_conv_to_out", False):
            kwargs["heads"] = self._output_heads
        return super().init_conv(in_channels, out_channels, **kwargs)


ARCHITECTURES = {"gcn": GCN, "gat": PaperGAT, "sage": GraphSAGE}

#: The papers' Planetoid settings, as :func:`graphengine.gnn.train_node_classifier` arguments
#: (row-normalized features, 200 epochs, the model of the best validation accuracy).
PAPER_SETTINGS: dict[str, dict] = {
    # Kipf & Welling 2017, section 5.3
    "gcn": {"arch": "gcn", "hidden_channels": 16, "num_layers": 2, "dropout": 0.5,
            "lr": 0.01, "weight_decay": 5e-4, "epochs": 200},
    # Veličković et al. 2018, section 3.3 (transductive): 8 heads x 8 features
    "gat": {"arch": "gat", "hidden_channels": 64, "heads": 8, "num_layers": 2,
            "dropout": 0.6, "lr": 0.005, "weight_decay": 5e-4, "epochs": 200},
    # Hamilton et al. 2017's mean aggregator on the same split, sampled [25, 10]
    "sage": {"arch": "sage", "hidden_channels": 64, "num_layers": 2, "dropout": 0.5,
             "lr": 0.01, "weight_decay": 5e-4, "epochs": 50, "num_neighbors": [25, 10],
             "batch_size": 64},
}


def sparse_dropout(x: Tensor, p: float, training: bool, nonzero: Tensor | None = None) -> Tensor:
    """Dropout that draws random numbers for the nonzero entries only.

    Dropping a zero changes nothing, so on a mostly-zero input (bag-of-words features) this is
    the same distribution as :func:`torch.nn.functional.dropout` for a fraction of the random
    draws, as in Kipf & Welling's ``sparse_dropout``. ``nonzero`` (the flat positions of the
    nonzero entries) may be given when known. Dense inputs take the ordinary dropout.
    """
    if not training or p == 0:
        return x
    flat = x.reshape(-1)
    if nonzero is None:
        nonzero = flat.nonzero().view(-1)
    if len(nonzero) > flat.numel() // 4:
        return F.dropout(x, p, training)
    keep = torch.rand(len(nonzero), device=x.device) >= p
    out = torch.zeros_like(flat)
    out[nonzero] = flat[nonzero] * keep / (1 - p)
    return out.view_as(x)


class InputDropout(torch.nn.Module):
    """``model(dropout(x), edge_index)``: a PyG ``BasicGNN`` with dropout on its input
    (:func:`sparse_dropout`; the nonzero positions of the last input are kept, so full-batch
    training finds them once).

    Layer-wise inference (:meth:`inference_per_layer`) and ``num_layers`` pass through.
    """

    def __init__(self, model: BasicGNN, p: float):
        super().__init__()
        self.model = model
        self.p = p
        self._nonzero: tuple[int, tuple[int, ...], Tensor] | None = None

    @property
    def num_layers(self) -> int:
        return self.model.num_layers

    def forward(self, x: Tensor, edge_index: Tensor, *args, **kwargs) -> Tensor:
        if self.training and self.p > 0:
            key = (x.data_ptr(), tuple(x.shape))
            if self._nonzero is None or self._nonzero[:2] != key:
                self._nonzero = (*key, x.reshape(-1).nonzero().view(-1))
            x = sparse_dropout(x, self.p, True, self._nonzero[2])
        return self.model(x, edge_index, *args, **kwargs)

    def inference_per_layer(self, layer: int, x: Tensor, edge_index: Tensor,
                            batch_size: int) -> Tensor:
        return self.model.inference_per_layer(layer, x, edge_index, batch_size)


def make_model(arch: str, in_channels: int, out_channels: int, hidden_channels: int = 64,
               num_layers: int = 2, dropout: float = 0.5, input_dropout: float | None = None,
               heads: int = 8) -> torch.nn.Module:
    """A PyG model by name: ``"gcn"`` (Kipf & Welling 2017), ``"gat"`` (Veličković et al.
    2018: ``heads`` attention heads of ``hidden_channels // heads`` channels, ELU, attention
    dropout ``dropout``, one output head: :class:`PaperGAT`) or ``"sage"`` (Hamilton et al.
    2017, mean aggregator).

    Args:
        arch: the architecture's name.
        in_channels / out_channels: feature and output sizes.
        hidden_channels: hidden size (for GAT, all heads together).
        num_layers: message-passing layers.
        dropout: dropout between layers (and on GAT's attention coefficients).
        input_dropout: dropout on the input features (the papers: 0.5 GCN, 0.6 GAT); default
            ``dropout``.
        heads: GAT's attention heads.

    Raises:
        SchemaError: unknown architecture.
    """
    key = arch.lower()
    if key not in ARCHITECTURES:
        raise SchemaError(f"unknown architecture {arch!r} (choose from {sorted(ARCHITECTURES)})")
    kwargs = {"heads": heads, "act": "elu"} if key == "gat" else {}
    model = ARCHITECTURES[key](in_channels, hidden_channels, num_layers, out_channels,
                               dropout=dropout, **kwargs)
    p = dropout if input_dropout is None else input_dropout
    return InputDropout(model, p) if p > 0 else model
