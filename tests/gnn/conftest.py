"""Fixtures of the GNN tests: the Planetoid data (skip when absent), one torch thread."""

from pathlib import Path

import pytest
import torch

PLANETOID = Path(__file__).resolve().parents[2] / ".." / "shared" / "planetoid"


@pytest.fixture(scope="session")
def planetoid() -> Path:
    if not (PLANETOID / "cora" / "nodes.csv").exists():
        pytest.skip(f"Planetoid data absent ({PLANETOID.resolve()})")
    return PLANETOID


@pytest.fixture(autouse=True)
def one_torch_thread():
    # on 2 shared cores torch's OpenMP threads spin against each other (4x slower measured)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
