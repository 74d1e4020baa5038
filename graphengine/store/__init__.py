"""The property graph store: schema, fragments, vertex map, loaders and persistence."""

from .fragment import Fragment, Topology
from .graph import Graph
from .persistence import load_graph
from .schema import EdgeLabel, GraphSchema, VertexLabel
from .sources import Loader

__all__ = ["EdgeLabel", "Fragment", "Graph", "GraphSchema", "Loader", "Topology", "VertexLabel",
           "load_graph"]
