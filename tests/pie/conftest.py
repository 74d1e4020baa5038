"""Shared fixture of the PIE tests: one Ray runtime per module."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def ray_session():
    """A Ray runtime for one test module (2 CPUs, no dashboard), shut down afterwards."""
    ray = pytest.importorskip("ray")
    started = not ray.is_initialized()
    if started:
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    if started:
        ray.shutdown()

