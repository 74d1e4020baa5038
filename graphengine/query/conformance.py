"""Run TinkerPop's Gherkin feature suite against the Gremlin engine and report pass rates.

``python -m graphengine.query.conformance [PATH]`` reads every ``*.feature`` file under
``PATH`` (default ``../shared/tinkerpop/features`` next to the repository), runs each scenario
through :class:`graphengine.query.Gremlin` and prints pass / fail / skip per feature folder
(``branch``, ``filter``, ``map``, ``sideEffect``, ``semantics``, ``integrated``, ``data``) and
in total, then the most frequent failure reasons.

What a scenario does, step by step (the forms of TinkerPop 3.8's suite):

- ``Given the modern|classic|crew|grateful|sink graph``: the graph read from
  ``<data>/tinkerpop-<name>-v3.json`` (``grateful-dead-v3.json``) by
  :func:`graphengine.query.graphson.read_graphson`, built once per process; every scenario gets
  a fresh ``Gremlin`` over it (store graphs are immutable, so mutations never leak).
  ``Given the empty graph``: an empty graph. ``And the graph initializer of`` runs first.
- ``And using the parameter x defined as "..."`` / ``using the side effect x defined as
  "..."``: values in the suite's notation (``v[marko]``, ``d[1].i``, ``m[{...}]`` ...; see
  :class:`Notation`), passed as bindings (side effects through ``g.withSideEffect``).
- ``When iterated to list`` / ``When iterated next``, then each ``Then``: ``the result should
  be unordered|ordered|of`` (a table), ``empty``, ``have a count of N``, ``the traversal will
  raise an error [with message containing|starting|ending text of "..."]``, ``a tree with a
  structure of``, ``a subgraph with the following``, ``the graph should return N for count of
  "..."`` (on the mutated graph).

Skipped and not counted: scenarios tagged ``@GraphComputerOnly``, ``an unsupported test`` /
``nothing should happen because``, and lambdas (``c[...]``). Every scenario runs under a
wall-clock limit (``--timeout``, default 10 s); a timeout or any exception is a failure whose
reason is recorded.

The engine is reached through one small interface, :class:`Backend` / :class:`Connection`
(:class:`LocalBackend` runs in process), so a server mode can send the same scenarios over a
websocket by swapping the backend. :func:`run_suite` returns a :class:`Report` for tests.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as _dt
import json
import logging
import math
import numbers
import re
import signal
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Protocol

log = logging.getLogger(__name__)

__all__ = [
    "Backend",
    "Connection",
    "Feature",
    "LocalBackend",
    "Notation",
    "Outcome",
    "Report",
    "Scenario",
    "Step",
    "default_data_path",
    "default_features_path",
    "load_features",
    "main",
    "parse_feature",
    "run_scenario",
    "run_suite",
    "values_equal",
]

GRAPH_FILES = {
    "modern": "tinkerpop-modern-v3.json",
    "classic": "tinkerpop-classic-v3.json",
    "crew": "tinkerpop-crew-v3.json",
    "sink": "tinkerpop-sink-v3.json",
    "grateful": "grateful-dead-v3.json",
}
SKIP_TAGS = frozenset({"GraphComputerOnly"})
DEFAULT_TIMEOUT = 10.0
_REPR_LIMIT = 600


def _repo_root() -> Path:
    return Path(__file__).resolve().parents[2]


def default_features_path() -> Path:
    """``../shared/tinkerpop/features`` relative to the repository root."""
    return _repo_root().parent / "shared" / "tinkerpop" / "features"


def default_data_path(features: Path | None = None) -> Path:
    """The GraphSON folder: ``data`` next to the features folder, else ``../shared/tinkerpop/data``."""
    if features is not None:
        sibling = Path(features).resolve().parent / "data"
        if sibling.is_dir():
            return sibling
    return _repo_root().parent / "shared" / "tinkerpop" / "data"


# =============================================================================== Gherkin model


@dataclass
class Step:
    """One Given/When/Then line with its docstring or data table."""

    keyword: str
    text: str
    line: int
    docstring: str | None = None
    table: list[list[str]] | None = None


@dataclass
class Scenario:
    """One scenario; ``tags`` include the feature's."""

    name: str
    line: int
    tags: frozenset[str]
    steps: list[Step]
    feature: Feature


@dataclass
class Feature:
    """One ``.feature`` file; ``folder`` is its first folder under the suite root."""

    path: str
    name: str
    tags: frozenset[str]
    folder: str
    scenarios: list[Scenario] = field(default_factory=list)


_STEP_WORDS = ("Given", "When", "Then", "And", "But", "*")


def _table_cells(line: str) -> list[str]:
    """The cells of one ``| a | b |`` row, with Gherkin's escapes (``\\|``, ``\\\\``, ``\\n``)."""
    body = line.strip()
    body = body.removeprefix("|")
    cells, cur, i = [], [], 0
    while i < len(body):
        c = body[i]
        if c == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            cur.append({"|": "|", "\\": "\\", "n": "\n"}.get(nxt, "\\" + nxt))
            i += 2
            continue
        if c == "|":
            cells.append("".join(cur).strip())
            cur = []
        else:
            cur.append(c)
        i += 1
    if "".join(cur).strip():
        cells.append("".join(cur).strip())
    return cells


def parse_feature(text: str, path: str = "<string>", folder: str = "") -> Feature:
    """Parse one Gherkin feature file (the subset TinkerPop's suite uses).

    Handles ``Feature:``, tags (``@A @B``) on the feature and on scenarios, ``Scenario:``,
    ``Given/When/Then/And/But`` steps, docstrings between ``\"\"\"`` (dedented by the opening
    quotes' indentation), data tables and ``#`` comments.

    Raises:
        ValueError: a step outside a scenario or an unclosed docstring (file and line named).
    """
    lines = text.splitlines()
    feature: Feature | None = None
    scenario: Scenario | None = None
    pending: list[str] = []
    i = 0
    while i < len(lines):
        raw = lines[i]
        s = raw.strip()
        lineno = i + 1
        i += 1
        if not s or s.startswith("#"):
            continue
        if s.startswith("@"):
            pending += [t[1:] for t in s.split() if t.startswith("@")]
            continue
        if s.startswith("Feature:"):
            feature = Feature(path, s[len("Feature:"):].strip(), frozenset(pending), folder)
            pending = []
            continue
        if s.startswith(("Scenario:", "Scenario Outline:", "Example:")):
            if feature is None:
                raise ValueError(f"{path}:{lineno}: scenario before Feature:")
            name = s.split(":", 1)[1].strip()
            scenario = Scenario(name, lineno, frozenset(pending) | feature.tags, [], feature)
            feature.scenarios.append(scenario)
            pending = []
            continue
        if s.startswith(("Background:", "Rule:")):
            scenario = None
            continue
        if s.startswith(('"""', "```")):
            fence = s[:3]
            indent = len(raw) - len(raw.lstrip())
            body = []
            while i < len(lines) and lines[i].strip() != fence:
                ln = lines[i]
                strip = min(indent, len(ln) - len(ln.lstrip()))
                body.append(ln[strip:])
                i += 1
            if i >= len(lines):
                raise ValueError(f"{path}:{lineno}: docstring not closed")
            i += 1
            if scenario is None or not scenario.steps:
                raise ValueError(f"{path}:{lineno}: docstring outside a step")
            scenario.steps[-1].docstring = "\n".join(body)
            continue
        if s.startswith("|"):
            if scenario is None or not scenario.steps:
                raise ValueError(f"{path}:{lineno}: table outside a step")
            step = scenario.steps[-1]
            step.table = (step.table or []) + [_table_cells(s)]
            continue
        word = s.split(None, 1)[0]
        if word in _STEP_WORDS:
            if scenario is None:
                if feature is None:
                    raise ValueError(f"{path}:{lineno}: step outside a scenario")
                continue  # a Background step: the suite has none
            scenario.steps.append(Step(word, s[len(word):].strip(), lineno))
            continue
        # free text (a feature's description) is ignored
    if feature is None:
        raise ValueError(f"{path}: no Feature:")
    return feature


