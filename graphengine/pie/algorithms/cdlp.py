"""Community detection by label propagation (Graphalytics CDLP) as a PIE app."""

from __future__ import annotations

from typing import ClassVar

import numba
import numpy as np

from ...errors import AnalyticsError
from ...store import Graph
from ..app import App, State
from ..context import Context
from ..executor import run_app
from ..inputs import has_integer_ids, inner_user_ids
from ._adjacency import outer_neighbor_lists


@numba.njit(cache=True, inline="always")
def _count_label(keys, counts, stamp, mask, v, lab):
    """Add one to ``lab``'s count in the open-addressing table of vertex ``v`` (slots whose
    ``stamp`` is not ``v`` are free, so no table is ever cleared); return the new count."""
    h = (np.uint64(lab) * np.uint64(0x9E3779B97F4A7C15)) >> np.uint64(33)
    slot = np.int64(h) & mask
    while True:
        if stamp[slot] != v:
            stamp[slot] = v
            keys[slot] = lab
            counts[slot] = 1
            return 1
        if keys[slot] == lab:
            counts[slot] += 1
            return counts[slot]
        slot = (slot + 1) & mask


@numba.njit(cache=True, nogil=True, parallel=True)
def _most_frequent_labels(out_indptr, out_nbrs, in_indptr, in_nbrs, use_in, label, active,
                          new_label, nt):
    """For each inner vertex in ``active``, ``new_label[v]`` = the most frequent neighbor label
    (ties: the smallest); a vertex without neighbors keeps its label.

    Neighbors are the out-neighbors plus, when ``use_in``, the in-neighbors (a vertex that is
    both counts twice). Labels are counted in a per-thread open-addressing table of at least
    twice the degree (no per-vertex sort), the best label tracked while counting; the count
    stops once a label holds a strict majority. Each of ``nt`` parallel parts takes every
    ``nt``-th active vertex.
    """
    max_deg = 1
    for v in active:
        d = out_indptr[v + 1] - out_indptr[v]
        if use_in:
            d += in_indptr[v + 1] - in_indptr[v]
        max_deg = max(max_deg, d)
    size = 16
    while size < 2 * max_deg:
        size *= 2
    keys = np.empty((nt, size), dtype=label.dtype)
    counts = np.empty((nt, size), dtype=np.int64)
    stamps = np.full((nt, size), -1, dtype=np.int64)
    for t in numba.prange(nt):
        ks = keys[t]
        cs = counts[t]
        st = stamps[t]
        for a in range(t, active.shape[0], nt):
            v = active[a]
            o0, o1 = out_indptr[v], out_indptr[v + 1]
            i0 = in_indptr[v] if use_in else 0
            i1 = in_indptr[v + 1] if use_in else 0
            deg = (o1 - o0) + (i1 - i0)
            if deg == 0:
                new_label[v] = label[v]
                continue
            mask = 16
            while mask < 2 * deg:
                mask *= 2
            mask -= 1
            best = label[out_nbrs[o0]] if o1 > o0 else label[in_nbrs[i0]]
            best_count = 0
            # a label counted more than deg / 2 times is the mode whatever the rest holds
            for j in range(o0, o1 + i1 - i0):  # the out-list, then the in-list
                lab = label[out_nbrs[j]] if j < o1 else label[in_nbrs[j - o1 + i0]]
                c = _count_label(ks, cs, st, mask, v, lab)
                if c > best_count or (c == best_count and lab < best):
                    best, best_count = lab, c
                    if 2 * c > deg:
                        break
            new_label[v] = best


def most_frequent_labels(out_indptr, out_nbrs, in_indptr, in_nbrs, use_in, label, active,
                         new_label) -> None:
    """:func:`_most_frequent_labels` on Numba's threads."""
    _most_frequent_labels(out_indptr, out_nbrs, in_indptr, in_nbrs, use_in, label, active,
                          new_label, numba.get_num_threads())


@numba.njit(cache=True, inline="always")
def _count_ranks(nbrs, lo, hi, label, cnt, touched, m, deg):
    """Count the labels of ``nbrs[lo:hi]`` in ``cnt``, listing each new one in ``touched``
    after the ``m`` already there; stop at a label counted more than ``deg / 2`` times (the
    mode, whatever comes next). Returns ``(m, that label or -1)``."""
    for j in range(lo, hi):
        lab = label[nbrs[j]]
        c = cnt[lab] + 1
        cnt[lab] = c
        touched[m] = lab
        m += c == 1
        if 2 * c > deg:
            return m, np.int64(lab)
    return m, np.int64(-1)


