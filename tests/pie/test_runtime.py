"""The PIE runtime: each exchange mechanism through small custom apps, errors, contexts."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import ClassVar

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from pie_graphs import build, random_edges

import graphengine
from graphengine.errors import AnalyticsError
from graphengine.pie import App, State, run_app

ROOT = Path(__file__).resolve().parents[2]


def edges_graph(fnum: int, directed: bool = True):
    ids, src, dst, weight = random_edges(seed=21)
    return build(ids, src, dst, weight, directed, fnum), ids, src, dst


def by_id(ctx, sel: str = "r") -> dict:
    return dict(zip(ctx.to_numpy("v.id").tolist(), ctx.to_numpy(sel).tolist()))


class InDegreeBySum(App):
    """Every out-edge adds 1 to its head through a "sum" synced array."""

    sync: ClassVar[dict[str, str]] = {"count": "sum"}

    def init(self, frag):
        return State(count=np.zeros(frag.vnum, dtype=np.int64))

    def peval(self, frag, state, messages):
        np.add.at(state.count, frag.out_nbrs, 1)

    def inceval(self, frag, state, messages):
        pass

    def output(self, frag, state):
        return {"r": state.count[:frag.ivnum].copy()}


class InDegreeByMessages(App):
    """Every out-edge sends (head gid, 1); the owner adds what it receives."""

    def init(self, frag):
        return State(count=np.zeros(frag.ivnum, dtype=np.int64))

    def peval(self, frag, state, messages):
        messages.send(frag.gids[frag.out_nbrs], np.ones(len(frag.out_nbrs), dtype=np.int64))

    def inceval(self, frag, state, messages):
        lids, values = messages.received()
        np.add.at(state.count, lids, values)

    def output(self, frag, state):
        return {"r": state.count}


class NeighborIdSum(App):
    """Sum of the out-neighbors' (gid + 1), with neighbor values pulled through "copy"."""

    sync: ClassVar[dict[str, str]] = {"value": "copy"}

    def init(self, frag):
        return State(value=np.zeros(frag.vnum, dtype=np.int64))

    def peval(self, frag, state, messages):
        state.value[:frag.ivnum] = frag.gids[:frag.ivnum] + 1
        messages.force_continue()

    def inceval(self, frag, state, messages):
        if messages.round == 1:
            starts = frag.out_indptr[:-1]
            sums = np.add.reduceat(np.append(state.value[frag.out_nbrs], 0), starts)
            state.sum = np.where(np.diff(frag.out_indptr) > 0, sums, 0)

    def output(self, frag, state):
        return {"r": state.sum}


class MirrorEcho(App):
    """send_to_mirrors + a global reduce: mirrors count the messages they got."""

    def init(self, frag):
        return State(got=0)

    def peval(self, frag, state, messages):
        lids = np.arange(frag.ivnum, dtype=np.int64)
        messages.send_to_mirrors(lids, frag.gids[lids])
        messages.force_continue()

    def inceval(self, frag, state, messages):
        if messages.round == 1:
            lids, values = messages.received_on_mirrors()
            assert np.array_equal(frag.gids[lids], values)
            assert (lids >= frag.ivnum).all()
            messages.reduce("mirrors", len(lids), "sum")
            messages.force_continue()
        elif messages.round == 2:
            state.total = messages.reduced("mirrors")

    def output(self, frag, state):
        return {"r": np.full(frag.ivnum, state.total, dtype=np.int64)}


@pytest.mark.parametrize("fnum", [1, 3])
@pytest.mark.parametrize("app", [InDegreeBySum, InDegreeByMessages])
def test_sum_sync_and_explicit_messages(fnum, app):
    g, ids, _src, dst = edges_graph(fnum)
    expect = {v: 0 for v in ids.tolist()}
    for d in dst.tolist():
        expect[d] += 1
    assert by_id(run_app(g, app())) == expect


@pytest.mark.parametrize("fnum", [1, 3])
def test_copy_sync(fnum):
    g, ids, src, dst = edges_graph(fnum)
    ctx = run_app(g, NeighborIdSum())
    gid_of = dict(zip(ctx.to_numpy("v.id").tolist(), ctx.gids.tolist()))
    expect = {v: 0 for v in ids.tolist()}
    for s, d in zip(src.tolist(), dst.tolist()):
        expect[s] += gid_of[d] + 1
    assert by_id(ctx) == expect


