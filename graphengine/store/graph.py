"""The property graph: an immutable version over fragments, with the GraphScope-style builders.

Every method that changes the graph returns a new :class:`Graph`; the old one stays valid and
the new one shares every buffer it did not change (fragments it did not touch, tables, CSR
arrays). Loading is vectorized: the vertex map, the partitioning and the CSR/CSC builds run over
whole arrays (numpy and Numba counting sorts), never a Python loop per vertex or edge.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import DuplicateVertexError, LoadError, SchemaError, UnknownVertexError
from . import kernels
from .fragment import Fragment, Topology, as_arrow, as_numpy, compute_outer
from .ids import (
    IdBlocks,
    LabelIndex,
    Partitioner,
    check_unique,
    fennel_assign,
    ids_in_ranges,
    normalize_ids,
    result_order,
)
from .progress import Progress
from .schema import EdgeLabel, GraphSchema, VertexLabel, conform
from .sources import Source, read_source

log = logging.getLogger(__name__)

Field = int | str
PropertySpec = Sequence[str | tuple[str, Any]] | None


class IdSpace:
    """What a graph's schema and vertex id blocks tell, wherever its fragments live (shared by
    :class:`Graph` and the Ray session's distributed graph); subclasses have ``schema`` and
    ``vertex_blocks``."""

    schema: GraphSchema
    vertex_blocks: IdBlocks

    @property
    def directed(self) -> bool:
        return self.schema.directed

    @property
    def vertex_labels(self) -> list[str]:
        return self.schema.vertex_label_names

    @property
    def edge_labels(self) -> list[str]:
        return self.schema.edge_label_names

    @property
    def id_space(self) -> int:
        """Size of the global id space: every gid is ``< id_space``."""
        return self.vertex_blocks.total

    def owner(self, gids: np.ndarray) -> np.ndarray:
        """Fragment id owning each global vertex id."""
        return self.vertex_blocks.locate(gids)[0]

    def _label_blocks(self, label: str) -> IdBlocks:
        return self.vertex_blocks.select(self.vertex_blocks.label == self.schema.vertex_label_index(label))

    def all_gids(self) -> np.ndarray:
        """Global ids of all vertices, ascending: the vertex order of every analytics result."""
        return ids_in_ranges(np.stack([self.vertex_blocks.start, self.vertex_blocks.count], axis=1))

    def vertex_label_of(self, gids: np.ndarray) -> np.ndarray:
        """Label index of each global vertex id."""
        vb = self.vertex_blocks
        return kernels.locate(np.asarray(gids, dtype=np.int64), vb.start, vb.label, vb.start)[0]

    def vertex_gids(self, label: str) -> np.ndarray:
        """Global ids of the vertices of ``label``, ascending (row order of vertex_table)."""
        blocks = self._label_blocks(label)
        return ids_in_ranges(np.stack([blocks.start, blocks.count], axis=1))


class Graph(IdSpace):
    """An immutable property graph version partitioned into fragments.

    Build one with :meth:`graphengine.Session.g` and the ``add_*`` methods, or
    :meth:`graphengine.Session.load_from`.
    """

    def __init__(self, schema: GraphSchema, partitioner: Partitioner, vertex_blocks: IdBlocks,
                 edge_blocks: IdBlocks, fragments: Sequence[Fragment]):
        self.schema = schema
        self.partitioner = partitioner
        self.vertex_blocks = vertex_blocks
        self.edge_blocks = edge_blocks
        self.fragments: tuple[Fragment, ...] = tuple(fragments)

    @classmethod
    def empty(cls, directed: bool = True, num_fragments: int = 1,
              partitioner: str = "hash") -> Graph:
        """A graph with no labels, split into ``num_fragments`` fragments."""
        part = Partitioner(num_fragments, partitioner)
        empty = pa.array(np.zeros(0, dtype=np.int64))
        frags = [Fragment(f, num_fragments, directed, 0, np.zeros((0, 2), dtype=np.int64), {}, {},
                          {}, empty) for f in range(num_fragments)]
        return cls(GraphSchema(directed), part, IdBlocks.empty(), IdBlocks.empty(), frags)

    # ------------------------------------------------------------------ basic facts
    @property
    def fnum(self) -> int:
        """Number of fragments."""
        return len(self.fragments)

    @property
    def vertex_count(self) -> int:
        """Number of vertices (all labels)."""
        return sum(f.inner_vertex_count for f in self.fragments)

    @property
    def edge_count(self) -> int:
        """Number of edges (all labels; an undirected edge counts once)."""
        out = sum(len(t.out_nbrs) for f in self.fragments for t in f.topology.values())
        return out if self.directed else out // 2

    @property
    def nbytes(self) -> int:
        """Bytes of the store's buffers over all fragments."""
        return sum(f.nbytes for f in self.fragments)

    def __repr__(self) -> str:
        kind = "directed" if self.directed else "undirected"
        return (f"Graph({kind}, {self.vertex_count} vertices {self.vertex_labels},"
                f" {self.edge_count} edges {self.edge_labels}, {self.fnum} fragments)")

    # ------------------------------------------------------------------ vertex map
    @cached_property
    def _derived(self) -> dict:
        """Derived data of this version (vertex map per label, gathered edge properties)."""
        return {}

    @cached_property
    def result_order(self) -> tuple[np.ndarray, np.ndarray | None]:
        """``(gids, order)``: the global ids of all vertices ascending (read-only), and the
        permutation that puts the fragments' inner vertices, concatenated in fragment order, in
        that order (None when they already are). Once per version (:func:`ids.result_order`)."""
        return result_order([f.inner_gids for f in self.fragments])

    def _index(self, label: str) -> LabelIndex:
        if label not in self._derived:
            ids = self.vertex_table(label).column("id")
            ids = ids.chunk(0) if ids.num_chunks == 1 else ids.combine_chunks()
            self._derived[label] = LabelIndex(ids, self.vertex_gids(label))
        return self._derived[label]

    def gids(self, label: str, ids: Sequence | np.ndarray | pa.Array) -> np.ndarray:
        """Global ids of the vertices of ``label`` with user ids ``ids`` (-1 where unknown)."""
        ids = ids if isinstance(ids, (pa.Array, pa.ChunkedArray)) else pa.array(ids)
        return self._index(label).lookup(normalize_ids(ids, f"vertex label {label!r}"))

    def gid(self, label: str, vid: Any) -> int:
        """Global id of the vertex of ``label`` with user id ``vid`` (-1 when unknown): one
        lookup without building an Arrow array (an app's source vertex)."""
        index = self._index(label)
        found = index.lookup_one(vid)
        if found is None:  # not a plain int or str: the general path converts (or rejects) it
            return int(self.gids(label, [vid])[0])
        return found

    def _successor(self, schema: GraphSchema, edge_blocks: IdBlocks,
                   fragments: Sequence[Fragment]) -> Graph:
        """A new version with this one's vertices (ids and blocks unchanged): the vertex map
        built here per label is shared with it, not built again on its first lookup."""
        new = Graph(schema, self.partitioner, self.vertex_blocks, edge_blocks, fragments)
        new._derived.update((k, v) for k, v in self._derived.items() if isinstance(v, LabelIndex))
        return new

    def vertex_ids(self, gids: np.ndarray) -> list:
        """User ids of the given global ids (any labels), as Python values."""
        return self._ids_of(np.asarray(gids, dtype=np.int64)).to_pylist()

    # ------------------------------------------------------------------ tables in id order
    def vertex_table(self, label: str) -> pa.Table:
        """All vertices of ``label`` in global id order (zero-copy slices of fragment tables)."""
        vl = self.schema.vertex_label(label)
        blocks = self._label_blocks(label)
        parts = [self.fragments[f].vertex_tables[label].slice(r, c)
                 for f, r, c in zip(blocks.fid, blocks.row, blocks.count)]
        return pa.concat_tables(parts) if parts else vl.schema.empty_table()

    def vertex_property(self, name: str, label: str | None = None) -> np.ndarray:
        """A vertex property as a float/int array indexed by global id (NaN / 0 where absent)."""
        labels = [label] if label else [v.name for v in self.schema.vertex_labels
                                         if name in v.schema.names]
        if not labels:
            raise SchemaError(f"no vertex label has property {name!r}")
        out = None
        for lab in labels:
            col = self.vertex_table(lab).column(name).to_numpy()
            if out is None:
                out = np.full(self.id_space, np.nan if col.dtype.kind == "f" else 0, dtype=col.dtype)
            out[self.vertex_gids(lab)] = col
        return out

    def _edge_rows(self, label: str) -> IdBlocks:
        return self.edge_blocks.select(self.edge_blocks.label == self.schema.edge_label_index(label))

    def edge_property(self, name: str, label: str | None = None) -> np.ndarray:
        """An edge property as an array indexed by edge id (NaN / 0 for edges without it).

        Gathered once per graph version and label selection; the array is read-only.
        """
        key = ("edge_property", name, label)
        if key not in self._derived:
            values = self._gather_edge_property(name, label)
            values.flags.writeable = False
            self._derived[key] = values
        return self._derived[key]

    def _gather_edge_property(self, name: str, label: str | None) -> np.ndarray:
        labels = [label] if label else [e.name for e in self.schema.edge_labels
                                         if name in e.schema.names]
        if not labels:
            raise SchemaError(f"no edge label has property {name!r}")
        out = None
        for lab in labels:
            blocks = self._edge_rows(lab)
            if len(labels) == 1 and len(blocks.start) == 1 and blocks.start[0] == 0 \
                    and blocks.count[0] == self.edge_blocks.total:
                # every edge id in one block (one fragment, one label): the column itself
                col = self.fragments[blocks.fid[0]].edge_tables[lab].column(name).slice(
                    blocks.row[0], blocks.count[0])
                if col.num_chunks == 1 and col.null_count == 0:
                    try:
                        return col.chunk(0).to_numpy(zero_copy_only=True)
                    except pa.ArrowInvalid:  # booleans are bit-packed: gathered below
                        pass
            for s, f, r, c in zip(blocks.start, blocks.fid, blocks.row, blocks.count):
                col = self.fragments[f].edge_tables[lab].column(name).slice(r, c).to_numpy()
                if out is None:
                    out = np.full(self.edge_blocks.total, np.nan if col.dtype.kind == "f" else 0,
                                  dtype=col.dtype)
                out[s:s + c] = col
        if out is None:
            return np.zeros(self.edge_blocks.total)
        return out

    def edge_table(self, label: str) -> pa.Table:
        """Edges of ``label`` (``src``, ``dst`` user ids, then properties) in edge-id order.

        Undirected edges are listed once each, from the endpoint with the smaller internal id.
        """
        el = self.schema.edge_label(label)
        src, dst, eid = self._edge_list(label)
        fid, row = self.edge_blocks.locate(eid, base="row")
        props = []
        for f in range(self.fnum):
            mask = fid == f
            if mask.any() and el.schema.names:
                props.append((np.flatnonzero(mask), self.fragments[f].edge_tables[label]
                              .take(pa.array(row[mask]))))
        columns: dict[str, Any] = {"src": self._ids_of(src), "dst": self._ids_of(dst)}
        # rows were gathered per fragment: put them back in edge-id order
        order = pa.array(np.argsort(np.concatenate([p[0] for p in props]), kind="stable")) \
            if props else None
        for name in el.schema.names:
            if props:
                col = pa.concat_arrays([p[1].column(name).combine_chunks() for p in props])
                columns[name] = col.take(order)
            else:
                columns[name] = pa.array([], type=el.schema.field(name).type)
        return pa.table(columns)

    def _edge_list(self, label: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(src gids, dst gids, eids)`` of the live edges of ``label``, sorted by eid."""
        srcs, dsts, eids = [], [], []
        for f in self.fragments:
            t = f.topology.get(label)
            if t is None:
                continue
            indptr, nbrs, e = t.arrays("out")
            keys = f.inner_gids[np.repeat(np.arange(len(indptr) - 1), np.diff(indptr))]
            if not self.directed:
                keep = keys <= nbrs
                # a self loop is stored twice: keep its first entry only
                loops = np.flatnonzero(keep & (keys == nbrs))
                if len(loops):
                    _, first = np.unique(e[loops], return_index=True)
                    drop = np.setdiff1d(loops, loops[first])
                    keep[drop] = False
                keys, nbrs, e = keys[keep], nbrs[keep], e[keep]
            srcs.append(keys)
            dsts.append(nbrs)
            eids.append(e)
        if not srcs:
            z = np.zeros(0, dtype=np.int64)
            return z, z, z
        src, dst, eid = (np.concatenate(a) for a in (srcs, dsts, eids))
        order = np.argsort(eid, kind="stable")
        return src[order], dst[order], eid[order]

    def _ids_of(self, gids: np.ndarray) -> pa.Array:
        """User ids of global ids as one Arrow array (labels must share an id type)."""
        out = None
        labels = self.vertex_label_of(gids) if len(gids) else np.zeros(0, dtype=np.int64)
        for li, vl in enumerate(self.schema.vertex_labels):
            mask = labels == li
            if not mask.any():
                continue
            pos = np.searchsorted(self.vertex_gids(vl.name), gids[mask])
            ids = self.vertex_table(vl.name).column("id").take(pa.array(pos)).combine_chunks()
            if out is None:
                out = (np.empty(len(gids), dtype=object), ids.type)
            out[0][mask] = ids.to_numpy(zero_copy_only=False)
        if out is None:
            return pa.array([], type=pa.int64())
        return pa.array(out[0], type=out[1])

    # ------------------------------------------------------------------ building
    def add_vertices(self, source: Source, label: str = "_", properties: PropertySpec = None,
                     vid_field: Field = 0) -> Graph:
        """A new graph with the vertices of ``source`` added under ``label``.

        Args:
            source: DataFrame, Arrow table, CSV/Parquet path or :class:`Loader`, numpy array.
            label: vertex label (created if new; otherwise the columns must match its schema).
            properties: property columns to keep (names, or ``(name, type)`` to cast);
                default all columns but the id.
            vid_field: the user id column, by position or name (int64 or string values).

        Raises:
            LoadError, SchemaError, DuplicateVertexError. The graph is never modified.
        """
        what = f"vertices {label!r}"
        table = read_source(source, what)
        ids = _column(table, vid_field, what, "vid_field")
        props = _select_properties(table, properties, exclude=[_name(table, vid_field)], what=what)
        return self._add_vertex_table(label, normalize_ids(ids, what), props)

    def _add_vertex_table(self, label: str, ids: pa.Array, props: pa.Table,
                          distinct: bool = False, owner: np.ndarray | None = None) -> Graph:
        """Add vertices; ``distinct`` says the ids are known to be distinct (deduced ones);
        ``owner`` (the fragment of each row) overrides the partitioner."""
        what = f"vertices {label!r}"
        if ids.null_count:
            raise SchemaError(f"{what}: the id column has {ids.null_count} null values")
        table = pa.Table.from_arrays([ids] + list(props.columns), names=["id"] + props.schema.names)
        exists = label in self.vertex_labels
        if exists:
            table = conform(table, self.schema.vertex_label(label).schema, what)
            known = self._index(label).lookup(table.column("id").combine_chunks())
            if (known >= 0).any():
                dup = table.column("id")[int(np.flatnonzero(known >= 0)[0])].as_py()
                raise DuplicateVertexError(f"{what}: id {dup!r} is already in the graph")
        if not distinct:
            check_unique(table.column("id").combine_chunks(), label)
        schema = self.schema if exists else self.schema.with_vertex_label(VertexLabel(label, table.schema))
        li = schema.vertex_label_index(label)
        if owner is None:
            owner, partitioner = self.partitioner.assign(label, table.column("id").combine_chunks())
        else:
            partitioner = self.partitioner
        perm = kernels.group_by_owner(owner, self.fnum)
        counts = np.bincount(owner, minlength=self.fnum)
        blocks = self.vertex_blocks
        new_tables: dict[int, pa.Table] = {}
        pos = 0
        progress = Progress(table.num_rows, f"vertices {label}")
        for f in range(self.fnum):
            c = int(counts[f])
            frag = self.fragments[f]
            old = frag.vertex_tables.get(label)
            rows = old.num_rows if old is not None else 0
            if c:
                blocks = blocks.append(f, li, rows, frag.inner_vertex_count, c)
                part = table.take(pa.array(perm[pos:pos + c]))
                new_tables[f] = part if old is None else pa.concat_tables([old, part])
                pos += c
                progress.update(c)
        progress.close()
        total = blocks.total
        frags = []
        for f, frag in enumerate(self.fragments):
            vt = dict(frag.vertex_tables)
            ranges = frag.inner_ranges
            topo = frag.topology
            if f in new_tables:
                vt[label] = new_tables[f]
                ranges = blocks.ranges(f)
                n = int(ranges[:, 1].sum())
                topo = {k: t.padded(n) for k, t in frag.topology.items()}
            frags.append(replace(frag, vertex_count=total, inner_ranges=ranges, vertex_tables=vt,
                                 topology=topo, _cache={}))
        log.info("added %d vertices with label %r", table.num_rows, label)
        return Graph(schema, partitioner, blocks, self.edge_blocks, frags)

    def add_edges(self, source: Source, label: str = "_e", properties: PropertySpec = None,
                  src_label: str | None = None, dst_label: str | None = None,
                  src_field: Field = 0, dst_field: Field = 1,
                  create_missing_vertices: bool = False) -> Graph:
        """A new graph with the edges of ``source`` added under ``label``.

        Endpoints are user ids of ``src_label`` / ``dst_label`` vertices (default: the only
        vertex label, or ``"_"`` for a graph without vertices). A label the graph does not have
        yet is created from the endpoint ids. An id the label does not have is an
        :class:`UnknownVertexError`, unless ``create_missing_vertices`` adds it without
        properties.

        Raises:
            LoadError, SchemaError, UnknownVertexError. The graph is never modified.
        """
        what = f"edges {label!r}"
        table = read_source(source, what)
        ends = {"src": normalize_ids(_column(table, src_field, what, "src_field"), what + " src"),
                "dst": normalize_ids(_column(table, dst_field, what, "dst_field"), what + " dst")}
        props = _select_properties(table, properties,
                                   exclude=[_name(table, src_field), _name(table, dst_field)],
                                   what=what)
        del table  # the id columns are freed once they are mapped to global ids
        return self._add_edge_table(label, ends, props, src_label, dst_label,
                                    create_missing_vertices)

    def _default_vertex_label(self) -> str:
        names = self.vertex_labels
        if len(names) == 0:
            return "_"
        if len(names) == 1:
            return names[0]
        raise SchemaError(f"the graph has several vertex labels {names}: give src_label and dst_label")

    def _add_edge_table(self, label: str, ends: dict[str, pa.Array], props: pa.Table,
                        src_label: str | None, dst_label: str | None,
                        create_missing: bool) -> Graph:
        """Add edges given by user ids ``ends["src"]``, ``ends["dst"]``; ``ends`` is consumed."""
        what = f"edges {label!r}"
        src, dst = ends["src"], ends["dst"]
        src_label = src_label or self._default_vertex_label()
        dst_label = dst_label or self._default_vertex_label()
        if src.null_count or dst.null_count:
            raise SchemaError(f"{what}: src/dst columns have null values")
        g = self
        count = len(src)
        progress = Progress(count, f"edges {label}")
        # new vertex labels are deduced from the endpoints
        src_counts = None
        if src_label == dst_label and src_label not in g.vertex_labels:
            dense = _dense_census(src, dst)
            if dense is not None:  # one read of both columns: the ids and the CSR's key counts
                ids, src_counts = dense
                g = g._add_vertex_table(src_label, pa.array(ids), pa.table({}), distinct=True)
                del dense, ids
        if src_label not in g.vertex_labels or dst_label not in g.vertex_labels:
            for lab in dict.fromkeys([src_label, dst_label]):
                if lab not in g.vertex_labels:
                    arrays = [a for a, l2 in ((src, src_label), (dst, dst_label)) if l2 == lab]
                    g = g._add_vertex_table(lab, _unique_ids(arrays), pa.table({}), distinct=True)
                    del arrays
        del src, dst
        if g.partitioner.kind == "fennel" and g.fnum > 1 and not g.edge_labels and count:
            g = g._place_by_edges(ends, src_label, dst_label)
        if label in g.edge_labels:
            el = g.schema.edge_label(label)
            props = conform(props, el.schema, what)
            rel = (src_label, dst_label)
            el = el if rel in el.relations else replace(el, relations=el.relations + (rel,))
        else:
            el = EdgeLabel(label, props.schema, ((src_label, dst_label),))
        if not any(label in f.topology for f in g.fragments):
            # a new label is built straight from the user ids when both labels map them
            # through a dense table; None when an endpoint is not a vertex (resolved below)
            by_table = g._dense_ends(ends, src_label, dst_label, src_counts)
            if by_table is not None:
                graph = g._insert_new_label(g.schema.with_edge_label(el), label, *by_table, props,
                                            progress)
                if graph is not None:
                    progress.close()
                    log.info("added %d edges with label %r", count, label)
                    return graph
                for name, e in zip(("src", "dst"), by_table):
                    ends[name] = pa.chunked_array(e.keys.arrays, type=pa.int64())
                del by_table
        for name, lab in (("src", src_label), ("dst", dst_label)):
            ids = ends[name]
            gid = g.gids(lab, ids)
            missing = np.flatnonzero(gid < 0)
            if len(missing):
                if not create_missing:
                    bad = ids[int(missing[0])].as_py()
                    raise UnknownVertexError(
                        f"{what}: row {int(missing[0])}: {name} id {bad!r} is not a vertex of"
                        f" label {lab!r} ({len(missing)} unknown endpoints; pass"
                        f" create_missing_vertices=True to add them)")
                new_ids = _unique_ids([ids.take(pa.array(missing))])
                vl = g.schema.vertex_label(lab)
                nulls = pa.table({f.name: pa.nulls(len(new_ids), f.type) for f in vl.schema
                                  if f.name != "id"})
                g = g._add_vertex_table(lab, new_ids.cast(vl.id_type), nulls, distinct=True)
                gid = g.gids(lab, ids)
            ends[name] = gid
            del ids
        progress.update(count // 4)
        schema = g.schema.with_edge_label(el)
        # the id columns are gone: hand their memory back before the CSR buffers are made
        pa.default_memory_pool().release_unused()
        graph = g._insert_edges(schema, label, ends.pop("src"), ends.pop("dst"), props, progress)
        progress.close()
        log.info("added %d edges with label %r", count, label)
        return graph

    def _place_by_edges(self, ends: dict[str, pa.Array], src_label: str,
                        dst_label: str) -> Graph:
        """The same vertices placed by Fennel over the first edges (``ends`` holds their user
        ids): a graph without edges, so no id refers to the old placement."""
        src = self.gids(src_label, ends["src"])
        dst = self.gids(dst_label, ends["dst"])
        present = np.zeros(self.id_space, dtype=bool)
        present[self.all_gids()] = True
        part = fennel_assign(src, dst, present, self.fnum)
        del src, dst
        g = Graph.empty(self.directed, self.fnum, self.partitioner.kind)
        g.partitioner = self.partitioner
        for vl in self.schema.vertex_labels:
            table = self.vertex_table(vl.name)
            g = g._add_vertex_table(vl.name, table.column("id"), table.drop_columns(["id"]), distinct=True,
                                    owner=part[self.vertex_gids(vl.name)])
        log.info("placed %d vertices on %d fragments by Fennel over %d edges", self.vertex_count,
                 self.fnum, len(ends["src"]))
        return g

    def edge_cut(self) -> float:
        """Fraction of the edges whose endpoints lie in different fragments (every label; an
        undirected edge counts once; 0 for a graph without edges)."""
        cut = total = 0
        for frag in self.fragments:
            nbrs = frag.csr("out")[1]
            if not len(nbrs):
                continue
            inner = np.zeros(len(nbrs), dtype=bool)
            for start, count in frag.inner_ranges:
                inner |= (nbrs >= start) & (nbrs < start + count)
            cut += int(len(nbrs) - inner.sum())
            total += len(nbrs)
        return cut / total if total else 0.0

    def _dense_ends(self, ends: dict[str, pa.Array], src_label: str, dst_label: str,
                    src_counts: np.ndarray | None) -> tuple[_Ends, _Ends] | None:
        """The user ids, taken out of ``ends``, as chunks with their labels' dense id tables
        (None, and ``ends`` left as it was, unless both labels have integer ids in a dense
        range); ``src_counts`` from :func:`_dense_census` ride along with the sources."""
        tables = []
        for name, lab in (("src", src_label), ("dst", dst_label)):
            dense = self._index(lab).dense_table()
            if dense is None or not pa.types.is_integer(ends[name].type):
                return None
            tables.append(dense)
        # record batches cut both columns at the same rows (zero-copy slices)
        src, dst = _aligned_chunks(ends.pop("src"), ends.pop("dst"))
        return (_Ends(src, *tables[0], src_counts=src_counts), _Ends(dst, *tables[1]))

    def _insert_edges(self, schema: GraphSchema, label: str, src: np.ndarray, dst: np.ndarray,
                      props: pa.Table, progress: Progress) -> Graph:
        if not any(label in f.topology for f in self.fragments):
            return self._insert_new_label(schema, label, _Ends(kernels.Chunks([src])),
                                          _Ends(kernels.Chunks([dst])), props, progress)
        li = schema.edge_label_index(label)
        src_owner, src_lid = self.vertex_blocks.locate(src)
        perm = kernels.group_by_owner(src_owner, self.fnum)
        counts = np.bincount(src_owner, minlength=self.fnum)
        eblocks = self.edge_blocks
        new_eids = np.empty(len(src), dtype=kernels.eid_dtype(eblocks.total + len(src)))
        edge_tables: dict[int, pa.Table] = {}
        pos = 0
        for f in range(self.fnum):
            c = int(counts[f])
            if not c:
                continue
            sel = perm[pos:pos + c]
            old = self.fragments[f].edge_tables.get(label)
            rows = old.num_rows if old is not None else 0
            start = eblocks.total
            eblocks = eblocks.append(f, li, rows, 0, c)
            new_eids[sel] = np.arange(start, start + c, dtype=np.int64)
            part = props.take(pa.array(sel)) if props.num_columns else pa.table({})
            edge_tables[f] = part if old is None else (
                pa.concat_tables([old, part]) if props.num_columns else old)
            pos += c
        dst_owner, dst_lid = self.vertex_blocks.locate(dst)
        if self.directed:
            out_entries = (src_owner, src_lid, dst)
            in_entries = (dst_owner, dst_lid, src)
        else:
            both = (np.concatenate([src_owner, dst_owner]), np.concatenate([src_lid, dst_lid]),
                    np.concatenate([dst, src]))
            out_entries, in_entries = both, None
            new_eids = np.concatenate([new_eids, new_eids])
        out_parts = _split_by_owner(*out_entries, new_eids, self.fnum)
        in_parts = _split_by_owner(*in_entries, new_eids[:len(src)], self.fnum) if in_entries else None
        del src_owner, src_lid, dst_owner, dst_lid
        frags = []
        for f, frag in enumerate(self.fragments):
            touched = out_parts[f] is not None or (in_parts is not None and in_parts[f] is not None)
            if not touched and f not in edge_tables:
                frags.append(frag)
                continue
            n = frag.inner_vertex_count
            old = frag.topology.get(label)
            out = _csr_with(n, old, "out", out_parts[f])
            inn = _csr_with(n, old, "in", in_parts[f]) if in_parts is not None else out
            topo = dict(frag.topology)
            topo[label] = Topology(*out, *inn)
            et = dict(frag.edge_tables)
            if f in edge_tables:
                et[label] = edge_tables[f]
            elif label not in et:
                et[label] = pa.table({}) if not props.num_columns else props.schema.empty_table()
            frags.append(replace(frag, edge_tables=et, topology=topo,
                                 outer_gids=compute_outer(topo, frag.inner_ranges, frag.vertex_count),
                                 _cache={}))
            progress.update((len(src) * 3 // 4) // self.fnum)
        return self._successor(schema, eblocks, frags)

    def _insert_new_label(self, schema: GraphSchema, label: str, src: _Ends, dst: _Ends,
                          props: pa.Table, progress: Progress) -> Graph | None:
        """Edges of a label no fragment has yet, built for all fragments at once (None when an
        endpoint is not a vertex; nothing is built then).

        The rows of one CSR are the inner vertices of fragment 0, then fragment 1, ...; each
        fragment takes its rows as views. Directed: one counting sort gives the out-CSR, whose
        positions are the new edge ids, and a transpose gives the in-CSC. Undirected: edge ids
        are given first (by source fragment) and each edge is sorted into both endpoints' rows.
        """
        li = schema.edge_label_index(label)
        vb = self.vertex_blocks
        sizes = np.array([f.inner_vertex_count for f in self.fragments], dtype=np.int64)
        frag_base = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        rows = int(frag_base[-1])
        row_base = frag_base[vb.fid] + vb.local
        # rows are global ids when the vertex blocks lie in fragment order (one label)
        # int32 tables where ids fit: half the cache footprint of the random lookups
        dtype = np.int32 if vb.total < 2**31 else np.int64
        row_of = None if rows == vb.total and np.array_equal(row_base, vb.start) else \
            kernels.row_lookup(vb.total, vb.start, vb.count, row_base).astype(dtype)
        s_lo, s_row, s_gid = src.tables(row_of, dtype)
        d_lo, d_row, d_gid = dst.tables(row_of, dtype)
        first = self.edge_blocks.total
        # the sorts flag every fragment's neighbors as they place them: its outer vertices
        marks = kernels.Marks(np.zeros((self.fnum, self.id_space), dtype=np.bool_), frag_base)
        if self.directed:
            csr = kernels.csr_from_pairs(rows, src.keys, dst.keys, s_lo, s_row, s_gid, d_lo,
                                         d_row, d_gid, None, props.num_columns > 0, False,
                                         src.src_counts, marks)
            if csr is None:
                return None
            _release(src, dst)
            progress.update(len(csr[1]) // 2)
            indptr, nbrs, order = csr
            del csr
            counts = np.diff(indptr[frag_base])
            tables = _split_rows(props, order, counts)
            del order
            eids = kernels.empty(len(nbrs), kernels.eid_dtype(first + len(nbrs)))
            kernels.fill_range(eids, first)
            if row_of is None:
                row_of = row_gid = _EMPTY
            else:
                row_gid = np.concatenate([_EMPTY] + [f.inner_gids for f in self.fragments])
            out = (indptr, nbrs, eids)
            inn = kernels.transpose_csr(row_of, row_gid, indptr, nbrs, first, marks)
            progress.update(len(nbrs) // 4)
        else:
            eids, counts = kernels.assign_edge_ids(src.keys, s_lo, s_row, frag_base, first)
            out = kernels.csr_from_pairs(rows, src.keys, dst.keys, s_lo, s_row, s_gid, d_lo,
                                         d_row, d_gid, eids, False, True, marks=marks,
                                         payload_dtype=kernels.eid_dtype(first + len(eids)))
            if out is None:
                return None
            _release(src, dst)
            progress.update(len(eids) * 3 // 4)
            inn = None
            order = None
            if props.num_columns:  # input rows grouped by source fragment: the ids' inverse
                order = np.empty(len(eids), dtype=np.int64)
                order[eids - first] = np.arange(len(eids), dtype=np.int64)
            del eids
            tables = _split_rows(props, order, counts)
            del order
        eblocks = self.edge_blocks
        for f in range(self.fnum):
            if counts[f]:
                eblocks = eblocks.append(f, li, 0, 0, int(counts[f]))
        frags = []
        for f, frag in enumerate(self.fragments):
            out_f = _rows(out, frag_base[f], frag_base[f + 1])
            in_f = _rows(inn, frag_base[f], frag_base[f + 1]) if inn is not None else out_f
            topo = dict(frag.topology)
            topo[label] = Topology(*out_f, *in_f)
            et = dict(frag.edge_tables)
            et[label] = tables[f]
            # the new label's outer vertices and those the fragment had
            seen = marks.seen[f]
            seen[as_numpy(frag.outer_gids)] = True
            frags.append(replace(frag, edge_tables=et, topology=topo, _cache={},
                                 outer_gids=as_arrow(kernels.outer_of(seen, frag.inner_ranges))))
        return self._successor(schema, eblocks, frags)

    def add_column(self, values: Any, columns: Mapping[str, str] | str | None = None,
                   label: str | None = None) -> Graph:
        """A new graph with vertex property columns added; every other buffer is shared.

        ``values`` is one of:

        - an analytics context, with ``columns`` mapping each new property name to a context
          selector (``g.add_column(ctx, {"pagerank": "r"})``);
        - a mapping of property name -> array over all vertices in ascending global id order
          (:meth:`all_gids`);
        - a numpy array (or list) and the new column's name, ``g.add_column(arr, "score")``:
          aligned with the rows of ``vertex_table(label)`` when ``label`` is given, else with
          :meth:`all_gids`;
        - a pandas Series indexed by the user ids of ``label`` (of the only label when there is
          one), ``g.add_column(series, "score", label="person")``.

        Vertices the values do not cover (a context of a projection, a Series with fewer ids)
        get nulls. Every vertex label gets the columns unless ``label`` names one.
        """
        if isinstance(values, (np.ndarray, pd.Series, list)):
            gids, arrays = self._column_values(values, columns, label)
        elif columns is not None and hasattr(values, "gids") and isinstance(columns, Mapping):
            gids = np.asarray(values.gids, dtype=np.int64)
            arrays = {name: np.asarray(values.to_numpy(sel)) for name, sel in columns.items()}
        elif isinstance(values, Mapping) and columns is None:
            gids = self.all_gids()
            arrays = {k: np.asarray(v) for k, v in values.items()}
        else:
            raise SchemaError(f"add_column does not take {type(values).__name__} with columns="
                              f"{columns!r}: give an analytics context and {{name: selector}}, a"
                              " {name: array over all vertices} mapping, or an array / Series and"
                              " the new column's name")
        for name, arr in arrays.items():
            if len(arr) != len(gids):
                raise SchemaError(f"column {name!r} has {len(arr)} values for {len(gids)} vertices")
        order = np.argsort(gids, kind="stable")
        gids = gids[order]
        labels = [label] if label else self.vertex_labels
        schema = self.schema
        for lab in labels:
            vl = schema.vertex_label(lab)
            clash = [n for n in arrays if n in vl.schema.names]
            if clash:
                raise SchemaError(f"vertex label {lab!r} already has property {clash[0]!r}")
            fields = list(vl.schema) + [pa.field(n, pa.from_numpy_dtype(a.dtype))
                                        for n, a in arrays.items()]
            schema = schema.with_vertex_label(VertexLabel(lab, pa.schema(fields)))
        frags = []
        vb = self.vertex_blocks
        for frag in self.fragments:
            vt = dict(frag.vertex_tables)
            for lab in labels:
                if lab not in vt:
                    continue
                mine = vb.select((vb.fid == frag.fid)
                                 & (vb.label == self.schema.vertex_label_index(lab)))
                rows = np.argsort(mine.row)
                row_gids = ids_in_ranges(np.stack([mine.start[rows], mine.count[rows]], axis=1))
                pos = np.minimum(np.searchsorted(gids, row_gids), max(len(gids) - 1, 0))
                found = gids[pos] == row_gids if len(gids) else np.zeros(len(row_gids), bool)
                t = vt[lab]
                for name, arr in arrays.items():
                    col = arr[order][pos] if len(gids) else np.zeros(len(row_gids), arr.dtype)
                    t = t.append_column(name, pa.array(col, mask=~found))
                vt[lab] = t
            frags.append(replace(frag, vertex_tables=vt, _cache={}))
        return self._successor(schema, self.edge_blocks, frags)

    def _column_values(self, values: Any, name: Any, label: str | None
                       ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """``(gids, {name: values})`` of an array or Series given to :meth:`add_column`."""
        if not isinstance(name, str):
            raise SchemaError(f"add_column({type(values).__name__}, name): give the new column's"
                              f" name as a string, got {name!r}")
        if isinstance(values, pd.Series):
            if label is None:
                label = _only(self.vertex_labels, "vertex")
            gids = self.gids(label, pa.array(values.index.to_numpy()))
            if (gids < 0).any():
                bad = values.index[int(np.flatnonzero(gids < 0)[0])]
                raise UnknownVertexError(f"add_column: the Series' index has id {bad!r}, which is"
                                         f" not a vertex of label {label!r}")
            return gids, {name: values.to_numpy()}
        arr = np.asarray(values)
        gids = self.vertex_gids(label) if label is not None else self.all_gids()
        if arr.ndim != 1 or len(arr) != len(gids):
            what = f"the {len(gids)} vertices of label {label!r}" if label is not None else \
                f"the graph's {len(gids)} vertices (or pass label= for one label's rows)"
            raise SchemaError(f"add_column: an array of shape {arr.shape} does not match {what}")
        return gids, {name: arr}

    def remove_edges(self, eids: Iterable[int]) -> Graph:
        """A new graph without the edges ``eids``; fragments they do not touch are shared.

        Edge ids of the other edges do not change (removed ids are not reused).
        """
        removed = np.unique(np.asarray(list(eids) if not isinstance(eids, np.ndarray) else eids,
                                       dtype=np.int64))
        frags = []
        for frag in self.fragments:
            topo = dict(frag.topology)
            changed = False
            for lab, t in frag.topology.items():
                parts = []
                for d in ("out", "in"):
                    indptr, nbrs, e = t.arrays(d)
                    keep = ~np.isin(e, removed)
                    parts.append(kernels.filter_csr(indptr, nbrs, e, keep) if not keep.all()
                                 else (indptr, nbrs, e))
                if any(a is not b for a, b in zip(parts[0], t.arrays("out"))) or \
                        any(a is not b for a, b in zip(parts[1], t.arrays("in"))):
                    out = tuple(as_arrow(a) for a in parts[0])
                    inn = out if not self.directed else tuple(as_arrow(a) for a in parts[1])
                    topo[lab] = Topology(*out, *inn)
                    changed = True
            if changed:
                frag = replace(frag, topology=topo, _cache={},
                               outer_gids=compute_outer(topo, frag.inner_ranges, frag.vertex_count))
            frags.append(frag)
        return self._successor(self.schema, self.edge_blocks, frags)

    def remove_vertices(self, label: str, ids: Sequence) -> Graph:
        """A new graph without the given vertices of ``label`` and their edges.

        Unlike the other updates this rebuilds the graph (internal ids are renumbered so they
        stay dense); vertex and edge tables of other labels keep their buffers.
        """
        gids = self.gids(label, ids)
        if (gids < 0).any():
            raise UnknownVertexError(f"remove_vertices: id {list(ids)[int(np.flatnonzero(gids < 0)[0])]!r}"
                                     f" is not a vertex of label {label!r}")
        g = Graph.empty(self.directed, self.fnum, self.partitioner.kind)
        g.partitioner = self.partitioner
        drop = np.zeros(self.id_space, dtype=bool)
        drop[gids] = True
        for vl in self.schema.vertex_labels:
            t = self.vertex_table(vl.name)
            if vl.name == label:
                t = t.filter(pa.array(~drop[self.vertex_gids(label)]))
            g = g._add_vertex_table(vl.name, t.column("id").combine_chunks(), t.drop(["id"]))
        for el in self.schema.edge_labels:
            src, dst, _ = self._edge_list(el.name)
            keep = ~(drop[src] | drop[dst])
            full = self.edge_table(el.name).filter(pa.array(keep))
            for rel in el.relations:
                sl, dl = (self.schema.vertex_label_index(x) for x in rel)
                mask = (self.vertex_label_of(src[keep]) == sl) & (self.vertex_label_of(dst[keep]) == dl)
                part = full.filter(pa.array(mask))
                ends = {"src": normalize_ids(part.column("src"), "src"),
                        "dst": normalize_ids(part.column("dst"), "dst")}
                g = g._add_edge_table(el.name, ends, part.drop(["src", "dst"]), rel[0], rel[1],
                                      False)
        return g

    def project(self, vertices: Mapping[str, Sequence[str] | None] | None = None,
                edges: Mapping[str, Sequence[str] | None] | None = None) -> Graph:
        """A view with only some labels and properties (GraphScope's ``project``).

        ``vertices`` / ``edges`` map label -> property names to keep (``None``: all). Buffers are
        shared; vertex ids of dropped labels leave gaps in the id space.
        """
        vertices = dict(vertices) if vertices is not None else {v: None for v in self.vertex_labels}
        edges = dict(edges) if edges is not None else {
            e.name: None for e in self.schema.edge_labels
            if all(s in vertices and d in vertices for s, d in e.relations)}
        schema = GraphSchema(self.directed)
        for name, props in vertices.items():
            vl = self.schema.vertex_label(name)
            keep = ["id"] + list(vl.properties if props is None else props)
            for p in keep:
                if p not in vl.schema.names:
                    raise SchemaError(f"vertex label {name!r} has no property {p!r}")
            schema = schema.with_vertex_label(VertexLabel(name, pa.schema([vl.schema.field(p) for p in keep])))
        for name, props in edges.items():
            el = self.schema.edge_label(name)
            for s, d in el.relations:
                if s not in vertices or d not in vertices:
                    raise SchemaError(f"edge label {name!r} relates {s!r} -> {d!r}: project both"
                                      f" vertex labels too")
            keep = list(el.properties if props is None else props)
            for p in keep:
                if p not in el.schema.names:
                    raise SchemaError(f"edge label {name!r} has no property {p!r}")
            schema = schema.with_edge_label(EdgeLabel(name, pa.schema([el.schema.field(p) for p in keep]),
                                                      el.relations))
        old_index = [self.schema.vertex_label_index(v) for v in schema.vertex_label_names]
        vb = self.vertex_blocks.select(np.isin(self.vertex_blocks.label, old_index))
        label_map = {o: n for n, o in enumerate(old_index)}
        new_local = np.zeros(len(vb.start), dtype=np.int64)
        for f in range(self.fnum):
            mask = np.flatnonzero(vb.fid == f)
            new_local[mask] = np.concatenate([[0], np.cumsum(vb.count[mask])[:-1]])
        old_e = [self.schema.edge_label_index(e) for e in schema.edge_label_names]
        eb = self.edge_blocks.select(np.isin(self.edge_blocks.label, old_e))
        emap = {o: n for n, o in enumerate(old_e)}
        frags = []
        for frag in self.fragments:
            kept = vb.fid == frag.fid
            ranges = np.stack([vb.start[kept], vb.count[kept]], axis=1).astype(np.int64)
            rows_keep = np.isin(frag.inner_gids, ids_in_ranges(ranges))
            vt = {n: frag.vertex_tables[n].select(schema.vertex_label(n).schema.names)
                  for n in schema.vertex_label_names if n in frag.vertex_tables}
            et = {n: frag.edge_tables[n].select(schema.edge_label(n).schema.names)
                  for n in schema.edge_label_names if n in frag.edge_tables}
            topo = {}
            for n in schema.edge_label_names:
                if n in frag.topology:
                    topo[n] = _restrict_rows(frag.topology[n], rows_keep)
            space = int(vb.start[-1] + vb.count[-1]) if len(vb.start) else 0
            frags.append(replace(frag, inner_ranges=ranges, vertex_tables=vt, edge_tables=et,
                                 topology=topo, vertex_count=space, _cache={},
                                 outer_gids=compute_outer(topo, ranges, space)))
        vb = IdBlocks(vb.start, vb.count, vb.fid,
                      np.array([label_map[x] for x in vb.label], dtype=np.int64), vb.row, new_local)
        eb = IdBlocks(eb.start, eb.count, eb.fid,
                      np.array([emap[x] for x in eb.label], dtype=np.int64), eb.row, eb.local)
        return Graph(schema, self.partitioner, vb, eb, frags)

    # ------------------------------------------------------------------ exports
    def to_pandas(self, label: str | None = None, kind: str = "vertex") -> pd.DataFrame:
        """Vertices (``kind="vertex"``) or edges (``"edge"``) of one label as a DataFrame."""
        return self.to_arrow(label, kind).to_pandas()

    def to_arrow(self, label: str | None = None, kind: str = "vertex") -> pa.Table:
        """Vertices or edges of one label as an Arrow table (default: the only label)."""
        if kind == "vertex":
            return self.vertex_table(label or _only(self.vertex_labels, "vertex"))
        if kind == "edge":
            return self.edge_table(label or _only(self.edge_labels, "edge"))
        raise SchemaError(f"kind must be 'vertex' or 'edge', got {kind!r}")

    def to_networkx(self):
        """A networkx ``MultiDiGraph`` / ``MultiGraph`` with properties as attributes.

        Nodes are user ids when the graph has one vertex label, else ``(label, id)`` pairs;
        each node has a ``label`` attribute, each edge a ``label`` attribute.
        """
        import networkx as nx

        G = nx.MultiDiGraph() if self.directed else nx.MultiGraph()
        single = len(self.vertex_labels) == 1
        for vl in self.schema.vertex_labels:
            t = self.vertex_table(vl.name).to_pylist()
            G.add_nodes_from(((r.pop("id") if single else (vl.name, r.pop("id"))),
                              {"label": vl.name, **r}) for r in t)
        key = (lambda lab, i: i) if single else (lambda lab, i: (lab, i))
        for el in self.schema.edge_labels:
            src, dst, _ = self._edge_list(el.name)
            rows = self.edge_table(el.name).to_pylist()
            sl = self.vertex_label_of(src)
            dl = self.vertex_label_of(dst)
            names = self.vertex_labels
            G.add_edges_from((key(names[a], r.pop("src")), key(names[b], r.pop("dst")),
                              {"label": el.name, **r}) for r, a, b in zip(rows, sl, dl))
        return G

    # ------------------------------------------------------------------ persistence
    def save(self, path) -> None:
        """Write the graph to a directory (Arrow IPC + JSON manifest), atomically."""
        from .persistence import save_graph

        save_graph(self, path)


_EMPTY = np.zeros(0, dtype=np.int64)


@dataclass
class _Ends:
    """One side of new edges for a CSR build: int64 keys in chunks (cut at the same rows as the
    other side's) and the table from ``key - lo`` to global id; an empty table means the keys
    are global ids already."""

    keys: kernels.Chunks | None
    lo: int = 0
    gid: np.ndarray = field(default_factory=lambda: _EMPTY)
    src_counts: np.ndarray | None = None  # per-thread key counts (kernels.census), if made

    def tables(self, row_of: np.ndarray | None, dtype) -> tuple[int, np.ndarray, np.ndarray]:
        """``(lo, key -> CSR row, key -> global id)`` given ``row_of`` (global id -> row, of
        ``dtype``; None when rows are global ids)."""
        if not len(self.gid):
            return 0, _EMPTY if row_of is None else row_of, _EMPTY
        gid = self.gid.astype(dtype)
        if row_of is None:
            return self.lo, gid, gid
        rows = row_of[np.maximum(self.gid, 0)]
        rows[self.gid < 0] = -1
        return self.lo, rows, gid


def _release(*ends: _Ends) -> None:
    """Drop the keys (a file's id columns, say) once the CSR is built: the next big buffers
    reuse their memory in Arrow's pool."""
    for e in ends:
        e.keys = None


def _restrict_rows(t: Topology, keep: np.ndarray) -> Topology:
    """The topology over the inner vertices where ``keep`` holds (they have all the edges)."""
    if keep.all():
        return t

    def cut(indptr: pa.Array) -> pa.Array:
        deg = np.diff(as_numpy(indptr))[keep]
        return as_arrow(np.concatenate([[0], np.cumsum(deg)]).astype(np.int64))

    out = cut(t.out_indptr)
    inn = out if t.in_indptr is t.out_indptr else cut(t.in_indptr)
    return replace(t, out_indptr=out, in_indptr=inn)


def _only(names: list[str], kind: str) -> str:
    if len(names) != 1:
        raise SchemaError(f"the graph has {len(names)} {kind} labels {names}: name one")
    return names[0]


def _name(table: pa.Table, field: Field) -> str:
    return table.schema.names[field] if isinstance(field, int) else field


def _column(table: pa.Table, field: Field, what: str, arg: str) -> pa.Array:
    if isinstance(field, int):
        if not -table.num_columns <= field < table.num_columns:
            raise LoadError(f"{what}: {arg}={field} but the source has {table.num_columns} columns")
    elif field not in table.schema.names:
        raise LoadError(f"{what}: {arg}={field!r} is not a column; columns are {table.schema.names}")
    col = table.column(field)
    return col.chunk(0) if col.num_chunks == 1 else col


def _select_properties(table: pa.Table, properties: PropertySpec, exclude: list[str],
                       what: str) -> pa.Table:
    if properties is None:
        names = [n for n in table.schema.names if n not in exclude]
        return table.select(names)
    cols, names = [], []
    for p in properties:
        name, typ = (p, None) if isinstance(p, str) else p
        if name not in table.schema.names:
            raise LoadError(f"{what}: property {name!r} is not a column; columns are"
                            f" {table.schema.names}")
        col = table.column(name)
        if typ is not None:
            try:
                col = col.cast(pa.type_for_alias(typ) if isinstance(typ, str) else typ, safe=True)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as e:
                raise SchemaError(f"{what}: column {name!r} ({col.type}) cannot be read as {typ}: {e}") from e
        cols.append(col)
        names.append(name)
    return pa.Table.from_arrays(cols, names=names) if cols else table.select([])


def _aligned_chunks(src: pa.Array | pa.ChunkedArray,
                    dst: pa.Array | pa.ChunkedArray) -> tuple[kernels.Chunks, kernels.Chunks]:
    """Two int64 columns as chunks cut at the same rows (record batches: zero-copy slices)."""
    batches = pa.table({"src": src, "dst": dst}).to_batches()
    return tuple(kernels.Chunks([b.column(k).to_numpy() for b in batches]) for k in (0, 1))


def _dense_census(src: pa.Array | pa.ChunkedArray, dst: pa.Array | pa.ChunkedArray
                  ) -> tuple[np.ndarray, np.ndarray] | None:
    """The distinct ids of one vertex label deduced from both endpoint columns and the
    per-thread source-id counts (:func:`kernels.census`), when the ids are integers in a
    dense range; None otherwise."""
    if not pa.types.is_integer(src.type) or not pa.types.is_integer(dst.type) or not len(src):
        return None
    bounds = [pc.min_max(a).as_py() for a in (src, dst)]
    lo, hi = min(b["min"] for b in bounds), max(b["max"] for b in bounds)
    if hi - lo >= 8 * len(src) + 1024:  # as _unique_ids: 4x the ids seen
        return None
    return kernels.census(*_aligned_chunks(src, dst), lo, hi - lo + 1)


def _unique_ids(arrays: list[pa.Array | pa.ChunkedArray]) -> pa.Array:
    """Sorted distinct ids of several arrays (a bitmap when integer ids are dense)."""
    chunks = [c for a in arrays for c in (a.chunks if isinstance(a, pa.ChunkedArray) else [a])]
    chunks = [c for c in chunks if len(c)]
    if not chunks:
        return pa.array([], type=arrays[0].type)
    if pa.types.is_integer(chunks[0].type):
        bounds = pc.min_max(pa.chunked_array(chunks)).as_py()
        lo, hi = bounds["min"], bounds["max"]
        values = [c.to_numpy(zero_copy_only=False) for c in chunks]
        if hi - lo < 4 * sum(len(c) for c in chunks) + 1024:
            seen = kernels.mark_seen(values, lo, hi - lo + 1)
            return pa.array(np.flatnonzero(seen).astype(np.int64) + lo)
        return pa.array(np.unique(np.concatenate(values)))
    unique = pa.chunked_array(chunks).unique()
    return unique.take(pc.sort_indices(unique))


def _split_rows(props: pa.Table, order: np.ndarray | None, counts: np.ndarray) -> list[pa.Table]:
    """Per fragment, the property rows ``order[cut[f]:cut[f+1]]`` (``counts`` rows each)."""
    if not props.num_columns:
        return [props.schema.empty_table()] * len(counts)
    cut = np.concatenate([[0], np.cumsum(counts)])
    return [props.take(pa.array(order[cut[f]:cut[f + 1]])) for f in range(len(counts))]


def _rows(csr: tuple[np.ndarray, np.ndarray, np.ndarray], r0: int, r1: int) -> tuple[pa.Array, ...]:
    """Rows ``r0..r1`` of a CSR as Arrow arrays: views of the entries, a rebased indptr."""
    indptr, nbrs, eids = csr
    lo, hi = int(indptr[r0]), int(indptr[r1])
    # wrap numpy slices (not Arrow slices) so a fragment pickles only its own entries
    return as_arrow(indptr[r0:r1 + 1] - lo), as_arrow(nbrs[lo:hi]), as_arrow(eids[lo:hi])


def _split_by_owner(owner: np.ndarray, lid: np.ndarray, nbrs: np.ndarray, eids: np.ndarray,
                    fnum: int) -> list:
    """Per fragment ``(lids, nbrs, eids)`` of the entries it owns (None where it has none)."""
    perm = kernels.group_by_owner(owner, fnum)
    counts = np.bincount(owner, minlength=fnum)
    parts, pos = [], 0
    for f in range(fnum):
        c = int(counts[f])
        sel = perm[pos:pos + c]
        parts.append((lid[sel], nbrs[sel], eids[sel]) if c else None)
        pos += c
    return parts


def _csr_with(n: int, old: Topology | None, direction: str, entries) -> tuple[pa.Array, ...]:
    """One direction of a label's adjacency in a fragment after adding ``entries``."""
    p = "out_" if direction == "out" else "in_"
    if entries is None and old is not None:
        return tuple(getattr(old, p + k) for k in ("indptr", "nbrs", "eids"))
    empty = np.zeros(0, dtype=np.int64)
    keys, nbrs, eids = entries if entries is not None else (empty, empty, empty)
    base = old.arrays(direction) if old is not None else \
        (np.zeros(1, np.int64), empty, np.zeros(0, eids.dtype))
    return tuple(as_arrow(a) for a in kernels.merge_csr(n, *base, keys, nbrs, eids))
