"""Strongly connected components (forward coloring + backward marking) as a PIE app."""

from __future__ import annotations

from typing import ClassVar

import numba
import numpy as np

from ...store import Graph
from ..app import App, State
from ..context import Context
from ..executor import run_app
from ._frontier import bfs_levels
from .bfs import UNREACHABLE
from .wcc import sampled_components

#: Marker of "no root yet" / "no color" (larger than every global id).
NONE = np.iinfo(np.int64).max


@numba.njit(cache=True, nogil=True)
def color_forward(out_indptr, out_nbrs, color, done, seeds, ivnum):
    """Push smaller colors along out-edges of unassigned vertices from ``seeds``.

    The seeds flood in ascending order of their color, each flood a depth-first search
    carrying one color, so a vertex's color is lowered at most once per call (a stack of mixed
    colors can lower a vertex once per larger color that reaches it first). Outer vertices take
    the color but are not expanded (their owner does, if the vertex is not assigned yet).
    Returns how many color values this call lowered.
    """
    changes = 0
    order = np.argsort(color[seeds], kind="mergesort")
    stack = np.empty(max(ivnum, 1), dtype=np.int64)
    for i in order:
        s = seeds[i]
        if done[s]:
            continue
        cs = color[s]
        top = 0
        stack[top] = s
        top += 1
        while top > 0:
            top -= 1
            u = stack[top]
            if color[u] != cs:  # lowered below cs by an earlier flood: that one went on
                continue
            for j in range(out_indptr[u], out_indptr[u + 1]):
                v = out_nbrs[j]
                if v < ivnum and done[v]:
                    continue
                if cs < color[v]:
                    color[v] = cs
                    changes += 1
                    if v < ivnum:
                        stack[top] = v
                        top += 1
    return changes


@numba.njit(cache=True, nogil=True)
def tarjan(out_indptr, out_nbrs, in_indptr, gids, known):
    """Strongly connected components of a whole graph held by one fragment, iteratively in
    ``O(V + E)``: Tarjan's algorithm (*Depth-first search and linear graph algorithms*, SIAM J.
    Comput. 1(2), 1972) in Pearce's space-efficient form (*A space-efficient algorithm for
    finding strongly connected components*, IPL 116(1), 2016): one int32 ``rindex`` per vertex
    holds the visit index, then the low link, then the component number.

    A vertex without in-edges or without out-edges is a component alone and is numbered
    before the search (its edges are then never scanned), and so is ``known``, a component
    already found (a bool per vertex; empty for none): the search never enters it. Returns
    each vertex's component id, the smallest global id in its component.
    """
    n = out_indptr.shape[0] - 1
    rindex = np.zeros(n, dtype=np.int32)  # 0: not visited
    stack = np.empty(n, dtype=np.int32)
    call_v = np.empty(n, dtype=np.int32)
    call_j = np.empty(n, dtype=np.int64)
    call_root = np.empty(n, dtype=np.bool_)
    c = n - 1  # next component number, counting down; visit indexes count up from 1
    if known.shape[0]:
        for v in range(n):
            if known[v]:
                rindex[v] = c
        c -= 1
    for v in range(n):
        if rindex[v] == 0 and (out_indptr[v + 1] == out_indptr[v]
                               or in_indptr[v + 1] == in_indptr[v]):
            rindex[v] = c
            c -= 1
    index = 1
    top = 0
    for r in range(n):
        if rindex[r] != 0:
            continue
        depth = 0
        call_v[0] = r
        call_j[0] = out_indptr[r]
        call_root[0] = True
        rindex[r] = index
        index += 1
        while depth >= 0:
            u = call_v[depth]
            j = call_j[depth]
            if j < out_indptr[u + 1]:
                call_j[depth] = j + 1
                w = out_nbrs[j]
                if rindex[w] == 0:
                    rindex[w] = index
                    index += 1
                    depth += 1
                    call_v[depth] = w
                    call_j[depth] = out_indptr[w]
                    call_root[depth] = True
                elif rindex[w] < rindex[u]:
                    rindex[u] = rindex[w]
                    call_root[depth] = False
                continue
            if call_root[depth]:  # u roots a component: it and the stack above its index
                index -= 1
                while top > 0 and rindex[u] <= rindex[stack[top - 1]]:
                    top -= 1
                    rindex[stack[top]] = c
                    index -= 1
                rindex[u] = c
                c -= 1
            else:
                stack[top] = u
                top += 1
            depth -= 1
            if depth >= 0:
                p = call_v[depth]
                if rindex[u] < rindex[p]:
                    rindex[p] = rindex[u]
                    call_root[depth] = False
    smallest = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
    for v in range(n):
        smallest[rindex[v]] = min(smallest[rindex[v]], gids[v])
    comp = np.empty(n, dtype=np.int64)
    for v in range(n):
        comp[v] = smallest[rindex[v]]
    return comp


