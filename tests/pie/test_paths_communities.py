"""Path, centrality and community apps against networkx.

sssp_path / sssp_has_path / sssp_average_length, closeness_centrality, betweenness_centrality,
strongly_connected_components and louvain on generated graphs (shuffled sparse user ids,
isolated vertices, self loops, parallel edges, float weights), directed and undirected, on
1 and 3 fragments with the local executor and once each on Ray (results equal to local).
"""

from __future__ import annotations

import itertools

import networkx as nx
import numpy as np
import pytest

import graphengine
from graphengine.errors import AnalyticsError

CASES = [(directed, fnum) for directed in (True, False) for fnum in (1, 3)]


def random_edges(seed: int, n: int = 80, m: int = 220, isolated: int = 5):
    """User ids (shuffled, sparse), edges with self loops and parallel edges, float weights."""
    rng = np.random.default_rng(seed)
    ids = (rng.permutation(n + isolated) * 7 + 3).astype(np.int64)
    src = ids[rng.integers(0, n, m)]
    dst = ids[rng.integers(0, n, m)]
    src = np.concatenate([src, ids[:3], src[:4]])  # self loops, parallel edges
    dst = np.concatenate([dst, ids[:3], dst[:4]])
    weight = rng.uniform(0.1, 2.0, len(src)).round(3)
    weight[::9] = 0.0  # zero weights make ties and zero-length cycles
    return ids, src, dst, weight


def build(ids, src, dst, weight, directed: bool, fnum: int) -> graphengine.Graph:
    g = graphengine.session(num_fragments=fnum).g(directed=directed).add_vertices({"id": ids})
    return g.add_edges({"src": src, "dst": dst, "weight": weight}, label="e")


class Case:
    """A generated graph, as a graphengine graph and as a networkx multigraph (same order)."""

    def __init__(self, directed: bool, fnum: int, seed: int):
        self.directed = directed
        self.ids, self.src, self.dst, self.weight = random_edges(seed)
        self.g = build(self.ids, self.src, self.dst, self.weight, directed, fnum)
        self.order = self.g.vertex_ids(self.g.all_gids())  # user ids in ctx.gids order
        self.G = nx.MultiDiGraph() if directed else nx.MultiGraph()
        self.G.add_nodes_from(self.order)
        self.G.add_weighted_edges_from(zip(self.src.tolist(), self.dst.tolist(),
                                           self.weight.tolist()))

    def values(self, ref: dict) -> list:
        return [ref[v] for v in self.order]


@pytest.fixture(scope="module", params=CASES, ids=lambda c: f"{'dir' if c[0] else 'undir'}-{c[1]}f")
def case(request):
    directed, fnum = request.param
    return Case(directed, fnum, seed=3 if directed else 4)


# ---------------------------------------------------------------------------- paths
def test_sssp_path_is_a_shortest_path_tree(case):
    src = int(case.src[0])
    ctx = graphengine.sssp_path(case.g, src)
    pred, dist = ctx.to_numpy("r"), ctx.to_numpy("r.dist")
    ref = nx.single_source_dijkstra_path_length(case.G, src)
    pos = {v: i for i, v in enumerate(case.order)}
    user = dict(zip(ctx.gids.tolist(), case.order))
    for i, v in enumerate(case.order):
        if v not in ref:
            assert dist[i] == np.inf and pred[i] == -1
            continue
        assert dist[i] == pytest.approx(ref[v], abs=1e-9)
        if v == src:
            assert pred[i] == -1
            continue
        p = user[pred[i]]
        edge_weights = [d["weight"] for d in case.G.get_edge_data(p, v).values()]
        assert any(dist[pos[p]] + w == pytest.approx(dist[i], abs=1e-9) for w in edge_weights)
        seen, x = set(), v  # following predecessors reaches the source without a cycle
        while x != src:
            assert x not in seen
            seen.add(x)
            x = user[pred[pos[x]]]


def test_sssp_path_unit_weights_match_bfs_depths(case):
    src = int(case.src[1])
    ctx = graphengine.sssp_path(case.g, src, weight=None)
    ref = nx.single_source_shortest_path_length(case.G, src)
    assert ctx.to_numpy("r.dist").tolist() == [float(ref.get(v, np.inf)) for v in case.order]


def test_sssp_has_path(case):
    src = int(case.src[2])
    for target in case.order[::7] + [src]:
        assert graphengine.sssp_has_path(case.g, src, target) == nx.has_path(case.G, src, target)
    with pytest.raises(AnalyticsError):
        graphengine.sssp_has_path(case.g, src, -5)


@pytest.mark.parametrize("fnum", [1, 3])
@pytest.mark.parametrize("directed", [True, False])
def test_sssp_average_length(directed, fnum):
    G = nx.gnp_random_graph(40, 0.15, seed=3, directed=directed)
    G.add_edge(0, 0)
    g = graphengine.session(num_fragments=fnum).g(G)
    assert graphengine.sssp_average_length(g) == pytest.approx(nx.average_shortest_path_length(G))
    G.add_node(99)
    with pytest.raises(AnalyticsError, match="connected"):
        graphengine.sssp_average_length(graphengine.session(num_fragments=fnum).g(G))


