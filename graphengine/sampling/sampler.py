"""PyG's sampler interface over the store: :class:`GraphSampler` and :func:`sample_links`."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch_geometric.sampler import (
    BaseSampler,
    EdgeSamplerInput,
    HeteroSamplerOutput,
    NegativeSampling,
    NodeSamplerInput,
    SamplerOutput,
)
from torch_geometric.sampler.neighbor_sampler import edge_sample, node_sample

from ..errors import SamplingError
from ..store.graph import Graph
from .adjacency import check_direction, check_edge_labels, check_gids
from .neighbor import (
    EdgeType,
    Fanouts,
    edge_types,
    hetero_fanouts,
    label_gids,
    sample_neighbors,
)


class GraphSampler(BaseSampler):
    r"""PyG's ``BaseSampler`` over a graphengine graph: the neighbor sampler of
    :func:`sample_neighbors` behind PyG's ``NodeLoader`` and ``LinkLoader``.

    ``sample_from_nodes`` and ``sample_from_edges`` return what PyG's own ``NeighborSampler``
    returns for the same inputs (the node and edge sampling wrappers are PyG's own
    ``node_sample`` / ``edge_sample``, so metadata and negative sampling follow PyG exactly);
    only the random picks differ. Homogeneous inputs are global ids, heterogeneous ones
    per-label indices (see :func:`sample_neighbors`). The sampler keeps no per-batch state, so
    PyG's loader workers can share it.

    Args:
        g: the graph.
        num_neighbors: fanouts per hop, or per edge type (as ``sample_neighbors``' fanouts).
        replace: pick with replacement.
        weight: numeric edge property to pick proportionally to.
        direction: ``"in"`` (PyG's default: in-neighbors, messages flow to the seeds) or
            ``"out"``.
        edge_labels: edge labels to sample along (default: all).
        seed: seed of the per-batch seeds (None: torch's global generator, so
            ``torch.manual_seed`` makes a loader reproducible). Negative edges are drawn by
            PyG's ``NegativeSampling`` from torch's global generator either way.

    Examples:
        >>> from torch_geometric.data import Data
        >>> from torch_geometric.loader import NodeLoader
        >>> loader = NodeLoader(Data(x=x, num_nodes=g.id_space),  # doctest: +SKIP
        ...                     node_sampler=GraphSampler(g, [10, 5]), batch_size=128)
    """

    def __init__(self, g: Graph, num_neighbors: Fanouts, *, replace: bool = False,
                 weight: str | None = None, direction: str = "in",
                 edge_labels: str | Sequence[str] | None = None, seed: int | None = None):
        check_direction(direction)
        self.g = g
        self.num_neighbors = num_neighbors
        self.replace = replace
        self.weight = weight
        self.direction = direction
        self.edge_labels = check_edge_labels(g, edge_labels)
        hetero_fanouts(num_neighbors, self.edge_types)  # bad fanouts fail here, not mid-epoch
        self._generator = None
        if seed is not None:
            self._generator = torch.Generator().manual_seed(int(seed))

    @property
    def edge_types(self) -> list[EdgeType]:
        """The PyG edge types heterogeneous sampling follows."""
        return edge_types(self.g, self.edge_labels)

    def num_nodes(self, input_type=None) -> int | dict[str, int]:
        """Size of the id space negatives are drawn from: ``id_space`` (global ids) for
        homogeneous inputs, the vertex count of each label for heterogeneous ones."""
        if input_type is None:
            return self.g.id_space
        return {t: len(label_gids(self.g, t)) for t in self.g.vertex_labels}

    def sample_from_nodes(self, index: NodeSamplerInput,
                          **kwargs) -> SamplerOutput | HeteroSamplerOutput:
        """Sample around ``index.node``; ``metadata = (input_id, time)`` as PyG's."""
        return node_sample(index, self._sample)

    def sample_from_edges(self, index: EdgeSamplerInput,
                          neg_sampling: NegativeSampling | None = None
                          ) -> SamplerOutput | HeteroSamplerOutput:
        """Sample around the endpoints of ``index`` (and of negatives, as PyG does);
        ``metadata = (input_id, edge_label_index, edge_label, time)`` for binary or no
        negative sampling, ``(input_id, src_index, dst_pos_index, dst_neg_index, time)`` for
        triplets."""
        if index.time is not None:
            raise SamplingError("GraphSampler: temporal sampling is not supported")
        neg_sampling = NegativeSampling.cast(neg_sampling)
        if neg_sampling is not None and index.input_type is None:
            neg_sampling = self._live_negatives(neg_sampling)
        return edge_sample(index, self._sample, self.num_nodes(index.input_type), False, None,
                           neg_sampling)

    def _live_negatives(self, neg: NegativeSampling) -> NegativeSampling:
        """Negatives over live gids only: when ``project`` left unused gids, weight them 0."""
        g = self.g
        if g.vertex_count == g.id_space or (neg.src_weight is not None
                                            and neg.dst_weight is not None):
            return neg
        live = torch.zeros(g.id_space)
        live[torch.from_numpy(g.all_gids())] = 1.0
        return NegativeSampling(neg.mode, neg.amount,
                                live if neg.src_weight is None else neg.src_weight,
                                live if neg.dst_weight is None else neg.dst_weight)

    def _sample(self, seed, seed_time=None, **kwargs) -> SamplerOutput | HeteroSamplerOutput:
        if seed_time is not None:
            raise SamplingError("GraphSampler: temporal sampling is not supported")
        key = None
        if self._generator is not None:
            key = int(torch.randint(0, 2**62, (1,), generator=self._generator).item())
        return sample_neighbors(self.g, seed, self.num_neighbors, replace=self.replace,
                                weight=self.weight, direction=self.direction,
                                edge_labels=self.edge_labels, seed=key)


def sample_links(g: Graph, edge_label_index, fanouts: Fanouts, *, edge_label=None,
                 neg_sampling: NegativeSampling | str | None = None,
                 input_type: EdgeType | None = None, replace: bool = False,
                 weight: str | None = None, direction: str = "in",
                 edge_labels: str | Sequence[str] | None = None,
                 seed: int | None = None) -> SamplerOutput | HeteroSamplerOutput:
    r"""Sample the neighborhoods of the endpoints of some links, with negative links, as
    PyG's ``NeighborSampler.sample_from_edges`` (``LinkNeighborLoader``'s sampler) does.

    The seeds are the distinct endpoints (sorted, as PyG's ``unique``) of the given links and
    of the negatives. Negative sampling follows PyG's ``NegativeSampling``: ``"binary"``
    draws ``ceil(amount * links)`` random (source, destination) pairs labelled 0 (positives
    get ``edge_label``, default 1); ``"triplet"`` draws ``amount`` random destinations per
    link. Negatives are uniform over the vertices (or by ``src_weight`` / ``dst_weight``)
    and may be true edges, as in PyG.

    Args:
        g: the graph.
        edge_label_index: ``[2, n]`` links (gids, or per-label indices with ``input_type``).
        fanouts, replace, weight, direction, edge_labels: as :func:`sample_neighbors`.
        edge_label: labels of the links (binary mode).
        neg_sampling: a ``NegativeSampling``, or ``"binary"`` / ``"triplet"`` (amount 1).
        input_type: the links' PyG edge type for heterogeneous sampling.
        seed: random seed of the picks and the negatives (None: torch's global generator).

    Returns:
        PyG's sampler output with ``metadata = (input_id, edge_label_index, edge_label,
        None)`` (no or binary negatives; ``edge_label_index`` indexes ``node``) or
        ``(input_id, src_index, dst_pos_index, dst_neg_index, None)`` (triplets).

    Raises:
        SamplingError: endpoints that are not vertices, a malformed ``edge_label_index``.
    """
    eli = torch.as_tensor(np.asarray(edge_label_index) if not torch.is_tensor(edge_label_index)
                          else edge_label_index)
    if eli.dim() != 2 or eli.size(0) != 2:
        raise SamplingError(f"edge_label_index must have shape [2, n], got {list(eli.shape)}")
    eli = eli.to(torch.long)
    if input_type is None:
        check_gids(g, eli.reshape(-1), "edge_label_index")
    else:
        input_type = tuple(input_type)
        types = edge_types(g, check_edge_labels(g, edge_labels))
        hetero_fanouts(fanouts, types)  # errors before any sampling
        if input_type not in types:
            raise SamplingError(f"input_type {input_type} is not among the edge types {types}")
        for row, label in zip(eli, (input_type[0], input_type[2])):
            n = len(label_gids(g, label))
            if len(row) and (int(row.min()) < 0 or int(row.max()) >= n):
                raise SamplingError(f"edge_label_index: ids of {label!r} must be in"
                                       f" [0, {n})")
    label = None if edge_label is None else torch.as_tensor(edge_label)
    inputs = EdgeSamplerInput(torch.arange(eli.size(1)), eli[0], eli[1], label, None, input_type)
    if isinstance(neg_sampling, str):
        neg_sampling = NegativeSampling(neg_sampling)
    with torch.random.fork_rng(devices=[], enabled=seed is not None):
        if seed is not None:
            torch.manual_seed(int(seed))
        sampler = GraphSampler(g, fanouts, replace=replace, weight=weight,
                               direction=direction, edge_labels=edge_labels, seed=seed)
        return sampler.sample_from_edges(inputs, neg_sampling)