@numba.njit(cache=True, nogil=True, parallel=True)
def propagate_ranks(out_indptr, out_nbrs, in_indptr, in_nbrs, use_in, label, distinct, rounds,
                    nt):
    """``rounds`` synchronous label-propagation iterations over a graph held by one fragment,
    in place, with labels given as dense ranks (``0 .. k-1``, in the order of the labels they
    stand for: ties still go to the smallest label).

    Each of ``nt`` threads counts the labels of a vertex's neighbors in its own array of ``k``
    counters (no hashing, reset through the list of labels it touched), stopping once one
    holds a strict majority; only the vertices with a neighbor that changed label in the
    previous iteration are recomputed. With ``distinct`` labels (every vertex its own) on an
    undirected graph, a vertex whose list holds no neighbor twice sees every label once in
    the first iteration: it takes the smallest, without counting. Returns the number of
    iterations in which a label changed.
    """
    n = label.shape[0]
    k = 1
    for v in range(n):
        k = max(k, label[v] + 1)
    counts = np.zeros((nt, k), dtype=np.int32)
    touched = np.empty((nt, k + 1), dtype=label.dtype)
    new_label = label.copy()
    active = np.ones(n, dtype=np.uint8)
    block = 1024
    blocks = (n + block - 1) // block
    changed_rounds = 0
    for it in range(rounds):
        first_distinct = it == 0 and distinct and not use_in
        for t in numba.prange(nt):
            cnt = counts[t]
            tl = touched[t]
            for b in range(t, blocks, nt):
                for v in range(b * block, min(n, (b + 1) * block)):
                    if active[v] == 0:
                        continue
                    o0, o1 = out_indptr[v], out_indptr[v + 1]
                    i0 = in_indptr[v] if use_in else 0
                    i1 = in_indptr[v + 1] if use_in else 0
                    deg = (o1 - o0) + (i1 - i0)
                    if deg == 0:
                        continue
                    if first_distinct:
                        # neighbors listed in ascending order are distinct
                        low = label[out_nbrs[o0]]
                        simple = True
                        for j in range(o0 + 1, o1):
                            simple &= out_nbrs[j] > out_nbrs[j - 1]
                            low = min(low, label[out_nbrs[j]])
                        if simple:
                            new_label[v] = low
                            continue
                    m, best = _count_ranks(out_nbrs, o0, o1, label, cnt, tl, 0, deg)
                    if best < 0:
                        m, best = _count_ranks(in_nbrs, i0, i1, label, cnt, tl, m, deg)
                    if best < 0:  # the most frequent of the labels seen, the smallest on ties
                        best_count = 0
                        for x in range(m):
                            lab = tl[x]
                            c = cnt[lab]
                            if c > best_count or (c == best_count and lab < best):
                                best, best_count = lab, c
                    for x in range(m):
                        cnt[tl[x]] = 0
                    new_label[v] = best
        # adopt the new labels; the neighbors of a changed vertex are recomputed next time
        active[:] = 0
        changed = 0
        for v in numba.prange(n):
            if new_label[v] != label[v]:
                changed += 1
                for j in range(out_indptr[v], out_indptr[v + 1]):
                    active[out_nbrs[j]] = 1
                if use_in:
                    for j in range(in_indptr[v], in_indptr[v + 1]):
                        active[in_nbrs[j]] = 1
        if changed == 0:
            break
        changed_rounds += 1
        label[:] = new_label
    return changed_rounds


