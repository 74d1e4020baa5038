"""Save and load graphs: a directory of Arrow IPC files plus ``manifest.json``.

A save writes everything under a temporary sibling directory and then swaps it in with two
renames, so the target path holds either the previous graph or the new one, never half of
one. If a crash falls between the two renames, :func:`load_graph` finds the previous graph
under its ``.old`` name. The manifest names every file relative to the directory, so a save
may also put each fragment in a subdirectory of its own (``graphengine.cluster`` does: each
worker writes its fragment with :func:`write_fragment`). Loading memory-maps the IPC files: arrays are views of the page cache.
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


def write_fragment(frag: Fragment, root: Path, prefix: str, directed: bool) -> dict:
    """Write one fragment's files under ``root`` (names start with ``prefix``, which may name a
    subdirectory such as ``"f0/"``); returns its manifest entry (names relative to ``root``)."""
    (root / f"{prefix}outer.arrow").parent.mkdir(parents=True, exist_ok=True)
    entry = {"inner_ranges": frag.inner_ranges.tolist(), "vertex_tables": {},
             "edge_tables": {}, "topology": {}}
    for i, (label, table) in enumerate(frag.vertex_tables.items()):
        name = f"{prefix}v{i}.arrow"
        _write_table(root / name, table)
        entry["vertex_tables"][label] = name
    for i, (label, table) in enumerate(frag.edge_tables.items()):
        name = f"{prefix}e{i}.arrow"
        _write_table(root / name, table)
        entry["edge_tables"][label] = {"file": name, "rows": table.num_rows}
    for i, (label, topo) in enumerate(frag.topology.items()):
        names = {}
        for k in _TOPOLOGY:
            if k.startswith("in_") and not directed:
                continue
            names[k] = f"{prefix}t{i}_{k}.arrow"
            _write_array(root / names[k], getattr(topo, k))
        entry["topology"][label] = names
    _write_array(root / f"{prefix}outer.arrow", frag.outer_gids)
    entry["outer"] = f"{prefix}outer.arrow"
    return entry


def manifest(schema: GraphSchema, partitioner: Partitioner, vertex_blocks: IdBlocks,
             edge_blocks: IdBlocks, fragments: list[dict]) -> dict:
    """The ``manifest.json`` content of a graph whose fragment entries are ``fragments``."""
    return {
        "format": FORMAT,
        "schema": schema.to_json(),
        "partitioner": {"fnum": partitioner.fnum, "kind": partitioner.kind,
                        "boundaries": [[k, list(v)] for k, v in partitioner.boundaries]},
        "vertex_blocks": vertex_blocks.to_json(),
        "edge_blocks": edge_blocks.to_json(),
        "fragments": fragments,
    }


def temporary_sibling(path: Path) -> Path:
    """A new, empty directory next to ``path`` to write a save into."""
    tmp = path.with_name(f".{path.name}.tmp-{uuid.uuid4().hex[:8]}")
    tmp.mkdir(parents=True)
    return tmp


def swap_in(tmp: Path, path: Path, content: dict) -> None:
    """Write ``content`` as ``tmp/manifest.json`` and move ``tmp`` to ``path`` (the previous
    graph there goes to ``{name}.old`` between the two renames, then is deleted)."""
    with open(tmp / "manifest.json", "w") as fh:
        json.dump(content, fh)
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


def save_graph(graph: Graph, path: os.PathLike | str) -> None:
    """Write ``graph`` to directory ``path`` atomically (see module docstring)."""
    path = Path(path)
    tmp = temporary_sibling(path)
    try:
        frags = [write_fragment(frag, tmp, f"f{frag.fid}_", graph.directed)
                 for frag in graph.fragments]
        swap_in(tmp, path, manifest(graph.schema, graph.partitioner, graph.vertex_blocks,
                                    graph.edge_blocks, frags))
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def read_manifest(path: os.PathLike | str) -> tuple[Path, dict]:
    """``(directory, manifest)`` of a saved graph (its ``.old`` twin if a crash fell between
    the two renames of a save)."""
    path = Path(path)
    if not (path / "manifest.json").exists():
        old = path.with_name(f"{path.name}.old")
        if (old / "manifest.json").exists():
            path = old
        else:
            raise PersistenceError(f"{path}: no saved graph here (manifest.json missing)")
    try:
        content = json.loads((path / "manifest.json").read_text())
    except (OSError, json.JSONDecodeError) as e:
        raise PersistenceError(f"{path / 'manifest.json'}: unreadable manifest: {e}") from e
    if content.get("format") != FORMAT:
        raise PersistenceError(f"{path}: unknown format {content.get('format')!r}")
    return path, content


def read_header(path: Path, content: dict) -> tuple[GraphSchema, Partitioner, IdBlocks, IdBlocks]:
    """Schema, partitioner and id blocks of a manifest."""
    try:
        schema = GraphSchema.from_json(content["schema"])
        p = content["partitioner"]
        partitioner = Partitioner(p["fnum"], p["kind"],
                                  tuple((k, tuple(v)) for k, v in p["boundaries"]))
        return (schema, partitioner, IdBlocks.from_json(content["vertex_blocks"]),
                IdBlocks.from_json(content["edge_blocks"]))
    except (KeyError, TypeError, ValueError, pa.ArrowException) as e:
        raise PersistenceError(f"{path}: damaged saved graph: {e}") from e


def read_fragment(path: Path, entry: dict, fid: int, fnum: int, schema: GraphSchema,
                  vertex_count: int) -> Fragment:
    """Fragment ``fid`` of a saved graph from its manifest ``entry`` (memory-mapped)."""
    try:
        vt = {label: _read_table(path / name) for label, name in entry["vertex_tables"].items()}
        et = {label: _read_table(path / info["file"])
              for label, info in entry["edge_tables"].items()}
        topo = {}
        for label, names in entry["topology"].items():
            arrays = {k: _read_array(path / n) for k, n in names.items()}
            if not schema.directed:
                for k in ("indptr", "nbrs", "eids"):
                    arrays["in_" + k] = arrays["out_" + k]
            topo[label] = Topology(**arrays)
        ranges = np.asarray(entry["inner_ranges"], dtype=np.int64).reshape(-1, 2)
        return Fragment(fid, fnum, schema.directed, vertex_count, ranges, vt, et, topo,
                        _read_array(path / entry["outer"]))
    except (OSError, KeyError, pa.ArrowException) as e:
        raise PersistenceError(f"{path}: damaged saved graph: {e}") from e


def load_graph(path: os.PathLike | str) -> Graph:
    """Load a graph written by :meth:`Graph.save`; arrays are memory-mapped, not copied."""
    path, content = read_manifest(path)
    schema, partitioner, vb, eb = read_header(path, content)
    entries = content.get("fragments")
    if not isinstance(entries, list):
        raise PersistenceError(f"{path}: damaged saved graph: no fragment list")
    frags = [read_fragment(path, entry, fid, len(entries), schema, vb.total)
             for fid, entry in enumerate(entries)]
    return Graph(schema, partitioner, vb, eb, frags)


def _read_table(path: Path) -> pa.Table:
    source = pa.memory_map(str(path), "r")
    return pa.ipc.open_file(source).read_all()


def _read_array(path: Path) -> pa.Array:
    col = _read_table(path).column("a")
    return col.chunk(0) if col.num_chunks == 1 else col.combine_chunks()
