"""The round loop of one fragment: apply what arrived, run the app's step, route what it sent.

A :class:`FragmentWorker` is the same object in every executor: the local executor keeps one
per fragment in the caller's process, the Ray executor one inside each actor. A *bundle* is what
one fragment sends another in one round, a plain dict of numpy arrays (it pickles with its
buffers out of band, so it travels through Ray's object store without a copy):

* ``"from"``: the sending fragment's id;
* ``"sync"``: name -> ``(positions, values)``: positions (int32) in the list of vertices the two
  fragments share (see :mod:`graphengine.pie.routing`), or ``None`` when ``values`` covers the
  whole list in order;
* ``"msg"``: ``(gids, values)`` of explicit messages to the receiver's inner vertices;
* ``"mirror"``: ``(positions, values)`` of messages to the receiver's outer vertices.
"""

from __future__ import annotations

import time
import weakref
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import AnalyticsError
from ..store import Fragment
from . import routing
from .app import SYNC_AGGREGATORS, App
from .messages import Messages, reductions_nbytes
from .view import FragmentPlan, FragmentView

Bundle = dict

# fragment -> (ptr, outer lids grouped by owning fragment): a function of the fragment alone
_outer_groups: weakref.WeakKeyDictionary[Fragment, tuple] = weakref.WeakKeyDictionary()
# fragment -> (owner, position in the shared list) of each outer vertex, for tracked syncs
_outer_slots: weakref.WeakKeyDictionary[Fragment, tuple] = weakref.WeakKeyDictionary()
# fragment -> (its mirror lists, their segments): the same while make_plans returns the same
# (cached) lists
_to_segments: weakref.WeakKeyDictionary[Fragment, tuple] = weakref.WeakKeyDictionary()


@dataclass
class StepResult:
    """What a step hands back to the executor (the bundles travel separately on Ray).

    ``sent`` counts the values shipped, ``nbytes`` the bytes of the bundles for other fragments
    and of the array-valued reductions (bitmaps).
    """

    outbox: list[Bundle | None]
    sent: int
    continuing: bool
    reductions: dict[str, tuple[str, Any]] = field(default_factory=dict)
    seconds: float = 0.0
    nbytes: int = 0


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


def _fast(arr: np.ndarray) -> bool:
    """Whether the Numba routing kernels take this synced array (1-D bool / int / float)."""
    return arr.ndim == 1 and arr.dtype.kind in "biuf"


def _bundle_nbytes(bundle: Bundle) -> int:
    total = 0
    for key, part in bundle.items():
        if key == "sync":
            total += sum(_bundle_nbytes({"p": p}) for p in part.values())
        elif isinstance(part, tuple):
            total += sum(a.nbytes for a in part if a is not None)
    return total


