"""The fragment actor: one per fragment, kept on its node, holding that fragment's versions.

Every method is one phase of a distributed operation that the driver sequences (read a share,
split it by owner, gather what the other workers sent, build, commit); data moves between
actors as object references the driver forwards without reading them, so no actor ever waits
on another one (no deadlock with one thread per actor). A fragment is built by the store's
own functions (:func:`~graphengine.store.kernels.merge_csr` through the store's CSR helpers,
:func:`~graphengine.store.fragment.compute_outer`, :class:`~graphengine.store.ids.LabelIndex`)
and is the store's :class:`~graphengine.store.Fragment`: after a load the driver asks for it
(:meth:`FragmentActor.publish`: the return value goes to this node's object store, owned by
the driver) and hands the reference back (:meth:`FragmentActor.adopt`), so the actor works on
the shared-memory copy, and a new actor can take the same copy over when this one dies.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numba
import numpy as np
import pyarrow as pa
import ray

from ..errors import DuplicateVertexError, SchemaError
from ..pie.view import FragmentPlan
from ..pie.worker import FragmentWorker
from ..store import kernels
from ..store.fragment import Fragment, Topology, as_arrow, as_numpy, compute_outer
from ..store.graph import (
    Graph,
    _column,
    _csr_with,
    _name,
    _select_properties,
    _unique_ids,
)
from ..store.ids import (
    IdBlocks,
    LabelIndex,
    Partitioner,
    check_unique,
    ids_in_ranges,
    normalize_ids,
)
from ..store.persistence import read_fragment, write_fragment
from ..store.schema import GraphSchema, conform
from . import exchange
from .sources import Unit, read_unit

log = logging.getLogger(__name__)

_EMPTY = np.zeros(0, dtype=np.int64)


@dataclass(frozen=True)
class Head:
    """What the driver holds of a graph version and sends with each call (tiny): the schema,
    the partitioner and the vertex and edge id blocks."""

    schema: GraphSchema
    partitioner: Partitioner
    vertex_blocks: IdBlocks
    edge_blocks: IdBlocks


def empty_fragment(fid: int, fnum: int, directed: bool) -> Fragment:
    """A fragment with no vertex (the fragments of an empty graph)."""
    return Fragment(fid, fnum, directed, 0, np.zeros((0, 2), dtype=np.int64), {}, {}, {},
                    pa.array(_EMPTY))


class ShardGraph(Graph):
    """One fragment with the whole graph's id blocks: the ``graph`` a worker hands an app's
    ``check`` and ``fragment_inputs``. Tables and edge properties are the fragment's own; the
    vertex count, id space, owners and ``all_gids`` are the whole graph's."""

    def __init__(self, head: Head, fragment: Fragment, edge_values: dict[str, tuple]):
        vb, eb = head.vertex_blocks, head.edge_blocks
        frags = [fragment if f == fragment.fid else
                 empty_fragment(f, fragment.fnum, fragment.directed)
                 for f in range(fragment.fnum)]
        super().__init__(head.schema, head.partitioner, vb.select(vb.fid == fragment.fid),
                         eb.select(eb.fid == fragment.fid), frags)
        self._head = head
        self._fid = fragment.fid
        self._edge_values = edge_values

    @property
    def vertex_count(self) -> int:
        return int(self._head.vertex_blocks.count.sum())

    @property
    def id_space(self) -> int:
        return self._head.vertex_blocks.total

    def owner(self, gids: np.ndarray) -> np.ndarray:
        return self._head.vertex_blocks.locate(gids)[0]

    def all_gids(self) -> np.ndarray:
        vb = self._head.vertex_blocks
        return ids_in_ranges(np.stack([vb.start, vb.count], axis=1))

    def edge_property(self, name: str, label: str | None = None) -> np.ndarray:
        """Over all edge ids, filled where this fragment's out-lists reach (what ``check``
        reads: ``graph.edge_property(name)[frag.csr("out")[2]]``)."""
        if label is not None or name not in self._edge_values:
            return super().edge_property(name, label)
        out_values = self._edge_values[name][0]
        values = np.zeros(self._head.edge_blocks.total, dtype=out_values.dtype)
        values[self.fragments[self._fid].csr("out")[2]] = out_values
        return values


def _ids_of_label(head: Head, fid: int, label: str) -> np.ndarray:
    """Global ids of fragment ``fid``'s rows of ``label``, in row order."""
    vb = head.vertex_blocks
    mine = vb.select((vb.fid == fid) & (vb.label == head.schema.vertex_label_index(label)))
    order = np.argsort(mine.row, kind="stable")
    return ids_in_ranges(np.stack([mine.start[order], mine.count[order]], axis=1))


