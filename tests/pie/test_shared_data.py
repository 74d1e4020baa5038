"""The apps against the reference outputs in ``../shared`` (skipped when it is absent).

* ``shared/gstest``: libgrape-lite / GraphScope results on p2p-31 (62,586 vertices, 147,892
  edges), source vertex 6, 10 rounds for PR and CDLP (see its README). Exact for BFS, CDLP
  and SSSP (integer weights), ``1e-4`` relative for PR (libgrape-lite's eps check), LCC
  within ``1e-12``, WCC by equivalence and, for the GraphScope file, by label (the minimum
  user id of the component).
  ``p2p-31-PR-directed`` is **not** compared: it reproduces a libgrape-lite quirk where
  sinks get no in-neighbor importance (its values sum to 0.46), while ``pagerank`` follows
  the LDBC definition. The test checks that quirk is still what the file holds and checks
  our directed PR against a scipy implementation of the LDBC formula instead.
* ``shared/graphalytics/validation-graphs``: the LDBC Graphalytics validation graphs with
  their official parameters; exact for BFS and CDLP, equivalence for WCC, relative ``1e-4``
  for PR, LCC and SSSP (the spec's output validation rules).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

import graphengine
from graphengine import datasets

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
GSTEST = SHARED / "gstest"
VALIDATION = SHARED / "graphalytics" / "validation-graphs"

pytestmark = pytest.mark.skipif(not SHARED.is_dir(), reason=f"{SHARED} is absent")


def read_output(path: Path, kind=float) -> dict:
    """``vid value`` lines (``infinity`` in any case for SSSP) as a dict."""
    out = {}
    for line in path.read_text().split("\n"):
        parts = line.split()
        if parts:
            out[int(parts[0])] = kind(parts[1])
    return out


def result(ctx) -> dict:
    return dict(zip(ctx.to_numpy("v.id").tolist(), ctx.to_numpy("r").tolist()))


def assert_close(got: dict, expect: dict, rel: float) -> None:
    assert got.keys() == expect.keys()
    ids = sorted(expect)
    a = np.array([got[i] for i in ids], dtype=float)
    b = np.array([expect[i] for i in ids], dtype=float)
    both_inf = np.isinf(a) & np.isinf(b) & (np.sign(a) == np.sign(b))
    with np.errstate(invalid="ignore"):
        close = both_inf | (np.abs(a - b) <= rel * np.abs(b))
    assert close.all(), f"{(~close).sum()} values differ, e.g. vertex {ids[np.argmin(close)]}"


def assert_equivalent(got: dict, expect: dict) -> None:
    """The two labelings induce the same partition (a bijection between labels)."""
    assert got.keys() == expect.keys()
    pairs = {(got[v], expect[v]) for v in expect}
    assert len(pairs) == len({g for g, _ in pairs}) == len({e for _, e in pairs})


def ldbc_pagerank(g: graphengine.Graph, d: float, iters: int) -> dict:
    """The LDBC PR formula with scipy, over the graph's edge list."""
    gids = g.all_gids()
    n = len(gids)
    src, dst = [], []
    (vlabel,) = g.vertex_labels
    for label in g.edge_labels:
        edges = g.edge_table(label)
        src.append(g.gids(vlabel, edges.column("src")))
        dst.append(g.gids(vlabel, edges.column("dst")))
    s, t = np.searchsorted(gids, np.concatenate(src)), np.searchsorted(gids, np.concatenate(dst))
    if not g.directed:
        s, t = np.concatenate([s, t]), np.concatenate([t, s])
    A = sp.csr_matrix((np.ones(len(s)), (t, s)), shape=(n, n))
    outdeg = np.bincount(s, minlength=n)
    r = np.full(n, 1.0 / n)
    for _ in range(iters):
        r = (1 - d) / n + d * (A @ np.where(outdeg > 0, r / np.maximum(outdeg, 1), 0)) \
            + d * r[outdeg == 0].sum() / n
    return dict(zip(g.vertex_ids(gids), r.tolist()))


# ---------------------------------------------------------------------------- gstest p2p-31
@pytest.fixture(scope="module", params=[False, True], ids=["undirected", "directed"])
def p2p(request):
    sess = graphengine.session(num_fragments=3)
    return datasets.read_evlp(sess, GSTEST / "p2p-31.v", GSTEST / "p2p-31.e",
                              directed=request.param), request.param


def ldbc_file(name: str, directed: bool) -> Path:
    return GSTEST / "property" / "ldbc" / (f"p2p-31-{name}" + ("-directed" if directed else ""))


def test_p2p_bfs(p2p):
    g, directed = p2p
    assert result(graphengine.bfs(g, 6)) == read_output(ldbc_file("BFS", directed), int)


