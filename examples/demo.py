"""The main demo: one embedded local session chaining store, analytics and persistence.

Run with ``make demo``. It builds TinkerPop's modern graph and an R-MAT graph, runs PIE apps on
them, writes a result back as a vertex property, saves and reloads the graph.
"""

from __future__ import annotations

import logging
import tempfile
import time
from pathlib import Path

import graphengine
from graphengine.datasets import load_modern_graph, rmat_graph

log = logging.getLogger("demo")


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("graphengine.pie").setLevel(logging.WARNING)
    with graphengine.session(num_fragments=2) as sess:
        modern = load_modern_graph(sess)
        log.info("modern graph: %s", modern)
        people = modern.project(vertices={"person": ["name"]}, edges={"knows": ["weight"]})
        ranks = graphengine.pagerank(people, delta=0.85, max_round=10)
        modern = modern.add_column(ranks, {"pagerank": "r"}, label="person")
        log.info("people by pagerank:\n%s",
                 modern.to_pandas("person").sort_values("pagerank", ascending=False))
        dist = graphengine.sssp(people, src=1, weight="weight")
        log.info("weighted distance from marko:\n%s",
                 dist.to_dataframe({"id": "v.id", "name": "v.name", "distance": "r"}))

        t0 = time.perf_counter()
        g = rmat_graph(sess, scale=14, edge_factor=8, seed=1)
        log.info("R-MAT: %s built in %.2f s", g, time.perf_counter() - t0)
        for name, run in (("pagerank", lambda: graphengine.pagerank(g, max_round=10)),
                          ("wcc", lambda: graphengine.wcc(g)),
                          ("bfs", lambda: graphengine.bfs(g, src=0))):
            t0 = time.perf_counter()
            ctx = run()
            log.info("%-8s on %d fragments: %.3f s (first call includes Numba compile or cache load)",
                     name, g.fnum, time.perf_counter() - t0)
        g = g.add_column(ctx, {"bfs_depth": "r"})
        with tempfile.TemporaryDirectory() as tmp:
            g.save(Path(tmp) / "rmat")
            loaded = graphengine.load_graph(Path(tmp) / "rmat")
            log.info("saved and memory-mapped back: %s; columns %s", loaded,
                     loaded.schema.vertex_label(loaded.vertex_labels[0]).properties)


if __name__ == "__main__":
    main()
