"""Random walks: uniform (DeepWalk) and node2vec's second-order walks over the store."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from numba.typed import List

from ..errors import SamplingError
from ..store.graph import Graph
from . import kernels
from .adjacency import adjacency, check_edge_labels, check_gids, resolve_seed


def random_walk(g: Graph, starts, walk_length: int, *, p: float = 1.0, q: float = 1.0,
                direction: str = "out", edge_labels: str | Sequence[str] | None = None,
                seed: int | None = None) -> torch.Tensor:
    r"""Random walks of ``walk_length`` steps from each of ``starts``.

    With ``p = q = 1`` every step moves to a uniformly chosen neighbor (DeepWalk). Otherwise
    the walk is node2vec's biased second-order walk (Grover & Leskovec 2016, section 3.2.2):
    coming from ``t`` to ``v``, the next vertex ``x`` among ``v``'s neighbors has weight
    ``1/p`` if ``x = t``, ``1`` if ``x`` is a neighbor of ``t``, ``1/q`` otherwise (a small
    ``p`` keeps the walk local, a small ``q`` sends it outward). Steps are drawn by rejection
    sampling, as torch-cluster and KnightKing do, so no per-edge transition table is built.
    A walk at a vertex with no neighbors stays there (torch-cluster's convention), so every
    row has ``walk_length + 1`` valid vertices.

    Args:
        g: the graph.
        starts: global ids of the start vertices.
        walk_length: number of steps.
        p: node2vec's return parameter (> 0).
        q: node2vec's in-out parameter (> 0).
        direction: follow out-edges (default) or in-edges.
        edge_labels: edge labels to walk along (default: all).
        seed: random seed (None: torch's global generator).

    Returns:
        An int64 tensor ``[len(starts), walk_length + 1]`` of global ids, the starts first.

    Raises:
        SamplingError: a start that is not a vertex, ``walk_length < 0``, ``p`` or ``q``
            not positive. SchemaError: an unknown edge label.

    References:
        Perozzi, Al-Rfou & Skiena, "DeepWalk", KDD 2014. Grover & Leskovec, "node2vec:
        Scalable Feature Learning for Networks", KDD 2016.
    """
    if walk_length < 0:
        raise SamplingError(f"walk_length must be >= 0, got {walk_length}")
    if not (p > 0 and q > 0):
        raise SamplingError(f"node2vec's p and q must be > 0, got p={p}, q={q}")
    labels = check_edge_labels(g, edge_labels)
    gids = check_gids(g, starts, "starts")
    adj = adjacency(g, direction, labels)
    indptrs, nbrs = List(), List()
    for indptr, nb, _ in adj.parts:
        indptrs.append(np.ascontiguousarray(indptr, dtype=np.int64))
        nbrs.append(np.ascontiguousarray(nb, dtype=np.int64))
    sorted_nbrs = List()
    for nb in (adj.sorted_nbrs() if (p != 1.0 or q != 1.0) else nbrs):
        sorted_nbrs.append(nb)
    out = np.empty((len(gids), walk_length + 1), dtype=np.int64)
    if len(gids):
        kernels.random_walks(gids, walk_length, indptrs, nbrs, sorted_nbrs, adj.block_start,
                             adj.block_fid, adj.block_local, float(p), float(q),
                             kernels.stream_key(resolve_seed(seed), 0), out)
    return torch.from_numpy(out)
