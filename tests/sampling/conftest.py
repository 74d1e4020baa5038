"""Fixtures of the sampler tests: small generated graphs (session scope)."""

from __future__ import annotations

import pytest
from sampling_graphs import Ref, build

from graphengine.datasets import erdos_renyi_edges, rmat_edges


@pytest.fixture(scope="session")
def er_edges():
    return erdos_renyi_edges(300, m=3000, directed=True, seed=3)


@pytest.fixture(scope="session")
def er(er_edges):
    return Ref(build(*er_edges, 300), True)


@pytest.fixture(scope="session")
def er3(er_edges):
    return Ref(build(*er_edges, 300, num_fragments=3), True)


@pytest.fixture(scope="session")
def rmat_undirected():
    src, dst = rmat_edges(9, 8, seed=5)
    return Ref(build(src, dst, 512, directed=False), False)


@pytest.fixture(scope="session")
def rmat_undirected3():
    src, dst = rmat_edges(9, 8, seed=5)
    return Ref(build(src, dst, 512, directed=False, num_fragments=3), False)
