"""Benchmark of the built-in PIE apps other than the LDBC six, against the fastest peer that has
each app: NetworKit, igraph (and GraphScope 0.29 is not run here: see below).

    NUMBA_CACHE_DIR=.numba_cache python bench/algorithms.py --scale 20 --uscale 16

The graphs (written once by the driver into the work directory as ``.npy``):

- ``directed``: ``graphengine.datasets.rmat_edges(scale, 16)`` (Graph500 R-MAT, seed 0), a
  directed multigraph with self loops on all ``2**scale`` vertices; uniform weights in [0, 1)
  (seed 1) for ``sssp_path``.
- ``undirected``: R-MAT of scale ``--uscale`` made simple: symmetrized, self loops and
  multi-edges dropped, each edge once; weights as above.
- ``directed-small`` / ``undirected-small``: the largest strongly connected (connected)
  component of the R-MAT graph of scale ``--small-scale`` (simple, relabelled 0..n-1), for the
  all-pairs apps (closeness, exact betweenness, average path length), which take ``O(V E)``.

Each engine runs in its own fresh subprocess per graph. graphengine runs on 1 fragment (and on
the ``--fragments`` given) with ``NUMBA_NUM_THREADS=--threads``; every app is first called on a
64-vertex graph (Numba loads its cache there), then on the big graph: the first call (which also
builds per-fragment caches) and the best of ``--repeat`` later calls are reported. NetworKit runs
with ``--threads`` threads; igraph is single-threaded. The peers build their graph objects
(including an undirected simple copy where an app needs one) outside the timings; conversion of
their results to numpy is inside. A call slower than 20 s is not repeated.

Peers per app (the fastest one that has the app sets the ratio):

==========================  =====================================================================
app                         peers
==========================  =====================================================================
degree_centrality           NetworKit ``DegreeCentrality``, igraph ``degree`` (in-degrees / (n-1))
eigenvector_centrality      NetworKit ``EigenvectorCentrality``, igraph ``eigenvector_centrality``
katz_centrality             NetworKit ``KatzCentrality`` (same alpha, beta; networkx's iteration)
hits                        igraph ``hub_score`` + ``authority_score``
personalized_pagerank       igraph ``personalized_pagerank`` (PRPACK)
closeness_centrality        NetworKit ``Closeness`` (generalized), igraph ``closeness``
betweenness_centrality      NetworKit ``Betweenness``, igraph ``betweenness`` (exact, small graph)
sssp_average_length         igraph ``average_path_length`` (small graph)
triangles                   NetworKit ``LocalClusteringCoefficient`` times ``d (d - 1) / 2``,
                            igraph ``list_triangles`` counted per vertex (undirected graph only:
                            graphengine's triangles refuses a directed one, as networkx)
clustering                  NetworKit ``LocalClusteringCoefficient``, igraph
                            ``transitivity_local_undirected`` (undirected graph only: the directed
                            clustering of networkx has no peer)
avg_clustering              NetworKit ``LocalClusteringCoefficient`` averaged, igraph
                            ``transitivity_avglocal_undirected`` (undirected graph only)
core_number, k_core,        NetworKit ``CoreDecomposition``, igraph ``coreness`` (the directed graph:
k_shell                     on its simple copy, in+out degree, as networkx)
louvain                     NetworKit ``PLM``, igraph ``community_multilevel`` (undirected only)
scc                         NetworKit ``StronglyConnectedComponents``, igraph
                            ``connected_components("strong")``
sssp_path                   NetworKit ``Dijkstra`` (with predecessors), igraph ``distances``
                            (distances only: its path output is a Python list per vertex)
sssp_has_path               NetworKit ``BFS`` with a target, igraph ``subcomponent``
==========================  =====================================================================

``strongly_connected_components`` is ``scc`` under another name (timed once). NetworkX has
every app but is not run: a peer above has each. GraphScope is not run by this bench (its
session takes minutes to start on this machine); ``bench/analytics.py`` runs it on the LDBC six.

Checks (printed after the tables): results against each peer where the definitions agree;
where they differ (normalization, directedness, stopping rules, randomized algorithms) the
check says what is compared instead.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from analytics import (  # bench/analytics.py
    best_of,
    fmt,
    git_commit,
    simple_undirected,
    timed,
)

ROOT = Path(__file__).resolve().parent.parent

#: app -> graphs it runs on (``louvain`` needs an undirected graph; the all-pairs apps run on
#: the small graphs; clustering/avg_clustering have a peer only on the undirected graph).
APPS: dict[str, tuple[str, ...]] = {
    "degree_centrality": ("directed", "undirected"),
    "eigenvector_centrality": ("directed", "undirected"),
    "katz_centrality": ("directed", "undirected"),
    "hits": ("directed", "undirected"),
    "personalized_pagerank": ("directed", "undirected"),
    "triangles": ("undirected",),
    "clustering": ("undirected",),
    "avg_clustering": ("undirected",),
    "core_number": ("directed", "undirected"),
    "k_core": ("directed", "undirected"),
    "k_shell": ("directed", "undirected"),
    "louvain": ("undirected",),
    "scc": ("directed", "undirected"),
    "sssp_path": ("directed", "undirected"),
    "sssp_has_path": ("directed", "undirected"),
    "closeness_centrality": ("directed-small", "undirected-small"),
    "betweenness_centrality": ("directed-small", "undirected-small"),
    "sssp_average_length": ("directed-small", "undirected-small"),
}
GRAPHS = ("directed", "undirected", "directed-small", "undirected-small")
DAMPING = 0.85
#: eigenvector / Katz / HITS / PPR run to a tight tolerance on every engine
TOL = 1e-9
K_CORE = 8


# =============================================================================== graphs
def largest_component(src: np.ndarray, dst: np.ndarray, n: int, directed: bool):
    """The induced subgraph on the largest strongly connected (connected) component, relabelled."""
    import scipy.sparse as sp
    from scipy.sparse.csgraph import connected_components

    a = sp.csr_matrix((np.ones(len(src)), (src, dst)), shape=(n, n))
    _, label = connected_components(a, directed=directed, connection="strong")
    big = np.bincount(label).argmax()
    inside = label == big
    new = np.full(n, -1, dtype=np.int64)
    new[inside] = np.arange(int(inside.sum()))
    keep = inside[src] & inside[dst]
    return new[src[keep]], new[dst[keep]], int(inside.sum())


def write_graphs(workdir: Path, args) -> dict:
    from graphengine import datasets

    info = {}

    def save(name, src, dst, n, directed):
        d = workdir / name
        d.mkdir(exist_ok=True)
        weight = np.random.default_rng(1).random(len(src))
        np.save(d / "src.npy", src)
        np.save(d / "dst.npy", dst)
        np.save(d / "weight.npy", weight)
        # a source with many out-edges, and a target: the endpoint of the last edge
        deg = np.bincount(src, minlength=n)
        info[name] = {"n": int(n), "m": len(src), "directed": directed,
                      "source": int(deg.argmax()), "target": int(dst[-1])}

    src, dst = datasets.rmat_edges(args.scale, args.edge_factor)
    save("directed", src, dst, 1 << args.scale, True)
    n = 1 << args.uscale
    s, d = datasets.rmat_edges(args.uscale, args.edge_factor)
    s, d = simple_undirected(s, d, n)
    save("undirected", s, d, n, False)
    n = 1 << args.small_scale
    s, d = datasets.rmat_edges(args.small_scale, args.edge_factor)
    keep = s != d
    key = np.unique(s[keep] * n + d[keep])
    ds, dd, dn = largest_component(key // n, key % n, n, True)
    save("directed-small", ds, dd, dn, True)
    us, ud = simple_undirected(s, d, n)
    us, ud, un = largest_component(us, ud, n, False)
    save("undirected-small", us, ud, un, False)
    return info


def load_arrays(workdir: Path, name: str):
    d = workdir / name
    return np.load(d / "src.npy"), np.load(d / "dst.npy"), np.load(d / "weight.npy")


def run_calls(engine: str, graph: str, calls: dict, args, res: dict) -> dict:
    """Time each call; array results are returned (to compare), scalars kept in ``res``."""
    arrays = {}
    for app, fn in calls.items():
        first, best, out = timed(fn, args.repeat)
        res["times"][app] = {"first": first, "best": best}
        if isinstance(out, np.ndarray):
            arrays[app] = out
        elif out is not None:
            res["times"][app]["value"] = float(out)
        print(f"  {engine} {graph} {app}: first {first:.3f}s best {best:.3f}s", file=sys.stderr,
              flush=True)
    return arrays


def apps_on(graph: str, args) -> list[str]:
    return [a for a in args.apps if graph in APPS[a]]


# =============================================================================== workers
def katz_alpha(src: np.ndarray, dst: np.ndarray, n: int, directed: bool) -> float:
    """``1 / (max degree + 1)``: NetworKit's default alpha, below ``1 / lambda_max``."""
    deg = np.bincount(dst, minlength=n) if directed else \
        np.bincount(src, minlength=n) + np.bincount(dst, minlength=n)
    return 1.0 / (int(deg.max()) + 1)


