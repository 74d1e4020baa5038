"""Centrality, core and triangle apps against networkx.

Graphs are generated multigraphs with shuffled sparse user ids, isolated vertices, self loops
and parallel edges, directed and undirected, on 1 and 3 fragments (local executor); every app
also runs once on Ray and must give the local result. networkx is the reference:

* on the multigraph itself where networkx defines the algorithm for it (degree centrality,
  triangles, PageRank with ``weight=None``);
* on the simple graph whose ``weight`` is the edge multiplicity for the matrix-based
  iterations (eigenvector, Katz, HITS: networkx refuses multigraphs there; ours count
  parallel edges, which is the same matrix);
* on the underlying simple graph, self loops dropped, for cores and clustering (networkx
  refuses multigraphs and, for cores, self loops; ours reduce to the simple graph).
"""

from __future__ import annotations

import doctest
import importlib
import logging
from collections import Counter

import networkx as nx
import numpy as np
import pytest
from networkx.algorithms.link_analysis.hits_alg import _hits_python

import graphengine
from graphengine.errors import AnalyticsError

CASES = [(directed, fnum) for directed in (True, False) for fnum in (1, 3)]


def random_graph(directed: bool, seed: int, n: int = 70, m: int = 260, isolated: int = 6):
    """User ids, and edges with self loops and parallel edges among the first ``n`` ids."""
    rng = np.random.default_rng(seed)
    ids = (rng.permutation(n + isolated) * 7 + 3).astype(np.int64)
    src = ids[rng.integers(0, n, m)]
    dst = ids[rng.integers(0, n, m)]
    src = np.concatenate([src, ids[:3], src[:5]])  # guaranteed self loops and parallel edges
    dst = np.concatenate([dst, ids[:3], dst[:5]])
    return ids, src, dst


def build(ids, src, dst, directed: bool, fnum: int) -> graphengine.Graph:
    g = graphengine.session(num_fragments=fnum).g(directed=directed)
    return g.add_vertices({"id": ids}).add_edges({"src": src, "dst": dst})


def nx_multigraph(ids, src, dst, directed: bool):
    G = nx.MultiDiGraph() if directed else nx.MultiGraph()
    G.add_nodes_from(ids.tolist())
    G.add_edges_from(zip(src.tolist(), dst.tolist()))
    return G


def simple(G, loops: bool = False):
    """The underlying simple graph of a networkx multigraph (self loops dropped unless kept)."""
    S = nx.DiGraph(G) if G.is_directed() else nx.Graph(G)
    if not loops:
        S.remove_edges_from(list(nx.selfloop_edges(S)))
    return S


def multiplicity_weighted(G):
    """The simple graph whose edge ``weight`` counts the parallel edges of ``G``."""
    W = nx.DiGraph() if G.is_directed() else nx.Graph()
    W.add_nodes_from(G)
    pairs = ((u, v) if G.is_directed() else tuple(sorted((u, v))) for u, v in G.edges())
    for (u, v), count in Counter(pairs).items():
        W.add_edge(u, v, weight=float(count))
    return W


def by_id(ctx, selector: str = "r") -> dict:
    return dict(zip(ctx.to_numpy("v.id").tolist(), ctx.to_numpy(selector).tolist()))


def assert_matches(ctx, reference: dict, selector: str = "r", rtol: float = 1e-6) -> None:
    got = by_id(ctx, selector)
    assert set(got) == set(reference)
    keys = list(reference)
    expected = np.array([reference[k] for k in keys], dtype=float)
    scale = np.abs(expected).max() if len(expected) else 1.0
    np.testing.assert_allclose([got[k] for k in keys], expected, rtol=rtol, atol=rtol * scale)


@pytest.fixture(scope="module", params=CASES,
                ids=[f"{'dir' if d else 'undir'}-{f}f" for d, f in CASES])
def case(request):
    directed, fnum = request.param
    ids, src, dst = random_graph(directed, seed=5 if directed else 9)
    return build(ids, src, dst, directed, fnum), nx_multigraph(ids, src, dst, directed)


# ---------------------------------------------------------------------- degree and cores
@pytest.mark.parametrize("kind", ["both", "in", "out"])
def test_degree_centrality(case, kind):
    g, G = case
    if not G.is_directed() or kind == "both":
        ref = nx.degree_centrality(G)
    else:
        ref = (nx.in_degree_centrality if kind == "in" else nx.out_degree_centrality)(G)
    assert_matches(graphengine.degree_centrality(g, kind), ref, rtol=1e-12)


