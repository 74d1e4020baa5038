"""Store load benchmark: an R-MAT graph as Parquet and CSV, loaded into fragments.

For each file format it prints, measured in the same run:

- load time (``Graph.add_edges`` from the file path, directed: CSR + CSC + edge ids) against the
  time pyarrow alone takes to read the same file (target: load <= 3x read);
- store bytes per edge (``Graph.nbytes / edge_count``; target <= 40);
- peak RSS of the load against the store size (target: peak <= 2.5x store).

Loads and pyarrow reads are timed the same way: each runs in fresh ``spawn`` subprocesses
(``--repeat``), each subprocess makes ``--calls`` calls in a row. The first call of a process
is *cold*: every buffer it fills is memory the process has never touched, and first touches
are expensive on a VM (page faults the host serves). Later calls are *warm*: the process
reuses memory the previous call freed. Both ratios are printed, cold / cold (best first call
of each side) and warm / warm (best later call of each side), and the same with medians: on a
VM the spread between runs is wide (first touches of memory cost what the host makes them).

A load subprocess first warms Numba (compiles, or loads its cache) on a tiny graph and reports
that time apart, and records its RSS after imports and warm-up as the baseline; the peak RSS
(``VmHWM`` of ``/proc/self/status``) is read right after its first load, so it belongs to
that one load. A sampling thread records RSS every 5 ms so the table can say in which step of
the load the peak happens (``--profile`` adds cProfile).

    python bench/load.py --scale 20 --fragments 4
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import math
import multiprocessing as mp
import os
import platform
import shutil
import statistics
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
    """Peak resident set size of this process's own memory so far, in bytes (``VmHWM``).

    Not ``getrusage().ru_maxrss``: Linux carries that over an exec from the process that forked,
    so a spawned subprocess starts with its parent's RSS as its peak (the parent here holds the
    generated graph: ~970 MiB, which every load reported as its peak once the store was small
    enough to peak below it)."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    raise OSError("no VmHWM in /proc/self/status")


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

def generate(scale: int, edge_factor: int, seed: int, workdir: Path) -> tuple[dict, int, float]:
    """Write the R-MAT edge list as Parquet and CSV; returns ``({format: path}, number of
    distinct endpoint ids, seconds)``."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    from graphengine.datasets import rmat_edges

    t0 = time.perf_counter()
    src, dst = rmat_edges(scale, edge_factor=edge_factor, seed=seed)
    vertices = len(np.union1d(src, dst))
    table = pa.table({"src": src, "dst": dst})
    del src, dst
    paths = {"parquet": workdir / f"rmat{scale}.parquet", "csv": workdir / f"rmat{scale}.csv"}
    pq.write_table(table, paths["parquet"])
    pacsv.write_csv(table, paths["csv"])
    return paths, vertices, time.perf_counter() - t0


# ------------------------------------------------------------------ measurements (subprocesses)

def read_only(path: str, calls: int) -> dict:
    """Times of ``calls`` reads of the file into a table by pyarrow alone (no graphengine),
    with the options ``graphengine.store.sources`` reads with: the read inside the load, made
    alone (Parquet without pre-buffering, CSV in 16 MiB blocks; both as fast as pyarrow's
    defaults on this file, see BENCHMARKS.md)."""
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    times = []
    rows = 0
    for _ in range(calls):
        t0 = time.perf_counter()
        if path.endswith(".parquet"):
            table = pq.read_table(path, pre_buffer=False)
        else:
            table = pacsv.read_csv(path, read_options=pacsv.ReadOptions(block_size=1 << 24))
        times.append(time.perf_counter() - t0)
        rows = table.num_rows
        del table
    return {"times": times, "rows": rows}


def load(path: str, fragments: int, calls: int, profile: bool) -> dict:
    """Load the file into a directed graph ``calls`` times; the times of all, the RSS figures,
    steps and store breakdown of the first (cold) load, the steps of the fastest later one."""
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

    times, runs = [], []
    for call in range(calls):
        sampler = RssSampler()
        steps = StepTimer()
        steps.install()
        profiler = None
        if profile and call == calls - 1:
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
        times.append(time.perf_counter() - t_start)
        samples = sampler.stop()
        steps.uninstall()
        run = {"load_s": times[-1], "steps": step_table(steps.calls, samples, t_start)}
        if call == 0:
            run.update({
                "peak_rss": peak_rss(), "final_rss": current_rss(),
                "arrow_allocated": pa.total_allocated_bytes(),
                "store_bytes": g.nbytes, "edges": g.edge_count, "vertices": g.vertex_count,
                "breakdown": store_breakdown(g),
                "rss_trace": [(t - t_start, r) for t, r in samples]})
        if profiler:
            import io
            import pstats

            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(15)
            run["profile"] = out.getvalue()
        runs.append(run)
        del g
    result = dict(runs[0])
    result.update({"import_s": t_import, "warm_s": warm_s, "baseline_rss": baseline,
                   "arrow_pool": pa.default_memory_pool().backend_name, "times": times})
    if calls > 1:
        fastest = min(runs[1:], key=lambda r: r["load_s"])
        result["warm_steps"] = fastest["steps"]
        result["profile"] = runs[-1].get("profile")
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


def calls_of(times: list[list[float]], warm: bool) -> list[float]:
    """The first calls (cold) or the later calls (warm) of all subprocesses."""
    return [t for ts in times for t in (ts[1:] if warm else ts[:1])]


def best(times: list[list[float]], warm: bool) -> float:
    """The best first call (cold) or best later call (warm) over the subprocesses' times."""
    pool = calls_of(times, warm)
    return min(pool) if pool else float("nan")


