"""Arrays are views of Arrow buffers: numpy and torch views, across versions, through Ray."""

import numpy as np
import pytest

import graphengine


def data_ptr(arr: np.ndarray) -> int:
    return arr.__array_interface__["data"][0]


@pytest.fixture
def g():
    rng = np.random.default_rng(0)
    with graphengine.session(num_fragments=3) as sess:
        g = sess.g().add_vertices({"id": np.arange(200), "x": rng.random(200)}, label="v")
        yield g.add_edges({"s": rng.integers(0, 200, 1000), "d": rng.integers(0, 200, 1000),
                           "w": rng.random(1000)}, label="e")


def test_numpy_and_torch_views_share_the_arrow_buffer(g):
    torch = pytest.importorskip("torch")
    frag = g.fragments[0]
    topo = frag.topology["e"]
    nbrs = frag.out_nbrs
    assert data_ptr(nbrs) == topo.out_nbrs.buffers()[1].address
    assert np.shares_memory(nbrs, frag.csr("out")[1])
    assert not nbrs.flags.writeable
    t = torch.from_dlpack(topo.out_nbrs)
    assert t.data_ptr() == data_ptr(nbrs)
    col = frag.vertex_tables["v"].column("x").chunk(0)
    assert data_ptr(col.to_numpy(zero_copy_only=True)) == col.buffers()[1].address


def test_versions_share_untouched_buffers(g):
    before = [f.out_nbrs.copy() for f in g.fragments]
    g2 = g.add_column({"rank": np.arange(g.vertex_count, dtype=np.float64)})
    for a, b in zip(g.fragments, g2.fragments):
        assert np.shares_memory(a.out_nbrs, b.out_nbrs)
        assert np.shares_memory(a.in_eids, b.in_eids)
        assert np.shares_memory(a.vertex_tables["v"].column("x").to_numpy(),
                                b.vertex_tables["v"].column("x").to_numpy())
    assert "rank" not in g.schema.vertex_label("v").schema.names
    rank = g2.vertex_property("rank")
    np.testing.assert_array_equal(rank[g2.all_gids()], np.arange(g.vertex_count))

    g3 = g.add_vertices({"id": [1000, 1001], "x": [0.5, 0.5]}, label="v")
    for a, b in zip(g.fragments, g3.fragments):
        assert np.shares_memory(a.out_nbrs, b.out_nbrs)
    assert g3.vertex_count == g.vertex_count + 2
    assert (g3.gids("v", np.arange(200)) == g.gids("v", np.arange(200))).all()

    # new edges only between vertices of fragment 0: the other fragments are shared as is
    f0 = g.vertex_ids(g.fragments[0].inner_gids)[:3]
    g4 = g.add_edges({"s": f0, "d": f0[::-1], "w": [1.0] * 3}, label="e")
    assert g4.fragments[1] is g.fragments[1] and g4.fragments[2] is g.fragments[2]
    assert g4.edge_count == g.edge_count + 3
    assert g4.fragments[0].vertex_tables["v"] is g.fragments[0].vertex_tables["v"]

    eids = g.fragments[1].out_eids[:5]
    g5 = g.remove_edges(eids)
    assert g5.edge_count == g.edge_count - 5
    assert not np.isin(eids, np.concatenate([f.out_eids for f in g5.fragments])).any()
    assert not np.isin(eids, np.concatenate([f.in_eids for f in g5.fragments])).any()
    # the old versions are unchanged
    for f, b in zip(g.fragments, before):
        np.testing.assert_array_equal(f.out_nbrs, b)
    assert g.edge_count == 1000


def test_remove_vertices_drops_incident_edges(g):
    victims = [0, 1, 2]
    g2 = g.remove_vertices("v", victims)
    e = g.to_pandas("e", "edge")
    keep = ~(e.src.isin(victims) | e.dst.isin(victims))
    assert g2.edge_count == int(keep.sum())
    assert g2.vertex_count == 197
    e2 = g2.to_pandas("e", "edge")
    assert sorted(zip(e2.src, e2.dst, e2.w)) == sorted(zip(e.src[keep], e.dst[keep], e.w[keep]))


