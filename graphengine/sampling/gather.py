"""Gather the feature rows of a sampled batch (``x[node]``) into a reusable tensor."""

from __future__ import annotations

import numba
import numpy as np
import torch
from numba import prange

from ..store.kernels import _prefetch
from .kernels import parallel_for

_AHEAD = 8  # rows prefetched ahead


@numba.njit(cache=True, nogil=True, inline="always")
def _row(x, index, out, d, i, n):
    if i + _AHEAD < n:
        r = index[i + _AHEAD] * d
        _prefetch(x, r)
        _prefetch(x, r + d - 1)
    r = index[i] * d
    o = i * d
    for k in range(d):
        out[o + k] = x[r + k]


@numba.njit(cache=True, nogil=True)
def _gather_serial(x, index, out, d):
    n = index.shape[0]
    for i in range(n):
        _row(x, index, out, d, i, n)


@numba.njit(cache=True, nogil=True, parallel=True)
def _gather_parallel(x, index, out, d):
    n = index.shape[0]
    for i in prange(n):
        _row(x, index, out, d, i, n)


def gather_rows(x: torch.Tensor, index: torch.Tensor | np.ndarray,
                out: torch.Tensor | None = None) -> torch.Tensor:
    """``x[index]`` for a 2-D CPU tensor, written into ``out[:len(index)]`` when given.

    The rows of a sampled batch are scattered over a feature matrix far larger than the caches:
    one pass with the next rows prefetched, on one thread unless the batch is large (a
    parallel region costs more than it saves on batches of tens of thousands of rows, and
    much more while other processes share the cores). Reusing ``out`` across batches saves
    mapping fresh pages for every batch. Other tensors (CUDA, non-contiguous) fall back to
    ``torch.index_select``.

    Args:
        x: ``[num_nodes, dim]`` features.
        index: row numbers (``SamplerOutput.node``).
        out: a tensor of ``x``'s dtype with at least ``len(index)`` rows of ``dim`` columns.

    Returns:
        The ``[len(index), dim]`` rows (a view of ``out`` when given).
    """
    index = torch.as_tensor(index, dtype=torch.long)
    n = index.numel()
    view = None if out is None else out[:n]
    if x.device.type != "cpu" or not x.is_contiguous() or x.dim() != 2 or (
            view is not None and (not view.is_contiguous() or view.dtype != x.dtype)):
        return torch.index_select(x, 0, index.to(x.device), out=view)
    if view is None:
        view = torch.empty((n, x.size(1)), dtype=x.dtype)
    if n:
        flat_x = x.detach().reshape(-1).numpy()
        flat_out = view.detach().reshape(-1).numpy()
        kernel = _gather_parallel if parallel_for(n) else _gather_serial
        kernel(flat_x, index.numpy(), flat_out, x.size(1))
    return view
