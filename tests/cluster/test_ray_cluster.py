"""The Ray cluster session on a simulated 3-node cluster (``ray.cluster_utils.Cluster``).

The cluster and the session start once for the module (about 20-30 s on 2 cores). Every
check compares the distributed graph with the same data loaded by the local store, whose
own tests check it against networkx and hand-computed values.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import graphengine
from graphengine.errors import (
    AnalyticsError,
    ClusterError,
    DuplicateVertexError,
    LoadError,
    SchemaError,
    UnknownVertexError,
)
from graphengine.pie.algorithms.pagerank import PageRank

ray = pytest.importorskip("ray")

N, M = 400, 3000


@pytest.fixture(scope="module")
def cluster_address(sess):
    return sess.cluster.ray.get_runtime_context().gcs_address


@pytest.fixture(scope="module")
def sess():
    from ray.cluster_utils import Cluster

    if ray.is_initialized():
        ray.shutdown()
    cluster = Cluster(initialize_head=True,
                      head_node_args={"num_cpus": 1, "object_store_memory": 100 * 2**20})
    for _ in range(2):
        cluster.add_node(num_cpus=1, object_store_memory=100 * 2**20)
    ray.init(address=cluster.address, include_dashboard=False, log_to_driver=False)
    # the fault test's app is defined here: workers get it by value
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
    s = graphengine.session(cluster="ray", address=cluster.address, num_fragments=3)
    yield s
    s.close()
    ray.shutdown()
    cluster.shutdown()


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("cluster_data")
    rng = np.random.default_rng(7)
    src = rng.integers(0, N, M)
    dst = rng.integers(0, N, M)
    weight = rng.random(M).round(3) + 0.001
    ids = rng.permutation(N) * 3 + 10  # sparse, unordered ids
    vertices = pa.table({"id": ids, "age": rng.integers(0, 90, N),
                         "name": [f"p{i}" for i in ids]})
    pq.write_table(vertices, root / "vertices.parquet", row_group_size=64)
    edges = pa.table({"src": ids[src], "dst": ids[dst], "weight": weight})
    (root / "edges").mkdir()
    for k in range(6):
        pq.write_table(edges.slice(k * M // 6, (k + 1) * M // 6 - k * M // 6),
                       root / "edges" / f"part-{k}.parquet", row_group_size=100)
    return {"root": root, "edges": edges, "vertices": vertices}


def load_local(data, directed=True):
    return graphengine.session(num_fragments=3).load_from(
        edges={"knows": data["edges"]}, vertices={"person": data["vertices"]},
        directed=directed)


def load_ray(sess, data, directed=True):
    root = data["root"]
    return sess.load_from(edges={"knows": str(root / "edges")},
                          vertices={"person": str(root / "vertices.parquet")},
                          directed=directed)


@pytest.fixture(scope="module")
def graphs(sess, data):
    return load_ray(sess, data), load_local(data)


def adjacency(graph, direction):
    """User id -> sorted neighbor user ids (multiset), from the fragments' CSR / CSC."""
    out = {}
    for frag in graph.fragments:
        indptr, nbrs, _ = frag.csr(direction)
        owners = graph.vertex_ids(frag.inner_gids)
        names = graph.vertex_ids(nbrs) if len(nbrs) else []
        for i, uid in enumerate(owners):
            out[uid] = sorted(names[indptr[i]:indptr[i + 1]])
    return out


def sorted_table(table, keys):
    return table.sort_by([(k, "ascending") for k in keys]).to_pandas()


