"""The server's side of RFC 6455 websockets, straight on an asyncio transport.

A Gremlin request is one short frame and its answer one or a few frames, so per request the
transport's cost is the server's floor. Here a complete message is handed to the server from
the protocol's ``data_received`` and an answer frame is one ``transport.write``: no reader
task, queue or future per message (as a general-purpose websocket stack has).

What is served: the HTTP/1.1 upgrade of ``GET /gremlin`` (anything else: 400 / 404 and the
connection closed), then masked client frames: text and binary messages (fragmented or not, at
most ``max_message`` bytes, else close 1009), ping (answered by a pong), pong, close (echoed).
No extension is negotiated (no compression). Reading pauses while the server says so
(:meth:`WebSocket.hold`) or while the transport's write buffer is full.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
import struct
from collections.abc import Callable
from typing import Any

log = logging.getLogger("graphengine.query.server")

__all__ = ["WebSocket"]

_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
_MAX_HEADER = 16 * 1024
_CONTINUATION, _TEXT, _BINARY, _CLOSE, _PING, _PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA
_u16 = struct.Struct(">H")
_u64 = struct.Struct(">Q")


def frame_header(opcode: int, n: int) -> bytes:
    """The header of an unmasked final frame of ``n`` payload bytes (server to client)."""
    if n < 126:
        return bytes((0x80 | opcode, n))
    if n < 1 << 16:
        return bytes((0x80 | opcode, 126)) + _u16.pack(n)
    return bytes((0x80 | opcode, 127)) + _u64.pack(n)


def _unmask(payload: bytes, mask: bytes) -> bytes:
    n = len(payload)
    if not n:
        return b""
    key = int.from_bytes((mask * ((n >> 2) + 1))[:n], "little")
    return (int.from_bytes(payload, "little") ^ key).to_bytes(n, "little")


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
        self.transport: asyncio.Transport | None = None
        self.peer = "?"
        self.internal = False        # a Unix socket (a replica process)
        self.closed = False
        self.close_code: int | None = None
        self._open = False
        self._buf = bytearray()           # the start of a frame (or of the handshake)
        self._need = 0                    # ... and how long it must get before parsing again
        self._parts: list[bytes] = []     # the fragments of a message in progress
        self._opcode = 0
        self._size = 0
        self._backlog: list[bytes | str] = []
        self._waiting: asyncio.Future | None = None
        self._holds = 0
        self._write_paused = False
        self._drained: asyncio.Future | None = None

    # ------------------------------------------------------------------ asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        peer = transport.get_extra_info("peername")
        self.internal = isinstance(transport.get_extra_info("sockname"), str)
        self.peer = peer[0] if isinstance(peer, tuple) and peer else "?"

    def connection_lost(self, exc: Exception | None) -> None:
        was_open, self._open = self._open, False
        self.closed = True
        if self._drained is not None and not self._drained.done():
            self._drained.set_result(None)
        if was_open:
            self.on_close(self)

    def pause_writing(self) -> None:
        self._write_paused = True
        self._reading()

    def resume_writing(self) -> None:
        self._write_paused = False
        if self._drained is not None and not self._drained.done():
            self._drained.set_result(None)
        self._reading()

    def data_received(self, data: bytes) -> None:
        if self._buf:
            self._buf += data
            if len(self._buf) < self._need:
                return
            data, self._buf = bytes(self._buf), bytearray()
        if not self._open:
            data = self._handshake(data)
            if not data:
                return
        self._frames(data)

    # ------------------------------------------------------------------ sending
    def send(self, payload: bytes | str) -> bool:
        """Send one message (``str``: a text frame); False when the connection is closed."""
        if self.closed:
            return False
        if isinstance(payload, str):
            raw = payload.encode("utf-8")
            self.transport.write(frame_header(_TEXT, len(raw)) + raw)
        else:
            self.transport.write(frame_header(_BINARY, len(payload)) + payload)
        return True

    async def drain(self) -> None:
        """Wait until the transport's write buffer is below its high-water mark."""
        if self._write_paused and not self.closed:
            loop = asyncio.get_running_loop()
            if self._drained is None or self._drained.done():
                self._drained = loop.create_future()
            await self._drained

    def close(self, code: int = 1000, reason: str = "") -> None:
        """Send a close frame and close the connection (what is buffered is sent first)."""
        if self.closed:
            return
        self.close_code = code
        if self._open:
            body = _u16.pack(code) + reason.encode("utf-8")[:120]
            self.transport.write(frame_header(_CLOSE, len(body)) + body)
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

    def _handshake(self, data: bytes) -> bytes:
        """Answer the HTTP upgrade; returns the bytes after the request's head."""
        end = data.find(b"\r\n\r\n")
        if end < 0:
            if len(data) > _MAX_HEADER:
                self._refuse(431, "Request Header Fields Too Large")
            else:
                self._buf, self._need = bytearray(data), len(data) + 1
            return b""
        lines = data[:end].decode("latin-1").split("\r\n")
        parts = lines[0].split(" ")
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if len(parts) != 3 or parts[0] != "GET" or not parts[2].startswith("HTTP/1."):
            self._refuse(400, "Bad Request")
            return b""
        if parts[1].split("?", 1)[0] != self.path:
            self._refuse(404, "Not Found")
            return b""
        key = headers.get("sec-websocket-key", "")
        if headers.get("upgrade", "").lower() != "websocket" or \
                "upgrade" not in headers.get("connection", "").lower() or \
                headers.get("sec-websocket-version") != "13" or not key:
            self._refuse(400, "Bad Request")
            return b""
        accept = base64.b64encode(hashlib.sha1(key.encode("latin-1") + _GUID).digest())
        self.transport.write(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                             b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept +
                             b"\r\n\r\n")
        self._open = True
        self.on_open(self)
        return data[end + 4:]

    def _refuse(self, status: int, reason: str) -> None:
        body = f"{status} {reason}".encode()
        self.transport.write(f"HTTP/1.1 {status} {reason}\r\nContent-Type: text/plain\r\n"
                             f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
                             + body)
        self.closed = True
        self.transport.close()

    def _frames(self, data: bytes) -> None:
        """Parse the complete frames in ``data`` (the rest waits for more bytes)."""
        pos, n, need = 0, len(data), 2
        while not self.closed:
            if n - pos < 2:
                break
            b0, b1 = data[pos], data[pos + 1]
            length = b1 & 0x7F
            head = pos + 2
            if length == 126:
                need = 4
                if n - head < 2:
                    break
                length = _u16.unpack_from(data, head)[0]
                head += 2
            elif length == 127:
                need = 10
                if n - head < 8:
                    break
                length = _u64.unpack_from(data, head)[0]
                head += 8
            opcode = b0 & 0x0F
            if b0 & 0x70 or not b1 & 0x80:     # reserved bits, or an unmasked client frame
                self.close(1002, "protocol error")
                return
            if opcode < _CLOSE and self._size + length > self.max_message:
                self.close(1009, f"message too big (limit {self.max_message} bytes)")
                return
            if opcode >= _CLOSE and (length > 125 or not b0 & 0x80):
                self.close(1002, "protocol error")
                return
            need = head - pos + 4 + length
            if n - pos < need:
                break
            need = 2
            mask = data[head:head + 4]
            payload = _unmask(data[head + 4:head + 4 + length], mask)
            pos = head + 4 + length
            self._frame(opcode, bool(b0 & 0x80), payload)
        if pos < n and not self.closed:
            self._buf, self._need = bytearray(data[pos:]), need

    def _frame(self, opcode: int, fin: bool, payload: bytes) -> None:
        if opcode == _PING:
            self.transport.write(frame_header(_PONG, len(payload)) + payload)
            return
        if opcode == _PONG:
            return
        if opcode == _CLOSE:
            code = _u16.unpack_from(payload)[0] if len(payload) >= 2 else 1000
            self.close(code if 1000 <= code < 5000 and code not in (1005, 1006, 1015) else 1002)
            return
        if opcode == _CONTINUATION:
            if not self._parts:
                self.close(1002, "continuation without a message")
                return
        elif opcode in (_TEXT, _BINARY):
            if self._parts:
                self.close(1002, "a new message inside a fragmented one")
                return
            self._opcode = opcode
        else:
            self.close(1002, f"unknown opcode {opcode}")
            return
        if not fin:
            self._parts.append(payload)
            self._size += len(payload)
            return
        if self._parts:
            self._parts.append(payload)
            payload = b"".join(self._parts)
            self._parts, self._size = [], 0
        message: bytes | str = payload
        if self._opcode == _TEXT:
            try:
                message = payload.decode("utf-8")
            except UnicodeDecodeError:
                self.close(1007, "text frame is not UTF-8")
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
