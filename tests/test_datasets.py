"""Data sets: the modern graph against TinkerPop's definition, readers against hand-written files,
generators against the statistics they promise."""

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

import graphengine
from graphengine import datasets
from graphengine.errors import LoadError, SchemaError

SHARED = Path(__file__).resolve().parents[2] / "shared"
GSTEST = SHARED / "gstest"
PLANETOID = SHARED / "planetoid"
GRAPHALYTICS = SHARED / "graphalytics" / "validation-graphs"


@pytest.fixture(params=[1, 3])
def sess(request):
    with graphengine.session(num_fragments=request.param) as s:
        yield s


def edge_set(g: graphengine.Graph, label: str, *props: str) -> Counter:
    t = g.edge_table(label).to_pydict()
    return Counter(zip(t["src"], t["dst"], *(t[p] for p in props)))


# ---------------------------------------------------------------------------- modern graph

def test_modern_graph_matches_tinkerpop_definition(sess):
    g = datasets.load_modern_graph(sess)
    assert g.directed and sess.num_fragments == g.fnum
    assert (g.vertex_count, g.edge_count) == (6, 6)
    assert sorted(g.vertex_labels) == ["person", "software"]
    assert sorted(g.edge_labels) == ["created", "knows"]
    person = {r["id"]: (r["name"], r["age"]) for r in g.vertex_table("person").to_pylist()}
    assert person == {1: ("marko", 29), 2: ("vadas", 27), 4: ("josh", 32), 6: ("peter", 35)}
    software = {r["id"]: (r["name"], r["lang"]) for r in g.vertex_table("software").to_pylist()}
    assert software == {3: ("lop", "java"), 5: ("ripple", "java")}
    assert edge_set(g, "knows", "id", "weight") == Counter({(1, 2, 7, 0.5): 1, (1, 4, 8, 1.0): 1})
    assert edge_set(g, "created", "id", "weight") == Counter(
        {(1, 3, 9, 0.4): 1, (4, 5, 10, 1.0): 1, (4, 3, 11, 0.4): 1, (6, 3, 12, 0.2): 1})
    assert g.schema.edge_label("created").relations == (("person", "software"),)
    assert g.vertex_table("person").schema.field("age").type == pa.int64()


def test_modern_graph_undirected():
    with graphengine.session(num_fragments=2) as s:
        g = datasets.load_modern_graph(s, directed=False)
    assert not g.directed and (g.vertex_count, g.edge_count) == (6, 6)


@pytest.mark.skipif(not (GSTEST / "modern_graph").is_dir(), reason="../shared/gstest absent")
def test_modern_graph_matches_gstest_files():
    folder = GSTEST / "modern_graph"
    with graphengine.session(num_fragments=2) as s:
        mine = datasets.load_modern_graph(s)
        ref = s.load_from(
            vertices={lab: (graphengine.Loader(folder / f"{lab}.csv", delimiter="|"), None, "id")
                      for lab in ("person", "software")},
            edges={"knows": (graphengine.Loader(folder / "knows.csv", delimiter="|"), ["weight"],
                             ("src_id", "person"), ("dst_id", "person")),
                   "created": (graphengine.Loader(folder / "created.csv", delimiter="|"),
                               ["weight"], ("src_id", "person"), ("dst_id", "software"))})
    for lab in ("person", "software"):
        assert (mine.vertex_table(lab).sort_by("id").to_pylist()
                == ref.vertex_table(lab).sort_by("id").to_pylist())
    for lab in ("knows", "created"):
        assert edge_set(mine, lab, "weight") == edge_set(ref, lab, "weight")


# ---------------------------------------------------------------------------- Graphalytics readers

