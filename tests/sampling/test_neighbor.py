"""Homogeneous neighbor sampling: validity, fanouts, distributions, reproducibility."""

from __future__ import annotations

import itertools
import math

import numba
import numpy as np
import pytest
import torch
from sampling_graphs import build
from scipy import stats

from graphengine.errors import SamplingError, SchemaError
from graphengine.sampling import kernels, sample_neighbors

ALPHA = 1e-4  # generous: a wrong distribution fails by far more


def degrees(ref, direction):
    ends = ref.dst if direction == "in" else ref.src
    deg = np.bincount(ends, minlength=len(ref.uid))
    if not ref.directed:
        deg += np.bincount(ref.src if direction == "in" else ref.dst, minlength=len(ref.uid))
    return deg


def check_structure(ref, out, seeds, fanouts, replace, direction="in"):
    """Seeds first, each later node once, per-hop counts, fanouts, edges exist."""
    node = out.node.numpy()
    n0 = len(seeds)
    assert (node[:n0] == seeds).all()
    assert len(np.unique(node[n0:])) == len(node) - n0
    assert not np.isin(node[n0:], seeds).any()
    assert sum(out.num_sampled_nodes) == len(node)
    assert out.num_sampled_nodes[0] == n0
    assert len(out.num_sampled_edges) == len(fanouts)
    assert sum(out.num_sampled_edges) == len(out.row) == len(out.col) == len(out.edge)
    assert out.batch is None
    ref.check_edges(out, direction)
    # each node of hop k picks from hop k's frontier: its count is the fanout rule
    deg = degrees(ref, direction)
    picker = (out.col if direction == "in" else out.row).numpy()
    starts = np.cumsum([0] + out.num_sampled_nodes)
    e0 = 0
    for hop, fanout in enumerate(fanouts):
        e1 = e0 + out.num_sampled_edges[hop]
        frontier = np.arange(starts[hop], starts[hop + 1])
        got = np.bincount(picker[e0:e1] - starts[hop], minlength=len(frontier))
        d = deg[ref.uid[node[frontier]]]
        if fanout < 0:
            want = d
        elif replace:
            want = np.where(d > 0, fanout, 0)
        else:
            want = np.minimum(d, fanout)
        assert (got == want).all(), f"hop {hop}"
        if not replace:  # no edge picked twice by one node
            pairs = picker[e0:e1] * (out.edge.max().item() + 1) + out.edge.numpy()[e0:e1]
            assert len(np.unique(pairs)) == len(pairs)
        e0 = e1


@pytest.mark.parametrize("replace", [False, True])
@pytest.mark.parametrize("direction", ["in", "out"])
def test_valid_sample(er, replace, direction):
    seeds = np.array([5, 17, 3, 250, 99])
    fanouts = [4, 3, -1] if not replace else [4, 3, 2]
    out = sample_neighbors(er.g, seeds, fanouts, replace=replace, direction=direction, seed=1)
    check_structure(er, out, seeds, fanouts, replace, direction)


def test_large_fanout_and_undirected(rmat_undirected):
    ref = rmat_undirected
    deg = degrees(ref, "in")
    hubs = np.argsort(-deg)[:3]
    assert deg[hubs].min() > 40  # exercises Floyd's hashed path (fanout > 32)
    fanouts = [40, 2]
    out = sample_neighbors(ref.g, ref.gids(hubs), fanouts, seed=2)
    check_structure(ref, out, hubs, fanouts, False)


def test_tensor_seeds_and_no_hops(er):
    out = sample_neighbors(er.g, torch.tensor([1, 2]), [], seed=0)
    assert out.node.tolist() == [1, 2] and out.num_sampled_nodes == [2]
    assert len(out.row) == 0 and out.num_sampled_edges == []


def test_repeated_seed_keeps_its_places(er):
    out = sample_neighbors(er.g, [7, 7, 8], [2], seed=0)
    assert out.node[:3].tolist() == [7, 7, 8]
    assert set(out.col.tolist()) <= {0, 1, 2}


