"""graphengine: a partitioned in-memory property graph with analytics, Gremlin and GNN engines.

Start with :func:`session`; see ``examples/demo.py``.
"""

import logging

from . import errors, pie
from .pie import *
from .session import Session, from_networkx, session
from .store import Fragment, Graph, Loader, load_graph

logging.getLogger(__name__).addHandler(logging.NullHandler())

__all__ = ["Fragment", "Graph", "Loader", "Session", "errors", "from_networkx", "load_graph",
           "session"]
__all__ += pie.__all__
__version__ = "0.1.0"
