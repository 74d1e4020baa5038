"""Induced subgraphs: the edges among a set of nodes (PyG's ``torch_geometric.utils.subgraph``)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch_geometric.sampler import SamplerOutput

from ..store.graph import Graph
from . import kernels
from .adjacency import adjacency, check_edge_labels, check_gids, local_maps


def induced_subgraph(g: Graph, nodes, *, edge_labels: str | Sequence[str] | None = None
                     ) -> SamplerOutput:
    r"""The subgraph induced by ``nodes``: every edge of the selected labels whose two
    endpoints are in ``nodes``.

    Equivalent to PyG's ``subgraph(nodes, edge_index, relabel_nodes=True,
    return_edge_mask=True)`` on the graph's edge list in edge-id order: edges come sorted by
    edge id, an undirected edge in both orientations (``u -> v`` then ``v -> u``; a self loop
    twice, as the store holds it).

    Args:
        g: the graph.
        nodes: global ids; a repeated id counts once (its first place).
        edge_labels: edge labels to keep (default: all).

    Returns:
        A :class:`torch_geometric.sampler.SamplerOutput`: ``node`` = ``nodes``, ``row`` /
        ``col`` local indices into it (``row`` the source), ``edge`` the edge ids,
        ``num_sampled_nodes = [len(nodes)]``, ``num_sampled_edges = [edges]``.

    Raises:
        SamplingError: an id that is not a vertex. SchemaError: an unknown edge label.

    Complexity:
        O(sum of the out-degrees of ``nodes``) plus a sort of the kept edges.
    """
    labels = check_edge_labels(g, edge_labels)
    gids = check_gids(g, nodes, "nodes")
    adj = adjacency(g, "out", labels)
    maps = local_maps(g)
    local_of = maps.take()
    try:
        kernels.register_seeds(gids, local_of, 0)
        lids, groups = adj.split(gids)
        counts = np.zeros(len(gids), dtype=np.int64)
        for fid, pos in groups:
            indptr, nbrs, _ = adj.parts[fid]
            kernels.induced_counts(pos, lids, indptr, nbrs, local_of, counts)
        counts[local_of[gids] != np.arange(len(gids))] = 0  # a repeat's edges go to its first
        offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        total = int(offsets[-1])
        row = np.empty(total, dtype=np.int64)
        col = np.empty(total, dtype=np.int64)
        eid = np.empty(total, dtype=np.int64)
        for fid, pos in groups:
            indptr, nbrs, eids = adj.parts[fid]
            keep = pos[counts[pos] > 0]
            kernels.induced_edges(keep, lids, indptr, nbrs, eids, local_of, offsets, row, col,
                                  eid)
    finally:
        kernels.reset(gids, local_of)
        maps.give(local_of)
    order = np.lexsort((row, eid))
    row, col, eid = row[order], col[order], eid[order]
    return SamplerOutput(node=torch.from_numpy(gids), row=torch.from_numpy(row),
                         col=torch.from_numpy(col), edge=torch.from_numpy(eid), batch=None,
                         num_sampled_nodes=[len(gids)], num_sampled_edges=[total])
