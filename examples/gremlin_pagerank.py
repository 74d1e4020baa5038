"""PageRank by the PIE engine, written back as a column, then asked about with Gremlin.

Run with ``.venv/bin/python examples/gremlin_pagerank.py``. The same session chains the
analytics engine and the Gremlin engine on one graph: PageRank becomes the vertex property
``pagerank`` of a new graph version, which Gremlin orders by; a 2-hop query and the same
question through gremlinpython's own fluent API follow.
"""

from __future__ import annotations

import logging

from gremlin_python.process.graph_traversal import __
from gremlin_python.process.traversal import Order

import graphengine
from graphengine.datasets import load_modern_graph, rmat_graph

log = logging.getLogger("gremlin_pagerank")


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("graphengine.pie").setLevel(logging.WARNING)
    with graphengine.session(num_fragments=2) as sess:
        g = load_modern_graph(sess)
        g = g.add_column(graphengine.pagerank(g, delta=0.85, max_round=20), {"pagerank": "r"})
        q = sess.gremlin(g)
        top = q.execute("g.V().order().by('pagerank', desc).limit(3)"
                        ".project('name', 'pagerank').by('name').by('pagerank')").all()
        log.info("top 3 by PageRank: %s", top)
        two_hop = q.execute("g.V().has('name', 'marko').out().out().dedup().values('name')").all()
        log.info("2 hops from marko: %s", two_hop)
        # gremlinpython's fluent API, run in process (no server)
        gt = q.traversal_source()
        names = (gt.V().has_label("person").order().by("pagerank", Order.desc)
                 .values("name").to_list())
        log.info("people by PageRank (gremlinpython): %s", names)
        coworkers = (gt.V().has("name", "josh").out("created").in_("created")
                     .where(__.has("name", "josh").count().is_(0)).values("name").to_list())
        log.info("josh's co-creators: %s", coworkers)

        big = rmat_graph(sess, scale=14, edge_factor=8, seed=1)
        big = big.add_column(graphengine.pagerank(big, max_round=10), {"pagerank": "r"})
        qb = sess.gremlin(big)
        hubs = qb.execute("g.V().order().by('pagerank', desc).limit(5).id()").all()
        log.info("R-MAT hubs by PageRank: %s", hubs)
        reach = qb.execute("g.V(vid).out().out().count()", {"vid": hubs[0]}).one()
        log.info("2-hop traversers from the top hub: %d", reach)


if __name__ == "__main__":
    main()