@numba.njit(cache=True, nogil=True)
def mark_backward(in_indptr, in_nbrs, color, done, root_of, sent, seeds, ivnum):
    """Spread each root's id backwards over in-edges to unassigned vertices of the same color.

    ``seeds`` are inner lids whose ``root_of`` was just set. Outer in-neighbors are returned as
    ``(lids, root ids)`` to send to their owners (each pair once: ``sent`` remembers the last
    root sent to an outer slot). Returns ``(marked count, outer lids, root ids)``.
    """
    marked = 0
    out_lids = np.empty(in_nbrs.shape[0], dtype=np.int64)
    out_roots = np.empty(in_nbrs.shape[0], dtype=np.int64)
    n_out = 0
    stack = list(seeds)
    while len(stack):
        u = stack.pop()
        c = root_of[u]
        for j in range(in_indptr[u], in_indptr[u + 1]):
            w = in_nbrs[j]
            if w >= ivnum:
                if sent[w] != c:
                    sent[w] = c
                    out_lids[n_out] = w
                    out_roots[n_out] = c
                    n_out += 1
            elif not done[w] and color[w] == c and root_of[w] == NONE:
                root_of[w] = c
                marked += 1
                stack.append(w)
    return marked, out_lids[:n_out].copy(), out_roots[:n_out].copy()


#: Below this many edges one fragment runs Tarjan's search alone.
PIVOT_MIN_EDGES = 1 << 16


def pivot_component(frag) -> np.ndarray:
    """The strongly connected component of the vertex of largest in-degree x out-degree,
    as the vertices both reached from it and reaching it (a breadth-first search each way
    with the parallel direction-optimizing levels of BFS): the first step of the Multistep
    method of Slota, Rajamanickam and Madduri (IPDPS 2014). On a real graph that vertex
    usually lies in the giant component, which then costs two searches on all threads and
    none of Tarjan's sequential one. A bool per vertex; empty on a small graph, or one whose
    every vertex lacks in- or out-edges."""
    n = frag.ivnum
    if frag.out_indptr[n] < PIVOT_MIN_EDGES:
        return np.zeros(0, dtype=np.bool_)
    weight = np.diff(frag.out_indptr) * np.diff(frag.in_indptr)
    pivot = int(np.argmax(weight))
    if weight[pivot] == 0:
        return np.zeros(0, dtype=np.bool_)
    seeds = np.array([pivot], dtype=np.int64)
    forward = np.full(n, UNREACHABLE, dtype=np.int64)
    forward[pivot] = 0
    bfs_levels(frag.out_indptr, frag.out_nbrs, frag.in_indptr, frag.in_nbrs, forward, seeds, n)
    backward = np.full(n, UNREACHABLE, dtype=np.int64)
    backward[pivot] = 0
    bfs_levels(frag.in_indptr, frag.in_nbrs, frag.out_indptr, frag.out_nbrs, backward, seeds,
               n)
    return (forward != UNREACHABLE) & (backward != UNREACHABLE)


