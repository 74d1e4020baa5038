"""The CSR / CSC build of a new edge label, checked entry by entry against plain Python.

A new label is built in one counting sort over all fragments, straight from the file's id
chunks when the vertex ids are dense integers, from global ids otherwise. Whatever the path,
every vertex must list its out-edges in input order (in-edges: by source, in CSR order), with
edge ids that lead back to the input row.
"""

from collections import defaultdict
from itertools import pairwise

import numpy as np
import pyarrow as pa
import pytest

import graphengine
from graphengine.errors import UnknownVertexError


def reference(src, dst, directed):
    """vertex -> [(neighbor, input row)]: out-edges in input order, in-edges sorted;
    undirected edges in both endpoints' rows."""
    out, inn = defaultdict(list), defaultdict(list)
    for row, (s, d) in enumerate(zip(src, dst)):
        out[s].append((d, row))
        if directed:
            inn[d].append((s, row))
        else:
            out[d].append((s, row))
    return out, {v: sorted(entries) for v, entries in (inn if directed else out).items()}


def observed(g, label, direction):
    """The same, read from the fragments' arrays (the ``row`` edge property gives the row);
    in-edges sorted, their order is the sources' internal order."""
    rows = g.edge_property("row", label)
    adj = {}
    for frag in g.fragments:
        t = frag.topology[label]
        indptr, nbrs, eids = t.arrays(direction)
        for lid, gid in enumerate(frag.inner_gids):
            lo, hi = indptr[lid], indptr[lid + 1]
            if hi > lo:
                (vid,) = g.vertex_ids([gid])
                entries = list(zip(g.vertex_ids(nbrs[lo:hi]), rows[eids[lo:hi]].tolist()))
                adj[vid] = entries if direction == "out" else sorted(entries)
    return adj


def chunked(values, cuts):
    """An Arrow column split at ``cuts`` (src and dst get different cuts)."""
    bounds = [0, *cuts, len(values)]
    return pa.chunked_array([pa.array(values[a:b]) for a, b in pairwise(bounds)])


def edges(seed, n=60, m=400, offset=1000, spread=1):
    """Random edges over ids ``offset + spread * k`` with self loops and multi-edges."""
    rng = np.random.default_rng(seed)
    ids = offset + spread * np.arange(n)
    src = rng.choice(ids, m)
    dst = rng.choice(ids, m)
    src[:5] = dst[:5]  # self loops
    src[5:13] = ids[3]  # multi-edges
    dst[5:13] = ids[7]
    return src, dst


@pytest.mark.parametrize("directed", [True, False])
@pytest.mark.parametrize("spread", [1, 1000], ids=["dense ids", "sparse ids"])
@pytest.mark.parametrize("fnum", [1, 3])
def test_rows_list_edges_in_input_order_with_their_ids(directed, spread, fnum):
    src, dst = edges(seed=fnum, spread=spread)
    table = pa.table({"s": chunked(src, [17, 200, 201]), "d": chunked(dst, [90, 333]),
                      "row": np.arange(len(src))})
    with graphengine.session(num_fragments=fnum) as sess:
        g = sess.g(directed=directed).add_edges(table, label="e")
    out, inn = reference(src.tolist(), dst.tolist(), directed)
    assert observed(g, "e", "out") == dict(out)
    assert observed(g, "e", "in") == inn
    assert g.edge_count == len(src)
    assert sorted(g.vertex_ids(g.all_gids())) == sorted(set(src) | set(dst))


@pytest.mark.parametrize("directed", [True, False])
def test_vertices_deduced_from_edges_are_exactly_the_endpoints(directed):
    """Dense ids with holes: a vertex for every id an edge names, none for the holes."""
    rng = np.random.default_rng(11)
    src = rng.integers(500, 3000, 2000)
    dst = rng.integers(500, 3000, 2000)
    dst[:3] = [7, 5000, 499]  # outside the sources' range on both sides
    with graphengine.session(num_fragments=3) as sess:
        g = sess.g(directed=directed).add_edges({"s": src, "d": dst, "row": np.arange(2000)},
                                                label="e")
    assert sorted(g.vertex_ids(g.all_gids())) == sorted(set(src) | set(dst))
    out, inn = reference(src.tolist(), dst.tolist(), directed)
    assert observed(g, "e", "out") == dict(out)
    assert observed(g, "e", "in") == inn


@pytest.mark.parametrize("directed", [True, False])
def test_two_vertex_labels_rows_are_not_global_ids(directed):
    """Vertex blocks of two labels interleave across fragments: rows differ from global ids."""
    rng = np.random.default_rng(5)
    people, items = np.arange(40), 10_000 + np.arange(25)
    src, dst = rng.choice(people, 300), rng.choice(items, 300)
    with graphengine.session(num_fragments=3) as sess:
        g = (sess.g(directed=directed)
             .add_vertices({"id": people}, label="person")
             .add_vertices({"id": items}, label="item")
             .add_edges({"s": src, "d": dst, "row": np.arange(300)}, label="buys",
                        src_label="person", dst_label="item"))
    out, inn = reference(src.tolist(), dst.tolist(), directed)
    assert observed(g, "buys", "out") == dict(out)
    assert observed(g, "buys", "in") == inn


