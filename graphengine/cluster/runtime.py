"""The driver's side of a Ray cluster session: the fragment actors, their placement, the
registry of graph versions and where each can be restored from, and the PIE round loop.

Actors are created in one placement group (one bundle per fragment, ``SPREAD``: one per node
where the cluster has several) and are not detached, so they end with the Ray job (a killed
driver leaves none behind). A fragment actor that dies is recreated in its bundle and takes
over the object-store copies of the fragments it held (driver-owned, so they outlive it) or,
for a graph loaded from disk, reads its fragment again from the saved directory.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
import secrets
import threading
import time
from collections.abc import Callable, Sequence

import numpy as np

from ..errors import AnalyticsError, ClusterError, GraphEngineError
from . import exchange
from .actor import FragmentActor, Head

log = logging.getLogger(__name__)

#: Restarts of a PIE run after a fragment actor died, before giving up.
MAX_RESTARTS = 3


def import_ray():
    try:
        import ray
    except ImportError as e:  # pragma: no cover - ray is an optional dependency
        raise ClusterError("cluster='ray' needs the ray package (pip install ray)") from e
    return ray


def unwrap(error: BaseException) -> BaseException:
    """The graphengine error a Ray task raised (Ray wraps it in a RayTaskError)."""
    cause = getattr(error, "cause", None)
    return cause if isinstance(cause, GraphEngineError) else error



def _threads_per_actor(ray, pg, n: int) -> list[int]:
    """Kernel threads for each fragment actor: its node's CPUs shared by the actors the
    placement group put there (1 where that is not known)."""
    from ray.util import placement_group_table

    placed = placement_group_table(pg).get("bundles_to_node_id", {})
    nodes = [placed.get(f, placed.get(str(f))) for f in range(n)]
    cpus = {node["NodeID"]: node.get("Resources", {}).get("CPU", 1.0)
            for node in ray.nodes() if node.get("Alive")}
    return [max(1, int(cpus.get(node, 1.0) // nodes.count(node))) if node else 1
            for node in nodes]

class RayCluster:
    """Fragment actors on a Ray cluster, one per fragment, and the versions they hold."""

    def __init__(self, num_fragments: int, address: str | None = None,
                 bundle: dict[str, float] | None = None):
        ray = self.ray = import_ray()
        self.fnum = num_fragments
        self.started = False
        if not ray.is_initialized():
            os.environ.setdefault("RAY_AUTH_MODE", "disabled")
            try:
                # None starts Ray here ("local"), whatever cluster /tmp/ray's address file names
                ray.init(address=address or "local", include_dashboard=False,
                         log_to_driver=False)
            except (ConnectionError, RuntimeError, ValueError) as e:
                raise ClusterError(f"cannot reach the Ray cluster at {address!r}: {e}") from e
            self.started = True
        from ray.util.placement_group import placement_group

        self.bundle = dict(bundle or {"CPU": 0.01})
        self.pg = placement_group([self.bundle] * num_fragments, strategy="SPREAD")
        try:
            ray.get(self.pg.ready(), timeout=120)
        except ray.exceptions.GetTimeoutError as e:
            raise ClusterError(f"the cluster cannot place {num_fragments} fragment actors"
                               f" ({self.bundle} each): {ray.cluster_resources()}") from e
        self._actor_cls = ray.remote(FragmentActor)
        self.threads = _threads_per_actor(ray, self.pg, num_fragments)
        self.actors = [self._make_actor(f) for f in range(num_fragments)]
        self.get([a.ping.remote() for a in self.actors])  # the session is ready when they are
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        # version -> the fragments' object-store references (one per fid)
        self.refs: dict[int, list] = {}
        # version -> (saved directory, manifest entries, head) where it was saved / loaded
        self.disk: dict[int, tuple[str, list[dict], Head]] = {}
        self.prepared: set[int] = set()
        self.edge_ready: dict[int, set[str]] = {}
        #: seconds spent per actor method (summed over calls; the driver's wall time)
        self.seconds: dict[str, float] = {}
        self._in_run = False
        self._joined = False
        self.closed = False

    def _make_actor(self, fid: int):
        from ray.util.scheduling_strategies import PlacementGroupSchedulingStrategy

        strategy = PlacementGroupSchedulingStrategy(self.pg, placement_group_bundle_index=fid)
        return self._actor_cls.options(
            num_cpus=self.bundle.get("CPU", 0), max_restarts=0, max_task_retries=0,
            scheduling_strategy=strategy).remote(fid, self.fnum, self.threads[fid])

    def next_id(self) -> int:
        with self._lock:
            return next(self._ids)

    # ------------------------------------------------------------------ calls
    def get(self, refs):
        """``ray.get`` that raises the graphengine error a worker raised, as the local path
        would (the first failing fragment's)."""
        try:
            return self.ray.get(refs)
        except self.ray.exceptions.RayTaskError as e:
            raise unwrap(e) from None

    def call(self, method: str, args: Callable[[int], Sequence] | Sequence,
             actors: Sequence | None = None) -> list:
        """Call ``method`` on every fragment actor (``args(fid)`` or the same ``args``)."""
        actors = actors if actors is not None else self.actors
        t0 = time.perf_counter()
        refs = [getattr(a, method).remote(*(args(f) if callable(args) else args))
                for f, a in enumerate(actors)]
        try:
            out = self.get(refs)
        except self.ray.exceptions.RayActorError as e:
            if self._in_run:  # the run restarts itself
                raise
            dead = self.dead()
            how = self.recover(dead) if dead else []
            log.warning("fragment actor(s) %s died during %s; recreated (%s)", dead, method,
                        "; ".join(how))
            raise ClusterError(f"a fragment actor died during {method} (recreated from the"
                               f" object store or the last save: call again): {e}") from e
        self._timed(method, t0)
        return out

    def _timed(self, phase: str, t0: float) -> None:
        dt = time.perf_counter() - t0
        self.seconds[phase] = self.seconds.get(phase, 0.0) + dt
        log.debug("%s on %d actors: %.3fs", phase, self.fnum, dt)

    def nodes(self) -> list[str]:
        """The node id of each fragment actor."""
        return self.call("node", ())

    # ------------------------------------------------------------------ versions
    def publish(self, version: int) -> None:
        """Move a version's fragments to the object store (driver-owned) and let the actors
        work on those copies: they outlive the actors."""
        t0 = time.perf_counter()
        refs = [a.publish.remote(version) for a in self.actors]
        self.get([a.adopt.remote(version, [r]) for a, r in zip(self.actors, refs)])
        self.refs[version] = refs
        self._timed("publish", t0)

    def on_disk(self, version: int, root: str, entries: list[dict], head: Head) -> None:
        """Record that a version can be read back from a saved directory (the last one)."""
        self.disk[version] = (root, entries, head)

    def release(self, version: int) -> None:
        """The driver dropped a graph version: the actors forget it."""
        if self.closed:
            return
        self.refs.pop(version, None)
        self.disk.pop(version, None)
        self.prepared.discard(version)
        self.edge_ready.pop(version, None)
        with contextlib.suppress(Exception):  # Ray may already be shutting down
            for a in self.actors:
                a.drop.remote([version])

    def fragments(self, version: int) -> list:
        """The fragments of a version, brought to the driver (``Graph.to_local``)."""
        if version in self.refs:
            return self.get(self.refs[version])
        return self.call("fragment", (version,))

    # ------------------------------------------------------------------ faults
    def dead(self) -> list[int]:
        """Fragments whose actor no longer answers."""
        ray = self.ray
        out = []
        for f, a in enumerate(self.actors):
            try:
                ray.get(a.ping.remote(), timeout=60)
            except (ray.exceptions.RayActorError, ray.exceptions.GetTimeoutError):
                out.append(f)
        return out

    def recover(self, fids: list[int]) -> list[str]:
        """Recreate the actors of ``fids`` in their bundles; each takes over its fragment of
        every version the driver holds (object store copy, or the saved directory)."""
        how = []
        for f in fids:
            with contextlib.suppress(Exception):  # already dead
                self.ray.kill(self.actors[f])
            actor = self._make_actor(f)
            self.actors[f] = actor
            self._joined = False  # the new actor joins the exchange group before the next run
            # a version the driver drops meanwhile (its graph garbage-collected: release())
            # leaves self.refs / self.disk at any point of this loop; it is skipped
            for version in sorted(set(self.refs) | set(self.disk)):
                refs = self.refs.get(version)
                if refs is not None:
                    try:
                        self.ray.get(actor.adopt.remote(version, [refs[f]]))
                        how.append(f"fragment {f} of version {version} from the object store")
                        continue
                    except self.ray.exceptions.RayError as e:
                        if version not in self.disk and version in self.refs:
                            raise ClusterError(f"fragment {f} of version {version} is lost"
                                               f" (not in the object store, never saved): {e}"
                                               ) from e
                saved = self.disk.get(version)
                if saved is None:
                    continue
                root, entries, head = saved
                self.get(actor.load.remote(version, root, entries[f], head))
                how.append(f"fragment {f} of version {version} from the snapshot {root}")
        self.prepared.clear()  # mirrors and edge values are exchanged again
        self.edge_ready.clear()
        return how

    # ------------------------------------------------------------------ PIE
    def prepare(self, version: int, head: Head, edge_properties: Sequence[str]) -> None:
        """Exchange what the plans need between the actors, once per version: who mirrors
        which inner vertex, and the requested edge properties along every fragment's lists."""
        if version not in self.prepared:
            parts = self.call("outer_parts", (version, head))
            self.call("set_mirrors", lambda f: (version, [parts[d][f] for d in range(self.fnum)]))
            self.prepared.add(version)
        names = [n for n in edge_properties if n not in self.edge_ready.get(version, ())]
        if not names:
            return
        for name in names:
            if not any(name in e.schema.names for e in head.schema.edge_labels):
                raise AnalyticsError(f"edge property {name!r} is not in the graph")
        asks = self.call("edge_requests", (version, head))
        answers = self.call("edge_answers", lambda f: (version, head, names,
                                                      [asks[d][f] for d in range(self.fnum)]))
        self.call("set_edge_values", lambda f: (version, head, names,
                                               [answers[d][f] for d in range(self.fnum)]))
        self.edge_ready.setdefault(version, set()).update(names)

    def run(self, version: int, head: Head, app) -> tuple[list, dict, list[dict]]:
        """Run ``app`` on the resident fragments; restart it when a fragment actor dies.
        Returns the output references (one per fragment), the column dtypes and per round
        its wall seconds, the bytes sent between fragments, the values sent and the slowest
        step's seconds."""
        for attempt in range(MAX_RESTARTS + 1):
            self._in_run = True
            try:
                return self._run_once(version, head, app)
            except self.ray.exceptions.RayError as e:
                dead = self.dead()
                if not dead or attempt == MAX_RESTARTS:
                    raise ClusterError(f"{app.name}: the run failed on the cluster: {e}") from e
                how = self.recover(dead)
                log.warning("%s: fragment actor(s) %s died during the run (%s); recreated (%s);"
                            " restarting the run (attempt %d)", app.name, dead,
                            type(e).__name__, "; ".join(how), attempt + 2)
            finally:
                self._in_run = False
        raise AssertionError("unreachable")

    def _join(self) -> None:
        """Form the fragments' exchange group (again after a failed run or a new actor)."""
        if self._joined:
            return
        addresses = self.get([a.exchange_address.remote() for a in self.actors])
        key = secrets.token_bytes(exchange.KEY_BYTES)
        self.get([a.join_exchange.remote(addresses, key) for a in self.actors])
        self._joined = True

    def _run_once(self, version: int, head: Head, app) -> tuple[list, dict, list[dict]]:
        self.prepare(version, head, tuple(app.edge_properties))
        self._join()
        outs = [a.run.remote(version, app) for a in self.actors]
        try:
            infos = self._get_each([o[0] for o in outs])
        except BaseException:
            self._joined = False  # a fragment left the group when it failed
            raise
        rounds = [dict(r, seconds=max(info[1][i]["seconds"] for info in infos))
                  for i, r in enumerate(infos[0][1])]
        for i, r in enumerate(rounds):
            log.info("%s round %d: %d values (%d bytes) between fragments, slowest step %.4fs,"
                     " round %.4fs", app.name, i, r["sent"], r["nbytes"], r["slowest_step"],
                     r["seconds"])
        self.ray.wait([o[1] for o in outs], num_returns=len(outs), fetch_local=False)
        return [o[1] for o in outs], infos[0][0], rounds

    def _get_each(self, refs: list) -> list:
        """Every result of ``refs``; when some failed, the graphengine error one of them
        raised (the cause: the others fail in the exchange after it), else the first."""
        ray = self.ray
        ray.wait(refs, num_returns=len(refs))
        got, errors = [], []
        for ref in refs:
            try:
                got.append(ray.get(ref))
            except ray.exceptions.RayError as e:
                errors.append(e)
        if errors:
            cause = next((unwrap(e) for e in errors if unwrap(e) is not e), None)
            if cause is not None:
                raise cause from None
            raise errors[0]
        return got

    # ------------------------------------------------------------------ end
    def shutdown(self) -> None:
        """Kill the actors and free their placement; stop Ray if this session started it."""
        if self.closed:
            return
        self.closed = True
        ray = self.ray
        for a in self.actors:
            with contextlib.suppress(Exception):  # already dead
                ray.kill(a)
        from ray.util.placement_group import remove_placement_group

        with contextlib.suppress(Exception):  # the cluster is gone
            remove_placement_group(self.pg)
        if self.started:
            ray.shutdown()


def first_eids(start: int, counts: np.ndarray) -> np.ndarray:
    """``out[r, f]``: the first edge id of share ``r``'s edges into fragment ``f`` when
    fragment ``f``'s block of ``counts[:, f].sum()`` ids starts at ``start`` plus the blocks
    of fragments before it (fragments in order, shares in order inside)."""
    counts = np.asarray(counts, dtype=np.int64)
    per_frag = counts.sum(axis=0)
    frag_start = start + np.concatenate([[0], np.cumsum(per_frag)[:-1]])
    within = np.cumsum(counts, axis=0) - counts
    return frag_start[None, :] + within