def test_degree_centrality_single_vertex_and_bad_type():
    g = build(np.array([4]), np.array([4]), np.array([4]), True, 1)
    assert graphengine.degree_centrality(g).to_numpy("r").tolist() == [1.0]
    with pytest.raises(AnalyticsError, match="centrality_type"):
        graphengine.degree_centrality(g, "total")


def test_core_number_k_core_k_shell(case):
    g, G = case
    S = simple(G)
    ref = nx.core_number(S)
    assert by_id(graphengine.core_number(g)) == ref
    for k in range(max(ref.values()) + 2):
        core = set(nx.k_core(S, k).nodes)
        shell = set(nx.k_shell(S, k).nodes)
        assert by_id(graphengine.k_core(g, k)) == {v: int(v in core) for v in S}
        assert by_id(graphengine.k_shell(g, k)) == {v: int(v in shell) for v in S}


def test_cores_of_a_clique_with_a_tail():
    # K4 on 1..4 plus a path 4-5-6 and an isolated 7: cores 3,3,3,3,1,1,0
    src = [1, 1, 1, 2, 2, 3, 4, 5]
    dst = [2, 3, 4, 3, 4, 4, 5, 6]
    g = build(np.arange(1, 8), np.array(src), np.array(dst), False, 3)
    expected = dict(zip(range(1, 8), [3, 3, 3, 3, 1, 1, 0]))
    assert by_id(graphengine.core_number(g)) == expected
    assert by_id(graphengine.k_core(g, 3)) == {v: int(c >= 3) for v, c in expected.items()}
    assert by_id(graphengine.k_shell(g, 0)) == {v: int(c == 0) for v, c in expected.items()}
    for bad in (-1, 1.5, "2"):
        with pytest.raises(AnalyticsError, match="non-negative integer"):
            graphengine.k_core(g, bad)


# ---------------------------------------------------------------------- power iterations
def test_eigenvector_centrality(case):
    g, G = case
    ref = nx.eigenvector_centrality(multiplicity_weighted(G), weight="weight", max_iter=1000)
    assert_matches(graphengine.eigenvector_centrality(g, max_round=1000), ref)


def test_katz_centrality(case):
    g, G = case
    W = multiplicity_weighted(G)
    for normalized in (True, False):
        ref = nx.katz_centrality(W, alpha=0.05, weight="weight", normalized=normalized)
        ctx = graphengine.katz_centrality(g, alpha=0.05, normalized=normalized)
        assert_matches(ctx, ref)


def test_hits(case):
    g, G = case
    W = multiplicity_weighted(G)
    hub, auth = _hits_python(W, tol=0.01)  # the same power iteration, GraphScope's default
    ctx = graphengine.hits(g)
    assert_matches(ctx, hub, "r.hub", rtol=1e-9)
    assert_matches(ctx, auth, "r.auth", rtol=1e-9)
    np.testing.assert_array_equal(ctx.to_numpy("r"), ctx.to_numpy("r.hub"))
    hub, auth = nx.hits(W, tol=1e-12)  # the SVD fixed point
    ctx = graphengine.hits(g, tolerance=1e-12, max_round=1000)
    assert_matches(ctx, hub, "r.hub")
    assert_matches(ctx, auth, "r.auth")
    hub, auth = _hits_python(W, tol=0.01, normalized=False)
    assert_matches(graphengine.hits(g, normalized=False), hub, "r.hub", rtol=1e-9)


def test_personalized_pagerank(case):
    g, G = case
    for source in (int(next(iter(G))), int(list(G)[-1])):  # a linked and an isolated vertex
        ref = nx.pagerank(G, personalization={source: 1}, tol=1e-10, max_iter=300, weight=None)
        ctx = graphengine.personalized_pagerank(g, source, max_round=300)
        assert_matches(ctx, ref)
        assert ctx.to_numpy("r").sum() == pytest.approx(1.0)
    ref = nx.pagerank(G, alpha=0.5, personalization={source: 1}, tol=1e-10, weight=None)
    assert_matches(graphengine.personalized_pagerank(g, source, delta=0.5), ref)


def test_iteration_limits_and_errors(caplog):
    ids, src, dst = random_graph(True, seed=3)
    g = build(ids, src, dst, True, 2)
    with caplog.at_level(logging.WARNING, logger="graphengine"):
        ctx = graphengine.katz_centrality(g, alpha=5.0, max_round=5)  # diverges
    assert "did not reach the tolerance" in caplog.text
    assert "_converged" not in ctx.columns and np.isfinite(ctx.to_numpy("r")).all()
    with pytest.raises(AnalyticsError, match="no vertex"):
        graphengine.eigenvector_centrality(graphengine.session().g())
    with pytest.raises(AnalyticsError, match="tolerance"):
        graphengine.hits(g, tolerance=0)
    with pytest.raises(AnalyticsError, match="max_round"):
        graphengine.eigenvector_centrality(g, max_round=0)
    with pytest.raises(AnalyticsError, match="delta"):
        graphengine.personalized_pagerank(g, int(ids[0]), delta=1.5)
    with pytest.raises(AnalyticsError, match="not in the graph"):
        graphengine.personalized_pagerank(g, -1)


