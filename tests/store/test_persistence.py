"""save / load_graph round trips; an interrupted save leaves the previous graph loadable."""

import numpy as np
import pytest

import graphengine
from graphengine.store import persistence


def make(directed=True, seed=0):
    rng = np.random.default_rng(seed)
    with graphengine.session(num_fragments=3) as sess:
        g = sess.g(directed=directed)
        g = g.add_vertices({"id": [f"p{i}" for i in range(50)], "age": rng.integers(0, 90, 50)},
                           label="person")
        g = g.add_vertices({"id": np.arange(5), "lang": ["py"] * 5}, label="software")
        src = [f"p{i}" for i in rng.integers(0, 50, 300)]
        g = g.add_edges({"s": src, "d": [f"p{i}" for i in rng.integers(0, 50, 300)],
                         "w": rng.random(300)}, label="knows", src_label="person", dst_label="person")
        g = g.add_edges({"s": src[:20], "d": rng.integers(0, 5, 20)}, label="created",
                        src_label="person", dst_label="software")
    return g


def same_graph(a, b):
    assert a.schema == b.schema
    for label in a.vertex_labels:
        assert a.to_arrow(label).equals(b.to_arrow(label))
    for label in a.edge_labels:
        assert a.to_arrow(label, "edge").equals(b.to_arrow(label, "edge"))
    for fa, fb in zip(a.fragments, b.fragments):
        for d in ("out", "in"):
            for x, y in zip(fa.csr(d), fb.csr(d)):
                np.testing.assert_array_equal(x, y)
        np.testing.assert_array_equal(np.asarray(fa.outer_gids), np.asarray(fb.outer_gids))


@pytest.mark.parametrize("directed", [True, False])
def test_round_trip(tmp_path, directed):
    g = make(directed)
    g.save(tmp_path / "g")
    h = graphengine.load_graph(tmp_path / "g")
    same_graph(g, h)
    # loaded arrays are memory-mapped views, and the loaded graph takes new versions
    assert not h.fragments[0].topology["knows"].arrays("out")[1].flags.writeable
    h2 = h.add_edges({"s": ["p1"], "d": ["p2"], "w": [0.5]}, label="knows",
                     src_label="person", dst_label="person")
    assert h2.edge_count == g.edge_count + 1


def test_save_replaces_and_interrupted_save_keeps_previous(tmp_path, monkeypatch):
    first, second = make(seed=1), make(seed=2)
    first.save(tmp_path / "g")
    second.save(tmp_path / "g")
    same_graph(graphengine.load_graph(tmp_path / "g"), second)

    calls = {"n": 0}
    real = persistence._write_array

    def crash_midway(path, array):
        calls["n"] += 1
        if calls["n"] == 4:
            raise KeyboardInterrupt("simulated crash")
        real(path, array)

    monkeypatch.setattr(persistence, "_write_array", crash_midway)
    with pytest.raises(KeyboardInterrupt):
        first.save(tmp_path / "g")
    same_graph(graphengine.load_graph(tmp_path / "g"), second)
    assert [p.name for p in tmp_path.iterdir()] == ["g"]  # no temporary left behind


def test_crash_between_renames_is_recovered(tmp_path):
    g = make()
    g.save(tmp_path / "g")
    (tmp_path / "g").rename(tmp_path / "g.old")  # as if the process died after the first rename
    same_graph(graphengine.load_graph(tmp_path / "g"), g)