def load_features(root: Path | str) -> list[Feature]:
    """Every ``*.feature`` file under ``root``, parsed, in path order."""
    root = Path(root)
    out = []
    for p in sorted(root.rglob("*.feature")):
        rel = p.relative_to(root)
        folder = rel.parts[0] if len(rel.parts) > 1 else "."
        out.append(parse_feature(p.read_text(encoding="utf-8"), rel.as_posix(), folder))
    return out


# =============================================================================== value notation


class UnsupportedScenario(Exception):
    """The scenario uses something the runner does not run (a lambda): skipped, not counted."""


class LookupFailed(Exception):
    """An element named in the notation (``v[x]``, ``e[a-l->b]``, ``vp[...]``) was not found."""


class Float32(float):
    """An expected ``d[...].f``: compared with results after rounding both to float32."""


class _FrozenDict(dict):
    """A dict usable as a map key or set member (maps inside keys of ``m[...]``)."""

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(frozenset((k, _freeze(v)) for k, v in self.items()))


def _freeze(value: Any) -> Any:
    """A hashable form of ``value``: lists become tuples, sets frozensets, dicts frozen dicts."""
    if isinstance(value, list | tuple):
        return tuple(_freeze(v) for v in value)
    if isinstance(value, set):
        return frozenset(_freeze(v) for v in value)
    if isinstance(value, dict) and not isinstance(value, _FrozenDict):
        return _FrozenDict({k: v for k, v in value.items()})
    return value


def split_top_level(body: str) -> list[str]:
    """Split ``a,l[b,c],m[{"k":1,"j":2}]`` at the commas outside brackets, braces and JSON strings."""
    parts, cur, depth, quoted, esc = [], [], 0, False, False
    for c in body:
        if quoted:
            cur.append(c)
            if esc:
                esc = False
            elif c == "\\":
                esc = True
            elif c == '"':
                quoted = False
            continue
        if c == '"' and depth > 0:
            quoted = True
        elif c in "[{(":
            depth += 1
        elif c in "]})":
            depth = max(0, depth - 1)
        elif c == "," and depth == 0:
            parts.append("".join(cur))
            cur = []
            continue
        cur.append(c)
    parts.append("".join(cur))
    return parts


class ElementResolver(Protocol):
    """Finds the elements the notation names, on the scenario's current graph."""

    def vertex(self, name: str) -> Any: ...

    def edge(self, out_name: str, label: str, in_name: str) -> Any: ...

    def vertex_property(self, name: str, key: str, value: Any) -> Any: ...


_NUM = re.compile(r"^d\[(.*)\]\.([bsilfdmn])$")
_EDGE_NAME = re.compile(r"^(.+)-(.+)->(.+)$")
_MERGE_ALIASES = {"onCreate": "on_create", "onMatch": "on_match", "outV": "out_v", "inV": "in_v"}


class Notation:
    """Converts the suite's value notation into Python values.

    ``v[marko]`` (the vertex named marko), ``v[marko].id`` / ``.sid``, ``e[marko-knows->vadas]``
    (``.id`` / ``.sid``), ``vp[marko-name->marko]``, ``d[1].i`` / ``.l`` / ``.b`` / ``.s`` /
    ``.n`` (int), ``.f`` / ``.d`` (float), ``.m`` (Decimal), ``d[NaN]``, ``d[Infinity]``,
    ``d[-Infinity]``, ``m[{json}]`` (keys and string values notated, recursively), ``l[a,b]``,
    ``s[a,b]``, ``p[a,b]`` (a gremlinpython ``Path``), ``t[label]`` (``T``), ``D[OUT]``
    (``Direction``), ``M[onCreate]`` (``Merge``), ``c[...]`` (a lambda: unsupported),
    ``str[...]`` (a raw string), ``dt[...]`` (aware ``datetime``), ``uuid[...]``, ``null``,
    ``true``, ``false``; anything else is a plain string.

    Args:
        resolver: finds elements (None: element notation raises :class:`LookupFailed`).
        expected: building expected results (``.f`` gives :class:`Float32`, map keys are made
            hashable) rather than bindings for the engine.
    """

    def __init__(self, resolver: ElementResolver | None = None, expected: bool = False):
        self.resolver = resolver
        self.expected = expected

    def __call__(self, text: str) -> Any:
        return self.convert(text)

    def _need(self) -> ElementResolver:
        if self.resolver is None:
            raise LookupFailed("no graph to resolve elements in")
        return self.resolver

    def convert(self, s: str) -> Any:
        """The value of one notated string."""
        if not isinstance(s, str):
            return s
        if s.startswith("m[") and s.endswith("]"):
            try:
                data = json.loads(s[2:-1])
            except ValueError as e:
                raise ValueError(f"m[...]: not JSON: {s[2:-1]!r} ({e})") from e
            return self.convert_json(data)
        if s.startswith("l[") and s.endswith("]"):
            body = s[2:-1]
            return [] if not body else [self.convert(x.strip()) for x in split_top_level(body)]
        if s.startswith("s[") and s.endswith("]"):
            body = s[2:-1]
            items = [] if not body else [self.convert(x.strip()) for x in split_top_level(body)]
            return {_freeze(x) for x in items}
        if s.startswith("str[") and s.endswith("]"):
            return s[4:-1]
        if s.startswith("dt[") and s.endswith("]"):
            return _parse_datetime(s[3:-1])
        if s.startswith("uuid[") and s.endswith("]"):
            return uuid.UUID(s[5:-1])
        if s == "d[NaN]":
            return float("nan")
        if s == "d[Infinity]":
            return float("inf")
        if s == "d[-Infinity]":
            return float("-inf")
        m = _NUM.match(s)
        if m:
            return self._number(m.group(1), m.group(2))
        if s.startswith("v[") and s.endswith("].id"):
            return _element_id(self._need().vertex(s[2:-4]), s[2:-4])
        if s.startswith("v[") and s.endswith("].sid"):
            return str(_element_id(self._need().vertex(s[2:-5]), s[2:-5]))
        if s.startswith("v[") and s.endswith("]"):
            v = self._need().vertex(s[2:-1])
            if v is None:
                from gremlin_python.structure.graph import Vertex
                return Vertex(s[2:-1])
            return v
        if s.startswith("e[") and s.endswith("].id"):
            return self._edge(s[2:-4]).id
        if s.startswith("e[") and s.endswith("].sid"):
            return str(self._edge(s[2:-5]).id)
        if s.startswith("e[") and s.endswith("]"):
            return self._edge(s[2:-1])
        if s.startswith("vp[") and s.endswith("]"):
            m = _EDGE_NAME.match(s[3:-1])
            if not m:
                raise ValueError(f"bad vertex property notation {s!r}")
            value = Notation(self.resolver).convert(m.group(3))
            return self._need().vertex_property(m.group(1), m.group(2), value)
        if s.startswith("p[") and s.endswith("]"):
            from gremlin_python.structure.graph import Path as GPath
            body = s[2:-1]
            objects = [] if not body else [self.convert(x.strip()) for x in split_top_level(body)]
            return GPath([set() for _ in objects], objects)
        if s.startswith("c[") and s.endswith("]"):
            raise UnsupportedScenario("lambda")
        if s.startswith("t[") and s.endswith("]"):
            from gremlin_python.process.traversal import T
            name = s[2:-1]
            return T[name] if name in T.__members__ else getattr(T, name)
        if s.startswith("D[") and s.endswith("]"):
            from gremlin_python.process.traversal import Direction
            name = s[2:-1]
            for cand in (name, name + "_", name.upper(), name.lower() + "_"):
                if cand in Direction.__members__:
                    return Direction[cand]
            raise ValueError(f"unknown Direction {name!r}")
        if s.startswith("M[") and s.endswith("]"):
            from gremlin_python.process.traversal import Merge
            name = s[2:-1]
            return Merge[_MERGE_ALIASES.get(name, name)]
        if s == "null":
            return None
        if s == "true":
            return True
        if s == "false":
            return False
        return s

    def _number(self, text: str, kind: str) -> Any:
        if kind in "bsiln":
            try:
                return int(text)
            except ValueError:
                return int(Decimal(text))
        if kind == "m":
            try:
                return Decimal(text)
            except InvalidOperation as e:
                raise ValueError(f"bad decimal {text!r}") from e
        value = float(text)
        if kind == "f":
            return Float32(value) if self.expected else _engine_float32(value)
        return value

    def _edge(self, name: str) -> Any:
        m = _EDGE_NAME.match(name)
        if not m:
            raise ValueError(f"bad edge notation e[{name}]")
        e = self._need().edge(m.group(1), m.group(2), m.group(3))
        if e is None:
            raise LookupFailed(f"no edge {name}")
        return e

    def convert_json(self, data: Any) -> Any:
        """A decoded ``m[...]`` JSON value with its strings converted, keys made hashable."""
        if isinstance(data, str):
            return self.convert(data)
        if isinstance(data, list):
            return [self.convert_json(x) for x in data]
        if isinstance(data, dict):
            return {_freeze(self.convert(k)): self.convert_json(v) for k, v in data.items()}
        return data


