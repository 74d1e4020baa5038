"""Shared fixture of the PIE tests: one Ray runtime per module."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def ray_session():
    """A Ray runtime of its own for one test module (2 CPUs, no dashboard; never a cluster
    that /tmp/ray's address file names), shut down afterwards."""
    ray = pytest.importorskip("ray")
    started = not ray.is_initialized()
    if started:
        ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    if started:
        ray.shutdown()

