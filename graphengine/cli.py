"""The ``graphengine`` command line.

``graphengine serve``: a Gremlin Server (TinkerPop 3.x websocket protocol) over saved graphs or
TinkerPop's toy datasets, until SIGINT or SIGTERM::

    graphengine serve --dataset modern --port 8182
    graphengine serve --graph gsocial=/data/social --credentials users.txt \\
        --ssl-cert cert.pem --ssl-key key.pem --evaluation-timeout 5000

``--graph [NAME=]PATH`` loads a graph saved with ``Graph.save`` (``graphengine.load_graph``);
the mutations sent to it are saved back to ``PATH`` (atomically) on ``g.tx().commit()`` and
when the server stops. ``--dataset [NAME=]modern|classic|crew|grateful|sink`` serves a toy
graph (modern is built in; the others are read from ``../shared/tinkerpop/data``). A source is
named ``NAME`` (default: ``g`` + the dataset name or the directory's name); when no source is
called ``g``, the first one is also served as ``g``. ``--workers N`` serves the port from N
processes (see :mod:`graphengine.query.server.replicas`).

``graphengine credentials add FILE USER``: add a user to a credentials file (the password is
prompted for, or read from stdin with ``--password-stdin``), stored as a salted scrypt hash.
"""

from __future__ import annotations

import argparse
import getpass
import logging
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

log = logging.getLogger("graphengine.cli")

DATASETS = ("modern", "classic", "crew", "grateful", "sink")


def _split_named(spec: str) -> tuple[str | None, str]:
    name, sep, rest = spec.partition("=")
    if sep and name.isidentifier():
        return name, rest
    return None, spec


def _source_name(stem: str) -> str:
    name = "g" + re.sub(r"\W", "_", stem)
    return name if name.isidentifier() else "g_" + name[1:]


def load_dataset(name: str, num_fragments: int = 1) -> Any:
    """A Gremlin engine over a toy dataset (its multi/meta-properties replayed).

    Raises:
        SystemExit: an unknown dataset, or its GraphSON file is absent.
    """
    import graphengine
    from graphengine.query import Gremlin

    if name == "modern":
        from graphengine.datasets import load_modern_graph
        return Gremlin(load_modern_graph(graphengine.session(num_fragments=num_fragments)))
    if name not in DATASETS:
        raise SystemExit(f"graphengine serve: unknown dataset {name!r} (one of {', '.join(DATASETS)})")
    from graphengine.query.conformance import GRAPH_FILES, default_data_path
    from graphengine.query.graphson import read_graphson

    path = default_data_path() / GRAPH_FILES[name]
    if not path.exists():
        raise SystemExit(f"graphengine serve: dataset {name!r} needs TinkerPop's GraphSON file "
                         f"{path} (absent); --dataset modern is built in")
    graph, mutations = read_graphson(path, num_fragments=num_fragments)
    engine = Gremlin(graph)
    for text, bindings in mutations:
        engine.execute(text, bindings)
    return engine


