"""Gremlin benchmark: graphengine's Gremlin engine against numpy and networkx on the same graph.

    NUMBA_CACHE_DIR=.numba_cache python bench/gremlin.py --scale 18 --queries 1000

The graph: ``graphengine.datasets.rmat_edges(scale, 16)`` (Graph500 R-MAT, seed 0, a directed
multigraph with self loops, all ``2**scale`` vertices), one vertex label ``person`` with an
int property ``age`` (uniform in [0, 100), seed 2) and a string property ``name``
(``"p<id>"``), one edge label ``knows``, 1 fragment (``--fragments``).

Per-vertex queries, from ``--queries`` random start vertices (seed 3), each answer checked
against numpy's and networkx's:

- 1-hop count  ``g.V(v).out().count()``
- 2-hop count  ``g.V(v).out().out().count()``
- has-filter   ``g.V(v).out().has('age', gt(50)).count()``
- path         ``g.V(v).out().out().limit(20).path()`` (the number of paths is checked)
- groupCount   ``g.V(v).out().groupCount().by('age')``

p50 / p99 latency for graphengine (``Gremlin.execute``, text parsed each time), numpy (CSR
slices and fancy indexing) and networkx (a ``DiGraph`` whose edges carry their multiplicity).

Whole-graph traversals, best of ``--repeat`` (the first call is printed too: it builds the
per-version caches, e.g. a predicate's vertex mask): ``g.V().out().out().count()``,
``g.V().has('age', gt(50)).count()``, ``g.V().groupCount().by('age')``, against numpy
(bincounts over the edge arrays) and networkx (loops over nodes).

Targets (issue 10): 2-hop count p50 under 1 ms; whole-graph traversals within 3x numpy.
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np
import pyarrow as pa

import graphengine
from graphengine.datasets import rmat_edges
from graphengine.query import Gremlin


def build(scale: int, fragments: int):
    src, dst = rmat_edges(scale, 16, seed=0)
    n = 1 << scale
    age = np.random.default_rng(2).integers(0, 100, n).astype(np.int64)
    names = pa.array([f"p{i}" for i in range(n)])
    sess = graphengine.session(num_fragments=fragments)
    g = sess.g()
    g = g.add_vertices(pa.table({"id": np.arange(n, dtype=np.int64), "age": age, "name": names}),
                       label="person", vid_field="id")
    g = g.add_edges(pa.table({"src": src, "dst": dst}), label="knows")
    return g, src, dst, age


def pct(xs: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(xs) * 1e3, q))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scale", type=int, default=18)
    ap.add_argument("--queries", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--fragments", type=int, default=1)
    ap.add_argument("--no-networkx", action="store_true", help="skip the networkx peer")
    args = ap.parse_args()

    t0 = time.perf_counter()
    g, src, dst, age = build(args.scale, args.fragments)
    n = 1 << args.scale
    print(f"# R-MAT scale {args.scale}: {n} vertices, {len(src)} edges, {args.fragments} fragment(s);"
          f" built in {time.perf_counter() - t0:.1f} s; {platform.processor() or platform.machine()},"
          f" {os.cpu_count()} cpus")

    # numpy reference structures: CSR by source
    order = np.argsort(src, kind="stable")
    nbrs = dst[order]
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(src, minlength=n), out=indptr[1:])
    outdeg = np.diff(indptr)

    G = None
    if not args.no_networkx:
        import networkx as nx

        t0 = time.perf_counter()
        pairs, mult = np.unique(src * n + dst, return_counts=True)
        G = nx.DiGraph()
        G.add_nodes_from(range(n))
        for v, a in enumerate(age.tolist()):
            G.nodes[v]["age"] = a
        G.add_weighted_edges_from(zip((pairs // n).tolist(), (pairs % n).tolist(), mult.tolist()),
                                  weight="m")
        print(f"# networkx DiGraph built in {time.perf_counter() - t0:.1f} s")

    q = Gremlin(g)
    q.execute("g.V(0).out().out().count()").all()      # compile the kernels once
    q.execute("g.V(0).out().out().limit(20).path()").all()
    rng = np.random.default_rng(3)
    starts = rng.integers(0, n, args.queries).tolist()

    def np_1hop(v):
        return int(outdeg[v])

    def np_2hop(v):
        return int(outdeg[nbrs[indptr[v]:indptr[v + 1]]].sum())

    def np_has(v):
        return int((age[nbrs[indptr[v]:indptr[v + 1]]] > 50).sum())

    def np_paths(v):
        total = 0
        for w in nbrs[indptr[v]:indptr[v + 1]]:
            total += outdeg[w]
            if total >= 20:
                return 20
        return int(total)

    def np_group(v):
        vals, counts = np.unique(age[nbrs[indptr[v]:indptr[v + 1]]], return_counts=True)
        return dict(zip(vals.tolist(), counts.tolist()))

    def nx_1hop(v):
        return int(G.out_degree(v, weight="m"))

    def nx_2hop(v):
        return int(sum(m * G.out_degree(w, weight="m") for _, w, m in G.out_edges(v, data="m")))

    def nx_has(v):
        return int(sum(m for _, w, m in G.out_edges(v, data="m") if G.nodes[w]["age"] > 50))

    def nx_paths(v):
        total = 0
        for _, w, m in G.out_edges(v, data="m"):
            total += m * G.out_degree(w, weight="m")
            if total >= 20:
                return 20
        return int(total)

    def nx_group(v):
        out: dict = {}
        for _, w, m in G.out_edges(v, data="m"):
            a = G.nodes[w]["age"]
            out[a] = out.get(a, 0) + m
        return out

    queries = [
        ("1-hop count", "g.V(vid).out().count()", lambda r: r[0], np_1hop, nx_1hop),
        ("2-hop count", "g.V(vid).out().out().count()", lambda r: r[0], np_2hop, nx_2hop),
        ("has-filter", "g.V(vid).out().has('age', gt(50)).count()", lambda r: r[0], np_has, nx_has),
        ("path", "g.V(vid).out().out().limit(20).path()", len, np_paths, nx_paths),
        ("groupCount", "g.V(vid).out().groupCount().by('age')", lambda r: r[0] if r else {},
         np_group, nx_group),
    ]
    print("\n## Per-vertex queries (latency in ms over", args.queries, "start vertices)")
    print(f"{'query':<13} {'ge p50':>8} {'ge p99':>8} {'np p50':>8} {'np p99':>8} {'nx p50':>8}"
          f" {'nx p99':>8} {'ge/np p50':>10} {'ge/nx p50':>10}  answers")
    for name, text, pick, np_fn, nx_fn in queries:
        ge_t, np_t, nx_t = [], [], []
        bad = 0
        for v in starts:
            t0 = time.perf_counter()
            res = q.execute(text, {"vid": v}).all()
            ge_t.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            want = np_fn(v)
            np_t.append(time.perf_counter() - t0)
            got = pick(res)
            if G is not None:
                t0 = time.perf_counter()
                want_nx = nx_fn(v)
                nx_t.append(time.perf_counter() - t0)
                bad += want_nx != want
            bad += got != want
        nx50 = f"{pct(nx_t, 50):8.3f}" if nx_t else f"{'-':>8}"
        nx99 = f"{pct(nx_t, 99):8.3f}" if nx_t else f"{'-':>8}"
        ratio_nx = f"{pct(ge_t, 50) / pct(nx_t, 50):10.2f}" if nx_t else f"{'-':>10}"
        print(f"{name:<13} {pct(ge_t, 50):8.3f} {pct(ge_t, 99):8.3f} {pct(np_t, 50):8.3f}"
              f" {pct(np_t, 99):8.3f} {nx50} {nx99} {pct(ge_t, 50) / pct(np_t, 50):10.2f}"
              f" {ratio_nx}  {'all equal' if not bad else f'{bad} DIFFER'}")

    def best(fn):
        out, ts = None, []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            out = fn()
            ts.append(time.perf_counter() - t0)
        return out, min(ts), ts[0]

    def np_whole_2hop():
        indeg = np.bincount(dst, minlength=n)
        return int((indeg * outdeg).sum())

    def np_whole_group():
        vals, counts = np.unique(age, return_counts=True)
        return dict(zip(vals.tolist(), counts.tolist()))

    def nx_whole_2hop():
        return int(sum(G.in_degree(v, weight="m") * G.out_degree(v, weight="m") for v in G))

    def nx_whole_group():
        out: dict = {}
        for _, a in G.nodes(data="age"):
            out[a] = out.get(a, 0) + 1
        return out

    whole = [
        ("g.V().out().out().count()", lambda r: r[0], np_whole_2hop, nx_whole_2hop),
        ("g.V().has('age', gt(50)).count()", lambda r: r[0], lambda: int((age > 50).sum()),
         lambda: sum(1 for _, a in G.nodes(data="age") if a > 50)),
        ("g.V().groupCount().by('age')", lambda r: r[0], np_whole_group, nx_whole_group),
    ]
    print(f"\n## Whole-graph traversals (best of {args.repeat}, seconds)")
    print(f"{'traversal':<36} {'graphengine':>12} {'(1st call)':>10} {'numpy':>9} {'networkx':>9}"
          f" {'ge/np':>7} {'ge/nx':>7}  answers")
    for text, pick, np_fn, nx_fn in whole:
        res, ge_s, ge_first = best(lambda text=text: q.execute(text).all())
        want, np_s, _ = best(np_fn)
        ok = pick(res) == want
        nx_s = None
        if G is not None:
            want_nx, nx_s, _ = best(nx_fn)
            ok = ok and want_nx == want
        nxs = f"{nx_s:9.4f}" if nx_s is not None else f"{'-':>9}"
        rnx = f"{ge_s / nx_s:7.3f}" if nx_s is not None else f"{'-':>7}"
        print(f"{text:<36} {ge_s:12.4f} {ge_first:10.4f} {np_s:9.4f} {nxs} {ge_s / np_s:7.2f} {rnx}"
              f"  {'equal' if ok else 'DIFFER'}")


if __name__ == "__main__":
    main()