def _label_ranks(ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(values, ranks)``: the distinct labels in ascending order and each vertex's index in
    them (no sort when the ids already ascend)."""
    if len(ids) < 2 or bool((ids[1:] > ids[:-1]).all()):
        return ids, np.arange(len(ids), dtype=np.int32 if len(ids) < 2**31 else np.int64)
    values, ranks = np.unique(ids, return_inverse=True)
    return values, ranks.astype(np.int32 if len(values) < 2**31 else np.int64)


@numba.njit(cache=True, nogil=True)
def adopt_labels(label, new_label, active):
    """``label[v] = new_label[v]`` for the active inner vertices; the ones whose label
    differs are returned."""
    out = np.empty(active.shape[0], dtype=np.int64)
    k = 0
    for v in active:
        if label[v] != new_label[v]:
            label[v] = new_label[v]
            out[k] = v
            k += 1
    return out[:k]


@numba.njit(cache=True, nogil=True, parallel=True)
def touched_by(changed_inner, changed_outer, out_indptr, out_nbrs, in_indptr, in_nbrs, use_in,
               rev_ptr, rev, ivnum):
    """The inner vertices with a neighbor among the changed vertices (ascending): only they
    can take a new label (the mode of unchanged labels is the one they already took). Threads
    only ever write True into the marks, so they may share them."""
    mark = np.zeros(ivnum, dtype=np.bool_)
    for i in numba.prange(changed_inner.shape[0]):
        v = changed_inner[i]
        for j in range(out_indptr[v], out_indptr[v + 1]):
            if out_nbrs[j] < ivnum:
                mark[out_nbrs[j]] = True
        if use_in:
            for j in range(in_indptr[v], in_indptr[v + 1]):
                if in_nbrs[j] < ivnum:
                    mark[in_nbrs[j]] = True
    for o in changed_outer:
        for j in range(rev_ptr[o - ivnum], rev_ptr[o - ivnum + 1]):
            mark[rev[j]] = True
    return np.flatnonzero(mark)


class CDLP(App):
    """Synchronous label propagation for a fixed number of iterations."""

    sync: ClassVar[dict[str, str]] = {"label": "copy"}

    def __init__(self, max_round: int = 10, use_user_ids: bool = True):
        if max_round < 0:
            raise AnalyticsError(f"cdlp: max_round must be >= 0, got {max_round}")
        self.max_round = int(max_round)
        self.use_user_ids = use_user_ids

    def fragment_inputs(self, graph, fragment) -> dict[str, np.ndarray]:
        if self.use_user_ids:
            return {"ids": inner_user_ids(graph, fragment)}
        return {"ids": fragment.inner_gids}

    def init(self, frag) -> State:
        # outer slots start unknown; PEval's change of every inner label ships the real ones
        label = np.full(frag.vnum, np.iinfo(np.int64).min, dtype=np.int64)
        return State(label=label, next_label=np.empty(frag.ivnum, dtype=np.int64),
                     changed=np.zeros(0, dtype=np.int64))

    def peval(self, frag, state, messages) -> None:
        if frag.fnum == 1:  # the whole graph is here: every iteration in one kernel
            values, ranks = _label_ranks(frag.inputs["ids"])
            propagate_ranks(frag.out_indptr, frag.out_nbrs, frag.in_indptr, frag.in_nbrs,
                            frag.directed, ranks, len(values) == len(ranks), self.max_round,
                            numba.get_num_threads())
            state.label[:] = values[ranks]
            return
        state.label[:frag.ivnum] = frag.inputs["ids"]
        if self.max_round > 0:
            messages.force_continue()

    def inceval(self, frag, state, messages) -> None:
        if messages.round > self.max_round:
            return
        if messages.round == 1:
            active = np.arange(frag.ivnum, dtype=np.int64)
        else:
            rev_ptr, rev = outer_neighbor_lists(frag)
            active = touched_by(state.changed, messages.changed("label"), frag.out_indptr,
                                frag.out_nbrs, frag.in_indptr, frag.in_nbrs, frag.directed,
                                rev_ptr, rev, frag.ivnum)
        most_frequent_labels(frag.out_indptr, frag.out_nbrs, frag.in_indptr, frag.in_nbrs,
                             frag.directed, state.label, active, state.next_label)
        state.changed = adopt_labels(state.label, state.next_label, active)
        if messages.round < self.max_round:
            messages.force_continue()

    def output(self, frag, state) -> dict[str, np.ndarray]:
        return {"r": state.label[:frag.ivnum].copy()}


def cdlp(graph: Graph, max_round: int = 10, executor: str = "local") -> Context:
    """Community label of every vertex after ``max_round`` label-propagation rounds.

    Follows the LDBC Graphalytics CDLP definition (specification section 2.3.3, after Raghavan,
    Albert and Kumara, *Near linear time algorithm to detect community structures in
    large-scale networks*, Phys. Rev. E 76, 2007), the deterministic synchronous variant:
    every vertex starts with its own id as label; in each iteration every vertex takes the
    label that is most frequent among its neighbors' labels of the previous iteration, the
    smallest such label on ties. On a directed graph both in- and out-neighbors count (a
    neighbor joined both ways counts twice); parallel edges count once each. Labels are the
    user ids when they are integers (as in Graphalytics), else internal global ids. Each round
    copies changed labels to the mirrors ("copy" sync). Labels are counted in per-thread hash
    tables (no sort), and only vertices with a neighbor whose label changed in the previous
    iteration are recomputed (the others would take the same label again); a count stops once
    a label holds a strict majority. A graph held by one fragment runs every iteration in
    PEval (:func:`propagate_ranks`: labels as dense ranks counted in per-thread arrays).
    Work ``O(E)`` per iteration.

    Parameters
    ----------
    graph : Graph
    max_round : int
        Number of iterations.
    executor : {"local", "ray"}

    Returns
    -------
    Context
        ``ctx.to_numpy("r")``: int64 labels in ``ctx.gids`` order.

    Examples
    --------
    >>> import graphengine
    >>> g = graphengine.session().g(directed=False).add_edges(
    ...     {"src": [1, 1, 2, 7], "dst": [2, 3, 3, 8]})
    >>> graphengine.cdlp(g, max_round=5).to_numpy("r").tolist()
    [1, 1, 1, 8, 7]
    """
    return run_app(graph, CDLP(max_round, use_user_ids=has_integer_ids(graph)), executor)
