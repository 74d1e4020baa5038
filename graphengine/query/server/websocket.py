"""The server's websocket connections: the ``picows`` library (Cython) on the asyncio loop.

A Gremlin request is one short frame and its answer one or a few frames, so per request the
transport's cost is the server's floor. RFC 6455 (the HTTP upgrade and its validation, frame
parsing and unmasking, ping / pong, the close frame's checks, the frame size limit, frame
serialization) is :mod:`picows`'s: its protocol reads from the transport into its own buffer,
parses frames in C and calls :meth:`WebSocket.on_ws_frame` with each; a complete unfragmented
message is handed to the server from there, and an answer is one ``WSTransport.send`` (header
and payload written with one ``send`` system call when the socket's buffer is empty). No
reader task, queue, future or generator per message. The loop's own transports carry the
bytes (uvloop's where installed): picows's optional aiofastnet transports measured no
cheaper here.

What this module decides: only ``GET <path>`` is upgraded (another path: 404; an invalid
upgrade or a request that is not HTTP: picows's 400), no extension is negotiated (no
compression), pings are answered (picows's automatic pong), a close frame is answered with a
close frame echoing its code and the connection is closed, fragments are joined into one
message (``max_message`` bytes at most: a larger frame is closed with 1009 by picows, a larger
joined message by this module; a new message or a continuation out of turn is 1002), a text
message that is not UTF-8 fails the connection with 1007, messages are handed over in order
(one the server answers later holds the next ones; messages that came after a close frame are
not served), and reading pauses while the server says so (:meth:`WebSocket.hold`) or while the
transport's write buffer is full.

The private listener that replica processes reach the primary through (see
:mod:`.replicas`) is a loopback TCP one (picows sets TCP options on every connection, so it
does not serve Unix sockets): only an upgrade that carries the primary's random token in the
``X-GraphEngine-Replica`` header is accepted there (else 403).
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import Callable
from ssl import SSLContext
from typing import Any
from urllib.parse import urlsplit

from picows import (
    WSCloseCode,
    WSFrame,
    WSListener,
    WSMsgType,
    WSTransport,
    WSUpgradeRequest,
    WSUpgradeResponse,
    WSUpgradeResponseWithListener,
    ws_create_server,
)

log = logging.getLogger("graphengine.query.server")

__all__ = ["REPLICA_HEADER", "WebSocket", "listen"]

REPLICA_HEADER = "X-GraphEngine-Replica"
_TEXT, _BINARY, _CONT, _CLOSE = WSMsgType.TEXT, WSMsgType.BINARY, WSMsgType.CONTINUATION, \
    WSMsgType.CLOSE
_WS_LOG = "graphengine.query.server.websocket"


class WebSocket(WSListener):
    """One websocket connection (picows calls its ``on_ws_*`` methods).

    Args:
        on_open: called with the websocket once the handshake is done.
        on_message: called with each message (``bytes`` or ``str``); it returns None when the
            message is handled, or an awaitable that the next message waits for (messages are
            handled in order).
        on_close: called once when the connection is gone.
        max_message: the largest message in bytes (larger: close 1009).
        internal: the connection is a replica process's link to the primary.
    """

    def __init__(self, on_open: Callable[[WebSocket], None],
                 on_message: Callable[[WebSocket, bytes | str], Any],
                 on_close: Callable[[WebSocket], None], max_message: int,
                 internal: bool = False):
        super().__init__()
        self.on_open = on_open
        self.on_message = on_message
        self.on_close = on_close
        self.max_message = max_message
        self.transport: WSTransport | None = None
        self.peer = "?"
        self.internal = internal
        self.closed = False
        self._open = False
        self._raw: asyncio.Transport | None = None   # the socket's (or TLS) transport
        self._parts: list[bytes] | None = None       # a fragmented message in progress
        self._size = 0
        self._opcode = _BINARY
        self._backlog: list[bytes | str] = []
        self._waiting: asyncio.Future | None = None
        self._holds = 0
        self._write_paused = False

    # ------------------------------------------------------------------ picows callbacks
    def on_ws_connected(self, transport: WSTransport) -> None:
        self.transport = transport
        self._raw = raw = transport.underlying_transport
        peer = raw.get_extra_info("peername")
        self.peer = peer[0] if isinstance(peer, tuple) and peer else "?"
        self._open = True
        self.on_open(self)

    def on_ws_disconnected(self, transport: WSTransport) -> None:
        was_open, self._open = self._open, False
        self.closed = True
        if was_open:
            self.on_close(self)

    def pause_writing(self) -> None:
        self._write_paused = True
        self._reading()

    def resume_writing(self) -> None:
        self._write_paused = False
        self._reading()

    def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
        opcode = frame.msg_type
        if opcode is _BINARY and frame.fin and self._parts is None and self._waiting is None \
                and not self.closed:                  # the common case: one binary frame
            pending = self.on_message(self, frame.get_payload_as_bytes())
            if pending is not None:
                self._wait(pending)
            return
        if self.closed:          # messages that came after a close frame are not served
            return
        if opcode is _BINARY or opcode is _TEXT:
            if self._parts is not None:
                self.close(1002, "a new message before the end of a fragmented one")
            elif frame.fin:
                self._message(opcode, frame.get_payload_as_bytes())
            else:
                self._opcode, self._parts = opcode, [frame.get_payload_as_bytes()]
                self._size = frame.payload_size
        elif opcode is _CONT:
            parts = self._parts
            if parts is None:
                self.close(1002, "a continuation frame without a message to continue")
                return
            self._size += frame.payload_size
            if self._size > self.max_message:
                self.close(1009, f"message over {self.max_message} bytes")
                return
            parts.append(frame.get_payload_as_bytes())
            if frame.fin:
                self._parts = None
                self._message(self._opcode, b"".join(parts))
        elif opcode is _CLOSE:   # picows checked its code and reason; echo the code, close
            code = frame.get_close_code()
            self._shut(WSCloseCode.OK if code is WSCloseCode.NO_INFO else code, b"")
        # ping: picows answered it; pong: nothing to do

    # ------------------------------------------------------------------ sending
    def send(self, payload: bytes | str) -> bool:
        """Send one message (``str``: a text frame); False when the connection is closed."""
        if self.closed:
            return False
        self.transport.send(_BINARY if payload.__class__ is bytes else _TEXT, payload)
        return True

    def close(self, code: int = 1000, reason: str = "") -> None:
        """Send a close frame and close the connection (what is buffered is sent first; the
        client's close frame is not waited for)."""
        if not self.closed:
            self._shut(WSCloseCode(code), reason.encode()[:120].decode("utf-8", "ignore").encode())

    def _shut(self, code: WSCloseCode, reason: bytes) -> None:
        self.closed = True
        transport = self.transport
        if not transport.is_close_frame_sent:
            transport.send_close(code, reason)
        transport.disconnect()

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
            self._raw.pause_reading()
        else:
            self._raw.resume_reading()

    def _message(self, opcode: WSMsgType, payload: bytes) -> None:
        message: bytes | str = payload
        if opcode is _TEXT:
            try:
                message = payload.decode("utf-8")
            except UnicodeDecodeError:
                self.close(1007, "text message is not UTF-8")
                return
        self._deliver(message)

    def _deliver(self, message: bytes | str) -> None:
        if self._waiting is not None:
            self._backlog.append(message)
            return
        pending = self.on_message(self, message)
        if pending is not None:
            self._wait(pending)

    def _wait(self, pending: Any) -> None:
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


async def listen(factory: Callable[[bool], WebSocket], host: str | None, port: int, *,
                 max_message: int, path: str = "/gremlin", ssl: SSLContext | None = None,
                 reuse_port: bool | None = None, token: str | None = None) -> asyncio.Server:
    """Serve websockets at ``path`` on ``host:port`` (picows's listener on the running loop);
    ``factory(internal)`` makes each connection's :class:`WebSocket`. With ``token``, only an
    upgrade whose ``X-GraphEngine-Replica`` header is that token is accepted (internal), any
    other gets 403. picows logs through ``graphengine.query.server.websocket``, WARNING and
    above unless that logger's level was set (it logs each connection and disconnection at
    INFO, its protocol errors at ERROR)."""

    def route(request: WSUpgradeRequest) -> WebSocket | WSUpgradeResponseWithListener | None:
        if urlsplit(request.path.decode("latin-1")).path != path:
            return None                                        # picows answers 404
        if token is None:
            return factory(False)
        given = request.headers.get(REPLICA_HEADER, "")
        if hmac.compare_digest(given.encode("utf-8", "replace"), token.encode()):
            return factory(True)
        return WSUpgradeResponseWithListener(
            WSUpgradeResponse.create_error_response(403, b"Forbidden\n"), None)

    ws_log = logging.getLogger(_WS_LOG)
    if ws_log.level == logging.NOTSET:      # picows logs two INFO lines per connection
        ws_log.setLevel(logging.WARNING)
    return await ws_create_server(route, host, port, ssl=ssl, reuse_port=reuse_port,
                                  max_frame_size=max_message, enable_auto_pong=True,
                                  websocket_handshake_timeout=10, logger_name=ws_log,
                                  use_aiofastnet=False)
