"""A user-defined PIE app: for every vertex, the largest degree among its neighbors.

Run it with ``python examples/custom_pie_app.py``. It builds a random undirected graph split
into 3 fragments, runs the app on the local executor and on Ray, and checks both against a
plain networkx computation.

How the app works (see :mod:`graphengine.pie.app` for the contract):

* **PEval** computes each inner vertex's degree (multi-edges counted, a self loop twice) and
  pushes it to every neighbor with a ``max`` into the synced array ``best``: inner neighbors
  are updated in place, outer (mirror) neighbors get a value the runtime ships to their
  owner, which folds it in with ``max`` (libgrape-lite's auto-parallel sync buffer).
* **IncEval** has nothing left to do: the runtime already folded the mirrors' values into
  the inner vertices, and nothing else changes, so every fragment votes to halt and the run
  ends after one round of messages.

The kernel is a plain ``@numba.njit`` function over the fragment's arrays; the app class is
module-level so it pickles for the Ray actors unchanged.
"""

from __future__ import annotations

import logging
from typing import ClassVar

import networkx as nx
import numba
import numpy as np

import graphengine
from graphengine.pie import App, State, run_app


# no cache=True: a script's functions reach Ray workers by value (module '<dynamic>'), and
# a disk cache entry written there cannot be loaded back under the script's real module name
@numba.njit
def push_degrees(indptr, nbrs, best):
    """``best[v] = max(best[v], degree(u))`` for every edge ``u - v`` with ``u`` inner."""
    for u in range(indptr.shape[0] - 1):
        degree = indptr[u + 1] - indptr[u]
        for j in range(indptr[u], indptr[u + 1]):
            v = nbrs[j]
            best[v] = max(best[v], degree)


class MaxNeighborDegree(App):
    """The largest degree among each vertex's neighbors (0 for isolated vertices)."""

    sync: ClassVar[dict[str, str]] = {"best": "max"}

    def init(self, frag) -> State:
        return State(best=np.zeros(frag.vnum, dtype=np.int64))

    def peval(self, frag, state, messages) -> None:
        push_degrees(frag.out_indptr, frag.out_nbrs, state.best)

    def inceval(self, frag, state, messages) -> None:
        """The runtime already folded the mirrors' degrees into ``best``."""

    def output(self, frag, state) -> dict[str, np.ndarray]:
        return {"r": state.best[:frag.ivnum].copy()}


def max_neighbor_degree(graph: graphengine.Graph, executor: str = "local") -> graphengine.Context:
    """Run :class:`MaxNeighborDegree` on an undirected graph."""
    return run_app(graph, MaxNeighborDegree(), executor)


def reference(G: nx.MultiGraph) -> dict:
    """The same quantity computed by networkx, one vertex at a time."""
    return {v: max((G.degree(u) for u in G.neighbors(v)), default=0) for v in G.nodes}


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    G = nx.MultiGraph(nx.gnm_random_graph(200, 500, seed=1))
    G.add_nodes_from([1000, 1001])  # isolated vertices
    G.add_edges_from([(3, 3), (4, 5)])  # a self loop and a parallel edge
    g = graphengine.session(num_fragments=3).g(G)
    expect = reference(G)
    for executor in ("local", "ray"):
        ctx = max_neighbor_degree(g, executor=executor)
        got = dict(zip(ctx.to_numpy("v.id").tolist(), ctx.to_numpy("r").tolist()))
        assert got == expect, f"{executor}: result differs from networkx"
        logging.getLogger("example").info("%s executor: %d vertices match networkx", executor,
                                          len(got))


if __name__ == "__main__":
    main()
