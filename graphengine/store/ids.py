"""Internal ids: blocks of dense global ids, the vertex map's user-id index, and partitioners.

Vertices get dense global ids (gids) ``0..N-1`` and edges dense edge ids (eids) ``0..E-1``.
Ids are handed out in *blocks*: one block per (fragment, label) each time vertices or edges are
added, so a fragment owns a few contiguous id ranges and ids never change when a new version adds
more. ``IdBlocks.locate`` maps ids to (fragment, local offset) by a binary search over the block
starts, a tiny array.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numba
import numpy as np
import pandas as pd
import pyarrow as pa

from ..errors import DuplicateVertexError, SchemaError
from . import kernels

_EMPTY = np.zeros(0, dtype=np.int64)


@dataclass(frozen=True, eq=False)
class IdBlocks:
    """Contiguous id ranges: ``[start[b], start[b] + count[b])`` belongs to fragment ``fid[b]``.

    ``label[b]`` is the label of the ids, ``row[b]`` the offset of the block's first id in the
    fragment's table of that label, ``local[b]`` its offset among all the fragment's ids.
    """

    start: np.ndarray
    count: np.ndarray
    fid: np.ndarray
    label: np.ndarray
    row: np.ndarray
    local: np.ndarray

    @classmethod
    def empty(cls) -> IdBlocks:
        return cls(*(np.zeros(0, dtype=np.int64) for _ in cls._fields))

    @property
    def total(self) -> int:
        """Number of ids handed out so far (the next id to give)."""
        return int(self.start[-1] + self.count[-1]) if len(self.start) else 0

    def append(self, fid: int, label: int, row: int, local: int, count: int) -> IdBlocks:
        """A new IdBlocks with one more block of ``count`` ids at the end of the id space."""
        add = [self.total, count, fid, label, row, local]
        cols = [np.append(getattr(self, f), v).astype(np.int64) for f, v in zip(self._fields, add)]
        return IdBlocks(*cols)

    _fields = ("start", "count", "fid", "label", "row", "local")

    def select(self, mask: np.ndarray) -> IdBlocks:
        """The blocks where ``mask`` holds (ids keep their values)."""
        return IdBlocks(*(getattr(self, f)[mask] for f in self._fields))

    def locate(self, ids: np.ndarray, base: str = "local") -> tuple[np.ndarray, np.ndarray]:
        """``(fragment, offset)`` of each id; offset counted from ``self.<base>`` of its block."""
        ids = np.ascontiguousarray(ids, dtype=np.int64)
        if len(self.start) == 0:
            return _EMPTY.copy(), _EMPTY.copy()
        return kernels.locate(ids, self.start, self.fid, getattr(self, base))

    def ranges(self, fid: int) -> np.ndarray:
        """``(k, 2)`` array of the (start, count) ranges owned by fragment ``fid``, in id order."""
        mask = self.fid == fid
        return np.stack([self.start[mask], self.count[mask]], axis=1).astype(np.int64)

    def to_json(self) -> dict:
        return {f: getattr(self, f).tolist() for f in self._fields}

    @classmethod
    def from_json(cls, data: dict) -> IdBlocks:
        return cls(*(np.asarray(data[f], dtype=np.int64) for f in cls._fields))


def ids_in_ranges(ranges: np.ndarray) -> np.ndarray:
    """Concatenate ``arange(start, start + count)`` over ``(k, 2)`` ranges."""
    if len(ranges) == 0:
        return _EMPTY.copy()
    if len(ranges) == 1:  # one block (one fragment): no concatenation copy
        return np.arange(ranges[0][0], ranges[0][0] + ranges[0][1], dtype=np.int64)
    return np.concatenate([np.arange(s, s + c, dtype=np.int64) for s, c in ranges])


def result_order(parts: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray | None]:
    """``(gids, order)`` for per-fragment global ids ``parts`` concatenated in fragment order:
    the ids ascending (read-only) and the permutation that sorts them, None when the
    concatenation already ascends (one fragment, range partitioning). Analytics results are
    assembled through it."""
    gids = np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, dtype=np.int64)
    order = None
    if len(gids) > 1 and not bool((gids[1:] > gids[:-1]).all()):
        order = np.argsort(gids, kind="stable")
        gids = gids[order]
    gids.flags.writeable = False
    return gids, order


def normalize_ids(ids: pa.Array | pa.ChunkedArray, what: str) -> pa.Array | pa.ChunkedArray:
    """User ids as int64 or string Arrow values (chunks kept, not concatenated); other types
    are a :class:`SchemaError`."""
    t = ids.type
    if pa.types.is_integer(t):
        return ids.cast(pa.int64())
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return ids.cast(pa.large_string())
    if pa.types.is_dictionary(t) and pa.types.is_string(t.value_type):
        return ids.cast(pa.large_string())
    raise SchemaError(f"{what}: vertex ids must be int64 or string, got {t}")


class LabelIndex:
    """User id -> global id for one label's vertices (vectorized; -1 where absent).

    Integer ids that fill a dense range use a direct lookup table (a Numba gather); sparse
    integer ids a sorted array and binary search; strings a hash index (pandas).
    """

    def __init__(self, oids: pa.Array, gids: np.ndarray):
        self.oids = oids
        self.values = gids
        self.is_int = pa.types.is_integer(oids.type)

    @cached_property
    def _int_index(self):
        keys = self.oids.to_numpy(zero_copy_only=False)
        if len(keys) == 0:
            return ("sorted", _EMPTY, _EMPTY)
        lo, hi = int(keys.min()), int(keys.max())
        if hi - lo < 2 * len(keys) + 1024:
            table = np.full(hi - lo + 1, -1, dtype=np.int64)
            table[keys - lo] = self.values
            return ("dense", lo, table)
        order = np.argsort(keys, kind="stable")
        return ("sorted", keys[order], self.values[order])

    def dense_table(self) -> tuple[int, np.ndarray] | None:
        """``(lo, table)`` with ``table[id - lo]`` the global id (-1 where absent) when the
        label's ids are integers filling a dense range; None otherwise."""
        if not self.is_int:
            return None
        kind, lo, table = self._int_index
        return (lo, table) if kind == "dense" else None

    @cached_property
    def _str_index(self) -> pd.Index:
        return pd.Index(self.oids.to_numpy(zero_copy_only=False))

    def lookup_one(self, value: Any) -> int | None:
        """Global id of one user id (-1 when the label does not have it); None when ``value``
        is neither a plain integer nor a string (:meth:`lookup` converts or rejects those)."""
        if isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)):
            if not self.is_int:
                return None
            if not -(1 << 63) <= value < (1 << 63):
                return -1
            kind, a, b = self._int_index
            if kind == "dense":
                k = int(value) - a
                return int(b[k]) if 0 <= k < len(b) else -1
            pos = int(np.searchsorted(a, value))
            return int(b[pos]) if pos < len(a) and a[pos] == value else -1
        if isinstance(value, str) and not self.is_int:
            pos = self._str_index.get_indexer([value])[0]
            return int(self.values[pos]) if pos >= 0 else -1
        return None

    def lookup(self, query: pa.Array | pa.ChunkedArray) -> np.ndarray:
        """Global ids of ``query`` user ids, -1 for ids the label does not have."""
        if self.is_int != pa.types.is_integer(query.type):
            kind = "int64" if self.is_int else "string"
            raise SchemaError(f"vertex ids of this label are {kind}, got {query.type}")
        if isinstance(query, pa.ChunkedArray):
            # chunk by chunk into one array: the ids are never concatenated (a file's worth)
            out = np.empty(len(query), dtype=np.int64)
            pos = 0
            for chunk in query.chunks:
                out[pos:pos + len(chunk)] = self.lookup(chunk)
                pos += len(chunk)
            return out
        if not self.is_int:
            pos = self._str_index.get_indexer(query.to_numpy(zero_copy_only=False))
            return np.where(pos >= 0, self.values[pos], -1)
        q = np.ascontiguousarray(query.to_numpy(zero_copy_only=False), dtype=np.int64)
        kind, a, b = self._int_index
        if kind == "dense":
            return kernels.lookup_dense(q, a, b)
        if len(a) == 0:
            return np.full(len(q), -1, dtype=np.int64)
        pos = np.minimum(np.searchsorted(a, q), len(a) - 1)
        return np.where(a[pos] == q, b[pos], -1)


