"""Mini-batch loaders over a graph: PyG's node and link loaders with graphengine's sampler.

:class:`NeighborLoader` and :class:`LinkNeighborLoader` are thin compositions, as in PyG:
PyG's ``NodeLoader`` / ``LinkLoader`` over :func:`graphengine.gnn.to_pyg` with
:class:`graphengine.sampling.GraphSampler`, plus a background thread that samples and gathers
the next batches while the model trains on the current one (:class:`Prefetcher`), and the copy
to the training device (pinned memory and non-blocking copies on CUDA). Batches follow PyG's
conventions: ``x``, ``y``, ``edge_index`` in local ids (seeds first), ``n_id``, ``e_id``,
``batch_size``; link batches add ``edge_label_index`` and ``edge_label`` (binary negative
sampling) or ``src_index`` / ``dst_pos_index`` / ``dst_neg_index`` (triplet).

Neighbor sampling is GraphSAGE's (Hamilton, Ying & Leskovec, *Inductive Representation
Learning on Large Graphs*, NeurIPS 2017).
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
import torch
from torch import Tensor
from torch_geometric.data import Data, HeteroData
from torch_geometric.loader import LinkLoader, NodeLoader
from torch_geometric.sampler import NegativeSampling

from ..errors import SamplingError, SchemaError, UnknownVertexError
from ..sampling import GraphSampler
from ..store.graph import Graph
from .features import Columns, column_tensor, vertex_label
from .pyg import GraphFeatureStore, GraphGraphStore, edge_coo, to_pyg

log = logging.getLogger(__name__)

Batch = Data | HeteroData
NodeSeeds = str | Tensor | np.ndarray | Sequence[int] | None


def resolve_device(device: str | torch.device | None = None) -> torch.device:
    """``device``, or CUDA when ``torch.cuda.is_available()``, else the CPU."""
    if device is not None:
        return torch.device(device)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


@contextmanager
def torch_threads(num_threads: int | None) -> Iterator[None]:
    """torch's intra-op threads set to ``num_threads`` inside the block (None: unchanged).

    Small graphs' kernels gain nothing from several threads, and on shared cores OpenMP
    threads wait on each other: one Cora GCN epoch took 4x longer with 2 threads than with 1
    on 2 busy cores.
    """
    before = torch.get_num_threads()
    if num_threads is not None:
        torch.set_num_threads(num_threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def to_device(batch: Batch, device: torch.device) -> Batch:
    """The batch on ``device``; CUDA copies are non-blocking (from pinned memory)."""
    if device.type == "cpu":
        return batch
    return batch.to(device, non_blocking=True)


class Prefetcher:
    """Iterates ``batches`` in a background thread, ``depth`` batches ahead.

    Sampling (Numba) and feature gathering (torch) release the GIL for most of their time, so
    the next batches are made while the caller trains. On CUDA each batch is pinned in the
    thread and copied with ``non_blocking=True`` when taken. An exception in the thread is
    raised again in the caller; leaving the loop early stops the thread.
    """

    _END = object()

    def __init__(self, batches: Iterable[Batch], device: torch.device, depth: int = 2):
        self.batches = batches
        self.device = device
        self.depth = max(1, depth)

    def __iter__(self) -> Iterator[Batch]:
        q: queue.Queue = queue.Queue(maxsize=self.depth)
        stop = threading.Event()
        pin = self.device.type == "cuda"

        def put(item: Any) -> bool:
            while not stop.is_set():
                try:
                    q.put(item, timeout=0.1)
                    return True
                except queue.Full:
                    continue
            return False

        def work() -> None:
            try:
                for batch in self.batches:
                    if pin:
                        batch = batch.pin_memory()
                    if not put(batch):
                        return
                put(self._END)
            except BaseException as exc:  # noqa: BLE001 (raised again in the caller)
                put(exc)

        thread = threading.Thread(target=work, name="graphengine-prefetch", daemon=True)
        thread.start()
        try:
            while True:
                item = q.get()
                if item is self._END:
                    return
                if isinstance(item, BaseException):
                    raise item
                yield to_device(item, self.device)
        finally:
            stop.set()
            thread.join()


def input_seeds(g: Graph, fs: GraphFeatureStore, input_nodes: NodeSeeds,
                label: str | None = None) -> tuple[str | None, Tensor]:
    """``(node type, seeds)`` in the sampler's index space, checked against the graph.

    ``input_nodes`` is None (every vertex of the label), the name of a boolean column
    (``"train_mask"``), a boolean mask over the label's rows, or indices: global ids for a
    graph of one vertex label (equal to the user ids of the graphs of
    :mod:`graphengine.datasets`, whose ids are ``0..n-1``; ``g.gids(label, ids)`` maps user
    ids), per-label rows otherwise.
    """
    label = vertex_label(g, label)
    rows = fs.nodes[label].rows
    node_type = None if fs.homogeneous else label
    if input_nodes is None:
        index = torch.arange(len(rows))
        return node_type, rows.gids_of(index) if fs.homogeneous else index
    if isinstance(input_nodes, str):
        mask = column_tensor(g, input_nodes, label)
        if mask.dtype != torch.bool:
            raise SchemaError(f"input_nodes column {input_nodes!r} is {mask.dtype}, not a mask")
        input_nodes = mask
    seeds = torch.as_tensor(np.asarray(input_nodes) if not isinstance(input_nodes, Tensor)
                            else input_nodes)
    if seeds.dtype == torch.bool:
        if len(seeds) != len(rows):
            raise SchemaError(f"input_nodes mask has {len(seeds)} entries for {len(rows)}"
                              f" vertices of {label!r}")
        index = seeds.nonzero().view(-1)
        return node_type, rows.gids_of(index) if fs.homogeneous else index
    if seeds.is_floating_point() or seeds.dim() != 1:
        raise SchemaError(f"input_nodes must be a 1-D integer or boolean tensor, got"
                          f" {tuple(seeds.shape)} {seeds.dtype}")
    seeds = seeds.long()
    if fs.homogeneous:
        try:
            rows.rows(seeds)
        except UnknownVertexError as exc:
            raise SamplingError(f"input_nodes: {exc}") from None
    elif len(seeds) and (int(seeds.min()) < 0 or int(seeds.max()) >= len(rows)):
        raise SamplingError(f"input_nodes of {label!r} must be rows 0..{len(rows) - 1}")
    return node_type, seeds


def _check_fanouts(num_neighbors: Sequence[int] | dict) -> None:
    values = list(num_neighbors.values()) if isinstance(num_neighbors, dict) else [num_neighbors]
    for fanouts in values:
        if not len(fanouts) or any(int(f) < -1 for f in fanouts):
            raise SamplingError(f"num_neighbors: one fanout (>= 0, or -1 for all) per hop, got"
                                f" {list(fanouts)}")
    if len({len(f) for f in values}) > 1:
        raise SamplingError(f"num_neighbors: every edge type needs as many hops, got {values}")


class NeighborLoader:
    """Mini-batches of seed nodes with their sampled multi-hop neighborhoods (PyG ``Data``).

    Args:
        g: the graph.
        num_neighbors: neighbors sampled per hop (-1: all), e.g. ``[15, 10]``.
        input_nodes: seeds: see :func:`input_seeds` (default: every vertex).
        batch_size: seeds per batch.
        shuffle: reshuffle the seeds every epoch (reproducibly from ``seed``).
        features / labels / columns: the vertex columns of ``x`` / ``y`` / other attributes
            (:func:`graphengine.gnn.to_pyg`).
        replace / weight / direction / edge_labels: sampling options of
            :func:`graphengine.sampling.sample_neighbors`.
        seed: seed of the sampler and of the shuffle; the same seed gives the same batches.
        label: the seeds' vertex label (default: the only one).
        device: where batches go (default: :func:`resolve_device`).
        prefetch: batches made ahead in the background thread (0: none, made on demand).
        drop_last: drop the last, smaller batch.

    Each batch is a ``Data`` (``HeteroData`` for several labels) whose first ``batch_size``
    nodes are the seeds, on ``device``.

    Raises:
        SchemaError: unknown label or column.
        SamplingError: bad fanouts, seeds that are not vertices of the label.
    """

    def __init__(self, g: Graph, num_neighbors: Sequence[int] | dict, input_nodes: NodeSeeds = None,
                 batch_size: int = 1, shuffle: bool = False, features: Columns | None = "feat",
                 labels: str | None = "label", columns: Sequence[str] = (), *,
                 replace: bool = False, weight: str | None = None, direction: str = "in",
                 edge_labels: Sequence[str] | None = None, seed: int | None = None,
                 label: str | None = None, device: str | torch.device | None = None,
                 prefetch: int = 2, drop_last: bool = False,
                 data: tuple[GraphFeatureStore, GraphGraphStore] | None = None):
        _check_fanouts(num_neighbors)
        self.graph = g
        self.data = data if data is not None else to_pyg(g, features, labels, columns)
        self.device = resolve_device(device)
        self.prefetch = prefetch
        input_type, seeds = input_seeds(g, self.data[0], input_nodes, label)
        self.input_nodes = seeds
        self.sampler = GraphSampler(g, num_neighbors, replace=replace, weight=weight,
                                    direction=direction, edge_labels=edge_labels, seed=seed)
        generator = torch.Generator().manual_seed(seed) if seed is not None and shuffle else None
        self.loader = NodeLoader(self.data, self.sampler,
                                 input_nodes=seeds if input_type is None else (input_type, seeds),
                                 batch_size=batch_size, shuffle=shuffle, drop_last=drop_last,
                                 generator=generator, filter_per_worker=False)

    def __len__(self) -> int:
        return len(self.loader)

    def __iter__(self) -> Iterator[Batch]:
        if self.prefetch <= 0:
            return (to_device(b, self.device) for b in self.loader)
        return iter(Prefetcher(self.loader, self.device, self.prefetch))


class LinkNeighborLoader:
    """Mini-batches of edges (plus negatives) with the sampled neighborhoods of their ends.

    Args:
        g: the graph.
        num_neighbors: neighbors per hop, as in :class:`NeighborLoader`.
        edge_label_index: the ``(2, m)`` supervision edges in the sampler's index space
            (default: every edge of ``edge_label``; undirected edges once).
        edge_label: labels of those edges (default: ones; negatives get zeros).
        neg_sampling: ``"binary"``, ``"triplet"`` or a PyG ``NegativeSampling``.
        neg_sampling_ratio: negatives per positive edge (with a mode given as a string).
        edge_type: the edge label to draw supervision edges from (default: the only one).
        batch_size / shuffle / features / labels / columns / sampling options / seed /
            device / prefetch / drop_last: as in :class:`NeighborLoader`.

    Raises:
        SchemaError: unknown edge label or column, bad ``edge_label_index`` shape.
        SamplingError: bad fanouts, supervision edges whose ends are not vertices.
    """

    def __init__(self, g: Graph, num_neighbors: Sequence[int] | dict,
                 edge_label_index: Tensor | None = None, edge_label: Tensor | None = None,
                 neg_sampling: str | NegativeSampling | None = None,
                 neg_sampling_ratio: float = 1.0, batch_size: int = 1, shuffle: bool = False,
                 features: Columns | None = "feat", labels: str | None = None,
                 columns: Sequence[str] = (), *, replace: bool = False,
                 weight: str | None = None, direction: str = "in",
                 edge_labels: Sequence[str] | None = None, edge_type: str | None = None,
                 seed: int | None = None, device: str | torch.device | None = None,
                 prefetch: int = 2, drop_last: bool = False,
                 data: tuple[GraphFeatureStore, GraphGraphStore] | None = None):
        _check_fanouts(num_neighbors)
        self.graph = g
        self.data = data if data is not None else to_pyg(g, features, labels, columns)
        if not self.data[0].homogeneous:
            raise SchemaError("LinkNeighborLoader: graphs of one vertex label and one edge label"
                              " for now")
        self.device = resolve_device(device)
        self.prefetch = prefetch
        if edge_label_index is None:
            edge_label_index = supervision_edges(g, edge_type)
        edge_label_index = torch.as_tensor(edge_label_index).long()
        if edge_label_index.dim() != 2 or edge_label_index.size(0) != 2:
            raise SchemaError(f"edge_label_index must have shape (2, m), got"
                              f" {tuple(edge_label_index.shape)}")
        try:
            self.data[0].nodes[vertex_label(g, None)].rows.rows(edge_label_index.reshape(-1))
        except UnknownVertexError as exc:
            raise SamplingError(f"edge_label_index: {exc}") from None
        if isinstance(neg_sampling, str):
            neg_sampling = NegativeSampling(neg_sampling, neg_sampling_ratio)
        self.sampler = GraphSampler(g, num_neighbors, replace=replace, weight=weight,
                                    direction=direction, edge_labels=edge_labels, seed=seed)
        generator = torch.Generator().manual_seed(seed) if seed is not None and shuffle else None
        self.loader = LinkLoader(self.data, self.sampler, edge_label_index=(None, edge_label_index),
                                 edge_label=edge_label, neg_sampling=neg_sampling,
                                 batch_size=batch_size, shuffle=shuffle, drop_last=drop_last,
                                 generator=generator, filter_per_worker=False)

    def __len__(self) -> int:
        return len(self.loader)

    def __iter__(self) -> Iterator[Batch]:
        if self.prefetch <= 0:
            return (to_device(b, self.device) for b in self.loader)
        return iter(Prefetcher(self.loader, self.device, self.prefetch))


def supervision_edges(g: Graph, edge_type: str | None = None) -> Tensor:
    """The ``(2, m)`` edges of one edge label in global ids, undirected edges once."""
    if edge_type is None:
        if len(g.edge_labels) != 1:
            raise SchemaError(f"the graph has edge labels {g.edge_labels}: name one")
        edge_type = g.edge_labels[0]
    src, dst, _ = edge_coo(g, edge_type, "out")
    if not g.directed:
        keep = src <= dst
        src, dst = src[keep], dst[keep]
    return torch.from_numpy(np.stack([src, dst]))
