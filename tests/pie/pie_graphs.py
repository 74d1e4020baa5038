"""Generated test graphs for the PIE tests: edge lists with their graphs."""

from __future__ import annotations

import numpy as np

import graphengine


def random_edges(seed: int, n: int = 60, m: int = 200, isolated: int = 5):
    """User ids (shuffled, sparse), edges with self loops and parallel edges, float weights."""
    rng = np.random.default_rng(seed)
    ids = rng.permutation(n + isolated) * 7 + 3
    src = ids[rng.integers(0, n, m)]
    dst = ids[rng.integers(0, n, m)]
    # a few guaranteed self loops and parallel edges
    src = np.concatenate([src, ids[:3], src[:4]])
    dst = np.concatenate([dst, ids[:3], dst[:4]])
    weight = rng.uniform(0.1, 2.0, len(src)).round(3)
    return ids.astype(np.int64), src.astype(np.int64), dst.astype(np.int64), weight


def build(ids, src, dst, weight, directed: bool, fnum: int) -> graphengine.Graph:
    sess = graphengine.session(num_fragments=fnum)
    g = sess.g(directed=directed).add_vertices({"id": ids})
    return g.add_edges({"src": src, "dst": dst, "weight": weight}, label="e")
