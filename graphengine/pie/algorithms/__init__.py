"""The built-in PIE apps, one per module. Each module is imported below (append new ones)."""

from .avg_clustering import avg_clustering  # noqa: F401
from .betweenness_centrality import betweenness_centrality  # noqa: F401
from .bfs import bfs  # noqa: F401
from .cdlp import cdlp  # noqa: F401
from .closeness_centrality import closeness_centrality  # noqa: F401
from .clustering import clustering  # noqa: F401
from .core_number import core_number  # noqa: F401
from .degree_centrality import degree_centrality  # noqa: F401
from .eigenvector_centrality import eigenvector_centrality  # noqa: F401
from .hits import hits  # noqa: F401
from .k_core import k_core  # noqa: F401
from .k_shell import k_shell  # noqa: F401
from .katz_centrality import katz_centrality  # noqa: F401
from .lcc import lcc  # noqa: F401
from .louvain import louvain  # noqa: F401
from .pagerank import pagerank  # noqa: F401
from .personalized_pagerank import personalized_pagerank  # noqa: F401
from .scc import scc, strongly_connected_components  # noqa: F401
from .sssp import sssp  # noqa: F401
from .sssp_path import sssp_average_length, sssp_has_path, sssp_path  # noqa: F401
from .triangles import triangles  # noqa: F401
from .wcc import wcc  # noqa: F401
