"""Issue 13's Ray-cluster rows: an R-MAT graph loaded and analyzed on a simulated Ray cluster.

    NUMBA_CACHE_DIR=.numba_cache RAY_AUTH_MODE=disabled python bench/scale_ray.py --scale 20

What runs (``bench/scale.py`` calls :func:`ray_cluster_rows` for its Ray rows):

- A simulated cluster: ``ray.cluster_utils.Cluster`` with ``--nodes`` nodes (1 CPU and
  ``--store-gib`` of object store each) on this machine; a Ray session
  (``graphengine.session(cluster="ray", num_fragments=N)``) places one actor per fragment
  with a SPREAD placement group.
- The graph: ``graphengine.datasets.rmat_edges(scale, 16)`` (seed 0) written to ``--files``
  Parquet files of edges plus one file of the ``2**scale`` vertex ids; the session loads them
  with ``load_from`` (each worker reads its share). Load time is that call, after a tiny
  warm-up load (the fresh actors load the kernels' compiled code once); the seconds per load
  phase (``sess.cluster.seconds``) are printed.
- The driver's memory: its RSS (psutil) sampled every 5 ms during the load; the growth is the
  peak minus the RSS before, beside the graph's store bytes (``g.nbytes``, held by the
  workers). Target: below 10%.
- Apps: PageRank (10 rounds), WCC, BFS from the source of edge 0, on the Ray session and on
  the local executor over the same graph loaded locally with the same number of fragments
  (hash); results checked equal by global id (the two loads give the same ids). Each app's
  first call is not timed; then local and Ray runs alternate ``--repeat`` times (best of each
  kept, both see the same machine load); a timed run includes reading the result column on the
  driver. Target: Ray within 2x of local.
- Per round: wall seconds of the best Ray run's rounds (``ctx.stats``) and the bytes of the
  bundles sent between fragments per round with traffic, and per cut edge.
"""

from __future__ import annotations

import argparse
import gc
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

APPS = ("pagerank", "wcc", "bfs")
TARGET_VS_LOCAL = 2.0  # issue 13: the Ray executor within 2x of the local one at 4 fragments
TARGET_DRIVER_MEM = 0.10  # issue 13: driver growth below 10% of the graph's store bytes


def run_app(name: str, g, source: int):
    import graphengine

    if name == "pagerank":
        return graphengine.pagerank(g, 0.85, 10)
    if name == "wcc":
        return graphengine.wcc(g)
    return graphengine.bfs(g, source)


class PeakRSS:
    """The process's peak resident set size while the ``with`` block runs (5 ms samples)."""

    def __init__(self):
        import psutil

        self.proc = psutil.Process()
        self.before = self.peak = self.proc.memory_info().rss
        self._stop = threading.Event()

    def _sample(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, self.proc.memory_info().rss)
            time.sleep(0.005)

    def __enter__(self) -> PeakRSS:  # noqa: PYI034
        self.before = self.peak = self.proc.memory_info().rss
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.proc.memory_info().rss)

    @property
    def growth(self) -> int:
        return self.peak - self.before


def write_files(root: Path, scale: int, src: np.ndarray, dst: np.ndarray, files: int) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    (root / "edges").mkdir(parents=True)
    n = len(src)
    for k in range(files):
        lo, hi = n * k // files, n * (k + 1) // files
        pq.write_table(pa.table({"src": src[lo:hi], "dst": dst[lo:hi]}),
                       root / "edges" / f"part-{k:03d}.parquet")
    pq.write_table(pa.table({"id": np.arange(1 << scale, dtype=np.int64)}),
                   root / "vertices.parquet")


def load_local(scale: int, fnum: int, src: np.ndarray, dst: np.ndarray):
    import pyarrow as pa

    import graphengine

    t0 = time.perf_counter()
    with graphengine.session(num_fragments=fnum) as sess:
        g = sess.g(directed=True)
        g = g.add_vertices(pa.table({"id": np.arange(1 << scale, dtype=np.int64)}), label="_")
        g = g.add_edges(pa.table({"src": src, "dst": dst}), label="_e")
    return g, time.perf_counter() - t0


def cut_edges(g) -> int:
    """Edges whose endpoints lie in different fragments (of a local graph)."""
    cut = 0
    for frag in g.fragments:
        nbrs = frag.csr("out")[1]
        cut += int((g.owner(nbrs) != frag.fid).sum())
    return cut


def result(ctx) -> np.ndarray:
    return np.asarray(ctx.to_numpy("r"))