def worker_graphengine(workdir: Path, graph: str, args) -> dict:
    import pyarrow as pa

    import graphengine as ge

    info = json.loads((workdir / "info.json").read_text())[graph]
    src, dst, weight = load_arrays(workdir, graph)
    n, directed, s, t = info["n"], info["directed"], info["source"], info["target"]
    alpha = katz_alpha(src, dst, n, directed)
    apps = apps_on(graph, args)

    def calls_for(g, n, s, t, alpha):
        by_id = {
            "degree_centrality": lambda: ge.degree_centrality(g, "in"),
            "eigenvector_centrality": lambda: ge.eigenvector_centrality(g, TOL, 1000),
            "katz_centrality": lambda: ge.katz_centrality(g, alpha, 1.0, TOL, 1000),
            "hits": lambda: ge.hits(g, TOL, 1000, normalized=False),
            "personalized_pagerank": lambda: ge.personalized_pagerank(g, s, DAMPING, 1000, TOL),
            "triangles": lambda: ge.triangles(g),
            "clustering": lambda: ge.clustering(g),
            "core_number": lambda: ge.core_number(g),
            "k_core": lambda: ge.k_core(g, K_CORE),
            "k_shell": lambda: ge.k_shell(g, K_CORE),
            "louvain": lambda: ge.louvain(g, seed=0),
            "scc": lambda: ge.scc(g),
            "sssp_path": lambda: ge.sssp_path(g, s, "weight"),
            "closeness_centrality": lambda: ge.closeness_centrality(g),
            "betweenness_centrality": lambda: ge.betweenness_centrality(g),
        }
        scalar = {
            "avg_clustering": lambda: float(ge.avg_clustering(g)),
            "sssp_has_path": lambda: ge.sssp_has_path(g, s, t),
            "sssp_average_length": lambda: ge.sssp_average_length(g),
        }

        def wrap(app):
            if app in scalar:
                return scalar[app]
            return lambda: by_id[app]()
        return {app: wrap(app) for app in apps}

    def build(fnum, src, dst, weight, n):
        sess = ge.session(num_fragments=fnum)
        g = sess.g(directed=directed).add_vertices(
            pa.table({"id": np.arange(n, dtype=np.int64)}), label="_")
        return g.add_edges(pa.table({"src": src, "dst": dst, "weight": weight}), label="_e",
                           properties=["weight"])

    res: dict = {"fragments": {}, "warmup": {}}
    # every app once on a 64-vertex graph: Numba loads its cache (or compiles) here
    ts, td = src[:512] % 64, dst[:512] % 64
    if not directed:
        ts, td = simple_undirected(ts, td, 64)
    tiny = build(1, ts, td, weight[:len(ts)], 64)
    for app, fn in calls_for(tiny, 64, int(ts[0]), int(td[-1]), 0.01).items():
        t0 = time.perf_counter()
        try:
            fn()
        except ge.errors.AnalyticsError:  # sssp_average_length: the tiny graph is not connected
            pass
        res["warmup"][app] = time.perf_counter() - t0
    arrays = {}
    for fnum in args.fragments:
        t0 = time.perf_counter()
        g = build(fnum, src, dst, weight, n)
        load_s = time.perf_counter() - t0
        times: dict = {}
        for app, fn in calls_for(g, n, s, t, alpha).items():
            first, best, out = timed(fn, args.repeat)
            times[app] = {"first": first, "best": best}
            if isinstance(out, (bool, float)):
                times[app]["value"] = float(out)
            else:
                ids = np.asarray(out.to_numpy("v.id"), dtype=np.int64)
                cols = {"r": out.to_numpy("r")}
                if app == "hits":
                    cols["auth"] = out.to_numpy("r.auth")
                if app == "sssp_path":
                    cols["dist"] = out.to_numpy("r.dist")
                    # predecessor global id -> user id
                    pred = cols["r"]
                    vid = np.asarray(g.vertex_ids(np.where(pred >= 0, pred, 0)), dtype=np.int64)
                    cols["r"] = np.where(pred >= 0, vid, -1)
                for key, col in cols.items():
                    full = np.zeros(n, dtype=col.dtype)
                    full[ids] = col
                    if fnum == args.fragments[0]:
                        arrays[app if key == "r" else f"{app}.{key}"] = full
            print(f"  graphengine {graph} {fnum}f {app}: first {first:.3f}s best {best:.3f}s",
                  file=sys.stderr, flush=True)
        res["fragments"][str(fnum)] = {"load_s": load_s, "times": times}
        g = None
    np.savez(workdir / graph / "graphengine.npz", **arrays)
    return res


