"""The main demo: one embedded local session that chains the three engines on one graph.

Run with ``make demo``. Each stage is timed:

1. load a graph (a stochastic block model with class labels and noisy features);
2. PageRank and core numbers by the PIE engine, written back with ``add_column``;
3. a Gremlin question over those columns;
4. GraphSAGE trained through graphengine's ``NeighborLoader`` with the analytics columns as
   extra features (the loss / accuracy curve is saved as a PNG);
5. predictions written back as a column;
6. a Gremlin query that reads the predictions;
7. the same question from gremlinpython's ``DriverRemoteConnection`` over the websocket server
   that the session starts (``sess.serve``);
8. the graph saved (Arrow IPC, atomic) and memory-mapped back.
"""

from __future__ import annotations

import logging
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from gremlin_python.driver.driver_remote_connection import DriverRemoteConnection
from gremlin_python.process.anonymous_traversal import traversal

import graphengine
from graphengine import gnn
from graphengine.datasets import sbm

log = logging.getLogger("demo")


@contextmanager
def stage(name: str, timings: list):
    t0 = time.perf_counter()
    yield
    dt = time.perf_counter() - t0
    timings.append((name, dt))
    log.info("[%5.2f s] %s", dt, name)


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    for noisy in ("graphengine.pie", "graphengine.store", "graphengine.gnn", "gremlinpython"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    timings: list[tuple[str, float]] = []
    out_dir = Path(tempfile.mkdtemp(prefix="graphengine-demo-"))
    with graphengine.session(num_fragments=2) as sess:
        with stage("load: SBM graph, 4 classes x 500 vertices, 16 noisy features", timings):
            g = sbm(sess, [500, 500, 500, 500], p_in=0.01, p_out=0.003, num_features=16,
                    class_sep=0.3, seed=0)
        log.info("graph: %s", g)

        with stage("analytics: PageRank and core numbers (PIE), add_column", timings):
            g = g.add_column(graphengine.pagerank(g, max_round=20), {"pagerank": "r"})
            g = g.add_column(graphengine.core_number(g), {"core": "r"})

        q = sess.gremlin(g)
        with stage("gremlin: top PageRank vertices of the densest cores", timings):
            top_core = q.execute("g.V().values('core').max()").one()
            top = q.execute("g.V().has('core', gte(k)).order().by('pagerank', desc).limit(5)"
                            ".project('id', 'class', 'pagerank', 'core')"
                            ".by(id).by('label').by('pagerank').by('core')",
                            {"k": top_core - 1}).all()
        for row in top:
            log.info("  %s", row)

        with stage("gnn: GraphSAGE, 2 layers, fanouts [10, 5], features + PageRank + core",
                   timings):
            model, history = gnn.train_node_classifier(
                g, features=["feat", "pagerank", "core"], label="label", arch="sage",
                num_neighbors=[10, 5], batch_size=256, epochs=20, patience=8,
                standardize=True, curve=out_dir / "sage_curve.png", progress=False, seed=0)
        best = history.best
        log.info("  best epoch %d: val accuracy %.3f, test accuracy %.3f; curve %s",
                 best.epoch, best.val, best.test, out_dir / "sage_curve.png")

        with stage("gnn: predictions written back as the column 'pred'", timings):
            g = gnn.predict(g, model, features=["feat", "pagerank", "core"], column="pred",
                            standardize=True)

        q = sess.gremlin(g)
        with stage("gremlin: accuracy and confusion read from the predictions", timings):
            right = q.execute("g.V().as('v').values('label').as('y')"
                              ".select('v').values('pred').where(eq('y')).count()").one()
            confusion = q.execute("g.V().has('label', 0).groupCount().by('pred')").one()
        log.info("  %d of %d vertices predicted right (%.1f%%); class 0 predicted as %s",
                 right, g.vertex_count, 100.0 * right / g.vertex_count, confusion)

        with stage("server: the graph served over a websocket, asked by gremlinpython", timings):
            server = sess.serve(q, port=0)
            remote = DriverRemoteConnection(server.url, "g")
            try:
                g_remote = traversal().with_(remote)
                over_ws = g_remote.V().has("label", 0).group_count().by("pred").next()
            finally:
                remote.close()
                server.stop()
        log.info("  %s answers as the in-process engine: %s", server.url,
                 "the same" if over_ws == confusion else f"DIFFERENTLY {over_ws}")

        with stage("store: save (Arrow IPC, atomic) and memory-map back", timings):
            g.save(out_dir / "graph")
            back = graphengine.load_graph(out_dir / "graph")
        log.info("  reloaded %s; columns %s", back,
                 back.schema.vertex_label(back.vertex_labels[0]).properties)
    log.info("total %.2f s over %d stages", sum(t for _, t in timings), len(timings))


if __name__ == "__main__":
    main()