def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_read_evlp_weighted_directed(tmp_path, sess):
    v = write(tmp_path / "g.v", "1\n2\n3\n10\n")
    e = write(tmp_path / "g.e", "1 2 0.5\n2 3 1.5\n3 1 2\n1 3 0.25\n")
    g = datasets.read_evlp(sess, v, e)
    assert g.directed and (g.vertex_count, g.edge_count) == (4, 4)
    assert g.vertex_labels == ["_"] and g.edge_labels == ["_e"]
    assert edge_set(g, "_e", "weight") == Counter(
        {(1, 2, 0.5): 1, (2, 3, 1.5): 1, (3, 1, 2.0): 1, (1, 3, 0.25): 1})
    assert g.schema.edge_label("_e").schema.field("weight").type == pa.float64()
    assert sorted(g.vertex_table("_").column("id").to_pylist()) == [1, 2, 3, 10]


def test_read_evlp_unweighted_and_undirected(tmp_path, sess):
    v = write(tmp_path / "g.v", "5 7\n6 8\n7 9\n")
    e = write(tmp_path / "g.e", "5 6 3\n6 7 4\n")
    g = datasets.read_evlp(sess, v, e, directed=False, weighted=False)
    assert not g.directed and (g.vertex_count, g.edge_count) == (3, 2)
    assert g.schema.edge_label("_e").schema.names == []
    assert g.vertex_table("_").schema.names == ["id"]
    frag_degrees = {}
    for frag in g.fragments:
        indptr, _, _ = frag.csr("out")
        frag_degrees.update(zip(g.vertex_ids(frag.inner_gids), np.diff(indptr).tolist()))
    assert frag_degrees == {5: 1, 6: 2, 7: 1}
    g = datasets.read_evlp(sess, v, e, vertex_property="vdata")
    assert dict(zip(*g.vertex_table("_").to_pydict().values())) == {5: 7, 6: 8, 7: 9}
    assert g.schema.edge_label("_e").schema.names == ["weight"]


def test_read_evlp_errors(tmp_path, sess):
    v = write(tmp_path / "g.v", "1\n2\n")
    with pytest.raises(LoadError, match="no such file"):
        datasets.read_evlp(sess, v, tmp_path / "missing.e")
    e = write(tmp_path / "g.e", "1 2\n")
    with pytest.raises(LoadError, match="no weight column"):
        datasets.read_evlp(sess, v, e, weighted=True)
    bad = write(tmp_path / "bad.e", "1 2\n2 x\n")
    with pytest.raises(LoadError, match="bad.e"):
        datasets.read_evlp(sess, v, bad)
    with pytest.raises(graphengine.errors.UnknownVertexError):
        datasets.read_evlp(sess, v, write(tmp_path / "u.e", "1 9\n"))


def test_read_adjacency(tmp_path, sess):
    path = write(tmp_path / "adj", "1 2 3\n2 3\n3\n4 1 1 9\n")
    g = datasets.read_adjacency(sess, path)
    assert (g.vertex_count, g.edge_count) == (5, 6)
    assert edge_set(g, "_e") == Counter({(1, 2): 1, (1, 3): 1, (2, 3): 1, (4, 1): 2, (4, 9): 1})
    undirected = write(tmp_path / "undir", "1 2 3\n2 1\n3 1\n4\n")
    g = datasets.read_adjacency(sess, undirected, directed=False)
    assert not g.directed and (g.vertex_count, g.edge_count) == (4, 2)


@pytest.mark.skipif(not GRAPHALYTICS.is_dir(), reason="../shared/graphalytics absent")
@pytest.mark.parametrize("kind,directed,vertices,edges",
                         [("directed", True, 10, 17), ("undirected", False, 9, 12)])
def test_graphalytics_example_both_formats_agree(kind, directed, vertices, edges):
    folder = GRAPHALYTICS / "example"
    with graphengine.session(num_fragments=2) as s:
        evlp = datasets.read_evlp(s, folder / f"example-{kind}.v", folder / f"example-{kind}.e",
                                  directed=directed)
        adj = datasets.read_adjacency(s, folder / f"example-{kind}-input", directed=directed)
    assert (evlp.vertex_count, evlp.edge_count) == (vertices, edges)
    assert (adj.vertex_count, adj.edge_count) == (vertices, edges)
    assert edge_set(evlp, "_e") == edge_set(adj, "_e")


