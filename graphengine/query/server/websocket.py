"""The server's websocket connections: the ``websockets`` library's sans-I/O protocol driven
straight from an asyncio transport.

A Gremlin request is one short frame and its answer one or a few frames, so per request the
transport's cost is the server's floor. RFC 6455 (the HTTP upgrade, frame parsing, unmasking,
control frames, close codes, the message size limit, frame serialization) is
:class:`websockets.server.ServerProtocol`'s; this module only moves bytes between it and the
transport: what arrives in ``data_received`` is fed to the protocol, its events are handled at
once (a complete message is handed to the server there), and what it has to send is written
with ``transport.write``. No reader task, queue or future per message (as the library's own
asyncio connection has).

What this module decides: only ``GET <path>`` is upgraded (another path: 404; an invalid
upgrade: the library's 4xx; a request that is not HTTP: 400), no extension is negotiated (no
compression), fragments are joined into one message (``max_message`` bytes at most: the
library closes with 1009 beyond), a text message that is not UTF-8 fails the connection with
1007, messages are handed over in order (one the server answers later holds the next ones),
reading pauses while the server says so (:meth:`WebSocket.hold`) or while the transport's write
buffer is full, and the transport is closed when the library ends the stream.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from websockets.exceptions import InvalidState
from websockets.frames import Opcode
from websockets.http11 import Request
from websockets.protocol import State
from websockets.server import ServerProtocol

log = logging.getLogger("graphengine.query.server")

__all__ = ["WebSocket"]

_TEXT, _BINARY, _CONT = Opcode.TEXT, Opcode.BINARY, Opcode.CONT
_OPEN = State.OPEN
_ws_log = logging.getLogger("graphengine.query.server.websocket")


class WebSocket(asyncio.Protocol):
    """One websocket connection.

    Args:
        on_open: called with the websocket once the handshake is done.
        on_message: called with each message (``bytes`` or ``str``); it returns None when the
            message is handled, or an awaitable that the next message waits for (messages are
            handled in order).
        on_close: called once when the connection is gone.
        max_message: the largest message in bytes (larger: close 1009).
        path: the only request path served.
    """

    def __init__(self, on_open: Callable[[WebSocket], None],
                 on_message: Callable[[WebSocket, bytes | str], Any],
                 on_close: Callable[[WebSocket], None], max_message: int,
                 path: str = "/gremlin"):
        self.on_open = on_open
        self.on_message = on_message
        self.on_close = on_close
        self.max_message = max_message
        self.path = path
        self.protocol = ServerProtocol(max_size=max_message, logger=_ws_log)
        self.transport: asyncio.Transport | None = None
        self.peer = "?"
        self.internal = False        # a Unix socket (a replica process)
        self.closed = False
        self._open = False
        self._parts: list[bytes] = []     # the frames of a fragmented message in progress
        self._opcode = _BINARY
        self._backlog: list[bytes | str] = []
        self._waiting: asyncio.Future | None = None
        self._holds = 0
        self._write_paused = False

    # ------------------------------------------------------------------ asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        peer = transport.get_extra_info("peername")
        self.internal = isinstance(transport.get_extra_info("sockname"), str)
        self.peer = peer[0] if isinstance(peer, tuple) and peer else "?"

    def connection_lost(self, exc: Exception | None) -> None:
        was_open, self._open = self._open, False
        self.closed = True
        if was_open:
            self.on_close(self)

    def eof_received(self) -> bool:
        if not self.closed:
            self.protocol.receive_eof()
            self._flush()
        return False                           # the transport closes itself

    def pause_writing(self) -> None:
        self._write_paused = True
        self._reading()

    def resume_writing(self) -> None:
        self._write_paused = False
        self._reading()

    def data_received(self, data: bytes) -> None:
        if self.closed:
            return
        protocol = self.protocol
        protocol.receive_data(data)
        if protocol.handshake_exc is not None and not self._open:
            # not an HTTP request: the library only ends the stream; say why first
            self.transport.write(protocol.reject(400, "Bad Request\n").serialize())
        self._flush()                          # pongs, close frames, the end of the stream
        for event in protocol.events_received():
            if self.closed:      # messages that came with a close frame are not served
                return
            if isinstance(event, Request):
                self._handshake(event)
                continue
            opcode = event.opcode
            if opcode is _BINARY or opcode is _TEXT:
                if not event.fin:
                    self._opcode, self._parts = opcode, [event.data]
                    continue
                self._message(opcode, event.data)
            elif opcode is _CONT:
                self._parts.append(event.data)
                if event.fin:
                    payload, self._parts = b"".join(self._parts), []
                    self._message(self._opcode, payload)
            # ping / pong / close: the library answered (pong, close echo) or ignores them

    # ------------------------------------------------------------------ sending
    def send(self, payload: bytes | str) -> bool:
        """Send one message (``str``: a text frame); False when the connection is closed."""
        if self.closed:
            return False
        protocol = self.protocol
        try:
            if isinstance(payload, str):
                protocol.send_text(payload.encode("utf-8"))
            else:
                protocol.send_binary(payload)
        except InvalidState:                   # closing: the client is going away
            return False
        self._flush()
        return True

    def close(self, code: int = 1000, reason: str = "") -> None:
        """Send a close frame and close the connection (what is buffered is sent first; the
        client's close frame is not waited for)."""
        if self.closed:
            return
        if self.protocol.state is _OPEN:
            self.protocol.send_close(code, reason.encode()[:120].decode("utf-8", "ignore"))
            self._flush()
        self._shut()

    def _flush(self) -> None:
        """Write what the library has to send; its end of stream closes the transport."""
        for chunk in self.protocol.data_to_send():
            if chunk:
                self.transport.write(chunk)
            else:
                self._shut()

    def _shut(self) -> None:
        if not self.closed:
            self.closed = True
            self.transport.close()

    # ------------------------------------------------------------------ reading
    def hold(self) -> None:
        """Stop reading from the connection until :meth:`release` (backpressure)."""
        self._holds += 1
        self._reading()

    def release(self) -> None:
        self._holds -= 1
        self._reading()

    def _reading(self) -> None:
        if self.closed:
            return
        if self._holds > 0 or self._write_paused or self._waiting is not None:
            self.transport.pause_reading()
        else:
            self.transport.resume_reading()

    def _handshake(self, request: Request) -> None:
        protocol = self.protocol
        if urlsplit(request.path).path != self.path:
            response = protocol.reject(404, "Not Found\n")
        else:
            response = protocol.accept(request)      # 101, or the library's 4xx
        protocol.send_response(response)
        self._flush()
        if response.status_code == 101:
            self._open = True
            self.on_open(self)

    def _message(self, opcode: Opcode, payload: bytes) -> None:
        message: bytes | str = payload
        if opcode is _TEXT:
            try:
                message = payload.decode("utf-8")
            except UnicodeDecodeError:
                self.protocol.fail(1007, "text message is not UTF-8")
                self._flush()
                return
        self._deliver(message)

    def _deliver(self, message: bytes | str) -> None:
        if self._waiting is not None:
            self._backlog.append(message)
            return
        pending = self.on_message(self, message)
        if pending is not None:
            self._waiting = asyncio.ensure_future(pending)
            self._reading()
            self._waiting.add_done_callback(self._continue)

    def _continue(self, done: asyncio.Future) -> None:
        self._waiting = None
        if not done.cancelled() and done.exception() is not None:
            log.error("connection from %s: message handler failed", self.peer,
                      exc_info=done.exception())
        while self._backlog and self._waiting is None and not self.closed:
            self._deliver(self._backlog.pop(0))
        self._reading()