def _serve(args: argparse.Namespace) -> int:
    import graphengine
    from graphengine.query import Gremlin
    from graphengine.query.server import GremlinServer

    sources: dict[str, Any] = {}
    paths: dict[str, Path] = {}
    for spec in args.graph or []:
        name, path = _split_named(spec)
        p = Path(path)
        name = name or _source_name(p.name)
        try:
            sources[name] = Gremlin(graphengine.load_graph(p))
        except Exception as e:
            raise SystemExit(f"graphengine serve: cannot load the graph at {p}: {e}") from e
        paths[name] = p
    for spec in args.dataset or []:
        name, ds = _split_named(spec)
        sources[name or _source_name(ds)] = load_dataset(ds)
    if not sources:
        log.info("no --graph or --dataset given: serving the modern graph")
        sources["gmodern"] = load_dataset("modern")
    if "g" not in sources:
        first = next(iter(sources))
        sources["g"] = sources[first]
        if first in paths:
            paths["g"] = paths[first]
    ssl_files = None
    if args.ssl_cert or args.ssl_key:
        if not (args.ssl_cert and args.ssl_key):
            raise SystemExit("graphengine serve: --ssl-cert and --ssl-key go together")
        ssl_files = (args.ssl_cert, args.ssl_key)
    if args.workers < 1:
        raise SystemExit(f"graphengine serve: --workers is at least 1, not {args.workers}")
    credentials = None
    if args.credentials:
        from graphengine.query.server import Credentials
        try:
            credentials = Credentials.load(args.credentials)
        except (OSError, ValueError) as e:
            raise SystemExit(f"graphengine serve: credentials file {args.credentials}: {e}") from e
    server = GremlinServer(sources, host=args.host, port=args.port, credentials=credentials,
                           ssl_files=ssl_files, max_frame_bytes=args.max_frame_bytes,
                           evaluation_timeout=args.evaluation_timeout / 1000.0,
                           batch_size=args.batch_size, paths=paths, workers=args.workers)
    server.serve_forever()
    return 0


def _credentials(args: argparse.Namespace) -> int:
    from graphengine.query.server import add_user

    if args.action != "add":
        raise SystemExit(f"graphengine credentials: unknown action {args.action!r} (add)")
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass(f"password for {args.user}: ")
        if password != getpass.getpass("again: "):
            raise SystemExit("graphengine credentials: the passwords differ")
    if not password:
        raise SystemExit("graphengine credentials: empty password")
    add_user(args.file, args.user, password)
    print(f"user {args.user} written to {args.file}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``graphengine``."""
    from graphengine.query.server import DEFAULT_BATCH_SIZE, DEFAULT_MAX_FRAME_BYTES

    ap = argparse.ArgumentParser(prog="graphengine", description="graphengine command line")
    ap.add_argument("--log-level", default="INFO", help="logging level (default INFO)")
    sub = ap.add_subparsers(dest="command", required=True)
    s = sub.add_parser("serve", help="serve graphs to Gremlin drivers (TinkerPop 3.x websocket)")
    s.add_argument("--graph", action="append", metavar="[NAME=]PATH",
                   help="a saved graph directory (repeatable); mutations are saved back")
    s.add_argument("--dataset", action="append", metavar="[NAME=]DATASET",
                   help=f"a toy graph: {', '.join(DATASETS)} (repeatable)")
    s.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    s.add_argument("--port", type=int, default=8182, help="TCP port (default 8182)")
    s.add_argument("--credentials", metavar="FILE", help="require SASL PLAIN authentication "
                   "against this credentials file (graphengine credentials add)")
    s.add_argument("--ssl-cert", metavar="F", help="TLS certificate (PEM): serve wss://")
    s.add_argument("--ssl-key", metavar="F", help="TLS private key (PEM)")
    s.add_argument("--max-frame-bytes", type=int, default=DEFAULT_MAX_FRAME_BYTES, metavar="N",
                   help=f"largest request frame (default {DEFAULT_MAX_FRAME_BYTES})")
    s.add_argument("--evaluation-timeout", type=float, default=30000, metavar="MS",
                   help="default evaluation timeout in milliseconds (default 30000; 0: none)")
    s.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE, metavar="N",
                   help=f"results per response frame (default {DEFAULT_BATCH_SIZE})")
    s.add_argument("--workers", type=int, default=1, metavar="N",
                   help="processes serving the port: N - 1 replicas answer from snapshots of "
                        "the graphs and forward changes to this process (default 1)")
    c = sub.add_parser("credentials", help="manage a credentials file")
    c.add_argument("action", choices=["add"], help="add (or replace) a user")
    c.add_argument("file", help="the credentials file")
    c.add_argument("user", help="the user name")
    c.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    return ap


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``graphengine`` console script."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=getattr(logging, str(args.log_level).upper(), logging.INFO),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.command == "serve":
        return _serve(args)
    return _credentials(args)


if __name__ == "__main__":
    sys.exit(main())