@pytest.mark.skipif(not GRAPHALYTICS.is_dir(), reason="../shared/graphalytics absent")
@pytest.mark.parametrize("algorithm", ["bfs", "cdlp", "lcc", "pr", "wcc"])
@pytest.mark.parametrize("kind", ["dir", "undir"])
def test_graphalytics_validation_inputs_cover_output_vertices(algorithm, kind):
    # every vertex of the reference output is a vertex of the graph, and no other
    out = np.loadtxt(GRAPHALYTICS / algorithm / f"{kind}-output", usecols=0, dtype=np.int64, ndmin=1)
    with graphengine.session(num_fragments=2) as s:
        g = datasets.read_adjacency(s, GRAPHALYTICS / algorithm / f"{kind}-input",
                                    directed=kind == "dir")
    assert sorted(g.vertex_table("_").column("id").to_pylist()) == sorted(out.tolist())


@pytest.mark.skipif(not (GSTEST / "p2p-31.e").exists(), reason="../shared/gstest absent")
def test_p2p31_counts():
    with graphengine.session(num_fragments=4) as s:
        g = datasets.read_evlp(s, GSTEST / "p2p-31.v", GSTEST / "p2p-31.e", directed=False)
    assert (g.vertex_count, g.edge_count) == (62586, 147892)
    w = g.edge_property("weight")
    assert w.dtype == np.float64 and w.min() >= 1 and w.max() <= 100


# ---------------------------------------------------------------------------- Planetoid

@pytest.mark.skipif(not (PLANETOID / "cora").is_dir(), reason="../shared/planetoid absent")
def test_planetoid_cora():
    with graphengine.session(num_fragments=2) as s:
        g = datasets.load_planetoid(s, PLANETOID / "cora")
        by_name = datasets.load_planetoid(s, "Cora", root=PLANETOID, normalize_features=True)
    assert not g.directed
    assert (g.vertex_count, g.edge_count) == (2708, 5278)
    t = g.vertex_table("_").sort_by("id")
    feat = datasets.feature_matrix(t.column("feat"))
    assert feat.shape == (2708, 1433) and feat.dtype == np.float32
    z = np.load(PLANETOID / "cora" / "features.npz")
    row0 = np.zeros(1433, dtype=np.float32)
    row0[z["indices"][z["indptr"][0]:z["indptr"][1]]] = z["data"][z["indptr"][0]:z["indptr"][1]]
    assert np.array_equal(feat[0], row0)
    assert int(feat.sum()) == int(z["data"].sum())
    split = json.loads((PLANETOID / "cora" / "split.json").read_text())
    for part, count in (("train", 140), ("val", 500), ("test", 1000)):
        mask = t.column(f"{part}_mask").to_numpy(zero_copy_only=False)
        assert mask.sum() == count and np.array_equal(np.flatnonzero(mask), sorted(split[part]))
    assert sorted(set(t.column("label").to_pylist())) == list(range(7))
    nfeat = datasets.feature_matrix(by_name.vertex_table("_").sort_by("id").column("feat"))
    sums = nfeat.sum(axis=1)
    assert np.allclose(sums[sums > 0], 1.0, atol=1e-5)


def test_planetoid_errors(tmp_path, sess):
    with pytest.raises(LoadError, match="no such file"):
        datasets.load_planetoid(sess, tmp_path)
    with pytest.raises(LoadError, match="root"):
        datasets.load_planetoid(sess, "no-such-dataset-name")


# ---------------------------------------------------------------------------- generators

