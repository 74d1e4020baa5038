"""The fragments' per-round exchange: direct TCP connections between the fragment actors, as
GRAPE's workers exchange messages over MPI.

A PIE run on the cluster is one call per actor (:meth:`FragmentActor.run`): the actors step,
exchange and decide to stop among themselves, with no round trip through the driver and no
object-store copy per round. Every actor holds a connection to every other one (a full mesh,
formed by the driver before the first run: :func:`listen` on every actor, then
:meth:`Group.join` with everyone's address and a random key that opens the connections). A
round is one all-to-all: every fragment sends every other one a message, a header (the sizes
of its pickled reductions and of its pickled bundle for that fragment, the values it sent,
whether it continues, the app's bytes between fragments, the step's microseconds) followed by
the two, and reads one message from each. All the sends and receives of a round progress
together on non-blocking sockets (one :mod:`selectors` loop), so a round costs one network
latency plus its bytes. Every fragment then knows all the headers, so all alike know whether
the run is over (nothing sent, nobody continuing).

Why not a collective library: on a 2-vCPU machine with 4 processes, gloo's
``all_to_all_single`` (``torch.distributed``, what this module used before) took 1.0-1.6 ms
for 16-128 KiB per pair of fragments and 10 ms for 2 MiB, this loop 0.7-1.0 and 7 ms
(``bench/exchange.py``); and gloo needs torch imported in every actor (1-2 s and ~200 MB each).

Reductions are folded in fragment order with :func:`~graphengine.pie.messages.combine`,
the driver's order on the local executor, so the results are the same bit for bit.

A fragment that fails (an app error) closes its connections, so the others' next exchange
fails at once (a ``ConnectionError``, not a graphengine error: the driver reports the failing
fragment's own error, or recovers a dead actor) instead of waiting; an actor process that dies
closes its sockets with the same effect. The driver forms the mesh again (:func:`listen`,
:meth:`Group.join`) after either.
"""

from __future__ import annotations

import hmac
import pickle
import selectors
import socket
import struct
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..pie.messages import combine

#: An exchange waits this long for a slow peer (a peer that dies is noticed at once: its
#: connections close), so a long step of one fragment never breaks the others' wait.
TIMEOUT = 2 * 3600.0
#: Forming the mesh waits this long for the other actors' connections.
JOIN_TIMEOUT = 120.0
#: A message's header: sizes of the reductions and of the bundle, values sent, continuing,
#: bytes between fragments (the app's count), the step's microseconds.
_HEAD = struct.Struct("<6q")
#: Random bytes that open a connection to a mesh (see :meth:`Group.join`).
KEY_BYTES = 16
_HELLO = struct.Struct(f"<{KEY_BYTES}sq")  # (key, rank): the first bytes on a new connection
#: A new connection must say who it is within this long.
HELLO_TIMEOUT = 5.0

