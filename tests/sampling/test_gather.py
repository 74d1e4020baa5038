"""gather_rows: x[index] into a reusable buffer."""

from __future__ import annotations

import pytest
import torch

from graphengine.sampling import gather_rows, kernels


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.int64])
def test_gather_rows_matches_index_select(dtype, monkeypatch):
    x = (torch.randn(500, 7) * 100).to(dtype)
    index = torch.randint(0, 500, (300,))
    assert torch.equal(gather_rows(x, index), x[index])
    out = torch.empty(400, 7, dtype=dtype)
    got = gather_rows(x, index, out=out)
    assert torch.equal(got, x[index]) and got.data_ptr() == out.data_ptr()
    monkeypatch.setattr(kernels, "PARALLEL_MIN_WORK", 0)
    assert torch.equal(gather_rows(x, index.numpy()), x[index])
    assert gather_rows(x, torch.zeros(0, dtype=torch.long)).shape == (0, 7)


def test_gather_rows_falls_back_to_torch():
    x = torch.randn(7, 50).t()  # not contiguous
    index = torch.tensor([3, 1, 3])
    assert torch.equal(gather_rows(x, index), x[index])
