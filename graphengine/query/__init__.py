"""Gremlin: TinkerPop's traversal language over the store (text, bytecode and gremlinpython).

>>> import graphengine
>>> from graphengine.datasets import load_modern_graph
>>> q = graphengine.query.Gremlin(load_modern_graph(graphengine.session()))
>>> q.execute("g.V().hasLabel('person').count()").one()
4
"""

from .engine import Gremlin, ResultSet
from .parser import parse, parse_query

__all__ = ["Gremlin", "ResultSet", "parse", "parse_query"]