def worker_networkit(workdir: Path, graph: str, args) -> dict:
    import networkit as nk

    nk.setNumberOfThreads(args.threads)
    info = json.loads((workdir / "info.json").read_text())[graph]
    src, dst, weight = load_arrays(workdir, graph)
    n, directed, s, t = info["n"], info["directed"], info["source"], info["target"]
    apps = apps_on(graph, args)
    t0 = time.perf_counter()
    coo = (src.astype(np.uint64), dst.astype(np.uint64))
    g = nk.GraphFromCoo((np.ones(len(src)), coo), n, directed=directed, weighted=False)
    g.indexEdges()
    gw = nk.GraphFromCoo((weight, coo), n, directed=directed, weighted=True)
    # the undirected simple graph (triangles, clustering, cores of an undirected graph)
    gu = nk.graphtools.toUndirected(g) if directed else nk.Graph(g)
    gu.removeMultiEdges()
    gu.removeSelfLoops()
    gu.indexEdges()
    # closeness counts incoming distances (networkx): NetworKit's outgoing ones on the reverse
    grev = nk.GraphFromCoo((np.ones(len(src)), (coo[1], coo[0])), n, directed=True,
                           weighted=False) if directed else g
    res: dict = {"load_s": time.perf_counter() - t0, "times": {},
                 "threads": nk.getCurrentNumberOfThreads()}

    def run(algo):
        algo.run()
        return algo

    def triangles():
        lcc = np.asarray(run(nk.centrality.LocalClusteringCoefficient(gu, turbo=False)).scores())
        # runs on the undirected graph only, each edge once: the degree is the simple one
        deg = np.bincount(src, minlength=n) + np.bincount(dst, minlength=n)
        return np.rint(lcc * deg * (deg - 1) / 2)

    def louvain():
        part = run(nk.community.PLM(gu, refine=False, gamma=1.0)).getPartition()
        return np.asarray(part.getVector(), dtype=np.int64)

    def sssp_path():
        a = run(nk.distance.Dijkstra(gw, s, True))
        return np.asarray(a.getDistances())

    calls = {
        "degree_centrality": lambda: np.asarray(run(nk.centrality.DegreeCentrality(
            g, False, False, False)).scores()) / (n - 1),
        "eigenvector_centrality": lambda: np.asarray(run(
            nk.centrality.EigenvectorCentrality(g, TOL)).scores()),
        "katz_centrality": lambda: np.asarray(run(nk.centrality.KatzCentrality(
            g, katz_alpha(src, dst, n, directed), 1.0, TOL)).scores()),
        "triangles": triangles,
        "clustering": lambda: np.asarray(run(nk.centrality.LocalClusteringCoefficient(
            gu, turbo=False)).scores()),
        "avg_clustering": lambda: float(np.mean(run(nk.centrality.LocalClusteringCoefficient(
            gu, turbo=False)).scores())),
        "core_number": lambda: np.asarray(run(nk.centrality.CoreDecomposition(gu)).scores()),
        "k_core": lambda: np.asarray(run(nk.centrality.CoreDecomposition(gu)).scores())
        >= K_CORE,
        "k_shell": lambda: np.asarray(run(nk.centrality.CoreDecomposition(gu)).scores())
        == K_CORE,
        "louvain": louvain,
        "scc": lambda: np.asarray(run(nk.components.StronglyConnectedComponents(g)
                                      if directed else nk.components.ConnectedComponents(g))
                                  .getPartition().getVector(), dtype=np.int64),
        "sssp_path": sssp_path,
        "sssp_has_path": lambda: run(nk.distance.BFS(g, s, False, False, t)).distance(t) < 1e300,
        "closeness_centrality": lambda: np.asarray(run(nk.centrality.Closeness(
            grev, True, nk.centrality.ClosenessVariant.Generalized)).scores()),
        "betweenness_centrality": lambda: np.asarray(run(nk.centrality.Betweenness(
            g, True)).scores()),
    }
    # NetworKit's core decomposition of a directed graph is not networkx's (in+out degree of
    # the simple digraph): there only igraph runs it
    skip = {"core_number", "k_core", "k_shell"} if directed else set()
    calls = {a: calls[a] for a in apps if a in calls and a not in skip}
    arrays = run_calls("networkit", graph, calls, args, res)
    np.savez(workdir / graph / "networkit.npz", **arrays)
    return res


