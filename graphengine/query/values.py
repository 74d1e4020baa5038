"""Gremlin's value semantics (TinkerPop 3.6+): equality, comparability, orderability, numbers.

- *Equality* (``eq``, ``neq``, ``within``, ``dedup``): numbers compare by value across types
  (``1 == 1.0``), ``NaN`` equals nothing, ``null`` equals ``null``, values of different types
  are not equal.
- *Comparability* (``lt``, ``gt``, ``between`` ...): numbers with numbers, strings with
  strings, booleans, dates, UUIDs; anything else (including ``null`` against a value, or
  ``NaN``) gives the ternary ``ERROR``, which a filter treats as false and which ``not``
  keeps as ``ERROR``. Represented here as ``None``.
- *Orderability* (``order()``): a total order over all values: ``null < boolean < number <
  date < string < UUID < vertex < edge < vertex property < property < path < set < list <
  map < anything else``; ``NaN`` sorts after every other number.

See the TinkerPop reference, "Equality, Comparability, Equivalence and Orderability".
"""

from __future__ import annotations

import contextvars
import datetime as _dt
import math
import uuid
from decimal import Decimal
from functools import cmp_to_key
from typing import Any

from gremlin_python.process.traversal import P, TextP

from ..errors import QueryEvaluationError
from .graph import Edg, Prop, VProp, Vtx


class PathValue:
    """A path: objects with the step labels of each, as Gremlin's ``Path``."""

    __slots__ = ("labels", "objects")

    def __init__(self, labels: list[frozenset], objects: list):
        self.labels = labels
        self.objects = objects

    def __eq__(self, other: object) -> bool:
        return (type(other) is PathValue and len(other.objects) == len(self.objects)
                and all(equals(a, b) for a, b in zip(self.objects, other.objects))
                and self.labels == other.labels)

    def __hash__(self) -> int:
        return hash(tuple(hash_key(o) for o in self.objects))

    def __len__(self) -> int:
        return len(self.objects)

    def __repr__(self) -> str:
        return f"path{self.objects!r}"


def is_number(v: Any) -> bool:
    return isinstance(v, (int, float, Decimal)) and not isinstance(v, bool)