def test_load_from_six_parquet_files_equals_local(graphs):
    g, local = graphs
    assert (g.vertex_count, g.edge_count) == (local.vertex_count, local.edge_count) == (N, M)
    gathered = g.to_local()
    for direction in ("out", "in"):
        assert adjacency(gathered, direction) == adjacency(local, direction)
    pd.testing.assert_frame_equal(sorted_table(gathered.vertex_table("person"), ["id"]),
                                  sorted_table(local.vertex_table("person"), ["id"]))
    pd.testing.assert_frame_equal(
        sorted_table(gathered.edge_table("knows"), ["src", "dst", "weight"]),
        sorted_table(local.edge_table("knows"), ["src", "dst", "weight"]))
    # same global ids as the local load: the shares are read in the files' order
    ids = local.vertex_table("person").column("id")
    assert np.array_equal(g.gids("person", ids), local.gids("person", ids))
    assert g.gids("person", [-5]).tolist() == [-1]
    # an app's source: asked of its owner once per version, then answered by the driver
    vid = ids[3].as_py()
    assert g.gid("person", vid) == local.gid("person", vid)
    actors, g.cluster.actors = g.cluster.actors, []  # no actor to ask
    try:
        assert g.gid("person", vid) == local.gid("person", vid)
    finally:
        g.cluster.actors = actors
    assert g.gid("person", -5) == -1
    # the driver holds blocks and handles; the fragments' bytes are on the workers
    assert g.nbytes == sum(f.nbytes for f in gathered.fragments)


def test_fragments_on_distinct_nodes(graphs):
    g, _ = graphs
    assert len(set(g.nodes())) == 3


APPS = {
    "bfs": lambda g, root: graphengine.bfs(g, root),
    "sssp": lambda g, root: graphengine.sssp(g, root, weight="weight"),
    "pagerank": lambda g, root: graphengine.pagerank(g, max_round=15),
    "wcc": lambda g, root: graphengine.wcc(g),
    "cdlp": lambda g, root: graphengine.cdlp(g, max_round=5),
    "lcc": lambda g, root: graphengine.lcc(g),
}


@pytest.mark.parametrize("app", sorted(APPS))
def test_ldbc_apps_equal_local(graphs, data, app):
    g, local = graphs
    root = data["vertices"].column("id")[0].as_py()
    ours, theirs = APPS[app](g, root), APPS[app](local, root)
    assert np.array_equal(ours.gids, theirs.gids)
    a, b = ours.to_numpy("r"), theirs.to_numpy("r")
    if a.dtype.kind == "f":
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=0)
    else:
        assert np.array_equal(a, b)
    assert ours.to_dataframe().shape == (N, 2)


def test_add_column_stays_distributed(graphs):
    g, local = graphs
    ctx = graphengine.pagerank(g)
    g2 = g.add_column(ctx, {"pr": "r"})
    assert "pr" in g2.schema.vertex_label("person").properties
    assert "pr" not in g.schema.vertex_label("person").properties
    want = graphengine.pagerank(local).to_numpy("r")
    got = g2.vertex_property("pr")[ctx.gids]
    np.testing.assert_allclose(got, want, rtol=1e-12)
    # an array over all vertices, split by owner on the driver
    g3 = g2.add_column(np.arange(N, dtype=np.int64), "rank_pos")
    assert np.array_equal(g3.vertex_property("rank_pos")[g3.all_gids()], np.arange(N))


def test_save_and_load_round_trip(sess, graphs, tmp_path, caplog):
    g, local = graphs
    path = tmp_path / "saved"
    g.save(path)
    assert sorted(p.name for p in path.iterdir()) == ["f0", "f1", "f2", "manifest.json"]
    back = sess.load_graph(path)
    assert (back.vertex_count, back.edge_count) == (N, M)
    want = graphengine.pagerank(local).to_numpy("r")
    np.testing.assert_allclose(graphengine.pagerank(back).to_numpy("r"), want, rtol=1e-12)
    # a fragment loaded from disk is read again from there when its actor dies
    marker = tmp_path / "crashed"
    with caplog.at_level(logging.WARNING, logger="graphengine.cluster"):
        ranks = graphengine.run_app(back, CrashingPageRank(str(marker), max_round=10))
    assert marker.exists()
    assert any(f"from the snapshot {path}" in r.message for r in caplog.records)
    np.testing.assert_allclose(ranks.to_numpy("r"), want, rtol=1e-12)
    # the same directory loads with the local store
    on_driver = graphengine.load_graph(path)
    pd.testing.assert_frame_equal(
        sorted_table(on_driver.edge_table("knows"), ["src", "dst", "weight"]),
        sorted_table(local.edge_table("knows"), ["src", "dst", "weight"]))


