"""Store load benchmark: an R-MAT graph as Parquet and CSV, loaded into fragments.

For each file format it prints, measured in the same run:

- load time (``Graph.add_edges`` from the file path, directed: CSR + CSC + edge ids) against the
  time pyarrow alone takes to read the same file (target: load <= 3x read);
- store bytes per edge (``Graph.nbytes / edge_count``; target <= 40);
- peak RSS of the load against the store size (target: peak <= 2.5x store).

Every measurement runs in a fresh ``spawn`` subprocess, so the peak RSS
(``getrusage(RUSAGE_SELF).ru_maxrss``) belongs to that one load. The subprocess first warms
Numba (compiles, or loads its cache) on a tiny graph and reports that time apart, and records
its RSS after imports and warm-up as the baseline. A sampling thread records RSS every 5 ms so
the table can say in which step of the load the peak happens (``--profile`` adds cProfile).

    python bench/load.py --scale 20 --fragments 4
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import multiprocessing as mp
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

TARGET_LOAD_OVER_READ = 3.0
TARGET_BYTES_PER_EDGE = 40.0
TARGET_PEAK_OVER_STORE = 2.5
MiB = 1 << 20


def current_rss() -> int:
    """Resident set size of this process now, in bytes (Linux /proc)."""
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def peak_rss() -> int:
    """Peak resident set size of this process so far, in bytes (ru_maxrss is KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


class RssSampler(threading.Thread):
    """Samples RSS every ``interval`` seconds; ``peak_at`` is the time of the highest sample."""

    def __init__(self, interval: float = 0.005):
        super().__init__(daemon=True)
        self.interval = interval
        self.samples: list[tuple[float, int]] = []
        self.stop_event = threading.Event()

    def run(self) -> None:
        while not self.stop_event.is_set():
            self.samples.append((time.perf_counter(), current_rss()))
            time.sleep(self.interval)

    def stop(self) -> list[tuple[float, int]]:
        self.stop_event.set()
        self.join()
        return self.samples


class StepTimer:
    """Times the store's Numba kernels and its file reader while a load runs.

    Wraps every Numba dispatcher of ``graphengine.store.kernels`` and the ``read_source`` that
    ``graphengine.store.graph`` calls (both are looked up at call time), so the report says how
    much of the load each step takes; the rest is numpy / Arrow glue in ``graph.py``.
    """

    def __init__(self):
        self.calls: dict[str, list[tuple[float, float]]] = {}
        self.undo: list[tuple[object, str, object]] = []

    def install(self) -> None:
        import numba

        from graphengine.store import graph as graph_module
        from graphengine.store import kernels

        targets = [(kernels, name) for name, obj in vars(kernels).items()
                   if isinstance(obj, numba.core.registry.CPUDispatcher)]
        if hasattr(graph_module, "read_source"):
            targets.append((graph_module, "read_source"))
        for module, name in targets:
            original = getattr(module, name)
            setattr(module, name, self._wrap(name, original))
            self.undo.append((module, name, original))

    def uninstall(self) -> None:
        for module, name, original in self.undo:
            setattr(module, name, original)

    def _wrap(self, name, func):
        @functools.wraps(func)
        def timed(*args, **kwargs):
            t0 = time.perf_counter()
            try:
                return func(*args, **kwargs)
            finally:
                self.calls.setdefault(name, []).append((t0, time.perf_counter()))
        return timed


# ------------------------------------------------------------------ generation (parent process)

def generate(scale: int, edge_factor: int, seed: int, workdir: Path) -> tuple[dict, float]:
    """Write the R-MAT edge list as Parquet and CSV; returns ``({format: path}, seconds)``."""
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    from graphengine.datasets import rmat_edges

    t0 = time.perf_counter()
    src, dst = rmat_edges(scale, edge_factor=edge_factor, seed=seed)
    table = pa.table({"src": src, "dst": dst})
    del src, dst
    paths = {"parquet": workdir / f"rmat{scale}.parquet", "csv": workdir / f"rmat{scale}.csv"}
    pq.write_table(table, paths["parquet"])
    pacsv.write_csv(table, paths["csv"])
    return paths, time.perf_counter() - t0


# ------------------------------------------------------------------ measurements (subprocesses)

def read_only(path: str, repeat: int) -> dict:
    """Best time pyarrow alone takes to read the file into a table (no graphengine code)."""
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    best = float("inf")
    rows = 0
    for _ in range(repeat):
        t0 = time.perf_counter()
        table = pq.read_table(path) if path.endswith(".parquet") else pacsv.read_csv(path)
        best = min(best, time.perf_counter() - t0)
        rows = table.num_rows
        del table
    return {"read_s": best, "rows": rows}


def load(path: str, fragments: int, profile: bool) -> dict:
    """Load the file into a directed graph; times, RSS and the store's size breakdown."""
    t_import = time.perf_counter()
    import numpy as np
    import pyarrow as pa

    import graphengine
    t_import = time.perf_counter() - t_import

    # warm Numba: the store's kernels compile (or load from NUMBA_CACHE_DIR) on first use
    t0 = time.perf_counter()
    with graphengine.session(num_fragments=fragments) as sess:
        tiny = sess.g(directed=True).add_edges({"src": np.arange(64), "dst": np.arange(64)[::-1]})
        tiny.fragments[0].csr("out")
    warm_s = time.perf_counter() - t0
    del tiny
    baseline = current_rss()

    sampler = RssSampler()
    steps = StepTimer()
    steps.install()
    profiler = None
    if profile:
        import cProfile

        profiler = cProfile.Profile()
    sampler.start()
    t_start = time.perf_counter()
    if profiler:
        profiler.enable()
    with graphengine.session(num_fragments=fragments) as sess:
        g = sess.g(directed=True).add_edges(path, src_field="src", dst_field="dst")
    if profiler:
        profiler.disable()
    load_s = time.perf_counter() - t_start
    samples = sampler.stop()
    steps.uninstall()
    result = {
        "import_s": t_import, "warm_s": warm_s, "load_s": load_s,
        "baseline_rss": baseline, "peak_rss": peak_rss(), "final_rss": current_rss(),
        "arrow_allocated": pa.total_allocated_bytes(), "arrow_pool": pa.default_memory_pool().backend_name,
        "store_bytes": g.nbytes, "edges": g.edge_count, "vertices": g.vertex_count,
        "breakdown": store_breakdown(g),
        "rss_trace": [(t - t_start, r) for t, r in samples],
        "steps": step_table(steps.calls, samples, t_start),
    }
    if profiler:
        import io
        import pstats

        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(15)
        result["profile"] = out.getvalue()
    return result


def step_table(calls: dict, samples: list, t_start: float) -> list[tuple[str, int, float, int]]:
    """``(step, calls, seconds, highest RSS sampled during it)``, slowest first."""
    rows = []
    for name, spans in calls.items():
        inside = [r for t, r in samples if any(a <= t <= b for a, b in spans)]
        rows.append((name, len(spans), sum(b - a for a, b in spans), max(inside, default=0)))
    return sorted(rows, key=lambda row: -row[2])


def store_breakdown(g) -> dict:
    """Bytes of the store by kind of buffer, summed over fragments."""
    parts = {"indptr (CSR+CSC)": 0, "nbrs (CSR+CSC)": 0, "edge ids (CSR+CSC)": 0,
             "vertex tables": 0, "edge tables": 0, "outer vertex ids": 0}
    for frag in g.fragments:
        for t in frag.topology.values():
            seen = set()
            for name in ("out_indptr", "out_nbrs", "out_eids", "in_indptr", "in_nbrs", "in_eids"):
                arr = getattr(t, name)
                if id(arr) in seen:
                    continue
                seen.add(id(arr))
                kind = name.split("_", 1)[1]
                key = {"indptr": "indptr (CSR+CSC)", "nbrs": "nbrs (CSR+CSC)",
                       "eids": "edge ids (CSR+CSC)"}[kind]
                parts[key] += arr.nbytes
        parts["vertex tables"] += sum(t.nbytes for t in frag.vertex_tables.values())
        parts["edge tables"] += sum(t.nbytes for t in frag.edge_tables.values())
        parts["outer vertex ids"] += frag.outer_gids.nbytes
    return parts


def in_subprocess(func, *args):
    """Run ``func(*args)`` in a fresh spawned interpreter and return its result."""
    with ProcessPoolExecutor(max_workers=1, mp_context=mp.get_context("spawn")) as pool:
        return pool.submit(func, *args).result()


def provenance() -> str:
    """Where graphengine comes from: its folder, git commit, and whether the store is edited."""
    import graphengine

    root = Path(graphengine.__file__).resolve().parents[1]
    try:
        commit = subprocess.run(["git", "-C", str(root), "rev-parse", "--short", "HEAD"],
                                capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "graphengine/store"],
                               capture_output=True, text=True, check=True).stdout.strip()
        state = f"commit {commit}" + (" + uncommitted store edits" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        state = "not a git checkout"
    return f"graphengine from {root} ({state})"


# ------------------------------------------------------------------ report

def verdict(ok: bool) -> str:
    return "meets" if ok else "MISSES"


def report(fmt: str, path: Path, read: dict, res: dict) -> list[str]:
    store = res["store_bytes"]
    bpe = store / res["edges"]
    peak, base = res["peak_rss"], res["baseline_rss"]
    ratio_time = res["load_s"] / read["read_s"]
    ratio_peak = peak / store
    ratio_peak_net = (peak - base) / store
    lines = [
        (f"\n== {fmt}: {path.name} ({path.stat().st_size / MiB:.0f} MiB),"
        f" {res['vertices']:,} vertices, {res['edges']:,} edges"),
        f"  numba warm-up (compile or cache load) {res['warm_s']:8.2f} s   (not in the load time)",
        f"  pyarrow read only                   {read['read_s']:8.2f} s",
        f"  graphengine load                    {res['load_s']:8.2f} s"
        + (f"   (best of {', '.join(f'{t:.2f}' for t in res['all_load_s'])})"
           if len(res.get("all_load_s", [])) > 1 else ""),
        f"  store size (g.nbytes)               {store / MiB:8.1f} MiB",
        f"  RSS after imports + warm-up         {base / MiB:8.1f} MiB",
        f"  peak RSS (ru_maxrss)                {peak / MiB:8.1f} MiB"
        + (f"   (highest of {', '.join(f'{p / MiB:.0f}' for p in res['all_peak_rss'])})"
           if len(res.get("all_peak_rss", [])) > 1 else ""),
        f"  RSS after the load                  {res['final_rss'] / MiB:8.1f} MiB",
        f"  Arrow pool ({res['arrow_pool']}) bytes in use   {res['arrow_allocated'] / MiB:8.1f} MiB",
        "  store breakdown:",
    ]
    for name, b in res["breakdown"].items():
        lines.append(f"    {name:<22} {b / MiB:8.1f} MiB  {b / res['edges']:6.2f} B/edge")
    trace = res["rss_trace"]
    if trace:
        t_peak, r_peak = max(trace, key=lambda s: s[1])
        lines.append(f"  sampled RSS peak {r_peak / MiB:.0f} MiB at {t_peak:.2f} s of {res['load_s']:.2f} s")
    lines.append("  load steps (store kernels and file read; the rest is numpy/Arrow glue):")
    timed = 0.0
    for name, calls, secs, rss in res["steps"]:
        timed += secs
        peak_note = f"RSS up to {rss / MiB:7.0f} MiB" if rss else "(shorter than a sample)"
        lines.append(f"    {name:<22} {calls:3d} calls {secs:7.2f} s   {peak_note}")
    lines.append(f"    {'other':<22}           {res['load_s'] - timed:7.2f} s")
    lines.append("  ratio                              value   target  verdict")
    for name, value, target in (
            ("load / pyarrow read", ratio_time, TARGET_LOAD_OVER_READ),
            ("bytes per directed edge", bpe, TARGET_BYTES_PER_EDGE),
            ("peak RSS / store", ratio_peak, TARGET_PEAK_OVER_STORE),
            ("(peak RSS - baseline) / store", ratio_peak_net, TARGET_PEAK_OVER_STORE)):
        lines.append(f"  {name:<32} {value:7.2f}   <= {target:<4g}  {verdict(value <= target)}")
    if "profile" in res:
        lines.append(res["profile"])
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=int, default=20, help="log2 of the vertex count (20)")
    parser.add_argument("--edge-factor", type=int, default=16, help="edges per vertex (16)")
    parser.add_argument("--fragments", type=int, default=4, help="fragments to load into (4)")
    parser.add_argument("--workdir", type=Path, default=None,
                        help="folder for the generated files (default: a temporary folder, removed)")
    parser.add_argument("--formats", nargs="+", default=["parquet", "csv"],
                        choices=["parquet", "csv"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--read-repeat", type=int, default=3,
                        help="pyarrow reads per format; the best time is kept (3)")
    parser.add_argument("--repeat", type=int, default=1,
                        help="loads per format, each in a fresh subprocess; the best time and"
                             " the highest peak RSS are reported (1)")
    parser.add_argument("--arrow-pool", choices=["default", "system", "mimalloc", "jemalloc"],
                        default="default",
                        help="Arrow memory pool of the measuring subprocesses (sets"
                             " ARROW_DEFAULT_MEMORY_POOL); 'system' returns freed memory at once")
    parser.add_argument("--profile", action="store_true",
                        help="cProfile the load and print the top functions (slows it down)")
    args = parser.parse_args(argv)

    if args.arrow_pool != "default":
        os.environ["ARROW_DEFAULT_MEMORY_POOL"] = args.arrow_pool
    os.environ.setdefault("NUMBA_CACHE_DIR", str(Path(__file__).resolve().parents[1] / ".numba_cache"))
    own_dir = args.workdir is None
    workdir = Path(tempfile.mkdtemp(prefix="graphengine-load-")) if own_dir else args.workdir
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        import pyarrow as pa

        print(f"bench/load.py  {dt.datetime.now().isoformat(timespec='seconds')}")
        print(f"machine: {platform.node()} {platform.machine()}, {os.cpu_count()} CPUs,"
              f" {os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / (1 << 30):.1f} GiB;"
              f" python {platform.python_version()}, pyarrow {pa.__version__},"
              f" pyarrow threads {pa.cpu_count()}")
        print(provenance())
        print(f"load average before the run: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        print(f"R-MAT scale {args.scale}, edge factor {args.edge_factor}"
              f" ({args.edge_factor << args.scale:,} edges), {args.fragments} fragments, directed")
        paths, gen_s = generate(args.scale, args.edge_factor, args.seed, workdir)
        print(f"generated {', '.join(str(p) for p in paths.values())} in {gen_s:.1f} s")
        for fmt in args.formats:
            path = paths[fmt]
            read = in_subprocess(read_only, str(path), args.read_repeat)
            runs = [in_subprocess(load, str(path), args.fragments, args.profile)
                    for _ in range(args.repeat)]
            # the fastest run's figures; the highest peak RSS of all runs (memory is steadier)
            res = dict(min(runs, key=lambda r: r["load_s"]))
            res["all_load_s"] = [r["load_s"] for r in runs]
            res["peak_rss"] = max(r["peak_rss"] for r in runs)
            res["all_peak_rss"] = [r["peak_rss"] for r in runs]
            assert read["rows"] == res["edges"], "the load lost or added edges"
            print("\n".join(report(fmt, path, read, res)))
            sys.stdout.flush()
    finally:
        if own_dir:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