def test_same_seed_same_sample(er):
    a = sample_neighbors(er.g, np.arange(20), [5, 5], seed=11)
    b = sample_neighbors(er.g, np.arange(20), [5, 5], seed=11)
    c = sample_neighbors(er.g, np.arange(20), [5, 5], seed=12)
    for k in ("node", "row", "col", "edge"):
        assert torch.equal(getattr(a, k), getattr(b, k))
    assert not torch.equal(a.edge, c.edge)


@pytest.mark.parametrize("weight", [None, "w"])
def test_thread_count_does_not_change_the_sample(monkeypatch, weight):
    """Serial kernels, and parallel ones on 1 and on all threads: one sample."""
    rng = np.random.default_rng(0)
    g = build(rng.integers(0, 200, 4000), rng.integers(0, 200, 4000), 200,
              weight=rng.random(4000))
    seeds = np.arange(0, 200, 3)
    outs = [sample_neighbors(g, seeds, [6, 4], weight=weight, seed=5)]
    monkeypatch.setattr(kernels, "PARALLEL_MIN_WORK", 0)
    before = numba.get_num_threads()
    try:
        for threads in sorted({1, numba.config.NUMBA_NUM_THREADS}):
            numba.set_num_threads(threads)
            outs.append(sample_neighbors(g, seeds, [6, 4], weight=weight, seed=5))
    finally:
        numba.set_num_threads(before)
    for out in outs[1:]:
        for k in ("node", "row", "col", "edge"):
            assert torch.equal(getattr(outs[0], k), getattr(out, k))


def _in_user_ids(ref, out):
    node = ref.uid[out.node.numpy()]
    return node, node[out.row.numpy()], node[out.col.numpy()]


@pytest.mark.parametrize("direction", ["in", "out"])
def test_fragments_valid(er3, direction):
    seeds = er3.gids([5, 17, 3, 250])
    out = sample_neighbors(er3.g, seeds, [4, 3], direction=direction, seed=1)
    check_structure(er3, out, seeds, [4, 3], False, direction)


def test_fragments_same_sample_along_out_edges(er, er3):
    """Out-edge rows keep the input order whatever the partitioning: the same sample."""
    uids = np.array([5, 17, 3, 250, 0])
    a = sample_neighbors(er.g, er.gids(uids), [4, 3], direction="out", seed=9)
    b = sample_neighbors(er3.g, er3.gids(uids), [4, 3], direction="out", seed=9)
    for x, y in zip(_in_user_ids(er, a), _in_user_ids(er3, b)):
        assert (x == y).all()


def test_fragments_same_sample_undirected(rmat_undirected, rmat_undirected3):
    ref1, ref3 = rmat_undirected, rmat_undirected3
    uids = np.arange(0, 512, 7)
    a = sample_neighbors(ref1.g, ref1.gids(uids), [5, 3], seed=4)
    b = sample_neighbors(ref3.g, ref3.gids(uids), [5, 3], seed=4)
    for x, y in zip(_in_user_ids(ref1, a), _in_user_ids(ref3, b)):
        assert (x == y).all()


# ---------------------------------------------------------------------------- distributions

STAR_WEIGHTS = np.array([1.0, 2.0, 3.0, 4.0, 0.0, 5.0])


@pytest.fixture(scope="module")
def star():
    """Six in-edges 1..6 -> 0, weights STAR_WEIGHTS (edge 4, from vertex 5, weighs 0)."""
    return build(np.arange(1, 7), np.zeros(6), 7, weight=STAR_WEIGHTS)


def _subsets(star, trials, k, seed, **kw):
    """One hop from vertex 0 repeated ``trials`` times (repeated seeds draw independently):
    the picked edge ids of each trial."""
    out = sample_neighbors(star, np.zeros(trials, dtype=np.int64), [k], seed=seed, **kw)
    col, edge = out.col.numpy(), out.edge.numpy()
    order = np.lexsort((edge, col))
    return edge[order].reshape(trials, -1)


def _chi2(observed, expected):
    return stats.chisquare(observed, expected * observed.sum() / expected.sum()).pvalue