@pytest.mark.parametrize("fnum", [1, 3])
def test_mirror_messages_and_reduce(fnum):
    g, *_ = edges_graph(fnum)
    expect = sum(len(f.outer_gids) for f in g.fragments)
    assert set(run_app(g, MirrorEcho()).to_numpy("r").tolist()) == {expect}


def test_example_app_runs_and_matches_networkx():
    spec = importlib.util.spec_from_file_location("custom_pie_app",
                                                  ROOT / "examples" / "custom_pie_app.py")
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    G = nx.MultiGraph(nx.gnm_random_graph(50, 120, seed=2))
    G.add_edges_from([(1, 1), (2, 3)])
    g = graphengine.session(num_fragments=3).g(G)
    assert by_id(example.max_neighbor_degree(g)) == example.reference(G)


# ---------------------------------------------------------------------------- inputs
def test_errors():
    g = graphengine.session(num_fragments=2).g().add_edges(
        {"src": [1, 2], "dst": [2, 3], "weight": [1.0, -0.5]})
    with pytest.raises(AnalyticsError, match="negative"):
        graphengine.sssp(g, 1)
    with pytest.raises(AnalyticsError, match="dist"):
        graphengine.sssp(g, 1, weight="dist")
    with pytest.raises(AnalyticsError, match="not in the graph"):
        graphengine.bfs(g, 42)
    with pytest.raises(AnalyticsError, match="executor"):
        graphengine.wcc(g, executor="spark")
    with pytest.raises(AnalyticsError, match="delta"):
        graphengine.pagerank(g, delta=2.0)


def test_property_graph_projection():
    from graphengine import datasets

    sess = graphengine.session(num_fragments=2)
    g = datasets.load_modern_graph(sess)
    with pytest.raises(AnalyticsError, match="not in the graph"):
        graphengine.bfs(g, 99)
    knows = g.project(vertices={"person": []}, edges={"knows": ["weight"]})
    ctx = graphengine.sssp(knows, 1)
    assert by_id(ctx) == {1: 0.0, 2: 0.5, 4: 1.0, 6: np.inf}
    whole = graphengine.sssp(g, ("person", 1))
    assert by_id(whole) == {1: 0.0, 2: 0.5, 4: 1.0, 6: np.inf, 3: 0.4, 5: 2.0}
    g2 = g.add_column(ctx, {"dist": "r"}, label="person")
    assert dict(zip(g2.vertex_table("person").column("id").to_pylist(),
                    g2.vertex_table("person").column("dist").to_pylist())) == by_id(ctx)


# ---------------------------------------------------------------------------- contexts
def test_context_selectors_and_output(tmp_path):
    sess = graphengine.session(num_fragments=3)
    g = sess.g().add_vertices({"id": [10, 20, 30, 40], "score": [1.0, 2.0, 3.0, 4.0]})
    g = g.add_edges({"src": [10, 20], "dst": [20, 30]})
    ctx = graphengine.bfs(g, 10)
    assert np.array_equal(ctx.gids, g.all_gids())
    df = ctx.to_dataframe({"id": "v.id", "depth": "r", "score": "v.score", "d": "v.data"})
    df = df.sort_values("id").reset_index(drop=True)
    big = np.iinfo(np.int64).max
    assert df["depth"].tolist() == [0, 1, 2, big]
    assert df["score"].tolist() == df["d"].tolist() == [1.0, 2.0, 3.0, 4.0]
    assert set(ctx.to_numpy("v.label")) == {"_"}
    assert ctx.to_numpy("r.r").tolist() == ctx.to_numpy("r").tolist()
    with pytest.raises(AnalyticsError):
        ctx.to_numpy("x.y")
    path = tmp_path / "bfs.csv"
    ctx.output(path)
    out = pd.read_csv(path).sort_values("id")
    assert out.columns.tolist() == ["id", "value"]
    assert out["value"].tolist() == [0, 1, 2, big]
    g2 = g.add_column(ctx, {"depth": "r"})
    assert g2.vertex_table("_").column("depth").to_pylist() == \
        [dict(zip(df["id"], df["depth"]))[i] for i in g2.vertex_table("_").column("id").to_pylist()]


