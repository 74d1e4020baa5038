"""Executors: run a PIE app round by round over all fragments and assemble its context.

* ``"local"``: one :class:`~graphengine.pie.worker.FragmentWorker` per fragment in the caller's
  process. With several fragments and Numba threads, the fragments' steps of a round run at
  once on a pool of threads (as many as fragments or Numba threads, whichever is fewer), each
  with its share of the Numba threads: the kernels release the GIL (``nogil``), so serial
  kernels (WCC's union-find) overlap as the fragments' workers would on their own machines.
  One fragment: its kernels have every Numba thread (``parallel=True`` inside the step).
* ``"ray"``: one actor per fragment; the fragment reaches it through the object store
  (zero-copy Arrow buffers) and so do the per-round message bundles, which go from actor to
  actor as object references without passing through the driver.

Both run the same BSP loop (:func:`_rounds`), so results do not depend on the executor.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numba
import numpy as np

from ..errors import AnalyticsError
from ..store import Graph
from .app import App
from .context import Context
from .messages import combine
from .view import make_plans
from .worker import FragmentWorker, StepResult

log = logging.getLogger(__name__)

EXECUTORS = ("local", "ray")


def run_app(graph: Graph, app: App, executor: str = "local") -> Context:
    """Run ``app`` over every fragment of ``graph`` until it terminates.

    Args:
        graph: the graph (or a projection of it) to analyze.
        app: the app instance, holding its parameters.
        executor: ``"local"`` (fragments in this process) or ``"ray"`` (an actor per fragment;
            Ray is started with ``ray.init(num_cpus=2, include_dashboard=False)`` if needed).

    Returns:
        A :class:`~graphengine.pie.context.Context` over all vertices in global-id order.

    Raises:
        AnalyticsError: unknown executor, or an input the app does not support.
    """
    run_resident = getattr(graph, "run_pie", None)
    if run_resident is not None:  # a distributed graph (graphengine.cluster) runs where it lives
        return run_resident(app, executor)
    if executor not in EXECUTORS:
        raise AnalyticsError(f"executor must be one of {EXECUTORS}, got {executor!r}")
    if not isinstance(graph, Graph):
        raise AnalyticsError(f"{app.name}: expected a graphengine Graph, got {type(graph).__name__}")
    app.check(graph)
    t0 = time.perf_counter()
    plans = make_plans(graph, app)
    runner = _run_local if executor == "local" else _run_ray
    stats: list[dict] = []
    outputs, rounds = runner(plans, app, stats=stats)
    gids, order = graph.result_order  # once per graph version
    columns = {}
    for name in outputs[0]:
        parts = [np.asarray(o[name]) for o in outputs]
        column = parts[0] if len(parts) == 1 else np.concatenate(parts)
        columns[name] = column if order is None else column[order]
    seconds = time.perf_counter() - t0
    log.info("%s: %d rounds on %d fragments (%s) in %.3fs, %d bytes between fragments", app.name,
             rounds, graph.fnum, executor, seconds, sum(s["nbytes"] for s in stats))
    ctx = Context(graph, gids, columns, app.result)
    ctx.stats = {"app": app.name, "executor": executor, "fragments": graph.fnum,
                 "rounds": stats, "seconds": seconds}
    return ctx


def _rounds(fnum: int, app: App, step: Callable[[list, dict], list[StepResult]],
            bundles_of: Callable[[StepResult, int], Any], stats: list | None = None) -> int:
    """The BSP loop: step every fragment, route the bundles, stop when all is quiet.

    Appends to ``stats`` (when given) one dict per round: ``seconds`` (the round's wall time),
    ``slowest_step`` (seconds), ``sent`` (values shipped) and ``nbytes`` (bytes of the bundles
    that went from one fragment to another).
    """
    inbox: list[list] = [[] for _ in range(fnum)]
    reduced: dict[str, Any] = {}
    rnd = 0
    while True:
        t0 = time.perf_counter()
        results = step(inbox, reduced)
        sent = sum(r.sent for r in results)
        nbytes = sum(r.nbytes for r in results)
        continuing = sum(r.continuing for r in results)
        reduced = {}
        for r in results:
            for name, (op, value) in r.reductions.items():
                reduced[name] = combine(op, reduced[name], value) if name in reduced else value
        slowest = max(r.seconds for r in results)
        log.info("%s round %d: %d values (%d bytes) in flight, %d/%d fragments continue,"
                 " slowest step %.4fs", app.name, rnd, sent, nbytes, continuing, fnum, slowest)
        rnd += 1
        done = sent == 0 and continuing == 0
        if not done:
            inbox = [[] for _ in range(fnum)]
            for r in results:
                for d in range(fnum):
                    b = bundles_of(r, d)
                    if b is not None:
                        inbox[d].append(b)
        if stats is not None:
            stats.append({"seconds": time.perf_counter() - t0, "slowest_step": slowest,
                          "sent": sent, "nbytes": nbytes})
        if done:
            return rnd


# ---------------------------------------------------------------------- local
def _run_local(plans, app: App, stats: list | None = None) -> tuple[list[dict], int]:
    workers = [FragmentWorker(p, app) for p in plans]
    threads = numba.get_num_threads()
    lanes = min(len(workers), threads)
    # the Numba thread count is per calling thread: each lane gets its share
    pool = ThreadPoolExecutor(lanes, thread_name_prefix="graphengine-fragment",
                              initializer=numba.set_num_threads,
                              initargs=(max(1, threads // lanes),)) if lanes > 1 else None

    def step(inbox, reduced):
        if pool is None:
            return [w.step(inbox[f], reduced) for f, w in enumerate(workers)]
        return list(pool.map(lambda f: workers[f].step(inbox[f], reduced), range(len(workers))))

    try:
        rounds = _rounds(len(workers), app, step, lambda r, d: r.outbox[d], stats)
    finally:
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
    return [w.output() for w in workers], rounds


# ---------------------------------------------------------------------- ray
_actor_pool: dict[str, list] = {}


def ensure_ray():
    """Import Ray and start it (2 CPUs, no dashboard) unless the caller already did."""
    try:
        import ray
    except ImportError as e:  # pragma: no cover - ray is an optional dependency
        raise AnalyticsError("executor='ray' needs the ray package (pip install ray)") from e
    if not ray.is_initialized():
        os.environ.setdefault("RAY_AUTH_MODE", "disabled")
        # address="local": a Ray of our own, even when `ray start` left a cluster running here
        ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    return ray


def _actors(ray, n: int) -> list:
    """``n`` fragment actors, reused across runs within one Ray session."""
    # job ids restart at 01000000 in every new Ray cluster: key by the cluster's node too
    ctx = ray.get_runtime_context()
    key = f"{ctx.gcs_address}/{ctx.get_node_id()}/{ctx.get_job_id()}"
    pool = _actor_pool.setdefault(key, [])
    for stale in [k for k in _actor_pool if k != key]:
        del _actor_pool[stale]
    actor_cls = ray.remote(num_cpus=0)(FragmentActor)
    while len(pool) < n:
        pool.append(actor_cls.remote())
    return pool[:n]


class FragmentActor:
    """Holds one :class:`FragmentWorker` in a Ray actor; bundles go out as object refs."""

    def __init__(self):
        self.worker: FragmentWorker | None = None

    def start(self, plan, app: App, threads: int) -> int:
        # the kernels' threads: this actor's share of the CPUs (several actors with every
        # core's worth of OpenMP threads each spin against one another)
        self.threads = max(1, min(threads, numba.config.NUMBA_NUM_THREADS))
        numba.set_num_threads(self.threads)
        self.worker = FragmentWorker(plan, app)
        return self.worker.view.ivnum

    def step(self, inbox_refs: list, reduced: dict):
        import ray

        numba.set_num_threads(self.threads)  # per thread in Numba
        inbox = ray.get(inbox_refs) if inbox_refs else []
        result = self.worker.step(inbox, reduced)
        refs = [ray.put(b) if b is not None else None for b in result.outbox]
        result.outbox = refs
        return result

    def output(self) -> dict:
        out = self.worker.output()
        self.worker = None
        return out


def _run_ray(plans, app: App, stats: list | None = None) -> tuple[list[dict], int]:
    ray = ensure_ray()
    actors = _actors(ray, len(plans))
    threads = max(1, int(ray.cluster_resources().get("CPU", 1)) // len(plans))
    ray.get([a.start.remote(ray.put(p), app, threads) for a, p in zip(actors, plans)])

    def step(inbox, reduced):
        if any(isinstance(v, np.ndarray) for v in reduced.values()):
            reduced = ray.put(reduced)  # a bitmap: in the object store once, not per call
        return ray.get([a.step.remote(inbox[f], reduced) for f, a in enumerate(actors)])

    rounds = _rounds(len(actors), app, step, lambda r, d: r.outbox[d], stats)
    return ray.get([a.output.remote() for a in actors]), rounds
