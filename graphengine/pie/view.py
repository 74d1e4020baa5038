"""The fragment as an app sees it: local ids over inner + outer vertices, CSR with local ids.

:class:`FragmentPlan` is what travels to a worker (built on the driver, where the whole graph
is known): the store's :class:`~graphengine.store.Fragment`, the tiny owner table, the outer
vertices, which inner vertices other fragments mirror, and the edge properties the app asked
for. :class:`FragmentView` is built from it on the worker.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numba
import numpy as np

from ..errors import AnalyticsError, SchemaError
from ..store import Fragment, Graph
from ..store import kernels as store_kernels


@dataclass(eq=False)
class FragmentPlan:
    """Everything a worker needs to run one fragment of an app (pickles zero-copy)."""

    fragment: Fragment
    block_starts: np.ndarray
    block_fids: np.ndarray
    total_vertex_count: int
    id_space: int
    outer_gids: np.ndarray
    mirror_lids: list[np.ndarray]
    edge_values: dict[str, tuple[np.ndarray, np.ndarray]]
    inputs: dict[str, np.ndarray]


# (direction -> (indptr, neighbor lids, eids); "gids" -> local id -> global id) of a fragment:
# the same for every app run on it
_local_csr_cache: weakref.WeakKeyDictionary[Fragment, dict] = weakref.WeakKeyDictionary()
# key -> structure derived from a fragment's topology alone (FragmentView.derived)
_derived_cache: weakref.WeakKeyDictionary[Fragment, dict] = weakref.WeakKeyDictionary()


def make_plans(graph: Graph, app) -> list[FragmentPlan]:
    """One :class:`FragmentPlan` per fragment of ``graph`` for running ``app``."""
    edge_properties = tuple(app.edge_properties)
    vb = graph.vertex_blocks
    starts = np.ascontiguousarray(vb.start, dtype=np.int64)
    fids = np.ascontiguousarray(vb.fid, dtype=np.int64)
    # the store keeps each fragment's outer vertices (all labels, both directions)
    outers = [f.outer_gids.to_numpy(zero_copy_only=True) for f in graph.fragments]
    fnum = graph.fnum
    mirrors = _mirror_lists(graph, outers)
    edge_values: list[dict] = [{} for _ in range(fnum)]
    in_lists = set(getattr(app, "in_edge_properties", ()))
    for name in edge_properties:
        signature, keep = _property_signature(graph, name)
        for f, frag in enumerate(graph.fragments):
            edge_values[f][name] = _aligned_values(graph, frag, name, signature, keep,
                                                   name in in_lists)
    return [FragmentPlan(frag, starts, fids, graph.vertex_count, graph.id_space, outers[f],
                         mirrors[f], edge_values[f], app.fragment_inputs(graph, frag))
            for f, frag in enumerate(graph.fragments)]


# first fragment -> (weak references to all the fragments, their mirror lists)
_mirror_cache: weakref.WeakKeyDictionary[Fragment, tuple] = weakref.WeakKeyDictionary()


def _mirror_lists(graph: Graph, outers: list[np.ndarray]) -> list[list[np.ndarray]]:
    """``mirrors[f][d]``: the inner lids of fragment ``f`` that fragment ``d`` has as outer
    vertices. A function of the fragments alone (store fragments are immutable; a graph
    version that changes vertices or edges has new ones): computed once per set of fragments."""
    frags = graph.fragments
    hit = _mirror_cache.get(frags[0]) if frags else None
    if hit is not None and len(hit[0]) == len(frags) and all(
            r() is f for r, f in zip(hit[0], frags)):
        return hit[1]
    fnum = graph.fnum
    mirrors: list[list[np.ndarray]] = [[np.zeros(0, np.int64)] * fnum for _ in range(fnum)]
    for d, outer in enumerate(outers):
        if not len(outer):
            continue
        owner = graph.owner(outer)
        for f in np.unique(owner):
            mirrors[f][d] = frags[f].inner_lids(outer[owner == f])
    for row in mirrors:
        for lids in row:
            lids.flags.writeable = False
    if frags:
        _mirror_cache[frags[0]] = (tuple(weakref.ref(f) for f in frags), mirrors)
    return mirrors


# fragment -> {property name: (signature, keep-alive, out-aligned, in-aligned or None)}
_edge_values_cache: weakref.WeakKeyDictionary[Fragment, dict] = weakref.WeakKeyDictionary()


def _property_signature(graph: Graph, name: str) -> tuple[tuple, list]:
    """What an edge property's values depend on: the edge-id blocks and the buffers of the
    property's columns in every fragment (``Graph.edge_property`` copies them into a new
    array on every call, so the array itself cannot be the key). The columns are returned to
    be kept alive with the cache entry, so their buffer addresses cannot be reused meanwhile."""
    eb = graph.edge_blocks
    sig: list = [tuple(np.asarray(a).tobytes() for a in (eb.start, eb.fid, eb.row, eb.count))]
    keep = []
    for frag in graph.fragments:
        for label, table in frag.edge_tables.items():
            if name in table.column_names:
                col = table.column(name)
                keep.append(col)
                sig.append((label, str(col.type), tuple(
                    (b.address, b.size) for chunk in col.chunks for b in chunk.buffers()
                    if b is not None)))
    return tuple(sig), keep


@numba.njit(cache=True, nogil=True, parallel=True)
def _gather(values, index):
    out = np.empty(index.shape[0], dtype=values.dtype)
    for i in numba.prange(index.shape[0]):
        out[i] = values[index[i]]
    return out


def _gathered(values: np.ndarray, eids: np.ndarray) -> np.ndarray:
    """``values[eids]``: numeric values on Numba's threads (numpy's fancy indexing first
    widens the int32 edge ids and gathers on one thread: twice the time)."""
    if values.dtype.kind in "iufb":
        return _gather(values, np.asarray(eids))
    return values[eids]


def _aligned_values(graph: Graph, frag: Fragment, name: str, signature: tuple, keep: list,
                    in_list: bool) -> tuple[np.ndarray, np.ndarray | None]:
    """Edge property ``name`` aligned with the fragment's out-list and (``in_list``) its
    in-list (None otherwise), each gathered once per fragment and property columns."""
    cache = _edge_values_cache.setdefault(frag, {})
    cached = cache.get(name)
    if cached is None or cached[0] != signature:
        try:
            values = graph.edge_property(name)
        except SchemaError as e:
            raise AnalyticsError(f"edge property {name!r} is not in the graph: {e}") from e
        out = _gathered(values, frag.csr("out")[2])
        out.flags.writeable = False
        cached = cache[name] = (signature, keep, out, None if graph.directed else out)
    if in_list and cached[3] is None:
        inn = _gathered(graph.edge_property(name), frag.csr("in")[2])
        inn.flags.writeable = False
        cached = cache[name] = (*cached[:3], inn)
    return cached[2], cached[3]


def call_either(serial, parallel, use_parallel: bool, *args):
    """``parallel(*args)`` or ``serial(*args)``: one Numba kernel in two builds, a ``prange``
    one and one that runs in the calling thread (small inputs, no thread-pool wake-up).

    The first call with new argument types also loads the other build for them (from Numba's
    cache, ~7 ms for a parallel kernel): an app first called on a small graph then pays for
    both builds there, not in its first call on a large graph.
    """
    kernel, other = (parallel, serial) if use_parallel else (serial, parallel)
    known = len(kernel.overloads)
    out = kernel(*args)
    if len(kernel.overloads) != known:
        other.compile(kernel.signatures[-1])
    return out


@numba.njit(cache=True, inline="always")
def _lid_of(g, range_starts, range_counts, range_base, outer, ivnum):
    """Local id of global id ``g``: inner ranges first, then the sorted outer ids; -1 if
    neither."""
    for r in range(range_starts.shape[0]):
        if range_starts[r] <= g < range_starts[r] + range_counts[r]:
            return range_base[r] + g - range_starts[r]
    no = outer.shape[0]
    lo, hi = 0, no
    while lo < hi:
        mid = (lo + hi) // 2
        if outer[mid] < g:
            lo = mid + 1
        else:
            hi = mid
    if lo < no and outer[lo] == g:
        return ivnum + lo
    return -1


@numba.njit(cache=True, nogil=True, parallel=True)
def _to_lids(gids, range_starts, range_counts, range_base, outer, ivnum):
    """:func:`_lid_of` of each global id, on Numba's threads."""
    out = np.empty(gids.shape[0], dtype=np.int64)
    for i in numba.prange(gids.shape[0]):
        out[i] = _lid_of(gids[i], range_starts, range_counts, range_base, outer, ivnum)
    return out