def mirror_counts(scale: int, src: np.ndarray, dst: np.ndarray, counts: list[int]) -> None:
    """For N hash fragments of the local store: cut edges, outer (mirror) vertices over all
    fragments and in the largest, which bound a round's bytes on N machines."""
    for n in counts:
        g, _ = load_local(scale, n, src, dst)
        outer = [f.outer_vertex_count for f in g.fragments]
        cut = cut_edges(g)
        print(f"  N={n}: cut edges {cut} ({cut / len(src):.3f}), outer vertices {sum(outer)}"
              f" (largest fragment {max(outer)}), cut edges per outer vertex"
              f" {cut / max(sum(outer), 1):.1f}", flush=True)
        del g
        gc.collect()


def ray_cluster_rows(args, src: np.ndarray, dst: np.ndarray) -> list[dict]:
    """Rows with ``executor="ray"`` (see the module docstring): per fragment count, the load
    (time, driver memory growth) and PageRank / WCC / BFS against the local executor."""
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    import ray
    from ray.cluster_utils import Cluster

    import graphengine

    nodes = getattr(args, "nodes", 2)
    store = int(getattr(args, "store_gib", 2.0) * 2**30)
    files = getattr(args, "files", 8)
    fragments = [f for f in getattr(args, "ray_fragments", [4])]
    source = int(src[0])
    rows: list[dict] = []
    tmp = Path(tempfile.mkdtemp(prefix="scale_ray_"))
    if ray.is_initialized():
        ray.shutdown()
    cluster = Cluster(initialize_head=True,
                      head_node_args={"num_cpus": 1, "object_store_memory": store})
    for _ in range(nodes - 1):
        cluster.add_node(num_cpus=1, object_store_memory=store)
    ray.init(address=cluster.address, include_dashboard=False, log_to_driver=False)
    try:
        write_files(tmp, args.scale, src, dst, files)
        for fnum in fragments:
            sess = graphengine.session(cluster="ray", address=cluster.address,
                                       num_fragments=fnum)
            # warm-up: a tiny load loads the kernels' compiled code in the fresh actors
            sess.g().add_edges({"src": np.arange(64), "dst": np.arange(64)[::-1]})
            gc.collect()
            sess.cluster.seconds.clear()
            with PeakRSS() as mem:
                t0 = time.perf_counter()
                g = sess.load_from(edges={"_e": str(tmp / "edges")},
                                   vertices={"_": str(tmp / "vertices.parquet")})
                load_s = time.perf_counter() - t0
            phases = ", ".join(f"{k} {v:.2f}" for k, v in sess.cluster.seconds.items())
            nbytes = g.nbytes
            placed = len(set(g.nodes()))
            print(f"  ray {fnum} fragments on {placed} of {nodes} nodes: load {load_s:.2f}s,"
                  f" driver RSS +{mem.growth / 2**20:.1f} MiB during the load for a graph of"
                  f" {nbytes / 2**20:.1f} MiB ({mem.growth / nbytes:.2%}); phases (s): {phases}",
                  flush=True)
            local, local_load = load_local(args.scale, fnum, src, dst)
            cut = cut_edges(local)
            for name in APPS:
                want = result(run_app(name, local, source))
                got_ctx = run_app(name, g, source)
                got = result(got_ctx)
                # PageRank to 1e-10: on one fragment the sums run on the actor's threads (its
                # node's CPUs) and on the local executor's, in another order (2.5e-12 measured
                # at scale 20); on several the per-fragment sums fold in the same order
                ok = bool(np.allclose(got, want, rtol=1e-10, atol=0) if name == "pagerank"
                          else np.array_equal(got, want))
                best = {"local": float("inf"), "ray": float("inf")}
                best_ctx = got_ctx
                for _ in range(args.repeat):
                    for kind, graph in (("local", local), ("ray", g)):
                        t = time.perf_counter()
                        ctx = run_app(name, graph, source)
                        result(ctx)
                        dt = time.perf_counter() - t
                        if dt < best[kind]:
                            best[kind] = dt
                            if kind == "ray":
                                best_ctx = ctx
                rounds = best_ctx.stats["rounds"]
                traffic = [r["nbytes"] for r in rounds if r["nbytes"]]
                per_round = float(np.mean(traffic)) if traffic else 0.0
                row = {"executor": "ray", "partitioner": "hash", "fragments": fnum,
                       "nodes": nodes, "load_s": load_s, "local_load_s": local_load,
                       "edge_cut": cut / max(len(src), 1), "app": name, "same_as_local": ok,
                       "rounds": len(rounds), "total_s": best["ray"],
                       "per_round_s": best["ray"] / max(len(rounds), 1),
                       "slowest_steps_s": float(sum(r["slowest_step"] for r in rounds)),
                       "round_seconds": [r["seconds"] for r in rounds],
                       "round_bytes": [r["nbytes"] for r in rounds],
                       "bytes_per_round": per_round,
                       "bytes_per_cut_edge": per_round / cut if cut else 0.0,
                       "local_total_s": best["local"], "ratio_vs_local": best["ray"] / best["local"],
                       "ratio_vs_1": float("nan"),
                       "driver_mem_growth": mem.growth / nbytes, "driver_mem_bytes": mem.growth,
                       "store_bytes": nbytes, "load_phases_s": dict(sess.cluster.seconds)}
                rows.append(row)
                verdict = "met" if row["ratio_vs_local"] <= TARGET_VS_LOCAL else "NOT met"
                print(f"  ray {fnum} fragments {name:>8}: {best['ray']:.3f}s vs local"
                      f" {best['local']:.3f}s ({row['ratio_vs_local']:.2f}x, target"
                      f" {TARGET_VS_LOCAL}x {verdict}), {len(rounds)} rounds,"
                      f" {per_round / 1e6:.2f} MB/round, same={ok}", flush=True)
            verdict = "met" if mem.growth / nbytes < TARGET_DRIVER_MEM else "NOT met"
            print(f"  target driver growth < {TARGET_DRIVER_MEM:.0%} of the store bytes:"
                  f" {mem.growth / nbytes:.2%} ({verdict})", flush=True)
            del g, local
            sess.close()
            gc.collect()
    finally:
        ray.shutdown()
        cluster.shutdown()
        shutil.rmtree(tmp, ignore_errors=True)
    return rows


