"""The round loop of one fragment: apply what arrived, run the app's step, route what it sent.

A :class:`FragmentWorker` is the same object in every executor: the local executor keeps one
per fragment in the caller's process, the Ray executor one inside each actor. A *bundle* is what
one fragment sends another in one round: a dict with optional entries ``"sync"`` (name ->
``(gids, values)``), ``"msg"`` and ``"mirror"`` (``(gids, values)``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import AnalyticsError
from .app import SYNC_AGGREGATORS, App
from .messages import Messages
from .view import FragmentPlan, FragmentView

Bundle = dict


@dataclass
class StepResult:
    """What a step hands back to the executor (the bundles travel separately on Ray)."""

    outbox: list[Bundle | None]
    sent: int
    continuing: bool
    reductions: dict[str, tuple[str, Any]] = field(default_factory=dict)
    seconds: float = 0.0


def _changed_mask(new: np.ndarray, old: np.ndarray) -> np.ndarray:
    diff = new != old
    if new.dtype.kind in "fc":
        diff &= ~(np.isnan(new) & np.isnan(old))
    if diff.ndim == 1:
        return diff
    return diff.reshape(len(diff), -1).any(axis=1) if diff.size else np.zeros(len(diff), bool)


def _concat(parts: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    if len(parts) == 1:
        return parts[0]
    return (np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]))


class FragmentWorker:
    """Runs one app over one fragment, one step at a time."""

    def __init__(self, plan: FragmentPlan, app: App):
        self.view = FragmentView(plan)
        self.app = app
        self.state = app.init(self.view)
        self.round = 0
        for name, agg in app.sync.items():
            if agg not in SYNC_AGGREGATORS:
                raise AnalyticsError(f"{app.name}: sync aggregator {agg!r} of {name!r} is not one"
                                     f" of {SYNC_AGGREGATORS}")
            arr = getattr(self.state, name, None)
            if not isinstance(arr, np.ndarray) or len(arr) != self.view.vnum:
                raise AnalyticsError(f"{app.name}: synced state {name!r} must be a numpy array of"
                                     f" length frag.vnum={self.view.vnum}")
        self._mirror_masks: dict[int, np.ndarray] = {}
        # inner lids some other fragment mirrors: the only inner slots a "copy" sync can ship
        ml = [m for m in self.view.mirror_lids if len(m)]
        self._mirrored = np.unique(np.concatenate(ml)) if ml else np.zeros(0, np.int64)

    # ------------------------------------------------------------------ one step
    def step(self, inbox: list[Bundle], reduced: dict[str, Any]) -> StepResult:
        """PEval on the first call, IncEval on the next ones."""
        t0 = time.perf_counter()
        messages = self._deliver(inbox, reduced)
        snapshot = self._snapshot()
        if self.round == 0:
            self.app.peval(self.view, self.state, messages)
        else:
            self.app.inceval(self.view, self.state, messages)
        self.round += 1
        outbox = [None] * self.view.fnum
        sent = self._collect(messages, snapshot, outbox)
        return StepResult(outbox, sent, messages.continuing, messages.reductions,
                          time.perf_counter() - t0)

    def output(self) -> dict[str, np.ndarray]:
        """The app's result columns over the inner vertices."""
        out = self.app.output(self.view, self.state)
        for name, arr in out.items():
            if len(arr) != self.view.ivnum:
                raise AnalyticsError(f"{self.app.name}: output {name!r} has {len(arr)} values for"
                                     f" {self.view.ivnum} inner vertices")
        return out

    def _snapshot(self) -> dict[str, np.ndarray]:
        """Copies of the synced slots a step may change and the runtime must ship afterwards:
        the mirrored inner slots of a "copy" array, the outer slots of a "min" / "max" one."""
        iv = self.view.ivnum
        snapshot = {}
        for name, agg in self.app.sync.items():
            arr = getattr(self.state, name)
            if agg == "copy":
                snapshot[name] = arr[self._mirrored]
            elif agg != "sum":
                snapshot[name] = arr[iv:].copy()
        return snapshot

    # ------------------------------------------------------------------ incoming
    def _deliver(self, inbox: list[Bundle], reduced: dict[str, Any]) -> Messages:
        view = self.view
        syncs: dict[str, list] = {}
        msgs, mirrors = [], []
        for bundle in inbox:
            if not bundle:
                continue
            for name, part in bundle.get("sync", {}).items():
                syncs.setdefault(name, []).append(part)
            if "msg" in bundle:
                msgs.append(bundle["msg"])
            if "mirror" in bundle:
                mirrors.append(bundle["mirror"])
        changed = {name: self._apply_sync(name, *_concat(parts)) for name, parts in syncs.items()}
        received = received_on_mirrors = None
        if msgs:
            gids, values = _concat(msgs)
            received = (view.lids(gids), values)
        if mirrors:
            gids, values = _concat(mirrors)
            received_on_mirrors = (view.lids(gids), values)
        return Messages(self.round, received, received_on_mirrors, changed, reduced)

    def _apply_sync(self, name: str, gids: np.ndarray, values: np.ndarray) -> np.ndarray:
        arr = getattr(self.state, name)
        lids = self.view.lids(gids)
        agg = self.app.sync[name]
        if agg == "copy":
            old = arr[lids].copy()
            arr[lids] = values
            return np.sort(lids[_changed_mask(arr[lids], old)])
        ulids = np.unique(lids)
        old = arr[ulids].copy()
        {"min": np.minimum, "max": np.maximum, "sum": np.add}[agg].at(arr, lids, values)
        return ulids[_changed_mask(arr[ulids], old)]

    # ------------------------------------------------------------------ outgoing
    def _bundle(self, outbox: list, d: int) -> Bundle:
        if outbox[d] is None:
            outbox[d] = {}
        return outbox[d]

    def _mirror_mask(self, d: int) -> np.ndarray:
        if d not in self._mirror_masks:
            mask = np.zeros(self.view.ivnum, dtype=bool)
            mask[self.view.mirror_lids[d]] = True
            self._mirror_masks[d] = mask
        return self._mirror_masks[d]

    def _route_to_owners(self, gids: np.ndarray, values: np.ndarray, outbox: list,
                         put) -> int:
        owner = self.view.owner(gids)
        for d in np.unique(owner):
            sel = owner == d
            put(self._bundle(outbox, int(d)), (gids[sel], values[sel]))
        return len(gids)

    def _collect(self, messages: Messages, snapshot: dict, outbox: list) -> int:
        view, state = self.view, self.state
        iv = view.ivnum
        sent = 0
        for name, agg in self.app.sync.items():
            arr = getattr(state, name)

            def put_sync(bundle, part, name=name):
                bundle.setdefault("sync", {})[name] = part

            if agg == "copy":
                mirrored = self._mirrored
                if not len(mirrored):
                    continue
                moved = _changed_mask(arr[mirrored], snapshot[name])
                if not moved.any():
                    continue
                changed = np.zeros(iv, dtype=bool)
                changed[mirrored[moved]] = True
                for d in range(view.fnum):
                    ml = view.mirror_lids[d]
                    sel = ml[changed[ml]] if len(ml) else ml
                    if len(sel):
                        put_sync(self._bundle(outbox, d), (view.gids[sel], arr[sel].copy()))
                        sent += len(sel)
                continue
            if agg == "sum":
                idx = np.flatnonzero(_changed_mask(arr[iv:], np.zeros_like(arr[iv:]))) + iv
                values = arr[idx].copy()
                arr[idx] = 0
            else:
                idx = np.flatnonzero(_changed_mask(arr[iv:], snapshot[name])) + iv
                values = arr[idx].copy()
            if len(idx):
                sent += self._route_to_owners(view.gids[idx], values, outbox, put_sync)
        if messages.sent:
            sent += self._route_to_owners(*_concat(messages.sent), outbox,
                                          lambda b, part: b.__setitem__("msg", part))
        if messages.sent_to_mirrors:
            lids, values = _concat(messages.sent_to_mirrors)
            for d in range(view.fnum):
                if not len(view.mirror_lids[d]):
                    continue
                sel = self._mirror_mask(d)[lids]
                if sel.any():
                    self._bundle(outbox, d)["mirror"] = (view.gids[lids[sel]], values[sel])
                    sent += int(sel.sum())
        return sent
