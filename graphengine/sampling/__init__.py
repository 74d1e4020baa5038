"""Neighbor, link and negative sampling, induced subgraphs and random walks over the store.

Numba kernels read the fragments' CSR / CSC arrays directly and return PyG's sampler outputs
(``SamplerOutput`` / ``HeteroSamplerOutput``), so PyG's loaders and models take them
unchanged; :class:`GraphSampler` plugs the same kernels into PyG's ``NodeLoader`` and
``LinkLoader``. Homogeneous ids are global ids, heterogeneous ones per-label indices (see
:func:`sample_neighbors`).
"""

from .gather import gather_rows
from .neighbor import edge_types, sample_neighbors
from .sampler import GraphSampler, sample_links
from .subgraph import induced_subgraph
from .walk import random_walk

__all__ = ["GraphSampler", "edge_types", "gather_rows", "induced_subgraph", "random_walk",
           "sample_links", "sample_neighbors"]
