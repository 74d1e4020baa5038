"""Errors raised by graphengine.

Every error derives from :class:`GraphEngineError`, so ``except GraphEngineError`` catches all
of them. Each message names the problem: the file and line, the column, the label or the step.
"""

from __future__ import annotations


class GraphEngineError(Exception):
    """Base class of every graphengine error."""


class SchemaError(GraphEngineError):
    """A label, column or type does not fit the graph's schema (unknown label, wrong type...)."""


class LoadError(GraphEngineError):
    """A data source could not be read (malformed CSV, missing file, missing column...)."""


class DuplicateVertexError(GraphEngineError):
    """The same user id appears twice for one vertex label."""


class UnknownVertexError(GraphEngineError):
    """An edge names a vertex id that the graph does not have."""


class PersistenceError(GraphEngineError):
    """A saved graph could not be written or read back."""


class QueryError(GraphEngineError):
    """A graph query could not be parsed or evaluated."""


class AnalyticsError(GraphEngineError):
    """An analytical app was called on a graph or with parameters it does not support."""


class QuerySyntaxError(QueryError):
    """Gremlin text that does not parse; ``line`` and ``column`` (1-based) locate the fault."""

    def __init__(self, message: str, line: int, column: int):
        super().__init__(f"line {line}, column {column}: {message}")
        self.line = line
        self.column = column


class QueryEvaluationError(QueryError):
    """A traversal that parsed but cannot run: an unknown step, a wrong argument, a lambda, or a
    step applied to a value it does not accept. The graph is left as it was."""


class SamplingError(GraphEngineError):
    """Sampling parameters that do not fit the graph (seeds that are not vertices, fanouts)."""


class ClusterError(GraphEngineError):
    """A Ray cluster session could not start, reach its workers, or recover a lost one."""