def test_string_ids_take_the_global_id_path():
    src = ["a", "b", "a", "c", "c", "a"]
    dst = ["b", "c", "c", "a", "a", "a"]
    with graphengine.session(num_fragments=2) as sess:
        g = sess.g().add_edges({"s": src, "d": dst, "row": np.arange(6)}, label="e")
    out, inn = reference(src, dst, True)
    assert observed(g, "e", "out") == dict(out)
    assert observed(g, "e", "in") == inn


@pytest.mark.parametrize("bad", [1050, 5000, -3], ids=["gap", "above", "below"])
def test_unknown_dense_id_is_an_error_that_names_the_row(bad):
    with graphengine.session(num_fragments=2) as sess:
        ids = np.arange(1000, 1100)
        g = sess.g().add_vertices({"id": ids[ids != 1050]})  # a gap in the dense id table
        src = np.arange(1000, 1010)
        dst = np.arange(1010, 1020)
        dst[6] = bad
        with pytest.raises(UnknownVertexError, match=rf"row 6: dst id {bad} is not a vertex"):
            g.add_edges({"s": src, "d": dst, "row": np.arange(10)}, label="e")
        g2 = g.add_edges({"s": src, "d": dst, "row": np.arange(10)}, label="e",
                         create_missing_vertices=True)
    assert "e" not in g.edge_labels
    out, inn = reference(src.tolist(), dst.tolist(), True)
    assert observed(g2, "e", "out") == dict(out)
    assert observed(g2, "e", "in") == inn


@pytest.mark.parametrize("directed", [True, False])
def test_outer_vertices_cover_every_label(directed):
    """A fragment's outer vertices: the neighbors it does not own, over all edge labels (a
    second label adds to the first's); rows differ from global ids (two vertex labels)."""
    rng = np.random.default_rng(3)
    people, items = np.arange(50), 10_000 + np.arange(30)
    with graphengine.session(num_fragments=3) as sess:
        g = (sess.g(directed=directed)
             .add_vertices({"id": people}, label="person")
             .add_vertices({"id": items}, label="item")
             .add_edges({"s": rng.choice(people, 80), "d": rng.choice(items, 80)}, label="buys",
                        src_label="person", dst_label="item")
             .add_edges({"s": rng.choice(people, 60), "d": rng.choice(people, 60)}, label="knows",
                        src_label="person", dst_label="person"))
    for frag in g.fragments:
        nbrs = np.concatenate([frag.csr(d, [lab])[1] for lab in ("buys", "knows")
                               for d in ("out", "in")])
        expect = np.unique(nbrs[~frag.is_inner(nbrs)])
        assert len(expect)
        np.testing.assert_array_equal(np.asarray(frag.outer_gids), expect)


@pytest.mark.parametrize("directed", [True, False])
def test_outer_vertices_when_fragments_span_many_row_buckets(directed):
    """Fragments of several row buckets (the build sorts rows in buckets of 2**BUCKET_SHIFT;
    a bucket on a fragment boundary has rows of two fragments): outer vertices are still
    exactly the neighbors a fragment does not own."""
    from graphengine.store.kernels import BUCKET_SHIFT

    n = 5 << BUCKET_SHIFT
    rng = np.random.default_rng(11)
    src, dst = rng.integers(0, n, 60_000), rng.integers(0, n, 60_000)
    with graphengine.session(num_fragments=3) as sess:
        g = sess.g(directed=directed).add_edges({"s": src, "d": dst})
    assert all(f.inner_vertex_count > 1 << BUCKET_SHIFT for f in g.fragments)
    for frag in g.fragments:
        nbrs = np.concatenate([frag.out_nbrs, frag.in_nbrs])
        expect = np.unique(nbrs[~frag.is_inner(nbrs)])
        assert len(expect) > 1000
        np.testing.assert_array_equal(np.asarray(frag.outer_gids), expect)


def test_edge_ids_are_int32_while_they_fit_and_widen_past_that():
    """Edge id arrays take int32 while every id fits (half their memory); adding ids past
    2**31 - 1 gives the merged arrays int64, with every old and new id intact."""
    from graphengine.store.kernels import eid_dtype, merge_csr

    assert eid_dtype(2**31 - 1) is np.int32 and eid_dtype(2**31) is np.int64
    with graphengine.session(num_fragments=2) as sess:
        g = sess.g(directed=True).add_edges({"s": [1, 2, 3, 1], "d": [2, 3, 1, 3]})
        g = g.add_edges({"s": [2], "d": [1]})
    for frag in g.fragments:
        assert frag.out_eids.dtype == np.int32 and frag.in_eids.dtype == np.int32
    out = np.sort(np.concatenate([f.out_eids for f in g.fragments]))
    np.testing.assert_array_equal(out, np.arange(5))
    # row 0 has ids 0 and 1 (int32); ids past int32 come in for rows 0 and 1
    indptr, nbrs, eids = (np.array([0, 2, 2]), np.array([5, 6]), np.array([0, 1], np.int32))
    new = np.array([2**31 + 5, 2**33], dtype=np.int64)
    _, _, merged = merge_csr(2, indptr, nbrs, eids, np.array([1, 0]), np.array([7, 8]), new)
    assert merged.dtype == np.int64
    np.testing.assert_array_equal(merged, [0, 1, 2**33, 2**31 + 5])
