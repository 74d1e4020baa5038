"""io(file).read(): load a GraphSON 3.0 adjacency-list file into the graph (TinkerPop's IoStep).

Reading adds the file's vertices (with their ids, labels, multi- and meta-properties) and
edges (ids, labels, properties) to the graph, through the same mutations ``addV`` and
``addE`` use, so a failure undoes the whole read. Only GraphSON 3.0 is read (Gryo and GraphML
are JVM formats); ``write()`` is not supported. A :class:`~graphengine.query.Gremlin` made with
``allow_io=False`` (what the server uses) refuses the step, since it names server-side files.
"""

from __future__ import annotations

from gremlin_python.process.traversal import IO

from ...errors import QueryEvaluationError
from ..graphson import iter_graphson
from ..traversal import Step
from . import register
from .mutation import START, _check_writable


class IoStep(Step):
    name = "io"

    def __init__(self, c, args):
        if len(args) != 1 or not isinstance(args[0], str):
            raise QueryEvaluationError("io() takes a file name")
        self.path = args[0]
        self.mode = "read"
        self.reader = None

    def modulate(self, c, name, args, before=False):
        if name in ("read", "write"):
            self.mode = name
        elif name == "with":
            if args and args[0] in (IO.reader, IO.writer) and len(args) > 1:
                self.reader = args[1]
        else:
            super().modulate(c, name, args)

    def process(self, ctx, ts):
        if not getattr(ctx, "io_allowed", True):
            raise QueryEvaluationError("io() is disabled for this graph (it reads server files)")
        if self.mode != "read":
            raise QueryEvaluationError("io().write() is not supported; save the graph with"
                                       " Gremlin.graph.save(path)")
        fmt = self.reader or ("graphson" if self.path.endswith(".json") else None)
        if fmt not in ("graphson", IO.graphson):
            raise QueryEvaluationError(f"io(): only GraphSON 3.0 files can be read, not"
                                       f" {self.path!r} ({fmt or 'unknown format'})")
        _check_writable(ctx)
        g = ctx.graph
        for t in ts:
            if t.obj is not START:
                raise QueryEvaluationError("io() must start a traversal")
            edges = []
            for v in iter_graphson(self.path):
                gid = g.add_vertex(v.label, v.id)
                for key, values in v.properties.items():
                    card = "list" if len(values) > 1 else "single"
                    for val in values:
                        g.set_vertex_property(gid, key, val.value, card, val.meta or None,
                                              vp_id=val.id)
                edges.extend(v.out_edges)
            for e in edges:
                src, dst = g.find_vertex(e.src), g.find_vertex(e.dst)
                if src is None or dst is None:
                    raise QueryEvaluationError(f"io(): edge {e.id!r} names a missing vertex")
                eid = g.add_edge(e.label, src, dst, e.id)
                for key, (value, _) in e.properties.items():
                    g.set_edge_property(eid, key, value)
        return
        yield


register("io")(IoStep)