def test_rmat_edge_count_range_and_skew():
    scale, ef = 12, 8
    src, dst = datasets.rmat_edges(scale, edge_factor=ef, seed=3)
    assert len(src) == len(dst) == ef * 2 ** scale
    assert src.dtype == np.int64 and src.min() >= 0 and max(src.max(), dst.max()) < 2 ** scale
    degree = np.bincount(np.concatenate([src, dst]), minlength=2 ** scale)
    assert degree.max() > 20 * degree.mean()
    assert (degree == 0).sum() > 0.1 * 2 ** scale   # R-MAT leaves many vertices isolated
    again = datasets.rmat_edges(scale, edge_factor=ef, seed=3)
    assert np.array_equal(src, again[0]) and np.array_equal(dst, again[1])
    assert not np.array_equal(src, datasets.rmat_edges(scale, edge_factor=ef, seed=4)[0])


def test_rmat_quadrant_probabilities():
    # with one bit, the quadrant frequencies are a, b, c, d
    src, dst = datasets.rmat_edges(1, edge_factor=50_000, permute=False, seed=1)
    freq = np.bincount(src * 2 + dst, minlength=4) / len(src)
    assert np.allclose(freq, [0.57, 0.19, 0.19, 0.05], atol=0.01)
    with pytest.raises(SchemaError):
        datasets.rmat_edges(4, a=0.5, b=0.3, c=0.3)


def test_rmat_graph(sess):
    g = datasets.rmat_graph(sess, 8, edge_factor=4, seed=1)
    assert (g.vertex_count, g.edge_count) == (256, 1024)


@pytest.mark.parametrize("directed", [True, False])
def test_erdos_renyi(directed):
    n, p = 2000, 0.005
    src, dst = datasets.erdos_renyi_edges(n, p=p, directed=directed, seed=7)
    pairs = n * (n - 1) // (1 if directed else 2)
    mean, sd = pairs * p, np.sqrt(pairs * p * (1 - p))
    assert abs(len(src) - mean) < 5 * sd
    assert (src != dst).all() and max(src.max(), dst.max()) < n
    if not directed:
        assert (src < dst).all()
    assert len(set(zip(src.tolist(), dst.tolist()))) == len(src)
    src, dst = datasets.erdos_renyi_edges(50, m=1225, directed=False)   # the complete graph
    assert sorted(zip(src.tolist(), dst.tolist())) == [(u, v) for u in range(50) for v in range(u + 1, 50)]
    with pytest.raises(SchemaError):
        datasets.erdos_renyi_edges(10, p=0.1, m=3)


def test_erdos_renyi_graph(sess):
    g = datasets.erdos_renyi(sess, 300, m=1000, directed=False, seed=2)
    assert (g.vertex_count, g.edge_count) == (300, 1000) and not g.directed


def test_sbm_density_and_features(sess):
    sizes, p_in, p_out = [100, 150, 200], 0.1, 0.01
    g = datasets.sbm(sess, sizes, p_in, p_out, num_features=8, seed=5)
    assert g.vertex_count == sum(sizes) and not g.directed
    t = g.vertex_table("_").sort_by("id")
    label = t.column("label").to_numpy()
    assert np.array_equal(label, np.repeat([0, 1, 2], sizes))
    e = g.edge_table("_e")
    s, d = e.column("src").to_numpy(), e.column("dst").to_numpy()
    same = label[s] == label[d]
    pairs_in = sum(k * (k - 1) // 2 for k in sizes)
    pairs_out = sum(sizes) * (sum(sizes) - 1) // 2 - pairs_in
    assert abs(same.sum() / pairs_in - p_in) < 0.01
    assert abs((~same).sum() / pairs_out - p_out) < 0.003
    feat = datasets.feature_matrix(t.column("feat"))
    assert feat.shape == (450, 8) and feat.dtype == np.float32
    means = np.stack([feat[label == k].mean(axis=0) for k in range(3)])
    nearest = np.argmin(((feat[:, None, :] - means[None]) ** 2).sum(axis=2), axis=1)
    assert (nearest == label).mean() > 0.9


def test_sbm_directed_edges():
    src, dst, block = datasets.sbm_edges([30, 40], 0.3, 0.05, directed=True, seed=1)
    assert (src != dst).all() and len(set(zip(src.tolist(), dst.tolist()))) == len(src)
    assert (block[src] > block[dst]).any()  # directed: edges run both ways between blocks