def _engine_float32(value: float) -> float:
    """A ``.f`` binding: the parser's Java-``Float`` type when the engine has one."""
    try:
        from .parser import Float32 as EngineFloat32
    except ImportError:
        return value
    return EngineFloat32(value)


def _element_id(element: Any, name: str) -> Any:
    """The id of a looked-up element (gremlin-python's runner uses the name when none is found)."""
    return name if element is None else element.id


def _parse_datetime(text: str) -> _dt.datetime:
    """An ISO-8601 datetime; UTC when it names no offset."""
    t = text.strip()
    if t.endswith("Z"):
        t = t[:-1] + "+00:00"
    try:
        value = _dt.datetime.fromisoformat(t)
    except ValueError:
        value = _dt.datetime.fromisoformat(_dt.date.fromisoformat(t[:10]).isoformat())
    if value.tzinfo is None:
        value = value.replace(tzinfo=_dt.timezone.utc)
    return value


# =============================================================================== comparison


def _is_num(x: Any) -> bool:
    return isinstance(x, numbers.Number) and not isinstance(x, bool) and not _is_bool(x)


def _is_bool(x: Any) -> bool:
    return isinstance(x, bool) or type(x).__name__ == "bool_"


def _num_equal(e: Any, a: Any) -> bool:
    """Numbers by value (``1 == 1.0``); NaN equals NaN; ``Float32`` compares as float32."""
    if isinstance(e, complex) or isinstance(a, complex):
        return e == a
    ef = _as_float(e)
    af = _as_float(a)
    if ef is not None and af is not None and (math.isnan(ef) or math.isnan(af)):
        return math.isnan(ef) and math.isnan(af)
    if isinstance(e, Float32) or isinstance(a, Float32):
        import numpy as np
        return bool(np.float32(float(e)) == np.float32(float(a)))
    if isinstance(e, Decimal) or isinstance(a, Decimal):
        try:
            return Decimal(str(e)) == Decimal(str(a))
        except InvalidOperation:
            return False
    if isinstance(e, float) or isinstance(a, float):
        if e == a:
            return True
        if ef is not None and af is not None and math.isfinite(ef) and math.isfinite(af):
            return abs(ef - af) <= 1e-15  # TinkerPop's closeTo for doubles
        return False
    return bool(e == a)


def _as_float(x: Any) -> float | None:
    try:
        return float(x)
    except (TypeError, ValueError, OverflowError):
        return None


def _utc(x: _dt.datetime) -> _dt.datetime:
    return x.replace(tzinfo=_dt.timezone.utc) if x.tzinfo is None else x.astimezone(_dt.timezone.utc)


def values_equal(expected: Any, actual: Any) -> bool:
    """Whether a result equals an expected value, as TinkerPop's runners compare them.

    Numbers by value across types (``1 == 1.0``, NaN == NaN, booleans are not numbers), maps
    and sets elementwise in any order, lists and paths in order (path labels ignored),
    vertices and edges by id, vertex properties by key, value and vertex, properties by key and
    value, datetimes as instants, UUIDs by value or text.
    """
    from gremlin_python.structure.graph import (
        Edge,
        Path,
        Property,
        Vertex,
        VertexProperty,
    )

    e, a = expected, actual
    if e is None or a is None:
        return e is None and a is None
    if _is_bool(e) or _is_bool(a):
        return _is_bool(e) and _is_bool(a) and bool(e) == bool(a)
    if _is_num(e) or _is_num(a):
        return _is_num(e) and _is_num(a) and _num_equal(e, a)
    if isinstance(e, str) or isinstance(a, str):
        if isinstance(e, uuid.UUID) or isinstance(a, uuid.UUID):
            return str(e) == str(a)
        return isinstance(e, str) and isinstance(a, str) and e == a
    if isinstance(e, _dt.datetime) and isinstance(a, _dt.datetime):
        return _utc(e) == _utc(a)
    if isinstance(e, VertexProperty) or isinstance(a, VertexProperty):
        if not (isinstance(e, VertexProperty) and isinstance(a, VertexProperty)):
            return False
        if e.label != a.label or not values_equal(e.value, a.value):
            return False
        ev, av = getattr(e, "vertex", None), getattr(a, "vertex", None)
        if ev is not None and av is not None:
            return values_equal(getattr(ev, "id", ev), getattr(av, "id", av))
        return True
    if isinstance(e, Vertex | Edge) or isinstance(a, Vertex | Edge):
        return (isinstance(e, Edge) == isinstance(a, Edge) and isinstance(e, Vertex | Edge)
                and isinstance(a, Vertex | Edge) and values_equal(e.id, a.id))
    if isinstance(e, Property) or isinstance(a, Property):
        return (isinstance(e, Property) and isinstance(a, Property) and e.key == a.key
                and values_equal(e.value, a.value))
    if isinstance(e, Path) or isinstance(a, Path):
        eo = e.objects if isinstance(e, Path) else None
        ao = a.objects if isinstance(a, Path) else getattr(a, "objects", None)
        return eo is not None and ao is not None and _seq_equal(list(eo), list(ao))
    if isinstance(e, Mapping) or isinstance(a, Mapping):
        return isinstance(e, Mapping) and isinstance(a, Mapping) and _map_equal(e, a)
    if isinstance(e, set | frozenset) or isinstance(a, set | frozenset):
        return (isinstance(e, set | frozenset) and isinstance(a, set | frozenset)
                and unordered_mismatch(list(e), list(a)) is None)
    if isinstance(e, list | tuple) and isinstance(a, list | tuple):
        return _seq_equal(list(e), list(a))
    if isinstance(e, list | tuple) or isinstance(a, list | tuple):
        return False
    try:
        return bool(e == a)
    except Exception:  # noqa: BLE001 (a broken __eq__ is a mismatch)
        return False


