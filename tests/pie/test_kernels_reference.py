"""CDLP, LCC, triangles, clustering, core numbers and WCC against independent references
(networkx, scipy, a numpy mode count) on graphs with a hub, self loops and parallel edges,
directed and undirected, on 1 and 3 fragments; a second call (the per-fragment caches
reused) gives the same results."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp
from scipy.sparse import csgraph

import graphengine
from graphengine import datasets


def hub_graph_edges():
    """An R-MAT multigraph (self loops, parallel edges) plus a hub joined to half the vertices
    (some of them twice, some both ways) and a few isolated vertices, under sparse user ids."""
    n = 256
    src, dst = datasets.rmat_edges(8, 6, seed=5)
    rng = np.random.default_rng(11)
    spokes = rng.choice(np.arange(1, n), n // 2, replace=False)
    src = np.concatenate([src, np.zeros(len(spokes), np.int64), spokes[:20], spokes[:10],
                          [7, 7, 9]])
    dst = np.concatenate([dst, spokes, np.zeros(20, np.int64), spokes[:10], [7, 7, 9]])
    ids = (np.arange(n + 4, dtype=np.int64) * 13 + 5)[rng.permutation(n + 4)]
    return n + 4, ids, ids[src], ids[dst]


N, IDS, SRC, DST = hub_graph_edges()


@pytest.fixture(scope="module", params=[(True, 1), (True, 3), (False, 1), (False, 3)],
                ids=lambda p: f"{'dir' if p[0] else 'undir'}-{p[1]}f")
def case(request):
    directed, fnum = request.param
    g = graphengine.session(num_fragments=fnum).g(directed=directed)
    g = g.add_vertices({"id": IDS}).add_edges({"src": SRC, "dst": DST}, label="e")
    return g, directed


def by_id(ctx) -> dict:
    return dict(zip(np.asarray(ctx.to_numpy("v.id")).tolist(), ctx.to_numpy("r").tolist()))


def simple_graph(directed: bool):
    """networkx's simple graph of the edges: parallel edges merged, self loops dropped."""
    G = nx.DiGraph() if directed else nx.Graph()
    G.add_nodes_from(IDS.tolist())
    G.add_edges_from((int(s), int(d)) for s, d in zip(SRC, DST) if s != d)
    return G


def reference_cdlp(directed: bool, rounds: int, ids=IDS, src=SRC, dst=DST) -> dict:
    """Graphalytics CDLP by counting (vertex, label) pairs with numpy: each edge gives its
    source the target's label and the target the source's (both ways, so an undirected self
    loop counts twice, as does a directed one: out- and in-neighbor)."""
    pos = {int(v): i for i, v in enumerate(ids)}
    s = np.array([pos[int(x)] for x in src])
    d = np.array([pos[int(x)] for x in dst])
    who, nbr = np.concatenate([s, d]), np.concatenate([d, s])
    label = ids.copy()
    for _ in range(rounds):
        pairs, count = np.unique(np.stack([who, label[nbr]], axis=1), axis=0, return_counts=True)
        new = label.copy()
        # per vertex: the highest count, then the smallest label
        order = np.lexsort((pairs[:, 1], -count, pairs[:, 0]))
        first = np.r_[True, pairs[order][1:, 0] != pairs[order][:-1, 0]]
        best = pairs[order][first]
        new[best[:, 0]] = best[:, 1]
        label = new
    return dict(zip(ids.tolist(), label.tolist()))