class CrashingPageRank(PageRank):
    """PageRank whose fragment 1 kills its process once, in round 3 (a marker file says
    whether it already did)."""

    def __init__(self, marker: str, **kwargs):
        super().__init__(**kwargs)
        self.marker = marker

    def inceval(self, frag, state, messages):
        if frag.fid == 1 and messages.round == 3 and not os.path.exists(self.marker):
            with open(self.marker, "w"):
                pass
            os._exit(1)
        super().inceval(frag, state, messages)


def test_killed_actor_during_pagerank_gives_same_ranks(graphs, tmp_path, caplog):
    g, local = graphs
    marker = tmp_path / "crashed"
    with caplog.at_level(logging.WARNING, logger="graphengine.cluster"):
        ranks = graphengine.run_app(g, CrashingPageRank(str(marker), max_round=8))
    assert marker.exists()
    assert any("died during the run" in r.message for r in caplog.records)
    want = graphengine.pagerank(local, max_round=8).to_numpy("r")
    np.testing.assert_allclose(ranks.to_numpy("r"), want, rtol=1e-12)
    # the recreated actor keeps serving the graph
    np.testing.assert_allclose(graphengine.pagerank(g, max_round=8).to_numpy("r"), want,
                               rtol=1e-12)


def test_bad_files_give_the_local_errors(sess, graphs, tmp_path):
    g, local = graphs
    good = tmp_path / "good.csv"
    good.write_text("src,dst\n1,2\n2,3\n")
    bad = tmp_path / "bad.csv"
    bad.write_text("src,dst\n1,2\n3,4,5\n")
    with pytest.raises(LoadError) as local_error:
        graphengine.session().g().add_edges(str(bad))
    with pytest.raises(LoadError) as ray_error:
        sess.g().add_edges([str(good), str(bad)])
    assert str(ray_error.value) == str(local_error.value)
    assert "bad.csv:3" in str(ray_error.value)
    with pytest.raises(LoadError, match="no such file"):
        sess.g().add_edges([str(good), str(tmp_path / "missing.csv")])
    unknown = tmp_path / "unknown.csv"
    unknown.write_text(f"src,dst,weight\n{data_id(local, 0)},{data_id(local, 1)},1.0\n"
                       f"{data_id(local, 2)},999999,2.0\n")
    with pytest.raises(UnknownVertexError, match=r"unknown.csv: row 1: dst id 999999"):
        g.add_edges(str(unknown), label="knows")
    dup = tmp_path / "dup.csv"
    dup.write_text(f"id,age,name\n{data_id(local, 0)},1,x\n")
    with pytest.raises(DuplicateVertexError, match="already in the graph"):
        g.add_vertices(str(dup), label="person")
    # failed loads left the graph as it was
    assert (g.vertex_count, g.edge_count) == (N, M)
    # unknown endpoints added as vertices with null properties, as locally
    grown = g.add_edges(str(unknown), label="knows", create_missing_vertices=True)
    grown_local = local.add_edges(str(unknown), label="knows", create_missing_vertices=True)
    assert (grown.vertex_count, grown.edge_count) == (N + 1, M + 2)
    assert np.array_equal(grown.gids("person", [999999]), grown_local.gids("person", [999999]))
    added = grown.to_local().vertex_table("person").to_pandas().set_index("id").loc[999999]
    assert added.isna().all()
    np.testing.assert_allclose(graphengine.pagerank(g).to_numpy("r"),
                               graphengine.pagerank(local).to_numpy("r"), rtol=1e-12)


def data_id(local, k):
    return local.vertex_table("person").column("id")[k].as_py()


