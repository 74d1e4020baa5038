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


def reference_cdlp(directed: bool, rounds: int) -> dict:
    """Graphalytics CDLP by counting (vertex, label) pairs with numpy: each edge gives its
    source the target's label and the target the source's (both ways, so an undirected self
    loop counts twice, as does a directed one: out- and in-neighbor)."""
    pos = {int(v): i for i, v in enumerate(IDS)}
    s = np.array([pos[int(x)] for x in SRC])
    d = np.array([pos[int(x)] for x in DST])
    who, nbr = np.concatenate([s, d]), np.concatenate([d, s])
    label = IDS.copy()
    for _ in range(rounds):
        pairs, count = np.unique(np.stack([who, label[nbr]], axis=1), axis=0, return_counts=True)
        new = label.copy()
        # per vertex: the highest count, then the smallest label
        order = np.lexsort((pairs[:, 1], -count, pairs[:, 0]))
        first = np.r_[True, pairs[order][1:, 0] != pairs[order][:-1, 0]]
        best = pairs[order][first]
        new[best[:, 0]] = best[:, 1]
        label = new
    return dict(zip(IDS.tolist(), label.tolist()))


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
