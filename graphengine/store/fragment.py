"""A fragment: one partition of the graph (edge-cut), the unit every engine works on.

A fragment owns a few contiguous ranges of global vertex ids (its *inner* vertices, in id
order; ``lid`` is a vertex's position among them). It holds their property tables per label,
per edge label the out-edges as CSR (``out_indptr`` over inner vertices, ``out_nbrs`` global ids,
``out_eids`` edge ids) and, for directed graphs, the in-edges as CSC (``in_*``), the property rows
of the edges whose source it owns, and its *outer* vertices: the global ids its edges reach
that another fragment owns. Every array is an Arrow buffer; the numpy accessors are views.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

import numpy as np
import pyarrow as pa

from . import kernels
from .ids import ids_in_ranges


def as_numpy(array: pa.Array) -> np.ndarray:
    """Zero-copy, read-only numpy view of a primitive Arrow array."""
    return array.to_numpy(zero_copy_only=True)


def as_arrow(array: np.ndarray) -> pa.Array:
    """Wrap a numpy array as an Arrow array without copying."""
    return pa.array(np.ascontiguousarray(array))


@dataclass(frozen=True, eq=False)
class Topology:
    """Adjacency of one edge label inside one fragment (in_* is out_* for undirected graphs)."""

    out_indptr: pa.Array
    out_nbrs: pa.Array
    out_eids: pa.Array
    in_indptr: pa.Array
    in_nbrs: pa.Array
    in_eids: pa.Array

    def arrays(self, direction: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(indptr, nbrs, eids)`` numpy views for ``direction`` ``"out"`` or ``"in"``."""
        p = "out_" if direction == "out" else "in_"
        return tuple(as_numpy(getattr(self, p + n)) for n in ("indptr", "nbrs", "eids"))

    def padded(self, n: int) -> Topology:
        """The same adjacency over ``n >= rows`` inner vertices (new rows have no edges)."""
        def pad(indptr: pa.Array) -> pa.Array:
            a = as_numpy(indptr)
            if len(a) - 1 == n:
                return indptr
            return as_arrow(np.concatenate([a, np.full(n + 1 - len(a), a[-1], dtype=np.int64)]))

        out_p = pad(self.out_indptr)
        in_p = out_p if self.in_indptr is self.out_indptr else pad(self.in_indptr)
        return replace(self, out_indptr=out_p, in_indptr=in_p)

    @property
    def nbytes(self) -> int:
        arrays = {id(a): a for a in (self.out_indptr, self.out_nbrs, self.out_eids,
                                     self.in_indptr, self.in_nbrs, self.in_eids)}
        return sum(a.nbytes for a in arrays.values())


@dataclass(frozen=True, eq=False)
class Fragment:
    """One partition of a graph version. Immutable: a new version makes new Fragment objects
    that share the arrays they did not change."""

    fid: int
    fnum: int
    directed: bool
    vertex_count: int
    inner_ranges: np.ndarray
    vertex_tables: Mapping[str, pa.Table]
    edge_tables: Mapping[str, pa.Table]
    topology: Mapping[str, Topology]
    outer_gids: pa.Array
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_cache"] = {}
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)

    @property
    def inner_vertex_count(self) -> int:
        """Number of vertices this fragment owns."""
        return int(self.inner_ranges[:, 1].sum()) if len(self.inner_ranges) else 0

    @property
    def inner_gids(self) -> np.ndarray:
        """Global ids of the inner vertices, ascending (position = local id)."""
        if "inner_gids" not in self._cache:
            self._cache["inner_gids"] = ids_in_ranges(self.inner_ranges)
        return self._cache["inner_gids"]

    @property
    def outer_vertex_count(self) -> int:
        return len(self.outer_gids)

    def is_inner(self, gids: np.ndarray) -> np.ndarray:
        """Whether each global id is owned by this fragment."""
        gids = np.asarray(gids, dtype=np.int64)
        out = np.zeros(len(gids), dtype=bool)
        for start, count in self.inner_ranges:
            out |= (gids >= start) & (gids < start + count)
        return out

    def inner_lids(self, gids: np.ndarray) -> np.ndarray:
        """Local ids of inner vertices given by global id (undefined for outer ones)."""
        gids = np.ascontiguousarray(gids, dtype=np.int64)
        starts = np.ascontiguousarray(self.inner_ranges[:, 0])
        base = np.concatenate([[0], np.cumsum(self.inner_ranges[:, 1])[:-1]]).astype(np.int64)
        return kernels.locate(gids, starts, base, base)[1]

    def csr(self, direction: str = "out", labels: tuple[str, ...] | None = None):
        """``(indptr, nbrs, eids)`` over inner vertices for the edge labels (default: all).

        With one label these are views of the stored arrays; several labels are merged once
        (per fragment object) into new arrays.
        """
        labels = tuple(self.topology) if labels is None else tuple(labels)
        if len(labels) == 1:
            return self.topology[labels[0]].arrays(direction)
        key = ("csr", direction, labels)
        if key not in self._cache:
            n = self.inner_vertex_count
            indptr = np.zeros(n + 1, dtype=np.int64)
            nbrs = np.zeros(0, dtype=np.int64)
            eids = np.zeros(0, dtype=np.int32)  # merges widen it to the labels' id type
            for label in labels:
                p, nb, e = self.topology[label].arrays(direction)
                keys = np.repeat(np.arange(len(p) - 1, dtype=np.int64), np.diff(p))
                indptr, nbrs, eids = kernels.merge_csr(n, indptr, nbrs, eids, keys, nb, e)
            self._cache[key] = (indptr, nbrs, eids)
        return self._cache[key]

    @property
    def out_indptr(self) -> np.ndarray:
        return self.csr("out")[0]

    @property
    def out_nbrs(self) -> np.ndarray:
        return self.csr("out")[1]

    @property
    def out_eids(self) -> np.ndarray:
        return self.csr("out")[2]

    @property
    def in_indptr(self) -> np.ndarray:
        return self.csr("in")[0]

    @property
    def in_nbrs(self) -> np.ndarray:
        return self.csr("in")[1]

    @property
    def in_eids(self) -> np.ndarray:
        return self.csr("in")[2]

    @property
    def nbytes(self) -> int:
        """Bytes held in this fragment's Arrow buffers (topology, properties, outer ids)."""
        tables = list(self.vertex_tables.values()) + list(self.edge_tables.values())
        return (sum(t.nbytes for t in tables) + sum(t.nbytes for t in self.topology.values())
                + self.outer_gids.nbytes)


def compute_outer(topology: Mapping[str, Topology], inner_ranges: np.ndarray,
                  vertex_count: int) -> pa.Array:
    """Outer vertices of a fragment: neighbor ids, over all labels and directions, not inner."""
    parts = []
    for t in topology.values():
        parts.append(as_numpy(t.out_nbrs))
        if t.in_nbrs is not t.out_nbrs:
            parts.append(as_numpy(t.in_nbrs))
    return as_arrow(kernels.outer_vertices(parts, inner_ranges, vertex_count))
