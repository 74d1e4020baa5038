"""The fragments' per-round exchange: collectives between the fragment actors over
``torch.distributed``'s gloo backend (TCP), as GRAPE's workers exchange messages over MPI.

A PIE run on the cluster is one call per actor (:meth:`FragmentActor.run_rounds`): the actors
step, exchange and decide to stop among themselves, with no round trip through the driver
and no object-store copy per round. Each round is one collective in the steady state: an
``all_to_all_single`` of equal *slots*, one per pair of fragments. The slot for fragment ``d``
holds a small header (the sizes of the sender's payloads for every fragment, the size of its
reductions, the values it sent, whether it continues, the app's bytes between fragments and
the step's microseconds), then the payload for ``d``: the pickled reductions of the sender
followed by its pickled bundle for ``d``. Every fragment then knows all the headers, so all
alike know whether the run is over (nothing sent, nobody continuing) and whether a payload
outgrew its slot: then a second ``all_to_all_single`` carries the rest, with exact sizes, and
the slot grows for the next rounds (it shrinks when the payloads do). Apps whose messages keep
their size from round to round (PageRank's, BFS's frontier bitmaps) pay one collective per
round after the first.

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
#: The smallest slot of a round's exchange (bytes per pair of fragments).
MIN_SLOT = 1 << 14


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
    slot: int = 1 << 16  # bytes per fragment pair in a round's exchange (all ranks agree)

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
        import numpy as np
        import torch
        import torch.distributed as dist

        n, me, slot = self.size, self.rank, self.slot
        red = pickle.dumps(reductions, protocol=5) if reductions else b""
        blobs = [b"" if b is None or d == me else pickle.dumps(b, protocol=5)
                 for d, b in enumerate(outbox)]
        head = np.array([len(b) for b in blobs] + [len(red), sent, int(continuing), nbytes,
                        int(seconds * 1e6)], dtype=np.int64)
        hb = head.nbytes
        cap = slot - hb
        # payload for d: the reductions, then the bundle for d; its first ``cap`` bytes go in
        # d's slot after the header, the rest (if any) in the overflow exchange
        sendbuf = torch.empty(n * slot, dtype=torch.uint8)
        sview = sendbuf.numpy()
        spill: list[bytes] = []
        for d in range(n):
            base = d * slot
            sview[base:base + hb] = head.view(np.uint8)
            if d == me:
                spill.append(b"")
                continue
            payload = (red, blobs[d])
            at, over = base + hb, []
            room = cap
            for part in payload:
                k = min(room, len(part))
                if k:
                    sview[at:at + k] = np.frombuffer(part, np.uint8, k)
                    at, room = at + k, room - k
                if k < len(part):
                    over.append(memoryview(part)[k:])
            spill.append(b"".join(over))
        recvbuf = torch.empty(n * slot, dtype=torch.uint8)
        dist.all_to_all_single(recvbuf, sendbuf)
        rview = recvbuf.numpy()
        table = np.stack([rview[s * slot:s * slot + hb].view(np.int64) if s != me else head
                          for s in range(n)])
        sizes, red_sizes = table[:, :n], table[:, n]
        totals = sizes + red_sizes[:, None]
        np.fill_diagonal(totals, 0)
        done = int(table[:, n + 1].sum()) == 0 and int(table[:, n + 2].sum()) == 0
        over_recv = [max(0, int(totals[s, me]) - cap) for s in range(n)]
        extra = None
        if not done and int(totals.max()) > cap:  # someone's payload outgrew the slot
            extra = torch.empty(sum(over_recv), dtype=torch.uint8)
            data = bytearray().join(spill)
            dist.all_to_all_single(extra, torch.frombuffer(data, dtype=torch.uint8)
                                   if data else torch.empty(0, dtype=torch.uint8),
                                   over_recv, [len(x) for x in spill])
        if not done:  # the last round's (empty) payloads say nothing of the next run's
            self.slot = _slot_for(hb + int(totals.max()), slot)
        inbox: list = []
        reduced: dict[str, Any] = {}
        if not done:
            xview = memoryview(extra.numpy()) if extra is not None else None
            xat = 0
            for s in range(n):  # fold in sender order, as the driver does on one machine
                if s == me:
                    parts = (reductions, None)
                else:
                    total = int(totals[s, me])
                    base = s * slot + hb
                    payload = memoryview(rview[base:base + min(total, cap)])
                    if over_recv[s]:
                        payload = memoryview(bytes(payload) + xview[xat:xat + over_recv[s]])
                        xat += over_recv[s]
                    r = int(red_sizes[s])
                    parts = (pickle.loads(payload[:r]) if r else {},
                             pickle.loads(payload[r:total]) if total > r else None)
                for name, (op, value) in parts[0].items():
                    reduced[name] = combine(op, reduced[name], value) if name in reduced \
                        else value
                if parts[1] is not None:
                    inbox.append(parts[1])
        self.stats.append(RoundStats(seconds=0.0, slowest_step=float(table[:, n + 4].max()) / 1e6,
                                     sent=int(table[:, n + 1].sum()),
                                     nbytes=int(table[:, n + 3].sum())))
        return inbox, reduced, done


def _slot_for(need: int, slot: int) -> int:
    """The next round's slot size, from this round's largest header + payload (every fragment
    computes the same from the same table): grown to ``need`` and a quarter (rounded up to
    4 KiB) when it outgrew the slot, shrunk so when a round needs less than an eighth of it,
    never below :data:`MIN_SLOT`."""
    if need > slot or need * 8 < slot:
        return max(MIN_SLOT, -(-(need + need // 4) // 4096) * 4096)
    return slot


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