def test_project_shares_buffers_and_drops_labels(g):
    g2 = g.add_vertices({"id": ["a", "b"]}, label="tag")
    g2 = g2.add_edges({"s": [0, 1], "d": ["a", "b"]}, label="has", src_label="v", dst_label="tag")
    p = g2.project(vertices={"v": []}, edges={"e": ["w"]})
    assert p.vertex_labels == ["v"] and p.edge_labels == ["e"]
    assert p.vertex_count == 200 and p.edge_count == 1000
    for a, b in zip(g2.fragments, p.fragments):
        assert np.shares_memory(a.topology["e"].arrays("out")[1], b.out_nbrs)
    e = p.to_pandas("e", "edge")
    e0 = g.to_pandas("e", "edge")
    assert sorted(zip(e.src, e.dst, e.w)) == sorted(zip(e0.src, e0.dst, e0.w))


ray = pytest.importorskip("ray")


@pytest.fixture(scope="module")
def ray_runtime():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def test_ray_object_store_round_trip_is_zero_copy(g, ray_runtime):
    frag = g.fragments[0]
    ref = ray.put(frag)
    a, b = ray.get(ref), ray.get(ref)
    # two gets of one object map the same shared memory: no copy was made
    assert np.shares_memory(a.out_nbrs, b.out_nbrs)
    assert not a.out_nbrs.flags.writeable
    np.testing.assert_array_equal(a.out_nbrs, frag.out_nbrs)

    @ray.remote
    class Holder:
        def __init__(self, fragment):
            self.fragment = fragment

        def check(self, fragment):
            same = np.shares_memory(self.fragment.out_nbrs, fragment.out_nbrs)
            return same, bool(fragment.out_nbrs.flags.writeable), int(fragment.out_nbrs.sum())

    holder = Holder.remote(ref)
    same, writeable, total = ray.get(holder.check.remote(ref))
    assert same and not writeable
    assert total == int(frag.out_nbrs.sum())


def test_project_recomputes_outer_vertices():
    from graphengine.datasets import load_modern_graph

    with graphengine.session(num_fragments=2) as sess:
        g = load_modern_graph(sess)
    p = g.project(vertices={"person": []}, edges={"knows": []})
    persons = set(p.all_gids().tolist())
    for frag in p.fragments:
        outer = np.asarray(frag.outer_gids)
        assert set(outer.tolist()) <= persons
        nbrs = np.concatenate([frag.out_nbrs, frag.in_nbrs])
        np.testing.assert_array_equal(outer, np.unique(nbrs[~frag.is_inner(nbrs)]))


def test_vertex_map_and_edge_property_are_not_rebuilt_per_version():
    rng = np.random.default_rng(1)
    with graphengine.session(num_fragments=1) as sess:
        g = sess.g().add_vertices({"id": np.arange(10, 60)}, label="v")
        assert g.gid("v", 12) == g.gids("v", [12])[0] >= 0
        g2 = g.add_edges({"s": rng.integers(10, 60, 300), "d": rng.integers(10, 60, 300),
                          "w": rng.random(300)}, label="e")
        # versions that keep the vertices keep the vertex map built on the first lookup
        assert g2._index("v") is g._index("v")
        g3 = g2.add_column({"rank": np.ones(50)}).remove_edges([0, 1])
        assert g3._index("v") is g._index("v")
        g4 = g3.add_vertices({"id": [100], "rank": [2.0]}, label="v")
        assert g4._index("v") is not g._index("v")
        assert g4.gid("v", 100) >= 0 and g3.gid("v", 100) == -1 == g.gid("v", 9)
        assert g4.gid("v", np.int32(11)) == g.gid("v", 11)
        assert g.gid("v", 1 << 70) == -1
        # one label in one fragment, added at once: its edge property is the column itself
        col = g2.fragments[0].edge_tables["e"].column("w").chunk(0)
        w = g2.edge_property("w")
        assert data_ptr(w) == col.buffers()[1].address and not w.flags.writeable
        # a second batch of edges makes two id blocks: gathered into one array
        g5 = g2.add_edges({"s": [10], "d": [11], "w": [7.0]}, label="e")
        np.testing.assert_array_equal(g5.edge_property("w"), np.append(w, 7.0))


def test_gid_of_string_ids_and_of_values_of_another_type():
    with graphengine.session() as sess:
        g = sess.g().add_vertices({"id": ["a", "b"]}, label="s")
        assert g.gid("s", "b") == g.gids("s", ["b"])[0] >= 0
        assert g.gid("s", "z") == -1
        with pytest.raises(graphengine.errors.SchemaError, match="string"):
            g.gid("s", 3)
