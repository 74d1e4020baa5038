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