@numba.njit(cache=True, nogil=True, parallel=True)
def _hash_owners(ids: np.ndarray, fnum: int) -> np.ndarray:
    """``splitmix64(id) % fnum`` per id in one pass: the store's ``hash_ids`` partitioning of
    integer ids (``Partitioner.assign``), without numpy's temporaries."""
    out = np.empty(ids.shape[0], dtype=np.int64)
    m = np.uint64(fnum)
    for i in numba.prange(ids.shape[0]):
        x = np.uint64(ids[i])
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        x = x ^ (x >> np.uint64(31))
        out[i] = np.int64(x % m)
    return out


@numba.njit(cache=True, nogil=True, parallel=True)
def _locate(ids: np.ndarray, starts: np.ndarray, owner: np.ndarray, base: np.ndarray):
    """:func:`graphengine.store.kernels.locate` over threads: ``(owner, base + offset)`` of
    each id through the sorted block ``starts``."""
    out_owner = np.empty(ids.shape[0], dtype=np.int64)
    out_offset = np.empty(ids.shape[0], dtype=np.int64)
    for i in numba.prange(ids.shape[0]):
        b = kernels._block_of(ids[i], starts)
        out_owner[i] = owner[b]
        out_offset[i] = base[b] + ids[i] - starts[b]
    return out_owner, out_offset


