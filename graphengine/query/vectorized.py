"""Vectorized execution of count-like traversals over whole batches of vertex ids.

Traversals of the shape ``V(ids?)`` followed by adjacency steps (``out``, ``in``, ``both``
with labels) and filters (``hasLabel``, ``has`` on a property column with a value or a
comparison predicate, ``dedup``), ending in ``count()`` or ``groupCount()`` (by a property,
by ``T.label`` or by the vertex), run here over numpy arrays instead of one Python object per
traverser. The traversers are a *frontier*: bulks per global id, either sparse
(``gids``, ``bulk`` arrays, for traversals from a few vertices) or dense (one bulk per id of
the id space, for whole-graph traversals). Equal traversers merge their bulks (TinkerPop's
bulking), so ``g.V().out().out().count()`` costs O(E) per hop, not O(paths).

Each hop runs per fragment over the fragment's own CSR/CSC (``Fragment.csr``): the frontier's
ids are routed to the fragment that owns them, which is the shape a distributed run keeps.
Results are the same as the interpreter's (the tests compare both); anything else, or a
graph changed by traversals, goes to the interpreter. A traversal is compiled once per
:func:`shape` (its instructions without the ids of ``V()``) into a :class:`CountPlan` (hops,
masks, terminal resolved against the graph), which the engine keeps and runs with the ids.
"""

from __future__ import annotations

import math
from typing import Any

import numba
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from gremlin_python.process.traversal import P, T

from .graph import Vtx

_DENSE_FRACTION = 16     # a frontier with more than id_space / 16 ids goes dense
_FEW = 8                 # a sparse frontier of at most this many ids hops in plain Python
_LISTS = 1 << 20         # up to this many ids, few-id plans read Python-list copies of the
#                          degree arrays and dense id tables (a list index is the interpreter's
#                          fastest read; a numpy scalar read costs ~10x, more on cold caches)
_ADJ_LISTS = 1 << 18     # ... and up to this many edges of a hop, per-vertex neighbor lists


@numba.njit(cache=True, nogil=True)
def _expand_sparse(indptr, nbrs, lids, bulk):
    total = 0
    for i in range(lids.shape[0]):
        total += indptr[lids[i] + 1] - indptr[lids[i]]
    out_ids = np.empty(total, dtype=np.int64)
    out_bulk = np.empty(total, dtype=np.int64)
    k = 0
    for i in range(lids.shape[0]):
        lo, hi = indptr[lids[i]], indptr[lids[i] + 1]
        b = bulk[i]
        for j in range(lo, hi):
            out_ids[k] = nbrs[j]
            out_bulk[k] = b
            k += 1
    return out_ids, out_bulk


@numba.njit(cache=True, nogil=True)
def _degree_sum(indptr, lids, bulk):
    total = 0
    for i in range(lids.shape[0]):
        total += bulk[i] * (indptr[lids[i] + 1] - indptr[lids[i]])
    return total


@numba.njit(cache=True, nogil=True)
def _push_dense(indptr, nbrs, inner, bulk, out):
    for r in range(inner.shape[0]):
        b = bulk[inner[r]]
        if b != 0:
            for j in range(indptr[r], indptr[r + 1]):
                out[nbrs[j]] += b


@numba.njit(cache=True, nogil=True)
def _dense_degree_sum(indptr, inner, bulk):
    total = 0
    for r in range(inner.shape[0]):
        b = bulk[inner[r]]
        if b != 0:
            total += b * (indptr[r + 1] - indptr[r])
    return total