# ---------------------------------------------------------------------------- centralities
@pytest.mark.parametrize("wf_improved", [True, False])
def test_closeness_centrality(case, wf_improved):
    got = graphengine.closeness_centrality(case.g, wf_improved=wf_improved).to_numpy("r")
    ref = nx.closeness_centrality(case.G, wf_improved=wf_improved)
    np.testing.assert_allclose(got, case.values(ref), rtol=1e-12)


def test_closeness_more_sources_than_one_wave():
    G = nx.gnm_random_graph(300, 600, seed=1, directed=True)
    g = graphengine.session(num_fragments=3).g(G)
    got = graphengine.closeness_centrality(g).to_numpy("r")
    ref = nx.closeness_centrality(G)
    np.testing.assert_allclose(got, [ref[v] for v in g.vertex_ids(g.all_gids())], rtol=1e-12)


@pytest.mark.parametrize("normalized,endpoints", list(itertools.product([True, False], repeat=2)))
def test_betweenness_centrality_exact(case, normalized, endpoints):
    got = graphengine.betweenness_centrality(case.g, normalized=normalized,
                                             endpoints=endpoints).to_numpy("r")
    ref = nx.betweenness_centrality(case.G, normalized=normalized, endpoints=endpoints)
    np.testing.assert_allclose(got, case.values(ref), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("k,endpoints", [(10, False), (10, True), (1, False)])
def test_betweenness_centrality_sampled_as_networkx(case, k, endpoints):
    """Same seed, same vertex order: networkx samples the same sources and rescales alike."""
    got = graphengine.betweenness_centrality(case.g, k=k, endpoints=endpoints,
                                             seed=7).to_numpy("r")
    ref = nx.betweenness_centrality(case.G, k=k, endpoints=endpoints, seed=7)
    np.testing.assert_allclose(got, case.values(ref), rtol=1e-9, atol=1e-12)  # nan == nan


def test_betweenness_centrality_more_sources_than_one_wave():
    G = nx.gnm_random_graph(150, 400, seed=2)
    g = graphengine.session(num_fragments=3).g(G)
    got = graphengine.betweenness_centrality(g).to_numpy("r")
    ref = nx.betweenness_centrality(G)
    np.testing.assert_allclose(got, [ref[v] for v in g.vertex_ids(g.all_gids())], rtol=1e-9)


def test_betweenness_centrality_bad_k(case):
    for k in (0, len(case.order) + 1):
        with pytest.raises(AnalyticsError, match="k must be"):
            graphengine.betweenness_centrality(case.g, k=k)


# ---------------------------------------------------------------------------- components
def test_strongly_connected_components(case):
    r = graphengine.strongly_connected_components(case.g).to_numpy("r")
    assert graphengine.scc is graphengine.strongly_connected_components
    label = dict(zip(case.order, r.tolist()))
    gid = dict(zip(case.order, case.g.all_gids().tolist()))
    comps = (nx.strongly_connected_components(case.G) if case.directed
             else nx.connected_components(case.G))
    comps = list(comps)
    for comp in comps:
        assert {label[v] for v in comp} == {min(gid[v] for v in comp)}
    assert len(set(r.tolist())) == len(comps)


@pytest.mark.parametrize("fnum", [1, 3])
def test_scc_on_a_long_cycle_chain(fnum):
    """Cycles joined one after another: many components, each found by its own root."""
    G = nx.DiGraph()
    for c in range(12):
        nx.add_cycle(G, range(5 * c, 5 * c + 5))
        G.add_edge(5 * c, 5 * c + 5)
    g = graphengine.session(num_fragments=fnum).g(G)
    r = graphengine.scc(g).to_numpy("r")
    assert len(set(r.tolist())) == nx.number_strongly_connected_components(G)


# ---------------------------------------------------------------------------- louvain
def communities_of(g, ctx) -> list[set]:
    comms: dict[int, set] = {}
    for v, c in zip(g.vertex_ids(g.all_gids()), ctx.to_numpy("r").tolist()):
        comms.setdefault(c, set()).add(v)
    return list(comms.values())


@pytest.mark.parametrize("fnum", [1, 3])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_louvain_planted_partition(fnum, seed):
    G = nx.planted_partition_graph(5, 30, 0.35, 0.02, seed=seed)
    G.add_nodes_from(range(150, 154))  # isolated vertices
    G.add_edge(3, 3)
    g = graphengine.session(num_fragments=fnum).g(G)
    parts = communities_of(g, graphengine.louvain(g, seed=seed))
    assert all(nx.is_connected(G.subgraph(p)) for p in parts)
    ours = nx.community.modularity(G, parts)
    ref = nx.community.modularity(G, nx.community.louvain_communities(G, seed=seed))
    assert ours >= 0.95 * ref


@pytest.mark.parametrize("fnum", [1, 3])
def test_louvain_weighted_multigraph(fnum):
    """Parallel edges add their weights, as networkx's multigraph conversion does."""
    G = nx.random_partition_graph([30, 40, 20, 50], 0.3, 0.01, seed=5)
    M = nx.MultiGraph()
    M.add_nodes_from(G)
    for a, b in G.edges():
        M.add_edge(a, b, weight=1.0 + (a + b) % 3)
        if (a * b) % 5 == 0:
            M.add_edge(a, b, weight=0.5)
    g = graphengine.session(num_fragments=fnum).g(M)
    parts = communities_of(g, graphengine.louvain(g, weight="weight", seed=1))
    assert all(nx.is_connected(M.subgraph(p)) for p in parts)
    ours = nx.community.modularity(M, parts, weight="weight")
    ref = nx.community.modularity(M, nx.community.louvain_communities(M, seed=1))
    assert ours >= 0.95 * ref


def test_louvain_edge_cases():
    sess = graphengine.session(num_fragments=3)
    with pytest.raises(AnalyticsError, match="undirected"):
        graphengine.louvain(sess.g(nx.gnp_random_graph(10, 0.3, seed=1, directed=True)))
    g = sess.g(directed=False).add_vertices({"id": [1, 2, 3]})  # no edges: all singletons
    assert len(set(graphengine.louvain(g).to_numpy("r").tolist())) == 3
    with pytest.raises(AnalyticsError, match="resolution"):
        graphengine.louvain(g, resolution=0)


@pytest.mark.parametrize("weights, match", [
    ({"weight": [1.0, -2.0]}, r"louvain: negative edge weight -2\.0 in 'weight'"),
    ({"weight": [1.0, float("nan")]}, "louvain: edge property 'weight' has missing"),
    ({"weight": [float("inf"), 1.0]}, "louvain: edge property 'weight' has missing"),
    ({"weight": [1.0, -float("inf")]}, "louvain: edge property 'weight' has missing"),
    ({"weight": np.array([4, -3], dtype=np.int32)},
     r"louvain: negative edge weight -3 in 'weight'"),
    ({"weight": ["a", "b"]}, "louvain: edge property 'weight' is not numeric"),
    ({}, "louvain: edge property 'weight' not found"),
])
@pytest.mark.parametrize("fnum", [1, 2])
def test_weight_errors_name_the_app_and_the_property(weights, match, fnum):
    g = graphengine.session(num_fragments=fnum).g(directed=False).add_edges(
        {"src": [1, 2], "dst": [2, 3], **weights})
    with pytest.raises(AnalyticsError, match=match):
        graphengine.louvain(g, weight="weight")
    with pytest.raises(AnalyticsError, match=match.replace("louvain", "sssp")):
        graphengine.sssp(g, 1, weight="weight")


@pytest.mark.parametrize("directed", [True, False])
def test_weights_of_removed_edges_are_not_checked(directed):
    """A negative weight on a live edge is refused; once that edge is removed the rest weighs
    SSSP (the weights are checked on the live edges only)."""
    g = graphengine.session().g(directed=directed).add_edges(
        {"src": [1, 2, 1, 3], "dst": [2, 3, 3, 4], "weight": [1.0, -5.0, 2.5, 1.0]})
    with pytest.raises(AnalyticsError, match=r"negative edge weight -5\.0"):
        graphengine.sssp(g, 1, weight="weight")
    live = g.remove_edges(np.flatnonzero(g.edge_property("weight") < 0))
    dist = dict(zip(live.vertex_ids(live.all_gids()),
                    graphengine.sssp(live, 1, weight="weight").to_numpy("r").tolist()))
    assert dist == {1: 0.0, 2: 1.0, 3: 2.5, 4: 3.5}


# ---------------------------------------------------------------------------- ray
def test_every_app_on_ray_matches_local(ray_session):
    c = Case(directed=True, fnum=3, seed=3)
    u = Case(directed=False, fnum=3, seed=4)
    src = int(c.src[0])
    runs = [
        (lambda ex: graphengine.sssp_path(c.g, src, executor=ex), ["r", "r.dist"]),
        (lambda ex: graphengine.closeness_centrality(c.g, executor=ex), ["r"]),
        (lambda ex: graphengine.betweenness_centrality(u.g, k=20, seed=3, executor=ex), ["r"]),
        (lambda ex: graphengine.strongly_connected_components(c.g, executor=ex), ["r"]),
        (lambda ex: graphengine.louvain(u.g, seed=2, executor=ex), ["r"]),
    ]
    for run, selectors in runs:
        local, remote = run("local"), run("ray")
        for sel in selectors:
            np.testing.assert_array_equal(remote.to_numpy(sel), local.to_numpy(sel))
    target = c.order[5]
    assert (graphengine.sssp_has_path(c.g, src, target, executor="ray")
            == nx.has_path(c.G, src, target))
    G = nx.cycle_graph(12)
    assert graphengine.sssp_average_length(graphengine.session(num_fragments=3).g(G),
                                           executor="ray") == pytest.approx(
        nx.average_shortest_path_length(G))