@pytest.mark.parametrize("ids_order", ["ascending", "shuffled", "repeated"])
def test_cdlp_one_fragment_on_ordered_rows(ids_order):
    """One fragment's kernel (labels as ranks, first iteration without counting where a
    vertex lists its neighbors once in ascending order) against the counting reference:
    ascending and shuffled user ids, a few parallel edges among sorted rows, and ids shared
    by two vertex labels (labels not distinct: every vertex counted)."""
    n = 200
    src, dst = datasets.rmat_edges(8, 8, seed=2)
    src, dst = src % n, dst % n
    keep = src != dst
    key = np.unique(np.minimum(src[keep], dst[keep]) * n + np.maximum(src[keep], dst[keep]))
    key = np.sort(np.concatenate([key, key[::17]]))  # parallel edges, rows still ordered
    lo, hi = key // n, key % n
    rng = np.random.default_rng(4)
    ids = np.arange(n, dtype=np.int64) * 3 + 1
    if ids_order == "shuffled":
        ids = ids[rng.permutation(n)]
    g = graphengine.session(num_fragments=1).g(directed=False)
    if ids_order == "repeated":  # two vertex labels with the same user ids 1, 4, 7, ...
        half = n // 2
        g = g.add_vertices({"id": ids[:half]}, label="a").add_vertices(
            {"id": ids[:half]}, label="b")
        for x, lx in ((0, "a"), (1, "b")):  # edges within and across the labels
            for y, ly in ((0, "a"), (1, "b")):
                e = ((lo >= half) == x) & ((hi >= half) == y)
                g = g.add_edges({"src": ids[lo[e] % half], "dst": ids[hi[e] % half]},
                                label=lx + ly, src_label=lx, dst_label=ly)
        # reference by vertex index: 0..half-1 label a, half..n-1 label b, labels ids[i % half]
        label = ids[np.arange(n) % half]
        who, nbr = np.concatenate([lo, hi]), np.concatenate([hi, lo])
        for _ in range(4):
            new = label.copy()
            for v in range(n):
                seen = label[nbr[who == v]]
                if len(seen):
                    values, counts = np.unique(seen, return_counts=True)
                    new[v] = values[counts == counts.max()].min()
            label = new
        ctx = graphengine.cdlp(g, max_round=4)
        got = ctx.to_numpy("r")
        index = {gid: i for i, gid in enumerate(
            np.concatenate([g.vertex_gids("a"), g.vertex_gids("b")]).tolist())}
        assert [label[index[x]] for x in ctx.gids.tolist()] == got.tolist()
        return
    g = g.add_vertices({"id": ids}).add_edges({"src": ids[lo], "dst": ids[hi]}, label="e")
    for rounds in (1, 2, 4, 10):
        expect = reference_cdlp(False, rounds, ids, ids[lo], ids[hi])
        assert by_id(graphengine.cdlp(g, max_round=rounds)) == expect


def reference_lcc(directed: bool) -> dict:
    """Graphalytics LCC: directed edges among the distinct neighbors (either direction)."""
    G = simple_graph(True)
    if not directed:
        G = G.to_undirected().to_directed()
    out = {}
    for v in G:
        hood = (set(G.successors(v)) | set(G.predecessors(v))) - {v}
        d = len(hood)
        links = sum(1 for u in hood for w in G.successors(u) if w in hood and w != u)
        out[v] = links / (d * (d - 1)) if d >= 2 else 0.0
    return out


@pytest.mark.parametrize("rounds", [1, 3, 10])
def test_cdlp(case, rounds):
    g, directed = case
    expect = reference_cdlp(directed, rounds)
    assert by_id(graphengine.cdlp(g, max_round=rounds)) == expect
    assert by_id(graphengine.cdlp(g, max_round=rounds)) == expect


def test_lcc(case):
    g, directed = case
    expect = reference_lcc(directed)
    for _ in range(2):
        got = by_id(graphengine.lcc(g))
        assert got.keys() == expect.keys()
        assert all(got[v] == pytest.approx(expect[v], rel=1e-12, abs=0) for v in expect)


def test_triangles_and_clustering(case):
    g, directed = case
    G = simple_graph(directed)
    if not directed:
        assert by_id(graphengine.triangles(g)) == nx.triangles(G)
    for _ in range(2):
        got, expect = by_id(graphengine.clustering(g)), nx.clustering(G)
        assert all(got[v] == pytest.approx(expect[v], rel=1e-12, abs=1e-15) for v in expect)


def test_core_number(case):
    g, directed = case
    expect = nx.core_number(simple_graph(directed))
    assert by_id(graphengine.core_number(g)) == expect
    assert by_id(graphengine.k_core(g, 3)) == {v: int(c >= 3) for v, c in expect.items()}
    assert by_id(graphengine.k_shell(g, 2)) == {v: int(c == 2) for v, c in expect.items()}


def test_wcc(case):
    g, _ = case
    pos = {int(v): i for i, v in enumerate(IDS)}
    s = np.array([pos[int(x)] for x in SRC])
    d = np.array([pos[int(x)] for x in DST])
    _, comp = csgraph.connected_components(sp.csr_matrix((np.ones(len(s)), (s, d)), (N, N)),
                                           directed=True, connection="weak")
    got = by_id(graphengine.wcc(g))
    pairs = {(got[int(v)], comp[i]) for i, v in enumerate(IDS)}
    assert len(pairs) == len(set(comp)) == len({a for a, _ in pairs})


def test_core_number_of_a_clique_chain_across_fragments():
    # K5 - K4 - K3 joined by single edges, cut by 3 fragments: cores 4, 3, 2 (+ bridges)
    edges = [(a, b) for a in range(5) for b in range(a + 1, 5)]
    edges += [(a, b) for a in range(5, 9) for b in range(a + 1, 9)]
    edges += [(a, b) for a in range(9, 12) for b in range(a + 1, 12)]
    edges += [(4, 5), (8, 9), (11, 12)]
    src, dst = (np.array(x, dtype=np.int64) for x in zip(*edges))
    G = nx.Graph(edges)
    for fnum in (1, 3):
        g = graphengine.session(num_fragments=fnum).g(directed=False).add_edges(
            {"src": src, "dst": dst})
        assert by_id(graphengine.core_number(g)) == nx.core_number(G)