# ---------------------------------------------------------------------------- scaling
def sbm_edges(seed: int = 5):
    """Four dense blocks with a few edges between them (a graph Fennel can cut well), plus
    two isolated vertices and a self loop; user ids shuffled."""
    rng = np.random.default_rng(seed)
    n = 120
    block = np.arange(n) // 30
    pairs = rng.integers(0, n, (1500, 2))
    keep = (block[pairs[:, 0]] == block[pairs[:, 1]]) | (rng.random(len(pairs)) < 0.05)
    pairs = np.vstack([pairs[keep], [[7, 7]]])
    ids = rng.permutation(n + 2) * 5 + 2
    return ids, ids[pairs[:, 0]], ids[pairs[:, 1]]


@pytest.mark.parametrize("directed", [True, False])
def test_apps_on_fennel_fragments_match_networkx(directed):
    ids, src, dst = sbm_edges()
    G = nx.MultiDiGraph() if directed else nx.MultiGraph()
    G.add_nodes_from(ids.tolist())
    G.add_edges_from(zip(src.tolist(), dst.tolist()))
    root = int(src[0])
    depth = nx.single_source_shortest_path_length(G, root)
    comps = nx.weakly_connected_components(G) if directed else nx.connected_components(G)
    comp_of = {v: min(c) for c in comps for v in c}
    results = {}
    for fnum in (1, 4):
        with graphengine.session(num_fragments=fnum, partitioner="fennel") as sess:
            g = sess.g(directed=directed).add_vertices({"id": ids}).add_edges(
                {"s": src, "d": dst})
        if fnum == 4:
            assert g.edge_cut() < 0.5  # hash cuts about 3/4
        bfs = by_id(graphengine.bfs(g, root))
        assert {v: d for v, d in bfs.items() if d < np.iinfo(np.int64).max} == depth
        wcc = graphengine.wcc(g)
        labels = by_id(wcc)
        uid_of = dict(zip(wcc.gids.tolist(), wcc.to_numpy("v.id").tolist()))
        # component ids are global ids: the same partition of the vertices as networkx's
        members: dict = {}
        for v, c in labels.items():
            members.setdefault(c, set()).add(v)
        assert {v: min(members[c]) for v, c in labels.items()} == comp_of
        assert all(uid_of[c] in members[c] for c in members)
        results[fnum] = by_id(graphengine.pagerank(g, 0.85, 20))
    assert results[1].keys() == results[4].keys()
    assert np.allclose([results[4][v] for v in results[1]], list(results[1].values()),
                       rtol=1e-12, atol=1e-15)


def test_bytes_between_fragments_are_counted():
    g, ids, src, dst = edges_graph(3)
    ctx = run_app(g, InDegreeBySum())
    rounds = ctx.stats["rounds"]
    assert ctx.stats["fragments"] == 3 and len(rounds) == 2
    # PEval ships one (int32 position, int64 count) pair per outer vertex an edge reaches
    gid = dict(zip(ctx.to_numpy("v.id").tolist(), ctx.gids.tolist()))
    owner = g.owner(np.asarray([gid[v] for v in ids.tolist()]))
    owner_of = dict(zip(ids.tolist(), owner.tolist()))
    reached = {(owner_of[s], d) for s, d in zip(src.tolist(), dst.tolist())
               if owner_of[s] != owner_of[d]}
    assert rounds[0]["sent"] == len(reached)
    assert rounds[0]["nbytes"] == 12 * len(reached)
    assert rounds[1]["nbytes"] == 0
    one = run_app(edges_graph(1)[0], InDegreeBySum()).stats["rounds"]
    assert [r["nbytes"] for r in one] == [0]


class TrackedSum(InDegreeBySum):
    sync_tracked = ("count",)


def test_tracked_sync_needs_min_max_or_copy():
    with pytest.raises(AnalyticsError, match="sync_tracked"):
        run_app(edges_graph(2)[0], TrackedSum())


class _InWeightSum(App):
    """Each vertex's sum of its in-edges' weights (needs the weights along the in-lists)."""

    edge_properties = ("w",)

    def __init__(self, declare_in: bool):
        self.in_edge_properties = ("w",) if declare_in else ()

    def init(self, frag) -> State:
        return State(r=np.zeros(frag.ivnum))

    def peval(self, frag, state, messages) -> None:
        w = frag.in_edge_values("w")
        for v in range(frag.ivnum):
            state.r[v] = w[frag.in_indptr[v]:frag.in_indptr[v + 1]].sum()

    def inceval(self, frag, state, messages) -> None:
        pass

    def output(self, frag, state) -> dict:
        return {"r": state.r}


