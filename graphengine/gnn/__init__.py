"""GNN training and inference on graphengine graphs with PyG models.

Vertex columns become torch tensors without copies (:mod:`.features`); the graph plugs into
PyG as a remote backend (:func:`to_pyg`) and feeds PyG's loaders through graphengine's sampler
(:class:`NeighborLoader`, :class:`LinkNeighborLoader`, background prefetch); training loops
(:func:`train_node_classifier`, :func:`train_link_predictor`) pick CUDA when present, and
:func:`predict` writes predictions or embeddings back as vertex columns.

References:
    Kipf & Welling, *Semi-Supervised Classification with Graph Convolutional Networks*,
    ICLR 2017. Hamilton, Ying & Leskovec, *Inductive Representation Learning on Large Graphs*,
    NeurIPS 2017. Veličković et al., *Graph Attention Networks*, ICLR 2018.
"""

from .features import NodeFeatures, RowMap, column_tensor, feature_tensor, masks
from .inference import full_graph, infer, predict
from .loader import (
    LinkNeighborLoader,
    NeighborLoader,
    Prefetcher,
    resolve_device,
    torch_threads,
)
from .models import PAPER_SETTINGS, InputDropout, make_model
from .pyg import GraphFeatureStore, GraphGraphStore, edge_coo, to_pyg
from .train import (
    EarlyStopping,
    EpochRecord,
    History,
    train_link_predictor,
    train_node_classifier,
)

__all__ = [
    "PAPER_SETTINGS",
    "EarlyStopping",
    "EpochRecord",
    "GraphFeatureStore",
    "GraphGraphStore",
    "History",
    "InputDropout",
    "LinkNeighborLoader",
    "NeighborLoader",
    "NodeFeatures",
    "Prefetcher",
    "RowMap",
    "column_tensor",
    "edge_coo",
    "feature_tensor",
    "full_graph",
    "infer",
    "make_model",
    "masks",
    "predict",
    "resolve_device",
    "to_pyg",
    "torch_threads",
    "train_link_predictor",
    "train_node_classifier",
]
