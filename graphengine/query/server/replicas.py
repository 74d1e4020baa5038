"""Replica processes: the server on more than one core.

A Python process evaluates one traversal at a time (the GIL), so ``GremlinServer(workers=N)``
starts N - 1 *replica* processes that listen on the same port as the *primary* (the process
that owns the graphs): with ``SO_REUSEPORT`` the kernel spreads new connections over the N
processes, and each serves its own connections' requests end to end (websocket, decoding,
traversal, encoding). A replica reads a snapshot of every source: the store's saved files,
memory-mapped (one copy in the page cache for every process; a source loaded from a path is
read from that path).

What a replica must not answer from its snapshot it forwards, frame for frame, to the primary
over a private link, and relays the primary's answer frames to its client. The link is a
websocket to the primary's second listener, on a loopback port, which accepts only upgrades
carrying the primary's random token (given to the replicas on stdin with their spec; the
websocket library does not serve Unix sockets). What a replica forwards:

- a request that may change a graph: a mutating step anywhere in the traversal
  (:func:`may_mutate`), ``g.tx()``;
- every request for a source that has changed since the snapshot. A change made through the
  server or in process (the session's own ``Gremlin`` engine) raises the source's flag in
  shared memory before the traversal returns, so before its answer is sent; replicas read the
  flag before each request. Every client therefore sees every acknowledged change, and a source
  that changed stays with the primary (until the server restarts).

Replicas are fresh Python processes running :func:`replica_main` (the caller's ``__main__``
is never imported again), given their :class:`ReplicaSpec` on stdin; they end
with the primary: it terminates them when it stops, and each checks that its parent is alive
every second.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import mmap
import os
import pickle
import secrets
import selectors
import shutil
import subprocess
import sys
import tempfile
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gremlin_python.process.traversal import Bytecode

from . import protocol as pr

if TYPE_CHECKING:
    from .server import GremlinServer, _Connection, _Job

log = logging.getLogger("graphengine.query.server")

_ENTRY = ("import pickle, sys; from graphengine.query.server.replicas import replica_main; "
          "replica_main(pickle.load(sys.stdin.buffer))")
MUTATING_STEPS = frozenset({"addV", "addE", "property", "drop", "mergeV", "mergeE", "io"})


def may_mutate(value: Any, depth: int = 0) -> bool:
    """Whether bytecode (or an argument holding bytecode) has a mutating step or ``tx``."""
    if depth > 100:
        return True
    if isinstance(value, Bytecode):
        if any(inst[0] == "tx" for inst in value.source_instructions):
            return True
        for inst in value.step_instructions:
            if inst[0] in MUTATING_STEPS or any(may_mutate(a, depth + 1) for a in inst[1:]):
                return True
        return False
    if isinstance(value, (list, tuple, set, frozenset)):
        return any(may_mutate(v, depth + 1) for v in value)
    if isinstance(value, dict):
        return any(may_mutate(v, depth + 1) for v in value.values())
    bytecode = getattr(value, "bytecode", None)      # an anonymous traversal
    return isinstance(bytecode, Bytecode) and may_mutate(bytecode, depth + 1)


@dataclass
class ReplicaSpec:
    """What a replica process needs (pickled to it)."""

    worker: int
    host: str
    port: int
    sources: list[tuple[list[str], str, int]]   # (names, snapshot path, flag index)
    flags_path: str                              # one byte per source: 1 = it changed
    link: tuple[int, str]                        # the primary's private port and its token
    options: dict[str, Any]
    ssl_files: tuple[str, str] | None
    log_level: int


class ReplicaSet:
    """The primary's side: snapshots, shared flags, the replica processes."""

    def __init__(self, server: GremlinServer, count: int):
        self.server = server
        self.count = count
        self.processes: list[subprocess.Popen] = []
        self._dir = Path(tempfile.mkdtemp(prefix="graphengine-replicas-",
                                          dir="/dev/shm" if os.access("/dev/shm", os.W_OK)
                                          else None))
        os.chmod(self._dir, 0o700)
        self.token = secrets.token_urlsafe(32)     # what opens the primary's private port
        self.link_port = 0                            # that port (set before start())
        self.flags: mmap.mmap | None = None
        self._started = threading.Event()
        self._ok = False
        self._stopping = False

    def start(self) -> None:
        """Snapshot every source, raise the flags of changed ones, start the processes."""
        server = self.server
        engines: dict[int, tuple[Any, list[str], Any]] = {}
        for name, src in server._sources.items():
            entry = engines.setdefault(id(src.engine), (src.engine, [], src))
            entry[1].append(name)
        flags_path = self._dir / "flags"
        flags_path.write_bytes(bytes(max(len(engines), 1)))
        with open(flags_path, "r+b") as f:
            self.flags = mmap.mmap(f.fileno(), 0)
        sources = []
        for index, (engine, names, src) in enumerate(engines.values()):
            base = engine._qg.base
            if src.path is not None and src.saved is base:
                path = str(src.path)
            else:
                path = str(self._dir / f"source{index}")
                base.save(path)
            if engine.version:
                self.flags[index] = 1
            engine.add_change_listener(lambda i=index: self._changed(i))
            sources.append((names, path, index))
        options = {"max_frame_bytes": server.max_frame_bytes,
                   "evaluation_timeout": server.evaluation_timeout,
                   "batch_size": server.batch_size, "credentials": server.credentials}
        for worker in range(1, self.count + 1):
            spec = ReplicaSpec(worker, server.host, server.port, sources, str(flags_path),
                               (self.link_port, self.token), options, server.ssl_files,
                               logging.getLogger().getEffectiveLevel())
            p = subprocess.Popen([sys.executable, "-c", _ENTRY], stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE)
            p.stdin.write(pickle.dumps(spec))
            p.stdin.close()
            self.processes.append(p)
        threading.Thread(target=self._watch, name="gremlin-replicas", daemon=True).start()

    def _changed(self, index: int) -> None:
        if not self.flags[index]:
            self.flags[index] = 1
            log.info("a source changed: its requests go to the primary process from now on")

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until every replica listens (True), or the timeout passes / one failed."""
        return self._started.wait(timeout) and self._ok

    def _watch(self) -> None:
        """Reads each replica's first line on stdout: ``ready`` or what went wrong."""
        ok = True
        with selectors.DefaultSelector() as sel:
            for p in self.processes:
                sel.register(p.stdout, selectors.EVENT_READ, p)
            while sel.get_map():
                for key, _ in sel.select(600):
                    line = key.data.stdout.readline().decode(errors="replace").strip()
                    sel.unregister(key.fileobj)
                    if line != "ready":
                        if not self._stopping:
                            log.error("a replica failed to start: %s", line or "it exited")
                        ok = False
        self._ok = ok
        self._started.set()
        if ok:
            log.info("%d replica processes listen on port %d", self.count, self.server.port)

    def stop(self) -> None:
        self._stopping = True
        for p in self.processes:
            if p.poll() is None:
                p.terminate()
        for p in self.processes:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
            p.stdout.close()
        self.processes.clear()
        if self.flags is not None:
            self.flags.close()
        shutil.rmtree(self._dir, ignore_errors=True)


