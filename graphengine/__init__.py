"""graphengine: a partitioned in-memory property graph with analytics, Gremlin and GNN engines.

Start with :func:`session`; see ``examples/demo.py``.
"""

import logging

from . import errors
from .pie import *  # noqa: F401,F403
from .pie import __all__ as _pie_all
from .session import Session, from_networkx, session
from .store import Fragment, Graph, Loader, load_graph

logging.getLogger(__name__).addHandler(logging.NullHandler())

__all__ = ["Fragment", "Graph", "Loader", "Session", "errors", "from_networkx", "load_graph",
           "session"] + _pie_all
__version__ = "0.1.0"
