"""Convergence reporting and one-fragment kernels of the power-iteration apps (eigenvector,
Katz, HITS, personalized PageRank).

An app writes :data:`CONVERGED` (the same flag on every vertex) next to its results; the
user-facing function removes it from the context with :func:`report_convergence`, which warns
when the iteration stopped at ``max_round`` instead of meeting the tolerance (GraphScope's
behaviour: the last iterate is returned; networkx would raise
``PowerIterationFailedConvergence``).
"""

from __future__ import annotations

import contextlib
import logging

import numba
import numpy as np

from ..context import Context

log = logging.getLogger(__name__)

#: Output column carrying the convergence flag of an iterative app.
CONVERGED = "_converged"


def converged_column(frag, converged: bool) -> np.ndarray:
    """The :data:`CONVERGED` column of one fragment's output."""
    return np.full(frag.ivnum, bool(converged))


def report_convergence(ctx: Context, name: str, max_round: int) -> Context:
    """Drop the convergence column from ``ctx``; log a warning if the iteration did not converge."""
    flags = ctx.columns.pop(CONVERGED)
    if len(flags) and not flags.all():
        log.warning("%s did not reach the tolerance in %d iterations: returning the last"
                    " iterate", name, max_round)
    return ctx


#: Below this many adjacency entries per pass a kernel runs on one thread. On a quiet 2-core
#: machine two threads already halve the power iterations from ~2**14 entries (a pass of a
#: few tens of microseconds); but every pass ends at a barrier, and when another process holds
#: a core each barrier can wait a scheduler time slice for a descheduled thread, which costs
#: the most, relative to the pass, on small passes (measured with one core busy, two threads
#: against one: 2**16.6 entries 0.7-120x slower, 2**18.7 entries 1-17x, 2**20.8 entries
#: 1.0-1.3x). 2**18 keeps the small graphs, where two threads save at most a few
#: milliseconds, on one thread.
PARALLEL_MIN_ENTRIES = 1 << 18


@contextlib.contextmanager
def threads_for(entries: int):
    """Run the parallel kernels called inside on one thread when a pass touches fewer than
    :data:`PARALLEL_MIN_ENTRIES` adjacency entries; else on all of Numba's threads."""
    if entries >= PARALLEL_MIN_ENTRIES or numba.get_num_threads() == 1:
        yield
        return
    previous = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        yield
    finally:
        numba.set_num_threads(previous)


# ----------------------------------------------------------------------- one-fragment kernels
# A graph held by one fragment runs a whole power iteration inside one PEval: the kernels below
# fuse each iteration's sparse product with its reductions (norm, maximum, change), so an
# iteration is one or two parallel passes and no round of the runtime.

@numba.njit(cache=True, inline="always")
def _row_pull(indptr, nbrs, x, v, halve_loops):
    """``sum_j A[nbrs[j], v] x[nbrs[j]]`` over row ``v``. With ``halve_loops`` (an undirected
    graph with self loops) a self loop, listed twice, counts once (the adjacency matrix of
    ``networkx.to_scipy_sparse_array``); else every entry counts once, without the test."""
    s = 0.0
    for j in range(indptr[v], indptr[v + 1]):
        u = nbrs[j]
        s += 0.5 * x[u] if halve_loops and u == v else x[u]
    return s


@numba.njit(cache=True, inline="always")
def _halve_loops(indptr, nbrs, undirected):
    """Whether :func:`_row_pull` must halve self loops: the graph is undirected and has one
    (a parallel pass over the entries, once per call, so the iterations' inner loop has no
    test on graphs without self loops)."""
    loops = 0
    if undirected:
        for v in numba.prange(indptr.shape[0] - 1):
            for j in range(indptr[v], indptr[v + 1]):
                if nbrs[j] == v:
                    loops += 1
    return loops > 0


