"""Save and load graphs: a directory of Arrow IPC files plus ``manifest.json``.

A save writes everything under a temporary sibling directory and then swaps it in with two
renames, so the target path holds either the previous graph or the new one, never half of
one. If a crash falls between the two renames, :func:`load_graph` finds the previous graph
under its ``.old`` name. Loading memory-maps the IPC files: arrays are views of the page cache.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from pathlib import Path

import numpy as np
import pyarrow as pa

from ..errors import PersistenceError
from .fragment import Fragment, Topology
from .graph import Graph
from .ids import IdBlocks, Partitioner
from .schema import GraphSchema

FORMAT = "graphengine-graph/1"
_TOPOLOGY = ("out_indptr", "out_nbrs", "out_eids", "in_indptr", "in_nbrs", "in_eids")


def _write_table(path: Path, table: pa.Table) -> None:
    with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)


def _write_array(path: Path, array: pa.Array) -> None:
    _write_table(path, pa.table({"a": array}))


def save_graph(graph: Graph, path: os.PathLike | str) -> None:
    """Write ``graph`` to directory ``path`` atomically (see module docstring)."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp-{uuid.uuid4().hex[:8]}")
    try:
        tmp.mkdir(parents=True)
        frags = []
        for frag in graph.fragments:
            f = frag.fid
            entry = {"inner_ranges": frag.inner_ranges.tolist(), "vertex_tables": {},
                     "edge_tables": {}, "topology": {}}
            for i, (label, table) in enumerate(frag.vertex_tables.items()):
                name = f"f{f}_v{i}.arrow"
                _write_table(tmp / name, table)
                entry["vertex_tables"][label] = name
            for i, (label, table) in enumerate(frag.edge_tables.items()):
                name = f"f{f}_e{i}.arrow"
                _write_table(tmp / name, table)
                entry["edge_tables"][label] = {"file": name, "rows": table.num_rows}
            for i, (label, topo) in enumerate(frag.topology.items()):
                names = {}
                for k in _TOPOLOGY:
                    if k.startswith("in_") and not graph.directed:
                        continue
                    names[k] = f"f{f}_t{i}_{k}.arrow"
                    _write_array(tmp / names[k], getattr(topo, k))
                entry["topology"][label] = names
            _write_array(tmp / f"f{f}_outer.arrow", frag.outer_gids)
            entry["outer"] = f"f{f}_outer.arrow"
            frags.append(entry)
        manifest = {
            "format": FORMAT,
            "schema": graph.schema.to_json(),
            "partitioner": {"fnum": graph.partitioner.fnum, "kind": graph.partitioner.kind,
                            "boundaries": [[k, list(v)] for k, v in graph.partitioner.boundaries]},
            "vertex_blocks": graph.vertex_blocks.to_json(),
            "edge_blocks": graph.edge_blocks.to_json(),
            "fragments": frags,
        }
        with open(tmp / "manifest.json", "w") as fh:
            json.dump(manifest, fh)
            fh.flush()
            os.fsync(fh.fileno())
        old = path.with_name(f"{path.name}.old")
        if old.exists():
            shutil.rmtree(old)
        if path.exists():
            os.rename(path, old)
        os.rename(tmp, path)
        if old.exists():
            shutil.rmtree(old)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def load_graph(path: os.PathLike | str) -> Graph:
    """Load a graph written by :meth:`Graph.save`; arrays are memory-mapped, not copied."""
    path = Path(path)
    if not (path / "manifest.json").exists():
        old = path.with_name(f"{path.name}.old")
        if (old / "manifest.json").exists():
            path = old
        else:
            raise PersistenceError(f"{path}: no saved graph here (manifest.json missing)")
    try:
        manifest = json.loads((path / "manifest.json").read_text())
    except (OSError, json.JSONDecodeError) as e:
        raise PersistenceError(f"{path / 'manifest.json'}: unreadable manifest: {e}") from e
    if manifest.get("format") != FORMAT:
        raise PersistenceError(f"{path}: unknown format {manifest.get('format')!r}")
    try:
        schema = GraphSchema.from_json(manifest["schema"])
        p = manifest["partitioner"]
        partitioner = Partitioner(p["fnum"], p["kind"],
                                  tuple((k, tuple(v)) for k, v in p["boundaries"]))
        vb = IdBlocks.from_json(manifest["vertex_blocks"])
        eb = IdBlocks.from_json(manifest["edge_blocks"])
        frags = []
        for fid, entry in enumerate(manifest["fragments"]):
            vt = {label: _read_table(path / name) for label, name in entry["vertex_tables"].items()}
            et = {}
            for label, info in entry["edge_tables"].items():
                t = _read_table(path / info["file"])
                et[label] = t
            topo = {}
            for label, names in entry["topology"].items():
                arrays = {k: _read_array(path / n) for k, n in names.items()}
                if not schema.directed:
                    for k in ("indptr", "nbrs", "eids"):
                        arrays["in_" + k] = arrays["out_" + k]
                topo[label] = Topology(**arrays)
            ranges = np.asarray(entry["inner_ranges"], dtype=np.int64).reshape(-1, 2)
            frags.append(Fragment(fid, len(manifest["fragments"]), schema.directed, vb.total,
                                  ranges, vt, et, topo, _read_array(path / entry["outer"])))
    except (OSError, KeyError, pa.ArrowException) as e:
        raise PersistenceError(f"{path}: damaged saved graph: {e}") from e
    return Graph(schema, partitioner, vb, eb, frags)


def _read_table(path: Path) -> pa.Table:
    source = pa.memory_map(str(path), "r")
    return pa.ipc.open_file(source).read_all()


def _read_array(path: Path) -> pa.Array:
    col = _read_table(path).column("a")
    return col.chunk(0) if col.num_chunks == 1 else col.combine_chunks()