def test_string_ids_undirected_csv_glob(sess, tmp_path):
    rng = np.random.default_rng(3)
    names = np.array([f"v{i:03d}" for i in range(60)])
    parts = []
    for k in range(4):
        e = pd.DataFrame({"a": names[rng.integers(0, 60, 50)], "b": names[rng.integers(0, 60, 50)]})
        e.to_csv(tmp_path / f"e{k}.csv", index=False)
        parts.append(e)
    g = sess.g(directed=False).add_edges(str(tmp_path / "e*.csv"), label="link")
    local = graphengine.session(num_fragments=3).g(directed=False).add_edges(
        pd.concat(parts, ignore_index=True), label="link")
    assert (g.vertex_count, g.edge_count) == (local.vertex_count, local.edge_count)
    assert adjacency(g.to_local(), "out") == adjacency(local, "out")
    for app in (graphengine.wcc, graphengine.lcc):
        ours, theirs = app(g), app(local)
        order_a = np.argsort(np.asarray(g.vertex_ids(ours.gids)))
        order_b = np.argsort(np.asarray(local.vertex_ids(theirs.gids)))
        a, b = ours.to_numpy("r")[order_a], theirs.to_numpy("r")[order_b]
        if app is graphengine.wcc:  # component ids are gids: compare the partitions
            a = pd.factorize(a)[0]
            b = pd.factorize(b)[0]
        np.testing.assert_allclose(a, b)


DRIVER = """
import sys, time
import graphengine
s = graphengine.session(cluster="ray", address=sys.argv[1], num_fragments=2)
g = s.g().add_edges({"src": [1, 2], "dst": [2, 3]})
print(g.edge_count, flush=True)
time.sleep(600)
"""


def fragment_actors_alive() -> list:
    from ray._private import state

    return [a for a in state.actors().values()
            if a["State"] == "ALIVE" and a["ActorClassName"].endswith("FragmentActor")]


def test_killed_driver_leaves_no_actors(sess, cluster_address):
    before = len(fragment_actors_alive())
    driver = subprocess.Popen([sys.executable, "-c", DRIVER, cluster_address],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert driver.stdout.readline().strip() == "2"
        assert len(fragment_actors_alive()) == before + 2
    finally:
        driver.send_signal(signal.SIGKILL)
        driver.wait()
    deadline = time.monotonic() + 60
    while len(fragment_actors_alive()) > before and time.monotonic() < deadline:
        time.sleep(0.5)
    assert len(fragment_actors_alive()) == before


def test_app_checks_and_session_arguments_as_locally(sess):
    edges = {"src": [1, 2, 3], "dst": [2, 3, 1], "weight": [1.0, -2.0, 0.5]}
    g = sess.g().add_edges(edges)
    local = graphengine.session(num_fragments=3).g().add_edges(edges)
    with pytest.raises(AnalyticsError) as local_error:
        graphengine.sssp(local, 1)
    with pytest.raises(AnalyticsError) as ray_error:  # checked in the actors, on their edges
        graphengine.sssp(g, 1)
    assert str(ray_error.value) == str(local_error.value)
    with pytest.raises(AnalyticsError, match="source vertex 99"):
        graphengine.bfs(g, 99)
    with pytest.raises(SchemaError, match="partitions by hash"):
        graphengine.session(cluster="ray", partitioner="range")
    with pytest.raises(SchemaError, match="cluster must be None or 'ray'"):
        graphengine.session(cluster="dask")
    with pytest.raises(SchemaError, match="to_local"):
        sess.gremlin(g)


def test_actor_killed_between_calls_is_recreated(sess, graphs, caplog):
    g, local = graphs
    ray.kill(sess.cluster.actors[2])
    values = np.arange(N, dtype=np.int64)
    with caplog.at_level(logging.WARNING, logger="graphengine.cluster"), \
            pytest.raises(ClusterError, match="call again"):
        g.add_column(values, "pos")
    assert any("died during add_columns" in r.message for r in caplog.records)
    g2 = g.add_column(values, "pos")
    assert np.array_equal(g2.vertex_property("pos")[g2.all_gids()], values)
    np.testing.assert_allclose(graphengine.pagerank(g).to_numpy("r"),
                               graphengine.pagerank(local).to_numpy("r"), rtol=1e-12)
