"""What one fragment's step receives and sends: explicit messages, sync changes, aggregates.

A :class:`Messages` object is handed to ``peval`` / ``inceval``; the worker fills its incoming
side before the step and collects its outgoing side after it (see :mod:`graphengine.pie.app`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

_EMPTY_LIDS = np.zeros(0, dtype=np.int64)
REDUCE_OPS = ("sum", "min", "max", "or")


class Messages:
    """The message manager of one fragment for one step."""

    def __init__(self, round: int, received: tuple[np.ndarray, np.ndarray] | None = None,
                 received_on_mirrors: tuple[np.ndarray, np.ndarray] | None = None,
                 changed: dict[str, np.ndarray | Callable[[], np.ndarray]] | None = None,
                 reduced: dict[str, Any] | None = None):
        self.round = round
        self._received = received
        self._received_on_mirrors = received_on_mirrors
        self._changed = changed or {}
        self._reduced = reduced or {}
        self.reported: dict[str, list[np.ndarray]] = {}
        self.sent: list[tuple[np.ndarray, np.ndarray]] = []
        self.sent_to_mirrors: list[tuple[np.ndarray, np.ndarray]] = []
        self.reductions: dict[str, tuple[str, Any]] = {}
        self.continuing = False

    # ------------------------------------------------------------------ incoming
    def received(self) -> tuple[np.ndarray, np.ndarray]:
        """``(lids, values)`` of the explicit messages sent to this fragment's inner vertices."""
        if self._received is None:
            return _EMPTY_LIDS, np.zeros(0)
        return self._received

    def received_on_mirrors(self) -> tuple[np.ndarray, np.ndarray]:
        """``(lids, values)`` sent by owners to this fragment's outer vertices."""
        if self._received_on_mirrors is None:
            return _EMPTY_LIDS, np.zeros(0)
        return self._received_on_mirrors

    def changed(self, name: str) -> np.ndarray:
        """Local ids whose synced array ``name`` the last synchronization changed (ascending)."""
        lids = self._changed.get(name, _EMPTY_LIDS)
        if callable(lids):  # computed on the first call only
            lids = self._changed[name] = lids()
        return lids

    def reduced(self, name: str, default: Any = None) -> Any:
        """The reduction over all fragments of what the previous step passed to :meth:`reduce`."""
        return self._reduced.get(name, default)

    # ------------------------------------------------------------------ outgoing
    def report_changed(self, name: str, lids: np.ndarray) -> None:
        """Say which slots of synced array ``name`` this step changed, for an array the app
        lists in ``sync_tracked`` (``"min"``, ``"max"`` or ``"copy"``): the runtime then ships
        exactly those slots (outer ones for min / max, inner ones for copy; the others are
        ignored) instead of comparing the whole array with a copy taken before the step. A
        change not reported is not shipped; reporting an unchanged slot only costs bytes."""
        self.reported.setdefault(name, []).append(np.ascontiguousarray(lids, dtype=np.int64))

    def send(self, gids: np.ndarray, values: np.ndarray) -> None:
        """Send ``values[i]`` to the fragment owning global id ``gids[i]``."""
        _queue(self.sent, gids, values, "send")

    def send_to_mirrors(self, lids: np.ndarray, values: np.ndarray) -> None:
        """Send ``values[i]`` of inner vertex ``lids[i]`` to every fragment that mirrors it."""
        _queue(self.sent_to_mirrors, lids, values, "send_to_mirrors")

    def reduce(self, name: str, value: Any, op: str = "sum") -> None:
        """Contribute to the global ``op`` reduction ``name`` (read next step): a scalar for
        ``"sum"`` / ``"min"`` / ``"max"``; for ``"or"`` a uint8 numpy array of the same length
        in every fragment, combined by bitwise or (a bitmap over global ids, as Graph500's
        distributed BFS exchanges its frontier). Arrays must not be written after the call."""
        if op not in REDUCE_OPS:
            raise ValueError(f"reduce: op must be one of {REDUCE_OPS}, got {op!r}")
        if op == "or" and not (isinstance(value, np.ndarray) and value.dtype == np.uint8
                               and value.ndim == 1):
            raise ValueError(f"reduce {name!r}: op 'or' takes a 1-D uint8 numpy array")
        if name in self.reductions:
            value = combine(op, self.reductions[name][1], value)
        self.reductions[name] = (op, value)

    def force_continue(self) -> None:
        """Do not vote to halt after this step (the run goes on for another round)."""
        self.continuing = True


def combine(op: str, a: Any, b: Any) -> Any:
    """``a`` and ``b`` folded with the reduction ``op``."""
    if op == "sum":
        return a + b
    if op == "min":
        return min(a, b)
    if op == "or":
        if a.shape != b.shape:
            raise ValueError(f"reduce 'or': arrays of {len(a)} and {len(b)} bytes")
        return np.bitwise_or(a, b)
    return max(a, b)


def reductions_nbytes(reductions: dict[str, tuple[str, Any]]) -> int:
    """Bytes of the array-valued reductions of a step (what a bitmap exchange ships)."""
    return sum(v.nbytes for _, v in reductions.values() if isinstance(v, np.ndarray))


def _queue(queue: list, ids: np.ndarray, values: np.ndarray, what: str) -> None:
    """Append ``(ids, values)`` to an outgoing queue (nothing when empty)."""
    ids = np.ascontiguousarray(ids, dtype=np.int64)
    values = np.asarray(values)
    if len(ids) != len(values):
        raise ValueError(f"{what}: {len(ids)} ids but {len(values)} values")
    if len(ids):
        queue.append((ids, values))