def median(times: list[list[float]], warm: bool) -> float:
    pool = calls_of(times, warm)
    return statistics.median(pool) if pool else float("nan")


def fmt_times(times: list[list[float]], warm: bool) -> str:
    return ", ".join(f"{t:.2f}" for ts in times for t in (ts[1:] if warm else ts[:1]))


def report(fmt: str, path: Path, reads: list[dict], loads: list[dict]) -> list[str]:
    res = loads[0]
    store = res["store_bytes"]
    bpe = store / res["edges"]
    peak, base = max(r["peak_rss"] for r in loads), res["baseline_rss"]
    read_times = [r["times"] for r in reads]
    load_times = [r["times"] for r in loads]
    warm = len(load_times[0]) > 1 and len(read_times[0]) > 1
    ratio_cold = best(load_times, False) / best(read_times, False)
    ratio_warm = best(load_times, True) / best(read_times, True) if warm else float("nan")
    median_cold = median(load_times, False) / median(read_times, False)
    median_warm = median(load_times, True) / median(read_times, True) if warm else float("nan")
    ratio_peak = peak / store
    ratio_peak_net = (peak - base) / store
    lines = [
        (f"\n== {fmt}: {path.name} ({path.stat().st_size / MiB:.0f} MiB),"
         f" {res['vertices']:,} vertices, {res['edges']:,} edges"),
        f"  numba warm-up (compile or cache load) {res['warm_s']:8.2f} s   (not in the load time)",
        (f"  pyarrow read only, cold             {best(read_times, False):8.2f} s"
         f"   (first call of each process: {fmt_times(read_times, False)})"),
        (f"  graphengine load, cold              {best(load_times, False):8.2f} s"
         f"   ({fmt_times(load_times, False)})"),
    ]
    if warm:
        lines += [
            (f"  pyarrow read only, warm             {best(read_times, True):8.2f} s"
             f"   (later calls: {fmt_times(read_times, True)})"),
            (f"  graphengine load, warm              {best(load_times, True):8.2f} s"
             f"   ({fmt_times(load_times, True)})")]
    lines += [
        f"  store size (g.nbytes)               {store / MiB:8.1f} MiB",
        f"  RSS after imports + warm-up         {base / MiB:8.1f} MiB",
        (f"  peak RSS of a first load            {peak / MiB:8.1f} MiB   (highest of "
         + ", ".join(f"{r['peak_rss'] / MiB:.0f}" for r in loads) + ")"),
        f"  RSS after the first load            {res['final_rss'] / MiB:8.1f} MiB",
        f"  Arrow pool ({res['arrow_pool']}) bytes in use   {res['arrow_allocated'] / MiB:8.1f} MiB",
        "  store breakdown:",
    ]
    for name, b in res["breakdown"].items():
        lines.append(f"    {name:<22} {b / MiB:8.1f} MiB  {b / res['edges']:6.2f} B/edge")
    trace = res["rss_trace"]
    if trace:
        t_peak, r_peak = max(trace, key=lambda s: s[1])
        lines.append(f"  sampled RSS peak {r_peak / MiB:.0f} MiB at {t_peak:.2f} s of the first"
                     f" load ({res['load_s']:.2f} s)")
    fastest_cold = min(loads, key=lambda r: r["load_s"])
    step_sets = [("first (cold) load", fastest_cold["steps"], fastest_cold["load_s"])]
    if warm:
        fastest_warm = min(loads, key=lambda r: min(r["times"][1:]))
        step_sets.append(("fastest warm load", fastest_warm["warm_steps"],
                          min(fastest_warm["times"][1:])))
    for title, steps, total in step_sets:
        lines.append(f"  steps of the {title} (store kernels and file read; the rest is glue):")
        timed = 0.0
        for name, calls, secs, rss in steps:
            timed += secs
            peak_note = f"RSS up to {rss / MiB:7.0f} MiB" if rss else "(shorter than a sample)"
            lines.append(f"    {name:<22} {calls:3d} calls {secs:7.3f} s   {peak_note}")
        lines.append(f"    {'other':<22}           {total - timed:7.3f} s")
        read = sum(secs for name, _, secs, _ in steps if name == "read_source")
        lines.append(f"    load minus its file read        {total - read:7.3f} s   (the store's own work)")
    lines.append("  ratio                              value   target  verdict")
    for name, value, target in (
            ("load / pyarrow read, cold", ratio_cold, TARGET_LOAD_OVER_READ),
            ("load / pyarrow read, warm", ratio_warm, TARGET_LOAD_OVER_READ),
            ("  same, medians: cold", median_cold, TARGET_LOAD_OVER_READ),
            ("  same, medians: warm", median_warm, TARGET_LOAD_OVER_READ),
            ("bytes per directed edge", bpe, TARGET_BYTES_PER_EDGE),
            ("peak RSS / store", ratio_peak, TARGET_PEAK_OVER_STORE),
            ("(peak RSS - baseline) / store", ratio_peak_net, TARGET_PEAK_OVER_STORE)):
        if not math.isnan(value):
            lines.append(f"  {name:<32} {value:7.2f}   <= {target:<4g}  {verdict(value <= target)}")
    if res.get("profile"):
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
    parser.add_argument("--repeat", type=int, default=3,
                        help="fresh subprocesses per format and side (load, read); best times"
                             " and the highest peak RSS are reported (3)")
    parser.add_argument("--calls", type=int, default=3,
                        help="calls per subprocess: the first is cold, the others warm (3)")
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
        paths, vertices, gen_s = generate(args.scale, args.edge_factor, args.seed, workdir)
        print(f"generated {', '.join(str(p) for p in paths.values())} in {gen_s:.1f} s")
        for fmt in args.formats:
            path = paths[fmt]
            # reads and loads alternate, so a slow spell of the VM hits both sides
            reads, loads = [], []
            for _ in range(args.repeat):
                reads.append(in_subprocess(read_only, str(path), args.calls))
                loads.append(in_subprocess(load, str(path), args.fragments, args.calls,
                                           args.profile))
            assert all(r["rows"] == loads[0]["edges"] for r in reads), "the load lost or added edges"
            assert loads[0]["vertices"] == vertices, (
                f"the load made {loads[0]['vertices']} vertices, the file has {vertices} ids")
            print("\n".join(report(fmt, path, reads, loads)))
            sys.stdout.flush()
    finally:
        if own_dir:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
