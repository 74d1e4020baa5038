"""Neighbor, link and negative sampling, induced subgraphs and random walks over the store.

Numba kernels read the fragments' CSR / CSC arrays directly and return PyG's sampler outputs,
so PyG's loaders and models take them unchanged; :class:`GraphSampler` plugs the same kernels
into PyG's ``NodeLoader`` / ``LinkLoader``.
"""

from .neighbor import sample_neighbors

__all__ = ["sample_neighbors"]