def _seq_equal(e: Sequence, a: Sequence) -> bool:
    return len(e) == len(a) and all(values_equal(x, y) for x, y in zip(e, a))


def _map_equal(e: Mapping, a: Mapping) -> bool:
    if len(e) != len(a):
        return False
    pool = list(a.items())
    for k, v in e.items():
        for i, (ak, av) in enumerate(pool):
            if values_equal(k, ak) and values_equal(v, av):
                del pool[i]
                break
        else:
            return False
    return True


def unordered_mismatch(expected: list, actual: list) -> str | None:
    """``None`` when ``actual`` is a permutation of ``expected`` (multisets), else what differs."""
    pool = list(actual)
    missing = []
    for x in expected:
        for i, y in enumerate(pool):
            if values_equal(x, y):
                del pool[i]
                break
        else:
            missing.append(x)
    if not missing and not pool:
        return None
    return f"missing {_short(missing)}; unexpected {_short(pool)}"


def _short(x: Any, limit: int = 300) -> str:
    try:
        text = repr(x)
    except Exception as e:  # noqa: BLE001
        text = f"<unprintable {type(x).__name__}: {e}>"
    return text if len(text) <= limit else text[:limit] + "..."


# =============================================================================== the engine


class Connection(Protocol):
    """A scenario's session with the engine: its graph and the mutations made through it."""

    def execute(self, text: str, bindings: Mapping[str, Any] | None = None) -> list[Any]:
        """Run Gremlin text; the results as a list (raises on error)."""
        ...

    def subgraph_elements(self, value: Any) -> tuple[list[Any], list[Any]] | None:
        """``(vertices, edges)`` of a ``subgraph()`` result, or ``None`` when not a graph."""
        ...


class Backend(Protocol):
    """Builds named graphs and opens scenario connections (local, or a server later)."""

    def prepare(self, graph_name: str) -> None:
        """Build the named graph ahead of time (outside the scenario's time limit)."""
        ...

    def connect(self, graph_name: str) -> Connection:
        """A fresh connection over the named graph (``"empty"``: a new empty graph)."""
        ...


class LocalConnection:
    """A :class:`Connection` over an in-process ``Gremlin`` object."""

    def __init__(self, graph: Any):
        from graphengine.query import Gremlin
        self._gremlin_cls = Gremlin
        self.q = Gremlin(graph)

    def execute(self, text: str, bindings: Mapping[str, Any] | None = None) -> list[Any]:
        """``Gremlin.execute(text, bindings).all()``."""
        return list(self.q.execute(text, dict(bindings) if bindings else None).all())

    def subgraph_elements(self, value: Any) -> tuple[list[Any], list[Any]] | None:
        """Elements of a subgraph result given as a store graph, a mapping or an object with
        ``vertices`` / ``edges``."""
        from graphengine.store.graph import Graph
        if isinstance(value, Graph):
            q = self._gremlin_cls(value)
            return list(q.execute("g.V()").all()), list(q.execute("g.E()").all())
        return _generic_subgraph(value)


def _generic_subgraph(value: Any) -> tuple[list[Any], list[Any]] | None:
    def get(name: str) -> Any:
        x = value.get(name) if isinstance(value, Mapping) else getattr(value, name, None)
        if callable(x):
            x = x()
        if isinstance(x, Mapping):
            x = list(x.values())
        return None if x is None else list(x)

    vs, es = get("vertices"), get("edges")
    if vs is None or es is None:
        return None
    return vs, es


class LocalBackend:
    """Runs scenarios in process on graphs read from TinkerPop's GraphSON files.

    Args:
        data: the folder of ``tinkerpop-*-v3.json`` / ``grateful-dead-v3.json``.
        num_fragments: fragments of every graph built.
    """

    def __init__(self, data: Path | str | None = None, num_fragments: int = 1):
        self.data = Path(data) if data is not None else default_data_path()
        self.num_fragments = num_fragments
        self._graphs: dict[str, Any] = {}
        self._mutations: dict[str, list[tuple[str, dict[str, Any]]]] = {}
        self._errors: dict[str, BaseException] = {}

    def prepare(self, graph_name: str) -> None:
        """Build (once) the named graph from its GraphSON file.

        The properties typed columns cannot hold (crew's multi- and meta-properties) are kept
        as Gremlin mutations that :meth:`connect` replays on every fresh ``Gremlin``: a store
        version exported through ``Gremlin.graph`` need not keep meta-properties. They are
        replayed once here so that a failure shows up as the graph's error.
        """
        if graph_name == "empty" or graph_name in self._graphs or graph_name in self._errors:
            return
        if graph_name not in GRAPH_FILES:
            self._errors[graph_name] = ValueError(f"unknown graph {graph_name!r}")
            return
        t0 = time.perf_counter()
        try:
            from .graphson import read_graphson
            graph, mutations = read_graphson(self.data / GRAPH_FILES[graph_name],
                                             num_fragments=self.num_fragments)
            self._replay(LocalConnection(graph), mutations)
            self._graphs[graph_name] = graph
            self._mutations[graph_name] = mutations
            log.info("graph %s built in %.1f s (%d property mutations)", graph_name,
                     time.perf_counter() - t0, len(mutations))
        except Exception as e:  # noqa: BLE001 (every scenario on it reports the cause)
            log.warning("graph %s could not be built: %s: %s", graph_name, type(e).__name__, e)
            self._errors[graph_name] = e

    @staticmethod
    def _replay(conn: LocalConnection, mutations: list[tuple[str, dict[str, Any]]]) -> None:
        for text, bindings in mutations:
            conn.execute(text, bindings)

    def graph(self, graph_name: str) -> Any:
        """The named store graph, without its replayed mutations (``"empty"``: a new one).

        Raises:
            RuntimeError: the graph could not be built (the cause chained).
        """
        if graph_name == "empty":
            import graphengine
            return graphengine.session(num_fragments=self.num_fragments).g()
        self.prepare(graph_name)
        if graph_name in self._errors:
            e = self._errors[graph_name]
            raise RuntimeError(f"graph {graph_name!r} not built: {type(e).__name__}: {e}") from e
        return self._graphs[graph_name]

    def connect(self, graph_name: str) -> LocalConnection:
        """A fresh ``Gremlin`` over the named graph, its property mutations replayed."""
        conn = LocalConnection(self.graph(graph_name))
        self._replay(conn, self._mutations.get(graph_name, []))
        return conn