@numba.njit(cache=True, nogil=True)
def _to_lids_serial(gids, range_starts, range_counts, range_base, outer, ivnum):
    """:func:`_to_lids` on one thread: a few ids (an app's source vertex) are looked up
    without waking the thread pool, which on a busy machine can wait a scheduler tick."""
    out = np.empty(gids.shape[0], dtype=np.int64)
    for i in range(gids.shape[0]):
        out[i] = _lid_of(gids[i], range_starts, range_counts, range_base, outer, ivnum)
    return out


#: Below this many ids, :meth:`FragmentView.lids` looks them up on one thread.
SERIAL_LOOKUP_MAX = 1 << 14


class FragmentView:
    """One fragment with local ids (see :mod:`graphengine.pie.app` for the vocabulary)."""

    def __init__(self, plan: FragmentPlan):
        frag = plan.fragment
        self.fid: int = frag.fid
        self.fnum: int = frag.fnum
        self.directed: bool = frag.directed
        self.total_vertex_count: int = plan.total_vertex_count
        self.id_space: int = plan.id_space
        self.ivnum: int = frag.inner_vertex_count
        self.ovnum: int = len(plan.outer_gids)
        self.vnum: int = self.ivnum + self.ovnum
        self.gids: np.ndarray = self._gids(frag, plan.outer_gids)
        ranges = np.ascontiguousarray(frag.inner_ranges, dtype=np.int64).reshape(-1, 2)
        self._range_starts = np.ascontiguousarray(ranges[:, 0])
        self._range_counts = np.ascontiguousarray(ranges[:, 1])
        self._range_base = np.concatenate([[0], np.cumsum(self._range_counts)[:-1]]).astype(np.int64)
        self._outer = np.ascontiguousarray(plan.outer_gids, dtype=np.int64)
        self._block_starts = plan.block_starts
        self._block_fids = plan.block_fids
        self.mirror_lids: list[np.ndarray] = plan.mirror_lids
        self._edge_values = plan.edge_values
        self.inputs: dict[str, np.ndarray] = plan.inputs
        self._fragment = frag
        self.out_indptr, self.out_nbrs, self.out_eids = self._local_csr(frag, "out")
        if self.directed:
            self.in_indptr, self.in_nbrs, self.in_eids = self._local_csr(frag, "in")
        else:
            self.in_indptr, self.in_nbrs, self.in_eids = self.out_indptr, self.out_nbrs, self.out_eids

    @staticmethod
    def _gids(frag: Fragment, outer_gids: np.ndarray) -> np.ndarray:
        # inner then outer global ids; the outer ones are the fragment's own (a function of it)
        cached = _local_csr_cache.setdefault(frag, {})
        if "gids" not in cached:
            inner = frag.inner_gids
            if len(outer_gids) or inner.dtype != np.int64:
                gids = np.concatenate([inner, outer_gids]).astype(np.int64, copy=False)
            else:  # no outer vertex: a read-only view of the fragment's own array, no copy
                gids = inner.view()
            gids.flags.writeable = False
            cached["gids"] = gids
        return cached["gids"]

    def _local_csr(self, frag: Fragment, direction: str):
        # the local CSR depends on the fragment alone (outer ids are a function of it): build it
        # once per fragment object, not once per app run
        cached = _local_csr_cache.setdefault(frag, {})
        if direction not in cached:
            indptr, nbrs, eids = frag.csr(direction)
            if not self.ovnum and len(self._range_starts) == 1 and nbrs.dtype == np.int64:
                # one block of inner ids and no outer vertex (one fragment): a local id is the
                # global id less the block's start, the store's array itself when that is 0
                start = int(self._range_starts[0])
                lids = nbrs if start == 0 else nbrs - start
            else:
                lids = self.lids(nbrs)
            lids.flags.writeable = False
            indptr = np.ascontiguousarray(indptr, dtype=np.int64)
            cached[direction] = (indptr, lids, eids)
        return cached[direction]

    def derived(self, key: str, build: Callable[[FragmentView], Any]) -> Any:
        """``build(self)``, computed once per store fragment and shared by every app run on it.

        For structures that depend on the fragment's topology alone (a simple-graph CSR, a
        degree ordering): a store fragment is immutable and a new graph version has new
        fragments, so the cache (weakly keyed by the fragment) never returns a stale value. The
        arrays returned are shared between runs: callers must not write to them.
        """
        cached = _derived_cache.setdefault(self._fragment, {})
        if key not in cached:
            value = build(self)
            for a in value if isinstance(value, tuple) else (value,):
                if isinstance(a, np.ndarray):
                    a.flags.writeable = False
            cached[key] = value
        return cached[key]

    def lids(self, gids: np.ndarray) -> np.ndarray:
        """Local ids of global ids (-1 for vertices neither inner nor outer here)."""
        gids = np.ascontiguousarray(gids, dtype=np.int64)
        return call_either(_to_lids_serial, _to_lids, len(gids) >= SERIAL_LOOKUP_MAX, gids,
                           self._range_starts, self._range_counts, self._range_base,
                           self._outer, self.ivnum)

    def owner(self, gids: np.ndarray) -> np.ndarray:
        """Fragment id owning each global id."""
        gids = np.ascontiguousarray(gids, dtype=np.int64)
        if not len(self._block_starts):
            return np.zeros(len(gids), dtype=np.int64)
        return store_kernels.locate(gids, self._block_starts, self._block_fids, self._block_starts)[0]

    def out_edge_values(self, name: str) -> np.ndarray:
        """Edge property ``name`` aligned with ``out_nbrs`` (listed in the app's edge_properties)."""
        return self._edge_values_of(name)[0]

    def in_edge_values(self, name: str) -> np.ndarray:
        """Edge property ``name`` aligned with ``in_nbrs`` (listed in the app's
        edge_properties and in_edge_properties)."""
        values = self._edge_values_of(name)[1]
        if values is None:
            raise AnalyticsError(f"edge property {name!r} was not requested along the in-lists:"
                                 f" list it in the app's in_edge_properties")
        return values

    def _edge_values_of(self, name: str) -> tuple[np.ndarray, np.ndarray | None]:
        if name not in self._edge_values:
            raise AnalyticsError(f"edge property {name!r} was not requested: list it in the"
                                 f" app's edge_properties")
        return self._edge_values[name]

    def inner_part(self, values: np.ndarray) -> np.ndarray:
        """``values[:ivnum]`` for an app's output: the array itself when the fragment has no
        outer vertex (output is the last use of an app's state), else a copy (a view would
        keep the outer slots alive)."""
        return values if len(values) == self.ivnum else values[:self.ivnum].copy()

    @property
    def inner_ranges(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(starts, counts, bases)``: inner lids ``bases[r] + i`` are global ids
        ``starts[r] + i`` for ``i < counts[r]`` (the fragment's blocks of inner ids)."""
        return self._range_starts, self._range_counts, self._range_base

    @property
    def out_degree(self) -> np.ndarray:
        """Out-degree of each inner vertex (multi-edges counted, an undirected self loop twice)."""
        return np.diff(self.out_indptr)

    @property
    def in_degree(self) -> np.ndarray:
        """In-degree of each inner vertex."""
        return np.diff(self.in_indptr)

    def __repr__(self) -> str:
        return (f"FragmentView(fid={self.fid}/{self.fnum}, {self.ivnum} inner,"
                f" {self.ovnum} outer, {len(self.out_nbrs)} out-edges)")