def listen(ip: str | None = None) -> socket.socket:
    """A listening socket for the next mesh, on ``ip`` (default: this Ray node's address);
    its ``getsockname()[:2]`` is what the other actors connect to."""
    if ip is None:
        import ray

        ip = ray.util.get_node_ip_address()
    listener = socket.socket(socket.AF_INET6 if ":" in ip else socket.AF_INET)
    listener.bind((ip, 0))
    listener.listen()
    return listener


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
    """This actor's connections to the other fragment actors (one mesh per actor process)."""

    rank: int
    size: int
    peers: dict[int, socket.socket]
    stats: list[RoundStats] = field(default_factory=list)
    _buffers: dict[int, np.ndarray] = field(default_factory=dict)

    @classmethod
    def join(cls, listener: socket.socket, addresses: list[tuple[str, int]], rank: int,
             key: bytes) -> Group:
        """Join the mesh of ``addresses`` as ``rank`` (every actor calls this at once, each
        with its :func:`listen` socket, closed here): connect to the lower ranks, accept the
        higher ones. ``key`` (:data:`KEY_BYTES` random bytes from the driver, new for every
        mesh) opens every connection; one without it (an abandoned attempt's, a stranger's)
        is closed: what travels on the mesh is unpickled."""
        size = len(addresses)
        peers: dict[int, socket.socket] = {}
        deadline = time.monotonic() + JOIN_TIMEOUT
        try:
            for j in range(rank):
                s = socket.create_connection(addresses[j], timeout=JOIN_TIMEOUT)
                peers[j] = s
                s.sendall(_HELLO.pack(key, rank))
            while len(peers) < size - 1:
                listener.settimeout(max(0.0, deadline - time.monotonic()))
                s, _ = listener.accept()  # TimeoutError once the deadline passes
                s.settimeout(min(HELLO_TIMEOUT, max(0.001, deadline - time.monotonic())))
                try:
                    hello = s.recv(_HELLO.size, socket.MSG_WAITALL)
                except OSError:
                    hello = b""
                peer = None
                if len(hello) == _HELLO.size:
                    their_key, peer = _HELLO.unpack(hello)
                    if not hmac.compare_digest(their_key, key) or not rank < peer < size \
                            or peer in peers:
                        peer = None
                if peer is None:
                    s.close()
                    continue
                peers[peer] = s
        except BaseException:
            for s in peers.values():
                s.close()
            raise
        finally:
            listener.close()
        for s in peers.values():
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            s.setblocking(False)
        return cls(rank, size, peers)

    def _buffer(self, peer: int, n: int) -> memoryview:
        """``n`` bytes to read a message from ``peer`` into: the buffer of the rounds before
        when it is large enough (what was read from it is unpickled, copied, before the
        exchange returns), else a larger one (no fresh pages to fault in every round)."""
        buf = self._buffers.get(peer)
        if buf is None or len(buf) < n:
            buf = self._buffers[peer] = np.empty(max(n, 2 * len(buf) if buf is not None else n),
                                                 np.uint8)
        return memoryview(buf)[:n]

    def close(self) -> None:
        """Leave the mesh (the peers' next exchange fails at once)."""
        for s in self.peers.values():
            s.close()
        self.peers.clear()

    def exchange(self, outbox: list, reductions: dict[str, tuple[str, Any]], sent: int,
                 continuing: bool, nbytes: int, seconds: float
                 ) -> tuple[list, dict[str, Any], bool]:
        """One round's exchange: ``(inbox, reduced, done)`` for the next step, ``inbox`` the
        bundles for this fragment in sender order, ``reduced`` the folded reductions."""
        me = self.rank
        red = pickle.dumps(reductions, protocol=5) if reductions else b""
        out = {}
        for d in self.peers:
            b = outbox[d]
            blob = b"" if b is None else pickle.dumps(b, protocol=5)
            head = _HEAD.pack(len(red), len(blob), sent, int(continuing), nbytes,
                              int(seconds * 1e6))
            out[d] = [memoryview(x) for x in (head, red, blob) if x]
        heads = {me: (len(red), 0, sent, int(continuing), nbytes, int(seconds * 1e6))}
        payloads = self._all_to_all(out, heads)
        table = np.array([heads[s] for s in range(self.size)], dtype=np.int64)
        done = int(table[:, 2].sum()) == 0 and int(table[:, 3].sum()) == 0
        inbox: list = []
        reduced: dict[str, Any] = {}
        if not done:
            for s in range(self.size):  # fold in sender order, as the driver does on one machine
                if s == me:
                    parts = (reductions, None)
                else:
                    r, total = int(table[s, 0]), int(table[s, 0] + table[s, 1])
                    payload = payloads[s]
                    parts = (pickle.loads(payload[:r]) if r else {},
                             pickle.loads(payload[r:total]) if total > r else None)
                for name, (op, value) in parts[0].items():
                    reduced[name] = combine(op, reduced[name], value) if name in reduced \
                        else value
                if parts[1] is not None:
                    inbox.append(parts[1])
        self.stats.append(RoundStats(seconds=0.0, slowest_step=float(table[:, 5].max()) / 1e6,
                                     sent=int(table[:, 2].sum()),
                                     nbytes=int(table[:, 4].sum())))
        return inbox, reduced, done

    def _all_to_all(self, out: dict[int, list[memoryview]], heads: dict[int, tuple]
                    ) -> dict[int, memoryview]:
        """Send ``out[d]`` (buffers) to every peer ``d`` and read one message from each: its
        header into ``heads``, its payload returned. Sends and receives progress together."""
        sel = selectors.DefaultSelector()
        head_buf = {s: bytearray(_HEAD.size) for s in self.peers}
        recv = {s: memoryview(head_buf[s]) for s in self.peers}  # what is left to read
        payloads: dict[int, memoryview] = {}
        try:
            for s, sock in self.peers.items():
                sel.register(sock, selectors.EVENT_READ | selectors.EVENT_WRITE, s)
            waiting = len(self.peers)
            while waiting:
                events = sel.select(TIMEOUT)
                if not events:
                    raise TimeoutError(f"fragment {self.rank}: no word from the other"
                                       f" fragments in {TIMEOUT:.0f} s")
                for key, mask in events:
                    s, sock = key.data, key.fileobj
                    if mask & selectors.EVENT_WRITE and out[s]:
                        _send_some(sock, out[s], s)
                    if mask & selectors.EVENT_READ and s in recv:
                        recv[s] = view = _recv_some(sock, recv[s], s)
                        if not len(view):
                            if s not in heads:  # the header is in: now its payload
                                heads[s] = _HEAD.unpack(head_buf[s])
                                n = heads[s][0] + heads[s][1]
                                payloads[s] = recv[s] = self._buffer(s, n)
                            if not len(recv[s]):
                                del recv[s]
                    events_left = (selectors.EVENT_READ if s in recv else 0) | \
                        (selectors.EVENT_WRITE if out[s] else 0)
                    if events_left != key.events:
                        if events_left:
                            sel.modify(sock, events_left, s)
                        else:
                            sel.unregister(sock)
                            waiting -= 1
        except OSError:  # a peer left (failed or died) or went silent: leave too
            self.close()
            raise
        finally:
            sel.close()
        return payloads


def _recv_some(sock: socket.socket, view: memoryview, peer: int) -> memoryview:
    """Read what has arrived into ``view``; what is left of it."""
    try:
        k = sock.recv_into(view)
    except BlockingIOError:
        return view
    except OSError as e:
        raise ConnectionError(f"fragment {peer} left the exchange ({e})") from e
    if k == 0:
        raise ConnectionError(f"fragment {peer} left the exchange")
    return view[k:]


def _send_some(sock: socket.socket, bufs: list[memoryview], peer: int) -> None:
    """Send what the socket takes of ``bufs`` now; drop what went out from the list."""
    try:
        k = sock.sendmsg(bufs)
    except BlockingIOError:
        return
    except OSError as e:
        raise ConnectionError(f"fragment {peer} left the exchange ({e})") from e
    while k:
        if k >= len(bufs[0]):
            k -= len(bufs.pop(0))
        else:
            bufs[0] = bufs[0][k:]
            k = 0


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
        group.close()  # the others' next exchange fails now, not after the timeout
        raise


def round_stats(stats: list[RoundStats]) -> list[dict]:
    """The driver's per-round dicts (``seconds``, ``nbytes``, ``slowest_step``, ``sent``)."""
    return [{"seconds": s.seconds, "nbytes": s.nbytes, "slowest_step": s.slowest_step,
             "sent": s.sent} for s in stats]


__all__ = ["Group", "RoundStats", "listen", "round_stats", "run_rounds"]
