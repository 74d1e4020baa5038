"""The frontier BFS (top-down and bottom-up levels) and the union-find WCC on R-MAT graphs
against scipy, on 1 and 3 fragments, directed and undirected."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
import scipy.sparse as sp
from scipy.sparse import csgraph

import graphengine
from graphengine import datasets
from graphengine.pie.algorithms import _frontier
from graphengine.pie.algorithms.bfs import UNREACHABLE

SCALE = 11


@pytest.fixture(scope="module", params=[(True, 1), (True, 3), (False, 1), (False, 3)],
                ids=lambda p: f"{'dir' if p[0] else 'undir'}-{p[1]}f")
def rmat(request):
    directed, fnum = request.param
    n = 1 << SCALE
    src, dst = datasets.rmat_edges(SCALE, 8, seed=3)
    g = graphengine.session(num_fragments=fnum).g(directed=directed)
    g = g.add_vertices(pa.table({"id": np.arange(n, dtype=np.int64)}), label="_")
    g = g.add_edges(pa.table({"src": src, "dst": dst}), label="_e")
    adj = sp.csr_matrix((np.ones(len(src)), (src, dst)), shape=(n, n))
    return g, adj, int(src[0]), directed


def by_id(ctx, n):
    out = np.empty(n, dtype=ctx.to_numpy("r").dtype)
    out[np.asarray(ctx.to_numpy("v.id"))] = ctx.to_numpy("r")
    return out


@pytest.mark.parametrize("mode", ["auto", "top-down", "bottom-up"])
def test_bfs_levels_match_scipy(rmat, mode, monkeypatch):
    g, adj, root, directed = rmat
    if mode == "top-down":
        monkeypatch.setattr(_frontier, "BOTTOM_UP_EDGE_SHARE", np.inf)
    elif mode == "bottom-up":
        monkeypatch.setattr(_frontier, "BOTTOM_UP_EDGE_SHARE", 0.0)
        monkeypatch.setattr(_frontier, "TOP_DOWN_VERTEX_SHARE", 0.0)
    got = by_id(graphengine.bfs(g, root), adj.shape[0])
    ref = csgraph.shortest_path(adj, directed=directed, unweighted=True, indices=root)
    reached = np.isfinite(ref)
    assert np.array_equal(got != UNREACHABLE, reached)
    assert np.array_equal(got[reached], ref[reached].astype(np.int64))


def test_bfs_levels_seeds_at_several_depths():
    # path 0 -> 1 -> 2 -> 3 -> 4 and 5 -> 3; seeds 0 (depth 0) and 5 (depth 1)
    indptr = np.array([0, 1, 2, 3, 4, 4, 5], dtype=np.int64)
    nbrs = np.array([1, 2, 3, 4, 3], dtype=np.int64)
    in_indptr = np.array([0, 0, 1, 2, 4, 5, 5], dtype=np.int64)
    in_nbrs = np.array([0, 1, 2, 5, 3], dtype=np.int64)
    depth = np.full(6, UNREACHABLE, dtype=np.int64)
    depth[0], depth[5] = 0, 1
    _frontier.bfs_levels(indptr, nbrs, in_indptr, in_nbrs, depth, np.array([5, 0]), 6)
    assert depth.tolist() == [0, 1, 2, 2, 3, 1]


def test_wcc_partition_matches_scipy(rmat):
    g, adj, _, _ = rmat
    got = by_id(graphengine.wcc(g), adj.shape[0])
    _, ref = csgraph.connected_components(adj, directed=True, connection="weak")
    # same partition: the pairs (label, reference label) are a bijection
    pairs = np.unique(np.stack([got, ref]), axis=1)
    assert len(np.unique(pairs[0])) == len(np.unique(pairs[1])) == pairs.shape[1]
    # and each component carries the smallest global id in it
    gids = graphengine.wcc(g).gids
    labels = graphengine.wcc(g).to_numpy("r")
    smallest = {}
    for gid, lab in zip(gids.tolist(), labels.tolist()):
        smallest[lab] = min(smallest.get(lab, gid), gid)
    assert all(k == v for k, v in smallest.items())


@pytest.mark.parametrize("directed", [True, False])
@pytest.mark.parametrize("seed", range(4))
def test_sampled_components_match_scipy(directed, seed):
    """The union-find that skips the largest sampled set: components equal scipy's on graphs
    of several dense blocks, hubs reached only by in-edges, chains and isolated vertices."""
    from graphengine.pie.algorithms.wcc import sampled_components

    rng = np.random.default_rng(seed)
    n = 300
    blocks = rng.integers(0, 5, n)  # five dense blocks, joined by nothing
    src, dst = [], []
    for _ in range(1500):
        u, v = rng.integers(0, n, 2)
        if blocks[u] == blocks[v]:
            src.append(u)
            dst.append(v)
    src += list(range(250, 260)) + [260] * 5  # a chain into a hub's in-list, out-degree 0 hub
    dst += list(range(251, 261)) + [261, 262, 263, 264, 265]
    src, dst = np.array(src), np.array(dst)
    if not directed:
        src, dst = np.concatenate([src, dst]), np.concatenate([dst, src])

    def csr(a, b):
        order = np.argsort(a, kind="stable")
        indptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.bincount(a, minlength=n), out=indptr[1:])
        return indptr, b[order].astype(np.int64)

    out_ptr, out_nbrs = csr(src, dst)
    in_ptr, in_nbrs = csr(dst, src) if directed else (out_ptr, out_nbrs)
    root = sampled_components(out_ptr, out_nbrs, in_ptr, in_nbrs, directed, n)
    adj = sp.csr_matrix((np.ones(len(src)), (src, dst)), shape=(n, n))
    _, ref = csgraph.connected_components(adj, directed=True, connection="weak")
    pairs = np.unique(np.stack([root, ref]), axis=1)
    assert len(np.unique(pairs[0])) == len(np.unique(pairs[1])) == pairs.shape[1]
    assert all(root[v] == min(np.flatnonzero(ref == ref[v])) for v in range(n))


@pytest.mark.parametrize("mode", ["auto", "top-down", "bottom-up"])
def test_bfs_over_several_id_blocks_matches_networkx(mode, monkeypatch):
    # vertices added in three batches: every fragment holds several blocks of ids whose
    # starts are not multiples of 8 (the frontier bitmaps are read and written per block);
    # a hub, self loops and multi-edges
    if mode == "top-down":
        monkeypatch.setattr(_frontier, "BOTTOM_UP_EDGE_SHARE", np.inf)
    elif mode == "bottom-up":
        monkeypatch.setattr(_frontier, "BOTTOM_UP_EDGE_SHARE", 0.0)
        monkeypatch.setattr(_frontier, "TOP_DOWN_VERTEX_SHARE", 0.0)
    import networkx as nx

    rng = np.random.default_rng(8)
    n = 301
    src = rng.integers(0, n, 900)
    dst = rng.integers(0, n, 900)
    src = np.concatenate([src, np.zeros(60, np.int64), [5, 5, 7], [9, 9]])
    dst = np.concatenate([dst, rng.integers(0, n, 60), [5, 6, 7], [10, 10]])
    g = graphengine.session(num_fragments=3).g()
    for lo, hi in ((0, 13), (13, 150), (150, n)):
        g = g.add_vertices(pa.table({"id": np.arange(lo, hi, dtype=np.int64)}), label="_")
    g = g.add_edges(pa.table({"src": src, "dst": dst}), label="_e")
    assert max(len(np.asarray(f.inner_ranges).reshape(-1, 2)) for f in g.fragments) > 1
    ref = nx.MultiDiGraph()
    ref.add_nodes_from(range(n))
    ref.add_edges_from(zip(src.tolist(), dst.tolist()))
    for root in (0, 150, 300):
        expect = nx.single_source_shortest_path_length(ref, root)
        ctx = graphengine.bfs(g, root)
        got = by_id(ctx, n)
        assert got.tolist() == [expect.get(v, UNREACHABLE) for v in range(n)]
        # a round per level; the level that reaches nothing anywhere is the last round
        assert len(ctx.stats["rounds"]) == max(expect.values()) + 1


@pytest.mark.parametrize("outer", [True, False])
def test_pack_reached_matches_a_per_vertex_bitmap(outer):
    """The frontier bitmap of the flagged vertices, with inner ranges that start and end
    inside a word of flags (and one shorter than a word), against one bit set per vertex."""
    from types import SimpleNamespace

    rng = np.random.default_rng(5)
    counts = np.array([13, 5, 1000, 61], dtype=np.int64)
    starts = np.array([3, 40, 1101, 4000], dtype=np.int64)
    bases = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
    ivnum, ovnum = int(counts.sum()), 203
    gids = np.concatenate([np.concatenate([np.arange(s, s + c) for s, c in zip(starts, counts)]),
                           rng.choice(np.arange(5000, 8000), ovnum, replace=False)])
    view = SimpleNamespace(vnum=ivnum + ovnum, ivnum=ivnum, gids=gids,
                           inner_ranges=(starts, counts, bases))
    nbytes = _frontier.bitmap_bytes(8000)
    for density in (0.003, 0.3, 1.0):
        nxt = _frontier.flag_array(view.vnum)
        nxt[:view.vnum] = rng.random(view.vnum) < density
        if not outer:
            nxt[ivnum:] = False
        flagged = np.flatnonzero(nxt)
        want = np.zeros(8000, dtype=bool)
        want[gids[flagged]] = True
        bits, count = _frontier.pack_reached(nxt, view, nbytes, outer)
        assert count == len(flagged)
        np.testing.assert_array_equal(np.unpackbits(bits)[:8000], want)
        assert not nxt.any()  # cleared for the next level