def replica_main(spec: ReplicaSpec) -> None:
    """A replica process: load the snapshots, serve on the shared port until terminated."""
    import signal
    import ssl

    logging.basicConfig(level=spec.log_level, format=f"%(asctime)s %(levelname)s "
                        f"%(name)s[replica {spec.worker}]: %(message)s")
    ready = sys.stdout
    try:
        from ...store.persistence import load_graph
        from ..engine import Gremlin
        from .server import GremlinServer, run_loop

        sources: dict[str, Any] = {}
        indexes: dict[str, int] = {}
        for names, path, index in spec.sources:
            engine = Gremlin(load_graph(path))
            for name in names:
                sources[name] = engine
                indexes[name] = index
        ctx = None
        if spec.ssl_files:
            ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            ctx.load_cert_chain(*spec.ssl_files)
        server = GremlinServer(sources, host=spec.host, port=spec.port, ssl_context=ctx,
                               **spec.options)
        with open(spec.flags_path, "r+b") as f:
            flags = mmap.mmap(f.fileno(), 0)
        server._link = Upstream(server, spec.link, flags, indexes)
    except BaseException as e:      # reported to the primary, then raised
        print(f"{type(e).__name__}: {e}", file=ready, flush=True)
        raise
    parent = os.getppid()

    async def main() -> None:
        try:
            await server.start_async()
        except BaseException as e:
            print(f"{type(e).__name__}: {e}", file=ready, flush=True)
            raise
        print("ready", file=ready, flush=True)
        done = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, done.set)
        while not done.is_set() and os.getppid() == parent:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(done.wait(), 1.0)
        await server.stop_async()

    run_loop(main())


