"""The Gremlin server: TinkerPop 3.x's driver protocol over websockets (:mod:`.websocket`).

One asyncio loop accepts every connection at ``/gremlin``. A request known to be short runs at
once on the loop (see :meth:`GremlinServer._inline`); any other becomes a task whose traversal
runs on a worker thread, so the loop keeps serving other clients while it runs.

Concurrency: the engine's graph is not safe for concurrent writes, so each traversal source
(each engine, under however many names) has one worker thread and one lock: its traversals,
reads and writes alike, run one at a time in arrival order (serialized per graph); different
sources run in parallel threads (within the GIL). A request still queued when its evaluation
timeout passes gets 598. In-process callers of :meth:`GremlinServer.execute` and
:meth:`GremlinServer.graph` take the same lock.

Transactions: every traversal is its own transaction (a failing one leaves the graph as it was,
as in process). ``g.tx().commit()`` (bytecode ``tx commit``, from gremlinpython's
``g.tx()`` or the text ``g.tx().commit()``) saves a source that was loaded from a path back to
that path (atomically: the store's ``save`` writes a new directory and swaps it in); the server
saves those sources again when it stops if they changed. ``rollback`` and ``begin`` succeed and
do nothing. Session requests (processor ``session``) are served as sessionless ones.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import ssl
import threading
import time
import uuid
from collections.abc import Awaitable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gremlin_python.process.traversal import Bytecode

from ...errors import GraphEngineError, QueryError
from ...store.graph import Graph
from ..engine import Gremlin
from ..traversal import QueryTimeout
from . import protocol as pr
from .auth import Credentials, parse_sasl_plain
from .replicas import ReplicaSet, Upstream
from .websocket import WebSocket, listen

log = logging.getLogger("graphengine.query.server")

__all__ = ["DEFAULT_BATCH_SIZE", "DEFAULT_MAX_FRAME_BYTES", "GremlinServer"]

DEFAULT_BATCH_SIZE = 64
DEFAULT_MAX_FRAME_BYTES = 10 * 1024 * 1024
_LANGUAGES = (None, "", "gremlin-groovy", "gremlin-lang")
_TX_TEXT = re.compile(r"\s*g\s*\.\s*tx\(\)\s*\.\s*(commit|rollback|begin)\(\)\s*;?\s*\Z")
_TIMEOUT_GRACE = 2.0       # seconds past a deadline before the loop stops waiting for a thread
INLINE_MAX = 0.001         # a request shape whose last run took less CPU runs on the loop
INLINE_BUDGET = 0.005      # ... under this deadline (then it goes back to the source's thread)
_MAX_SHAPES = 4096         # request shapes whose costs are remembered
_MAX_TASKS = 64            # requests of a connection on the threads before its reading pauses
_GB_HEAD = bytes([len(pr.GRAPHBINARY_V1)]) + pr.GRAPHBINARY_V1.encode()   # a GraphBinary frame's
_GB_HEAD_LEN = len(_GB_HEAD)                                               # mime type header


@dataclass
class _Source:
    name: str
    engine: Gremlin
    lock: threading.Lock = field(default_factory=threading.Lock)
    path: Path | None = None
    saved: Any = None          # the store graph last saved to ``path``
    executor: ThreadPoolExecutor | None = None   # the one thread that runs its traversals
    queued: list[int] = field(default_factory=lambda: [0])  # requests on that thread (shared)


@dataclass(eq=False)
class _Connection:
    ws: WebSocket
    peer: str
    authenticated: bool
    user: str | None = None
    pending: tuple[pr.MessageSerializer, pr.Request] | None = None
    tasks: set[asyncio.Task] = field(default_factory=set)


@dataclass(eq=False)
class _Job:
    """A checked request: what :meth:`GremlinServer._evaluate` needs."""

    req: pr.Request
    ser: pr.MessageSerializer
    src: _Source | None
    op: str
    gremlin: Any
    bindings: dict[str, Any]
    timeout: float | None
    deadline: float | None      # time.monotonic() seconds
    batch: int
    shape: Any
    started: float = 0.0


@dataclass(eq=False)
class _Fast:
    """A request template's prepared answer (see :meth:`GremlinServer._fast`): the checked
    request's source and the engine's count plan of its traversal, which only the ids of its
    ``V()`` step vary."""

    name: str                   # the traversal source's name (``aliases``)
    src: _Source
    plan: Any                   # the engine's CountPlan
    op: str
    processor: str
    shape: Any
    slow: bool = False          # the last answer took longer than INLINE_MAX


def new_event_loop() -> asyncio.AbstractEventLoop:
    """uvloop's event loop (libuv) where uvloop is installed, else asyncio's: the loop's own
    work is a large part of a short request's cost."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


