"""The built-in apps against networkx / hand-written references of the Graphalytics definitions.

Graphs are generated: shuffled sparse user ids, isolated vertices, self loops and parallel
edges, float weights; directed and undirected; 1 and 3 fragments on the local executor and
every app at least once on Ray (3 fragments), whose result must equal the local one exactly.
"""

from __future__ import annotations

from collections import Counter

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp
from pie_graphs import build, random_edges

import graphengine
from graphengine.pie.algorithms.bfs import UNREACHABLE

CASES = [(directed, fnum) for directed in (True, False) for fnum in (1, 3)]


def case_id(case):
    return f"{'dir' if case[0] else 'undir'}-{case[1]}f"


@pytest.fixture(scope="module", params=CASES, ids=case_id)
def case(request):
    directed, fnum = request.param
    ids, src, dst, weight = random_edges(seed=7 if directed else 11)
    g = build(ids, src, dst, weight, directed, fnum)
    return g, ids, src, dst, weight, directed


def user_ids(ctx) -> np.ndarray:
    return ctx.to_numpy("v.id")


def nx_graph(ids, src, dst, weight, directed, multi=True):
    G = (nx.MultiDiGraph() if directed else nx.MultiGraph()) if multi else \
        (nx.DiGraph() if directed else nx.Graph())
    G.add_nodes_from(ids.tolist())
    G.add_weighted_edges_from(zip(src.tolist(), dst.tolist(), weight.tolist()))
    return G


def directed_pairs(src, dst, directed):
    """Edge list as directed pairs (an undirected edge both ways, a self loop twice)."""
    if directed:
        return src, dst
    return np.concatenate([src, dst]), np.concatenate([dst, src])


# ---------------------------------------------------------------------------- references
def ref_pagerank(ids, src, dst, directed, d, iters):
    pos = {v: i for i, v in enumerate(ids.tolist())}
    s, t = directed_pairs(src, dst, directed)
    si = np.array([pos[x] for x in s.tolist()])
    ti = np.array([pos[x] for x in t.tolist()])
    n = len(ids)
    A = sp.csr_matrix((np.ones(len(si)), (ti, si)), shape=(n, n))  # A[v, u]: edges u -> v
    outdeg = np.bincount(si, minlength=n).astype(float)
    r = np.full(n, 1.0 / n)
    for _ in range(iters):
        contrib = np.where(outdeg > 0, r / np.maximum(outdeg, 1), 0.0)
        r = (1 - d) / n + d * (A @ contrib) + d * r[outdeg == 0].sum() / n
    return dict(zip(ids.tolist(), r))


def ref_cdlp(ids, src, dst, directed, iters):
    nbrs = {v: [] for v in ids.tolist()}
    for a, b in zip(src.tolist(), dst.tolist()):
        nbrs[a].append(b)
        nbrs[b].append(a)  # out-neighbor of a; in-neighbor of b (both count, also undirected)
    label = {v: v for v in nbrs}
    for _ in range(iters):
        new = {}
        for v, ns in nbrs.items():
            if not ns:
                new[v] = label[v]
                continue
            counts = Counter(label[u] for u in ns)
            top = max(counts.values())
            new[v] = min(lab for lab, c in counts.items() if c == top)
        label = new
    return label


def ref_lcc(ids, src, dst, directed):
    """Graphalytics LCC from the definition (direction respected between neighbors)."""
    src, dst = directed_pairs(src, dst, directed)
    out = {v: set() for v in ids.tolist()}
    inn = {v: set() for v in ids.tolist()}
    for a, b in zip(src.tolist(), dst.tolist()):
        if a != b:
            out[a].add(b)
            inn[b].add(a)
    res = {}
    for v, outs in out.items():
        hood = outs | inn[v]
        k = len(hood)
        res[v] = 0.0 if k < 2 else sum(len(hood & out[u]) for u in hood) / (k * (k - 1))
    return res


# ---------------------------------------------------------------------------- local executor
def test_bfs(case):
    g, ids, src, dst, weight, directed = case
    root = int(src[0])
    ctx = graphengine.bfs(g, root)
    expect = nx.single_source_shortest_path_length(nx_graph(ids, src, dst, weight, directed), root)
    got = dict(zip(user_ids(ctx).tolist(), ctx.to_numpy("r").tolist()))
    assert ctx.to_numpy("r").dtype == np.int64
    assert got == {v: expect.get(v, UNREACHABLE) for v in ids.tolist()}


def test_sssp(case):
    g, ids, src, dst, weight, directed = case
    root = int(src[1])
    ctx = graphengine.sssp(g, root, weight="weight")
    expect = nx.single_source_dijkstra_path_length(nx_graph(ids, src, dst, weight, directed), root)
    got = dict(zip(user_ids(ctx).tolist(), ctx.to_numpy("r").tolist()))
    for v in ids.tolist():
        assert got[v] == pytest.approx(expect.get(v, np.inf), rel=1e-12)