def test_uniform_without_replacement_is_a_uniform_subset(star):
    picks = _subsets(star, 6000, 2, seed=1)
    assert (picks[:, 0] < picks[:, 1]).all()  # distinct
    pairs = list(itertools.combinations(range(6), 2))
    index = {p: i for i, p in enumerate(pairs)}
    observed = np.bincount([index[tuple(p)] for p in picks], minlength=len(pairs))
    assert _chi2(observed, np.ones(len(pairs))) > ALPHA


def test_uniform_with_replacement(star):
    picks = _subsets(star, 4000, 3, seed=2, replace=True)
    assert _chi2(np.bincount(picks.ravel(), minlength=6), np.ones(6)) > ALPHA


def test_weighted_with_replacement(star):
    picks = _subsets(star, 4000, 3, seed=3, replace=True, weight="w")
    observed = np.bincount(picks.ravel(), minlength=6)
    assert observed[4] == 0  # weight 0: never
    keep = STAR_WEIGHTS > 0
    assert _chi2(observed[keep], STAR_WEIGHTS[keep]) > ALPHA


def test_weighted_without_replacement_follows_successive_draws(star):
    """Efraimidis-Spirakis: the pair {i, j} has the probability of drawing i then j or j then
    i, each draw proportional to the remaining weights."""
    picks = _subsets(star, 6000, 2, seed=4, weight="w")
    assert (picks[:, 0] != picks[:, 1]).all() and not (picks == 4).any()
    w = STAR_WEIGHTS
    total = w.sum()
    pairs = [p for p in itertools.combinations(range(6), 2) if 4 not in p]
    expected = np.array([w[i] / total * w[j] / (total - w[i]) + w[j] / total * w[i] / (total - w[j])
                         for i, j in pairs])
    index = {p: k for k, p in enumerate(pairs)}
    observed = np.bincount([index[tuple(p)] for p in picks], minlength=len(pairs))
    assert math.isclose(expected.sum(), 1.0)
    assert _chi2(observed, expected) > ALPHA


def test_weighted_takes_only_positive_weights(star):
    out = sample_neighbors(star, [0], [10], weight="w", seed=0)
    assert sorted(out.edge.tolist()) == [0, 1, 2, 3, 5]
    out = sample_neighbors(star, [0], [-1], weight="w", seed=0)
    assert sorted(out.edge.tolist()) == [0, 1, 2, 3, 4, 5]


def test_large_fanout_marginals(rmat_undirected):
    """Fanouts above 32 (Floyd's algorithm with a hash set): each neighbor entry of a row is
    picked with probability fanout / degree."""
    ref = rmat_undirected
    deg = degrees(ref, "in")
    hub = int(np.argmax(deg))
    trials, k = 600, 36
    out = sample_neighbors(ref.g, np.full(trials, ref.gids([hub])[0]), [k], seed=7)
    # entries of the hub's row: edge ids (a self loop appears twice, under one id)
    counts = np.bincount(out.edge.numpy())
    row_eids = np.flatnonzero((ref.src == hub) | (ref.dst == hub))
    mult = ((ref.src[row_eids] == hub).astype(int) + (ref.dst[row_eids] == hub))
    expected = trials * k / deg[hub] * mult
    assert _chi2(counts[row_eids], expected) > ALPHA


# ---------------------------------------------------------------------------- errors


def test_bad_input(er, star):
    g = er.g
    with pytest.raises(SamplingError, match="300"):
        sample_neighbors(g, [0, 300], [2])
    with pytest.raises(SamplingError):
        sample_neighbors(g, [-1], [2])
    with pytest.raises(SamplingError, match=">= -1"):
        sample_neighbors(g, [0], [2, -3])
    with pytest.raises(SamplingError, match="direction"):
        sample_neighbors(g, [0], [2], direction="both")
    with pytest.raises(SchemaError, match="nope"):
        sample_neighbors(g, [0], [2], edge_labels=["nope"])
    with pytest.raises(SchemaError, match="w"):
        sample_neighbors(g, [0], [2], weight="w")  # er has no edge property
    with pytest.raises(SchemaError, match="zz"):
        sample_neighbors(star, [0], [2], weight="zz")
    with pytest.raises(SamplingError, match="heterogeneous"):
        sample_neighbors(g, [0], {("_", "_e", "_"): [2]})