class SCC(App):
    """Iterated coloring: min-color forward propagation, then backward marking from the roots.

    Each iteration (Orzan's coloring scheme): every unassigned vertex takes as color the
    smallest global id among the unassigned vertices that reach it ("min" sync along
    out-edges, run until a round changes nothing anywhere); a vertex whose color is its own id
    is a root, and the vertices of its color that reach it backwards (explicit messages across
    fragments) form its component, whose id is therefore the smallest global id in it.
    A graph held by one fragment skips all that: PEval runs Tarjan's algorithm over it.
    """

    sync: ClassVar[dict[str, str]] = {"color": "min"}

    def init(self, frag) -> State:
        if frag.fnum == 1:  # PEval's Tarjan needs no state but the synced array
            return State(color=frag.gids.copy(), scc=None, phase="stopped")
        return State(color=frag.gids.copy(), done=np.zeros(frag.ivnum, dtype=np.bool_),
                     root_of=np.full(frag.ivnum, NONE, dtype=np.int64),
                     sent=np.full(frag.vnum, NONE, dtype=np.int64),
                     scc=np.full(frag.ivnum, -1, dtype=np.int64), phase="forward")

    def peval(self, frag, state, messages) -> None:
        if frag.fnum == 1:  # the whole graph is here: the sequential algorithm answers
            if frag.directed:
                state.scc = tarjan(frag.out_indptr, frag.out_nbrs, frag.in_indptr, frag.gids,
                                   pivot_component(frag))
            else:  # the connected components; a root is its component's smallest lid and gid
                state.scc = frag.gids[sampled_components(
                    frag.out_indptr, frag.out_nbrs, frag.in_indptr, frag.in_nbrs, False,
                    frag.ivnum)]
            return
        self._start_forward(frag, state, messages)

    def inceval(self, frag, state, messages) -> None:
        if state.phase == "forward":
            if messages.reduced("left", 1) == 0:
                state.phase = "stopped"
            elif messages.reduced("active", 1) == 0:
                self._start_backward(frag, state, messages)
            else:
                n = color_forward(frag.out_indptr, frag.out_nbrs, state.color, state.done,
                                  messages.changed("color"), frag.ivnum)
                self._report(messages, state, n)
        elif state.phase == "backward":
            if messages.reduced("active", 1) == 0:
                assigned = state.root_of != NONE
                state.scc[assigned] = state.root_of[assigned]
                state.done |= assigned
                state.root_of[:] = NONE
                self._start_forward(frag, state, messages)
                return
            lids, roots = messages.received()
            seeds = []
            for lid, c in zip(lids.tolist(), roots.tolist()):
                if not state.done[lid] and state.color[lid] == c and state.root_of[lid] == NONE:
                    state.root_of[lid] = c
                    seeds.append(lid)
            self._mark(frag, state, messages, np.array(seeds, dtype=np.int64), len(seeds))

    @staticmethod
    def _report(messages, state, active: int) -> None:
        messages.reduce("active", int(active), "sum")
        messages.reduce("left", int((~state.done).sum()), "sum")
        messages.force_continue()

    def _start_forward(self, frag, state, messages) -> None:
        state.phase = "forward"
        state.color[:] = frag.gids
        seeds = np.flatnonzero(~state.done).astype(np.int64)
        n = color_forward(frag.out_indptr, frag.out_nbrs, state.color, state.done, seeds,
                          frag.ivnum)
        self._report(messages, state, n + len(seeds))

    def _start_backward(self, frag, state, messages) -> None:
        state.phase = "backward"
        iv = frag.ivnum
        roots = np.flatnonzero(~state.done & (state.color[:iv] == frag.gids[:iv])).astype(np.int64)
        state.root_of[roots] = frag.gids[roots]
        self._mark(frag, state, messages, roots, len(roots))

    @staticmethod
    def _mark(frag, state, messages, seeds: np.ndarray, seeded: int) -> None:
        marked, out_lids, out_roots = mark_backward(frag.in_indptr, frag.in_nbrs, state.color,
                                                    state.done, state.root_of, state.sent,
                                                    seeds, frag.ivnum)
        messages.send(frag.gids[out_lids], out_roots)
        messages.reduce("active", int(seeded + marked + len(out_lids)), "sum")
        messages.force_continue()

    def output(self, frag, state) -> dict[str, np.ndarray]:
        return {"r": state.scc if frag.fnum == 1 else state.scc.copy()}


def strongly_connected_components(graph: Graph, executor: str = "local") -> Context:
    """Strongly connected component of every vertex.

    Two vertices are in the same strongly connected component when each reaches the other
    along edge directions (for an undirected graph: the connected components). Computed with
    the coloring algorithm (Orzan, *On Distributed Verification and Verified Distribution*,
    PhD thesis, 2004; Slota, Rajamanickam and Madduri, *BFS and Coloring-Based Parallel
    Algorithms for Strongly Connected Components and Related Problems*, IPDPS 2014): repeat,
    over the still unassigned vertices, (1) forward min-color propagation ("min" sync, PEval
    inside each fragment, IncEval from the vertices a mirror lowered) until a round changes
    nothing, detected with a global sum aggregate; (2) from every root (a vertex whose color
    is its own id) a backward marking over in-edges restricted to its color, crossing
    fragments with explicit messages; the marked vertices form the root's component. On one
    fragment, Tarjan's sequential algorithm (``O(V + E)``) runs in PEval instead, after the
    component of a pivot vertex (largest in-degree x out-degree) was found by a forward and a
    backward breadth-first search on all threads (Slota et al.'s Multistep), so on a graph
    with a giant component the sequential search only sees the rest; an undirected graph on
    one fragment takes the union-find of :func:`graphengine.wcc`.
    Self loops and parallel edges do not matter.

    The component id is the **smallest global id** in the component (``ctx.gids`` holds the
    global ids, ``graph.vertex_ids`` maps them to user ids), whatever the executor or the
    number of fragments. Each iteration takes ``O(V + E)`` work per round and a number of
    rounds bounded by the fragment hops along the longest path; the number of iterations is at
    most the number of components and usually far smaller.

    Parameters
    ----------
    graph : Graph
        Directed or undirected.
    executor : {"local", "ray"}

    Returns
    -------
    Context
        ``ctx.to_numpy("r")``: int64 component ids in ``ctx.gids`` order.

    Examples
    --------
    >>> import graphengine
    >>> g = graphengine.session().g().add_edges({"src": [1, 2, 2], "dst": [2, 1, 3]})
    >>> graphengine.strongly_connected_components(g).to_numpy("r").tolist()
    [0, 0, 2]
    """
    return run_app(graph, SCC(), executor)


#: GraphScope's short name.
scc = strongly_connected_components
