"""The store's adjacency arrays as the samplers read them, cached per graph version.

An :class:`Adjacency` is one direction of a set of edge labels over every fragment: per
fragment ``(indptr, nbrs, eids)`` with ``indptr`` over the fragment's inner vertices in local
order and neighbors as global ids (``Fragment.csr``), plus the id blocks that map a global id
to its owner fragment and local row. :meth:`Adjacency.split` cuts a hop's frontier by owner,
so each kernel call reads one fragment's arrays only (the shape a Ray version distributes).
"""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass, field

import numpy as np
import torch

from ..errors import SamplingError, SchemaError
from ..store import kernels as store_kernels
from ..store.graph import Graph

_cache: weakref.WeakKeyDictionary[Graph, dict] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def graph_cache(g: Graph) -> dict:
    """Per-graph-version dict of derived sampling data (freed with the graph)."""
    with _lock:
        d = _cache.get(g)
        if d is None:
            d = _cache[g] = {}
        return d


@dataclass(frozen=True, eq=False)
class Adjacency:
    """One direction (``"in"``: CSC, ``"out"``: CSR) of some edge labels, over all fragments."""

    parts: tuple[tuple[np.ndarray, np.ndarray, np.ndarray], ...]
    block_start: np.ndarray
    block_fid: np.ndarray
    block_local: np.ndarray
    identity: bool  # one fragment whose local ids are the global ids
    _sorted: dict = field(default_factory=dict, repr=False)

    @property
    def fnum(self) -> int:
        return len(self.parts)

    def split(self, gids: np.ndarray) -> tuple[np.ndarray, list[tuple[int, np.ndarray]]]:
        """``(lids, groups)``: the local row of each gid in its owner fragment, and per fragment
        that owns some of them ``(fid, positions)`` (positions into ``gids``, ascending)."""
        if self.identity:
            return gids, [(0, np.arange(len(gids), dtype=np.int64))]
        fids, lids = store_kernels.locate(gids, self.block_start, self.block_fid,
                                          self.block_local)
        if self.fnum == 1:
            return lids, [(0, np.arange(len(gids), dtype=np.int64))]
        perm = store_kernels.group_by_owner(fids, self.fnum)
        bounds = np.concatenate([[0], np.cumsum(np.bincount(fids, minlength=self.fnum))])
        return lids, [(f, perm[bounds[f]:bounds[f + 1]]) for f in range(self.fnum)
                      if bounds[f + 1] > bounds[f]]

    def sorted_nbrs(self) -> tuple[np.ndarray, ...]:
        """Per fragment the neighbor array with each row sorted (adjacency tests by binary
        search), computed once."""
        if "nbrs" not in self._sorted:
            out = []
            for indptr, nbrs, _ in self.parts:
                rows = np.repeat(np.arange(len(indptr) - 1, dtype=np.int64), np.diff(indptr))
                out.append(np.ascontiguousarray(nbrs[np.lexsort((nbrs, rows))]))
            self._sorted["nbrs"] = tuple(out)
        return self._sorted["nbrs"]


def resolve_seed(seed: int | None) -> int:
    """The user's seed, or one drawn from torch's global generator (``torch.manual_seed``)."""
    if seed is None:
        return int(torch.randint(0, 2**62, (1,)).item())
    return int(seed)


def check_direction(direction: str) -> None:
    if direction not in ("in", "out"):
        raise SamplingError(f"direction must be 'in' or 'out', got {direction!r}")


def check_edge_labels(g: Graph, edge_labels) -> tuple[str, ...]:
    """The selected edge labels (default: all), each checked against the schema."""
    if edge_labels is None:
        return tuple(g.edge_labels)
    labels = (edge_labels,) if isinstance(edge_labels, str) else tuple(edge_labels)
    for label in labels:
        g.schema.edge_label(label)  # SchemaError for an unknown label
    return labels