def run_loop(main: Any) -> None:
    """``asyncio.run(main)`` on :func:`new_event_loop`."""
    loop = new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        loop.run_until_complete(main)
        loop.run_until_complete(loop.shutdown_asyncgens())
    finally:
        asyncio.set_event_loop(None)
        loop.close()


def _shape(op: str, gremlin: Any) -> Any:
    """What a request's cost is predicted from: the script text, or the bytecode's
    instruction names with their argument counts (``V(1).out().count()`` and
    ``V(7).out().count()`` share a shape; ``V().out().count()`` has another)."""
    if not isinstance(gremlin, Bytecode):
        return gremlin
    return (tuple((i[0], len(i)) for i in gremlin.source_instructions),
            tuple((i[0], len(i)) for i in gremlin.step_instructions))


class _OverBudget(Exception):
    """A traversal run on the loop outlived its budget (it was rolled back)."""


class _Reply(Exception):
    """Ends a request with an error status."""

    def __init__(self, code: int, message: str, exception: str | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.exception = exception


def _as_engine(value: Any) -> Gremlin:
    if isinstance(value, Gremlin):
        return value
    if isinstance(value, Graph):
        return Gremlin(value)
    raise TypeError(f"a traversal source is a Graph or a Gremlin engine, not {type(value).__name__}")


class GremlinServer:
    """A Gremlin Server for unmodified TinkerPop drivers (gremlinpython, Java, JavaScript...).

    Args:
        sources: one graph (served as ``g``) or a mapping of traversal source names (``g``,
            ``gmodern``...) to graphs (more with :meth:`add_source`); a :class:`~graphengine.query.Gremlin` engine is served
            as is, so in-process queries through it see the server's mutations.
        host: the interface to bind (127.0.0.1 by default: local clients only).
        port: the TCP port (0: a free port, see :attr:`port` once started).
        credentials: a :class:`Credentials` (or the path of a credentials file): requests need
            SASL PLAIN authentication first (status 407, then 401 on a wrong password).
        ssl_context: serve ``wss://`` with this context.
        max_frame_bytes: the largest request frame; a larger one closes the connection (1009).
        evaluation_timeout: seconds a request may take (the request's ``evaluationTimeout``, in
            milliseconds, overrides it; None or 0: no limit).
        batch_size: results per response frame (the request's ``batchSize`` overrides it).
        paths: traversal source name -> saved graph directory, written back on
            ``g.tx().commit()`` and when the server stops (if the graph changed).
        workers: processes serving the port: ``workers - 1`` replica processes serve
            requests from memory-mapped snapshots of the sources and forward to this process
            whatever may change a graph or concerns a changed source
            (:mod:`~graphengine.query.server.replicas`).
        ssl_files: ``(certificate, key)`` PEM files: TLS for the replicas too (an
            ``ssl_context`` alone cannot be handed to another process).
    """

    def __init__(self, sources: Any, host: str = "127.0.0.1", port: int = 8182, *,
                 credentials: Credentials | os.PathLike | str | None = None,
                 ssl_context: ssl.SSLContext | None = None,
                 max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES,
                 evaluation_timeout: float | None = 30.0,
                 batch_size: int = DEFAULT_BATCH_SIZE,
                 paths: Mapping[str, os.PathLike | str] | None = None,
                 workers: int = 1, ssl_files: tuple[str, str] | None = None):
        if sources is None:
            sources = {}
        elif not isinstance(sources, Mapping):
            sources = {"g": sources}
        self._sources: dict[str, _Source] = {}
        for name, value in sources.items():
            self.add_source(name, value)
        for name, path in (paths or {}).items():
            engine = self._source(name).engine
            for src in self._sources.values():
                if src.engine is engine:
                    src.path, src.saved = Path(path), engine.graph
        if credentials is not None and not isinstance(credentials, Credentials):
            credentials = Credentials.load(credentials)
        self.credentials: Credentials | None = credentials
        self.host = host
        self.port = port
        self.ssl_context = ssl_context
        self.max_frame_bytes = int(max_frame_bytes)
        self.evaluation_timeout = evaluation_timeout or None
        self.batch_size = int(batch_size)
        if workers < 1:
            raise ValueError(f"workers is a positive number of processes, not {workers!r}")
        if ssl_files is not None and ssl_context is None:
            ssl_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            ssl_context.load_cert_chain(*ssl_files)
            self.ssl_context = ssl_context
        if workers > 1 and ssl_context is not None and ssl_files is None:
            raise ValueError("workers > 1 with TLS needs ssl_files=(certificate, key)")
        self.workers = int(workers)
        self.ssl_files = ssl_files
        self._replicas: ReplicaSet | None = None
        self._link: Upstream | None = None       # set in a replica process
        self._serializers = {pr.GRAPHBINARY_V1: pr.GraphBinaryMessageSerializer(),
                             pr.GRAPHSON_V3: pr.GraphSONMessageSerializer()}
        self._serializers["application/json"] = self._serializers[pr.GRAPHSON_V3]
        self._graphson = self._serializers[pr.GRAPHSON_V3]
        self._gb: pr.GraphBinaryMessageSerializer = self._serializers[pr.GRAPHBINARY_V1]
        self._listeners: list[asyncio.AbstractServer] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._connections: dict[WebSocket, _Connection] = {}
        self._stopped = threading.Event()
        self._stopping = False
        self._costs: dict[Any, float] = {}   # request shape -> recent seconds (see _inline)
        self.served = 0                      # requests answered by this process

    # ------------------------------------------------------------------ sources
    def add_source(self, name: str, graph: Any) -> Gremlin:
        """Serve a graph (or a Gremlin engine) under a traversal source name; returns the engine."""
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"a traversal source name is an identifier, not {name!r}")
        engine = _as_engine(graph)
        src = _Source(name, engine)
        for other in self._sources.values():
            if other.engine is engine:     # one engine under two names: one lock, one thread
                src.lock, src.path, src.saved = other.lock, other.path, other.saved
                src.executor, src.queued = other.executor, other.queued
        self._sources[name] = src
        return engine

    def remove_source(self, name: str) -> None:
        """Stop serving a traversal source (requests for it get status 499)."""
        src = self._sources.pop(name, None)
        if src is not None and src.executor is not None and not any(
                o.executor is src.executor for o in self._sources.values()):
            src.executor.shutdown(wait=False)

    @property
    def sources(self) -> list[str]:
        """The names of the traversal sources served."""
        return list(self._sources)

    def _source(self, name: str) -> _Source:
        src = self._sources.get(name)
        if src is None:
            raise KeyError(f"no traversal source named {name!r} (served: {', '.join(self._sources)})")
        return src

    def engine(self, name: str = "g") -> Gremlin:
        """The Gremlin engine of a traversal source: the server's mutations build on it."""
        return self._source(name).engine

    def graph(self, name: str = "g") -> Graph:
        """The store graph of a traversal source after the mutations made through the server."""
        src = self._source(name)
        with src.lock:
            return src.engine.graph

    def execute(self, name: str, text: str, bindings: Mapping[str, Any] | None = None) -> list:
        """Run Gremlin text on a traversal source in process, serialized with the server's
        requests (takes the source's lock)."""
        src = self._source(name)
        with src.lock:
            return src.engine.execute(text, bindings).all()

    @property
    def url(self) -> str:
        """``ws://host:port/gremlin`` (``wss`` with TLS)."""
        scheme = "wss" if self.ssl_context is not None else "ws"
        return f"{scheme}://{self.host}:{self.port}/gremlin"

    # ------------------------------------------------------------------ lifecycle
    async def start_async(self) -> None:
        """Start listening on the running loop (:attr:`port` is the bound port afterwards)."""
        self._loop = asyncio.get_running_loop()
        shared = self.workers > 1 or self._link is not None
        listener = await listen(self._websocket, self.host, self.port,
                                max_message=self.max_frame_bytes, ssl=self.ssl_context,
                                reuse_port=shared or None)
        self._listeners.append(listener)
        if listener.sockets:
            self.port = listener.sockets[0].getsockname()[1]
        if self.workers > 1:
            self._replicas = replicas = ReplicaSet(self, self.workers - 1)
            link = await listen(self._websocket, "127.0.0.1", 0, max_message=self.max_frame_bytes,
                                token=replicas.token)
            self._listeners.append(link)
            replicas.link_port = link.sockets[0].getsockname()[1]
            replicas.start()
        log.info("Gremlin server listening on %s (sources: %s; auth: %s)", self.url,
                 ", ".join(self._sources), "SASL PLAIN" if self.credentials else "none")

    async def stop_async(self) -> None:
        """Close every connection, stop listening and save the sources loaded from a path."""
        if self._stopping:
            return
        self._stopping = True
        if self._replicas is not None:
            await asyncio.get_running_loop().run_in_executor(None, self._replicas.stop)
        if self._link is not None:
            await self._link.close()
        for listener in self._listeners:
            listener.close()
        for ws in list(self._connections):
            ws.close(1001, "server shutting down")
        for listener in self._listeners:
            await listener.wait_closed()
        executors = {id(s.executor): s.executor for s in self._sources.values() if s.executor}
        for ex in executors.values():
            await asyncio.get_running_loop().run_in_executor(None, ex.shutdown, True)
        self.save()
        log.info("Gremlin server on %s stopped", self.url)

    def wait_workers(self, timeout: float | None = 60.0) -> bool:
        """Wait until every replica process listens (True at once with ``workers=1``)."""
        return self._replicas is None or self._replicas.wait(timeout)

    def start(self) -> GremlinServer:
        """Run the server in a background thread (returns once it listens)."""
        if self._thread is not None:
            raise RuntimeError("the server is already running")
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = new_event_loop()
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self.start_async())
            except BaseException as e:  # noqa: BLE001 (reported to the caller of start())
                failure.append(e)
                ready.set()
                loop.close()
                return
            ready.set()
            try:
                loop.run_forever()
            finally:
                loop.run_until_complete(self.stop_async())
                loop.close()
                self._stopped.set()

        self._thread = threading.Thread(target=run, name="gremlin-server-loop", daemon=True)
        self._thread.start()
        ready.wait()
        if failure:
            self._thread = None
            raise failure[0]
        return self

    def stop(self, timeout: float | None = 30.0) -> None:
        """Stop a server started by :meth:`start` (saves path-backed sources; idempotent)."""
        thread, loop = self._thread, self._loop
        if thread is None or loop is None:
            return
        if not loop.is_closed():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout)
        self._thread = None

    def __enter__(self) -> GremlinServer:  # noqa: PYI034
        if self._thread is None:
            self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def serve_forever(self) -> None:
        """Serve in this thread until SIGINT or SIGTERM, then shut down cleanly (the CLI)."""
        import signal

        async def main() -> None:
            await self.start_async()
            done = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                with contextlib.suppress(NotImplementedError, RuntimeError):
                    loop.add_signal_handler(sig, done.set)
            try:
                await done.wait()
            finally:
                log.info("shutting down")
                await self.stop_async()

        run_loop(main())

    def save(self) -> list[str]:
        """Save every path-backed source whose graph changed since it was loaded or saved."""
        saved: list[str] = []
        seen: set[int] = set()
        for src in list(self._sources.values()):
            if src.path is None or id(src.engine) in seen:
                continue
            seen.add(id(src.engine))
            with src.lock:
                if self._save_source(src):
                    saved.append(src.name)
        return saved

    def _save_source(self, src: _Source) -> bool:
        """Save a path-backed source if it changed (the caller holds its lock)."""
        graph = src.engine.graph
        if src.path is None or graph is src.saved:
            return False
        graph.save(src.path)
        for other in self._sources.values():
            if other.engine is src.engine:
                other.saved = graph
        src.saved = graph
        log.info("traversal source %s saved to %s", src.name, src.path)
        return True

    # ------------------------------------------------------------------ websocket
    def _websocket(self, internal: bool) -> WebSocket:
        return WebSocket(self._opened, self._on_frame, self._closed, self.max_frame_bytes,
                         internal)

    def _opened(self, ws: WebSocket) -> None:
        self._connections[ws] = _Connection(ws, "replica" if ws.internal else ws.peer,
                                            authenticated=self.credentials is None or ws.internal)

    def _closed(self, ws: WebSocket) -> None:
        self._connections.pop(ws, None)

    def _send(self, conn: _Connection, frame: bytes | str) -> bool:
        """Write one frame (whole: frames of two answers never mix); False once the client is
        gone."""
        return conn.ws.send(frame)

    def _reply(self, conn: _Connection, ser: pr.MessageSerializer, rid: uuid.UUID | None,
               code: int, message: str, exception: str | None = None) -> None:
        attrs = {"exceptions": [exception]} if exception else None
        self._send(conn, ser.write_response(rid, code, message, None, attrs))

    def _on_frame(self, ws: WebSocket, data: bytes | str) -> Awaitable[None] | None:
        """Serve one request message: None when it is answered (or on its way on a thread),
        else what the connection's next message must wait for (authentication, forwarding)."""
        t0 = time.perf_counter()
        if data.__class__ is bytes and data[:_GB_HEAD_LEN] == _GB_HEAD:
            payload = data[_GB_HEAD_LEN:]
            template = self._gb.template(payload)
            if template is not None and template.fast is not None and \
                    self._fast(ws, template, payload, t0):
                return None
        conn = self._connections[ws]
        ser: pr.MessageSerializer = self._graphson
        try:
            if isinstance(data, str):
                payload: bytes | str = data
            else:
                mime, payload = pr.split_frame(data)
                found = self._serializers.get(mime.strip().lower())
                if found is None:
                    raise pr.ProtocolError(pr.MALFORMED_REQUEST, f"no serializer for the mime type "
                                           f"{mime!r}: this server reads {pr.GRAPHBINARY_V1} and "
                                           f"{pr.GRAPHSON_V3}")
                ser = found
            req = ser.read_request(payload)
            req.frame = data
        except pr.ProtocolError as e:
            self._reply(conn, ser, e.request_id, e.code, e.message)
            self._log("?", "", "-", e.code, t0, 0, conn, e.request_id)
            return None
        if not conn.authenticated:
            return self._authenticate(conn, ser, req, t0)
        return self._spawn(conn, ser, req)

    def _spawn(self, conn: _Connection, ser: pr.MessageSerializer,
               req: pr.Request) -> Awaitable[None] | None:
        """Serve a request: at once on the loop when it is known to be short (see
        :meth:`_inline`), else as a task whose traversal runs on its source's thread; with
        ``_MAX_TASKS`` such tasks in flight on the connection, stop reading until one ends
        (backpressure). A request forwarded to the primary process is returned to be awaited."""
        t0 = time.perf_counter()
        try:
            job = self._prepare(ser, req)
            if job.src is None:        # close / authentication: nothing to evaluate
                self._send(conn, ser.write_response(req.request_id, pr.NO_CONTENT, "", None))
                self._log(req.op, req.processor, "-", pr.NO_CONTENT, t0, 0, conn, req.request_id)
                return None
            if self._link is not None and self._link.must_forward(job):
                return self._link.forward(conn, job, t0)
            outcome = self._inline(job)
        except _Reply as e:
            self._reply(conn, ser, req.request_id, e.code, e.message, e.exception)
            self._log(req.op, req.processor, "-", e.code, t0, 0, conn, req.request_id)
            return None
        if outcome is not None:
            self._finish(conn, job, outcome, t0)
            if req.template is not None and req.template.fast is None and \
                    outcome.__class__ is tuple and outcome[1] == pr.SUCCESS:
                self._prepare_fast(job)
            return None
        task = asyncio.get_running_loop().create_task(self._serve(conn, job, t0))
        conn.tasks.add(task)
        if len(conn.tasks) == _MAX_TASKS:
            conn.ws.hold()
        task.add_done_callback(lambda done: self._task_done(conn, done))
        return None

    @staticmethod
    def _task_done(conn: _Connection, task: asyncio.Task) -> None:
        conn.tasks.discard(task)
        if len(conn.tasks) == _MAX_TASKS - 1:
            conn.ws.release()

    async def _authenticate(self, conn: _Connection, ser: pr.MessageSerializer, req: pr.Request,
                            t0: float) -> None:
        assert self.credentials is not None
        if req.op != "authentication":
            conn.pending = (ser, req)
            self._send(conn, ser.write_response(req.request_id, pr.AUTHENTICATE, "", None))
            self._log(req.op, req.processor, "-", pr.AUTHENTICATE, t0, 0, conn, req.request_id)
            return
        mech = req.args.get("saslMechanism") or "PLAIN"
        sasl = req.args.get("sasl")
        user, ok = None, False
        if mech == "PLAIN" and isinstance(sasl, (str, bytes)):
            try:
                user, password = parse_sasl_plain(sasl)
            except ValueError:
                user = None
            else:
                creds = self.credentials
                ok = await asyncio.get_running_loop().run_in_executor(
                    None, creds.authenticate, user, password)
        if not ok:
            conn.pending = None
            log.warning("authentication failed for user %r from %s", user, conn.peer)
            self._reply(conn, ser, req.request_id, pr.UNAUTHORIZED,
                        "Username and/or password are incorrect" if mech == "PLAIN" else
                        f"SASL mechanism {mech!r} is not supported: use PLAIN")
            self._log(req.op, req.processor, "-", pr.UNAUTHORIZED, t0, 0, conn, req.request_id)
            return
        conn.authenticated, conn.user = True, user
        pending, conn.pending = conn.pending, None
        if pending is None:
            self._send(conn, ser.write_response(req.request_id, pr.NO_CONTENT, "", None))
            self._log(req.op, req.processor, "-", pr.NO_CONTENT, t0, 0, conn, req.request_id)
        else:
            forwarded = self._spawn(conn, *pending)
            if forwarded is not None:
                await forwarded

    # ------------------------------------------------------------------ requests
    async def _serve(self, conn: _Connection, job: _Job, t0: float) -> None:
        try:
            outcome = await self._run_threaded(job)
        except Exception as e:  # noqa: BLE001 (_finish turns it into a status)
            outcome = e
        self._finish(conn, job, outcome, t0)

    def _finish(self, conn: _Connection, job: _Job,
                outcome: tuple[list[bytes | str], int, int] | Exception, t0: float) -> None:
        """Send a request's frames (or its error status) and log it."""
        req, ser = job.req, job.ser
        count = 0
        if isinstance(outcome, _Reply):
            code = outcome.code
            self._reply(conn, ser, req.request_id, code, outcome.message, outcome.exception)
        elif isinstance(outcome, Exception):
            code = pr.SERVER_ERROR
            log.error("request %s failed", req.request_id, exc_info=outcome)
            self._reply(conn, ser, req.request_id, code,
                        f"{type(outcome).__name__}: {outcome}", type(outcome).__qualname__)
        else:
            frames, code, count = outcome
            for frame in frames:
                if not self._send(conn, frame):
                    break
        self._log(req.op, req.processor, job.src.name, code, t0, count, conn, req.request_id)

    def _log(self, op: str, processor: str, source: str, code: int, t0: float, count: int,
             conn: _Connection, rid: uuid.UUID | bytes | None) -> None:
        """The request's log line (``rid``: a UUID or its 16 bytes), formatted only when
        INFO is enabled."""
        self.served += 1
        if log.isEnabledFor(logging.INFO):
            log.info("request op=%s processor=%s source=%s status=%d ms=%.2f results=%d peer=%s "
                     "user=%s id=%s", op or "?", processor or "''", source, code,
                     1000 * (time.perf_counter() - t0), count, conn.peer, conn.user or "-",
                     uuid.UUID(bytes=rid) if rid.__class__ is bytes else rid)

    def _prepare(self, ser: pr.MessageSerializer, req: pr.Request) -> _Job:
        """Check a request's arguments (raises :class:`_Reply`); ``src`` is None for the ops
        that evaluate nothing (close, authentication)."""
        op, args = req.op, req.args
        if op in ("close", "authentication"):
            return _Job(req, ser, None, op, None, {}, None, None, self.batch_size, None)
        aliases = args.get("aliases") or {}
        if not isinstance(aliases, Mapping) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in aliases.items()):
            raise _Reply(pr.INVALID_REQUEST_ARGUMENTS, "aliases must map names to traversal "
                         "source names")
        gremlin = args.get("gremlin")
        bindings: Mapping[str, Any] = {}
        if op == "eval":
            if req.processor not in ("", "session"):
                raise _Reply(pr.INVALID_REQUEST_ARGUMENTS, f"op eval is served by the '' processor,"
                             f" not {req.processor!r}")
            if not isinstance(gremlin, str):
                raise _Reply(pr.INVALID_REQUEST_ARGUMENTS, "eval needs a gremlin argument: the "
                             "script text")
            language = args.get("language")
            if language not in _LANGUAGES:
                raise _Reply(pr.INVALID_REQUEST_ARGUMENTS, f"language {language!r} is not "
                             "supported: scripts are Gremlin (gremlin-groovy or gremlin-lang "
                             "syntax without Groovy code)")
            bindings = args.get("bindings") or {}
            if not isinstance(bindings, Mapping) or not all(isinstance(k, str) for k in bindings):
                raise _Reply(pr.INVALID_REQUEST_ARGUMENTS, "bindings must map names to values")
            source, gremlin = self._script_source(gremlin, aliases)
        elif op == "bytecode":
            if req.processor not in ("traversal", "session"):
                raise _Reply(pr.INVALID_REQUEST_ARGUMENTS, f"op bytecode is served by the "
                             f"'traversal' processor, not {req.processor!r}")
            if not isinstance(gremlin, Bytecode):
                raise _Reply(pr.INVALID_REQUEST_ARGUMENTS, "bytecode needs a gremlin argument: "
                             "the traversal's bytecode")
            source = aliases.get("g", "g")
        else:
            raise _Reply(pr.INVALID_REQUEST_ARGUMENTS, f"Message with op code [{op}] is not "
                         "recognized (ops: eval, bytecode, authentication, close)")
        src = self._sources.get(source)
        if src is None:
            raise _Reply(pr.INVALID_REQUEST_ARGUMENTS, f"The traversal source [{source}] for alias "
                         f"[g] is not configured on the server (served: {', '.join(self._sources)})")
        batch = args.get("batchSize", self.batch_size)
        if isinstance(batch, bool) or not isinstance(batch, int) or batch <= 0:
            raise _Reply(pr.INVALID_REQUEST_ARGUMENTS, f"batchSize must be a positive integer, "
                         f"not {batch!r}")
        timeout = self._timeout(args)
        if not req.lambda_free and (pr.contains_lambda(gremlin) or pr.contains_lambda(bindings)):
            raise _Reply(pr.SERVER_ERROR_EVALUATION, "lambdas are not supported: rewrite the "
                         "closure with Gremlin steps", "QueryEvaluationError")
        deadline = None if timeout is None else time.monotonic() + timeout
        return _Job(req, ser, src, op, gremlin, dict(bindings), timeout, deadline, batch,
                    _shape(op, gremlin))

    def _prepare_fast(self, job: _Job) -> None:
        """Give a request's template a prepared answer (:class:`_Fast`) when the request was
        answered on the loop by the engine's count plan and only its ``V()`` ids vary: the
        template's other arguments passed :meth:`_prepare` and are the same in every frame
        that matches it."""
        req, src = job.req, job.src
        template = req.template
        if job.op != "bytecode" or not template.only_first_step_varies or \
                self._costs.get(job.shape, INLINE_BUDGET) > INLINE_MAX:
            return
        plan = src.engine.count_plan(job.gremlin)
        if plan is not None:
            template.fast = _Fast(src.name, src, plan, req.op, req.processor, job.shape)

    def _fast(self, ws: WebSocket, template: Any, payload: bytes, t0: float) -> bool:
        """Answer a GraphBinary request whose template has a prepared answer (see
        :meth:`_prepare_fast`): the ids of its ``V()`` read from the frame go to the count
        plan, the answer frame is written around the request id's bytes; no request object,
        checks or shape. False (nothing sent) when the general path must take it: the
        connection is not authenticated or has requests on the source's thread, the source
        is busy (its lock), gone or changed (the plan no longer applies), or the plan does not
        take these ids. Requests of other connections waiting for the thread may be overtaken:
        the answer only reads the unchanged graph, and they overlap it in time, so either order
        is one their clients can see (waiting for them would keep every request of a busy
        server on the thread: each one arriving while another waits would queue too).

        Its elapsed time stands for its CPU cost (a CPU clock is a system call): over
        ``INLINE_MAX`` twice in a row (once may be the machine's load), the template loses its
        prepared answer and the shape is measured again on the thread."""
        fast: _Fast = template.fast
        conn = self._connections.get(ws)
        src = fast.src
        if conn is None or not conn.authenticated or conn.tasks or \
                self._sources.get(fast.name) is not src or \
                self._link is not None and self._link.changed(fast.name):
            return False
        if not src.lock.acquire(False):
            return False
        try:
            results = src.engine.run_plan(fast.plan, template.first_step_args(payload))
            if results is not None:
                frame = self._gb.write_success(payload[1:17], results)
        except Exception:  # noqa: BLE001 (the general path answers with the error's status)
            results = None
        finally:
            src.lock.release()
        if results is None or len(results) != 1:
            template.fast = None
            return False
        conn.ws.send(frame)
        self._log(fast.op, fast.processor, fast.name, pr.SUCCESS, t0, len(results), conn,
                  payload[1:17])
        elapsed = time.perf_counter() - t0
        if elapsed > INLINE_MAX:
            if fast.slow:
                template.fast = None
                self._record(fast.shape, elapsed)
            fast.slow = True
        elif fast.slow:
            fast.slow = False
        return True

    def _inline(self, job: _Job) -> tuple[list[bytes | str], int, int] | None:
        """Evaluate on the loop a request whose shape (its steps, see :func:`_shape`) ran in
        under ``INLINE_MAX`` last time, when its source is idle; None when the request goes to
        the source's thread instead. Sparing the thread hand-off (two wake-ups and three
        futures) halves the server's CPU per short request. The loop is never held long: the
        traversal runs under a deadline of ``INLINE_BUDGET``; past it, it is rolled back (as
        any failing traversal) and goes to the thread, and its shape with it from then on."""
        src = job.src
        cost = self._costs.get(job.shape)
        if cost is None or cost > INLINE_MAX or src.queued[0] or not src.lock.acquire(False):
            return None
        try:
            return self._evaluate(job, locked=True, budget=INLINE_BUDGET)
        except _OverBudget:
            self._costs[job.shape] = INLINE_BUDGET
            return None
        except Exception as e:  # noqa: BLE001 (_finish turns it into a status)
            return e  # type: ignore[return-value]

    async def _run_threaded(self, job: _Job) -> tuple[list[bytes | str], int, int]:
        """Evaluate on the source's thread; the loop stops waiting a grace period past the
        deadline (598), the thread finishes on its own and a request still queued is dropped."""
        src, timeout = job.src, job.timeout
        loop = asyncio.get_running_loop()
        src.queued[0] += 1
        try:
            fut = loop.run_in_executor(self._executor(src), self._evaluate, job)
            if timeout is None:
                return await fut
            expired = False

            def expire() -> None:
                nonlocal expired
                expired = True
                fut.cancel()

            handle = loop.call_later(timeout + _TIMEOUT_GRACE, expire)
            try:
                return await fut
            except asyncio.CancelledError:
                if not expired:
                    raise
                raise _Reply(pr.SERVER_ERROR_TIMEOUT, f"evaluation exceeded the "
                             f"{timeout * 1000:.0f} ms evaluationTimeout - consider increasing "
                             "it", "QueryTimeout") from None
            finally:
                handle.cancel()
        finally:
            src.queued[0] -= 1

    def _executor(self, src: _Source) -> ThreadPoolExecutor:
        """The source's worker thread (shared by the names of one engine), made on first use."""
        if src.executor is None:
            ex = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"gremlin-{src.name}")
            for other in self._sources.values():
                if other.engine is src.engine:
                    other.executor = ex
            src.executor = ex
        return src.executor

    def _script_source(self, text: str, aliases: Mapping[str, str]) -> tuple[str, str]:
        """The traversal source of a script and the script as the parser reads it (``g...``).

        A script may start with an alias or a source name (``gmodern.V()``); only that leading
        name is rewritten to ``g``; the text is then parsed, never evaluated."""
        stripped = text.lstrip()
        i = 0
        while i < len(stripped) and (stripped[i].isalnum() or stripped[i] == "_"):
            i += 1
        head = stripped[:i]
        if head and head != "g" and (head in aliases or head in self._sources):
            return aliases.get(head, head), "g" + stripped[i:]
        return aliases.get("g", "g"), text

    def _timeout(self, args: Mapping[str, Any]) -> float | None:
        raw = args.get("evaluationTimeout", args.get("scriptEvaluationTimeout"))
        if raw is None:
            return self.evaluation_timeout
        if isinstance(raw, bool) or not isinstance(raw, (int, float)) or raw < 0:
            raise _Reply(pr.INVALID_REQUEST_ARGUMENTS, f"evaluationTimeout is milliseconds, "
                         f"not {raw!r}")
        return raw / 1000.0 if raw else None

    def _evaluate(self, job: _Job, locked: bool = False,
                  budget: float | None = None) -> tuple[list[bytes | str], int, int]:
        """The traversal under its source's lock (in-process callers of :meth:`execute` take it
        too; ``locked``: the caller holds it), then serialization; on the source's thread, or on
        the loop with a ``budget`` in seconds (past it: :class:`_OverBudget`, rolled back)."""
        src, timeout, deadline, t0 = job.src, job.timeout, job.deadline, time.monotonic()
        if not locked:
            wait = None if deadline is None else deadline - t0
            if wait is not None and (wait <= 0 or not src.lock.acquire(timeout=wait)) or \
                    wait is None and not src.lock.acquire():
                raise _Reply(pr.SERVER_ERROR_TIMEOUT, f"evaluation exceeded the "
                             f"{timeout * 1000:.0f} ms evaluationTimeout waiting for the graph "
                             "(queued behind other requests)", "QueryTimeout")
        op, gremlin = job.op, job.gremlin
        try:
            engine = src.engine
            start, cpu = time.monotonic(), time.thread_time()
            remaining = None if deadline is None else max(deadline - start, 1e-3)
            limit = remaining if budget is None or (remaining is not None and
                                                    remaining < budget) else budget
            engine.evaluation_timeout = limit
            try:
                tx_text = _TX_TEXT.match(gremlin) if op == "eval" else None
                if tx_text is not None:
                    results: list = self._tx(src, Bytecode(), tx_text.group(1)) or []
                elif op == "eval":
                    results = engine.execute(gremlin, job.bindings).all()
                else:
                    tx = self._tx(src, gremlin)
                    results = engine.submit(gremlin) if tx is None else tx
            except QueryTimeout as e:
                if limit is not remaining:
                    raise _OverBudget from e
                raise _Reply(pr.SERVER_ERROR_TIMEOUT, f"{e} (evaluationTimeout "
                             f"{timeout * 1000 if timeout else 0:.0f} ms)", "QueryTimeout") from e
            except (QueryError, GraphEngineError) as e:
                raise _Reply(pr.SERVER_ERROR_EVALUATION, str(e), type(e).__name__) from e
            finally:
                engine.evaluation_timeout = self.evaluation_timeout
                self._record(job.shape, time.thread_time() - cpu)
        finally:
            src.lock.release()
        ser, rid, batch = job.ser, job.req.request_id, job.batch
        try:
            if not results:
                return [ser.write_response(rid, pr.NO_CONTENT, "", None)], pr.NO_CONTENT, 0
            frames: list[bytes | str] = []
            n = len(results)
            for start in range(0, n, batch):
                last = start + batch >= n
                frames.append(ser.write_response(rid, pr.SUCCESS if last else pr.PARTIAL_CONTENT,
                                                 "", results[start:start + batch]))
        except pr.ProtocolError as e:
            raise _Reply(e.code, e.message, "SerializationError") from e
        except RecursionError as e:
            raise _Reply(pr.SERVER_ERROR_SERIALIZATION, "the result nests too deeply to "
                         "serialize", "SerializationError") from e
        return frames, pr.SUCCESS, n

    @staticmethod
    def _error(code: int, message: str) -> _Reply:
        return _Reply(code, message)

    def _record(self, shape: Any, seconds: float) -> None:
        """Remember a request shape's cost: the CPU time of its last run (a first run pays for
        caches, a run over the loop's budget is retried on the thread, so the latest is the best
        guess; CPU time, so that a run the machine's load preempted is not taken for a long
        one)."""
        costs = self._costs
        if len(costs) >= _MAX_SHAPES and shape not in costs:
            costs.clear()
        costs[shape] = seconds

    def _tx(self, src: _Source, bc: Bytecode, op: str | None = None) -> list | None:
        """``g.tx().commit()`` / ``rollback()`` / ``begin()``: None for any other bytecode."""
        if op is None:
            si = bc.source_instructions
            if bc.step_instructions or len(si) != 1 or si[0][0] != "tx":
                return None
            op = si[0][1] if len(si[0]) > 1 else None
        if op == "commit":
            self._save_source(src)
        elif op not in ("rollback", "begin"):
            raise _Reply(pr.INVALID_REQUEST_ARGUMENTS, f"unknown transaction operation {op!r}")
        return []