class _Frontier:
    """Bulks per global id: sparse (ids, bulk) or dense (bulk over the id space; a boolean
    array while every bulk is 0 or 1)."""

    def __init__(self, n: int, ids: np.ndarray | None = None, bulk: np.ndarray | None = None,
                 dense: np.ndarray | None = None):
        self.n = n
        self.ids = ids
        self.bulk = bulk
        self.dense = dense

    @property
    def is_dense(self) -> bool:
        return self.dense is not None

    def total(self) -> int:
        if self.is_dense:
            d = self.dense
            return int(np.count_nonzero(d)) if d.dtype == bool else int(d.sum())
        return int(self.bulk.sum())

    def mask(self, keep: np.ndarray) -> _Frontier:
        """Keep the ids where ``keep`` (a boolean array over the id space) is true."""
        if self.is_dense:
            d = self.dense
            return _Frontier(self.n, dense=d & keep if d.dtype == bool else np.where(keep, d, 0))
        sel = keep[self.ids]
        return _Frontier(self.n, self.ids[sel], self.bulk[sel])

    def dedup(self) -> _Frontier:
        if self.is_dense:
            return _Frontier(self.n, dense=self.dense > 0)
        ids = np.unique(self.ids)
        return _Frontier(self.n, ids, np.ones(len(ids), dtype=np.int64))

    def pairs(self) -> tuple[np.ndarray, np.ndarray]:
        if self.is_dense:
            ids = np.flatnonzero(self.dense)
            return ids, self.dense[ids].astype(np.int64)
        return self.ids, self.bulk


