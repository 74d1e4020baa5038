"""Read a data source into an Arrow table: DataFrames, Arrow, CSV and Parquet files, numpy arrays.

CSV errors name the file, the line and the column: pyarrow reports what went wrong, and on
failure a second, slow pass over the file finds where (only on the error path).
"""

from __future__ import annotations

import csv
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from ..errors import LoadError


@dataclass(frozen=True)
class Loader:
    """A file to load, with its format options (GraphScope's ``Loader``).

    Args:
        path: a ``.csv`` (optionally ``.gz``) or ``.parquet`` file.
        header_row: whether the first CSV line names the columns.
        delimiter: the CSV field separator.
        column_names: names to use when the file has no header.
    """

    path: str | os.PathLike
    header_row: bool = True
    delimiter: str = ","
    column_names: tuple[str, ...] | None = None
    column_types: dict[str, Any] = field(default_factory=dict)


Source = pd.DataFrame | pa.Table | pa.RecordBatch | np.ndarray | dict | str | os.PathLike | Loader


def read_source(source: Source, what: str) -> pa.Table:
    """The source as an Arrow table; ``what`` names it in error messages."""
    if isinstance(source, pa.Table):
        return source
    if isinstance(source, pa.RecordBatch):
        return pa.Table.from_batches([source])
    if isinstance(source, pd.DataFrame):
        try:
            return pa.Table.from_pandas(source, preserve_index=False)
        except (pa.ArrowInvalid, pa.ArrowTypeError) as e:
            raise LoadError(f"{what}: cannot convert DataFrame: {e}") from e
    if isinstance(source, np.ndarray):
        return _from_numpy(source, what)
    if isinstance(source, dict):
        try:
            return pa.table({k: pa.array(v) for k, v in source.items()})
        except (pa.ArrowInvalid, pa.ArrowTypeError, ValueError) as e:
            raise LoadError(f"{what}: cannot convert columns: {e}") from e
    if isinstance(source, (str, os.PathLike)):
        source = Loader(source)
    if isinstance(source, Loader):
        return read_file(source)
    raise LoadError(f"{what}: unsupported source type {type(source).__name__}")


def _from_numpy(array: np.ndarray, what: str) -> pa.Table:
    # 1-D: a column of ids; 2-D: columns in order (src, dst, then properties)
    if array.ndim == 1:
        return pa.table({"id": pa.array(array)})
    if array.ndim == 2:
        cols = [f"f{i}" for i in range(array.shape[1])]
        return pa.table({c: pa.array(np.ascontiguousarray(array[:, i])) for i, c in enumerate(cols)})
    raise LoadError(f"{what}: numpy source must be 1-D or 2-D, got shape {array.shape}")


def read_file(loader: Loader) -> pa.Table:
    """Read a CSV or Parquet file; a :class:`LoadError` names file, line and column on failure."""
    path = Path(loader.path)
    if not path.exists():
        raise LoadError(f"{path}: no such file")
    name = path.name.lower()
    if name.endswith((".parquet", ".pq")):
        try:
            # no pre-buffering (meant for high-latency stores such as S3): on a local file it
            # only holds the compressed file in memory during the read (129 MiB file: peak
            # +390 MiB instead of +510 MiB, same time)
            return pq.read_table(path, pre_buffer=False)
        except (pa.ArrowException, OSError) as e:
            raise LoadError(f"{path}: cannot read Parquet: {e}") from e
    return _read_csv(path, loader)


def _read_csv(path: Path, loader: Loader) -> pa.Table:
    parse = pacsv.ParseOptions(delimiter=loader.delimiter)
    given = dict(loader.column_types)

    def read(types: dict[str, Any]) -> pa.Table:
        return pacsv.read_csv(path, read_options=_read_options(loader, 1 << 24),
                              parse_options=parse,
                              convert_options=pacsv.ConvertOptions(column_types=types or None))

    errors = (pa.ArrowInvalid, pa.ArrowTypeError, UnicodeDecodeError)
    try:
        # columns typed from the first block: while pyarrow infers a type it keeps every parsed
        # block, in case a later one needs a wider type (222 MiB file: +740 MiB during the
        # read, +360-440 MiB typed, same time)
        table = read({**_first_block_types(path, loader, parse, given), **given})
    except errors:
        # a later block needs a wider type (or the file is bad): infer from the whole file,
        # and name the line of a real error
        try:
            table = read(given)
        except errors as e:
            raise LoadError(_locate_csv_error(path, loader, str(e))) from e
    # the parser's text blocks (about the file's size) are freed but kept by Arrow's pool:
    # hand them back, or they stay in the load's peak memory (1.18 -> 1.0 GiB for 222 MiB)
    pa.default_memory_pool().release_unused()
    return table


def _read_options(loader: Loader, block_size: int) -> pacsv.ReadOptions:
    return pacsv.ReadOptions(
        column_names=list(loader.column_names) if loader.column_names else None,
        autogenerate_column_names=not loader.header_row and not loader.column_names,
        skip_rows=1 if (loader.column_names and loader.header_row) else 0,
        block_size=block_size,
    )


def _first_block_types(path: Path, loader: Loader, parse: pacsv.ParseOptions,
                       given: dict[str, Any]) -> dict[str, pa.DataType]:
    """The column types pyarrow infers from the file's first 1 MiB (columns that are all null
    there are left to inference)."""
    with pacsv.open_csv(path, read_options=_read_options(loader, 1 << 20), parse_options=parse,
                        convert_options=pacsv.ConvertOptions(column_types=given or None)) as reader:
        return {f.name: f.type for f in reader.schema if not pa.types.is_null(f.type)}


def _locate_csv_error(path: Path, loader: Loader, message: str) -> str:
    """Find the line a pyarrow CSV error is about by scanning the file (error path only)."""
    opener = _open_text(path)
    column = re.search(r"column #(\d+)", message)
    value = re.search(r"invalid value '([^']*)'", message)
    with opener as fh:
        rows = csv.reader(fh, delimiter=loader.delimiter)
        width = None
        names: list[str] = list(loader.column_names or [])
        for lineno, row in enumerate(rows, start=1):
            if lineno == 1 and loader.header_row:
                names = names or row
                width = len(row)
                continue
            if width is None:
                width = len(row)
            if len(row) != width:
                return (f"{path}:{lineno}: expected {width} columns, got {len(row)}"
                        f" ({loader.delimiter.join(row)[:80]!r})")
            if column and value:
                ci = int(column.group(1))
                if ci < len(row) and row[ci] == value.group(1):
                    cname = names[ci] if ci < len(names) else f"#{ci}"
                    return (f"{path}:{lineno}: column {cname!r}: cannot convert"
                            f" {value.group(1)!r} ({message.splitlines()[0]})")
    return f"{path}: {message.splitlines()[0]}"


def _open_text(path: Path):
    if path.name.lower().endswith(".gz"):
        import gzip

        return gzip.open(path, "rt", newline="", errors="replace")
    return open(path, newline="", errors="replace")