# ------------------------------------------------ the simple graph's paths and the peeling
def ordered_edges(layout: str):
    """Edges of the hub graph (``hub_graph_edges``) laid out so that a fragment's rows take a
    given path of ``simple_graph``: ``sorted`` (no self loop or parallel edge, sorted by
    (min, max): every undirected row strictly increasing, the zero-copy path), ``shuffled``
    (rows unordered: sorted per row), ``sorted+loop`` / ``sorted+parallel`` (sorted rows with
    one self loop / one repeated edge: the merge path)."""
    pos = {int(v): i for i, v in enumerate(IDS)}
    s = np.array([pos[int(x)] for x in SRC])
    d = np.array([pos[int(x)] for x in DST])
    lo, hi = np.minimum(s, d), np.maximum(s, d)
    keep = lo != hi
    key = np.unique(lo[keep] * N + hi[keep])
    lo, hi = key // N, key % N
    if layout == "shuffled":
        order = np.random.default_rng(3).permutation(len(lo))
        lo, hi = lo[order], hi[order]
    elif layout == "sorted+loop":  # (v, v) before the edges (v, w): row v stays ascending
        at = np.searchsorted(lo, lo[40])
        lo, hi = np.insert(lo, at, lo[40]), np.insert(hi, at, lo[40])
    elif layout == "sorted+parallel":
        lo, hi = np.insert(lo, 40, lo[40]), np.insert(hi, 40, hi[40])
    return lo, hi


def nx_graph(src, dst, directed: bool):
    """networkx's simple graph of vertices ``0 .. N-1`` and the edges, self loops dropped."""
    G = nx.DiGraph() if directed else nx.Graph()
    G.add_nodes_from(range(N))
    G.add_edges_from((int(s), int(d)) for s, d in zip(src, dst) if s != d)
    return G


LAYOUTS = ["sorted", "shuffled", "sorted+loop", "sorted+parallel"]


@pytest.mark.parametrize("fnum", [1, 3])
@pytest.mark.parametrize("layout", LAYOUTS)
def test_simple_graph_paths_undirected(layout, fnum):
    src, dst = ordered_edges(layout)
    g = graphengine.session(num_fragments=fnum).g(directed=False).add_vertices(
        {"id": np.arange(N, dtype=np.int64)}).add_edges({"src": src, "dst": dst})
    G = nx_graph(src, dst, False)
    for _ in range(2):
        assert by_id(graphengine.core_number(g)) == nx.core_number(G)
        assert by_id(graphengine.triangles(g)) == nx.triangles(G)
        got, expect = by_id(graphengine.clustering(g)), nx.clustering(G)
        assert all(got[v] == pytest.approx(expect[v], rel=1e-12, abs=1e-15) for v in expect)


@pytest.mark.parametrize("fnum", [1, 3])
@pytest.mark.parametrize("layout", ["sorted", "shuffled"])
def test_simple_graph_paths_directed_with_reciprocal_pairs(layout, fnum):
    # every third edge also reversed: reciprocal pairs count twice in the degree (mult 2)
    lo, hi = ordered_edges(layout)
    src = np.concatenate([lo, hi[::3]])
    dst = np.concatenate([hi, lo[::3]])
    if layout == "sorted":
        order = np.lexsort((dst, src))
        src, dst = src[order], dst[order]
    g = graphengine.session(num_fragments=fnum).g(directed=True).add_vertices(
        {"id": np.arange(N, dtype=np.int64)}).add_edges({"src": src, "dst": dst})
    G = nx_graph(src, dst, True)
    assert by_id(graphengine.core_number(g)) == nx.core_number(G)
    got, expect = by_id(graphengine.clustering(g)), nx.clustering(G)
    assert all(got[v] == pytest.approx(expect[v], rel=1e-12, abs=1e-15) for v in expect)


def reference_simple(indptr, nbrs, in_indptr, in_nbrs, directed):
    """The simple graph of a CSR by sets: distinct neighbors, self excluded, and per neighbor
    the number of directions (out, in) joining it."""
    rows, mults = [], []
    for v in range(len(indptr) - 1):
        out = set(nbrs[indptr[v]:indptr[v + 1]].tolist()) - {v}
        inn = set(in_nbrs[in_indptr[v]:in_indptr[v + 1]].tolist()) - {v} if directed else set()
        row = sorted(out | inn)
        rows.append(row)
        mults.append([(u in out) + (u in inn) if directed else 1 for u in row])
    indptr = np.cumsum([0] + [len(r) for r in rows])
    return (indptr, np.array([u for r in rows for u in r], dtype=np.int64),
            np.array([m for r in mults for m in r]))


