"""The fragments' per-round exchange: collectives between the fragment actors over
``torch.distributed``'s gloo backend (TCP), as GRAPE's workers exchange messages over MPI.

A PIE run on the cluster is one call per actor (:meth:`FragmentActor.run_rounds`): the actors
step, exchange and decide to stop among themselves, with no round trip through the driver
and no object-store copy per round. Each round is two collectives:

1. ``all_gather`` of a small header per fragment: the sizes of its payloads for every other
   fragment, the size of its reductions, the values it sent, whether it continues, the app's
   bytes between fragments and the step's microseconds. Every fragment then knows what it will
   receive and whether the run is over (nothing sent, nobody continuing), all alike.
2. ``all_to_all_single`` of the payloads (skipped when there are none): for fragment ``d``,
   the pickled reductions of the sender followed by its pickled bundle for ``d``.

Reductions are folded in fragment order with :func:`~graphengine.pie.messages.combine`,
the driver's order on the local executor, so the results are the same bit for bit.

A fragment that fails (an app error) closes its side of the group, so the others' next
collective fails at once instead of waiting; an actor process that dies closes its sockets
with the same effect. The driver forms the group again (:func:`address`, :meth:`Group.join`)
after either.
"""

from __future__ import annotations

import contextlib
import datetime
import pickle
import socket
import time
from dataclasses import dataclass, field
from typing import Any

from ..pie.messages import combine

#: A collective waits this long for a slow peer (a peer that dies is noticed at once: its
#: connections close), so a long step of one fragment never breaks the others' wait.
TIMEOUT = datetime.timedelta(hours=2)
_HEAD = 5  # header fields after the per-fragment payload sizes


def address() -> tuple[str, int]:
    """``(ip, port)`` for the group's rendezvous: this node's address and a free port."""
    import ray

    ip = ray.util.get_node_ip_address()
    with socket.socket(socket.AF_INET6 if ":" in ip else socket.AF_INET) as s:
        s.bind(("", 0))
        return ip, s.getsockname()[1]


@dataclass
class RoundStats:
    """What every fragment reported for one round (``seconds``: this fragment's wall time of
    the round, step and exchange)."""

    seconds: float
    slowest_step: float
    sent: int
    nbytes: int


@dataclass
class Group:
    """This actor's membership in the fragments' gloo group (one per actor process)."""

    rank: int
    size: int
    epoch: int
    stats: list[RoundStats] = field(default_factory=list)

    @classmethod
    def join(cls, ip: str, port: int, rank: int, size: int, epoch: int) -> Group:
        """Join group ``epoch`` (every actor calls this at once; an older group is left)."""
        import torch.distributed as dist

        leave()
        host = f"[{ip}]" if ":" in ip else ip
        dist.init_process_group("gloo", init_method=f"tcp://{host}:{port}", rank=rank,
                                world_size=size, timeout=TIMEOUT)
        return cls(rank, size, epoch)

    def exchange(self, outbox: list, reductions: dict[str, tuple[str, Any]], sent: int,
                 continuing: bool, nbytes: int, seconds: float
                 ) -> tuple[list, dict[str, Any], bool]:
        """One round's exchange: ``(inbox, reduced, done)`` for the next step, ``inbox`` the
        bundles for this fragment in sender order, ``reduced`` the folded reductions."""
        import torch
        import torch.distributed as dist

        n, me = self.size, self.rank
        red = pickle.dumps(reductions, protocol=5) if reductions else b""
        blobs = [b"" if b is None or d == me else pickle.dumps(b, protocol=5)
                 for d, b in enumerate(outbox)]
        head = torch.tensor([len(b) for b in blobs] + [len(red), sent, int(continuing), nbytes,
                            int(seconds * 1e6)], dtype=torch.int64)
        heads = [torch.empty(n + _HEAD, dtype=torch.int64) for _ in range(n)]
        dist.all_gather(heads, head)
        table = torch.stack(heads).numpy()
        sizes, red_sizes = table[:, :n], table[:, n]
        done = int(table[:, n + 1].sum()) == 0 and int(table[:, n + 2].sum()) == 0
        inbox: list = []
        reduced: dict[str, Any] = {}
        if not done and (sizes.any() or red_sizes.any()):
            send = [red_sizes[me] + sizes[me, d] if d != me else 0 for d in range(n)]
            recv = [red_sizes[s] + sizes[s, me] if s != me else 0 for s in range(n)]
            data = bytearray()  # every payload copied once, into the buffer sent
            for d in range(n):
                if d != me:
                    data += red
                    data += blobs[d]
            out = torch.empty(sum(recv), dtype=torch.uint8)
            dist.all_to_all_single(out, torch.frombuffer(data, dtype=torch.uint8)
                                   if data else torch.empty(0, dtype=torch.uint8), recv, send)
            view = memoryview(out.numpy())
            at = 0
            for s in range(n):  # fold in sender order, as the driver does on one machine
                if s == me:
                    parts = (reductions, None)
                else:
                    r_end = at + int(red_sizes[s])
                    end = at + int(recv[s])
                    parts = (pickle.loads(view[at:r_end]) if r_end > at else {},
                             pickle.loads(view[r_end:end]) if end > r_end else None)
                    at = end
                for name, (op, value) in parts[0].items():
                    reduced[name] = combine(op, reduced[name], value) if name in reduced \
                        else value
                if parts[1] is not None:
                    inbox.append(parts[1])
        self.stats.append(RoundStats(seconds=0.0, slowest_step=float(table[:, n + 4].max()) / 1e6,
                                     sent=int(table[:, n + 1].sum()),
                                     nbytes=int(table[:, n + 3].sum())))
        return inbox, reduced, done


def leave() -> None:
    """Leave the group this process is in, if any (its peers' collectives then fail)."""
    import torch.distributed as dist

    if dist.is_initialized():
        with contextlib.suppress(Exception):  # a broken group: nothing left to close cleanly
            dist.destroy_process_group()


def run_rounds(group: Group, worker) -> int:
    """Run ``worker`` (a :class:`~graphengine.pie.worker.FragmentWorker`) to the end of the
    app, exchanging with the group after every step. Returns the number of rounds."""
    inbox: list = []
    reduced: dict[str, Any] = {}
    group.stats = []
    try:
        while True:
            t0 = time.perf_counter()
            result = worker.step(inbox, reduced)
            inbox, reduced, done = group.exchange(result.outbox, result.reductions, result.sent,
                                                  result.continuing, result.nbytes,
                                                  result.seconds)
            group.stats[-1].seconds = time.perf_counter() - t0
            if done:
                return len(group.stats)
    except BaseException:
        leave()  # the others' next collective fails now, not after the timeout
        raise


def round_stats(stats: list[RoundStats]) -> list[dict]:
    """The driver's per-round dicts (``seconds``, ``nbytes``, ``slowest_step``, ``sent``)."""
    return [{"seconds": s.seconds, "nbytes": s.nbytes, "slowest_step": s.slowest_step,
             "sent": s.sent} for s in stats]


__all__ = ["Group", "RoundStats", "address", "leave", "round_stats", "run_rounds"]