def check_unique(ids: pa.Array, label: str) -> None:
    """Raise :class:`DuplicateVertexError` when ``ids`` holds a value twice."""
    values = ids.to_numpy(zero_copy_only=False)
    if pa.types.is_integer(ids.type):
        s = np.sort(values)
        dup = s[1:][s[1:] == s[:-1]]
        if len(dup):
            raise DuplicateVertexError(f"vertex label {label!r}: duplicate id {dup[0].item()!r}")
        return
    dup = pd.Index(values)
    if dup.has_duplicates:
        first = dup[dup.duplicated()][0]
        raise DuplicateVertexError(f"vertex label {label!r}: duplicate id {first!r}")


def hash_ids(ids: pa.Array) -> np.ndarray:
    """A stable 64-bit hash of each user id (same value in every process and run)."""
    if pa.types.is_integer(ids.type):
        x = ids.to_numpy(zero_copy_only=False).astype(np.uint64)
        # splitmix64 finalizer: spreads consecutive ids evenly over fragments
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return x ^ (x >> np.uint64(31))
    return pd.util.hash_array(ids.to_numpy(zero_copy_only=False)).astype(np.uint64)


@dataclass(frozen=True)
class Partitioner:
    """Assigns each user id to a fragment: by hash (default), by sorted id ranges, or by
    Fennel streaming over the edges.

    For ``kind="range"`` the boundaries of a label are fixed by its first load (equal counts
    of sorted ids per fragment) and reused for later additions. For ``kind="fennel"`` the
    graph's first edges place every vertex there is then (:func:`fennel_assign`, called by
    :meth:`graphengine.Graph.add_edges`); vertices added before are placed by hash until then,
    vertices added after by hash.
    """

    fnum: int
    kind: str = "hash"
    boundaries: tuple[tuple[str, tuple], ...] = ()

    def __post_init__(self):
        if self.kind not in PARTITIONERS:
            raise SchemaError(f"partitioner must be one of {PARTITIONERS}, got {self.kind!r}")
        if self.fnum < 1:
            raise SchemaError(f"number of fragments must be >= 1, got {self.fnum}")

    def assign(self, label: str, ids: pa.Array) -> tuple[np.ndarray, Partitioner]:
        """Fragment of each id, and the partitioner to keep (range boundaries may be new)."""
        if self.kind in ("hash", "fennel"):
            return (hash_ids(ids) % np.uint64(self.fnum)).astype(np.int64), self
        bounds = dict(self.boundaries)
        values = ids.to_numpy(zero_copy_only=False)
        me = self
        if label not in bounds:
            s = np.sort(values)
            cuts = [s[(len(s) * k) // self.fnum] for k in range(1, self.fnum)] if len(s) else []
            bounds[label] = tuple(v.item() if hasattr(v, "item") else v for v in cuts)
            me = Partitioner(self.fnum, self.kind, tuple(bounds.items()))
        cuts = np.asarray(bounds[label], dtype=values.dtype if len(bounds[label]) else None)
        return np.searchsorted(cuts, values, side="right").astype(np.int64), me


#: Partitioner kinds: hash of the user id, sorted id ranges, Fennel streaming over the edges.
PARTITIONERS = ("hash", "range", "fennel")


@numba.njit(cache=True)
def _undirected_csr(src, dst, n):
    """Adjacency of the vertices ``0..n-1`` over the edges ``src -> dst`` with directions
    ignored (self loops and edges with an endpoint < 0 dropped)."""
    indptr = np.zeros(n + 1, dtype=np.int64)
    for i in range(src.shape[0]):
        a, b = src[i], dst[i]
        if a >= 0 and b >= 0 and a != b:
            indptr[a + 1] += 1
            indptr[b + 1] += 1
    for v in range(n):
        indptr[v + 1] += indptr[v]
    fill = indptr[:-1].copy()
    nbrs = np.empty(indptr[n], dtype=np.int64)
    for i in range(src.shape[0]):
        a, b = src[i], dst[i]
        if a >= 0 and b >= 0 and a != b:
            nbrs[fill[a]] = b
            fill[a] += 1
            nbrs[fill[b]] = a
            fill[b] += 1
    return indptr, nbrs


@numba.njit(cache=True)
def _bfs_order(indptr, nbrs, present):
    """The present vertices in breadth-first order, each component started from its smallest
    vertex; vertices without neighbors last."""
    n = indptr.shape[0] - 1
    order = np.empty(n, dtype=np.int64)
    seen = ~present
    head = 0
    tail = 0
    for s in range(n):
        if seen[s] or indptr[s + 1] == indptr[s]:
            continue
        seen[s] = True
        order[tail] = s
        tail += 1
        while head < tail:
            u = order[head]
            head += 1
            for j in range(indptr[u], indptr[u + 1]):
                v = nbrs[j]
                if not seen[v]:
                    seen[v] = True
                    order[tail] = v
                    tail += 1
    for s in range(n):
        if not seen[s]:
            order[tail] = s
            tail += 1
    return order[:tail]


@numba.njit(cache=True)
def _fennel(indptr, nbrs, order, fnum, gamma, slack, passes):
    """Fennel (Tsourakakis et al., WSDM 2014) with loads counted in edges: each vertex of
    ``order`` in turn goes to the fragment maximizing (its neighbors already there) -
    alpha * gamma * load^(gamma - 1), among fragments whose load stays below ``slack`` times
    the mean; a vertex weighs ``1 + degree``. Later passes restream with every neighbor placed
    (Nishimura & Ugander, KDD 2013). Vertices without neighbors fill the lightest fragments."""
    n = indptr.shape[0] - 1
    nv = order.shape[0]
    total = 0.0
    for i in range(nv):
        v = order[i]
        total += 1.0 + (indptr[v + 1] - indptr[v])
    m = indptr[n] / 2.0 + 1.0
    alpha = np.sqrt(fnum) * m / (total ** gamma)
    cap = slack * total / fnum + 1.0
    part = np.full(n, -1, dtype=np.int64)
    load = np.zeros(fnum, dtype=np.float64)
    score = np.zeros(fnum, dtype=np.float64)
    for it in range(passes):
        for i in range(nv):
            v = order[i]
            deg = indptr[v + 1] - indptr[v]
            if deg == 0:
                continue
            w = 1.0 + deg
            old = part[v]
            if old >= 0:
                load[old] -= w
            score[:] = 0.0
            for j in range(indptr[v], indptr[v + 1]):
                p = part[nbrs[j]]
                if p >= 0:
                    score[p] += 1.0
            best = -1
            best_score = -np.inf
            lightest = 0
            for p in range(fnum):
                if load[p] < load[lightest]:
                    lightest = p
                if load[p] + w > cap:
                    continue
                s = score[p] - alpha * gamma * load[p] ** (gamma - 1.0) * w
                if s > best_score:
                    best_score = s
                    best = p
            if best < 0:
                best = lightest
            part[v] = best
            load[best] += w
    for i in range(nv):
        v = order[i]
        if part[v] < 0:
            best = 0
            for p in range(1, fnum):
                if load[p] < load[best]:
                    best = p
            part[v] = best
            load[best] += 1.0
    return part


def fennel_assign(src: np.ndarray, dst: np.ndarray, present: np.ndarray, fnum: int,
                  passes: int = 2) -> np.ndarray:
    """Fragment of each global id ``0..len(present)-1`` by Fennel streaming over the edges
    ``src -> dst`` (global ids; directions ignored, entries < 0 skipped), vertices streamed in
    breadth-first order; -1 where ``present`` is False.

    Parameters follow the paper (``gamma = 1.5``, load cap 1.1 times the mean fragment size);
    ``passes - 1`` restreaming passes follow the first (Nishimura & Ugander, KDD 2013).
    """
    n = len(present)
    indptr, nbrs = _undirected_csr(np.ascontiguousarray(src, dtype=np.int64),
                                   np.ascontiguousarray(dst, dtype=np.int64), n)
    order = _bfs_order(indptr, nbrs, np.ascontiguousarray(present, dtype=np.bool_))
    del src, dst
    part = _fennel(indptr, nbrs, order, fnum, 1.5, 1.1, passes)
    part[~present] = -1
    return part
