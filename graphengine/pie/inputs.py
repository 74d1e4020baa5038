"""Driver-side helpers that turn user-facing arguments into what apps need (global ids, arrays)."""

from __future__ import annotations

import weakref
from typing import Any

import numba
import numpy as np
import pyarrow as pa

from ..errors import AnalyticsError, GraphEngineError
from ..store import Fragment, Graph


def source_gid(graph: Graph, vertex: Any) -> int:
    """Global id of a vertex given by user id, or ``(label, id)`` on a multi-label graph.

    Raises:
        AnalyticsError: the vertex is not in the graph, or its label is ambiguous.
    """
    if isinstance(vertex, tuple) and len(vertex) == 2 and vertex[0] in graph.vertex_labels:
        labels, vid = [vertex[0]], vertex[1]
    else:
        labels, vid = graph.vertex_labels, vertex
    found = []
    for label in labels:
        try:
            gid = graph.gid(label, vid)
        except (pa.ArrowException, GraphEngineError):  # an id of another type is not there
            continue
        if gid >= 0:
            found.append((label, gid))
    if not found:
        raise AnalyticsError(f"source vertex {vertex!r} is not in the graph")
    if len(found) > 1:
        raise AnalyticsError(f"source vertex {vertex!r} is in labels {[f[0] for f in found]}:"
                             f" pass (label, id)")
    return found[0][1]


@numba.njit(cache=True, nogil=True, parallel=True)
def _non_negative_finite(w) -> bool:
    """Whether every value is ``>= 0`` and ``< inf`` (a NaN fails both): one pass on Numba's
    threads (numpy's min and max are two passes on one)."""
    bad = 0
    for i in numba.prange(w.shape[0]):
        x = w[i]
        if not (x >= 0 and x < np.inf):
            bad += 1
    return bad == 0


# graph version -> edge properties that passed check_weights (a version never changes)
_weights_ok: weakref.WeakKeyDictionary[Graph, set[str]] = weakref.WeakKeyDictionary()


def check_weights(graph: Graph, name: str, app: str, why: str = "") -> None:
    """Check that edge property ``name`` can weight ``app``: present, numeric, and finite and
    non-negative on every live edge (``why`` ends the message about negative weights). A
    property that passed is not read again for the same graph version.

    Raises:
        AnalyticsError: naming the app, the property and what is wrong with it.
    """
    passed = _weights_ok.setdefault(graph, set())
    if name in passed:
        return
    try:
        w = graph.edge_property(name)
    except GraphEngineError as e:  # the store's SchemaError names the missing property
        raise AnalyticsError(f"{app}: edge property {name!r} not found: {e}") from e
    if w.dtype.kind not in "iuf":
        raise AnalyticsError(f"{app}: edge property {name!r} is not numeric ({w.dtype})")
    # every row is a live edge unless some were removed: then look at the live ones only
    live = w if graph.edge_count == len(w) else w[np.concatenate(
        [f.csr("out")[2] for f in graph.fragments])]
    if live.dtype == np.float16:  # not a Numba type
        ok = bool(live.min() >= 0 and live.max() < np.inf)
    else:
        ok = _non_negative_finite(live) if len(live) else True
    if not ok:
        if live.dtype.kind == "f" and not np.isfinite(live).all():
            raise AnalyticsError(f"{app}: edge property {name!r} has missing or infinite values")
        raise AnalyticsError(f"{app}: negative edge weight {live.min()} in {name!r}{why}")
    passed.add(name)


def has_integer_ids(graph: Graph) -> bool:
    """Whether every vertex label has integer user ids."""
    return all(pa.types.is_integer(graph.schema.vertex_label(label).id_type)
               for label in graph.vertex_labels)


def inner_user_ids(graph: Graph, fragment: Fragment) -> np.ndarray:
    """Integer user ids of a fragment's inner vertices (local id order).

    Raises:
        AnalyticsError: a vertex label has non-integer ids.
    """
    if not has_integer_ids(graph):
        raise AnalyticsError("this app needs integer vertex ids")
    gids = fragment.inner_gids
    out = np.zeros(len(gids), dtype=np.int64)
    for label in graph.vertex_labels:
        label_gids = graph.vertex_gids(label)
        mine = np.isin(gids, label_gids)
        if mine.any():
            ids = graph.vertex_table(label).column("id").to_numpy()
            out[mine] = ids[np.searchsorted(label_gids, gids[mine])]
    return out