def test_p2p_sssp(p2p):
    g, directed = p2p
    assert result(graphengine.sssp(g, 6)) == read_output(ldbc_file("SSSP", directed))


def test_p2p_pagerank(p2p):
    g, directed = p2p
    got = result(graphengine.pagerank(g, delta=0.85, max_round=10))
    assert_close(got, ldbc_pagerank(g, 0.85, 10), rel=1e-10)
    if directed:
        quirk = read_output(ldbc_file("PR", True))
        assert sum(quirk.values()) == pytest.approx(0.46, abs=0.01)  # see the module docstring
    else:
        assert_close(got, read_output(ldbc_file("PR", False)), rel=1e-4)
        assert_close(got, read_output(GSTEST / "p2p-31-pagerank_auto"), rel=1e-4)


def test_p2p_undirected_wcc_cdlp_lcc(p2p):
    g, directed = p2p
    if directed:
        pytest.skip("the gstest WCC, CDLP and LCC references are for the undirected load")
    ctx = graphengine.wcc(g)
    comp = result(ctx)
    smallest = {}
    for vid, c in comp.items():
        smallest[c] = min(smallest.get(c, vid), vid)
    assert {v: smallest[c] for v, c in comp.items()} == read_output(GSTEST / "p2p-31-wcc_auto", int)
    assert_equivalent(comp, read_output(GSTEST / "property" / "ldbc" / "p2p-31-WCC", int))
    assert result(graphengine.cdlp(g, max_round=10)) == read_output(ldbc_file("CDLP", False), int)
    assert_close(result(graphengine.lcc(g)), read_output(ldbc_file("LCC", False)), rel=1e-12)


# ---------------------------------------------------------------------------- Graphalytics
def load_validation(kind: str, directed: bool, fnum: int = 2) -> graphengine.Graph:
    sess = graphengine.session(num_fragments=fnum)
    if kind == "example":
        stem = VALIDATION / "example" / f"example-{'directed' if directed else 'undirected'}"
        return datasets.read_evlp(sess, f"{stem}.v", f"{stem}.e", directed=directed)
    name = "dir-input" if directed else "undir-input"
    if kind == "sssp":
        base = VALIDATION / "sssp" / name
        return datasets.read_evlp(sess, f"{base}.v", f"{base}.e", directed=directed)
    return datasets.read_adjacency(sess, VALIDATION / kind / name, directed=directed)


def expected(kind: str, algo: str, directed: bool, cast=float) -> dict:
    if kind == "example":
        path = VALIDATION / "example" / \
            f"example-{'directed' if directed else 'undirected'}-{algo.upper()}"
    else:
        path = VALIDATION / kind / ("dir-output" if directed else "undir-output")
    return read_output(path, cast)


DIRECTIONS = pytest.mark.parametrize("directed", [True, False], ids=["directed", "undirected"])


@DIRECTIONS
@pytest.mark.parametrize("kind", ["example", "bfs"])
def test_graphalytics_bfs(kind, directed):
    src = 2 if kind == "example" and not directed else 1
    got = result(graphengine.bfs(load_validation(kind, directed), src))
    assert got == expected(kind, "bfs", directed, int)


@DIRECTIONS
@pytest.mark.parametrize("kind", ["example", "sssp"])
def test_graphalytics_sssp(kind, directed):
    src = 2 if kind == "example" and not directed else 1
    got = result(graphengine.sssp(load_validation(kind, directed), src))
    assert_close(got, expected(kind, "sssp", directed), rel=1e-4)


@DIRECTIONS
@pytest.mark.parametrize("kind", ["example", "pr"])
def test_graphalytics_pagerank(kind, directed):
    rounds = 2 if kind == "example" else (14 if directed else 26)
    got = result(graphengine.pagerank(load_validation(kind, directed), 0.85, rounds))
    assert_close(got, expected(kind, "pr", directed), rel=1e-4)


@DIRECTIONS
@pytest.mark.parametrize("kind", ["example", "wcc"])
def test_graphalytics_wcc(kind, directed):
    got = result(graphengine.wcc(load_validation(kind, directed)))
    assert_equivalent(got, expected(kind, "wcc", directed, int))


@DIRECTIONS
@pytest.mark.parametrize("kind", ["example", "cdlp"])
def test_graphalytics_cdlp(kind, directed):
    rounds = 2 if kind == "example" else 5
    got = result(graphengine.cdlp(load_validation(kind, directed), max_round=rounds))
    assert got == expected(kind, "cdlp", directed, int)


@DIRECTIONS
@pytest.mark.parametrize("kind", ["example", "lcc"])
def test_graphalytics_lcc(kind, directed):
    got = result(graphengine.lcc(load_validation(kind, directed)))
    assert_close(got, expected(kind, "lcc", directed), rel=1e-4)
