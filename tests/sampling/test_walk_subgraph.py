"""Random walks (uniform, node2vec) and induced subgraphs."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
from sampling_graphs import build
from scipy import stats
from torch_geometric.utils import subgraph

from graphengine.errors import SamplingError
from graphengine.sampling import induced_subgraph, random_walk


def adjacency_sets(ref):
    out = [set() for _ in range(len(ref.uid))]
    for s, d in zip(ref.src, ref.dst):
        out[s].add(d)
        if not ref.directed:
            out[d].add(s)
    return out


@pytest.mark.parametrize("pq", [(1.0, 1.0), (0.5, 2.0)])
def test_walks_follow_edges(rmat_undirected, pq):
    ref = rmat_undirected
    adj = adjacency_sets(ref)
    starts = np.arange(0, 512, 3)
    walks = random_walk(ref.g, starts, 8, p=pq[0], q=pq[1], seed=1).numpy()
    assert walks.shape == (len(starts), 9) and (walks[:, 0] == starts).all()
    for w in walks:
        for a, b in itertools.pairwise(w):
            assert b in adj[a] or (not adj[a] and a == b)
    again = random_walk(ref.g, starts, 8, p=pq[0], q=pq[1], seed=1).numpy()
    assert (walks == again).all()


def test_walks_fragments_and_sinks(er, er3):
    """A walk at a vertex without out-edges stays there; 3 fragments give the same walks."""
    sinks = np.flatnonzero(np.bincount(er.src, minlength=300) == 0)
    starts = np.concatenate([sinks[:2], np.arange(10)])
    a = random_walk(er.g, starts, 6, seed=3).numpy()
    b = random_walk(er3.g, er3.gids(starts), 6, seed=3).numpy()
    assert (er3.uid[b] == a).all()
    assert (a[:len(sinks[:2])] == sinks[:2, None]).all()


def test_node2vec_transition_probabilities():
    """From t to v, v's neighbors t (returns), a (a neighbor of t) and b weigh 1/p, 1, 1/q."""
    t, v, a, b = 0, 1, 2, 3
    g = build([t, v, v, t], [v, a, b, a], 4, directed=False)
    p, q = 2.0, 0.25
    walks = random_walk(g, np.zeros(20000, dtype=np.int64), 2, p=p, q=q, seed=5).numpy()
    via_v = walks[walks[:, 1] == v]
    observed = np.bincount(via_v[:, 2], minlength=4)[[t, a, b]]
    expected = np.array([1 / p, 1.0, 1 / q])
    expected = expected / expected.sum() * observed.sum()
    assert stats.chisquare(observed, expected).pvalue > 1e-4
    uniform = random_walk(g, np.zeros(20000, dtype=np.int64), 2, seed=5).numpy()
    counts = np.bincount(uniform[uniform[:, 1] == v][:, 2], minlength=4)[[t, a, b]]
    assert stats.chisquare(counts).pvalue > 1e-4


def test_node2vec_bias_direction(rmat_undirected):
    """A small p returns more often; a small q moves away from the previous vertex more."""
    ref = rmat_undirected
    adj = adjacency_sets(ref)
    starts = np.repeat(np.arange(512), 4)

    def rates(p, q):
        w = random_walk(ref.g, starts, 10, p=p, q=q, seed=2).numpy()
        prev, mid, nxt = w[:, :-2].ravel(), w[:, 1:-1].ravel(), w[:, 2:].ravel()
        choice = np.array([len(adj[m]) >= 3 for m in mid])  # steps with a real choice
        prev, nxt = prev[choice], nxt[choice]
        back = (prev == nxt).mean()
        near = np.mean([n in adj[pv] for pv, n in zip(prev, nxt)])
        return back, near

    back_lo_p, _ = rates(0.2, 1.0)
    back_hi_p, _ = rates(5.0, 1.0)
    assert back_lo_p > 3 * back_hi_p
    _, near_hi_q = rates(1.0, 5.0)
    _, near_lo_q = rates(1.0, 0.2)
    assert near_hi_q > near_lo_q


def test_walk_bad_input(er):
    with pytest.raises(SamplingError):
        random_walk(er.g, [0], -1)
    with pytest.raises(SamplingError, match="p and q"):
        random_walk(er.g, [0], 3, p=0)
    with pytest.raises(SamplingError, match="300"):
        random_walk(er.g, [300], 3)


@pytest.mark.parametrize("directed", [True, False])
def test_induced_subgraph_matches_pyg(er, rmat_undirected, directed):
    ref = er if directed else rmat_undirected
    rng = np.random.default_rng(0)
    nodes = rng.choice(len(ref.uid), size=len(ref.uid) // 3, replace=False)
    out = induced_subgraph(ref.g, nodes)
    edge_index = torch.from_numpy(np.stack([ref.src, ref.dst]))
    eid = torch.arange(len(ref.src))
    if not directed:  # the store holds both orientations of an edge (a self loop twice)
        edge_index = torch.cat([edge_index, edge_index.flip(0)], 1)
        eid = torch.cat([eid, eid])
        order = torch.argsort(eid, stable=True)
        edge_index, eid = edge_index[:, order], eid[order]
    sub, _, mask = subgraph(torch.from_numpy(nodes), edge_index, relabel_nodes=True,
                            num_nodes=len(ref.uid), return_edge_mask=True)
    assert torch.equal(out.node, torch.from_numpy(nodes))
    assert torch.equal(out.edge, eid[mask])
    if directed:
        assert torch.equal(torch.stack([out.row, out.col]), sub)
    else:  # both orientations per edge id: compare as sets per edge
        got = sorted(zip(out.edge.tolist(), out.row.tolist(), out.col.tolist()))
        want = sorted(zip(eid[mask].tolist(), sub[0].tolist(), sub[1].tolist()))
        assert got == want
    ref.check_edges(out)


def test_induced_subgraph_fragments(er, er3):
    nodes = np.arange(0, 300, 2)
    a = induced_subgraph(er.g, nodes)
    b = induced_subgraph(er3.g, er3.gids(nodes))
    er3.check_edges(b)
    pairs = {(int(s), int(d)) for s, d in zip(a.row, a.col)}
    assert pairs == {(int(s), int(d)) for s, d in zip(b.row, b.col)}
