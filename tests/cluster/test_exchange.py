"""The fragments' exchange mesh (``cluster/exchange.py``) without Ray: three groups in threads
of this process over loopback, checked against what each sent."""

from __future__ import annotations

import socket
import struct
import threading
import time

import numpy as np
import pytest

from graphengine.cluster import exchange
from graphengine.cluster.exchange import Group, listen

N = 3


KEY = bytes(range(16))


def mesh(strays: bool = False) -> list[Group]:
    """``N`` groups joined at once; ``strays``: connections without this mesh's key (an
    abandoned attempt's, a stranger's, one that says nothing) reach rank 0 first and must be
    turned away."""
    listeners = [listen("127.0.0.1") for _ in range(N)]
    addresses = [ln.getsockname()[:2] for ln in listeners]
    others = []
    if strays:
        for hello in (bytes(16) + struct.pack("<q", 2), KEY[::-1] + struct.pack("<q", 1),
                      KEY + struct.pack("<q", 7), b"GET / HTTP/1.1\r\n\r\n", b""):
            s = socket.create_connection(addresses[0])
            s.sendall(hello)
            others.append(s)
    groups: list[Group | None] = [None] * N

    def join(r: int) -> None:
        groups[r] = Group.join(listeners[r], addresses, r, KEY)

    threads = [threading.Thread(target=join, args=(r,)) for r in range(N)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    for s in others:
        s.close()
    assert all(g is not None for g in groups)
    return groups  # type: ignore[return-value]


def run_all(groups: list[Group], args_of) -> list:
    """Every group's ``exchange(*args_of(rank))`` at once; results (or raised errors)."""
    out: list = [None] * len(groups)

    def one(r: int) -> None:
        try:
            out[r] = groups[r].exchange(*args_of(r))
        except Exception as e:  # noqa: BLE001 - returned for the test to check
            out[r] = e

    threads = [threading.Thread(target=one, args=(r,)) for r in range(len(groups))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return out


def payload(s: int, d: int, rnd: int) -> np.ndarray:
    # several MB for one pair (more than a socket buffer: sends and reads in pieces)
    n = 1_500_000 if (s, d) == (1, 2) else 10 * (s + 1) + d
    return np.arange(n, dtype=np.int64) * (rnd + 1) + 1000 * s + d


def bitmap(s: int) -> np.ndarray:
    bits = np.zeros(64, dtype=np.uint8)
    bits[s] = 1 << s
    return bits


def test_rounds_deliver_in_sender_order_and_fold_reductions(monkeypatch):
    monkeypatch.setattr(exchange, "HELLO_TIMEOUT", 0.5)  # the silent stray's wait
    groups = mesh(strays=True)
    kept = []  # every round's inboxes, checked again at the end (read buffers are reused)
    try:
        for rnd in range(3):
            def args(r, rnd=rnd):
                outbox = [{"from": r, "msg": (payload(r, d, rnd), None)} if d != r else None
                          for d in range(N)]
                reductions = {"n": ("sum", r + 1), "lo": ("min", 10 - r),
                              "bits": ("or", bitmap(r))}
                return outbox, reductions, 5 * r, rnd < 2, 100 + r, 0.001 * (r + 1)

            results = run_all(groups, args)
            for d, res in enumerate(results):
                assert not isinstance(res, Exception), res
                inbox, reduced, done = res
                assert not done
                assert [b["from"] for b in inbox] == [s for s in range(N) if s != d]
                for b in inbox:
                    np.testing.assert_array_equal(b["msg"][0], payload(b["from"], d, rnd))
                assert reduced["n"] == 6 and reduced["lo"] == 8
                np.testing.assert_array_equal(reduced["bits"], np.bitwise_or.reduce(
                    [bitmap(s) for s in range(N)]))
                kept.append((rnd, d, inbox))
                last = groups[d].stats[-1]
                assert (last.sent, last.nbytes) == (15, 303)
                assert last.slowest_step == pytest.approx(0.003)
        for rnd, d, inbox in kept:
            for b in inbox:
                np.testing.assert_array_equal(b["msg"][0], payload(b["from"], d, rnd))
        # nothing sent and nobody continuing: every fragment sees the end
        results = run_all(groups, lambda r: ([None] * N, {}, 0, False, 0, 0.0))
        assert all(res[2] for res in results)
    finally:
        for g in groups:
            g.close()


def test_a_fragment_that_leaves_fails_the_others_at_once():
    groups = mesh()
    try:
        groups[2].close()  # as a fragment whose step raised, or whose process died
        t0 = time.perf_counter()
        results = run_all(groups[:2], lambda r: ([None] * N, {}, 1, True, 0, 0.0))
        assert time.perf_counter() - t0 < 10
        for res in results:
            assert isinstance(res, ConnectionError), res
            assert "left the exchange" in str(res)
    finally:
        for g in groups:
            g.close()