def locate(blocks: IdBlocks, gids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(fragment, local id)`` of each global vertex id (``IdBlocks.locate``, in parallel)."""
    return _locate(np.ascontiguousarray(gids, dtype=np.int64), blocks.start, blocks.fid,
                   blocks.local)


def owners(partitioner: Partitioner, label: str, ids: pa.Array) -> np.ndarray:
    """The fragment of each user id (``partitioner.assign``; integer ids hashed by a kernel)."""
    if partitioner.kind == "hash" and pa.types.is_integer(ids.type) and not ids.null_count:
        return _hash_owners(np.ascontiguousarray(ids.to_numpy(zero_copy_only=False),
                                                 dtype=np.int64), partitioner.fnum)
    return partitioner.assign(label, ids)[0]


def _csr(n: int, old: Topology | None, direction: str, parts: list[tuple], eid_type) -> tuple:
    """One direction of a label's adjacency after adding the entries ``(rows, nbrs, eids)``
    of ``parts`` (in order; a row keeps it): the store's parallel counting sort, reading the
    parts in place, for a label the fragment does not have yet; its merge into the existing
    lists otherwise."""
    eids = np.concatenate([p[2] for p in parts]).astype(eid_type) if parts else None
    if old is not None or not parts:
        entries = None if not parts else (np.concatenate([p[0] for p in parts]),
                                          np.concatenate([p[1] for p in parts]), eids)
        return _csr_with(n, old, direction, entries)
    indptr, out_nbrs, out_eids = kernels.csr_from_pairs(
        n, kernels.Chunks([p[0] for p in parts]), kernels.Chunks([p[1] for p in parts]), 0,
        _EMPTY, _EMPTY, 0, _EMPTY, _EMPTY, eids, False, False, payload_dtype=eid_type)
    return as_arrow(indptr), as_arrow(out_nbrs), as_arrow(out_eids)


def _get_all(refs: list, keep_none: bool = False) -> list:
    """The objects of several references in one ``ray.get`` (the pulls from other nodes run
    in parallel); None entries are skipped, or kept as None with ``keep_none``."""
    live = [r for r in refs if r is not None]
    got = iter(ray.get(live)) if live else iter(())
    if not keep_none:
        return list(got)
    return [next(got) if r is not None else None for r in refs]


class _OwnerIndex(LabelIndex):
    """The vertex map of one fragment's vertices of a label. Hash partitioning leaves a
    fragment about one id in ``fnum`` of a dense id range: a direct table over the range
    (8 bytes per id of the range) still beats a binary search, so it is used up to ``fnum``
    times sparser than the store's own threshold."""

    def __init__(self, oids: pa.Array, gids: np.ndarray, fnum: int):
        super().__init__(oids, gids)
        self.fnum = fnum

    def lookup(self, query):
        if not self.is_int or not pa.types.is_integer(query.type) or not len(self.values):
            return super().lookup(query)
        if "_owner_table" not in self.__dict__:
            keys = self.oids.to_numpy(zero_copy_only=False)
            lo, hi = int(keys.min()), int(keys.max())
            table = None
            if hi - lo < 2 * self.fnum * len(keys) + 1024:
                table = np.full(hi - lo + 1, -1, dtype=np.int64)
                table[keys - lo] = self.values
            self._owner_table = (lo, table)
        lo, table = self._owner_table
        if table is None:
            return super().lookup(query)
        chunks = query.chunks if isinstance(query, pa.ChunkedArray) else [query]
        parts = [kernels.lookup_dense(np.ascontiguousarray(
            c.to_numpy(zero_copy_only=False), dtype=np.int64), lo, table) for c in chunks]
        return np.concatenate(parts) if len(parts) != 1 else parts[0]


class FragmentActor:
    """Holds fragment ``fid`` of every graph version the driver keeps (see module docstring)."""

    def __init__(self, fid: int, fnum: int, threads: int = 0):
        self.fid = fid
        self.fnum = fnum
        # the kernels' threads: this actor's share of its node's CPUs (several actors with
        # every core's worth of OpenMP threads each spin against one another)
        self.threads = max(1, min(threads, numba.config.NUMBA_NUM_THREADS)) if threads else 0
        self._use_threads()
        self.frags: dict[int, Fragment] = {}
        self.loads: dict[int, dict] = {}
        self.indexes: dict[tuple[int, str], LabelIndex] = {}
        self.prepared: dict[int, dict] = {}
        self.group: exchange.Group | None = None  # the fragments' exchange (PIE rounds)
        self.listener = None  # the next exchange's listening socket, until it is joined

    # ------------------------------------------------------------------ housekeeping
    def node(self) -> str:
        """The Ray node id this actor runs on."""
        return ray.get_runtime_context().get_node_id()

    def ping(self) -> int:
        return self.fid

    def _use_threads(self) -> None:
        if self.threads:  # per thread in Numba: set on the thread that runs the calls
            numba.set_num_threads(self.threads)

    def _frag(self, version: int | None, head: Head) -> Fragment:
        if version is None:
            return empty_fragment(self.fid, self.fnum, head.schema.directed)
        return self.frags[version]

    def drop(self, versions: list[int]) -> None:
        """Forget graph versions the driver no longer holds."""
        for v in versions:
            self.frags.pop(v, None)
            self.prepared.pop(v, None)
            for key in [k for k in self.indexes if k[0] == v]:
                del self.indexes[key]

    def abort(self, load_id: int, versions: list[int]) -> None:
        """Forget a failed load: its state and the versions it staged."""
        self.loads.pop(load_id, None)
        self.drop(versions)

    def publish(self, version: int) -> Fragment:
        """The fragment itself: as a return value it lands in this node's object store,
        owned by the driver (it survives this actor)."""
        return self.frags[version]

    def adopt(self, version: int, refs: list) -> int:
        """Work on the object-store copy of a version's fragment (``refs[0]``)."""
        self.frags[version] = ray.get(refs[0])
        for key in [k for k in self.indexes if k[0] == version]:
            del self.indexes[key]
        return self.fid

    def fragment(self, version: int) -> Fragment:
        return self.frags[version]

    def stats(self, version: int | None, head: Head) -> dict:
        frag = self._frag(version, head)
        return {"vertices": frag.inner_vertex_count, "nbytes": frag.nbytes,
                "out_entries": sum(len(t.out_nbrs) for t in frag.topology.values()),
                "outer": frag.outer_vertex_count}

    def _index(self, version: int | None, head: Head, label: str) -> LabelIndex:
        key = (version, label)
        if key not in self.indexes:
            frag = self._frag(version, head)
            table = frag.vertex_tables.get(label)
            if table is None:
                ids = pa.array([], type=head.schema.vertex_label(label).id_type)
            else:
                col = table.column("id")
                ids = col.chunk(0) if col.num_chunks == 1 else col.combine_chunks()
            gids = _ids_of_label(head, self.fid, label) if table is not None else _EMPTY
            self.indexes[key] = _OwnerIndex(ids, gids, self.fnum)
        return self.indexes[key]

    # ------------------------------------------------------------------ reading a share
    def read(self, load_id: int, units: list[Unit], kind: str, spec: dict) -> dict:
        """Read this worker's share; ``kind`` ``"v"`` (vertices) or ``"e"`` (edges). Keeps the
        columns for the next phases; returns the row count and the column types."""
        what = spec["what"]
        cols: dict[str, list] = {}
        props, names = [], []
        for unit in units:
            table = read_unit(unit, ray.get)
            if kind == "v":
                ends = {"ids": (spec["vid_field"], "vid_field")}
            else:
                ends = {"src": (spec["src_field"], "src_field"),
                        "dst": (spec["dst_field"], "dst_field")}
            for key, (field, arg) in ends.items():
                ids = normalize_ids(_column(table, field, what, arg),
                                    what if kind == "v" else f"{what} {key}")
                if ids.null_count:
                    raise SchemaError(f"{what}: {unit.name}: the {key} column has"
                                      f" {ids.null_count} null values")
                cols.setdefault(key, []).append(ids)
            exclude = [_name(table, f) for f, _ in ends.values()]
            p = _select_properties(table, spec["properties"], exclude=exclude, what=what)
            props.append(p if not props else conform(p, props[0].schema, f"{what}: {unit.name}"))
            names.append((unit.name, table.num_rows))
            del table
        state: dict[str, Any] = {"units": names}
        types = {}
        for key, parts in cols.items():
            kinds = {str(c.type) for c in parts}
            if len(kinds) > 1:
                raise SchemaError(f"{what}: the {key} ids are {sorted(kinds)} in different files")
            chunks = [c for part in parts for c in
                      (part.chunks if isinstance(part, pa.ChunkedArray) else [part])]
            state[key] = pa.chunked_array(chunks, type=parts[0].type)
            types[key] = parts[0].type
        state["props"] = pa.concat_tables(props) if props else None
        self.loads[load_id] = state
        return {"rows": sum(n for _, n in names), "types": types,
                "props": props[0].schema if props else None}

    def _props(self, state: dict, schema: pa.Schema | None, what: str) -> pa.Table:
        props = state["props"]
        if props is None:
            return schema.empty_table() if schema is not None else pa.table({})
        return conform(props, schema, what) if schema is not None else props

    # ------------------------------------------------------------------ vertices
    def split_vertices(self, load_id: int, label: str, schema: pa.Schema,
                       partitioner: Partitioner, what: str) -> list:
        """Rows of the share (conformed to the label's ``schema``) per owner fragment."""
        state = self.loads[load_id]
        ids = state.pop("ids", None)
        if ids is None:
            return [None] * self.fnum
        props = self._props(state, pa.schema(list(schema)[1:]), what)
        table = pa.Table.from_arrays([ids] + list(props.columns), names=["id"] + props.schema.names)
        table = conform(table, schema, what)
        state.pop("props", None)
        owner = owners(partitioner, label, table.column("id").combine_chunks())
        return self._scatter(owner, lambda sel: table.take(pa.array(sel)))

    def _scatter(self, owner: np.ndarray, take) -> list:
        """``ray.put(take(rows owned by f))`` per fragment f, None where it owns none."""
        perm = kernels.group_by_owner(owner, self.fnum)
        counts = np.bincount(owner, minlength=self.fnum)
        out, pos = [], 0
        for f in range(self.fnum):
            c = int(counts[f])
            out.append(ray.put(take(perm[pos:pos + c])) if c else None)
            pos += c
        return out

    def gather_vertices(self, load_id: int, version: int | None, head: Head, label: str,
                        schema: pa.Schema, refs: list, what: str) -> int:
        """The new rows this fragment owns (from every share, in share order), checked for
        duplicates here and against the label's existing ids; returns their count."""
        parts = _get_all(refs)
        table = pa.concat_tables(parts) if parts else schema.empty_table()
        ids = table.column("id").combine_chunks()
        if label in head.schema.vertex_label_names and len(ids):
            known = self._index(version, head, label).lookup(ids)
            if (known >= 0).any():
                dup = ids[int(np.flatnonzero(known >= 0)[0])].as_py()
                raise DuplicateVertexError(f"{what}: id {dup!r} is already in the graph")
        check_unique(ids, label)
        self.loads.setdefault(load_id, {})["vertices"] = table
        return table.num_rows

    def split_ids(self, load_id: int, label: str, ends: list[str],
                  partitioner: Partitioner) -> list:
        """The distinct ids of the ``ends`` columns per owner fragment (for new vertices)."""
        state = self.loads[load_id]
        arrays = [state[e] for e in ends if e in state]
        if not arrays:
            return [None] * self.fnum
        ids = pa.chunked_array([c for a in arrays for c in a.chunks], type=arrays[0].type)
        ids = ids.combine_chunks()
        owner = owners(partitioner, label, ids)
        return self._scatter(owner, lambda sel: _unique_ids([ids.take(pa.array(sel))]))

    def gather_new_ids(self, load_id: int, version: int | None, head: Head, label: str,
                       refs: list) -> int:
        """The ids sent here that the label does not have yet, sorted (the rows of new
        vertices, with null properties); returns their count."""
        vl = head.schema.vertex_label(label)
        arrays = _get_all(refs)
        ids = _unique_ids(arrays) if arrays else pa.array([], type=vl.id_type)
        if len(ids) and label in self._frag(version, head).vertex_tables:
            ids = ids.filter(pa.array(self._index(version, head, label).lookup(ids) < 0))
        ids = ids.cast(vl.id_type)
        nulls = [pa.nulls(len(ids), f.type) for f in vl.schema if f.name != "id"]
        self.loads.setdefault(load_id, {})["vertices"] = pa.Table.from_arrays(
            [ids] + nulls, schema=vl.schema)
        return len(ids)

    def commit_vertices(self, load_id: int, version: int | None, new_version: int,
                        head: Head, label: str) -> int:
        """Version ``new_version``: the pending rows appended to the label's table, the
        inner ranges of the new id blocks, the adjacency padded to the new inner count."""
        frag = self._frag(version, head)
        part = self.loads.get(load_id, {}).pop("vertices", None)
        vt = dict(frag.vertex_tables)
        ranges, topo = frag.inner_ranges, frag.topology
        if part is not None and part.num_rows:
            old = vt.get(label)
            vt[label] = part if old is None else pa.concat_tables([old, part.cast(old.schema)])
            ranges = head.vertex_blocks.ranges(self.fid)
            n = int(ranges[:, 1].sum())
            topo = {k: t.padded(n) for k, t in frag.topology.items()}
        self.frags[new_version] = replace(frag, vertex_count=head.vertex_blocks.total,
                                          inner_ranges=ranges, vertex_tables=vt, topology=topo,
                                          _cache={})
        return frag.inner_vertex_count

    # ------------------------------------------------------------------ edges
    def split_ends(self, load_id: int, src_label: str, dst_label: str,
                   partitioner: Partitioner, props: pa.Schema | None, what: str) -> list:
        """Both endpoint columns of the share per owner of each id (to be mapped to global
        ids there); the properties are conformed to the label's now, before anything moves."""
        state = self.loads[load_id]
        if "src" not in state:
            return [None] * self.fnum
        state["props"] = self._props(state, props, what)
        sends: list[dict] = [{} for _ in range(self.fnum)]
        for end, label in (("src", src_label), ("dst", dst_label)):
            ids = state.pop(end).combine_chunks()
            owner = owners(partitioner, label, ids)
            perm = kernels.group_by_owner(owner, self.fnum)
            counts = np.bincount(owner, minlength=self.fnum)
            state[f"{end}_route"] = (perm, counts)
            state[f"{end}_ids"] = ids
            pos = 0
            for f in range(self.fnum):
                c = int(counts[f])
                sends[f][end] = ids.take(pa.array(perm[pos:pos + c]))
                pos += c
        return [ray.put(s) for s in sends]

    def lookup(self, version: int | None, head: Head, src_label: str, dst_label: str,
               refs: list) -> list:
        """Global ids of the endpoint ids each share sent here (-1 for unknown ones)."""
        out = []
        for sent in _get_all(refs, keep_none=True):
            if sent is None:
                out.append(None)
                continue
            out.append(ray.put({end: self._index(version, head, label).lookup(sent[end])
                                for end, label in (("src", src_label), ("dst", dst_label))}))
        return out

    def map_ends(self, load_id: int, head: Head, refs: list) -> dict:
        """Put the owners' answers back in row order; report the first unknown endpoint and
        the number of edges whose source each fragment owns."""
        state = self.loads[load_id]
        if "src_ids" not in state:
            return {"counts": np.zeros(self.fnum, dtype=np.int64), "unknown": {}}
        answers = _get_all(refs, keep_none=True)
        report: dict[str, Any] = {"unknown": {}}
        for end in ("src", "dst"):
            perm, counts = state.pop(f"{end}_route")
            gid = np.empty(len(perm), dtype=np.int64)
            pos = 0
            for f in range(self.fnum):
                c = int(counts[f])
                if c:
                    gid[perm[pos:pos + c]] = answers[f][end]
                pos += c
            missing = np.flatnonzero(gid < 0)
            if len(missing):
                row = int(missing[0])
                report["unknown"][end] = {"row": row, "count": len(missing),
                                          "id": state[f"{end}_ids"][row].as_py(),
                                          "where": self._where(state["units"], row)}
            state[f"{end}_gid"] = gid
            del state[f"{end}_ids"]
        owner, _ = locate(head.vertex_blocks, np.maximum(state["src_gid"], 0))
        report["counts"] = np.bincount(owner, minlength=self.fnum)
        return report

    @staticmethod
    def _where(units: list[tuple[str, int]], row: int) -> tuple[str, int]:
        """``(file, row in that file)`` of row ``row`` of the share."""
        for name, n in units:
            if row < n:
                return name, row
            row -= n
        return units[-1][0], row

    def ship_edges(self, load_id: int, head: Head, first_eids: np.ndarray) -> list:
        """The share's edges per fragment: the out-entries (and property rows) to the owner
        of the source, the in-entries to the owner of the target. Edge ids: the source
        fragment's block start ``first_eids[f]`` plus the position among this share's edges
        into ``f`` (input order)."""
        state = self.loads.pop(load_id)
        if "src_gid" not in state:
            return [None] * self.fnum
        src, dst = state.pop("src_gid"), state.pop("dst_gid")
        props = state.pop("props")
        vb = head.vertex_blocks
        src_owner, src_lid = locate(vb, src)
        dst_owner, dst_lid = locate(vb, dst)
        perm = kernels.group_by_owner(src_owner, self.fnum)
        counts = np.bincount(src_owner, minlength=self.fnum)
        eids = np.empty(len(src), dtype=kernels.eid_dtype(head.edge_blocks.total))
        in_perm = kernels.group_by_owner(dst_owner, self.fnum)
        in_counts = np.bincount(dst_owner, minlength=self.fnum)
        pos = 0
        for f in range(self.fnum):
            c = int(counts[f])
            eids[perm[pos:pos + c]] = np.arange(first_eids[f], first_eids[f] + c)
            pos += c
        out, pos, ipos = [], 0, 0
        for f in range(self.fnum):
            c, ic = int(counts[f]), int(in_counts[f])
            sel, isel = perm[pos:pos + c], in_perm[ipos:ipos + ic]
            pos, ipos = pos + c, ipos + ic
            if not c and not ic:
                out.append(None)
                continue
            out.append(ray.put({
                "out": (src_lid[sel], dst[sel], eids[sel]),
                "in": (dst_lid[isel], src[isel], eids[isel]),
                "props": props.take(pa.array(sel)) if props.num_columns else None}))
        return out

    def build_edges(self, load_id: int, version: int | None, new_version: int, head: Head,
                    label: str, new_label: bool, props_schema: pa.Schema, refs: list) -> int:
        """Version ``new_version`` with the edges every share sent here merged into the
        label's CSR (out) and CSC (in) by the store's kernels, in share order (input order)."""
        frag = self._frag(version, head)
        parts = _get_all(refs)
        eid_type = kernels.eid_dtype(head.edge_blocks.total)
        n = frag.inner_vertex_count
        old = frag.topology.get(label)
        topo = dict(frag.topology)
        out = [p["out"] for p in parts if len(p["out"][0])]
        inn = [p["in"] for p in parts if len(p["in"][0])]
        if not head.schema.directed:  # each edge in both endpoints' rows: sources' entries first
            out = inn = out + inn
        if not out and not inn and not new_label:
            self.frags[new_version] = frag
            return 0
        o = _csr(n, old, "out", out, eid_type)
        i = _csr(n, old, "in", inn, eid_type) if head.schema.directed else o
        topo[label] = Topology(*o, *i)
        et = dict(frag.edge_tables)
        rows = [p["props"] for p in parts if p["props"] is not None and p["props"].num_rows]
        if rows:
            new_rows = pa.concat_tables([r.cast(props_schema) for r in rows])
            et[label] = new_rows if label not in et else pa.concat_tables(
                [et[label], new_rows.cast(et[label].schema)])
        elif label not in et:
            et[label] = props_schema.empty_table() if len(props_schema) else pa.table({})
        self.frags[new_version] = replace(
            frag, edge_tables=et, topology=topo, _cache={},
            outer_gids=compute_outer(topo, frag.inner_ranges, frag.vertex_count))
        return sum(len(p[0]) for p in out)

    # ------------------------------------------------------------------ columns, ids
    def add_columns(self, version: int, new_version: int, head: Head, labels: list[str],
                    names: dict[str, str], values: Any, by_gid: bool) -> None:
        """Version ``new_version`` with new vertex columns. ``values``: the output of an app
        run on this fragment (``by_gid`` False: arrays over the inner vertices, ``names`` maps
        new column -> output column) or ``(sorted gids, {name: values})`` of this fragment's
        share of the driver's arrays (``by_gid`` True; vertices not covered get nulls)."""
        frag = self.frags[version]
        if isinstance(values, list):
            values = ray.get(values[0])
        vt = dict(frag.vertex_tables)
        for lab in labels:
            if lab not in vt:
                continue
            row_gids = _ids_of_label(head, self.fid, lab)
            t = vt[lab]
            for name, src in names.items():
                if by_gid:
                    gids, arrays = values
                    pos = np.minimum(np.searchsorted(gids, row_gids), max(len(gids) - 1, 0))
                    found = gids[pos] == row_gids if len(gids) else np.zeros(len(row_gids), bool)
                    arr = arrays[src]
                    col = arr[pos] if len(gids) else np.zeros(len(row_gids), arr.dtype)
                else:
                    col = np.asarray(values[src])[frag.inner_lids(row_gids)]
                    found = np.ones(len(row_gids), dtype=bool)
                t = t.append_column(name, pa.array(col, mask=~found))
            vt[lab] = t
        self.frags[new_version] = replace(frag, vertex_tables=vt, _cache={})

    def lookup_ids(self, version: int, head: Head, label: str, ids: pa.Array) -> np.ndarray:
        """Global ids of user ids of ``label`` this fragment owns (-1 if unknown)."""
        return self._index(version, head, label).lookup(ids)

    def user_ids(self, version: int, head: Head, gids: np.ndarray) -> list:
        """User ids of inner vertices given by global id (Python values, gid order kept)."""
        frag = self.frags[version]
        vb = head.vertex_blocks
        lab_of = kernels.locate(np.asarray(gids, dtype=np.int64), vb.start, vb.label, vb.start)[0]
        out: list = [None] * len(gids)
        for li in np.unique(lab_of):
            label = head.schema.vertex_labels[int(li)].name
            sel = np.flatnonzero(lab_of == li)
            row_gids = _ids_of_label(head, self.fid, label)
            rows = np.searchsorted(row_gids, gids[sel])  # a label's rows are in gid order
            ids = frag.vertex_tables[label].column("id").take(pa.array(rows)).to_pylist()
            for k, v in zip(sel, ids):
                out[k] = v
        return out

    def vertex_columns(self, version: int, head: Head, name: str) -> list:
        """``(label, gids, values)`` of vertex property ``name`` per label that has it here."""
        frag = self.frags[version]
        out = []
        for label, table in frag.vertex_tables.items():
            if name in table.column_names:
                out.append((label, _ids_of_label(head, self.fid, label),
                            table.column(name).to_numpy()))
        return out

    # ------------------------------------------------------------------ persistence
    def save(self, version: int, root: str, prefix: str) -> dict:
        """Write this fragment under ``root`` (file names start with ``prefix``)."""
        frag = self.frags[version]
        return write_fragment(frag, Path(root), prefix, frag.directed)

    def load(self, version: int, root: str, entry: dict, head: Head) -> int:
        """Version ``version``: this fragment read (memory-mapped) from a saved graph."""
        self.frags[version] = read_fragment(Path(root), entry, self.fid, self.fnum, head.schema,
                                            head.vertex_blocks.total)
        return self.frags[version].inner_vertex_count

    # ------------------------------------------------------------------ PIE
    def outer_parts(self, version: int, head: Head) -> list:
        """This fragment's outer vertices per owner fragment (who mirrors what). The first
        call of a version's PIE preparation: ``head`` is kept for its runs."""
        self.prepared.setdefault(version, {})["head"] = head
        outer = as_numpy(self.frags[version].outer_gids)
        owner, _ = head.vertex_blocks.locate(outer)
        return self._scatter(owner, lambda sel: outer[sel])

    def set_mirrors(self, version: int, refs: list) -> None:
        """``mirror_lids[d]``: inner lids of the vertices fragment ``d`` has as outer ones."""
        frag = self.frags[version]
        mirrors = [frag.inner_lids(o) if o is not None else _EMPTY
                   for o in _get_all(refs, keep_none=True)]
        self.prepared.setdefault(version, {})["mirrors"] = mirrors
        self.prepared[version].setdefault("edge_values", {})

    def _edge_lists(self, version: int, head: Head) -> list[np.ndarray]:
        frag = self.frags[version]
        lists = [frag.csr("out")[2]]
        if head.schema.directed:
            lists.append(frag.csr("in")[2])
        return lists

    def edge_requests(self, version: int, head: Head) -> list:
        """Edge ids in this fragment's lists whose property rows another fragment holds
        (an edge's row lives with its source's owner), per holder."""
        eids = np.unique(np.concatenate(self._edge_lists(version, head)).astype(np.int64))
        holder, _ = head.edge_blocks.locate(eids)
        holder[holder == self.fid] = -1
        keep = holder >= 0
        eids, holder = eids[keep], holder[keep]
        self.prepared.setdefault(version, {})["requested"] = eids
        return self._scatter(holder, lambda sel: eids[sel])

    def _local_edge_values(self, version: int, head: Head, names: list[str],
                           eids: np.ndarray) -> dict[str, np.ndarray]:
        """Properties of edges whose rows this fragment holds (NaN / 0 where a label lacks it
        or another fragment holds the row)."""
        frag = self.frags[version]
        eb = head.edge_blocks
        eids = np.asarray(eids, dtype=np.int64)
        label_of, row = kernels.locate(eids, eb.start, eb.label, eb.row) if len(eb.start) else \
            (_EMPTY, _EMPTY)
        if len(eb.start):  # rows held by another fragment are not read here
            label_of[eb.locate(eids)[0] != self.fid] = -1
        out = {}
        for name in names:
            labels = [e for e in head.schema.edge_labels if name in e.schema.names]
            dtype = labels[0].schema.field(name).type.to_pandas_dtype()
            values = np.full(len(eids), np.nan if np.dtype(dtype).kind == "f" else 0, dtype=dtype)
            for el in labels:
                li = head.schema.edge_label_index(el.name)
                sel = np.flatnonzero(label_of == li)
                if len(sel) and el.name in frag.edge_tables:
                    col = frag.edge_tables[el.name].column(name).to_numpy()
                    values[sel] = col[row[sel]]
            out[name] = values
        return out

    def edge_answers(self, version: int, head: Head, names: list[str], refs: list) -> list:
        """The property values of the edge ids each fragment asked for."""
        return [ray.put(self._local_edge_values(version, head, names, asked))
                if asked is not None else None for asked in _get_all(refs, keep_none=True)]

    def set_edge_values(self, version: int, head: Head, names: list[str], refs: list) -> None:
        """Edge properties aligned with this fragment's out- and in-lists."""
        requested = self.prepared[version].pop("requested")
        remote = {name: np.zeros(len(requested)) for name in names}
        eb = head.edge_blocks
        holder, _ = eb.locate(requested)
        for d, got in enumerate(_get_all(refs, keep_none=True)):
            if got is None:
                continue
            sel = np.flatnonzero(holder == d)
            for name in names:
                if remote[name].dtype != got[name].dtype:
                    remote[name] = remote[name].astype(got[name].dtype)
                remote[name][sel] = got[name]
        aligned = []
        for eids in self._edge_lists(version, head):
            eids = np.asarray(eids, dtype=np.int64)
            values = self._local_edge_values(version, head, names, eids)
            where, _ = eb.locate(eids)
            far = np.flatnonzero(where != self.fid)
            pos = np.searchsorted(requested, eids[far])
            for name in names:
                values[name][far] = remote[name][pos]
            aligned.append(values)
        store = self.prepared[version]["edge_values"]
        for name in names:
            out = aligned[0][name]
            inn = aligned[1][name] if len(aligned) > 1 else out
            out.flags.writeable = False
            inn.flags.writeable = False
            store[name] = (out, inn)

    def _worker(self, version: int, head: Head, app) -> FragmentWorker:
        """Check the app on this fragment, compute its inputs, build the plan and the worker."""
        frag = self.frags[version]
        prepared = self.prepared[version]
        edge_values = {n: prepared["edge_values"][n] for n in app.edge_properties}
        shard = ShardGraph(head, frag, edge_values)
        app.check(shard)
        vb = head.vertex_blocks
        plan = FragmentPlan(
            fragment=frag, block_starts=np.ascontiguousarray(vb.start, dtype=np.int64),
            block_fids=np.ascontiguousarray(vb.fid, dtype=np.int64),
            total_vertex_count=int(vb.count.sum()), id_space=vb.total,
            outer_gids=as_numpy(frag.outer_gids), mirror_lids=prepared["mirrors"],
            edge_values=edge_values, inputs=app.fragment_inputs(shard, frag))
        return FragmentWorker(plan, app)

    def exchange_address(self) -> tuple[str, int]:
        """Where this actor listens for the other fragments' connections (the next mesh)."""
        if self.listener is not None:
            self.listener.close()
        self.listener = exchange.listen()
        return self.listener.getsockname()[:2]

    def join_exchange(self, addresses: list[tuple[str, int]], key: bytes) -> None:
        """Join the fragments' exchange mesh as rank ``fid`` (all actors at once, with the
        driver's ``key`` for this mesh), leaving the one this actor was in."""
        if self.group is not None:
            self.group.close()
        listener, self.listener = self.listener, None
        self.group = exchange.Group.join(listener, addresses, self.fid, key)

    @ray.method(num_returns=2)
    def run(self, version: int, app):
        """Check the app on this fragment, build its worker and step it to the end,
        exchanging with the other fragments after every round. Returns ``(column dtypes,
        per-round stats)`` and the output columns (the second lands in the object store,
        driver-owned). A failure leaves the exchange group: the others fail at once."""
        self._use_threads()
        try:
            worker = self._worker(version, self.prepared[version]["head"], app)
        except BaseException:
            self.group.close()
            raise
        exchange.run_rounds(self.group, worker)
        out = worker.output()
        return ({k: np.asarray(v).dtype for k, v in out.items()},
                exchange.round_stats(self.group.stats)), out
