"""Convergence reporting shared by the power-iteration apps (eigenvector, Katz, HITS, PPR).

An app writes :data:`CONVERGED` (the same flag on every vertex) next to its results; the
user-facing function removes it from the context with :func:`report_convergence`, which warns
when the iteration stopped at ``max_round`` instead of meeting the tolerance (GraphScope's
behaviour: the last iterate is returned; networkx would raise
``PowerIterationFailedConvergence``).
"""

from __future__ import annotations

import logging

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
