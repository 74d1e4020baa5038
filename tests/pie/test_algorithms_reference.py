"""The fast kernels of betweenness, scc, sssp_path / sssp_has_path and louvain against networkx,
on graphs with hubs, self loops and parallel edges, directed and undirected, 1 and 3 fragments.

One fragment runs the sequential kernels (Brandes per source in parallel chunks, Tarjan, one
lexicographic Dijkstra); three fragments run the PIE rounds: both must give networkx's answer.
"""

from __future__ import annotations

import importlib

import networkx as nx
import numpy as np
import pytest

import graphengine

CASES = [(directed, fnum) for directed in (True, False) for fnum in (1, 3)]


def hub_edges(seed: int, n: int = 90, m: int = 260):
    """Two hubs touching a third of the vertices each, random edges, self loops, parallel edges,
    shuffled sparse user ids and a few isolated vertices."""
    rng = np.random.default_rng(seed)
    ids = (rng.permutation(n + 4) * 5 + 11).astype(np.int64)
    src = list(rng.integers(0, n, m))
    dst = list(rng.integers(0, n, m))
    for hub in (0, 1):
        for v in rng.choice(n, n // 3, replace=False):
            src.append(hub if v % 2 else v)
            dst.append(v if v % 2 else hub)
    src += [2, 3, 3, 5, 5]  # self loops, then parallel edges
    dst += [2, 3, 3, 6, 6]
    src, dst = ids[np.array(src)], ids[np.array(dst)]
    weight = rng.integers(0, 4, len(src)).astype(np.float64) / 2  # ties and zero weights
    return ids, src, dst, weight


class Case:
    def __init__(self, directed: bool, fnum: int, seed: int = 7):
        self.directed = directed
        ids, self.src, self.dst, self.weight = hub_edges(seed)
        g = graphengine.session(num_fragments=fnum).g(directed=directed).add_vertices({"id": ids})
        self.g = g.add_edges({"src": self.src, "dst": self.dst, "weight": self.weight}, label="e")
        self.gids = self.g.all_gids()
        self.order = self.g.vertex_ids(self.gids)  # user ids in ctx.gids order
        self.gid_of = dict(zip(self.order, self.gids.tolist()))
        self.G = nx.MultiDiGraph() if directed else nx.MultiGraph()
        self.G.add_nodes_from(self.order)
        self.G.add_weighted_edges_from(zip(self.src.tolist(), self.dst.tolist(),
                                           self.weight.tolist()))


@pytest.fixture(scope="module", params=CASES, ids=lambda c: f"{'dir' if c[0] else 'undir'}-{c[1]}f")
def case(request):
    return Case(*request.param)


@pytest.mark.parametrize("endpoints", [False, True])
@pytest.mark.parametrize("normalized", [True, False])
def test_betweenness_exact(case, normalized, endpoints):
    simple = nx.DiGraph(case.G) if case.directed else nx.Graph(case.G)
    simple.remove_edges_from(nx.selfloop_edges(simple))
    ref = nx.betweenness_centrality(simple, normalized=normalized, endpoints=endpoints)
    r = graphengine.betweenness_centrality(case.g, normalized=normalized, endpoints=endpoints)
    np.testing.assert_allclose(r.to_numpy("r"), [ref[v] for v in case.order], rtol=1e-9,
                               atol=1e-12)


def test_betweenness_sampled(case):
    simple = nx.DiGraph(case.G) if case.directed else nx.Graph(case.G)
    simple.remove_edges_from(nx.selfloop_edges(simple))
    ordered = type(simple)()
    ordered.add_nodes_from(case.order)  # networkx samples from its node order: ctx.gids order
    ordered.add_edges_from(simple.edges())
    ref = nx.betweenness_centrality(ordered, k=17, seed=3)
    r = graphengine.betweenness_centrality(case.g, k=17, seed=3).to_numpy("r")
    np.testing.assert_allclose(r, [ref[v] for v in case.order], rtol=1e-9, atol=1e-12)


def test_scc(case):
    r = graphengine.scc(case.g).to_numpy("r")
    label = dict(zip(case.order, r.tolist()))
    comps = list(nx.strongly_connected_components(case.G) if case.directed
                 else nx.connected_components(case.G))
    for comp in comps:
        assert {label[v] for v in comp} == {min(case.gid_of[v] for v in comp)}
    assert len(set(r.tolist())) == len(comps)


@pytest.mark.parametrize("seed", [7, 8, 9])
def test_scc_pivot_component_first(case, seed, monkeypatch):
    """With the pivot's component taken first by two searches (every graph above the
    threshold), the components are still networkx's, on the hub graphs and on one whose
    pivot (a hub with in- and out-edges) lies outside the largest component."""
    scc_module = importlib.import_module("graphengine.pie.algorithms.scc")
    monkeypatch.setattr(scc_module, "PIVOT_MIN_EDGES", 0)
    test_scc(case)
    if not case.directed:
        return
    rng = np.random.default_rng(seed)
    src = list(rng.integers(0, 60, 200)) + [100] * 30 + list(range(101, 131))
    dst = list(rng.integers(0, 60, 200)) + list(range(101, 131)) + [100] * 30
    src += [0, 100]  # one edge each way between the hub's component and the rest
    dst += [100, 1]
    g = graphengine.session(num_fragments=case.g.fnum).g().add_edges({"src": src, "dst": dst})
    G = nx.DiGraph(list(zip(src, dst)))
    r = graphengine.scc(g).to_numpy("r")
    gid_of = dict(zip(g.vertex_ids(g.all_gids()), g.all_gids().tolist()))
    label = dict(zip(g.vertex_ids(g.all_gids()), r.tolist()))
    comps = list(nx.strongly_connected_components(G))
    for comp in comps:
        assert {label[v] for v in comp} == {min(gid_of[v] for v in comp)}
    assert len(set(r.tolist())) == len(comps)


def reference_tree(case, src):
    """networkx distances, fewest hops over tight edges, smallest-gid tight predecessor."""
    dist = nx.single_source_dijkstra_path_length(case.G, src)
    tight = nx.DiGraph()
    for u, v, w in case.G.edges(data="weight"):
        for a, b in ((u, v),) if case.directed else ((u, v), (v, u)):
            if a in dist and b in dist and a != b and dist[a] + w == dist[b]:
                tight.add_edge(a, b)
    tight.add_node(src)
    hops = nx.single_source_shortest_path_length(tight, src)
    pred = {}
    for v in hops:
        if v != src:
            pred[v] = min(case.gid_of[u] for u in tight.predecessors(v)
                          if hops.get(u) == hops[v] - 1)
    return dist, pred


def test_sssp_path_tree(case):
    for src in (int(case.src[-20]), int(case.src[0])):  # a hub, then any vertex
        ctx = graphengine.sssp_path(case.g, src)
        dist, pred = reference_tree(case, src)
        assert ctx.to_numpy("r.dist").tolist() == [dist.get(v, np.inf) for v in case.order]
        assert ctx.to_numpy("r").tolist() == [pred.get(v, -1) for v in case.order]


def test_sssp_has_path(case):
    src = int(case.src[1])
    for target in case.order[::5] + [src]:
        assert graphengine.sssp_has_path(case.g, src, target) == nx.has_path(case.G, src, target)


@pytest.mark.parametrize("fnum", [1, 3])
@pytest.mark.parametrize("weighted", [False, True])
def test_louvain_concurrent_moves(fnum, weighted, monkeypatch):
    """The threads' local moving (every graph above the threshold) keeps communities connected
    and networkx's modularity on a planted partition with hubs, self loops and parallel edges;
    its kernel alone, two shares stepped one after the other, stops where no node can gain."""
    louvain_module = importlib.import_module("graphengine.pie.algorithms.louvain")
    monkeypatch.setattr(louvain_module, "PARALLEL_MIN_ENTRIES", 0)
    monkeypatch.setattr(louvain_module.numba, "get_num_threads", lambda: 2)
    G = nx.planted_partition_graph(8, 40, 0.3, 0.01, seed=4)
    M = nx.MultiGraph(G)
    for v in range(0, 320, 40):  # a hub per block, self loops, parallel edges
        M.add_edges_from((v, u) for u in range(v + 1, v + 40) if u % 3)
        M.add_edge(v + 1, v + 1)
        M.add_edge(v + 2, v + 3)
    for a, b, key in M.edges(keys=True):
        M[a][b][key]["weight"] = 1.0 + (a * b + key) % 4 if weighted else 1.0
    g = graphengine.session(num_fragments=fnum).g(M)
    weight = "weight" if weighted else None
    parts = {}
    ctx = graphengine.louvain(g, weight=weight, seed=3)
    for v, c in zip(g.vertex_ids(g.all_gids()), ctx.to_numpy("r").tolist()):
        parts.setdefault(c, set()).add(v)
    assert all(nx.is_connected(M.subgraph(p)) for p in parts.values())
    ours = nx.community.modularity(M, parts.values(), weight="weight")
    ref = nx.community.modularity(M, nx.community.louvain_communities(M, weight="weight",
                                                                      seed=3), weight="weight")
    assert ours >= 0.97 * ref

    # the kernel: afterwards no node gains by moving (networkx's gain), totals exact
    S = nx.Graph(G)
    n = S.number_of_nodes()
    src = np.array([a for a, b in S.edges()] + [b for a, b in S.edges()])
    dst = np.array([b for a, b in S.edges()] + [a for a, b in S.edges()])
    order = np.argsort(src, kind="stable")
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(src, minlength=n), out=indptr[1:])
    nbrs = dst[order]
    degree = np.diff(indptr).astype(np.float64)
    total = degree.copy()
    comm = np.arange(n)
    m = S.number_of_edges()
    assert louvain_module.move_nodes_concurrently(indptr, nbrs, np.empty(0), True, degree, total,
                                                  comm, m, 1.0, np.arange(n), False, 2)
    assert np.allclose(total, np.bincount(comm, weights=degree, minlength=n))
    for u in range(n):
        links = np.bincount(comm[nbrs[indptr[u]:indptr[u + 1]]], minlength=n)
        rest = total - np.where(np.arange(n) == comm[u], degree[u], 0)
        gain = links / m - rest * degree[u] / (2 * m * m)
        assert gain.max() <= gain[comm[u]] + 1e-12


@pytest.mark.parametrize("fnum", [1, 3])
def test_louvain_hubs_and_loops(fnum):
    """Communities are connected and reach networkx's modularity on a hub-heavy multigraph."""
    case = Case(False, fnum, seed=9)
    r = graphengine.louvain(case.g, weight="weight", seed=0).to_numpy("r")
    parts: dict[int, set] = {}
    for v, c in zip(case.order, r.tolist()):
        parts.setdefault(c, set()).add(v)
    assert all(nx.is_connected(case.G.subgraph(p)) for p in parts.values())
    ours = nx.community.modularity(case.G, parts.values(), weight="weight")
    ref = nx.community.modularity(case.G, nx.community.louvain_communities(
        case.G, weight="weight", seed=0), weight="weight")
    assert ours >= 0.95 * ref