def adjacency(g: Graph, direction: str, labels: tuple[str, ...],
              neighbor_label: str | None = None) -> Adjacency:
    """The cached :class:`Adjacency` of ``labels`` along ``direction``; with
    ``neighbor_label``, only the entries whose neighbor has that vertex label."""
    check_direction(direction)
    if not g.directed:
        direction = "out"  # one adjacency serves both directions
    key = ("adjacency", direction, labels, neighbor_label)
    cache = graph_cache(g)
    if key in cache:
        return cache[key]
    parts = []
    for frag in g.fragments:
        present = tuple(lab for lab in labels if lab in frag.topology)
        if not present:
            n = frag.inner_vertex_count
            parts.append((np.zeros(n + 1, dtype=np.int64), np.zeros(0, dtype=np.int64),
                          np.zeros(0, dtype=np.int64)))
            continue
        indptr, nbrs, eids = frag.csr(direction, present)
        if len(indptr) - 1 < frag.inner_vertex_count:  # rows past the end have no edges
            indptr = np.concatenate([indptr, np.full(frag.inner_vertex_count + 1 - len(indptr),
                                                     indptr[-1], dtype=np.int64)])
        if neighbor_label is not None:
            li = g.schema.vertex_label_index(neighbor_label)
            keep = g.vertex_label_of(nbrs) == li
            if not keep.all():
                indptr, nbrs, eids = store_kernels.filter_csr(indptr, nbrs, eids, keep)
        parts.append((indptr, nbrs, eids))
    vb = g.vertex_blocks
    identity = g.fnum == 1 and np.array_equal(vb.local, vb.start)
    adj = Adjacency(tuple(parts), vb.start, vb.fid, vb.local, identity)
    cache[key] = adj
    return adj


def edge_weights(g: Graph, name: str, labels: tuple[str, ...]) -> np.ndarray:
    """An edge property as float64 weights indexed by edge id (NaN where a label lacks it)."""
    key = ("weights", name, labels)
    cache = graph_cache(g)
    if key in cache:
        return cache[key]
    having = [lab for lab in labels if name in g.schema.edge_label(lab).properties]
    if not having:
        raise SchemaError(f"no edge label of {list(labels)} has the property {name!r}")
    out = np.full(g.edge_blocks.total, np.nan)
    for lab in having:
        values = g.edge_property(name, lab)
        if values.dtype.kind not in "fiub":
            raise SchemaError(f"edge property {name!r} of label {lab!r} is not numeric"
                              f" ({values.dtype}); weights must be numbers")
        mask = g.edge_blocks.label == g.schema.edge_label_index(lab)
        for s, c in zip(g.edge_blocks.start[mask], g.edge_blocks.count[mask]):
            out[s:s + c] = values[s:s + c]
    cache[key] = out
    return out


class LocalMap:
    """A pool of global-id -> batch-position maps (int64 arrays of ``id_space`` entries, -1
    where unset). A batch takes one, and gives it back after clearing the entries it set, so
    the next batch pays only for what it touches; concurrent batches take different maps."""

    def __init__(self, id_space: int):
        self.id_space = id_space
        self._free: list[np.ndarray] = []

    def take(self) -> np.ndarray:
        try:
            return self._free.pop()
        except IndexError:
            return np.full(max(self.id_space, 1), -1, dtype=np.int64)

    def give(self, local_of: np.ndarray) -> None:
        self._free.append(local_of)


def local_maps(g: Graph) -> LocalMap:
    cache = graph_cache(g)
    with _lock:
        if "maps" not in cache:
            cache["maps"] = LocalMap(g.id_space)
        return cache["maps"]


def check_gids(g: Graph, gids, what: str = "seeds") -> np.ndarray:
    """Seeds as a contiguous int64 array of live global ids; others raise a
    :class:`SamplingError` naming the first bad one."""
    arr = np.ascontiguousarray(_as_numpy(gids), dtype=np.int64).reshape(-1)
    if len(arr) == 0:
        return arr
    vb = g.vertex_blocks
    bad = (arr < 0) | (arr >= g.id_space)
    if not bad.any():
        b = np.searchsorted(vb.start, arr, side="right") - 1
        bad = arr >= vb.start[b] + vb.count[b]
    if bad.any():
        first = int(arr[np.flatnonzero(bad)[0]])
        raise SamplingError(f"{what}: {first} is not a vertex global id of this graph"
                               f" (ids are in [0, {g.id_space}))")
    return arr


def _as_numpy(values) -> np.ndarray:
    if hasattr(values, "detach"):  # a torch tensor
        return values.detach().cpu().numpy()
    return np.asarray(values)
