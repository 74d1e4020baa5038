"""Multi-hop neighbor sampling over the store (GraphSAGE's sampler), in PyG's output format."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

import numpy as np
import torch
from torch_geometric.sampler import HeteroSamplerOutput, NumNeighbors, SamplerOutput

from ..errors import SamplingError, SchemaError
from ..store.graph import Graph
from . import kernels
from .adjacency import (
    Adjacency,
    adjacency,
    check_direction,
    check_edge_labels,
    check_gids,
    edge_weights,
    graph_cache,
    local_maps,
    resolve_seed,
)

log = logging.getLogger(__name__)

EdgeType = tuple[str, str, str]
Ids = np.ndarray | torch.Tensor | Sequence[int]
Fanouts = Sequence[int] | Mapping[EdgeType | str, Sequence[int]] | NumNeighbors
Seeds = Ids | Mapping[str, Ids]
_NO_WEIGHTS = np.zeros(1, dtype=np.float64)
_EMPTY = np.zeros(0, dtype=np.int64)


def sample_neighbors(g: Graph, seeds: Seeds, fanouts: Fanouts, *, replace: bool = False,
                     weight: str | None = None, direction: str = "in",
                     edge_labels: str | Sequence[str] | None = None,
                     seed: int | None = None) -> SamplerOutput | HeteroSamplerOutput:
    r"""Sample a multi-hop neighborhood of ``seeds``, as PyG's ``NeighborSampler`` does.

    Hop ``k`` picks up to ``fanouts[k]`` neighbors of every node the previous hop added (the
    seeds for the first hop): uniformly, or proportionally to an edge property ``weight``;
    without replacement (a node's neighbors are picked at most once each; a node with no more
    neighbors than the fanout keeps them all) or with replacement (exactly ``fanout`` picks).
    A fanout of ``-1`` keeps every neighbor. This is the sampler of GraphSAGE (Hamilton, Ying
    & Leskovec 2017, Algorithm 2).

    **Ids.** With ``seeds`` an array (homogeneous sampling over the selected edge labels),
    seeds and sampled nodes are *global ids* (gids, ``g.vertex_property`` indexes by them);
    for a graph of one vertex label with user ids ``0 .. n-1`` in one fragment (the graphs of
    :mod:`graphengine.datasets`), the gid is the user id, and ``g.gids(label, ids)`` converts
    in general. With ``seeds`` a dict (heterogeneous sampling), ids are per-label indices:
    the row of the vertex in ``g.vertex_table(label)`` (ascending gid order), the numbering of
    PyG's ``HeteroData``.

    **Output** (PyG's conventions): ``node`` lists the sampled nodes, seeds first and in the
    given order, then each hop's new nodes in the order they were first picked (a node
    appears once; a repeated seed keeps each of its places and its edges attach to the
    first). ``row[i] -> col[i]`` is the ``i``-th sampled edge as local indices into ``node``,
    oriented as stored: along in-edges (``direction="in"``, message passing from the
    neighbor to the sampling node) ``row`` is the neighbor and ``col`` the node that picked
    it; along out-edges ``row`` is the node that picked and ``col`` the neighbor. ``edge``
    holds the graph's edge ids, ``batch`` is None, ``num_sampled_nodes[k]`` counts the nodes
    first added at hop ``k`` (the seeds at 0), ``num_sampled_edges[k]`` the edges of hop
    ``k + 1``. Heterogeneous output is keyed by node label and PyG edge type
    ``(src_label, edge_label, dst_label)``; on undirected graphs a relation between two labels
    appears in both orientations. Every edge type samples ``fanouts`` neighbors per node.

    **Reproducibility.** The sample is a function of ``seed``, the graph and the arguments:
    the same for any number of Numba threads. With several fragments, the same (the same
    neighbors, by user id) as one fragment wherever a vertex's adjacency row keeps its order,
    which the store guarantees for out-edges (input order) and undirected graphs; in-edge
    rows of a directed graph list sources by global id, which depends on the partitioning.

    Args:
        g: the graph.
        seeds: gids (array or tensor), or ``{vertex label: per-label indices}``.
        fanouts: neighbors per node per hop (``-1``: all); for heterogeneous sampling also
            ``{edge type: [...]}`` with every sampled edge type present (an edge label name
            stands for all its relations), all lists of one length.
        replace: pick with replacement.
        weight: name of a numeric edge property: picks proportional to it (weights that
            are not positive are never picked, except by a fanout of -1). Without replacement,
            Efraimidis & Spirakis's weighted random sampling (2006).
        direction: ``"in"`` (sample in-neighbors, the CSC; PyG's default) or ``"out"``.
        edge_labels: edge labels to sample along (default: all).
        seed: random seed; None draws one from torch's global generator (so
            ``torch.manual_seed`` fixes it).

    Returns:
        A :class:`torch_geometric.sampler.SamplerOutput`, or a
        :class:`~torch_geometric.sampler.HeteroSamplerOutput` for dict seeds.

    Raises:
        SchemaError: unknown edge label, vertex label or weight property; fanouts for an
            edge type the graph does not have.
        SamplingError: a seed that is not a vertex, fanouts of unequal lengths or below
            -1, a bad ``direction``.

    Complexity:
        O(sampled edges) per hop plus O(degree) per node for weighted picks; the renumbering
        of new nodes is one pass in pick order.

    Examples:
        >>> import graphengine
        >>> from graphengine.datasets import erdos_renyi
        >>> with graphengine.session() as sess:
        ...     g = erdos_renyi(sess, 100, m=400, seed=1)
        ...     out = sample_neighbors(g, [0, 1], [5, 3], seed=0)
        >>> out.node[:2].tolist(), len(out.num_sampled_nodes)
        ([0, 1], 3)

    References:
        Hamilton, Ying & Leskovec, "Inductive Representation Learning on Large Graphs",
        NeurIPS 2017. Efraimidis & Spirakis, "Weighted random sampling with a reservoir",
        Information Processing Letters 97(5), 2006.
    """
    check_direction(direction)
    labels = check_edge_labels(g, edge_labels)
    key = resolve_seed(seed)
    if isinstance(seeds, Mapping):
        return _sample_hetero(g, seeds, fanouts, replace, weight, direction, labels, key)
    hops = _hop_list(fanouts)
    weights = edge_weights(g, weight, labels) if weight is not None else None
    gids = check_gids(g, seeds)
    adj = adjacency(g, direction, labels)
    return _sample_homogeneous(g, gids, hops, replace, weights, adj, direction, key)


def _check_fanout_values(values: Sequence[int], what: str) -> list[int]:
    out = [int(v) for v in values]
    if any(v < -1 for v in out):
        raise SamplingError(f"{what}: fanouts must be >= -1 (-1 = all neighbors), got {out}")
    return out


def _hop_list(fanouts: Fanouts) -> list[int]:
    if isinstance(fanouts, NumNeighbors):
        fanouts = fanouts.values
    if isinstance(fanouts, Mapping):
        raise SamplingError("per-edge-type fanouts need heterogeneous seeds "
                               "({vertex label: ids}); give a list for homogeneous sampling")
    return _check_fanout_values(fanouts, "fanouts")


def expand(adj: Adjacency, frontier: np.ndarray, fanout: int, replace: bool,
           weights: np.ndarray | None, key: np.uint64, frontier_base: int):
    """One hop from ``frontier`` (gids): ``(neighbor gids, edge ids, batch position of the
    picking node)`` in frontier order; one pair of kernel calls per owner fragment."""
    n = len(frontier)
    if n == 0:
        return _EMPTY, _EMPTY, _EMPTY
    lids, groups = adj.split(frontier)
    weighted = weights is not None
    w = weights if weighted else _NO_WEIGHTS
    counts = np.empty(n, dtype=np.int64)
    row_start = np.empty(n, dtype=np.int64)
    row_deg = np.empty(n, dtype=np.int64)
    for fid, pos in groups:
        indptr, _, eids = adj.parts[fid]
        kernels.pick_counts(pos, lids, indptr, eids, fanout, replace, w, weighted, counts,
                            row_start, row_deg)
    offsets = np.empty(n + 1, dtype=np.int64)
    offsets[0] = 0
    np.cumsum(counts, out=offsets[1:])
    total = int(offsets[-1])
    out_nbr = np.empty(total, dtype=np.int64)
    out_eid = np.empty(total, dtype=np.int64)
    out_from = np.empty(total, dtype=np.int64)
    for fid, pos in groups:
        _, nbrs, eids = adj.parts[fid]
        kernels.pick_neighbors(pos, row_start, row_deg, nbrs, eids, fanout, replace, w, weighted,
                               key, offsets, frontier_base, out_nbr, out_eid, out_from)
    return out_nbr, out_eid, out_from


def _renumber(picked: np.ndarray, local_of: np.ndarray, base: int) -> tuple[np.ndarray, np.ndarray]:
    new = np.empty(len(picked), dtype=np.int64)
    loc = np.empty(len(picked), dtype=np.int64)
    m = kernels.renumber(picked, local_of, base, new, loc)
    return new[:m], loc


def _sample_homogeneous(g: Graph, seeds: np.ndarray, hops: list[int], replace: bool,
                        weights: np.ndarray | None, adj: Adjacency, direction: str,
                        seed: int) -> SamplerOutput:
    maps = local_maps(g)
    local_of = maps.take()
    nodes = [seeds]
    try:
        kernels.register_seeds(seeds, local_of, 0)
        rows, cols, edges, hop_edges = [], [], [], []
        frontier, base, n = seeds, 0, len(seeds)
        for hop, fanout in enumerate(hops):
            nbr, eid, src = expand(adj, frontier, fanout, replace, weights,
                                   kernels.stream_key(seed, hop), base)
            new, loc = _renumber(nbr, local_of, n)
            rows.append(loc)
            cols.append(src)
            edges.append(eid)
            hop_edges.append(len(eid))
            nodes.append(new)
            frontier, base, n = new, n, n + len(new)
    finally:
        for part in nodes:
            kernels.reset(part, local_of)
        maps.give(local_of)
    if direction == "out":
        rows, cols = cols, rows
    log.debug("sampled %d seeds -> %d nodes, %d edges", len(seeds), sum(map(len, nodes)),
              sum(hop_edges))
    return SamplerOutput(
        node=torch.from_numpy(_cat(nodes)),
        row=torch.from_numpy(_cat(rows)),
        col=torch.from_numpy(_cat(cols)),
        edge=torch.from_numpy(_cat(edges)),
        batch=None,
        num_sampled_nodes=[len(p) for p in nodes],
        num_sampled_edges=hop_edges,
    )


def _cat(parts: list[np.ndarray]) -> np.ndarray:
    if not parts:
        return _EMPTY
    return parts[0] if len(parts) == 1 else np.concatenate(parts)


# ---------------------------------------------------------------------------- heterogeneous


def edge_types(g: Graph, labels: Sequence[str]) -> list[EdgeType]:
    """PyG edge types ``(src_label, edge_label, dst_label)`` of the edge labels, in schema
    order; on undirected graphs a relation between two labels in both orientations."""
    out: list[EdgeType] = []
    for label in labels:
        for s, d in g.schema.edge_label(label).relations:
            for et in ((s, label, d), (d, label, s)) if not g.directed else ((s, label, d),):
                if et not in out:
                    out.append(et)
    return out


def hetero_fanouts(fanouts: Fanouts, types: list[EdgeType]) -> dict[EdgeType, list[int]]:
    """Fanouts per edge type: one list for all, or a dict covering every edge type."""
    if isinstance(fanouts, NumNeighbors):
        fanouts = fanouts.values
    if not isinstance(fanouts, Mapping):
        hops = _check_fanout_values(fanouts, "fanouts")
        return {et: hops for et in types}
    out: dict[EdgeType, list[int]] = {}
    for k, v in fanouts.items():
        if isinstance(k, str) and "__" in k:
            k = tuple(k.split("__"))  # PyG's EdgeTypeStr form
        matched = [et for et in types if et == tuple(k) or (isinstance(k, str) and et[1] == k)]
        if not matched:
            raise SchemaError(f"fanouts given for edge type {k!r}, which is not among the"
                              f" sampled edge types {types}")
        for et in matched:
            out[et] = _check_fanout_values(v, f"fanouts of {et}")
    missing = [et for et in types if et not in out]
    if missing:
        raise SamplingError(f"fanouts missing for edge types {missing}")
    lengths = {len(v) for v in out.values()}
    if len(lengths) > 1:
        raise SamplingError(f"fanout lists must have one length (one entry per hop) for"
                               f" every edge type, got lengths {sorted(lengths)}")
    return out


def label_gids(g: Graph, label: str) -> np.ndarray:
    """Global ids of a vertex label's vertices, ascending (index = per-label index)."""
    cache = graph_cache(g)
    key = ("label_gids", label)
    if key not in cache:
        cache[key] = g.vertex_gids(label)
    return cache[key]