class _Plan:
    def __init__(self, qg: Any):
        self.qg = qg
        self.labels = tuple(qg.base.edge_labels)
        self.frags = {frag.fid: frag for frag in qg.base.fragments}

    def csr(self, frag: Any, direction: str, labels: tuple[str, ...]):
        cache = self.qg.__dict__.setdefault("_csr", {})
        key = (frag.fid, direction, labels)
        if key not in cache:
            names = tuple(lab for lab in (labels or self.labels) if lab in frag.topology)
            cache[key] = frag.csr(direction if self.qg.directed else "out", names) if names \
                else None
        return cache[key]

    def degrees(self, direction: str, labels: tuple[str, ...]) -> np.ndarray | list:
        """Per global id, the number of traversers one hop gives from it (cached per graph; a
        list up to ``_LISTS`` ids)."""
        qg = self.qg
        cache = qg.__dict__.setdefault("_degrees", {})
        key = (direction, labels)
        deg = cache.get(key)
        if deg is None:
            dirs = ("out", "in") if direction == "both" and qg.directed else (direction,)
            deg = np.zeros(qg.base.id_space, dtype=np.int64)
            for frag in qg.base.fragments:
                for d in dirs:
                    arrays = self.csr(frag, d, labels)
                    if arrays is not None:
                        deg[frag.inner_gids] += np.diff(arrays[0])
            if len(deg) <= _LISTS:
                deg = deg.tolist()
            cache[key] = deg
        return deg

    def neighbor_lists(self, direction: str, labels: tuple[str, ...]) -> list | None:
        """Per global id, the list of the ids one hop reaches (in :meth:`hop`'s order), kept
        per graph for hops over at most ``_ADJ_LISTS`` edges; None above."""
        qg = self.qg
        cache = qg.__dict__.setdefault("_neighbor_lists", {})
        key = (direction, labels)
        if key not in cache:
            dirs = ("out", "in") if direction == "both" and qg.directed else (direction,)
            parts = [(frag, self.csr(frag, d, labels)) for frag in qg.base.fragments
                     for d in dirs]
            parts = [(frag, a) for frag, a in parts if a is not None]
            lists = None
            if sum(len(a[1]) for _, a in parts) <= _ADJ_LISTS:
                lists = [[] for _ in range(qg.base.id_space)]
                for frag in qg.base.fragments:      # a vertex's rows: out, then in
                    for f, (indptr, nbrs, _) in parts:
                        if f is not frag:
                            continue
                        bounds, flat = indptr.tolist(), nbrs.tolist()
                        for r, gid in enumerate(frag.inner_gids.tolist()):
                            lists[gid].extend(flat[bounds[r]:bounds[r + 1]])
            cache[key] = lists
        return cache[key]

    def id_lookup(self) -> Any:
        """``lookup(id)`` -> global id of a Python int id (-1: no vertex; None: the graph's
        general lookup decides): ``qg._dense_lookup`` over list copies of the dense id tables
        up to ``_LISTS`` ids, else ``qg._dense_lookup`` itself; None while vertices were added
        (their ids are in ``qg._vid_index``)."""
        qg = self.qg
        if qg._vid_index:
            return None
        lookup = qg.__dict__.get("_list_lookup")
        if lookup is None:
            qg._dense_lookup(0)                        # builds qg._dense_tables
            tables = qg._dense_tables
            lookup = qg._dense_lookup
            if tables and sum(len(t) for _, t in tables) <= _LISTS:
                lists = [(lo, lo + len(t), t.tolist()) for lo, t in tables]

                def lookup(vid: int) -> int:
                    for lo, hi, table in lists:
                        if lo <= vid < hi and table[vid - lo] >= 0:
                            return table[vid - lo]
                    return -1
            qg._list_lookup = lookup
        return lookup

    def hop(self, f: _Frontier, direction: str, labels: tuple[str, ...],
            count_only: bool = False) -> _Frontier | int:
        """One adjacency step (or, with ``count_only``, the number of traversers it gives)."""
        qg = self.qg
        dirs = ("out", "in") if direction == "both" and qg.directed else (direction,)
        if not f.is_dense and len(f.ids) <= _FEW:
            return self._hop_few(f, dirs, labels, count_only)
        dense = f.is_dense or len(f.ids) > f.n // _DENSE_FRACTION
        if dense:
            bulk = f.dense.astype(np.int64, copy=False) if f.is_dense else \
                np.bincount(f.ids, weights=f.bulk, minlength=f.n).astype(np.int64)
            out = None if count_only else np.zeros(f.n, dtype=np.int64)
        else:
            owner, lids = qg._frag[f.ids], qg._lid[f.ids]
        parts, total = [], 0
        for frag in qg.base.fragments:
            if not dense:   # the frontier's ids this fragment owns, as its local rows
                mine = owner == frag.fid if qg.base.fnum > 1 else slice(None)
                rows, b = lids[mine], f.bulk[mine]
                if len(rows) == 0:
                    continue
            for d in dirs:
                arrays = self.csr(frag, d, labels)
                if arrays is None:
                    continue
                indptr, nbrs, _ = arrays
                if dense and count_only:
                    total += _dense_degree_sum(indptr, frag.inner_gids, bulk)
                elif dense:
                    _push_dense(indptr, nbrs, frag.inner_gids, bulk, out)
                elif count_only:
                    total += _degree_sum(indptr, rows, b)
                else:
                    parts.append(_expand_sparse(indptr, nbrs, rows, b))
        if count_only:
            return int(total)
        if dense:
            return _Frontier(f.n, dense=out)
        if not parts:
            z = np.zeros(0, dtype=np.int64)
            return _Frontier(f.n, z, z)
        return _Frontier(f.n, np.concatenate([i for i, _ in parts]),
                         np.concatenate([b for _, b in parts]))

    def _hop_few(self, f: _Frontier, dirs: tuple[str, ...], labels: tuple[str, ...],
                 count_only: bool) -> _Frontier | int:
        """:meth:`hop` from a few ids, one CSR row each (no array work per fragment)."""
        qg, frags = self.qg, self.frags
        total, ids, bulks = 0, [], []
        for gid, b in zip(f.ids.tolist(), f.bulk.tolist()):
            frag, row = frags[int(qg._frag[gid])], int(qg._lid[gid])
            for d in dirs:
                arrays = self.csr(frag, d, labels)
                if arrays is None:
                    continue
                indptr, nbrs, _ = arrays
                lo, hi = int(indptr[row]), int(indptr[row + 1])
                if count_only:
                    total += b * (hi - lo)
                else:
                    ids.append(nbrs[lo:hi])
                    bulks.append(np.full(hi - lo, b, dtype=np.int64))
        if count_only:
            return total
        if not ids:
            z = np.zeros(0, dtype=np.int64)
            return _Frontier(f.n, z, z)
        return _Frontier(f.n, np.concatenate(ids).astype(np.int64, copy=False),
                         np.concatenate(bulks))

    # ------------------------------------------------------------------ filters
    def label_mask(self, labels: list) -> np.ndarray | None:
        names = self.qg.base.vertex_labels
        idx = [names.index(x) for x in labels if x in names]
        return np.isin(self.qg._vlabel, np.asarray(idx, dtype=np.int64))

    def property_mask(self, key: str, test: Any, label: str | None = None) -> np.ndarray | None:
        """Ids whose property ``key`` passes ``test`` (a value or a simple P), cached."""
        qg = self.qg
        cache = qg.__dict__.setdefault("_masks", {})
        ck = (key, label, _test_key(test))
        if ck in cache:
            return cache[ck]
        mask = np.zeros(qg.base.id_space, dtype=bool)
        for li, vl in enumerate(qg.base.schema.vertex_labels):
            if label is not None and vl.name != label:
                continue
            if key not in vl.schema.names or key == "id":
                continue
            col = qg.base.vertex_table(vl.name).column(key)
            sel = _arrow_test(col, test)
            if sel is None:
                return None
            mask[qg.base.vertex_gids(vl.name)] = sel
        if len(cache) > 256:
            cache.clear()
        cache[ck] = mask
        return mask

    def values(self, key: Any) -> tuple[np.ndarray, np.ndarray, list] | None:
        """``(codes, valid, keys)``: per global id a code into ``keys`` (the distinct values of a
        property, or the labels), cached per graph; None when not vectorizable."""
        qg = self.qg
        cache = qg.__dict__.setdefault("_codes", {})
        if key in cache:
            return cache[key]
        n = qg.base.id_space
        if isinstance(key, T):
            if key.name.rstrip("_") != "label":
                return None
            out = (np.maximum(qg._vlabel, 0), qg._vlabel >= 0, list(qg.base.vertex_labels))
            cache[key] = out
            return out
        parts = []
        for vl in qg.base.schema.vertex_labels:
            if key in vl.schema.names and key != "id":
                col = qg.base.vertex_table(vl.name).column(key)
                if not (pa.types.is_integer(col.type) or pa.types.is_string(col.type)
                        or pa.types.is_large_string(col.type) or pa.types.is_boolean(col.type)):
                    return None
                parts.append((qg.base.vertex_gids(vl.name), col))
        if len({str(c.type) for _, c in parts}) > 1:
            return None
        codes = np.zeros(n, dtype=np.int64)
        valid = np.zeros(n, dtype=bool)
        if not parts:
            out = (codes, valid, [])
            cache[key] = out
            return out
        allcol = pa.chunked_array([c for _, c in parts for c in c.chunks], type=parts[0][1].type)
        enc = pc.dictionary_encode(allcol).combine_chunks()
        gids = np.concatenate([g for g, _ in parts])
        codes[gids] = pc.fill_null(enc.indices, 0).to_numpy(zero_copy_only=False)
        valid[gids] = enc.is_valid().to_numpy(zero_copy_only=False)
        out = (codes, valid, enc.dictionary.to_pylist())
        cache[key] = out
        return out