@numba.njit(cache=True, nogil=True, parallel=True)
def eigenvector_iterations(in_indptr, in_nbrs, undirected, x, tolerance, max_round):
    """networkx's power iteration ``x <- (A^T + I) x / ||(A^T + I) x||_2`` in place, until the
    L1 change is below ``n * tolerance`` or ``max_round`` iterations. Returns convergence."""
    n = x.shape[0]
    y = np.empty(n)
    halve = _halve_loops(in_indptr, in_nbrs, undirected)
    for _ in range(max_round):
        sumsq = 0.0
        for v in numba.prange(n):
            s = x[v] + _row_pull(in_indptr, in_nbrs, x, v, halve)
            y[v] = s
            sumsq += s * s
        norm = np.sqrt(sumsq)
        if norm == 0.0:
            norm = 1.0
        change = 0.0
        for v in numba.prange(n):
            nv = y[v] / norm
            change += abs(nv - x[v])
            x[v] = nv
        if change < n * tolerance:
            return True
    return False


@numba.njit(cache=True, nogil=True, parallel=True)
def katz_iterations(in_indptr, in_nbrs, undirected, x, alpha, beta, tolerance, max_round):
    """networkx's Katz iteration ``x <- alpha A^T x + beta`` in place (``x`` starts at 0),
    until the L1 change is below ``n * tolerance`` or ``max_round`` iterations. Returns
    ``(converged, Euclidean norm of x)``."""
    n = x.shape[0]
    y = np.empty(n)
    halve = _halve_loops(in_indptr, in_nbrs, undirected)
    sumsq = 0.0
    for _ in range(max_round):
        change = 0.0
        sumsq = 0.0
        for v in numba.prange(n):
            s = alpha * _row_pull(in_indptr, in_nbrs, x, v, halve) + beta
            y[v] = s
            change += abs(s - x[v])
            sumsq += s * s
        x[:] = y
        if change < n * tolerance:
            return True, np.sqrt(sumsq)
    return False, np.sqrt(sumsq)


@numba.njit(cache=True, nogil=True, parallel=True)
def hits_iterations(in_indptr, in_nbrs, out_indptr, out_nbrs, undirected, hub, auth,
                    tolerance, max_round):
    """networkx's ``_hits_python`` iteration in place: ``a = A^T h``, ``h = A a``, each scaled
    to maximum 1, until the L1 change of ``h`` is below ``tolerance`` or ``max_round``
    iterations. Returns convergence."""
    n = hub.shape[0]
    h = np.empty(n)
    halve = _halve_loops(in_indptr, in_nbrs, undirected)  # undirected: the in- and out-CSR agree
    for _ in range(max_round):
        amax = 0.0
        for v in numba.prange(n):
            a = _row_pull(in_indptr, in_nbrs, hub, v, halve)
            auth[v] = a
            amax = max(amax, a)
        hmax = 0.0
        for v in numba.prange(n):
            s = _row_pull(out_indptr, out_nbrs, auth, v, halve)
            h[v] = s
            hmax = max(hmax, s)
        hscale = 1.0 / hmax if hmax > 0 else 1.0
        ascale = 1.0 / amax if amax > 0 else 1.0
        change = 0.0
        for v in numba.prange(n):
            nh = h[v] * hscale
            change += abs(nh - hub[v])
            hub[v] = nh
            auth[v] *= ascale
        if change < tolerance:
            return True
    return False


@numba.njit(cache=True, nogil=True, parallel=True)
def ppr_iterations(in_indptr, in_nbrs, undirected, out_weight, source, rank, delta, tolerance,
                   max_round):
    """networkx's personalized PageRank iteration in place (restart and dangling mass to
    ``source``): ``x <- delta (x M + dangling(x) p) + (1 - delta) p``, until the L1 change is
    below ``n * tolerance`` or ``max_round`` iterations. Returns convergence."""
    n = rank.shape[0]
    contrib = np.empty(n)
    halve = _halve_loops(in_indptr, in_nbrs, undirected)
    for _ in range(max_round):
        dangling = 0.0
        for v in numba.prange(n):
            if out_weight[v] > 0:
                contrib[v] = rank[v] / out_weight[v]
            else:
                contrib[v] = 0.0
                dangling += rank[v]
        change = 0.0
        for v in numba.prange(n):
            r = delta * _row_pull(in_indptr, in_nbrs, contrib, v, halve)
            if v == source:
                r += delta * dangling + 1.0 - delta
            change += abs(r - rank[v])
            rank[v] = r
        if change < n * tolerance:
            return True
    return False
