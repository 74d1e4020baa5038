"""A graph whose fragments live in Ray actors: the driver holds its schema, id blocks and the
actors' handles, never its topology or property arrays.

:class:`DistributedGraph` mirrors :class:`~graphengine.store.Graph` where a method does not
need the whole graph in one place: building (``add_vertices`` / ``add_edges`` read the files
on the workers), ``add_column``, ``save``, facts (counts, labels, id lookups) and analytics
(``graphengine.pagerank(g)`` runs on the actors). :meth:`DistributedGraph.to_local` gathers
the fragments into a local :class:`~graphengine.store.Graph` for the engines that need the
whole graph in one process (Gremlin, sampling, GNN).

Like a local graph it is immutable: every update makes a new version on the actors that
shares nothing with a failed attempt, so a load that fails leaves the graph as it was.
"""

from __future__ import annotations

import logging
import os
import shutil
import weakref
from collections.abc import Mapping
from dataclasses import replace
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from ..errors import AnalyticsError, PersistenceError, SchemaError, UnknownVertexError
from ..store import Graph
from ..store.graph import IdSpace
from ..store.ids import (
    IdBlocks,
    Partitioner,
    ids_in_ranges,
    normalize_ids,
    result_order,
)
from ..store.persistence import (
    manifest,
    read_header,
    read_manifest,
    swap_in,
    temporary_sibling,
)
from ..store.schema import EdgeLabel, GraphSchema, VertexLabel
from .actor import Head
from .context import DistributedContext
from .runtime import RayCluster, first_eids
from .sources import shares

log = logging.getLogger(__name__)
#: Source-vertex lookups a graph version keeps (:meth:`DistributedGraph.gid`).
GID_CACHE = 256


class _Load:
    """One distributed update: its id, the versions it staged, and their cleanup on failure."""

    def __init__(self, cluster: RayCluster):
        self.cluster = cluster
        self.id = cluster.next_id()
        self.staged: list[int] = []

    def stage(self) -> int:
        v = self.cluster.next_id()
        self.staged.append(v)
        return v

    def __enter__(self) -> _Load:  # noqa: PYI034
        return self

    def __exit__(self, kind, error, tb) -> None:
        keep = [] if kind is not None else self.staged[-1:]
        drop = [v for v in self.staged if v not in keep]
        try:
            self.cluster.call("abort", (self.id, drop))
        except Exception:
            log.debug("cleanup of load %d failed", self.id, exc_info=True)