def table(rows: list[dict]) -> str:
    head = ("| fragments | nodes | load s | local load s | edge cut | app | rounds | ray s |"
            " local s | x local | s/round | MB/round | B/cut edge | driver RSS growth |")
    lines = [head, "|" + "---|" * 14]
    for r in rows:
        lines.append(
            f"| {r['fragments']} | {r['nodes']} | {r['load_s']:.2f} | {r['local_load_s']:.2f} |"
            f" {r['edge_cut']:.3f} | {r['app']} | {r['rounds']} | {r['total_s']:.3f} |"
            f" {r['local_total_s']:.3f} | {r['ratio_vs_local']:.2f} | {r['per_round_s']:.4f} |"
            f" {r['bytes_per_round'] / 1e6:.2f} | {r['bytes_per_cut_edge']:.2f} |"
            f" {r['driver_mem_bytes'] / 2**20:.1f} MiB = {r['driver_mem_growth']:.2%} of"
            f" {r['store_bytes'] / 2**20:.0f} MiB |")
    return "\n".join(lines)


def main() -> int:
    import datetime as dt
    import json
    import platform
    import subprocess

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scale", type=int, default=20)
    ap.add_argument("--ray-fragments", type=lambda s: [int(x) for x in s.split(",")],
                    default=[4])
    ap.add_argument("--nodes", type=int, default=2)
    ap.add_argument("--store-gib", type=float, default=2.0)
    ap.add_argument("--files", type=int, default=8)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--mirror-counts", type=lambda s: [int(x) for x in s.split(",")],
                    default=None, help="only print cut edges and outer vertices for these N")
    args = ap.parse_args()
    if os.environ.get("NUMBA_NUM_THREADS") != str(args.threads):
        env = dict(os.environ, NUMBA_NUM_THREADS=str(args.threads))
        return subprocess.call([sys.executable, *sys.argv], env=env)
    from graphengine.datasets import rmat_edges

    root = Path(__file__).resolve().parent.parent
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, check=False,
                            capture_output=True, text=True).stdout.strip()
    print(f"# bench/scale_ray.py scale {args.scale}, {args.threads} threads, commit {commit},"
          f" {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC,"
          f" {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs,"
          f" load average {os.getloadavg()[0]:.2f}", flush=True)
    src, dst = rmat_edges(args.scale, 16)
    if args.mirror_counts:
        mirror_counts(args.scale, src, dst, args.mirror_counts)
        return 0
    rows = ray_cluster_rows(args, src, dst)
    print(table(rows))
    print(f"load average at the end {os.getloadavg()[0]:.2f}")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