class Upstream:
    """A replica's link to the primary: forwards requests, relays the answers."""

    def __init__(self, server: GremlinServer, link: tuple[int, str], flags: Any,
                 indexes: dict[str, int]):
        self.server = server
        self.link = link
        self.flags = flags
        self.indexes = indexes
        self._session: Any = None
        self._ws: Any = None
        self._reader: asyncio.Task | None = None
        self._connecting = asyncio.Lock()
        self.pending: dict[uuid.UUID | None, tuple[_Connection, _Job]] = {}

    def changed(self, source: str) -> bool:
        """Whether the primary raised the flag of a source (it changed: the primary answers)."""
        return bool(self.flags[self.indexes[source]])

    def must_forward(self, job: _Job) -> bool:
        """Whether the primary answers this request (see the module docstring)."""
        if self.changed(job.src.name):
            return True
        if job.op == "bytecode":
            return may_mutate(job.gremlin)
        from ..parser import parse_query
        from .server import _TX_TEXT

        if _TX_TEXT.match(job.gremlin):
            return True
        try:
            return may_mutate(parse_query(job.gremlin, job.bindings).bytecode)
        except Exception:  # noqa: BLE001 (the local evaluation reports the syntax error)
            return False

    async def _connect(self) -> Any:
        async with self._connecting:
            if self._ws is None or self._ws.closed:
                import aiohttp

                from .websocket import REPLICA_HEADER

                if self._session is None:
                    self._session = aiohttp.ClientSession()
                port, token = self.link
                self._ws = await self._session.ws_connect(
                    f"http://127.0.0.1:{port}/gremlin", headers={REPLICA_HEADER: token},
                    max_msg_size=0, autoping=True)
                self._reader = asyncio.get_running_loop().create_task(self._read(self._ws))
            return self._ws

    async def forward(self, conn: _Connection, job: _Job, t0: float) -> None:
        """Send the request's frame to the primary; :meth:`_read` relays what comes back."""
        rid = job.req.request_id
        if rid in self.pending:
            self.server._finish(conn, job, self.server._error(
                pr.INVALID_REQUEST_ARGUMENTS, f"request id {rid} is already in flight"), t0)
            return
        self.pending[rid] = (conn, job)
        job.started = t0
        try:
            ws = await self._connect()
            frame = job.req.frame
            if isinstance(frame, str):
                await ws.send_str(frame)
            else:
                await ws.send_bytes(frame)
        except Exception as e:  # noqa: BLE001 (the primary is gone)
            self.pending.pop(rid, None)
            self.server._finish(conn, job, self.server._error(
                pr.SERVER_ERROR, f"the primary process is unreachable: {e}"), t0)

    async def _read(self, ws: Any) -> None:
        from aiohttp import WSMsgType

        async for msg in ws:
            if msg.type not in (WSMsgType.BINARY, WSMsgType.TEXT):
                continue
            rid, code = _peek(msg.data)
            entry = self.pending.get(rid)
            if entry is None:
                continue
            conn, job = entry
            if code != pr.PARTIAL_CONTENT:
                del self.pending[rid]
            self.server._send(conn, msg.data)
            if code != pr.PARTIAL_CONTENT:
                self.server._log(job.req.op, job.req.processor, job.src.name + " (primary)", code,
                                 job.started, 0, conn, rid)
        for rid in list(self.pending):             # the primary closed: fail what is left
            conn, job = self.pending.pop(rid)
            self.server._finish(conn, job, self.server._error(
                pr.SERVER_ERROR, "the primary process closed the connection"), job.started)

    async def close(self) -> None:
        if self._ws is not None:
            await self._ws.close()
        if self._session is not None:
            await self._session.close()


def _peek(frame: bytes | str) -> tuple[uuid.UUID | None, int]:
    """The request id and status code of a response frame (GraphBinary or GraphSON)."""
    if isinstance(frame, bytes) and frame[:1] == b"\x81":
        if frame[1] == 0x00:
            return uuid.UUID(bytes=frame[2:18]), int.from_bytes(frame[18:22], "big", signed=True)
        return None, int.from_bytes(frame[2:6], "big", signed=True)
    obj = json.loads(frame)
    rid = obj.get("requestId")
    if isinstance(rid, dict):                       # GraphSON's typed g:UUID
        rid = rid.get("@value")
    return (uuid.UUID(rid) if rid else None), int(obj["status"]["code"])
