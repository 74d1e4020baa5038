"""The store's distributed form: fragments built and kept in Ray actors.

``graphengine.session(cluster="ray", address=..., num_fragments=N)`` returns a
:class:`RaySession`; its graphs are :class:`DistributedGraph` objects whose fragments live in
one actor per fragment (a placement group spreads them over the nodes), loaded by the workers
from the files and analyzed where they are. See docs/architecture.md ("Cluster").
"""

from .context import DistributedContext
from .graph import DistributedGraph
from .session import RaySession

__all__ = ["DistributedContext", "DistributedGraph", "RaySession"]