def test_hits_without_edges():
    g = build(np.arange(4), np.zeros(0, np.int64), np.zeros(0, np.int64), True, 2)
    ctx = graphengine.hits(g)
    assert ctx.to_numpy("r.hub").tolist() == [0.0] * 4
    assert ctx.to_numpy("r.auth").tolist() == [0.0] * 4


# ---------------------------------------------------------------------- triangles
def test_triangles(case):
    g, G = case
    if G.is_directed():
        with pytest.raises(AnalyticsError, match="undirected"):
            graphengine.triangles(g)
        return
    ctx = graphengine.triangles(g)
    assert by_id(ctx) == nx.triangles(G)  # networkx reads a multigraph as its simple graph
    assert ctx.to_numpy("r").dtype == np.int64


def test_clustering_and_average(case):
    g, G = case
    S = simple(G, loops=True)  # networkx's clustering ignores self loops itself
    assert_matches(graphengine.clustering(g), nx.clustering(S), rtol=1e-12)
    ctx = graphengine.avg_clustering(g)
    assert ctx.to_numpy("r", axis=0)[0] == pytest.approx(nx.average_clustering(S), rel=1e-12)
    assert ctx.to_dataframe()["result"].tolist() == [float(ctx)]


def test_triangles_dense_enough_to_cross_fragments():
    # a complete graph: every vertex in C(n-1, 2) triangles, across 3 fragments
    K = nx.complete_graph(12)
    g = graphengine.session(num_fragments=3).g(K)
    assert graphengine.triangles(g).to_numpy("r").tolist() == [55] * 12
    assert graphengine.clustering(g).to_numpy("r").tolist() == [1.0] * 12
    D = nx.complete_graph(6, create_using=nx.DiGraph)
    gd = graphengine.session(num_fragments=3).g(D)
    assert graphengine.clustering(gd).to_numpy("r").tolist() == [1.0] * 6


# ---------------------------------------------------------------------- Ray and docs
APPS = {
    "degree_centrality": lambda g, ex: graphengine.degree_centrality(g, executor=ex),
    "core_number": lambda g, ex: graphengine.core_number(g, executor=ex),
    "k_core": lambda g, ex: graphengine.k_core(g, 2, executor=ex),
    "k_shell": lambda g, ex: graphengine.k_shell(g, 2, executor=ex),
    "eigenvector_centrality": lambda g, ex: graphengine.eigenvector_centrality(
        g, max_round=1000, executor=ex),
    "katz_centrality": lambda g, ex: graphengine.katz_centrality(g, alpha=0.05, executor=ex),
    "hits": lambda g, ex: graphengine.hits(g, executor=ex),
    "personalized_pagerank": lambda g, ex: graphengine.personalized_pagerank(
        g, int(g.vertex_ids(g.all_gids()[:1])[0]), executor=ex),
    "triangles": lambda g, ex: graphengine.triangles(g, executor=ex),
    "clustering": lambda g, ex: graphengine.clustering(g, executor=ex),
    "avg_clustering": lambda g, ex: graphengine.avg_clustering(g, executor=ex),
}


@pytest.fixture(scope="module")
def ray_graphs(ray_session):
    ids, src, dst = random_graph(False, seed=13)
    return {d: build(ids, src, dst, d, 3) for d in (True, False)}


@pytest.mark.parametrize("name", list(APPS))
def test_ray_matches_local(ray_graphs, name):
    g = ray_graphs[name != "triangles"]  # triangles are undirected only
    local, remote = APPS[name](g, "local"), APPS[name](g, "ray")
    if name == "avg_clustering":
        assert float(remote) == float(local)
        return
    for column in local.columns:
        np.testing.assert_array_equal(remote.to_numpy(f"r.{column}"),
                                      local.to_numpy(f"r.{column}"))


MODULES = ["degree_centrality", "core_number", "k_core", "k_shell", "eigenvector_centrality",
           "katz_centrality", "hits", "personalized_pagerank", "triangles", "clustering",
           "avg_clustering"]


@pytest.mark.parametrize("module", MODULES)
def test_docstring_examples(module):
    mod = importlib.import_module(f"graphengine.pie.algorithms.{module}")
    result = doctest.testmod(mod, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