def _test_key(test: Any) -> Any:
    if isinstance(test, P):
        return (test.operator, _test_key(test.value), _test_key(test.other))
    if isinstance(test, list):
        return tuple(_test_key(x) for x in test)
    return (type(test).__name__, test)


_ARROW_OPS = {"eq": pc.equal, "neq": pc.not_equal, "lt": pc.less, "lte": pc.less_equal,
              "gt": pc.greater, "gte": pc.greater_equal}


def _scalar_ok(col_type: pa.DataType, v: Any) -> bool:
    if isinstance(v, bool):
        return pa.types.is_boolean(col_type)
    if isinstance(v, (int, float)):
        return pa.types.is_integer(col_type) or pa.types.is_floating(col_type)
    if isinstance(v, str):
        return pa.types.is_string(col_type) or pa.types.is_large_string(col_type)
    return False


def _arrow_test(col: pa.ChunkedArray, test: Any) -> np.ndarray | None:
    """Boolean numpy mask of a column under Gremlin's semantics (None: not handled here)."""
    typ = col.type
    if not isinstance(test, P):
        test = P("eq", test)
    op = test.operator
    if op in _ARROW_OPS:
        v = test.value
        if isinstance(v, float) and math.isnan(v):
            return None
        if not _scalar_ok(typ, v):
            # values of another type are never equal, and do not compare
            res = np.zeros(len(col), dtype=bool)
            if op == "neq":
                res = pc.is_valid(col).to_numpy(zero_copy_only=False)
            return res
        res = _ARROW_OPS[op](col, pa.scalar(v))
    elif op in ("within", "without"):
        vals = test.value if isinstance(test.value, list) else [test.value]
        ok = [x for x in vals if _scalar_ok(typ, x)]
        if len(ok) != len(vals):
            return None
        res = pc.is_in(col, value_set=pa.array(ok, type=typ)) if ok else \
            pa.array(np.zeros(len(col), dtype=bool))
        if op == "without":
            res = pc.invert(res)
    elif op in ("between", "inside", "outside"):
        lo, hi = test.value, test.other
        if not (_scalar_ok(typ, lo) and _scalar_ok(typ, hi)):
            return None
        if op == "between":
            res = pc.and_(pc.greater_equal(col, pa.scalar(lo)), pc.less(col, pa.scalar(hi)))
        elif op == "inside":
            res = pc.and_(pc.greater(col, pa.scalar(lo)), pc.less(col, pa.scalar(hi)))
        else:
            res = pc.or_(pc.less(col, pa.scalar(lo)), pc.greater(col, pa.scalar(hi)))
    else:
        return None
    if pa.types.is_floating(typ) and op != "neq":
        res = pc.and_(res, pc.invert(pc.is_nan(col)))
    return pc.fill_null(res, False).to_numpy(zero_copy_only=False)


