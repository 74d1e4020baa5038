"""What each worker of a cluster reads: a source's files (or Parquet row groups) in shares.

A source is a file, a :class:`~graphengine.store.Loader`, a directory (its CSV / Parquet
files, sorted by name), a glob pattern, or a list of these; anything else (a DataFrame, a dict
of columns, an Arrow table) is read on the driver, where it already is, and put in the object
store in slices. The units (files, or row groups when there are fewer files than workers) are
cut into one contiguous share per worker, balanced by bytes, so the rows of worker 0 come
before those of worker 1 in the source's order, as they would in one local read.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from ..errors import LoadError
from ..store.sources import Loader, read_file, read_source

_SUFFIXES = (".csv", ".csv.gz", ".parquet", ".pq")


@dataclass(frozen=True)
class Unit:
    """One piece of a source a worker reads: a file, some row groups of a Parquet file, or
    a slice of an in-memory table (``table``: an object reference, resolved on the worker)."""

    name: str
    size: int
    loader: Loader | None = None
    row_groups: tuple[int, ...] | None = None
    table: Any = None


def is_file_source(source: Any) -> bool:
    """Whether ``source`` names files (read by the workers) rather than in-memory data."""
    if isinstance(source, (str, os.PathLike, Loader)):
        return True
    return isinstance(source, (list, tuple)) and all(
        isinstance(s, (str, os.PathLike, Loader)) for s in source) and len(source) > 0


def expand(source: Any) -> list[Loader]:
    """The files a file source names, in order (a directory's and a glob's sorted by name)."""
    items: Sequence = source if isinstance(source, (list, tuple)) else [source]
    out: list[Loader] = []
    for item in items:
        if isinstance(item, Loader):
            paths, make = [item.path], (lambda p, item=item: item)
        else:
            text = os.fspath(item)
            if any(c in text for c in "*?["):
                paths = sorted(glob.glob(text))
                if not paths:
                    raise LoadError(f"{text}: the pattern matches no file")
            elif Path(text).is_dir():
                paths = sorted(str(p) for p in Path(text).iterdir()
                               if p.name.lower().endswith(_SUFFIXES))
                if not paths:
                    raise LoadError(f"{text}: the directory has no CSV or Parquet file")
            else:
                paths = [text]
            make = Loader
        for p in paths:
            if not Path(p).exists():
                raise LoadError(f"{p}: no such file")
            out.append(make(p))
    return out


def _units(loaders: list[Loader], workers: int) -> list[Unit]:
    units = [Unit(str(ld.path), max(os.path.getsize(ld.path), 1), ld) for ld in loaders]
    if len(units) >= workers:
        return units
    split: list[Unit] = []  # fewer files than workers: Parquet files by row groups
    for u in units:
        if not u.name.lower().endswith((".parquet", ".pq")):
            split.append(u)
            continue
        try:
            meta = pq.ParquetFile(u.name).metadata
        except (pa.ArrowException, OSError) as e:
            raise LoadError(f"{u.name}: cannot read Parquet: {e}") from e
        for rg in range(meta.num_row_groups):
            split.append(Unit(u.name, max(meta.row_group(rg).total_byte_size, 1), u.loader, (rg,)))
    return split


def contiguous_shares(sizes: Sequence[int], workers: int) -> list[list[int]]:
    """Unit indices per worker: contiguous runs in order, about equal total size each."""
    sizes = np.asarray(sizes, dtype=np.float64)
    out: list[list[int]] = [[] for _ in range(workers)]
    if not len(sizes):
        return out
    mid = np.cumsum(sizes) - sizes / 2
    share = np.minimum((mid * workers / sizes.sum()).astype(np.int64), workers - 1)
    for i, w in enumerate(share):
        out[int(w)].append(i)
    return out


def shares(source: Any, workers: int, what: str, put) -> list[list[Unit]]:
    """The units each of ``workers`` reads (``put`` stores an in-memory slice: ``ray.put``)."""
    if is_file_source(source):
        units = _units(expand(source), workers)
        return [[units[i] for i in idx] for idx in contiguous_shares([u.size for u in units],
                                                                     workers)]
    table = read_source(source, what)
    bounds = [table.num_rows * w // workers for w in range(workers + 1)]
    return [[Unit(f"{what} (in memory, rows {bounds[w]}..{bounds[w + 1] - 1})",
                  bounds[w + 1] - bounds[w], table=put(table.slice(bounds[w],
                                                                   bounds[w + 1] - bounds[w])))]
            for w in range(workers)]


def read_unit(unit: Unit, get) -> pa.Table:
    """The rows of one unit (``get`` resolves an in-memory slice: ``ray.get``)."""
    if unit.table is not None:
        return get(unit.table)
    if unit.row_groups is not None:
        try:
            return pq.ParquetFile(unit.name, pre_buffer=False).read_row_groups(list(unit.row_groups))
        except (pa.ArrowException, OSError) as e:
            raise LoadError(f"{unit.name}: cannot read Parquet: {e}") from e
    return read_file(unit.loader)