def worker_igraph(workdir: Path, graph: str, args) -> dict:
    import igraph as ig

    info = json.loads((workdir / "info.json").read_text())[graph]
    src, dst, weight = load_arrays(workdir, graph)
    n, directed, s, t = info["n"], info["directed"], info["source"], info["target"]
    apps = apps_on(graph, args)
    t0 = time.perf_counter()
    g = ig.Graph(n=n, edges=np.column_stack([src, dst]), directed=directed)
    g.es["weight"] = weight
    gs = g.copy()
    gs.simplify()  # simple (for a directed graph: reciprocal pairs kept)
    gu = g.as_undirected()
    gu.simplify()
    res: dict = {"load_s": time.perf_counter() - t0, "times": {}}

    def triangles():
        tri = np.asarray(gu.list_triangles(), dtype=np.int64).ravel()
        return np.bincount(tri, minlength=n).astype(np.float64)

    calls = {
        "degree_centrality": lambda: np.asarray(g.degree(mode="in", loops=True)) / (n - 1),
        "eigenvector_centrality": lambda: np.asarray(g.eigenvector_centrality(
            directed=True, scale=False)),
        "hits": lambda: (np.asarray(g.hub_score(scale=True)),
                         np.asarray(g.authority_score(scale=True))),
        "personalized_pagerank": lambda: np.asarray(g.personalized_pagerank(
            directed=True, damping=DAMPING, reset_vertices=[s])),
        "triangles": triangles,
        "clustering": lambda: np.asarray(gu.transitivity_local_undirected(mode="zero")),
        "avg_clustering": lambda: gu.transitivity_avglocal_undirected(mode="zero"),
        "core_number": lambda: np.asarray(gs.coreness(mode="all")),
        "k_core": lambda: np.asarray(gs.coreness(mode="all")) >= K_CORE,
        "k_shell": lambda: np.asarray(gs.coreness(mode="all")) == K_CORE,
        "louvain": lambda: np.asarray(g.community_multilevel().membership, dtype=np.int64),
        "scc": lambda: np.asarray(g.connected_components(mode="strong").membership,
                                  dtype=np.int64),
        "sssp_path": lambda: np.asarray(g.distances(source=[s], weights="weight",
                                                    mode="out")[0]),
        "sssp_has_path": lambda: t in set(g.subcomponent(s, mode="out")),
        "closeness_centrality": lambda: np.asarray(g.closeness(mode="in", normalized=True)),
        "betweenness_centrality": lambda: np.asarray(g.betweenness(directed=directed)),
        "sssp_average_length": lambda: g.average_path_length(directed=directed),
    }
    calls = {a: calls[a] for a in apps if a in calls}
    if "hits" in calls:
        hits = calls.pop("hits")
        first, best, (hub, auth) = timed(hits, args.repeat)
        res["times"]["hits"] = {"first": first, "best": best}
        extra = {"hits": hub, "hits.auth": auth}
    else:
        extra = {}
    arrays = run_calls("igraph", graph, calls, args, res)
    np.savez(workdir / graph / "igraph.npz", **arrays, **extra)
    return res