def test_sssp_unit_weights(case):
    g, _, src, _, _, _ = case
    root = int(src[0])
    hops = graphengine.bfs(g, root).to_numpy("r")
    dist = graphengine.sssp(g, root, weight=None).to_numpy("r")
    assert np.array_equal(np.where(hops == UNREACHABLE, np.inf, hops.astype(float)), dist)


def test_pagerank(case):
    g, ids, src, dst, _weight, directed = case
    ctx = graphengine.pagerank(g, delta=0.85, max_round=10)
    expect = ref_pagerank(ids, src, dst, directed, 0.85, 10)
    r = ctx.to_numpy("r")
    assert r.sum() == pytest.approx(1.0, rel=1e-12)
    assert np.allclose(r, [expect[v] for v in user_ids(ctx).tolist()], rtol=1e-12, atol=0)


def test_pagerank_matches_networkx_when_converged():
    ids, src, dst, weight = random_edges(seed=3)
    keep = src != dst  # networkx counts an undirected self loop once; directed is unaffected
    g = build(ids, src[keep], dst[keep], weight[keep], True, 3)
    expect = nx.pagerank(nx_graph(ids, src[keep], dst[keep], weight[keep], True), alpha=0.85,
                         weight=None, tol=1e-14, max_iter=1000)
    ctx = graphengine.pagerank(g, max_round=300)
    assert np.allclose(ctx.to_numpy("r"), [expect[v] for v in user_ids(ctx).tolist()],
                       rtol=1e-8, atol=0)


def test_wcc(case):
    g, ids, src, dst, weight, directed = case
    ctx = graphengine.wcc(g)
    label = dict(zip(user_ids(ctx).tolist(), ctx.to_numpy("r").tolist()))
    gid = dict(zip(user_ids(ctx).tolist(), ctx.gids.tolist()))
    G = nx_graph(ids, src, dst, weight, directed)
    comps = nx.weakly_connected_components(G) if directed else nx.connected_components(G)
    seen = set()
    for comp in comps:
        labels = {label[v] for v in comp}
        assert labels == {min(gid[v] for v in comp)}  # documented: smallest global id
        assert not labels & seen
        seen |= labels


def test_cdlp(case):
    g, ids, src, dst, _weight, directed = case
    ctx = graphengine.cdlp(g, max_round=10)
    expect = ref_cdlp(ids, src, dst, directed, 10)
    assert dict(zip(user_ids(ctx).tolist(), ctx.to_numpy("r").tolist())) == expect


def test_lcc(case):
    g, ids, src, dst, weight, directed = case
    ctx = graphengine.lcc(g)
    got = dict(zip(user_ids(ctx).tolist(), ctx.to_numpy("r").tolist()))
    expect = ref_lcc(ids, src, dst, directed)
    if not directed:
        simple = nx.Graph(nx_graph(ids, src, dst, weight, False))
        simple.remove_edges_from(nx.selfloop_edges(simple))
        assert expect == pytest.approx(nx.clustering(simple))
    assert got == pytest.approx(expect, rel=1e-12)


@pytest.mark.parametrize("fnum", [2, 4])
def test_same_result_for_any_fragment_count(fnum):
    ids, src, dst, weight = random_edges(seed=5)
    ref = build(ids, src, dst, weight, True, 1)
    g = build(ids, src, dst, weight, True, fnum)
    root = int(src[0])
    for run in (lambda h: graphengine.bfs(h, root), lambda h: graphengine.sssp(h, root),
                graphengine.wcc, graphengine.cdlp, graphengine.lcc, graphengine.pagerank):
        a, b = run(ref), run(g)
        by_id_a = dict(zip(user_ids(a).tolist(), a.to_numpy("r").tolist()))
        by_id_b = dict(zip(user_ids(b).tolist(), b.to_numpy("r").tolist()))
        if run is graphengine.wcc:  # ids are global ids, which depend on the partitioning
            continue
        assert by_id_b == pytest.approx(by_id_a, rel=1e-13)


# ---------------------------------------------------------------------------- Ray executor
RAY_RUNS = {
    "bfs": lambda g, root: graphengine.bfs(g, root, executor="ray"),
    "sssp": lambda g, root: graphengine.sssp(g, root, executor="ray"),
    "pagerank": lambda g, root: graphengine.pagerank(g, executor="ray"),
    "wcc": lambda g, root: graphengine.wcc(g, executor="ray"),
    "cdlp": lambda g, root: graphengine.cdlp(g, executor="ray"),
    "lcc": lambda g, root: graphengine.lcc(g, executor="ray"),
}


@pytest.mark.parametrize("app", list(RAY_RUNS))
def test_ray_equals_local(ray_session, app):
    ids, src, dst, weight = random_edges(seed=13)
    directed = app not in ("lcc", "wcc")
    g = build(ids, src, dst, weight, directed, 3)
    root = int(src[0])
    on_ray = RAY_RUNS[app](g, root)
    local = getattr(graphengine, app)(g, root) if app in ("bfs", "sssp") else \
        getattr(graphengine, app)(g)
    assert np.array_equal(on_ray.gids, local.gids)
    assert np.array_equal(on_ray.to_numpy("r"), local.to_numpy("r"))