@pytest.mark.parametrize("rows", ["increasing", "unordered", "self-loop", "repeated"])
@pytest.mark.parametrize("directed", [False, True])
def test_build_simple_matches_sets(rows, directed, monkeypatch):
    """``_build_simple`` on CSRs whose rows are strictly increasing (the undirected zero-copy
    path: ``_simple_rows`` must not run), unordered, or sorted with a self loop / a repeated
    entry; rows over inner and outer lids (outer neighbors ``>= ivnum``)."""
    from types import SimpleNamespace

    from graphengine.pie.algorithms import _adjacency

    rng = np.random.default_rng(7)
    ivnum, vnum = 40, 55

    def csr():
        lists = [sorted(set(rng.choice(vnum, rng.integers(0, 12), replace=False).tolist())
                        - {v}) for v in range(ivnum)]
        lists[5] = list(range(20, 52))  # a hub row
        if rows == "unordered":
            lists = [list(rng.permutation(r)) for r in lists]
        elif rows == "self-loop":
            lists[7] = sorted(lists[7] + [7])
        elif rows == "repeated":
            lists[9] = sorted(lists[9] + lists[9][:1] + [3])
        indptr = np.cumsum([0] + [len(r) for r in lists]).astype(np.int64)
        return indptr, np.array([u for r in lists for u in r], dtype=np.int64)

    out_indptr, out_nbrs = csr()
    in_indptr, in_nbrs = csr() if directed else (out_indptr, out_nbrs)
    frag = SimpleNamespace(directed=directed, ivnum=ivnum, vnum=vnum, out_indptr=out_indptr,
                           out_nbrs=out_nbrs, in_indptr=in_indptr, in_nbrs=in_nbrs)
    zero_copy = rows == "increasing" and not directed
    if zero_copy:
        monkeypatch.setattr(_adjacency, "_simple_rows", None)  # would fail if called
    indptr, nbrs, mult = _adjacency._build_simple(frag)
    expect = reference_simple(out_indptr, out_nbrs, in_indptr, in_nbrs, directed)
    np.testing.assert_array_equal(indptr, expect[0])
    np.testing.assert_array_equal(nbrs, expect[1])
    np.testing.assert_array_equal(mult, expect[2])
    assert nbrs.dtype == np.int32 and mult.dtype == np.int8
    if zero_copy:
        assert np.shares_memory(indptr, out_indptr)


def test_peel_cores_with_outer_vertices_and_reciprocal_pairs():
    """``peel_cores`` (outer neighbors never peeled, an entry of ``mult`` 2 counted twice)
    against peeling by minimum degree with sets, on a symmetric random graph over 60 inner
    vertices plus 15 outer ones."""
    import importlib

    peel_cores = importlib.import_module("graphengine.pie.algorithms.core_number").peel_cores
    rng = np.random.default_rng(2)
    ivnum, vnum = 60, 75
    for with_outer, with_mult in [(True, True), (True, False), (False, True), (False, False)]:
        mult_of = {}
        for _ in range(260):
            a, b = rng.integers(0, vnum if with_outer else ivnum, 2)
            if a != b and min(a, b) < ivnum:
                mult_of[(min(a, b), max(a, b))] = int(rng.integers(1, 3)) if with_mult else 1
        rows = [{} for _ in range(ivnum)]
        for (a, b), m in mult_of.items():
            rows[a][b] = m
            if b < ivnum:
                rows[b][a] = m
        indptr = np.cumsum([0] + [len(r) for r in rows]).astype(np.int64)
        nbrs = np.array([u for r in rows for u in sorted(r)], dtype=np.int32)
        mult = np.array([r[u] for r in rows for u in sorted(r)], dtype=np.int8)
        # reference: repeatedly remove an inner vertex of minimum current degree
        deg = {v: sum(rows[v].values()) for v in range(ivnum)}
        alive, expect, k = set(range(ivnum)), {}, 0
        while alive:
            v = min(alive, key=lambda x: (deg[x], x))
            k = max(k, deg[v])
            expect[v] = k
            alive.remove(v)
            for u, m in rows[v].items():
                if u in alive:
                    deg[u] -= m
        core = np.full(vnum if with_outer else ivnum, -1, dtype=np.int64)
        peel_cores(indptr, nbrs, mult, ivnum, core)
        assert core[:ivnum].tolist() == [expect[v] for v in range(ivnum)]
        assert (core[ivnum:] == -1).all()