# =============================================================================== checks
def modularity(src: np.ndarray, dst: np.ndarray, n: int, comm: np.ndarray) -> float:
    """Newman's modularity of an undirected simple graph given as one entry per edge."""
    m = len(src)
    deg = np.bincount(src, minlength=n) + np.bincount(dst, minlength=n)
    inside = (comm[src] == comm[dst]).sum()
    _, c = np.unique(comm, return_inverse=True)
    dc = np.bincount(c, weights=deg)
    return float(inside / m - ((dc / (2 * m)) ** 2).sum())


def unit(x: np.ndarray, kind: str = "l2") -> np.ndarray:
    x = np.abs(np.asarray(x, dtype=np.float64))
    d = {"l2": np.linalg.norm(x), "l1": x.sum(), "max": x.max(initial=0.0)}[kind]
    return x / d if d else x


def same_partition(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether two labelings group the vertices the same way."""
    pairs = np.unique(np.stack([a, b], axis=1), axis=0)
    return len(pairs) == len(np.unique(a)) == len(np.unique(b))


def checks(workdir: Path, graph: str, info: dict, ge: dict, peers: dict) -> list[str]:
    out = []
    z = dict(np.load(workdir / graph / "graphengine.npz"))
    pz = {}
    for name in ("networkit", "igraph"):
        p = workdir / graph / f"{name}.npz"
        if p.exists():
            pz[name] = dict(np.load(p))
    n = info["n"]
    ge_t = ge["fragments"][str(min(int(f) for f in ge["fragments"]))]["times"]

    def val(eng, app):
        if eng == "graphengine":
            return ge_t.get(app, {}).get("value")
        return (peers.get(eng) or {}).get("times", {}).get(app, {}).get("value")

    for name, p in pz.items():
        for app in p:
            if app not in z:
                continue
            a, b = z[app].astype(np.float64), p[app].astype(np.float64)
            if app in ("degree_centrality", "triangles", "clustering", "closeness_centrality",
                       "k_core", "k_shell", "core_number"):
                err = np.abs(a - b).max()
                out.append(f"{app} vs {name}: max |diff| {err:.1e}")
            elif app in ("eigenvector_centrality", "katz_centrality"):
                err = np.abs(unit(a) - unit(b)).max()
                out.append(f"{app} vs {name}: max |diff| {err:.1e} (both scaled to Euclidean norm"
                           " 1" + (": NetworKit's Katz is not normalized)" if app == "katz_centrality"
                                   else ")"))
            elif app in ("hits", "hits.auth"):
                err = np.abs(unit(a, "max") - unit(b, "max")).max()
                out.append(f"{app} vs {name}: max |diff| {err:.1e} (scaled to maximum 1)")
            elif app == "personalized_pagerank":
                out.append(f"{app} vs {name}: L1 {np.abs(a - b).sum():.1e}")
            elif app == "betweenness_centrality":
                err = np.abs(unit(a, "max") - unit(b, "max")).max()
                out.append(f"{app} vs {name}: max |diff| {err:.1e} (scaled to maximum 1:"
                           " the engines normalize differently)")
            elif app == "scc":
                out.append(f"{app} vs {name}: same partition {same_partition(z[app], p[app])}"
                           f" ({len(np.unique(z[app]))} components)")
            elif app == "sssp_path":
                d = z["sssp_path.dist"]
                fin = np.isfinite(d)
                ofin = np.isfinite(b) & (b < 1e300)
                err = np.abs(d[fin] - b[fin]).max() if fin.any() else 0.0
                out.append(f"{app} distances vs {name}: same reached set"
                           f" {np.array_equal(fin, ofin)}, max |diff| {err:.1e}")
            elif app == "louvain":
                src, dst, _ = load_arrays(workdir, graph)
                out.append(f"louvain modularity: graphengine"
                           f" {modularity(src, dst, n, z[app]):.4f}, {name}"
                           f" {modularity(src, dst, n, p[app]):.4f}")
    if "sssp_path" in z:
        src, dst, w = load_arrays(workdir, graph)
        if not info["directed"]:
            src, dst, w = np.concatenate([src, dst]), np.concatenate([dst, src]), \
                np.concatenate([w, w])
        pred, dist = z["sssp_path"], z["sssp_path.dist"]
        v = np.flatnonzero(pred >= 0)
        # a predecessor is on a shortest path: some edge pred -> v with dist[pred] + w = dist[v]
        tight = np.isfinite(dist[src]) & (np.abs(dist[src] + w - dist[dst]) < 1e-9)
        ok = bool(np.isin(pred[v] * n + v, src[tight] * n + dst[tight]).all())
        out.append(f"sssp_path: every predecessor edge is tight (dist[p] + w = dist[v]): {ok}")
    for app in ("avg_clustering", "sssp_has_path", "sssp_average_length"):
        vals = {e: val(e, app) for e in ("graphengine", "networkit", "igraph")}
        vals = {e: v for e, v in vals.items() if v is not None}
        if len(vals) > 1:
            out.append(f"{app}: " + ", ".join(f"{e} {v:.6g}" for e, v in vals.items()))
    return out


# =============================================================================== driver
def run_worker(kind: str, graph: str, workdir: Path, args, env_extra: dict) -> dict | None:
    env = dict(os.environ, **env_extra)
    cmd = [sys.executable, __file__, "--worker", kind, "--graph", graph, "--workdir",
           str(workdir), "--threads", str(args.threads), "--repeat", str(args.repeat),
           "--fragments", ",".join(map(str, args.fragments)), "--apps", ",".join(args.apps)]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, text=True, cwd=ROOT, check=False)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    if proc.returncode or not lines:
        print(f"!! worker {kind} on {graph} failed (exit {proc.returncode})")
        return None
    res = json.loads(lines[-1][7:])
    res["process_s"] = time.perf_counter() - t0
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scale", type=int, default=20, help="scale of the directed R-MAT graph")
    ap.add_argument("--uscale", type=int, default=16, help="scale of the undirected graph")
    ap.add_argument("--small-scale", type=int, default=12,
                    help="scale of the graphs of the all-pairs apps")
    ap.add_argument("--edge-factor", type=int, default=16)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--fragments", default="1", help="graphengine fragment counts")
    ap.add_argument("--repeat", type=int, default=3, help="timed calls after the first")
    ap.add_argument("--apps", default=",".join(APPS))
    ap.add_argument("--graphs", default=",".join(GRAPHS))
    ap.add_argument("--skip", default="", help="peers to skip: networkit,igraph")
    ap.add_argument("--workdir", default=None)
    ap.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--graph", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    args.fragments = [int(x) for x in str(args.fragments).split(",") if x]
    args.apps = [a for a in args.apps.split(",") if a]
    unknown = set(args.apps) - set(APPS)
    if unknown:
        ap.error(f"unknown apps {sorted(unknown)} (known: {', '.join(APPS)})")

    if args.worker:
        fn = {"graphengine": worker_graphengine, "networkit": worker_networkit,
              "igraph": worker_igraph}[args.worker]
        print("RESULT " + json.dumps(fn(Path(args.workdir), args.graph, args)), flush=True)
        return

    skip = {s for s in args.skip.split(",") if s}
    graphs = [g for g in args.graphs.split(",") if g]
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="ge-algorithms-"))
    workdir.mkdir(parents=True, exist_ok=True)
    print("# graphengine: other built-in apps against NetworKit and igraph")
    print(f"date {dt.datetime.now(dt.timezone.utc).isoformat(timespec='seconds')}, commit"
          f" {git_commit()}, {platform.node()}, {platform.processor() or platform.machine()},"
          f" {os.cpu_count()} CPUs, Python {platform.python_version()}")
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"graphengine {args.threads} Numba threads on {args.fragments} fragment(s); NetworKit"
          f" {args.threads} threads; igraph 1 thread; best of {args.repeat} calls after the first")
    print("GraphScope: not run by this bench (see the module docstring)")
    t0 = time.perf_counter()
    info = write_graphs(workdir, args)
    (workdir / "info.json").write_text(json.dumps(info))
    for name in graphs:
        i = info[name]
        print(f"graph {name}: {i['n']} vertices, {i['m']} edges"
              f" ({'directed' if i['directed'] else 'undirected, each edge once'}),"
              f" source {i['source']}, target {i['target']}")
    print(f"(generated in {time.perf_counter() - t0:.1f}s)", flush=True)
    threads = {"NUMBA_NUM_THREADS": str(args.threads), "OMP_NUM_THREADS": str(args.threads)}
    results: dict = {}
    for name in graphs:
        if not apps_on(name, args):
            continue
        results[name] = {}
        for kind in ("graphengine", "networkit", "igraph"):
            if kind in skip:
                continue
            print(f"{kind} on {name}...", flush=True)
            results[name][kind] = run_worker(kind, name, workdir, args, threads)
    print(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")

    f0 = str(args.fragments[0])
    above = []
    for name, res in results.items():
        ge = res.get("graphengine")
        if not ge:
            print(f"!! graphengine failed on {name}")
            continue
        i = info[name]
        print()
        print(f"## {name}: {i['n']} vertices, {i['m']} edges — seconds per call")
        print()
        extra = [f"graphengine {f}f" for f in map(str, args.fragments[1:])]
        head = (["app", f"graphengine {f0}f", "first call"] + extra +
                ["NetworKit", "igraph", "ge / fastest peer"])
        print("| " + " | ".join(head) + " |")
        print("|---|" + "---:|" * (len(head) - 1))
        for app in apps_on(name, args):
            t = ge["fragments"][f0]["times"][app]
            peer_t = {p: best_of(res.get(p), app) for p in ("networkit", "igraph")}
            fastest = min((v for v in peer_t.values() if v is not None), default=None)
            r = t["best"] / fastest if fastest else None
            if r is not None and r > 1.0:
                above.append(f"{app} on {name}: {r:.2f}")
            row = [app, fmt(t["best"]), fmt(t["first"])]
            row += [fmt(ge["fragments"][f]["times"][app]["best"])
                    for f in map(str, args.fragments[1:])]
            row += [fmt(peer_t["networkit"]), fmt(peer_t["igraph"]),
                    f"{r:.2f}" if r is not None else "-"]
            print("| " + " | ".join(row) + " |")
        print()
        print(f"Checks on {name}:")
        for line in checks(workdir, name, i, ge, res):
            print(f"- {line}")
    print()
    print("## Ratios above 1.0 (graphengine slower than the fastest peer)")
    for line in above or ["none"]:
        print(f"- {line}")
    if args.workdir is None:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