class FragmentWorker:
    """Runs one app over one fragment, one step at a time."""

    def __init__(self, plan: FragmentPlan, app: App):
        self.view = view = FragmentView(plan)
        self.app = app
        self.state = app.init(view)
        self.round = 0
        for name, agg in app.sync.items():
            if agg not in SYNC_AGGREGATORS:
                raise AnalyticsError(f"{app.name}: sync aggregator {agg!r} of {name!r} is not one"
                                     f" of {SYNC_AGGREGATORS}")
            arr = getattr(self.state, name, None)
            if not isinstance(arr, np.ndarray) or len(arr) != view.vnum:
                raise AnalyticsError(f"{app.name}: synced state {name!r} must be a numpy array of"
                                     f" length frag.vnum={view.vnum}")
        # what this fragment shares with each other one, in the order both sides agree on:
        # to_lids[to_ptr[d]:to_ptr[d+1]] its inner vertices fragment d mirrors,
        # from_lids[from_ptr[s]:from_ptr[s+1]] its outer vertices fragment s owns
        segments = _to_segments.get(plan.fragment)
        if segments is None or segments[0] is not plan.mirror_lids:  # new mirror lists
            segments = (plan.mirror_lids, *routing.segments(list(view.mirror_lids)))
            _to_segments[plan.fragment] = segments
        self._to_ptr, self._to_lids = segments[1:]
        groups = _outer_groups.get(plan.fragment)
        if groups is None:
            owner = view.owner(view.gids[view.ivnum:])
            ptr, order = routing.group_by(owner, view.fnum)
            groups = (ptr, order + view.ivnum)
            _outer_groups[plan.fragment] = groups
        self._from_ptr, self._from_lids = groups
        self._fragment = plan.fragment
        self._targets = None  # inverse of the mirror lists, for send_to_mirrors
        # synced arrays whose changed slots the app reports (no snapshot, no scan)
        self._tracked = set(getattr(app, "sync_tracked", ()))
        for name in self._tracked:
            if app.sync.get(name) not in ("min", "max", "copy"):
                raise AnalyticsError(f"{app.name}: sync_tracked {name!r} must be a synced array"
                                     f" with aggregator 'min', 'max' or 'copy'")
        self._scratch: dict[str, tuple] = {}  # per synced array: fold bookkeeping
        self._zeros: dict[str, np.ndarray] = {}

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
        outbox: list[Bundle | None] = [None] * self.view.fnum
        sent = self._collect(messages, snapshot, outbox)
        nbytes = sum(_bundle_nbytes(b) for d, b in enumerate(outbox)
                     if b is not None and d != self.view.fid)
        if self.view.fnum > 1:
            nbytes += reductions_nbytes(messages.reductions)
        return StepResult(outbox, sent, messages.continuing, messages.reductions,
                          time.perf_counter() - t0, nbytes)

    def output(self) -> dict[str, np.ndarray]:
        """The app's result columns over the inner vertices."""
        out = self.app.output(self.view, self.state)
        for name, arr in out.items():
            if len(arr) != self.view.ivnum:
                raise AnalyticsError(f"{self.app.name}: output {name!r} has {len(arr)} values for"
                                     f" {self.view.ivnum} inner vertices")
        return out

    def _segment(self, agg: str, outgoing: bool, d: int) -> np.ndarray:
        """Lids this fragment shares with fragment ``d`` for a synced array of ``agg``: inner
        lids ``d`` mirrors (copy out, min / max / sum in), else outer lids ``d`` owns."""
        if (agg == "copy") == outgoing:
            return self._to_lids[self._to_ptr[d]:self._to_ptr[d + 1]]
        return self._from_lids[self._from_ptr[d]:self._from_ptr[d + 1]]

    def _snapshot(self) -> dict[str, np.ndarray]:
        """Copies of the synced slots a step may change and the runtime must ship afterwards:
        the inner slots of a "copy" array, the outer slots of a "min" / "max" one."""
        if self.view.fnum == 1:
            return {}
        iv = self.view.ivnum
        snapshot = {}
        for name, agg in self.app.sync.items():
            if name in self._tracked:
                continue
            arr = getattr(self.state, name)
            if agg == "copy":
                if len(self._to_lids):
                    snapshot[name] = arr[:iv].copy()
            elif agg != "sum":
                snapshot[name] = arr[iv:].copy()
        return snapshot

    # ------------------------------------------------------------------ incoming
    def _deliver(self, inbox: list[Bundle], reduced: dict[str, Any]) -> Messages:
        syncs: dict[str, list] = {}
        msgs, mirrors = [], []
        for bundle in inbox:
            if not bundle:
                continue
            s = bundle["from"]
            for name, part in bundle.get("sync", {}).items():
                syncs.setdefault(name, []).append((s, part))
            if "msg" in bundle:
                msgs.append(bundle["msg"])
            if "mirror" in bundle:
                pos, values = bundle["mirror"]
                seg = self._segment("copy", False, s)
                mirrors.append((seg[pos], values))
        changed = {name: self._apply_sync(name, parts) for name, parts in syncs.items()}
        received = received_on_mirrors = None
        if msgs:
            gids, values = _concat(msgs)
            received = (self.view.lids(gids), values)
        if mirrors:
            received_on_mirrors = _concat(mirrors)
        return Messages(self.round, received, received_on_mirrors, changed, reduced)

    def _apply_sync(self, name: str, parts: list[tuple[int, tuple]]):
        """Fold what the senders shipped for synced array ``name``; the lids it changed (or a
        function that returns them)."""
        arr = getattr(self.state, name)
        agg = self.app.sync[name]
        if not _fast(arr):
            lids = [self._segment(agg, False, s) for s, _ in parts]
            lids = [seg if pos is None else seg[pos] for seg, (_, (pos, _)) in zip(lids, parts)]
            return _apply_sync_generic(arr, agg, np.concatenate(lids),
                                       np.concatenate([v for _, (_, v) in parts]))
        scratch = self._scratch.get(name)
        if scratch is None:
            n = len(arr)
            scratch = (np.zeros(n, np.bool_), np.empty(n, np.int64), np.empty(n, arr.dtype))
            self._scratch[name] = scratch
        mark, touched, old = scratch
        nt = 0
        if agg == "copy":
            for s, (pos, values) in parts:
                seg = self._segment(agg, False, s)
                dense = pos is None
                _check_part(name, s, seg, pos, values)
                nt = routing.copy_in(arr, seg, _NO_POS if dense else pos, dense, values,
                                     touched, nt)
                if nt < 0:
                    raise AnalyticsError(f"sync {name!r}: fragment {s} sent a position outside"
                                         f" the {len(seg)} vertices the two fragments share")
            changed = touched[:nt]
            return lambda: np.sort(changed)  # sorted if the step asks for it
        op = routing.FOLD_OPS[agg]
        for s, (pos, values) in parts:
            seg = self._segment(agg, False, s)
            dense = pos is None
            _check_part(name, s, seg, pos, values)
            nt = routing.fold(arr, seg, _NO_POS if dense else pos, dense, values, op, mark,
                              touched, nt, old)
            if nt < 0:
                mark[:] = False
                raise AnalyticsError(f"sync {name!r}: fragment {s} sent a position outside the"
                                     f" {len(seg)} vertices the two fragments share")
        return routing.changed_touched(arr, mark, touched, nt, old)

    # ------------------------------------------------------------------ outgoing
    def _bundle(self, outbox: list, d: int) -> Bundle:
        if outbox[d] is None:
            outbox[d] = {"from": self.view.fid}
        return outbox[d]

    def _positions(self, arr: np.ndarray, snap: np.ndarray, offset: int, ptr: np.ndarray,
                   lids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per fragment the positions in its shared list whose slot differs from ``snap``."""
        if _fast(arr) and snap.dtype == arr.dtype:
            return routing.changed_positions(arr, snap, offset, ptr, lids)
        counts = np.zeros(len(ptr) - 1, dtype=np.int64)
        pos = np.empty(len(lids), dtype=np.int32)
        for d in range(len(counts)):
            seg = lids[ptr[d]:ptr[d + 1]]
            k = np.flatnonzero(_changed_mask(arr[seg], snap[seg - offset]))
            counts[d] = len(k)
            pos[ptr[d]:ptr[d] + len(k)] = k
        return counts, pos

    def _collect(self, messages: Messages, snapshot: dict, outbox: list) -> int:
        view, state = self.view, self.state
        iv = view.ivnum
        sent = 0
        for name, agg in self.app.sync.items() if view.fnum > 1 else ():
            arr = getattr(state, name)
            if name in self._tracked:
                sent += self._ship_reported(name, agg, arr, messages.reported.get(name), outbox)
                continue
            if agg == "copy":
                if name not in snapshot:
                    continue
                ptr, lids = self._to_ptr, self._to_lids
                counts, pos = self._positions(arr, snapshot[name], 0, ptr, lids)
            else:
                ptr, lids = self._from_ptr, self._from_lids
                if agg == "sum":
                    if name not in self._zeros:
                        self._zeros[name] = np.zeros_like(arr[iv:])
                    snap = self._zeros[name]
                else:
                    snap = snapshot[name]
                counts, pos = self._positions(arr, snap, iv, ptr, lids)
            row_bytes = arr[:1].nbytes or 1
            for d in np.flatnonzero(counts):
                seg = lids[ptr[d]:ptr[d + 1]]
                p = pos[ptr[d]:ptr[d] + counts[d]]
                if agg == "copy" and counts[d] * (row_bytes + 4) >= len(seg) * row_bytes:
                    part = (None, arr[seg])  # most of the list changed: values alone, in order
                elif agg == "sum":
                    part = (p, routing.take_and_zero(arr, seg, p) if _fast(arr)
                            else _take_and_zero(arr, seg[p]))
                else:
                    part = (p, routing.gather(arr, seg, p) if _fast(arr) else arr[seg[p]])
                self._bundle(outbox, int(d)).setdefault("sync", {})[name] = part
                sent += len(part[1])
        sent += self._route_messages(messages, outbox)
        return sent

    def _ship_reported(self, name: str, agg: str, arr: np.ndarray, reported: list | None,
                       outbox: list) -> int:
        """Ship the slots of a tracked synced array the step reported as changed."""
        if not reported:
            return 0
        lids = np.concatenate(reported) if len(reported) > 1 else reported[0]
        iv = self.view.ivnum
        if agg == "copy":
            lids = lids[(lids >= 0) & (lids < iv)]
            if self._targets is None:
                self._targets = routing.mirror_targets(iv, self._to_ptr, self._to_lids)
            ptr, pos, idx = routing.route_to_mirrors(lids, *self._targets, self.view.fnum)
        else:
            lids = lids[(lids >= iv) & (lids < self.view.vnum)]
            if 3 * len(lids) >= 2 * self.view.ovnum:  # most outer slots: whole lists, values alone
                sent = 0
                for d in np.flatnonzero(np.diff(self._from_ptr)):
                    seg = self._segment(agg, True, int(d))
                    self._bundle(outbox, int(d)).setdefault("sync", {})[name] = (None, arr[seg])
                    sent += len(seg)
                return sent
            owner, slot_pos = self._slots_of_outer()
            ptr, idx = routing.group_by(owner[lids - iv], self.view.fnum)
            pos = slot_pos[lids - iv][idx]
        sent = 0
        for d in np.flatnonzero(np.diff(ptr)):
            a, b = ptr[d], ptr[d + 1]
            self._bundle(outbox, int(d)).setdefault("sync", {})[name] = (
                pos[a:b], arr[lids[idx[a:b]]])
            sent += int(b - a)
        return sent

    def _slots_of_outer(self) -> tuple[np.ndarray, np.ndarray]:
        """``(owner, position)`` of each outer vertex (row ``lid - ivnum``): its owning fragment
        and its position in the list the two share; once per store fragment."""
        frag = self._fragment
        slots = _outer_slots.get(frag)
        if slots is None:
            iv = self.view.ivnum
            owner = np.repeat(np.arange(self.view.fnum), np.diff(self._from_ptr))
            slot_pos = np.arange(len(self._from_lids)) - self._from_ptr[owner]
            order = self._from_lids - iv
            slots = (np.empty_like(owner), np.empty(len(order), np.int32))
            slots[0][order] = owner
            slots[1][order] = slot_pos
            _outer_slots[frag] = slots
        return slots

    def _route_messages(self, messages: Messages, outbox: list) -> int:
        """Route the explicit messages of the step (to owners and to mirrors)."""
        view = self.view
        sent = 0
        if messages.sent:
            gids, values = _concat(messages.sent)
            owner = view.owner(gids)
            ptr, order = routing.group_by(owner, view.fnum)
            for d in np.flatnonzero(np.diff(ptr)):
                sel = order[ptr[d]:ptr[d + 1]]
                self._bundle(outbox, int(d))["msg"] = (gids[sel], values[sel])
            sent += len(gids)
        if messages.sent_to_mirrors:
            lids, values = _concat(messages.sent_to_mirrors)
            if self._targets is None:
                self._targets = routing.mirror_targets(view.ivnum, self._to_ptr, self._to_lids)
            ptr, pos, idx = routing.route_to_mirrors(lids, *self._targets, view.fnum)
            for d in np.flatnonzero(np.diff(ptr)):
                a, b = ptr[d], ptr[d + 1]
                self._bundle(outbox, int(d))["mirror"] = (pos[a:b], values[idx[a:b]])
            sent += int(ptr[-1])
        return sent


_NO_POS = np.zeros(0, dtype=np.int32)


def _check_part(name: str, sender: int, seg: np.ndarray, pos, values: np.ndarray) -> None:
    """A shipped part must match the list of vertices both fragments share (the mirror lists
    of the plans must list fragment ``d``'s outer vertices in ``d``'s order)."""
    n = len(seg) if pos is None else len(pos)
    if len(values) != n or (pos is not None and len(pos) > len(seg)):
        raise AnalyticsError(f"sync {name!r}: fragment {sender} sent {len(values)} values for"
                             f" {n} slots of the {len(seg)} vertices the two fragments share")


def _take_and_zero(arr: np.ndarray, lids: np.ndarray) -> np.ndarray:
    values = arr[lids].copy()
    arr[lids] = 0
    return values


def _apply_sync_generic(arr: np.ndarray, agg: str, lids: np.ndarray,
                        values: np.ndarray) -> np.ndarray:
    """Fold ``values`` into ``arr[lids]`` for arrays the kernels do not take (several
    dimensions, other dtypes); the lids whose value changed, ascending."""
    if agg == "copy":
        old = arr[lids].copy()
        arr[lids] = values
        return np.sort(lids[_changed_mask(arr[lids], old)])
    ulids = np.unique(lids)
    old = arr[ulids].copy()
    {"min": np.minimum, "max": np.maximum, "sum": np.add}[agg].at(arr, lids, values)
    return ulids[_changed_mask(arr[ulids], old)]