def _labels(args: list) -> tuple[str, ...] | None:
    if not all(isinstance(a, str) for a in args):
        return None
    return tuple(args)


def _frozen(value: Any) -> Any:
    """A hashable stand-in for an instruction argument that keeps its type (``1``, ``1.0`` and
    ``True`` are different arguments); None when the argument has no such stand-in."""
    if value is None or isinstance(value, (str, int, float, T)):
        return (type(value), value)
    if isinstance(value, P):
        parts = (_frozen(value.value), _frozen(value.other))
        return None if None in parts else (P, value.operator, *parts)
    if isinstance(value, list):
        items = tuple(_frozen(v) for v in value)
        return None if None in items else (list, items)
    return None


def shape(instructions: list) -> tuple | None:
    """What a :class:`CountPlan` is compiled from: the instructions with the ids of ``V()``
    left out (they are the plan's parameter), or None when the traversal cannot be planned
    here. ``V(1).out().count()`` and ``V(7).out().count()`` share a shape."""
    if not instructions or instructions[0][0] != "V":
        return None
    key: list[Any] = [("V", len(instructions[0]) > 1)]
    for inst in instructions[1:]:
        args = tuple(_frozen(a) for a in inst[1:])
        if None in args:
            return None
        key.append((inst[0], *args))
    return tuple(key)


