"""The PIE analytics runtime (app interface, executors, contexts) and the built-in apps.

Write an app against :mod:`graphengine.pie.app` and run it with :func:`run_app`; the built-in
apps (:func:`bfs`, :func:`sssp`, :func:`pagerank`, :func:`wcc`, :func:`cdlp`, :func:`lcc`, ...)
are functions taking a graph and ``executor="local"|"ray"``.
"""

from types import ModuleType

from . import algorithms
from .algorithms import *
from .app import App, State
from .context import Context
from .executor import run_app
from .messages import Messages
from .view import FragmentView

__all__ = ["App", "Context", "FragmentView", "Messages", "State", "run_app"]
# every app function that algorithms/__init__.py imports is exported (graphengine.<app>)
__all__ += sorted(name for name, value in vars(algorithms).items()  # noqa: PLE0605
                  if callable(value) and not name.startswith("_")
                  and not isinstance(value, ModuleType))
