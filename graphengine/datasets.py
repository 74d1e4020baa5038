"""Data sets: the TinkerPop modern graph, Graphalytics / Planetoid readers and seeded generators.

Every loader takes a :class:`~graphengine.Session` and returns a :class:`~graphengine.Graph`
split into the session's fragments. The generators also come in an array form
(``rmat_edges``, ``erdos_renyi_edges``, ``sbm_edges``) for benchmarks that only need edge lists.
All generators are vectorized numpy and deterministic for a given ``seed``.

>>> import graphengine
>>> from graphengine import datasets
>>> with graphengine.session(num_fragments=2) as sess:
...     g = datasets.load_modern_graph(sess)
...     (g.vertex_count, g.edge_count)
(6, 6)
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from .errors import LoadError, SchemaError
from .session import Session
from .store.graph import Graph

log = logging.getLogger(__name__)

PathLike = str | os.PathLike

__all__ = [
    "erdos_renyi", "erdos_renyi_edges", "feature_matrix", "load_modern_graph", "load_planetoid",
    "read_adjacency", "read_evlp", "rmat_edges", "rmat_graph", "sbm", "sbm_edges",
]

# ---------------------------------------------------------------------------- TinkerPop modern

# TinkerPop's TinkerFactory.createModern(): vertex ids 1..6, edge ids 7..12.
_MODERN_PERSON = {"id": [1, 2, 4, 6], "name": ["marko", "vadas", "josh", "peter"],
                  "age": [29, 27, 32, 35]}
_MODERN_SOFTWARE = {"id": [3, 5], "name": ["lop", "ripple"], "lang": ["java", "java"]}
_MODERN_KNOWS = {"src": [1, 1], "dst": [2, 4], "id": [7, 8], "weight": [0.5, 1.0]}
_MODERN_CREATED = {"src": [1, 4, 4, 6], "dst": [3, 5, 3, 3], "id": [9, 10, 11, 12],
                   "weight": [0.4, 1.0, 0.4, 0.2]}


def load_modern_graph(sess: Session, directed: bool = True) -> Graph:
    """TinkerPop's "modern" graph: 4 ``person`` and 2 ``software`` vertices, 6 edges.

    Written from TinkerPop's public definition (``TinkerFactory.createModern``):

    - ``person`` (``name: string``, ``age: int64``): 1 marko 29, 2 vadas 27, 4 josh 32,
      6 peter 35; ``software`` (``name``, ``lang: string``): 3 lop java, 5 ripple java.
    - ``knows`` (person -> person): 1->2 (0.5), 1->4 (1.0); ``created`` (person -> software):
      1->3 (0.4), 4->5 (1.0), 4->3 (0.4), 6->3 (0.2). Property ``weight: float64``.

    Vertex user ids are TinkerPop's vertex ids 1..6 (unique across both labels). Each edge
    also carries TinkerPop's edge id (7..12) as the int64 property ``id``, the same name the
    vertex tables use for their user id, so the Gremlin engine can expose it as ``T.id``.

    Args:
        sess: the session (its ``num_fragments`` splits the graph).
        directed: build a directed graph (TinkerPop's) or an undirected one.

    Returns:
        The graph.
    """
    g = sess.g(directed=directed)
    g = g.add_vertices(pa.table({"id": pa.array(_MODERN_PERSON["id"], pa.int64()),
                                 "name": pa.array(_MODERN_PERSON["name"], pa.string()),
                                 "age": pa.array(_MODERN_PERSON["age"], pa.int64())}),
                       label="person", vid_field="id")
    g = g.add_vertices(pa.table({"id": pa.array(_MODERN_SOFTWARE["id"], pa.int64()),
                                 "name": pa.array(_MODERN_SOFTWARE["name"], pa.string()),
                                 "lang": pa.array(_MODERN_SOFTWARE["lang"], pa.string())}),
                       label="software", vid_field="id")
    for label, edges, dst_label in (("knows", _MODERN_KNOWS, "person"),
                                    ("created", _MODERN_CREATED, "software")):
        table = pa.table({"src": pa.array(edges["src"], pa.int64()),
                          "dst": pa.array(edges["dst"], pa.int64()),
                          "id": pa.array(edges["id"], pa.int64()),
                          "weight": pa.array(edges["weight"], pa.float64())})
        g = g.add_edges(table, label=label, src_label="person", dst_label=dst_label,
                        src_field="src", dst_field="dst", properties=["id", "weight"])
    return g


# ---------------------------------------------------------------------------- Graphalytics


def read_evlp(sess: Session, vertex_path: PathLike, edge_path: PathLike, directed: bool = True,
              weighted: bool | None = None, vertex_property: str | None = None) -> Graph:
    """Read an LDBC Graphalytics EVLP graph (``.v`` / ``.e`` files).

    The ``.v`` file has one vertex id per line, optionally followed by a value (as in
    ``p2p-31.v``: ``vid vdata``); the ``.e`` file has ``src dst`` or ``src dst weight`` per
    line. Both are space-separated without a header. For an undirected graph each edge is
    listed once. Parsing is pyarrow's multithreaded CSV reader.

    Args:
        sess: the session.
        vertex_path: the ``.v`` file.
        edge_path: the ``.e`` file.
        directed: whether the graph is directed.
        weighted: keep the third ``.e`` column as the ``float64`` edge property ``weight``;
            ``None`` keeps it when the file has one.
        vertex_property: name under which to keep the second ``.v`` column (int64 or float64,
            as pyarrow infers it); ``None`` drops it.

    Returns:
        A graph with vertex label ``_`` and edge label ``_e``.

    Raises:
        LoadError: a file is missing, empty of columns, or malformed (file and line named).
    """
    vpath, epath = Path(vertex_path), Path(edge_path)
    vwidth = _column_count(vpath)
    ewidth = _column_count(epath)
    if ewidth < 2 and ewidth != 0:
        raise LoadError(f"{epath}: an EVLP edge file needs 'src dst [weight]' columns, found {ewidth}")
    if weighted is None:
        weighted = ewidth >= 3
    elif weighted and ewidth < 3:
        raise LoadError(f"{epath}: weighted=True but the file has no weight column")
    vnames = ["id"] + [f"_c{i}" for i in range(1, vwidth)]
    vtypes = {"id": pa.int64()}
    vertices = _read_spaced(vpath, vnames, vtypes)
    if vertex_property is not None and vwidth >= 2:
        vertices = vertices.select(["id", "_c1"]).rename_columns(["id", vertex_property])
    else:
        vertices = vertices.select(["id"])
    enames = ["src", "dst"] + (["weight"] if ewidth >= 3 else []) + \
        [f"_c{i}" for i in range(3, ewidth)]
    etypes = {"src": pa.int64(), "dst": pa.int64(), "weight": pa.float64()}
    edges = _read_spaced(epath, enames, etypes) if ewidth else \
        pa.table({"src": pa.array([], pa.int64()), "dst": pa.array([], pa.int64())})
    props = ["weight"] if weighted else []
    g = sess.g(directed=directed)
    g = g.add_vertices(vertices, label="_", vid_field="id")
    return g.add_edges(edges, label="_e", src_field="src", dst_field="dst", properties=props)


def read_adjacency(sess: Session, path: PathLike, directed: bool = True) -> Graph:
    """Read a Graphalytics vertex-based adjacency file: ``vid nbr1 nbr2 ...`` per line.

    This is the format of the Graphalytics validation ``*-input`` files. Neighbours are
    out-neighbours; a line with only a vid is a vertex without out-edges, and a vertex that
    appears only as a neighbour (``10`` in ``bfs/dir-input``) is a vertex too. In an undirected
    file each edge is listed from both ends, so only the copy with ``src <= dst`` is kept.

    Args:
        sess: the session.
        path: the adjacency file.
        directed: whether the graph is directed.

    Returns:
        A graph with vertex label ``_`` and edge label ``_e`` (no properties).

    Raises:
        LoadError: the file is missing or holds a token that is not an integer.
    """
    path = Path(path)
    if not path.exists():
        raise LoadError(f"{path}: no such file")
    data = path.read_bytes()
    raw = np.frombuffer(data, dtype=np.uint8)
    space = (raw == ord(" ")) | (raw == ord("\t")) | (raw == ord("\r")) | (raw == ord("\n"))
    starts = np.flatnonzero(~space & np.concatenate([[True], space[:-1]]))
    line_of_token = np.cumsum(raw == ord("\n"))[starts]
    try:
        tokens = np.array(data.split(), dtype=np.int64)
    except ValueError as e:
        raise LoadError(f"{path}: every token must be an integer vertex id ({e})") from e
    first = np.concatenate([[True], line_of_token[1:] != line_of_token[:-1]])
    vids = tokens[first]
    src = np.repeat(vids, np.diff(np.append(np.flatnonzero(first), len(tokens))) - 1)
    dst = tokens[~first]
    vids = np.union1d(vids, dst)
    if not directed:
        keep = src <= dst
        src, dst = src[keep], dst[keep]
    g = sess.g(directed=directed)
    g = g.add_vertices(pa.table({"id": vids}), label="_", vid_field="id")
    return g.add_edges(pa.table({"src": src, "dst": dst}), label="_e")


def _column_count(path: Path) -> int:
    """Number of space-separated fields on the first non-empty line (0 for an empty file)."""
    if not path.exists():
        raise LoadError(f"{path}: no such file")
    with open(path, "rb") as fh:
        for line in fh:
            if line.strip():
                return len(line.split())
    return 0


def _read_spaced(path: Path, names: list[str], types: dict[str, pa.DataType]) -> pa.Table:
    if not names or _column_count(path) == 0:
        return pa.table({n: pa.array([], types.get(n, pa.int64())) for n in names})
    try:
        return pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(column_names=names, block_size=1 << 24),
            parse_options=pacsv.ParseOptions(delimiter=" "),
            convert_options=pacsv.ConvertOptions(
                column_types={n: t for n, t in types.items() if n in names}))
    except (pa.ArrowInvalid, pa.ArrowTypeError) as e:
        raise LoadError(f"{path}: {str(e).splitlines()[0]}") from e


# ---------------------------------------------------------------------------- Planetoid


def load_planetoid(sess: Session, name_or_path: PathLike, root: PathLike | None = None,
                   normalize_features: bool = False) -> Graph:
    """Load a Planetoid citation graph (Cora, CiteSeer) with the public split.

    The folder holds ``edges.csv`` (``src,dst``, each undirected edge once), ``nodes.csv``
    (``id,label``), ``features.npz`` (a CSR matrix: ``indptr``, ``indices``, ``data``,
    ``shape``; row ``i`` is node ``i``) and ``split.json`` (``train`` / ``val`` / ``test``
    node ids).

    Args:
        sess: the session.
        name_or_path: a folder, or a data set name (``"cora"``) looked up under ``root``.
        root: folder holding the data sets by name; default ``$GRAPHENGINE_PLANETOID``.
        normalize_features: divide each feature row by its sum (Kipf & Welling's
            preprocessing); rows that sum to 0 stay 0.

    Returns:
        An undirected graph with vertex label ``_`` and edge label ``_e``. Vertex properties:
        ``label`` (int64 class, -1 for unlabeled nodes), ``feat``
        (``fixed_size_list<float32>[num_features]``; :func:`feature_matrix` gives the
        ``(n, num_features)`` numpy view) and ``train_mask`` / ``val_mask`` / ``test_mask``
        (bool).

    Raises:
        LoadError: the folder or one of its files is missing or inconsistent.
    """
    folder = Path(name_or_path)
    if not folder.is_dir():
        base = root if root is not None else os.environ.get("GRAPHENGINE_PLANETOID")
        if base is None:
            raise LoadError(f"planetoid: {name_or_path!r} is not a folder; pass root= or set"
                            f" $GRAPHENGINE_PLANETOID to the folder holding the data sets")
        folder = Path(base) / str(name_or_path).lower()
    for name in ("edges.csv", "nodes.csv", "features.npz", "split.json"):
        if not (folder / name).exists():
            raise LoadError(f"planetoid: {folder / name}: no such file")
    nodes = pacsv.read_csv(folder / "nodes.csv", convert_options=pacsv.ConvertOptions(
        column_types={"id": pa.int64(), "label": pa.int64()}))
    edges = pacsv.read_csv(folder / "edges.csv", convert_options=pacsv.ConvertOptions(
        column_types={"src": pa.int64(), "dst": pa.int64()}))
    ids = nodes.column("id").to_numpy()
    n = len(ids)
    with np.load(folder / "features.npz", allow_pickle=False) as z:
        indptr, indices, data, shape = (z[k] for k in ("indptr", "indices", "data", "shape"))
    if int(shape[0]) != n or ids.min(initial=0) < 0 or ids.max(initial=-1) >= n:
        raise LoadError(f"planetoid: {folder}: {n} nodes with ids in [0, {n}) expected to match"
                        f" {int(shape[0])} feature rows")
    dense = np.zeros((n, int(shape[1])), dtype=np.float32)
    dense[np.repeat(np.arange(n), np.diff(indptr)), indices] = data
    if normalize_features:
        sums = dense.sum(axis=1, keepdims=True)
        np.divide(dense, sums, out=dense, where=sums > 0)
    dense = dense[ids]
    with open(folder / "split.json") as fh:
        split = json.load(fh)
    masks = {}
    for part in ("train", "val", "test"):
        mask = np.zeros(n, dtype=bool)
        mask[np.asarray(split.get(part, []), dtype=np.int64)] = True
        masks[f"{part}_mask"] = mask[ids]
    vertices = pa.table({"id": ids, "label": nodes.column("label"), "feat": _fixed_list(dense),
                         **masks})
    g = sess.g(directed=False)
    g = g.add_vertices(vertices, label="_", vid_field="id")
    g = g.add_edges(edges, label="_e", src_field="src", dst_field="dst")
    log.info("loaded planetoid %s: %d nodes, %d edges", folder.name, g.vertex_count, g.edge_count)
    return g


def feature_matrix(column: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """The ``(n, d)`` numpy array of a ``fixed_size_list`` column (a view for one chunk)."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    if not pa.types.is_fixed_size_list(column.type):
        raise SchemaError(f"feature_matrix expects a fixed_size_list column, got {column.type}")
    if column.null_count:
        raise SchemaError("feature_matrix: the column has null rows")
    d = column.type.list_size
    return column.flatten().to_numpy().reshape(-1, d)


def _fixed_list(matrix: np.ndarray) -> pa.FixedSizeListArray:
    matrix = np.ascontiguousarray(matrix)
    return pa.FixedSizeListArray.from_arrays(pa.array(matrix.reshape(-1)), matrix.shape[1])


# ---------------------------------------------------------------------------- generators


def rmat_edges(scale: int, edge_factor: int = 16, a: float = 0.57, b: float = 0.19,
               c: float = 0.19, seed: int = 0, permute: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """R-MAT / Graph500 Kronecker edge list: ``edge_factor * 2**scale`` directed edges.

    Each edge picks, for each of ``scale`` bits, one quadrant of the adjacency matrix with
    probabilities ``a, b, c, d = 1 - a - b - c`` (Graph500 reference generator, ``A=0.57,
    B=C=0.19``). With ``permute`` the vertex ids are relabelled by a random permutation and the
    edge order shuffled, as Graph500 does, so high degrees are not clustered at small ids.
    Self loops and repeated edges are kept (the Graph500 graph is a multigraph).

    Args:
        scale: log2 of the number of vertices; ids are ``0 .. 2**scale - 1``.
        edge_factor: edges per vertex.
        a, b, c: quadrant probabilities (``a + b + c < 1``).
        seed: random seed.
        permute: relabel vertices and shuffle edges.

    Returns:
        ``(src, dst)`` int64 arrays.

    References:
        Chakrabarti, Zhan & Faloutsos, "R-MAT: A Recursive Model for Graph Mining", SDM 2004;
        Graph500 specification, section "Graph Generation".
    """
    if not (a > 0 and b >= 0 and c >= 0 and a + b + c < 1):
        raise SchemaError(f"rmat: need a > 0, b, c >= 0 and a + b + c < 1, got {a}, {b}, {c}")
    n = 1 << scale
    m = edge_factor * n
    rng = np.random.default_rng(seed)
    src = np.zeros(m, dtype=np.int64)
    dst = np.zeros(m, dtype=np.int64)
    ab = a + b
    c_norm = c / (1.0 - ab)
    a_norm = a / ab
    chunk = 1 << 22
    for lo in range(0, m, chunk):
        hi = min(lo + chunk, m)
        for bit in range(scale):
            src_bit = rng.random(hi - lo, dtype=np.float32) > ab
            thresh = np.where(src_bit, np.float32(c_norm), np.float32(a_norm))
            dst_bit = rng.random(hi - lo, dtype=np.float32) > thresh
            src[lo:hi] |= src_bit.astype(np.int64) << bit
            dst[lo:hi] |= dst_bit.astype(np.int64) << bit
    if permute:
        relabel = rng.permutation(n)
        order = rng.permutation(m)
        src = relabel[src[order]]
        dst = relabel[dst[order]]
    return src, dst


def rmat_graph(sess: Session, scale: int, edge_factor: int = 16, a: float = 0.57,
               b: float = 0.19, c: float = 0.19, seed: int = 0, permute: bool = True,
               directed: bool = True) -> Graph:
    """An R-MAT graph (see :func:`rmat_edges`) with all ``2**scale`` vertices, isolated ones too.

    Returns:
        A graph with vertex label ``_`` and edge label ``_e`` (no properties).
    """
    src, dst = rmat_edges(scale, edge_factor, a, b, c, seed, permute)
    g = sess.g(directed=directed)
    g = g.add_vertices(pa.table({"id": np.arange(1 << scale, dtype=np.int64)}), label="_")
    return g.add_edges(pa.table({"src": src, "dst": dst}), label="_e")


def erdos_renyi_edges(n: int, p: float | None = None, m: int | None = None,
                      directed: bool = True, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Edges of an Erdős–Rényi graph on vertices ``0 .. n-1``: G(n, p) or G(n, m).

    Give exactly one of ``p`` (each possible edge independently) or ``m`` (that many distinct
    edges, uniformly). No self loops, no repeated edges; an undirected edge appears once with
    ``src < dst``. G(n, p) draws the edge count from the binomial distribution, then that many
    distinct pairs, so the cost is O(edges), not O(n²).

    Returns:
        ``(src, dst)`` int64 arrays.
    """
    if (p is None) == (m is None):
        raise SchemaError("erdos_renyi: give exactly one of p and m")
    rng = np.random.default_rng(seed)
    pairs = n * (n - 1) if directed else n * (n - 1) // 2
    if p is not None:
        if not 0 <= p <= 1:
            raise SchemaError(f"erdos_renyi: p must be in [0, 1], got {p}")
        m = int(rng.binomial(pairs, p)) if pairs else 0
    if not 0 <= m <= pairs:
        raise SchemaError(f"erdos_renyi: m must be in [0, {pairs}] for n={n}, got {m}")
    index = rng.choice(pairs, size=m, replace=False) if m else np.zeros(0, dtype=np.int64)
    return _pair_from_index(index.astype(np.int64), n, directed)


def erdos_renyi(sess: Session, n: int, p: float | None = None, m: int | None = None,
                directed: bool = True, seed: int = 0) -> Graph:
    """An Erdős–Rényi graph (see :func:`erdos_renyi_edges`) with all ``n`` vertices.

    Returns:
        A graph with vertex label ``_`` and edge label ``_e`` (no properties).
    """
    src, dst = erdos_renyi_edges(n, p, m, directed, seed)
    g = sess.g(directed=directed)
    g = g.add_vertices(pa.table({"id": np.arange(n, dtype=np.int64)}), label="_")
    return g.add_edges(pa.table({"src": src, "dst": dst}), label="_e")


def _pair_from_index(index: np.ndarray, n: int, directed: bool) -> tuple[np.ndarray, np.ndarray]:
    """Decode pair numbers: ordered pairs ``u != v`` (directed) or ``u < v`` (undirected)."""
    if directed:
        src = index // (n - 1)
        dst = index % (n - 1)
        dst += dst >= src
        return src, dst
    # pair (u, v), u < v, has number v*(v-1)/2 + u
    v = np.floor((1 + np.sqrt(1 + 8 * index.astype(np.float64))) / 2).astype(np.int64)
    v -= v * (v - 1) // 2 > index
    v += (v + 1) * v // 2 <= index
    return index - v * (v - 1) // 2, v


def sbm_edges(sizes: Sequence[int], p_in: float, p_out: float, directed: bool = False,
              seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Edges of a stochastic block model: blocks of ``sizes`` consecutive vertex ids.

    Two vertices of the same block are joined with probability ``p_in``, of different blocks
    with ``p_out``, independently (no self loops or repeated edges; undirected edges once with
    ``src < dst``).

    Returns:
        ``(src, dst, block)``: int64 edge arrays and the block of each vertex.
    """
    sizes = [int(s) for s in sizes]
    offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    rng = np.random.default_rng(seed)
    srcs, dsts = [], []
    for i, ni in enumerate(sizes):
        for j, nj in enumerate(sizes):
            if not directed and j < i:
                continue
            prob = p_in if i == j else p_out
            if i == j:
                s, d = erdos_renyi_edges(ni, p=prob, directed=directed,
                                         seed=int(rng.integers(1 << 62)))
            else:
                count = int(rng.binomial(ni * nj, prob))
                index = rng.choice(ni * nj, size=count, replace=False).astype(np.int64)
                s, d = index // nj, index % nj
            srcs.append(s + offsets[i])
            dsts.append(d + offsets[j])
    block = np.repeat(np.arange(len(sizes), dtype=np.int64), sizes)
    src = np.concatenate(srcs) if srcs else np.zeros(0, dtype=np.int64)
    dst = np.concatenate(dsts) if dsts else np.zeros(0, dtype=np.int64)
    return src, dst, block


def sbm(sess: Session, sizes: Sequence[int], p_in: float, p_out: float, num_features: int = 16,
        directed: bool = False, seed: int = 0, class_sep: float = 1.0) -> Graph:
    """A stochastic block model with class labels and class-correlated features, for GNN tests.

    Edges as in :func:`sbm_edges`. Vertex ``v`` of block ``k`` has ``label = k`` and
    ``feat = mean_k + noise``, where the class means are drawn from ``N(0, class_sep²)`` per
    dimension and the noise from ``N(0, 1)``; a nearest-class-mean classifier separates the
    classes better as ``class_sep`` and ``num_features`` grow.

    Returns:
        A graph (undirected by default) with vertex label ``_`` and edge label ``_e``; vertex
        properties ``label`` (int64) and ``feat`` (``fixed_size_list<float32>[num_features]``,
        see :func:`feature_matrix`).
    """
    src, dst, block = sbm_edges(sizes, p_in, p_out, directed, seed)
    rng = np.random.default_rng([seed, 1])
    means = rng.normal(0.0, class_sep, size=(len(sizes), num_features))
    feat = (means[block] + rng.normal(0.0, 1.0, size=(len(block), num_features))).astype(np.float32)
    vertices = pa.table({"id": np.arange(len(block), dtype=np.int64), "label": block,
                         "feat": _fixed_list(feat)})
    g = sess.g(directed=directed)
    g = g.add_vertices(vertices, label="_", vid_field="id")
    return g.add_edges(pa.table({"src": src, "dst": dst}), label="_e")
