"""What an app's first call on a graph pays for (kernel builds, per-version structures)."""

from __future__ import annotations

import numba
import numpy as np
import pytest

import graphengine
from graphengine.errors import AnalyticsError
from graphengine.pie import view as view_module
from graphengine.pie.algorithms.sssp import SSSP
from graphengine.pie.inputs import _non_negative_finite
from graphengine.pie.view import FragmentView, call_either, make_plans


def test_call_either_loads_the_other_build_for_new_argument_types():
    @numba.njit
    def serial(a):
        return a.sum()

    @numba.njit
    def parallel(a):
        return a.sum() + 0

    assert call_either(serial, parallel, False, np.arange(4)) == 6
    assert parallel.signatures == serial.signatures  # loaded with the serial build's call
    assert call_either(serial, parallel, True, np.arange(4.0)) == 6.0
    assert sorted(map(str, serial.signatures)) == sorted(map(str, parallel.signatures))
    assert len(serial.signatures) == 2


def test_bfs_loads_its_parallel_top_down_on_a_small_graph():
    from graphengine.pie.algorithms import _frontier

    g = graphengine.session().g().add_edges({"src": [1, 2, 3], "dst": [2, 3, 4]})
    graphengine.bfs(g, 1)  # small frontiers: the serial build runs
    assert set(_frontier._top_down_serial.signatures) <= set(_frontier._top_down.signatures)


@pytest.mark.parametrize("fnum", [1, 3])
def test_inner_part_and_gids(fnum):
    g = graphengine.session(num_fragments=fnum).g().add_edges(
        {"src": [1, 2, 3, 4, 5], "dst": [2, 3, 4, 5, 1], "weight": [1.0, 2, 3, 4, 5]})
    app = SSSP(0)
    for plan in make_plans(g, app):
        view = FragmentView(plan)
        assert not view.gids.flags.writeable
        assert plan.fragment.inner_gids.flags.writeable  # the store's array is left as it was
        np.testing.assert_array_equal(view.gids[:view.ivnum], plan.fragment.inner_gids)
        values = np.arange(view.vnum, dtype=np.float64)
        part = view.inner_part(values)
        np.testing.assert_array_equal(part, values[:view.ivnum])
        if view.ovnum:
            assert part.base is None  # a copy: the outer slots are not kept alive
        else:
            assert part is values
    ctx = graphengine.sssp(g, 1)
    by_id = dict(zip(list(g.vertex_ids(ctx.gids)), ctx.to_numpy("r").tolist()))
    assert by_id == {1: 0.0, 2: 1.0, 3: 3.0, 4: 6.0, 5: 10.0}
    ctx = graphengine.bfs(g, 1)
    by_id = dict(zip(list(g.vertex_ids(ctx.gids)), ctx.to_numpy("r").tolist()))
    assert by_id == {1: 0, 2: 1, 3: 2, 4: 3, 5: 4}
    # the ids (and their order) are built once per graph version, shared read-only
    assert not ctx.gids.flags.writeable
    assert graphengine.wcc(g).gids is ctx.gids
    np.testing.assert_array_equal(ctx.gids, np.arange(5))


@pytest.mark.parametrize("values, ok", [
    (np.array([0.0, 1.5, 2.0]), True),
    (np.array([0.0, np.nan]), False),
    (np.array([np.inf, 1.0]), False),
    (np.array([1.0, -0.5], dtype=np.float32), False),
    (np.array([3, 0, 7], dtype=np.int64), True),
    (np.array([3, -1], dtype=np.int32), False),
    (np.array([255, 0], dtype=np.uint8), True),
])
def test_non_negative_finite(values, ok):
    assert _non_negative_finite(values) is ok


def test_float16_weights_are_checked():
    g = graphengine.session().g().add_edges(
        {"src": [1, 2], "dst": [2, 3], "weight": np.array([1.0, -2.0], dtype=np.float16)})
    with pytest.raises(AnalyticsError, match="negative edge weight"):
        graphengine.sssp(g, 1)


def test_view_module_has_no_stale_gids_for_a_new_version():
    g = graphengine.session().g().add_edges({"src": [1, 2], "dst": [2, 3]})
    g2 = g.add_edges({"src": [3], "dst": [4]}, create_missing_vertices=True)
    graphengine.bfs(g, 1)
    assert graphengine.bfs(g2, 1).to_numpy("r").tolist() == [0, 1, 2, 3]
    assert len(view_module._local_csr_cache[g2.fragments[0]]["gids"]) == 4