def to_gids(g: Graph, label: str, index) -> np.ndarray:
    """Global ids of per-label indices (checked)."""
    table = label_gids(g, label)
    idx = np.ascontiguousarray(index.detach().cpu().numpy() if hasattr(index, "detach")
                               else np.asarray(index), dtype=np.int64).reshape(-1)
    bad = (idx < 0) | (idx >= len(table))
    if bad.any():
        raise SamplingError(f"seeds of vertex label {label!r}: {int(idx[bad][0])} is out of"
                               f" range (the label has {len(table)} vertices)")
    return table[idx]


def to_index(g: Graph, label: str, gids: np.ndarray) -> np.ndarray:
    """Per-label indices of global ids of that label."""
    return np.searchsorted(label_gids(g, label), gids)


def _neighbor_filter(g: Graph, et: EdgeType, direction: str) -> str | None:
    """The neighbor label to keep when the label's rows mix neighbor labels, else None."""
    s, label, d = et
    frontier, neighbor = (d, s) if direction == "in" else (s, d)
    possible = set()
    for rs, rd in g.schema.edge_label(label).relations:
        if (not g.directed or direction == "out") and rs == frontier:
            possible.add(rd)
        if (not g.directed or direction == "in") and rd == frontier:
            possible.add(rs)
    return None if possible == {neighbor} else neighbor