class _Resolver:
    """Looks elements up by name on a connection's current graph, as TinkerPop's runner does.

    Results are cached until :meth:`clear` (called after each traversal that may mutate).
    """

    def __init__(self, conn: Connection):
        self.conn = conn
        self._v: dict[str, Any] = {}
        self._vs: dict[str, list[Any]] = {}
        self._e: dict[tuple[str, str, str], Any] = {}
        self._vp: dict[tuple[str, str, Any], Any] = {}

    def clear(self) -> None:
        self._v.clear()
        self._vs.clear()
        self._e.clear()
        self._vp.clear()

    def _named(self, name: str) -> list[Any]:
        if name not in self._vs:
            self._vs[name] = self.conn.execute(f"g.V().has(\"name\", {json.dumps(name)})")
        return self._vs[name]

    def vertex(self, name: str) -> Any:
        found = self._named(name)
        return found[0] if found else None

    def edge(self, out_name: str, label: str, in_name: str) -> Any:
        key = (out_name, label, in_name)
        if key not in self._e:
            targets = self._named(in_name)
            edges = self.conn.execute(
                f"g.V().has(\"name\", {json.dumps(out_name)}).outE({json.dumps(label)})")
            self._e[key] = next((e for e in edges if any(
                values_equal(getattr(e.inV, "id", e.inV), t.id) for t in targets)), None)
        return self._e[key]

    def vertex_property(self, name: str, key: str, value: Any) -> Any:
        props = self.conn.execute(
            f"g.V().has(\"name\", {json.dumps(name)}).properties({json.dumps(key)})")
        match = [p for p in props if values_equal(value, p.value)]
        if not match:
            raise LookupFailed(f"no vertex property vp[{name}-{key}->{value!r}]")
        return match[0]


# =============================================================================== scenarios


@dataclass
class Outcome:
    """What one scenario did: ``status`` is ``pass``, ``fail`` or ``skip``."""

    feature: str
    folder: str
    name: str
    line: int
    status: str
    reason: str = ""
    category: str = ""
    traversal: str = ""
    expected: str = ""
    actual: str = ""
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


class _ScenarioTimeout(BaseException):
    """Raised by the alarm when a scenario runs past its limit (BaseException: engine code that
    catches ``Exception`` cannot swallow it)."""


class _Failure(Exception):
    """A failed assertion: ``category`` groups it in the triage."""

    def __init__(self, category: str, detail: str = "", reason: str | None = None):
        super().__init__(reason if reason is not None
                         else f"{category}: {detail}" if detail else category)
        self.category = category


class _NoResult(Exception):
    """``iterated next`` on a traversal that returned nothing (Java's NoSuchElementException)."""


def _error_category(e: BaseException) -> str:
    """A short, grouped form of an exception: type and message with numbers blanked."""
    msg = str(e).strip().splitlines()[0] if str(e).strip() else ""
    msg = re.sub(r"^line \d+, column \d+: ", "", msg)
    msg = re.sub(r"\d+", "N", msg)
    if len(msg) > 90:
        msg = msg[:90] + "..."
    return f"{type(e).__name__}: {msg}"


def _timer_usable() -> bool:
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


@dataclass
class _State:
    conn: Connection | None = None
    resolver: _Resolver | None = None
    graph_name: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    side_effects: dict[str, Any] = field(default_factory=dict)
    traversal: str = ""
    executed: bool = False
    result: Any = None          # the list (iterated to list) or the first result (next)
    mode: str = ""
    error: BaseException | None = None   # cleared once a Then step asserted it
    raised: BaseException | None = None  # what the traversal raised, for the report
    expected_text: list[str] = field(default_factory=list)


def _unquote(s: str) -> str:
    return s.replace('\\"', '"')


def _graph_of(scenario: Scenario) -> str | None:
    for st in scenario.steps:
        m = re.match(r"^the (\w+) graph$", st.text)
        if m:
            return m.group(1)
    return None


def _skip_reason(scenario: Scenario, skip_tags: Iterable[str] = SKIP_TAGS) -> str | None:
    bad = scenario.tags & frozenset(skip_tags)
    if bad:
        return "tag @" + min(bad)
    for st in scenario.steps:
        if st.text in ("an unsupported test", "nothing should happen because"):
            return "unsupported test"
    return None