class CountPlan:
    """A count-like traversal compiled against one pristine graph: its steps resolved to
    adjacency hops, vertex masks and dedups, its terminal to ``count`` or ``groupCount``.
    :meth:`run` takes the ids of ``V()``, so one plan serves every traversal of its
    :func:`shape`."""

    def __init__(self, qg: Any, start_all: bool, ops: list[tuple], terminal: tuple):
        self.qg = qg
        self.plan = _Plan(qg)
        self.n = qg.base.id_space
        self.start_all = start_all
        self.ops = ops
        self.terminal = terminal
        self._all: list[tuple[Any, int]] | None = None   # the result of a plan without ids
        self._adj: dict[tuple, dict[int, list]] = {}     # (direction, labels) -> per fragment

    def run(self, start: list) -> list[tuple[Any, int]] | None:
        """``(value, bulk)`` pairs of the traversal from ``V(*start)``; None when the ids are
        not plain integers or strings (the interpreter takes those). A plan from every vertex
        (``V()``) has one result on its graph version: it is computed once and kept."""
        qg, n = self.qg, self.n
        if self.start_all:
            if self._all is None:
                live = qg.__dict__.get("_live")
                if live is None:
                    live = qg.__dict__["_live"] = qg._vlabel >= 0
                self._all = self._finish(_Frontier(n, dense=live), 0)  # unit bulks: boolean
            return self._all
        flat = []
        for a in start:
            flat.extend(a if isinstance(a, list) else [a])
        gids = []
        dense = self.plan.id_lookup()
        for a in flat:      # qg.find_vertex, its integer case first
            if a.__class__ is int and dense is not None:
                g = dense(a)
            elif isinstance(a, (int, str)) and not isinstance(a, bool):
                g = None
            else:
                return None
            if g is None:
                g = qg.find_vertex(a)
            elif g < 0 or g in qg.dropped_v:
                g = None
            if g is not None:
                gids.append(g)
        ops, i = self.ops, 0
        if len(gids) <= _FEW:       # a few traversers: plain Python lists while they stay few
            bulks = [1] * len(gids)
            while i < len(ops):
                op = ops[i]
                kind = op[0]
                if kind == "count-hop":
                    deg = self.plan.degrees(op[1], op[2])
                    return [(sum([b * int(deg[g]) for g, b in zip(gids, bulks)]), 1)]
                if kind == "hop":
                    step = self._expand_few(gids, bulks, op[1], op[2])
                    if step is None:           # more than a few: the arrays take this hop
                        break
                    gids, bulks = step
                elif kind == "mask":
                    keep = op[1]
                    sel = [k for k, g in enumerate(gids) if keep[g]]
                    gids, bulks = [gids[k] for k in sel], [bulks[k] for k in sel]
                else:
                    gids = sorted(set(gids))
                    bulks = [1] * len(gids)
                i += 1
            else:
                if self.terminal[0] == "count":
                    return [(sum(bulks), 1)]
            frontier = _Frontier(n, np.asarray(gids, dtype=np.int64),
                                 np.asarray(bulks, dtype=np.int64))
        else:
            gids_a = np.asarray(gids, dtype=np.int64)
            frontier = _Frontier(n, gids_a, np.ones(len(gids_a), dtype=np.int64))
        return self._finish(frontier, i)

    def _csrs(self, direction: str, labels: tuple[str, ...]) -> dict[int, list]:
        """Per fragment id, the ``(indptr, nbrs)`` arrays a hop reads."""
        adj = self._adj.get((direction, labels))
        if adj is None:
            qg, plan = self.qg, self.plan
            dirs = ("out", "in") if direction == "both" and qg.directed else (direction,)
            adj = self._adj[direction, labels] = {
                fid: [a[:2] for a in (plan.csr(frag, d, labels) for d in dirs) if a is not None]
                for fid, frag in plan.frags.items()}
        return adj

    def _expand_few(self, gids: list, bulks: list, direction: str,
                    labels: tuple[str, ...]) -> tuple[list, list] | None:
        """One hop from a few traversers as lists, in :meth:`_Plan.hop`'s order; None when it
        gives more than a few."""
        ids: list[int] = []
        out: list[int] = []
        lists = self.plan.neighbor_lists(direction, labels)
        if lists is not None:
            for gid, b in zip(gids, bulks):
                nb = lists[gid]
                if len(ids) + len(nb) > _FEW:
                    return None
                ids += nb
                out += [b] * len(nb)
            return ids, out
        qg, adj = self.qg, self._csrs(direction, labels)
        for gid, b in zip(gids, bulks):
            row = int(qg._lid[gid])
            for indptr, nbrs in adj[int(qg._frag[gid])]:
                lo, hi = int(indptr[row]), int(indptr[row + 1])
                if len(ids) + hi - lo > _FEW:
                    return None
                ids.extend(nbrs[lo:hi].tolist())
                out.extend([b] * (hi - lo))
        return ids, out

    def _finish(self, frontier: _Frontier, first: int) -> list[tuple[Any, int]]:
        """The plan's steps from ``ops[first]`` on, then its terminal."""
        plan = self.plan
        for op in self.ops[first:]:
            kind = op[0]
            if kind == "hop":
                frontier = plan.hop(frontier, op[1], op[2])
            elif kind == "count-hop":
                return [(plan.hop(frontier, op[1], op[2], count_only=True), 1)]
            elif kind == "mask":
                frontier = frontier.mask(op[1])
            else:
                frontier = frontier.dedup()
        if self.terminal[0] == "count":
            return [(frontier.total(), 1)]
        coded = self.terminal[1]
        if coded is None:       # by the vertex: a sparse frontier may repeat an id
            counts: dict[Vtx, int] = {}
            for g, b in zip(*(a.tolist() for a in frontier.pairs())):
                v = Vtx(g)
                counts[v] = counts.get(v, 0) + b
            return [(counts, 1)]
        codes, valid, keys = coded
        if frontier.is_dense:
            weights = np.where(valid, frontier.dense, 0)
            counts = np.bincount(codes, weights=weights, minlength=len(keys))
        else:
            sel = valid[frontier.ids]
            counts = np.bincount(codes[frontier.ids[sel]], weights=frontier.bulk[sel],
                                 minlength=len(keys))
        return [({keys[k]: int(counts[k]) for k in np.flatnonzero(counts).tolist()}, 1)]