def _sample_hetero(g: Graph, seeds: Mapping, fanouts: Fanouts, replace: bool,
                   weight: str | None, direction: str, labels: tuple[str, ...],
                   seed: int) -> HeteroSamplerOutput:
    node_types = list(g.vertex_labels)
    for t in seeds:
        if t not in node_types:
            raise SchemaError(f"unknown vertex label {t!r} in seeds; known: {node_types}")
    types = edge_types(g, labels)
    hops = hetero_fanouts(fanouts, types)
    num_hops = len(next(iter(hops.values()))) if hops else 0
    plan = []
    for et in types:
        s, label, d = et
        adj = adjacency(g, direction, (label,), _neighbor_filter(g, et, direction))
        w = edge_weights(g, weight, (label,)) if weight is not None else None
        plan.append((et, (d, s) if direction == "in" else (s, d), adj, w))

    nodes = {t: [to_gids(g, t, seeds[t]) if t in seeds else _EMPTY] for t in node_types}
    maps = local_maps(g)
    local_of = maps.take()
    try:
        count = {}
        for t in node_types:
            kernels.register_seeds(nodes[t][0], local_of, 0)
            count[t] = len(nodes[t][0])
        frontier = {t: nodes[t][0] for t in node_types}
        num_sampled_nodes = {t: [len(nodes[t][0])] for t in node_types}
        base = dict.fromkeys(node_types, 0)
        rows = {et: [] for et in types}
        cols = {et: [] for et in types}
        edges = {et: [] for et in types}
        hop_edges = {et: [] for et in types}
        for hop in range(num_hops):
            added = {t: [] for t in node_types}
            for i, (et, (ftype, ntype), adj, w) in enumerate(plan):
                nbr, eid, src = expand(adj, frontier[ftype], hops[et][hop], replace, w,
                                       kernels.stream_key(seed, hop, i), base[ftype])
                new, loc = _renumber(nbr, local_of, count[ntype])
                count[ntype] += len(new)
                added[ntype].append(new)
                nodes[ntype].append(new)
                r, c = (loc, src) if direction == "in" else (src, loc)
                rows[et].append(r)
                cols[et].append(c)
                edges[et].append(eid)
                hop_edges[et].append(len(eid))
            for t in node_types:
                base[t] += len(frontier[t])
                frontier[t] = _cat(added[t])
                num_sampled_nodes[t].append(len(frontier[t]))
    finally:
        for parts in nodes.values():
            for part in parts:
                kernels.reset(part, local_of)
        maps.give(local_of)
    return HeteroSamplerOutput(
        node={t: torch.from_numpy(to_index(g, t, _cat(nodes[t]))) for t in node_types},
        row={et: torch.from_numpy(_cat(rows[et])) for et in types},
        col={et: torch.from_numpy(_cat(cols[et])) for et in types},
        edge={et: torch.from_numpy(_cat(edges[et])) for et in types},
        batch=None,
        num_sampled_nodes=num_sampled_nodes,
        num_sampled_edges=hop_edges,
    )