def _with_side_effects(text: str, side_effects: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """``text`` with ``withSideEffect(key, variable)`` after its ``g``, and those bindings."""
    if not side_effects:
        return text, {}
    stripped = text.lstrip()
    if not stripped.startswith("g."):
        raise _Failure("runner", "side effects need a traversal starting with g.")
    sources = "".join(f"withSideEffect({json.dumps(k)}, se_{k})." for k in side_effects)
    return "g." + sources + stripped[2:], {f"se_{k}": v for k, v in side_effects.items()}


def _as_list(state: _State) -> list[Any]:
    """The results as TinkerPop's runner asserts them (``next()`` of a map: its entries)."""
    if state.mode != "next":
        return list(state.result)
    from gremlin_python.structure.graph import Path

    r = state.result
    if isinstance(r, Mapping):
        return [{k: v} for k, v in r.items()]
    if isinstance(r, Path):
        return list(r.objects)
    if isinstance(r, list | tuple | set | frozenset):
        return list(r)
    if hasattr(r, "__iter__") and not isinstance(r, str | bytes):
        try:
            return list(r)
        except Exception:  # noqa: BLE001
            return [r]
    return [r]


def _require_result(state: _State) -> None:
    if not state.executed:
        raise _Failure("runner", "no traversal was iterated")
    if state.error is not None:
        e = state.error
        raise _Failure(_error_category(e), reason=f"{type(e).__name__}: {e}")


def _parse_tree(text: str) -> list[tuple[str, list]]:
    """The expected ``|--a`` ascii tree: ``[(value text, children)]`` (3 spaces per level)."""
    roots: list[tuple[str, list]] = []
    levels: dict[int, tuple[str, list]] = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        level = (len(line) - len(line.lstrip(" "))) // 3
        node: tuple[str, list] = (line.replace("|--", "").strip(), [])
        if level == 0 or level - 1 not in levels:
            roots.append(node)
        else:
            levels[level - 1][1].append(node)
        levels[level] = node
    return roots


def _tree_mismatch(expected: list[tuple[Any, list]], actual: Any, where: str) -> str | None:
    if not isinstance(actual, Mapping):
        return f"at {where or 'root'}: a {type(actual).__name__}, not a tree (mapping)"
    if len(expected) != len(actual):
        return (f"at {where or 'root'}: {len(actual)} children {_short(list(actual))}, "
                f"expected {len(expected)}")
    for value, children in expected:
        key = next((k for k in actual if values_equal(value, k)), _MISSING)
        if key is _MISSING:
            return f"at {where or 'root'}: no child {value!r} in {_short(list(actual))}"
        bad = _tree_mismatch(children, actual[key], f"{where}/{value!r}")
        if bad:
            return bad
    return None


_MISSING = object()


def _run_then(step: Step, state: _State, expected_notation: Notation) -> None:
    """Check one Then step; raises :class:`_Failure` when it does not hold."""
    text = step.text
    m = re.match(r"^the traversal will raise an error(?: with message (\w+) text of \"(.*)\")?$",
                 text)
    if m:
        if not state.executed:
            raise _Failure("runner", "no traversal was iterated")
        if state.error is None:
            raise _Failure("expected an error, none raised", f"result {_short(state.result)}")
        if m.group(1):
            how, want = m.group(1), _unquote(m.group(2))
            got = str(state.error)
            ok = {"containing": want.upper() in got.upper(),
                  "starting": got.upper().startswith(want.upper()),
                  "ending": got.upper().endswith(want.upper())}.get(how)
            if ok is None:
                raise _Failure("runner", f"unknown comparison {how!r}")
            if not ok:
                raise _Failure("error message mismatch",
                               f"expected {how} {want!r}, got {type(state.error).__name__}: {got}")
        state.error = None  # consumed, as TinkerPop's runner does
        return
    m = re.match(r"^the graph should return (\d+) for count of \"(.*)\"$", text)
    if m:
        _require_result(state)
        query = _unquote(m.group(2)).strip() + ".count()"
        try:
            got = state.conn.execute(query, state.params)
        except _ScenarioTimeout:
            raise
        except Exception as e:
            raise _Failure("graph count: " + _error_category(e), f"{query}: {e}") from e
        n = got[0] if got else None
        if not (len(got) == 1 and _is_num(n) and n == int(m.group(1))):
            raise _Failure("wrong graph count", f"{query} returned {_short(got)}, expected "
                                                f"{m.group(1)}")
        return
    _require_result(state)
    m = re.match(r"^the result should be (unordered|ordered|of)$", text)
    if m:
        how = m.group(1)
        rows = step.table or []
        if not rows or rows[0] != ["result"]:
            raise _Failure("runner", f"table header {rows[:1]!r}, expected | result |")
        cells = [r[0] if r else "" for r in rows[1:]]
        state.expected_text += cells
        expected = [expected_notation(c) for c in cells]
        actual = _as_list(state)
        if how == "of":
            bad = [a for a in actual if not any(values_equal(e, a) for e in expected)]
            if bad:
                raise _Failure("wrong result (of)", f"not in the table: {_short(bad)}")
            return
        if len(actual) != len(expected):
            raise _Failure(f"wrong result ({how})", f"{len(actual)} results, expected "
                                                     f"{len(expected)}: got {_short(actual)}")
        if how == "ordered":
            for i, (e, a) in enumerate(zip(expected, actual)):
                if not values_equal(e, a):
                    raise _Failure("wrong result (ordered)",
                                   f"at {i}: got {_short(a)}, expected {_short(e)}")
            return
        bad = unordered_mismatch(expected, actual)
        if bad:
            raise _Failure("wrong result (unordered)", bad)
        return
    if text == "the result should be empty":
        actual = _as_list(state)
        if actual:
            raise _Failure("wrong result (empty)", f"got {_short(actual)}")
        return
    m = re.match(r"^the result should have a count of (\d+)$", text)
    if m:
        n = len(_as_list(state))
        if n != int(m.group(1)):
            raise _Failure("wrong count", f"{n} results, expected {m.group(1)}")
        return
    if text == "the result should be a tree with a structure of":
        tree = _parse_tree(step.docstring or "")
        state.expected_text.append(step.docstring or "")

        def convert(nodes: list[tuple[str, list]]) -> list[tuple[Any, list]]:
            return [(expected_notation(v), convert(c)) for v, c in nodes]

        actual = state.result[0] if state.mode == "list" and state.result else state.result
        bad = _tree_mismatch(convert(tree), actual, "")
        if bad:
            raise _Failure("wrong tree", bad)
        return
    if text == "the result should be a subgraph with the following":
        rows = step.table or []
        what = rows[0][0] if rows and rows[0] else ""
        if what not in ("vertices", "edges"):
            raise _Failure("runner", f"subgraph table header {what!r}")
        actual = state.result[0] if state.mode == "list" and state.result else state.result
        elements = state.conn.subgraph_elements(actual)
        if elements is None:
            raise _Failure("wrong subgraph", f"a {type(actual).__name__}, not a graph")
        got = elements[0] if what == "vertices" else elements[1]
        cells = [r[0] for r in rows[1:] if r]
        state.expected_text += cells
        expected = [expected_notation(c) for c in cells]
        bad = unordered_mismatch(expected, got)
        if bad:
            raise _Failure(f"wrong subgraph {what}", bad)
        for e in expected:  # ids matched: the labels too
            a = next(x for x in got if values_equal(e, x))
            if getattr(e, "label", None) != getattr(a, "label", None):
                raise _Failure(f"wrong subgraph {what}", f"{a!r} label {a.label!r}, "
                                                         f"expected {e.label!r}")
        return
    raise _Failure("runner", f"unknown step: Then {text}")


def run_scenario(scenario: Scenario, backend: Backend,
                 timeout: float | None = DEFAULT_TIMEOUT,
                 skip_tags: Iterable[str] = SKIP_TAGS) -> Outcome:
    """Run one scenario; every exception, assertion and timeout becomes the outcome's reason.

    Scenarios with one of ``skip_tags`` (default ``@GraphComputerOnly``), unsupported tests and
    lambdas are skipped.
    """
    out = Outcome(scenario.feature.path, scenario.feature.folder, scenario.name, scenario.line,
                  "pass")
    trav = next((st.docstring for st in scenario.steps if st.text == "the traversal of"), None)
    out.traversal = (trav or "").strip()
    skip = _skip_reason(scenario, skip_tags)
    if skip:
        out.status, out.reason, out.category = "skip", skip, skip
        return out
    graph_name = _graph_of(scenario)
    if graph_name:
        backend.prepare(graph_name)  # outside the time limit: built once per process
    state = _State()
    t0 = time.perf_counter()
    use_timer = bool(timeout) and _timer_usable()
    old_handler: Any = None
    if use_timer:
        def on_alarm(signum: int, frame: Any) -> None:
            raise _ScenarioTimeout()

        old_handler = signal.signal(signal.SIGALRM, on_alarm)
        signal.setitimer(signal.ITIMER_REAL, float(timeout))
    try:
        try:
            _run_steps(scenario, backend, state)
        finally:
            if use_timer:
                signal.setitimer(signal.ITIMER_REAL, 0)
                signal.signal(signal.SIGALRM, old_handler)
    except _ScenarioTimeout:
        out.status, out.category = "fail", "timeout"
        out.reason = f"timeout after {timeout:g} s"
    except UnsupportedScenario as e:
        out.status, out.reason, out.category = "skip", str(e), str(e)
    except _Failure as e:
        out.status, out.category, out.reason = "fail", e.category, str(e)
    except Exception as e:  # noqa: BLE001 (a broken scenario is a failure, never a crash)
        out.status, out.category = "fail", "runner: " + _error_category(e)
        out.reason = f"{type(e).__name__}: {e}"
    out.seconds = time.perf_counter() - t0
    out.expected = _short(state.expected_text, _REPR_LIMIT) if state.expected_text else ""
    if state.executed:
        out.actual = (_short(state.result, _REPR_LIMIT) if state.raised is None
                      else f"{type(state.raised).__name__}: {state.raised}")
    return out


def _run_steps(scenario: Scenario, backend: Backend, state: _State) -> None:
    """Run a scenario's Given / When / Then steps in order."""
    for step in scenario.steps:
        text = step.text
        m = re.match(r"^the (\w+) graph$", text)
        if m:
            state.graph_name = m.group(1)
            try:
                state.conn = backend.connect(state.graph_name)
                if "AllowNullPropertyValues" in scenario.tags and isinstance(state.conn,
                                                                             LocalConnection):
                    # the tag asks for a graph that stores null property values (TinkerGraph's
                    # allowNullPropertyValues); the default graph removes the property instead
                    state.conn.q = state.conn._gremlin_cls(state.conn.q.graph,
                                                           allow_null_properties=True)
                elif "AllowNullPropertyValues" in scenario.tags and hasattr(
                        state.conn, "allow_null_properties"):
                    state.conn.allow_null_properties()    # the server mode's connection
            except Exception as e:
                raise _Failure("graph: " + _error_category(e),
                               reason=f"graph: {type(e).__name__}: {e}") from e
            state.resolver = _Resolver(state.conn)
            continue
        if state.conn is None:
            raise _Failure("runner", f"step before the graph: {text}")
        params = Notation(state.resolver)
        if text == "the graph initializer of":
            try:
                state.conn.execute((step.docstring or "").strip(), None)
            except _ScenarioTimeout:
                raise
            except Exception as e:
                raise _Failure("initializer: " + _error_category(e),
                               reason=f"initializer: {type(e).__name__}: {e}") from e
            state.resolver.clear()
            continue
        m = re.match(r"^using the parameter (\w+) defined as \"(.*)\"$", text)
        if m:
            state.params[m.group(1)] = _convert_or_fail(params, _unquote(m.group(2)), "parameter")
            continue
        m = re.match(r"^using the parameter (\w+) of P\.(\w+)\(\"(.*)\"\)$", text)
        if m:
            from gremlin_python.process.traversal import P
            value = _convert_or_fail(params, _unquote(m.group(3)), "parameter")
            state.params[m.group(1)] = getattr(P, m.group(2))(value)
            continue
        m = re.match(r"^using the side effect (\w+) defined as \"(.*)\"$", text)
        if m:
            state.side_effects[m.group(1)] = _convert_or_fail(params, _unquote(m.group(2)),
                                                              "side effect")
            continue
        if text == "the traversal of":
            state.traversal = rewrite_io_paths((step.docstring or "").strip(),
                                               getattr(backend, "data", None))
            continue
        if text in ("iterated to list", "iterated next"):
            state.mode = "list" if text == "iterated to list" else "next"
            query, extra = _with_side_effects(state.traversal, state.side_effects)
            state.executed = True
            try:
                results = state.conn.execute(query, {**state.params, **extra})
                if state.mode == "next":
                    if not results:
                        raise _NoResult("next() on an empty traversal (NoSuchElementException)")
                    state.result = results[0]
                else:
                    state.result = results
            except _ScenarioTimeout:
                raise
            except Exception as e:  # noqa: BLE001 (the Then steps judge it)
                state.error = state.raised = e
            state.resolver.clear()
            continue
        if step.keyword in ("Then", "And", "But") and state.executed:
            _run_then(step, state, Notation(state.resolver, expected=True))
            continue
        raise _Failure("runner", f"unknown step: {step.keyword} {text}")


_IO_PATH = re.compile(r'(\bio\(\s*)(["\'])(data/[^"\']+)\2')


def rewrite_io_paths(text: str, data: Path | str | None) -> str:
    """``g.io("data/x")`` with the path of ``x`` in the data folder, as TinkerPop's runner does.

    ``data/tinkerpop-modern.json`` becomes ``<data>/tinkerpop-modern-v3.json`` (the same file);
    paths of files the folder does not have are left as they are.
    """
    if data is None or "io(" not in text:
        return text

    def sub(m: re.Match) -> str:
        name = m.group(3)[len("data/"):]
        folder = Path(data)
        for cand in (folder / name, folder / name.replace(".json", "-v3.json")):
            if cand.is_file():
                return m.group(1) + json.dumps(str(cand.resolve()))
        return m.group(0)

    return _IO_PATH.sub(sub, text)


def _convert_or_fail(notation: Notation, text: str, what: str) -> Any:
    try:
        return notation(text)
    except (UnsupportedScenario, _ScenarioTimeout):
        raise
    except Exception as e:
        raise _Failure(f"{what}: " + _error_category(e), f"{text}: {type(e).__name__}: {e}") from e


# =============================================================================== the report


@dataclass
class Report:
    """The outcomes of a suite run, with the per-folder table and the failure triage."""

    outcomes: list[Outcome]
    root: str = ""
    seconds: float = 0.0

    def _count(self, status: str, folder: str | None = None) -> int:
        return sum(1 for o in self.outcomes
                   if o.status == status and (folder is None or o.folder == folder))

    @property
    def passed(self) -> int:
        return self._count("pass")

    @property
    def failed(self) -> int:
        return self._count("fail")

    @property
    def skipped(self) -> int:
        return self._count("skip")

    @property
    def pass_rate(self) -> float:
        """Passed over counted (passed + failed) scenarios; 0 when none counted."""
        counted = self.passed + self.failed
        return self.passed / counted if counted else 0.0

    def folders(self) -> dict[str, tuple[int, int, int]]:
        """``folder -> (pass, fail, skip)``, folders sorted."""
        names = sorted({o.folder for o in self.outcomes})
        return {f: (self._count("pass", f), self._count("fail", f), self._count("skip", f))
                for f in names}

    def features(self) -> dict[str, tuple[int, int, int]]:
        """``feature file -> (pass, fail, skip)``, files sorted."""
        out: dict[str, list[int]] = {}
        for o in self.outcomes:
            out.setdefault(o.feature, [0, 0, 0])[("pass", "fail", "skip").index(o.status)] += 1
        return {k: (v[0], v[1], v[2]) for k, v in sorted(out.items())}

    def table(self) -> str:
        """The per-folder pass / fail / skip table with pass rates, and the total."""
        head = f"{'folder':<12} {'pass':>6} {'fail':>6} {'skip':>6} {'rate':>8}"
        lines = [head, "-" * len(head)]

        def row(name: str, p: int, f: int, s: int) -> str:
            rate = f"{100.0 * p / (p + f):.1f}%" if p + f else "-"
            return f"{name:<12} {p:>6} {f:>6} {s:>6} {rate:>8}"

        for name, (p, f, s) in self.folders().items():
            lines.append(row(name, p, f, s))
        lines.append("-" * len(head))
        lines.append(row("total", self.passed, self.failed, self.skipped))
        return "\n".join(lines)

    def failure_groups(self, top: int = 15) -> list[tuple[str, int]]:
        """The most frequent failure categories with their counts."""
        return Counter(o.category for o in self.outcomes if o.status == "fail").most_common(top)

    def skip_groups(self) -> list[tuple[str, int]]:
        """Why scenarios were skipped, with counts."""
        return Counter(o.reason for o in self.outcomes if o.status == "skip").most_common()

    def to_json(self) -> list[dict[str, Any]]:
        """Every outcome as a dict (for triage files)."""
        return [o.to_dict() for o in self.outcomes]


def run_suite(path: Path | str | None = None, data: Path | str | None = None, *,
              name_filter: str | None = None, timeout: float | None = DEFAULT_TIMEOUT,
              graph_fragments: int = 1, backend: Backend | None = None,
              progress: Callable[[Outcome], None] | None = None,
              skip_tags: Iterable[str] = SKIP_TAGS) -> Report:
    """Run every scenario of the feature files under ``path``.

    Args:
        path: the features folder (default :func:`default_features_path`) or one file.
        data: the GraphSON folder (default :func:`default_data_path`).
        name_filter: run only scenarios whose name or feature path contains this text.
        timeout: seconds per scenario (``None`` or 0: no limit).
        graph_fragments: fragments of the named graphs.
        backend: where traversals run (default :class:`LocalBackend`).
        progress: called with each outcome as it is known.
        skip_tags: scenarios (or features) with one of these tags are skipped, not counted.

    Raises:
        FileNotFoundError: ``path`` does not exist.
    """
    root = Path(path) if path is not None else default_features_path()
    if not root.exists():
        raise FileNotFoundError(f"no feature files at {root}")
    if root.is_file():
        features = [parse_feature(root.read_text(encoding="utf-8"), root.name, root.parent.name)]
    else:
        features = load_features(root)
    if backend is None:
        backend = LocalBackend(data if data is not None else default_data_path(
            root if root.is_dir() else root.parent), num_fragments=graph_fragments)
    t0 = time.perf_counter()
    outcomes = []
    for feature in features:
        for sc in feature.scenarios:
            if name_filter and name_filter not in sc.name and name_filter not in feature.path:
                continue
            o = run_scenario(sc, backend, timeout, skip_tags)
            log.debug("%s %s: %s %s", feature.path, sc.name, o.status, o.reason)
            outcomes.append(o)
            if progress is not None:
                progress(o)
    return Report(outcomes, str(root), time.perf_counter() - t0)


# =============================================================================== CLI


def _print_failures(report: Report, out: Any) -> None:
    for o in report.outcomes:
        if o.status != "fail":
            continue
        print(f"\nFAIL {o.name}  ({o.feature}:{o.line})", file=out)
        for ln in o.traversal.splitlines():
            print(f"    {ln}", file=out)
        print(f"  reason: {o.reason}", file=out)


def main(argv: Sequence[str] | None = None) -> int:
    """The command line: ``python -m graphengine.query.conformance [PATH] [options]``."""
    ap = argparse.ArgumentParser(prog="python -m graphengine.query.conformance",
                                 description="Run TinkerPop's Gherkin features on the Gremlin "
                                             "engine and print pass rates per feature folder.")
    ap.add_argument("path", nargs="?", help="features folder or file (default: "
                                            "../shared/tinkerpop/features from the repository)")
    ap.add_argument("--data", help="GraphSON folder (default: data next to the features)")
    ap.add_argument("--failures", action="store_true", help="print every failure with its reason")
    ap.add_argument("--json", metavar="FILE", help="write every scenario's outcome as JSON")
    ap.add_argument("--filter", metavar="SUBSTR", help="only scenarios whose name or feature "
                                                       "path contains SUBSTR")
    ap.add_argument("--graph-fragments", type=int, default=1, metavar="N",
                    help="fragments of the named graphs (default 1)")
    ap.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT,
                    help=f"seconds per scenario (default {DEFAULT_TIMEOUT:g}; 0: none)")
    ap.add_argument("--skip-tag", action="append", default=[], metavar="TAG",
                    help="also skip scenarios tagged @TAG (repeatable; @GraphComputerOnly "
                         "always is)")
    ap.add_argument("--top", type=int, default=15, help="failure reasons to list (default 15)")
    ap.add_argument("--by-feature", action="store_true",
                    help="also print pass / fail / skip per feature file (those with failures)")
    ap.add_argument("--server", nargs="?", const="graphbinary", choices=["graphbinary", "graphson"],
                    help="send every scenario through graphengine's Gremlin server (websocket, "
                         "gremlinpython bytecode; GraphBinary unless graphson is given)")
    ap.add_argument("-v", "--verbose", action="count", default=0, help="log progress (-vv: debug)")
    args = ap.parse_args(argv)
    logging.basicConfig(level=[logging.WARNING, logging.INFO, logging.DEBUG][min(args.verbose, 2)],
                        format="%(levelname)s %(name)s: %(message)s")
    path = Path(args.path) if args.path else default_features_path()
    if not path.exists():
        print(f"no TinkerPop feature files at {path}: nothing to run")
        return 0
    backend: Any = None
    if args.server:
        from .server.remote import ServerBackend
        backend = ServerBackend(LocalBackend(args.data or default_data_path(
            path if path.is_dir() else path.parent), num_fragments=args.graph_fragments),
            serializer=args.server, timeout=args.timeout or None)
    try:
        report = run_suite(path, args.data, name_filter=args.filter, timeout=args.timeout or None,
                           graph_fragments=args.graph_fragments, backend=backend,
                           skip_tags=SKIP_TAGS | {t.lstrip("@") for t in args.skip_tag})
    finally:
        if backend is not None:
            backend.close()
    print(f"TinkerPop features: {report.root}  ({len(report.outcomes)} scenarios, "
          f"{report.seconds:.1f} s)")
    print(report.table())
    skips = ", ".join(f"{r} {n}" for r, n in report.skip_groups())
    print(f"pass rate {100 * report.pass_rate:.1f}% of {report.passed + report.failed} counted "
          f"scenarios; {report.skipped} skipped" + (f" ({skips})" if skips else ""))
    groups = report.failure_groups(args.top)
    if groups:
        print(f"\nmost frequent failure reasons (top {len(groups)}):")
        for cat, n in groups:
            print(f"  {n:>5}  {cat}")
    if args.by_feature:
        print("\nfeature files with failures (pass / fail / skip):")
        for name, (p, f, sk) in report.features().items():
            if f:
                print(f"  {name:<48} {p:>4} {f:>4} {sk:>4}")
    if args.failures:
        _print_failures(report, sys.stdout)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump({"root": report.root, "pass_rate": report.pass_rate,
                       "outcomes": report.to_json()}, fh, indent=1, default=str)
        print(f"\noutcomes written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