class DistributedGraph(IdSpace):
    """An immutable graph version whose fragments are held by a session's fragment actors.

    Build one with :meth:`graphengine.cluster.RaySession.g` (``graphengine.session(
    cluster="ray")``) and the ``add_*`` methods, :meth:`~graphengine.Session.load_from`, or
    :meth:`graphengine.cluster.RaySession.load_graph`.
    """

    def __init__(self, cluster: RayCluster, head: Head, version: int | None):
        self.cluster = cluster
        self.head = head
        self.version = version
        if version is not None:
            weakref.finalize(self, cluster.release, version)

    @classmethod
    def empty(cls, cluster: RayCluster, directed: bool = True) -> DistributedGraph:
        """A graph with no labels over the cluster's fragments."""
        head = Head(GraphSchema(directed), Partitioner(cluster.fnum, "hash"), IdBlocks.empty(),
                    IdBlocks.empty())
        return cls(cluster, head, None)

    # ------------------------------------------------------------------ facts
    @property
    def schema(self) -> GraphSchema:
        return self.head.schema

    @property
    def partitioner(self) -> Partitioner:
        return self.head.partitioner

    @property
    def vertex_blocks(self) -> IdBlocks:
        return self.head.vertex_blocks

    @property
    def edge_blocks(self) -> IdBlocks:
        return self.head.edge_blocks

    @property
    def fnum(self) -> int:
        """Number of fragments (one actor each)."""
        return self.cluster.fnum

    @property
    def vertex_count(self) -> int:
        return int(self.vertex_blocks.count.sum())

    @cached_property
    def result_order(self) -> tuple[np.ndarray, np.ndarray | None]:
        """``(gids, order)``: the global ids of all vertices ascending, and the permutation
        that puts the fragments' outputs (concatenated in fragment order) in that order
        (None when they already are). Once per version: every app's result is read through
        it (:func:`~graphengine.store.ids.result_order`)."""
        vb = self.vertex_blocks
        return result_order([ids_in_ranges(vb.ranges(f)) for f in range(self.fnum)])

    @cached_property
    def _stats(self) -> list[dict]:
        return self.cluster.call("stats", (self.version, self.head))

    @property
    def edge_count(self) -> int:
        """Number of edges (an undirected edge counts once)."""
        out = sum(s["out_entries"] for s in self._stats)
        return out if self.directed else out // 2

    @property
    def nbytes(self) -> int:
        """Bytes of the store's buffers over all fragments (held by the actors)."""
        return sum(s["nbytes"] for s in self._stats)

    def fragment_stats(self) -> list[dict]:
        """Per fragment: inner vertices, out-list entries, outer vertices, bytes."""
        return list(self._stats)

    def nodes(self) -> list[str]:
        """The Ray node id holding each fragment."""
        return self.cluster.nodes()

    def __repr__(self) -> str:
        kind = "directed" if self.directed else "undirected"
        return (f"DistributedGraph({kind}, {self.vertex_count} vertices {self.vertex_labels},"
                f" {self.edge_count} edges {self.edge_labels}, {self.fnum} fragments on Ray)")

    def gids(self, label: str, ids) -> np.ndarray:
        """Global ids of user ids of ``label`` (-1 where unknown): each id is asked of the
        fragment its hash names."""
        ids = ids if isinstance(ids, (pa.Array, pa.ChunkedArray)) else pa.array(ids)
        ids = normalize_ids(ids, f"vertex label {label!r}")
        if isinstance(ids, pa.ChunkedArray):
            ids = ids.combine_chunks()
        self.schema.vertex_label(label)
        out = np.full(len(ids), -1, dtype=np.int64)
        if self.version is None or not len(ids):
            return out
        owner, _ = self.partitioner.assign(label, ids)
        asks = {f: np.flatnonzero(owner == f) for f in range(self.fnum)}
        refs = {f: self.cluster.actors[f].lookup_ids.remote(
            self.version, self.head, label, ids.take(pa.array(sel)))
            for f, sel in asks.items() if len(sel)}
        for f, ref in refs.items():
            out[asks[f]] = self.cluster.get(ref)
        return out

    def gid(self, label: str, vid) -> int:
        """Global id of the vertex of ``label`` with user id ``vid`` (-1 when unknown). An
        app's source vertex: the answers of this version are kept (a few hundred at most),
        so a second run from the same source asks no actor."""
        key = (label, type(vid), vid)  # 1, 1.0 and True are equal keys, not equal ids
        try:
            return self._gid_cache[key]
        except TypeError:  # an unhashable id: the lookup below rejects or converts it
            return int(self.gids(label, [vid])[0])
        except KeyError:
            pass
        found = int(self.gids(label, [vid])[0])
        if len(self._gid_cache) >= GID_CACHE:
            self._gid_cache.pop(next(iter(self._gid_cache)))
        self._gid_cache[key] = found
        return found

    @cached_property
    def _gid_cache(self) -> dict:
        return {}

    def vertex_ids(self, gids: np.ndarray) -> list:
        """User ids of the given global ids, as Python values (asked of their owners)."""
        gids = np.asarray(gids, dtype=np.int64)
        out: list = [None] * len(gids)
        owner = self.owner(gids) if len(gids) else gids
        sels = {f: np.flatnonzero(owner == f) for f in range(self.fnum)}
        refs = {f: self.cluster.actors[f].user_ids.remote(self.version, self.head, gids[sel])
                for f, sel in sels.items() if len(sel)}
        for f, ref in refs.items():
            for k, v in zip(sels[f], self.cluster.get(ref)):
                out[k] = v
        return out

    def vertex_property(self, name: str, label: str | None = None) -> np.ndarray:
        """A vertex property gathered into an array indexed by global id (NaN / 0 where
        absent): the driver receives one value per vertex."""
        labels = [label] if label else [v.name for v in self.schema.vertex_labels
                                         if name in v.schema.names]
        if not labels:
            raise SchemaError(f"no vertex label has property {name!r}")
        parts = [p for per in self.cluster.call("vertex_columns", (self.version, self.head, name))
                 for p in per if p[0] in labels]
        out = None
        for _, gids, values in parts:
            if out is None:
                out = np.full(self.id_space, np.nan if values.dtype.kind == "f" else 0,
                              dtype=values.dtype)
            out[gids] = values
        return out if out is not None else np.zeros(self.id_space)

    # ------------------------------------------------------------------ gather
    def to_local(self) -> Graph:
        """The whole graph in this process (every fragment gathered to the driver).

        For the engines that need the whole graph in one place (``sess.gremlin``, sampling,
        the GNN loaders): it costs the graph's size in the driver's memory and the transfer.
        """
        if self.version is None:
            return Graph.empty(self.directed, self.fnum, "hash")
        frags = self.cluster.fragments(self.version)
        return Graph(self.schema, self.partitioner, self.vertex_blocks, self.edge_blocks, frags)

    def vertex_table(self, label: str) -> pa.Table:
        """All vertices of ``label`` in global id order (gathered to the driver)."""
        return self.to_local().vertex_table(label)

    def edge_table(self, label: str) -> pa.Table:
        """Edges of ``label`` in edge-id order (gathered to the driver)."""
        return self.to_local().edge_table(label)

    def to_pandas(self, label: str | None = None, kind: str = "vertex") -> pd.DataFrame:
        """Vertices or edges of one label as a DataFrame (gathered to the driver)."""
        return self.to_local().to_pandas(label, kind)

    # ------------------------------------------------------------------ building
    def _default_vertex_label(self) -> str:
        names = self.vertex_labels
        if len(names) == 0:
            return "_"
        if len(names) == 1:
            return names[0]
        raise SchemaError(f"the graph has several vertex labels {names}: give src_label and"
                          f" dst_label")

    def _shares(self, source: Any, what: str) -> list:
        return shares(source, self.fnum, what, self.cluster.ray.put)

    def add_vertices(self, source: Any, label: str = "_", properties=None,
                     vid_field: int | str = 0) -> DistributedGraph:
        """A new graph with the vertices of ``source`` added under ``label``; each worker
        reads its share of the files and sends every row to the fragment owning its id.

        ``source``: a CSV / Parquet file, a :class:`~graphengine.store.Loader`, a directory,
        a glob pattern, a list of these, or in-memory data (as :meth:`Graph.add_vertices`).

        Raises:
            LoadError, SchemaError, DuplicateVertexError (as the local load). The graph is
            never modified.
        """
        what = f"vertices {label!r}"
        cl = self.cluster
        with _Load(cl) as op:
            units = self._shares(source, what)
            spec = {"what": what, "properties": properties, "vid_field": vid_field}
            metas = cl.call("read", lambda f: (op.id, units[f], "v", spec))
            exists = label in self.vertex_labels
            if exists:
                vl = self.schema.vertex_label(label)
            else:
                first = next((m for m in metas if "ids" in m["types"]), None)
                if first is None:
                    raise SchemaError(f"{what}: the source has no rows")
                vl = VertexLabel(label, pa.schema([pa.field("id", first["types"]["ids"])]
                                                  + list(first["props"])))
            schema = self.schema if exists else self.schema.with_vertex_label(vl)
            parts = cl.call("split_vertices",
                            (op.id, label, vl.schema, self.partitioner, what))
            head = replace(self.head, schema=schema)
            counts = cl.call("gather_vertices", lambda f: (
                op.id, self.version, head, label, vl.schema,
                [parts[r][f] for r in range(self.fnum)], what))
            version, head = self._commit_vertices(op, self.version, head, label, counts)
        cl.publish(version)
        log.info("added %d vertices with label %r on %d workers", sum(counts), label, self.fnum)
        return DistributedGraph(cl, head, version)

    def _commit_vertices(self, op: _Load, version: int | None, head: Head, label: str,
                         counts: list[int]) -> tuple[int, Head]:
        """New id blocks (fragment by fragment, as the local store hands them out) and the
        version where every fragment has its new rows."""
        li = head.schema.vertex_label_index(label)
        blocks = head.vertex_blocks
        for f, c in enumerate(counts):
            if c:
                rows = int(blocks.count[(blocks.fid == f) & (blocks.label == li)].sum())
                local = int(blocks.count[blocks.fid == f].sum())
                blocks = blocks.append(f, li, rows, local, int(c))
        head = replace(head, vertex_blocks=blocks)
        new = op.stage()
        self.cluster.call("commit_vertices", (op.id, version, new, head, label))
        return new, head

    def _ensure(self, op: _Load, version: int | None, head: Head, label: str,
                ends: list[str], id_type: pa.DataType) -> tuple[int | None, Head]:
        """Add the ids of the ``ends`` columns the label does not have (sorted, null
        properties; the label is created when new)."""
        cl = self.cluster
        if label not in head.schema.vertex_label_names:
            vl = VertexLabel(label, pa.schema([pa.field("id", id_type)]))
            head = replace(head, schema=head.schema.with_vertex_label(vl))
        parts = cl.call("split_ids", (op.id, label, ends, head.partitioner))
        counts = cl.call("gather_new_ids", lambda f: (
            op.id, version, head, label, [parts[r][f] for r in range(self.fnum)]))
        if not any(counts):
            return version, head
        return self._commit_vertices(op, version, head, label, counts)

    def add_edges(self, source: Any, label: str = "_e", properties=None,
                  src_label: str | None = None, dst_label: str | None = None,
                  src_field: int | str = 0, dst_field: int | str = 1,
                  create_missing_vertices: bool = False) -> DistributedGraph:
        """A new graph with the edges of ``source`` added under ``label`` (as
        :meth:`Graph.add_edges`). Each worker reads its share of the files; endpoint ids are
        mapped to global ids by the fragments that own them (hash of the id) and every edge
        is sent to the owner of its source (out-lists, property row) and of its target
        (in-lists), where the store's kernels merge them into the fragment's CSR / CSC.

        Raises:
            LoadError, SchemaError, UnknownVertexError (naming the file and row). The graph is
            never modified.
        """
        what = f"edges {label!r}"
        cl = self.cluster
        src_label = src_label or self._default_vertex_label()
        dst_label = dst_label or self._default_vertex_label()
        with _Load(cl) as op:
            units = self._shares(source, what)
            spec = {"what": what, "properties": properties, "src_field": src_field,
                    "dst_field": dst_field}
            metas = cl.call("read", lambda f: (op.id, units[f], "e", spec))
            with_rows = [m for m in metas if "src" in m["types"]]
            first = with_rows[0] if with_rows else None
            version, head = self.version, self.head
            types = {end: (first["types"][end] if first else pa.int64()) for end in ("src", "dst")}
            # vertex labels the graph does not have are deduced from the endpoints
            if src_label == dst_label and src_label not in head.schema.vertex_label_names:
                if types["src"] != types["dst"]:
                    raise SchemaError(f"{what}: src ids are {types['src']}, dst ids"
                                      f" {types['dst']}: one vertex label needs one type")
                version, head = self._ensure(op, version, head, src_label, ["src", "dst"],
                                             types["src"])
            for end, lab in (("src", src_label), ("dst", dst_label)):
                if lab not in head.schema.vertex_label_names:
                    version, head = self._ensure(op, version, head, lab, [end], types[end])
            if create_missing_vertices:
                for end, lab in (("src", src_label), ("dst", dst_label)):
                    version, head = self._ensure(op, version, head, lab, [end], types[end])
            if label in head.schema.edge_label_names:
                el = head.schema.edge_label(label)
                rel = (src_label, dst_label)
                if rel not in el.relations:
                    el = replace(el, relations=el.relations + (rel,))
                new_label = False
            else:
                props = first["props"] if first else pa.schema([])
                el = EdgeLabel(label, props, ((src_label, dst_label),))
                new_label = True
            sends = cl.call("split_ends", (op.id, src_label, dst_label, head.partitioner,
                                           el.schema, what))
            answers = cl.call("lookup", lambda f: (
                version, head, src_label, dst_label, [sends[r][f] for r in range(self.fnum)]))
            reports = cl.call("map_ends", lambda r: (
                op.id, head, [answers[f][r] for f in range(self.fnum)]))
            self._check_unknown(reports, what, src_label, dst_label)
            schema = head.schema.with_edge_label(el)
            li = schema.edge_label_index(label)
            counts = np.stack([np.asarray(r["counts"], dtype=np.int64) for r in reports])
            eb = head.edge_blocks
            first_ids = first_eids(eb.total, counts)
            has_props = len(el.schema) > 0
            for f in range(self.fnum):
                c = int(counts[:, f].sum())
                if c:
                    rows = int(eb.count[(eb.fid == f) & (eb.label == li)].sum()) if has_props else 0
                    eb = eb.append(f, li, rows, 0, c)
            head = replace(head, schema=schema, edge_blocks=eb)
            parts = cl.call("ship_edges", lambda r: (op.id, head, first_ids[r]))
            new = op.stage()
            cl.call("build_edges", lambda f: (
                op.id, version, new, head, label, new_label, el.schema,
                [parts[r][f] for r in range(self.fnum)]))
        cl.publish(new)
        log.info("added %d edges with label %r on %d workers", int(counts.sum()), label,
                 self.fnum)
        return DistributedGraph(cl, head, new)

    @staticmethod
    def _check_unknown(reports: list[dict], what: str, src_label: str, dst_label: str) -> None:
        for end, lab in (("src", src_label), ("dst", dst_label)):
            found = [r["unknown"][end] for r in reports if end in r["unknown"]]
            if found:
                total = sum(u["count"] for u in found)
                u = found[0]
                name, row = u["where"]
                raise UnknownVertexError(
                    f"{what}: {name}: row {row}: {end} id {u['id']!r} is not a vertex of label"
                    f" {lab!r} ({total} unknown endpoints; pass create_missing_vertices=True"
                    f" to add them)")

    # ------------------------------------------------------------------ columns
    def add_column(self, values: Any, columns: Mapping[str, str] | str | None = None,
                   label: str | None = None) -> DistributedGraph:
        """A new graph with vertex property columns added where each fragment lives (as
        :meth:`Graph.add_column`). With a context of an app run on this graph and ``r`` /
        ``r.<column>`` selectors, each actor takes its own part of the result, which never
        leaves the cluster; other values are split by owner on the driver."""
        labels = [label] if label else self.vertex_labels
        if isinstance(values, DistributedContext) and isinstance(columns, Mapping) and \
                values.graph.vertex_blocks is self.vertex_blocks and \
                all(sel == "r" or sel.startswith("r.") for sel in columns.values()):
            names = {n: values.column_name(sel) for n, sel in columns.items()}
            dtypes = {n: values.dtypes[c] for n, c in names.items()}
            head = self._with_columns(labels, dtypes)
            new = self.cluster.next_id()
            self.cluster.call("add_columns", lambda f: (
                self.version, new, head, labels, names, [values.refs[f]], False))
        else:
            gids, arrays = self._column_arrays(values, columns, label)
            order = np.argsort(gids, kind="stable")
            gids = gids[order]
            arrays = {n: np.asarray(a)[order] for n, a in arrays.items()}
            head = self._with_columns(labels, {n: a.dtype for n, a in arrays.items()})
            owner = self.owner(gids) if len(gids) else gids
            new = self.cluster.next_id()

            def part(f: int):
                sel = owner == f
                return (self.version, new, head, labels, {n: n for n in arrays},
                        (gids[sel], {n: a[sel] for n, a in arrays.items()}), True)

            self.cluster.call("add_columns", part)
        self.cluster.publish(new)
        return DistributedGraph(self.cluster, head, new)

    def _with_columns(self, labels: list[str], dtypes: Mapping[str, np.dtype]) -> Head:
        schema = self.schema
        for lab in labels:
            vl = schema.vertex_label(lab)
            clash = [n for n in dtypes if n in vl.schema.names]
            if clash:
                raise SchemaError(f"vertex label {lab!r} already has property {clash[0]!r}")
            fields = list(vl.schema) + [pa.field(n, pa.from_numpy_dtype(np.dtype(d)))
                                        for n, d in dtypes.items()]
            schema = schema.with_vertex_label(VertexLabel(lab, pa.schema(fields)))
        return replace(self.head, schema=schema)

    def _column_arrays(self, values: Any, columns: Any, label: str | None
                       ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        if isinstance(values, pd.Series):
            if not isinstance(columns, str):
                raise SchemaError("add_column(Series, name): give the new column's name")
            label = label or _only(self.vertex_labels)
            gids = self.gids(label, pa.array(values.index.to_numpy()))
            if (gids < 0).any():
                bad = values.index[int(np.flatnonzero(gids < 0)[0])]
                raise UnknownVertexError(f"add_column: the Series' index has id {bad!r}, which"
                                         f" is not a vertex of label {label!r}")
            return gids, {columns: values.to_numpy()}
        if isinstance(values, (np.ndarray, list)):
            if not isinstance(columns, str):
                raise SchemaError("add_column(array, name): give the new column's name")
            arr = np.asarray(values)
            gids = self.vertex_gids(label) if label is not None else self.all_gids()
            if arr.ndim != 1 or len(arr) != len(gids):
                raise SchemaError(f"add_column: an array of shape {arr.shape} does not match the"
                                  f" {len(gids)} vertices")
            return gids, {columns: arr}
        if columns is not None and hasattr(values, "gids") and isinstance(columns, Mapping):
            gids = np.asarray(values.gids, dtype=np.int64)
            return gids, {n: np.asarray(values.to_numpy(sel)) for n, sel in columns.items()}
        if isinstance(values, Mapping) and columns is None:
            gids = self.all_gids()
            arrays = {k: np.asarray(v) for k, v in values.items()}
            for name, arr in arrays.items():
                if len(arr) != len(gids):
                    raise SchemaError(f"column {name!r} has {len(arr)} values for {len(gids)}"
                                      f" vertices")
            return gids, arrays
        raise SchemaError(f"add_column does not take {type(values).__name__} with columns="
                          f"{columns!r}: give an analytics context and {{name: selector}}, a"
                          " {name: array over all vertices} mapping, or an array / Series and"
                          " the new column's name")

    # ------------------------------------------------------------------ analytics
    def run_pie(self, app, executor: str = "local") -> DistributedContext:
        """Run a PIE app in the actors that hold the fragments (``graphengine.pagerank(g)``
        and :func:`graphengine.pie.run_app` come here). ``executor`` is accepted for the
        local signature's sake: the graph's fragments are on the cluster, so is the run."""
        if executor not in ("local", "ray"):
            raise AnalyticsError(f"executor must be 'local' or 'ray', got {executor!r}")
        if self.version is None:
            raise AnalyticsError(f"{app.name}: the graph is empty")
        refs, dtypes, rounds = self.cluster.run(self.version, self.head, app)
        log.info("%s: %d rounds on %d fragments (Ray actors)", app.name, len(rounds), self.fnum)
        ctx = DistributedContext(self, refs, dtypes, app.result)
        ctx.stats = {"rounds": rounds}
        return ctx

    # ------------------------------------------------------------------ persistence
    def save(self, path: os.PathLike | str) -> None:
        """Write the graph to a directory, atomically: each worker writes its fragment's
        directory ``f{fid}/``, the driver the manifest. The path must be one every node
        sees (a shared file system on a real cluster). The result also loads with
        :func:`graphengine.load_graph`."""
        if self.version is None:
            raise PersistenceError("cannot save an empty graph with no version on the workers")
        path = Path(path).absolute()
        tmp = temporary_sibling(path)
        try:
            entries = self.cluster.call("save", lambda f: (self.version, str(tmp), f"f{f}/"))
            swap_in(tmp, path, manifest(self.schema, self.partitioner, self.vertex_blocks,
                                        self.edge_blocks, entries))
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        self.cluster.on_disk(self.version, str(path), entries, self.head)


def load_distributed(cluster: RayCluster, path: os.PathLike | str) -> DistributedGraph:
    """A saved graph read back onto the workers: worker ``f`` memory-maps fragment ``f``."""
    root, content = read_manifest(path)
    schema, partitioner, vb, eb = read_header(root, content)
    entries = content.get("fragments")
    if not isinstance(entries, list):
        raise PersistenceError(f"{root}: damaged saved graph: no fragment list")
    if len(entries) != cluster.fnum:
        raise PersistenceError(f"{root}: saved with {len(entries)} fragments, the session has"
                               f" {cluster.fnum} workers (session(num_fragments="
                               f"{len(entries)}))")
    if partitioner.kind != "hash":
        raise PersistenceError(f"{root}: a {partitioner.kind!r}-partitioned graph cannot be"
                               f" loaded onto a cluster session (hash only)")
    head = Head(schema, partitioner, vb, eb)
    version = cluster.next_id()
    try:
        cluster.call("load", lambda f: (version, str(root), entries[f], head))
    except BaseException:
        cluster.release(version)
        raise
    cluster.on_disk(version, str(root.absolute()), entries, head)
    return DistributedGraph(cluster, head, version)


def _only(names: list[str]) -> str:
    if len(names) != 1:
        raise SchemaError(f"the graph has {len(names)} vertex labels {names}: name one")
    return names[0]
