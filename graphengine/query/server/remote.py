"""Client-side helpers: gremlinpython serializers that keep Java number types, and the
conformance runner's server mode (every scenario sent to a :class:`GremlinServer` as bytecode).

``python -m graphengine.query.conformance --server`` runs TinkerPop's feature suite through
:class:`ServerBackend`: each scenario's graph is a fresh engine served under a new traversal
source name; the scenario's Gremlin text is parsed here by graphengine's parser and the
bytecode is sent with gremlinpython's ``DriverRemoteConnection`` (GraphBinary by default), so
graph initializers, parameters, results and errors all cross the websocket.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Mapping
from typing import Any

from gremlin_python.driver.driver_remote_connection import DriverRemoteConnection
from gremlin_python.driver.protocol import GremlinServerError
from gremlin_python.driver.serializer import (
    GraphBinarySerializersV1,
    GraphSONMessageSerializer,
)

from ...errors import QueryEvaluationError
from ..traversal import QueryTimeout
from . import protocol as pr
from .server import GremlinServer

log = logging.getLogger(__name__)

__all__ = ["ServerBackend", "ServerConnection", "client_serializer"]


def client_serializer(kind: str = "graphbinary") -> Any:
    """A gremlinpython message serializer for graphengine's servers that keeps the Java type of
    numbers both ways (Long, Float, BigInteger, BigDecimal as the engine's Python types).

    Args:
        kind: ``graphbinary`` (default) or ``graphson``.
    """
    if kind == "graphson":
        gs = pr.GraphSONMessageSerializer()
        return GraphSONMessageSerializer(reader=gs.reader, writer=gs.writer,
                                         version=pr.GRAPHSON_V3.encode())
    gb = pr.GraphBinaryMessageSerializer()
    return GraphBinarySerializersV1(reader=gb.reader, writer=gb.writer)


class ServerConnection:
    """A conformance :class:`~graphengine.query.conformance.Connection` through the server."""

    def __init__(self, backend: ServerBackend, source: str, local: Any):
        self.backend = backend
        self.source = source
        self.local = local            # the LocalConnection whose engine the server serves
        self._rc: DriverRemoteConnection | None = None

    def _remote(self) -> DriverRemoteConnection:
        if self._rc is None:
            self._rc = DriverRemoteConnection(self.backend.server.url, self.source,
                                              message_serializer=client_serializer(
                                                  self.backend.serializer))
        return self._rc

    def execute(self, text: str, bindings: Mapping[str, Any] | None = None) -> list[Any]:
        """Parse the text here, send its bytecode, apply its terminal method to the results."""
        from ..parser import parse_query

        parsed = parse_query(text, dict(bindings) if bindings else None)
        try:
            rt = self._remote().submit(parsed.bytecode)
            values = [t.object for t in rt.traversers for _ in range(t.bulk)]
        except GremlinServerError as e:
            self.close()
            if e.status_code == pr.SERVER_ERROR_TIMEOUT:
                raise QueryTimeout(e.status_message) from None
            raise QueryEvaluationError(e.status_message) from None
        except BaseException:
            self.close()              # a scenario timeout mid-read leaves the socket unusable
            raise
        if parsed.terminal == "next":
            n = parsed.terminal_arg
            values = values[:1] if n is None else values[:n]
        elif parsed.terminal == "hasNext":
            values = [bool(values)]
        elif parsed.terminal == "iterate":
            values = []
        return values

    def allow_null_properties(self) -> None:
        """Serve a graph that stores null property values (``@AllowNullPropertyValues``)."""
        self.close()
        q = self.local.q
        self.local.q = type(q)(q.graph, allow_null_properties=True)
        self.backend.server.remove_source(self.source)
        self.backend.server.add_source(self.source, self.local.q)

    def subgraph_elements(self, value: Any) -> tuple[list[Any], list[Any]] | None:
        return self.local.subgraph_elements(value)

    def close(self) -> None:
        if self._rc is not None:
            try:
                self._rc.close()
            except Exception as e:  # noqa: BLE001 (a broken connection is dropped anyway)
                log.debug("closing a remote connection: %s", e)
            self._rc = None


class ServerBackend:
    """Runs conformance scenarios through a :class:`GremlinServer` in this process.

    Args:
        local: the ``LocalBackend`` that builds the graphs (``prepare`` / ``connect``).
        serializer: ``graphbinary`` or ``graphson``.
        timeout: seconds per request on the server (None: the server's default).
    """

    def __init__(self, local: Any, serializer: str = "graphbinary", timeout: float | None = None):
        self.local = local
        self.data = getattr(local, "data", None)
        # the scenarios that expect errors would each log gremlinpython's error report
        logging.getLogger("gremlinpython").setLevel(logging.CRITICAL)
        self.serializer = serializer
        self.server = GremlinServer({}, port=0, evaluation_timeout=timeout).start()
        self._ids = itertools.count()
        self._last: ServerConnection | None = None

    def prepare(self, graph_name: str) -> None:
        self.local.prepare(graph_name)

    def connect(self, graph_name: str) -> ServerConnection:
        """A fresh graph served under a new traversal source name (the previous one dropped)."""
        if self._last is not None:
            self._last.close()
            self.server.remove_source(self._last.source)
        local = self.local.connect(graph_name)
        name = f"scenario{next(self._ids)}"
        self.server.add_source(name, local.q)
        self._last = ServerConnection(self, name, local)
        return self._last

    def close(self) -> None:
        if self._last is not None:
            self._last.close()
        self.server.stop()