@pytest.mark.parametrize("fnum", [1, 3])
def test_in_edge_values_only_when_declared(fnum):
    src, dst = [1, 2, 3, 1], [2, 3, 1, 3]
    w = [0.5, 2.0, 4.0, 8.0]
    g = graphengine.session(num_fragments=fnum).g().add_edges({"src": src, "dst": dst, "w": w})
    with pytest.raises(AnalyticsError, match="in_edge_properties"):
        run_app(g, _InWeightSum(declare_in=False))
    ctx = run_app(g, _InWeightSum(declare_in=True))
    got = dict(zip(g.vertex_ids(ctx.gids), ctx.to_numpy("r").tolist()))
    assert got == {1: 4.0, 2: 0.5, 3: 10.0}


class ReachedBitmap(App):
    """PEval: every fragment ors the bits of its inner vertices' out-neighbors' gids into one
    bitmap; IncEval: the fragments read it back (an "or" reduction of uint8 arrays)."""

    def init(self, frag):
        return State(bits=None, size=(frag.id_space + 7) // 8)

    def peval(self, frag, state, messages):
        mine = np.zeros(state.size * 8, dtype=np.uint8)
        mine[frag.gids[frag.out_nbrs]] = 1
        messages.reduce("bits", np.packbits(mine), "or")
        messages.force_continue()

    def inceval(self, frag, state, messages):
        state.bits = messages.reduced("bits")

    def output(self, frag, state):
        bits = np.unpackbits(state.bits)
        return {"r": bits[frag.gids[:frag.ivnum]].astype(np.int64)}


@pytest.mark.parametrize("fnum", [1, 3])
def test_or_reduction_of_bitmaps(fnum):
    g, ids, _src, dst = edges_graph(fnum)
    ctx = run_app(g, ReachedBitmap())
    heads = set(dst.tolist())
    assert by_id(ctx) == {v: int(v in heads) for v in ids.tolist()}
    # each fragment ships its bitmap once (PEval); one fragment ships nothing
    size = (g.id_space + 7) // 8
    assert ctx.stats["rounds"][0]["nbytes"] == (fnum * size if fnum > 1 else 0)


class BadOr(ReachedBitmap):
    def peval(self, frag, state, messages):
        messages.reduce("bits", 3, "or")


def test_or_reduction_takes_uint8_arrays():
    with pytest.raises(ValueError, match="'or' takes a 1-D uint8"):
        run_app(edges_graph(2)[0], BadOr())


def test_fragment_steps_at_once_equal_one_after_another():
    # with two Numba threads the local executor runs the fragments' steps on two threads at
    # once (a Numba thread each); with one, one after the other: the same results, bit for bit
    import numba

    ids, src, dst, weight = random_edges(5, n=400, m=3000)
    g = build(ids, src, dst, weight, True, 4)
    root = int(src[0])
    apps = {"pagerank": lambda: graphengine.pagerank(g, max_round=8),
            "wcc": lambda: graphengine.wcc(g),
            "bfs": lambda: graphengine.bfs(g, root),
            "cdlp": lambda: graphengine.cdlp(g, max_round=5),
            "lcc": lambda: graphengine.lcc(g)}
    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("one Numba thread: the steps always run one after another")
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(2)
        at_once = {name: run().to_numpy("r") for name, run in apps.items()}
        numba.set_num_threads(1)
        in_turn = {name: run().to_numpy("r") for name, run in apps.items()}
    finally:
        numba.set_num_threads(before)
    for name in apps:
        assert np.array_equal(at_once[name], in_turn[name]), name


class FailsOnFragmentTwo(App):
    def init(self, frag):
        return State()

    def peval(self, frag, state, messages):
        if frag.fid == 2:
            raise ValueError("fragment 2 failed")
        messages.force_continue()

    def inceval(self, frag, state, messages):
        pass

    def output(self, frag, state):
        return {"r": np.zeros(frag.ivnum)}


def test_a_failing_fragment_step_fails_the_run():
    g = build(*random_edges(1), True, 4)
    with pytest.raises(ValueError, match="fragment 2 failed"):
        run_app(g, FailsOnFragmentTwo())
