"""The main demo: build a property graph in an embedded local session and look at it."""

import logging

import graphengine

logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
log = logging.getLogger("demo")


def main() -> None:
    with graphengine.session(num_fragments=4) as sess:
        g = sess.g(directed=True)
        g = g.add_edges({"src": [1, 2, 3, 4], "dst": [2, 3, 4, 1], "weight": [0.5, 1.0, 1.5, 2.0]},
                        label="link")
        log.info("%s", g)
        log.info("edges:\n%s", g.to_pandas(kind="edge"))


if __name__ == "__main__":
    main()