def compile_count(qg: Any, instructions: list) -> CountPlan | None:
    """The :class:`CountPlan` of ``instructions`` over ``qg`` (pristine), or None when the
    fast path does not apply (see the module docstring)."""
    if not instructions or qg._blob_labels or instructions[0][0] != "V":
        return None
    last = instructions[-1][0]
    if last == "by" and len(instructions) > 1 and instructions[-2][0] == "groupCount":
        body, terminal = instructions[1:-2], ("groupCount", instructions[-1][1:])
    elif last == "groupCount" and len(instructions[-1]) == 1:
        body, terminal = instructions[1:-1], ("groupCount", [])
    elif last == "count" and len(instructions[-1]) == 1:
        body, terminal = instructions[1:-1], ("count", None)
    else:
        return None
    plan = _Plan(qg)
    ops: list[tuple] = []
    for i, inst in enumerate(body):
        name, args = inst[0], list(inst[1:])
        if name in ("out", "in", "both"):
            labels = _labels(args)
            if labels is None:
                return None
            last_hop = i == len(body) - 1 and terminal[0] == "count"
            ops.append(("count-hop" if last_hop else "hop", name, labels))
        elif name == "hasLabel":
            if not args or not all(isinstance(a, str) for a in args):
                return None
            ops.append(("mask", plan.label_mask(args)))
        elif name == "has" and len(args) in (2, 3) and all(isinstance(a, str) for a in args[:-1]):
            key, test = args[-2], args[-1]
            if not (isinstance(test, (int, float, str)) or (isinstance(test, P) and not isinstance(
                    test.value, P))):
                return None
            mask = plan.property_mask(key, test, args[0] if len(args) == 3 else None)
            if mask is None:
                return None
            ops.append(("mask", mask))
        elif name == "dedup" and not args:
            ops.append(("dedup",))
        else:
            return None
    if terminal[0] == "groupCount":
        by = terminal[1]
        if not by:
            terminal = ("groupCount", None)
        elif len(by) != 1 or not isinstance(by[0], (str, T)):
            return None
        else:
            coded = plan.values(by[0])
            if coded is None:
                return None
            terminal = ("groupCount", coded)
    return CountPlan(qg, len(instructions[0]) == 1, ops, terminal)