def equals(a: Any, b: Any) -> bool:
    """Gremlin equality (see the module docstring)."""
    if a is None or b is None:
        return a is None and b is None
    if is_number(a) and is_number(b):
        if isinstance(a, float) and math.isnan(a) or isinstance(b, float) and math.isnan(b):
            return False
        return _num(a) == _num(b)
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, KeySet) or isinstance(b, KeySet):
        return _kind(a) == _kind(b) == 11 and hash_key(set_of(a)) == hash_key(set_of(b))
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(equals(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        if len(a) != len(b):
            return False
        keys_b = {hash_key(k): v for k, v in b.items()}
        return all(hash_key(k) in keys_b and equals(v, keys_b[hash_key(k)]) for k, v in a.items())
    if isinstance(a, (set, frozenset)) and isinstance(b, (set, frozenset)):
        return {hash_key(x) for x in a} == {hash_key(x) for x in b}
    if _kind(a) != _kind(b):
        return False
    return a == b


def set_of(v: Any) -> Any:
    """A KeySet as a frozenset of hashable members (other values unchanged)."""
    return frozenset(freeze(x) for x in v) if isinstance(v, KeySet) else v


def _num(v: Any) -> Any:
    if isinstance(v, Decimal):
        return v
    if isinstance(v, float) and not math.isinf(v) and v == int(v) and abs(v) < 2 ** 53:
        return int(v)
    return v


def hash_key(v: Any) -> Any:
    """A hashable key such that Gremlin-equal values share it (for dedup, group, sets)."""
    if v is None or isinstance(v, bool):
        return ("b", v)
    if is_number(v):
        if isinstance(v, float) and math.isnan(v):
            return ("nan", id(v))
        n = _num(v)
        if isinstance(n, Decimal) and n == n.to_integral_value():
            n = int(n)
        return ("n", n)
    if isinstance(v, KeySet):
        return ("s", frozenset(hash_key(x) for x in v))
    if isinstance(v, (list, tuple)):
        return ("l", tuple(hash_key(x) for x in v))
    if isinstance(v, dict):
        return ("m", frozenset((hash_key(k), hash_key(x)) for k, x in v.items()))
    if isinstance(v, (set, frozenset)):
        return ("s", frozenset(hash_key(x) for x in v))
    if isinstance(v, PathValue):
        return ("p", tuple(hash_key(x) for x in v.objects))
    if isinstance(v, Prop):
        return ("pr", v.key, hash_key(v.value))   # TinkerPop: properties equal by key and value
    return (type(v).__name__, v)


# ---------------------------------------------------------------------------- comparability

def compare(a: Any, b: Any) -> int | None:
    """-1 / 0 / 1 when ``a`` and ``b`` are comparable, else None (Gremlin's ERROR). ``null``
    compares equal to ``null`` only."""
    if a is None or b is None:
        return 0 if a is None and b is None else None
    if is_number(a) and is_number(b):
        if (isinstance(a, float) and math.isnan(a)) or (isinstance(b, float) and math.isnan(b)):
            return None
        x, y = _num(a), _num(b)
        if isinstance(x, Decimal) != isinstance(y, Decimal):
            x, y = Decimal(str(x)) if not isinstance(x, Decimal) else x, \
                Decimal(str(y)) if not isinstance(y, Decimal) else y
        return (x > y) - (x < y)
    ka, kb = _kind(a), _kind(b)
    if ka != kb:
        return None
    if ka in (1, 3, 4, 5):
        if ka == 3:
            a, b = _aware(a), _aware(b)
        if ka == 5:
            a, b = str(a), str(b)
        return (a > b) - (a < b)
    # TinkerPop 3.8 GremlinValueComparator.COMPARABILITY: composites whose contents are
    # mutually comparable, elements by id, properties by key then value
    if ka in (10, 12):
        return _seq_compare(a.objects if ka == 10 else a, b.objects if ka == 10 else b)
    if ka == 11:
        return _seq_compare(sorted(a, key=ORDER_KEY), sorted(b, key=ORDER_KEY))
    if ka == 13:
        ia = sorted(a.items(), key=lambda kv: ORDER_KEY(kv[0]))
        ib = sorted(b.items(), key=lambda kv: ORDER_KEY(kv[0]))
        for (k1, v1), (k2, v2) in zip(ia, ib):
            ck, cv = compare(k1, k2), compare(v1, v2)
            if ck is None or cv is None:
                return None
            if ck or cv:
                return ck or cv
        return (len(ia) > len(ib)) - (len(ia) < len(ib))
    if ka in (6, 7, 8):
        return compare(_element_id(a), _element_id(b))
    if ka == 9:
        ck, cv = compare(a.key, b.key), compare(a.value, b.value)
        return None if ck is None or cv is None else (ck or cv)
    if type(a).__name__ == "MapEntry" and type(b).__name__ == "MapEntry":
        ck, cv = compare(a.key, b.key), compare(a.value, b.value)
        return None if ck is None or cv is None else (ck or cv)
    return None


def _seq_compare(a: Any, b: Any) -> int | None:
    """Lexicographic comparability: ERROR when a pair met on the way is not comparable."""
    result = 0
    for x, y in zip(a, b):
        c = compare(x, y)
        if c is None:
            return None
        if c and not result:
            result = c
    if result:
        return result
    return (len(a) > len(b)) - (len(a) < len(b))


def _aware(d: _dt.datetime) -> _dt.datetime:
    return d if d.tzinfo is not None else d.replace(tzinfo=_dt.timezone.utc)


def _kind(v: Any) -> int:
    if v is None:
        return 0
    if isinstance(v, bool):
        return 1
    if is_number(v):
        return 2
    if isinstance(v, _dt.datetime):
        return 3
    if isinstance(v, str):
        return 4
    if isinstance(v, uuid.UUID):
        return 5
    if isinstance(v, Vtx):
        return 6
    if isinstance(v, Edg):
        return 7
    if isinstance(v, VProp):
        return 8
    if isinstance(v, Prop):
        return 9
    if isinstance(v, PathValue):
        return 10
    if isinstance(v, (set, frozenset, KeySet)):
        return 11
    if isinstance(v, (list, tuple)):
        return 12
    if isinstance(v, dict):
        return 13
    return 14


# ---------------------------------------------------------------------------- orderability

def order_cmp(a: Any, b: Any) -> int:
    """Total order of any two values (Gremlin orderability)."""
    ka, kb = _kind(a), _kind(b)
    if ka != kb:
        return -1 if ka < kb else 1
    if ka == 0:
        return 0
    if ka == 2:
        na = isinstance(a, float) and math.isnan(a)
        nb = isinstance(b, float) and math.isnan(b)
        if na or nb:
            return 0 if na and nb else (1 if na else -1)
        return compare(a, b)
    if ka in (1, 3, 4, 5):
        return compare(a, b)
    if ka == 6:
        return order_cmp(_element_id(a), _element_id(b))
    if ka in (7, 8):
        return order_cmp(_element_id(a), _element_id(b))
    if ka == 9:
        c = order_cmp(a.key, b.key)
        return c if c else order_cmp(a.value, b.value)
    if ka == 10:
        return _seq_cmp(a.objects, b.objects)
    if ka == 12:
        return _seq_cmp(a, b)
    if ka == 11:
        return _seq_cmp(sorted(a, key=ORDER_KEY), sorted(b, key=ORDER_KEY))
    if ka == 13:
        ia = sorted(a.items(), key=lambda kv: ORDER_KEY(kv[0]))
        ib = sorted(b.items(), key=lambda kv: ORDER_KEY(kv[0]))
        for (k1, v1), (k2, v2) in zip(ia, ib):
            c = order_cmp(k1, k2) or order_cmp(v1, v2)
            if c:
                return c
        return (len(ia) > len(ib)) - (len(ia) < len(ib))
    sa, sb = str(a), str(b)
    return (sa > sb) - (sa < sb)


ELEMENT_ID: contextvars.ContextVar = contextvars.ContextVar("element_id", default=None)


def _element_id(e: Any) -> Any:
    """Elements order by their Gremlin ids, which only the running graph knows (the engine
    sets ``ELEMENT_ID`` for the duration of a traversal)."""
    fn = ELEMENT_ID.get()
    if fn is not None:
        return fn(e)
    return getattr(e, "gid", getattr(e, "eid", getattr(e, "id", None)))


def _seq_cmp(a: Any, b: Any) -> int:
    for x, y in zip(a, b):
        c = order_cmp(x, y)
        if c:
            return c
    return (len(a) > len(b)) - (len(a) < len(b))


ORDER_KEY = cmp_to_key(order_cmp)


# ---------------------------------------------------------------------------- predicates

def test_predicate(p: P, value: Any) -> bool | None:
    """Evaluate a P / TextP on a value: True, False or None (ERROR)."""
    op = p.operator
    if op == "and":
        a = test_predicate(p.value, value)
        if a is False:
            return False
        b = test_predicate(p.other, value)
        if b is False:
            return False
        return None if a is None or b is None else True
    if op == "or":
        a = test_predicate(p.value, value)
        if a is True:
            return True
        b = test_predicate(p.other, value)
        if b is True:
            return True
        return None if a is None or b is None else False
    if op == "not":
        r = test_predicate(p.value, value)
        return None if r is None else not r
    arg = p.value
    if op == "eq":
        return equals(value, arg)
    if op == "neq":
        return not equals(value, arg)
    if op in ("lt", "lte", "gt", "gte"):
        c = compare(value, arg)
        if c is None:
            return None
        return {"lt": c < 0, "lte": c <= 0, "gt": c > 0, "gte": c >= 0}[op]
    if op in ("between", "inside", "outside"):
        lo, hi = (arg, p.other) if p.other is not None else tuple(arg)
        c1, c2 = compare(value, lo), compare(value, hi)
        if c1 is None or c2 is None:
            return None
        if op == "between":
            return c1 >= 0 and c2 < 0
        if op == "inside":
            return c1 > 0 and c2 < 0
        return c1 < 0 or c2 > 0
    if op in ("within", "without"):
        items = _collection(arg, p.other)
        found = any(equals(value, x) for x in items)
        return found if op == "within" else not found
    if op in ("containing", "notContaining", "startingWith", "notStartingWith", "endingWith",
              "notEndingWith", "regex", "notRegex"):
        if not isinstance(value, str) or not isinstance(arg, str):
            return None
        if op in ("regex", "notRegex"):
            import re

            found = re.search(arg, value) is not None
            return found if op == "regex" else not found
        base = op[3].lower() + op[4:] if op.startswith("not") else op
        res = {"containing": arg in value, "startingWith": value.startswith(arg),
               "endingWith": value.endswith(arg)}[base]
        return not res if op.startswith("not") else res
    if op == "typeOf":
        from .gtypes import is_type
        return is_type(value, arg)
    raise QueryEvaluationError(f"unknown predicate {op!r}")


def _collection(arg: Any, other: Any) -> list:
    if other is not None:
        return [arg, other]
    if isinstance(arg, (list, tuple, set, frozenset)):
        return list(arg)
    return [arg]


def is_predicate(v: Any) -> bool:
    return isinstance(v, (P, TextP))


# ---------------------------------------------------------------------------- Java names / sets

class KeySet(list):
    """A map's key set (``select(keys)``): a Java ``Set`` kept in the map's order; equal to
    and typed as a set, and a set when it leaves the engine."""

    __slots__ = ()


class BulkList(list):
    """The collection ``aggregate()`` fills: TinkerPop's ``BulkSet`` (a set that counts
    duplicates; here a list, so order and multiplicity stay, that ``typeOf`` reads as a SET)."""

    __slots__ = ()


class TreeDict(dict):
    """A Gremlin ``Tree`` (a map of maps; ``typeOf(GType.TREE)`` knows it)."""

    __slots__ = ()


class FrozenDict(dict):
    """A map that can be a set member or a map key (its hash is its contents')."""

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(hash_key(self))


def freeze(v: Any) -> Any:
    """A hashable form of ``v`` that stays Gremlin-equal to it (lists become tuples, which the
    engine treats as lists; sets frozensets; maps :class:`FrozenDict`)."""
    if isinstance(v, list):
        return tuple(freeze(x) for x in v)
    if isinstance(v, tuple):
        return tuple(freeze(x) for x in v) if not all(_hashable(x) for x in v) else v
    if isinstance(v, set):
        return frozenset(freeze(x) for x in v)
    if isinstance(v, dict) and not isinstance(v, FrozenDict):
        return FrozenDict({freeze(k): x for k, x in v.items()})
    return v


def _hashable(v: Any) -> bool:
    try:
        hash(v)
    except TypeError:
        return False
    return True


def make_set(items: Any) -> set:
    """A Gremlin set of ``items``: deduplicated by Gremlin equality, members made hashable."""
    seen: dict = {}
    for x in items:
        seen.setdefault(hash_key(x), x)
    return {freeze(x) for x in seen.values()}


def java_type_name(v: Any) -> str:
    """The fully qualified Java class TinkerPop would report for a value."""
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "java.lang.Boolean"
    if isinstance(v, int):
        n = type(v).__name__
        if n == "SingleByte":
            return "java.lang.Byte"
        if n == "short":
            return "java.lang.Short"
        if n == "long":
            return "java.lang.Long"
        if n == "bigint":
            return "java.math.BigInteger"
        if -2 ** 31 <= v < 2 ** 31:
            return "java.lang.Integer"
        return "java.lang.Long" if -2 ** 63 <= v < 2 ** 63 else "java.math.BigInteger"
    if isinstance(v, float):
        return "java.lang.Float" if type(v).__name__ == "Float32" else "java.lang.Double"
    if isinstance(v, Decimal):
        return "java.math.BigDecimal"
    if isinstance(v, str):
        return "java.lang.String"
    if isinstance(v, (list, tuple)):
        return "java.util.ArrayList"
    if isinstance(v, dict):
        return "java.util.LinkedHashMap"
    if isinstance(v, (set, frozenset)):
        return "java.util.HashSet"
    if isinstance(v, _dt.datetime):
        return "java.time.OffsetDateTime"
    if isinstance(v, uuid.UUID):
        return "java.util.UUID"
    if isinstance(v, Vtx):
        return "org.apache.tinkerpop.gremlin.tinkergraph.structure.TinkerVertex"
    if isinstance(v, Edg):
        return "org.apache.tinkerpop.gremlin.tinkergraph.structure.TinkerEdge"
    if isinstance(v, VProp):
        return "org.apache.tinkerpop.gremlin.tinkergraph.structure.TinkerVertexProperty"
    if isinstance(v, Prop):
        return "org.apache.tinkerpop.gremlin.tinkergraph.structure.TinkerProperty"
    if isinstance(v, PathValue):
        return "org.apache.tinkerpop.gremlin.process.traversal.step.util.ImmutablePath"
    return type(v).__name__


def java_class(v: Any) -> str:
    """Java's ``getClass()`` string: ``class java.lang.Integer``."""
    return "null" if v is None else "class " + java_type_name(v)


def java_simple_name(v: Any) -> str:
    """Java's ``getClass().getSimpleName()``: ``Integer``, ``ArrayList``."""
    return "null" if v is None else java_type_name(v).rsplit(".", 1)[-1]


# ---------------------------------------------------------------------------- Java numbers
#
# TinkerPop's NumberHelper: an operation on two numbers runs in their highest common Java type
# (byte < short < int < long < BigInteger; float < double < BigDecimal; an integer with a
# floating point number gives the floating type of at least the integer's width) and, on
# overflow, is retried with more bits (int -> long, float -> double); long overflow raises,
# double overflow gives an infinity.

_NUM_BITS = {"byte": (8, False), "short": (16, False), "int": (32, False), "long": (64, False),
             "bigint": (128, False), "float": (32, True), "double": (64, True),
             "bigdecimal": (128, True)}
_INT_LIMITS = {"byte": 8, "short": 16, "int": 32, "long": 64}
JAVA_NUMBER_NAMES = {"byte": "Byte", "short": "Short", "int": "Integer", "long": "Long",
                     "bigint": "BigInteger", "float": "Float", "double": "Double",
                     "bigdecimal": "BigDecimal"}


def num_kind(v: Any) -> str:
    """The Java number type of a value: byte, short, int, long, bigint, float, double,
    bigdecimal (a plain Python int is an Integer when it fits, else a Long, else a BigInteger)."""
    if isinstance(v, float):
        return "float" if type(v).__name__ == "Float32" else "double"
    if isinstance(v, Decimal):
        return "bigdecimal"
    n = type(v).__name__
    if n == "SingleByte":
        return "byte"
    if n in ("short", "long", "bigint"):
        return n
    if -2 ** 31 <= v < 2 ** 31:
        return "int"
    return "long" if -2 ** 63 <= v < 2 ** 63 else "bigint"


def _kind_of(bits: int, fp: bool) -> str:
    if fp:
        return "float" if bits <= 32 else "double" if bits <= 64 else "bigdecimal"
    return ("byte" if bits <= 8 else "short" if bits <= 16 else "int" if bits <= 32
            else "long" if bits <= 64 else "bigint")


def common_kind(*nums: Any, force_fp: bool = False) -> str:
    bits, fp = 8, force_fp
    for x in nums:
        if x is None or (isinstance(x, float) and math.isnan(x)):
            continue
        b, f = _NUM_BITS[num_kind(x)]
        bits = max(bits, b)
        fp = fp or f
    return _kind_of(bits, fp)


def _float32(x: float) -> float:
    import numpy as np
    return float(np.float32(x))


def make_number(kind: str, v: Any) -> Any:
    """``v`` (an exact Python number of the right family) as the engine's value of ``kind``."""
    from gremlin_python.statics import SingleByte, bigint, long, short
    if kind == "int":
        return int(v)
    if kind == "double":
        return float(v)
    if kind == "float":
        from .parser import Float32
        return Float32(_float32(float(v)))
    if kind == "bigdecimal":
        return v if isinstance(v, Decimal) else Decimal(str(v)) if isinstance(v, float) else Decimal(v)
    return {"byte": SingleByte, "short": short, "long": long, "bigint": bigint}[kind](int(v))


def _to_decimal(v: Any) -> Decimal:
    if isinstance(v, Decimal):
        return v
    if isinstance(v, float):
        return Decimal(_float32_text(v) if type(v).__name__ == "Float32" else repr(v))
    return Decimal(int(v))


def _float32_text(v: float) -> str:
    """Java's Float.toString digits (the shortest that read back as the same float32)."""
    import numpy as np
    return str(np.float32(v))


def _to_int(v: Any) -> int:
    if isinstance(v, Decimal):
        return int(v)
    if isinstance(v, float):
        return int(v)
    return int(v)


def _int_div(a: int, b: int) -> int:
    if b == 0:
        raise QueryEvaluationError("/ by zero")
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b >= 0) else -q


def _apply(op: str, kind: str, a: Any, b: Any) -> Any:
    """One NumberHelper operation in ``kind``; raises OverflowError when it overflows."""
    if kind in _INT_LIMITS or kind == "bigint":
        x, y = _to_int(a), _to_int(b)
        r = {"add": lambda: x + y, "sub": lambda: x - y, "mul": lambda: x * y,
             "div": lambda: _int_div(x, y)}[op]()
        if kind != "bigint":
            lim = 2 ** (_INT_LIMITS[kind] - 1)
            if not -lim <= r < lim:
                raise OverflowError(kind)
        return make_number(kind, r)
    if kind == "bigdecimal":
        import decimal
        x, y = _to_decimal(a), _to_decimal(b)
        if op == "div":
            if y == 0:
                raise QueryEvaluationError("Division by zero")
            with decimal.localcontext() as c:
                c.prec = max(len(x.as_tuple().digits), len(y.as_tuple().digits)) + 10
                r = x / y
            return r
        return {"add": x + y, "sub": x - y, "mul": x * y}[op]
    x, y = float(a), float(b)
    if op == "div":
        if y == 0:
            r = math.nan if x == 0 or math.isnan(x) else math.copysign(math.inf, x) * math.copysign(1, y)
        else:
            r = x / y
    else:
        try:
            r = {"add": x + y, "sub": x - y, "mul": x * y}[op]
        except OverflowError:
            r = math.inf
    if kind == "float":
        r = _float32(r)
    if math.isinf(r) and not (math.isinf(x) or math.isinf(y)):
        raise OverflowError(kind)
    return make_number(kind, r)


def _promote(kind: str) -> str | None:
    return {"byte": "short", "short": "int", "int": "long", "float": "double"}.get(kind)


def num_op(op: str, a: Any, b: Any, force_fp: bool = False) -> Any:
    """NumberHelper.add / sub / mul / div: ``null`` operands give ``a``."""
    if a is None or b is None:
        return a
    kind = common_kind(a, b, force_fp=force_fp)
    while True:
        try:
            return _apply(op, kind, a, b)
        except OverflowError:
            nxt = _promote(kind)
            if nxt is None:
                if kind == "double":
                    return _apply_unchecked(op, a, b)
                raise QueryEvaluationError(f"{JAVA_NUMBER_NAMES[kind].lower()} overflow") from None
            kind = nxt


def _apply_unchecked(op: str, a: Any, b: Any) -> float:
    x, y = float(a), float(b)
    try:
        return {"add": x + y, "sub": x - y, "mul": x * y}[op] if op != "div" else x / y
    except OverflowError:
        return math.inf


def num_minmax(which: str, a: Any, b: Any) -> Any:
    """NumberHelper.min / max: nulls and NaNs lose; the result in the common type."""
    if a is None or b is None:
        return b if a is None else a
    na = isinstance(a, float) and math.isnan(a)
    nb = isinstance(b, float) and math.isnan(b)
    if na or nb:
        return b if na else a
    c = compare(a, b)
    pick = a if (c <= 0) == (which == "min") else b
    return cast_number(pick, common_kind(a, b))


def cast_number(v: Any, kind: str) -> Any:
    """NumberHelper.castTo: ``v`` as ``kind``, raising when it does not fit."""
    src = num_kind(v)
    if src == kind:
        return v
    target = JAVA_NUMBER_NAMES[kind]
    src_name = JAVA_NUMBER_NAMES[src]
    if kind in _INT_LIMITS:
        if isinstance(v, float):
            if math.isnan(v):
                raise QueryEvaluationError(f"Can't convert NaN to {target}.")
            if math.isinf(v):
                raise QueryEvaluationError(f"Can't convert floating point infinity to {target}.")
            if v >= 2 ** 63:
                raise QueryEvaluationError(f"Can't convert number of type {src_name} to {target}"
                                           " due to overflow.")
            if v < -2 ** 63:
                raise QueryEvaluationError(f"Can't convert number of type {src_name} to {target}"
                                           " due to underflow.")
        n = int(v)
        lim = 2 ** (_INT_LIMITS[kind] - 1)
        if not -lim <= n < lim:
            raise QueryEvaluationError(f"Can't convert number of type {src_name} to {target}"
                                       " due to overflow.")
        return make_number(kind, n)
    if kind in ("float", "double"):
        if isinstance(v, float) and (math.isnan(v) or math.isinf(v)):
            return make_number(kind, v)
        if kind == "double" and src == "float":
            return float(_float32_text(v))   # Java: through Float.toString
        try:
            f = float(v)
        except OverflowError:
            f = math.inf
        limit = 3.4028234663852886e38 if kind == "float" else math.inf
        if math.isinf(f) or abs(f) > limit:
            raise QueryEvaluationError(f"Can't convert number of type {src_name} to {target}"
                                       " due to overflow.")
        return make_number(kind, f)
    if kind == "bigint":
        if isinstance(v, float) and (math.isnan(v) or math.isinf(v)):
            raise QueryEvaluationError(f"Can't convert number of type {src_name} to {target}.")
        return make_number(kind, int(v))
    if isinstance(v, float) and (math.isnan(v) or math.isinf(v)):
        raise QueryEvaluationError(f"Can't convert number of type {src_name} to {target}.")
    return make_number(kind, _to_decimal(v))
