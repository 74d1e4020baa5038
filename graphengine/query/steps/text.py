"""TinkerPop 3.7/3.8 value steps: strings (asString, length, toLower, toUpper, trim, lTrim,
rTrim, reverse, replace, split, substring, concat, format), dates (asDate, dateAdd, dateDiff),
conversions (asNumber, asBool) and list operations (combine, difference, disjunct, intersect,
merge, product)."""

from __future__ import annotations

import datetime as dt
import functools
import math
import re
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from gremlin_python.process.traversal import DT, GType, Scope

from ...errors import QueryEvaluationError
from ..graph import Edg, Prop, VProp, Vtx
from ..traversal import NOTHING, Compiler, Step, Traversal, is_traversal, scope_value
from ..values import (
    PathValue,
    cast_number,
    hash_key,
    is_number,
    java_class,
    java_simple_name,
    java_type_name,
    make_number,
    make_set,
)
from . import register
from .graph import element_id, properties_of, values_of
from .mutation import START


def gremlin_str(v: Any, ctx=None) -> str:
    """Java's String.valueOf for the values Gremlin knows."""
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return java_float_str(v)
    if isinstance(v, Vtx) and ctx is not None:
        return f"v[{ctx.graph.vertex_id(v.gid)}]"
    if isinstance(v, Edg) and ctx is not None:
        g = ctx.graph
        o, i = g.edge_ends(v.eid)
        return f"e[{g.edge_id(v.eid)}][{g.vertex_id(o)}-{g.edge_label(v.eid)}->{g.vertex_id(i)}]"
    if isinstance(v, VProp):
        return f"vp[{v.key}->{gremlin_str(v.value, ctx)}]"
    if isinstance(v, Prop):
        return f"p[{v.key}->{gremlin_str(v.value, ctx)}]"
    if isinstance(v, PathValue):
        return "path[" + ", ".join(gremlin_str(x, ctx) for x in v.objects) + "]"
    if isinstance(v, (list, tuple, set, frozenset)):
        return "[" + ", ".join(gremlin_str(x, ctx) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{gremlin_str(k, ctx)}={gremlin_str(x, ctx)}" for k, x in v.items()) + "}"
    if isinstance(v, dt.datetime):
        return java_datetime_str(v)
    return str(v)


def java_float_str(v: float) -> str:
    """Java's Double.toString / Float.toString: the shortest digits that read back, in
    scientific notation (``1.0E10``) outside [1e-3, 1e7)."""
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "Infinity" if v > 0 else "-Infinity"
    if type(v).__name__ == "Float32":
        import numpy as np
        text = str(np.float32(v))
    else:
        text = float.__repr__(v)
    if v == 0:
        return "-0.0" if math.copysign(1, v) < 0 else "0.0"
    if 1e-3 <= abs(v) < 1e7:
        d = Decimal(text)
        out = format(d, "f")
        return out if "." in out else out + ".0"
    sign, digits, exp = Decimal(text).normalize().as_tuple()
    e10 = exp + len(digits) - 1
    rest = "".join(map(str, digits[1:])) or "0"
    return f"{'-' if sign else ''}{digits[0]}.{rest}E{e10}"


def java_datetime_str(d: dt.datetime) -> str:
    """Java's OffsetDateTime.toString: seconds only when not zero, fractions in groups of 3
    digits, ``Z`` for UTC."""
    text = f"{d.year:04d}-{d.month:02d}-{d.day:02d}T{d.hour:02d}:{d.minute:02d}"
    if d.second or d.microsecond:
        text += f":{d.second:02d}"
        if d.microsecond:
            text += f".{d.microsecond // 1000:03d}" if d.microsecond % 1000 == 0 \
                else f".{d.microsecond:06d}"
    off = d.utcoffset()
    if off is None or not off:
        return text + "Z"
    total = int(off.total_seconds())
    sign = "+" if total >= 0 else "-"
    total = abs(total)
    return text + f"{sign}{total // 3600:02d}:{total % 3600 // 60:02d}"


class ScopedMapStep(Step):
    """A step mapping each value (or, with Scope.local, each element of a list).

    ``strict_string``: a string step (TinkerPop's StringLocalStep / *GlobalStep): globally it
    takes a string (null passes), locally a string or a list of strings (nulls kept)."""

    def __init__(self, name: str, fn: Callable[[Any, Any, Any], Any], args: list, local_ok=True,
                 strict_string=True):
        self.name = name
        self.fn = fn
        self.local = bool(args) and isinstance(args[0], Scope) and args[0] == Scope.local
        if args and isinstance(args[0], Scope):
            args = args[1:]
        self.args = args
        self.strict = strict_string

    def _one(self, ctx, v):
        return self.fn(self, ctx, v)

    def process(self, ctx, ts):
        for t in ts:
            obj = t.obj
            if self.local and isinstance(obj, (list, tuple, set, frozenset, PathValue)):
                seq = obj.objects if isinstance(obj, PathValue) else list(obj)
                if self.strict:
                    for x in seq:
                        if x is not None and not isinstance(x, str):
                            raise QueryEvaluationError(
                                f"The {self.name}(local) step can only take string or list of"
                                f" strings, encountered {java_class(x)} in list")
                yield t.split([self._one(ctx, x) for x in seq])
                continue
            if self.local and self.strict and obj is not None and not isinstance(obj, str):
                raise QueryEvaluationError(
                    f"The {self.name}(local) step can only take string or list of strings,"
                    f" encountered {java_class(obj)}")
            v = self._one(ctx, obj)
            if v is not NOTHING:
                yield t.split(v)


def _need_str(step, v):
    if not isinstance(v, str):
        raise QueryEvaluationError(f"The {step.name}() step can only take string as argument,"
                                   f" encountered {java_class(v)}")


def _string_fn(op: Callable[[str], Any]):
    def fn(step, ctx, v):
        if v is None:
            return None
        _need_str(step, v)
        return op(v)
    return fn


def _as_string(step, ctx, v):
    if v is None:
        raise QueryEvaluationError("Can't parse null as String.")
    return gremlin_str(v, ctx)


def _simple_step(name, fn, c, args):
    return ScopedMapStep(name, fn, args)


_SIMPLE = {
    "length": _string_fn(len),
    "toLower": _string_fn(str.lower),
    "toUpper": _string_fn(str.upper),
    "trim": _string_fn(str.strip),
    "lTrim": _string_fn(str.lstrip),
    "rTrim": _string_fn(str.rstrip),
}

for _n, _f in _SIMPLE.items():
    register(_n)(functools.partial(_simple_step, _n, _f))

register("asString")(lambda c, args: ScopedMapStep("asString", _as_string, args,
                                                   strict_string=False))


def _reverse(step, ctx, v):
    if isinstance(v, str):
        return v[::-1]
    if isinstance(v, PathValue):
        return list(reversed(v.objects))
    if isinstance(v, (list, tuple, set, frozenset)):
        return list(reversed(list(v)))
    return v


register("reverse")(lambda c, args: ScopedMapStep("reverse", _reverse, args,
                                                 strict_string=False))


def _replace(step, ctx, v):
    if v is None:
        return None
    _need_str(step, v)
    old, new = step.args
    if old is None:
        return v
    return v.replace(old, "" if new is None else new)


register("replace")(lambda c, args: ScopedMapStep("replace", _replace, args))


def _split(step, ctx, v):
    if v is None:
        return None
    _need_str(step, v)
    sep = step.args[0] if step.args else None
    if sep is None:
        return v.split()
    if sep == "":
        return list(v)
    return v.split(sep)


register("split")(lambda c, args: ScopedMapStep("split", _split, args))


def _substring(step, ctx, v):
    if v is None:
        return None
    _need_str(step, v)
    start = step.args[0]
    end = step.args[1] if len(step.args) > 1 else None
    n = len(v)
    s = start if start >= 0 else max(0, n + start)
    if end is None:
        return v[s:]
    e = end if end >= 0 else n + end
    if e <= s:
        return ""
    return v[s:e]


register("substring")(lambda c, args: ScopedMapStep("substring", _substring, args))


class ConcatStep(Step):
    name = "concat"

    def __init__(self, c: Compiler, args: list):
        self.parts: list[Any] = []
        for a in args:
            self.parts.append(c.child(a) if is_traversal(a) else a)

    def process(self, ctx, ts):
        for t in ts:
            obj = t.obj
            if obj is not None and not isinstance(obj, str):
                raise QueryEvaluationError("String concat() can only take string as argument,"
                                           f" encountered {java_class(obj)}")
            out = obj if obj is not None else ""
            for p in self.parts:
                if isinstance(p, Traversal):
                    v = p.first(ctx, t)
                    if v is NOTHING or v is None:
                        continue
                    if not isinstance(v, str):
                        raise QueryEvaluationError(f"class {java_type_name(v)} cannot be cast to"
                                                   " class java.lang.String")
                    out += v
                elif p is not None:
                    out += p
            if obj is None and all(p is None for p in self.parts if not isinstance(p, Traversal)) \
                    and not any(isinstance(p, Traversal) for p in self.parts):
                yield t.split(None)
                continue
            yield t.split(out)


register("concat")(ConcatStep)


_FORMAT = re.compile(r"%\{(.*?)\}")


class FormatStep(Step):
    name = "format"

    def __init__(self, c, args):
        if len(args) != 1 or not isinstance(args[0], str):
            raise QueryEvaluationError("format() takes a format string")
        self.fmt = args[0]
        self.bys = []

    def modulate(self, c, name, args, before=False):
        if name != "by":
            return super().modulate(c, name, args)
        from ..traversal import make_by
        self.bys.append(make_by(c, args))

    def _value(self, ctx, t, name: str, pos: list) -> Any:
        if name == "_" and self.bys:
            v = self.bys[pos[0] % len(self.bys)].value(ctx, t)
            pos[0] += 1
            return v
        if isinstance(t.obj, (Vtx, Edg, VProp)) and values_of(ctx, t.obj, (name,)):
            return values_of(ctx, t.obj, (name,))[0]
        if isinstance(t.obj, dict) and name in t.obj:
            return t.obj[name]
        return scope_value(ctx, t, name)

    def process(self, ctx, ts):
        for t in ts:
            pos = [0]
            parts = []
            last = 0
            ok = True
            for m in _FORMAT.finditer(self.fmt):
                v = self._value(ctx, t, m.group(1), pos)
                if v is NOTHING:
                    ok = False
                    break
                parts.append(self.fmt[last:m.start()])
                parts.append(gremlin_str(v, ctx))
                last = m.end()
            if ok:
                parts.append(self.fmt[last:])
                yield t.split("".join(parts))


register("format")(FormatStep)


# ---------------------------------------------------------------------------- dates


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


def parse_date(v: Any) -> dt.datetime:
    """asDate(): an OffsetDateTime from a date, an ISO-8601 string or integral epoch millis."""
    if v is None:
        raise QueryEvaluationError("Can't parse null as OffsetDateTime.")
    if isinstance(v, dt.datetime):
        return v if v.tzinfo else v.replace(tzinfo=dt.timezone.utc)
    if isinstance(v, str):
        s = v.strip()
        if s.endswith(("Z", "z")):
            s = s[:-1] + "+00:00"
        try:
            d = dt.datetime.fromisoformat(s)
        except ValueError as e:
            raise QueryEvaluationError(f"Can't parse {v} as OffsetDateTime.") from e
        return d if d.tzinfo else d.replace(tzinfo=dt.timezone.utc)
    if is_number(v) and not isinstance(v, (float, Decimal)) and not isinstance(v, bool):
        if not -2 ** 63 <= v < 2 ** 63:
            raise QueryEvaluationError(f"Can't parse {v} as OffsetDateTime.")
        try:
            return _EPOCH + dt.timedelta(milliseconds=int(v))
        except OverflowError as e:
            raise QueryEvaluationError(f"Can't parse {v} as OffsetDateTime.") from e
    raise QueryEvaluationError(f"Can't parse {java_type_name(v)} as OffsetDateTime.")


def _as_date(step, ctx, v):
    return parse_date(v)


register("asDate")(lambda c, args: ScopedMapStep("asDate", _as_date, args, strict_string=False))


def epoch_millis(d: dt.datetime) -> int:
    d = d if d.tzinfo else d.replace(tzinfo=dt.timezone.utc)
    delta = d - _EPOCH
    return (delta.days * 86400 + delta.seconds) * 1000 + delta.microseconds // 1000


class DateAddStep(Step):
    name = "dateAdd"

    def __init__(self, c, args):
        if len(args) != 2 or not isinstance(args[0], DT):
            raise QueryEvaluationError("dateAdd() takes a DT unit and an amount")
        self.unit, self.n = args

    def process(self, ctx, ts):
        unit = self.unit.name.rstrip("_")
        for t in ts:
            if not isinstance(t.obj, dt.datetime):
                raise QueryEvaluationError("dateAdd() accept only OffsetDateTime or Date"
                                           " (deprecated).")
            delta = {"second": dt.timedelta(seconds=self.n), "minute": dt.timedelta(minutes=self.n),
                     "hour": dt.timedelta(hours=self.n), "day": dt.timedelta(days=self.n)}[unit]
            yield t.split(t.obj + delta)


register("dateAdd")(DateAddStep)


class DateDiffStep(Step):
    """dateDiff(date | traversal): milliseconds from the argument to the incoming date (a null
    argument counts as the epoch)."""

    name = "dateDiff"

    def __init__(self, c, args):
        if len(args) != 1:
            raise QueryEvaluationError("dateDiff() takes a date or a traversal")
        self.arg = c.child(args[0]) if is_traversal(args[0]) else args[0]

    def process(self, ctx, ts):
        from gremlin_python.statics import long
        for t in ts:
            if not isinstance(t.obj, dt.datetime):
                raise QueryEvaluationError(
                    "DateDiff can only take OffsetDateTime or Date (deprecated) as argument,"
                    f" encountered {java_class(t.obj)}")
            other = self.arg.first(ctx, t) if isinstance(self.arg, Traversal) else self.arg
            if other is NOTHING:
                raise QueryEvaluationError("The provided traverser does not map to a value")
            if other is not None and not isinstance(other, dt.datetime):
                raise QueryEvaluationError(
                    "DateDiff can only take OffsetDateTime or Date (deprecated) as argument,"
                    f" encountered {java_class(other)}")
            ms = epoch_millis(t.obj) - (0 if other is None else epoch_millis(other))
            yield t.split(long(ms))


register("dateDiff")(DateDiffStep)


# ---------------------------------------------------------------------------- conversions

_HEX = re.compile(r"([+-])?(?:0[xX]|#)([0-9a-fA-F]+)")
_JAVA_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?[fFdDlL]?")
_GTYPE_KINDS = {"BYTE": "byte", "SHORT": "short", "INT": "int", "LONG": "long", "BIGINT": "bigint",
                "FLOAT": "float", "DOUBLE": "double", "BIGDECIMAL": "bigdecimal"}


def parse_java_number(text: str) -> Any:
    """Apache commons NumberUtils.createNumber, as asNumber() uses it: hex (Integer, Long or
    BigInteger by digit count), integers (Integer, Long, BigInteger by size), decimals (Float
    when 7 or fewer fraction digits fit, Double up to 16, else BigDecimal), l/f/d suffixes."""
    s = text.strip()
    m = _HEX.fullmatch(s)
    if m:
        n = int(m.group(2), 16) * (-1 if m.group(1) == "-" else 1)
        digits = len(m.group(2).lstrip("0"))
        return make_number("bigint" if digits > 16 else "long" if digits > 8 else "int", n)
    if not s or not _JAVA_NUMBER.fullmatch(s):
        raise QueryEvaluationError(f"Can't parse string '{text}' as number.")
    suffix = s[-1].lower() if s[-1].isalpha() and s[-1].lower() in "fdl" else ""
    body = s[:-1] if suffix else s
    if suffix == "l":
        if "." in body or "e" in body.lower():
            raise QueryEvaluationError(f"Can't parse string '{text}' as number.")
        n = int(body)
        return make_number("long" if -2 ** 63 <= n < 2 ** 63 else "bigint", n)
    if suffix == "f":
        return make_number("float", float(body))
    if suffix == "d":
        return float(body)
    if "." not in body and "e" not in body.lower():
        n = int(body)
        if -2 ** 31 <= n < 2 ** 31:
            return n
        return make_number("long" if -2 ** 63 <= n < 2 ** 63 else "bigint", n)
    mant = body.lower().split("e")[0]
    frac = mant.split(".")[1] if "." in mant else ""
    value = float(body)
    all_zeros = not any(ch in "123456789" for ch in mant)
    if len(frac) <= 7:
        f32 = make_number("float", value)
        if not (math.isinf(f32) or (f32 == 0 and not all_zeros)):
            return f32
    if len(frac) <= 16 and not (math.isinf(value) or (value == 0 and not all_zeros)):
        return value
    return Decimal(body)


def _as_number(step, ctx, v):
    if v is None:
        return None
    if isinstance(v, str):
        n = parse_java_number(v)
    elif is_number(v):
        n = v
    elif isinstance(v, dt.datetime):
        n = make_number("long", epoch_millis(v))
    else:
        raise QueryEvaluationError(f"Can't parse type {java_simple_name(v)} as number.")
    kind = step.kind
    if kind == "number":
        # NumberHelper.castTo(Number.class) has no conversion to the abstract type
        raise QueryEvaluationError("Unsupported numeric type: class java.lang.Number")
    return n if kind is None else cast_number(n, kind)


def _as_number_step(c, args):
    args = list(args)
    step = ScopedMapStep("asNumber", _as_number, args, strict_string=False)
    typ = step.args[0] if step.args else None
    step.kind = None
    if typ is not None:
        name = typ.name if isinstance(typ, GType) else str(typ)
        if name.upper() == "NUMBER":
            step.kind = "number"
            return step
        if name.upper() not in _GTYPE_KINDS:
            raise QueryEvaluationError(f"asNumber() requires a numeric type token, got {name}")
        step.kind = _GTYPE_KINDS[name.upper()]
    return step


register("asNumber")(_as_number_step)


def _as_bool(step, ctx, v):
    if v is None:
        raise QueryEvaluationError("Can't parse null as Boolean.")
    if isinstance(v, bool):
        return v
    if is_number(v):
        if isinstance(v, float) and math.isnan(v):
            return False
        return v != 0
    if isinstance(v, str):
        if v.strip().lower() == "true":
            return True
        if v.strip().lower() == "false":
            return False
        raise QueryEvaluationError(f"Can't parse {v} as Boolean.")
    raise QueryEvaluationError(f"Can't parse {java_type_name(v)} as Boolean.")


register("asBool")(lambda c, args: ScopedMapStep("asBool", _as_bool, args, strict_string=False))


# ---------------------------------------------------------------------------- list operations


def _list_op_step(name, c, args):
    return ListOpStep(c, name, args)


class ListOpStep(Step):
    """combine / difference / disjunct / intersect / merge / product (TinkerPop's ListFunction
    argument checks and messages)."""

    def __init__(self, c, name, args):
        self.name = name
        if len(args) != 1:
            raise QueryEvaluationError(f"{name}() takes one list or traversal")
        self.arg = c.child(args[0]) if is_traversal(args[0]) else args[0]

    @staticmethod
    def _collection(v):
        if isinstance(v, PathValue):
            return list(v.objects)
        if isinstance(v, (list, tuple, set, frozenset)):
            return list(v)
        return None

    def _incoming(self, v):
        if v is None:
            raise QueryEvaluationError(f"Incoming traverser for {self.name} step can't be null.")
        seq = self._collection(v)
        if seq is None:
            raise QueryEvaluationError(
                f"{self.name} step can only take an array or an Iterable type for incoming"
                f" traversers, encountered {java_class(v)}")
        return seq

    def _argument(self, ctx, t):
        if isinstance(self.arg, Traversal):
            other = self.arg.first(ctx, t)
            if other is NOTHING:
                raise QueryEvaluationError("The provided traverser does not map to a value:"
                                           f" {self.name} step traversal argument")
            if other is None:
                raise QueryEvaluationError(f"Provided traversal argument for {self.name} step"
                                           " must yield an iterable type, not null")
            seq = self._collection(other)
            if seq is None:
                raise QueryEvaluationError(
                    f"Provided traversal argument for {self.name} step must yield an iterable"
                    f" type, encountered {java_class(other)}")
            return seq
        other = self.arg
        if other is None:
            raise QueryEvaluationError(f"Argument provided for {self.name} step can't be null.")
        seq = self._collection(other)
        if seq is None:
            raise QueryEvaluationError(
                f"{self.name} step can only take an array or an Iterable as an argument,"
                f" encountered {java_class(other)}")
        return seq

    def process(self, ctx, ts):
        for t in ts:
            if self.name == "merge" and isinstance(t.obj, dict):
                other = self.arg.first(ctx, t) if isinstance(self.arg, Traversal) else self.arg
                if not isinstance(other, dict):
                    raise QueryEvaluationError(
                        "merge step expected provided argument to evaluate to a Map,"
                        f" encountered {java_class(None if other is NOTHING else other)}")
                yield t.split({**t.obj, **other})
                continue
            a = self._incoming(t.obj)
            if self.name == "merge" and isinstance(self.arg, dict):
                raise QueryEvaluationError("merge step type mismatch: expected argument to be"
                                           " Iterable but got Map")
            b = self._argument(ctx, t)
            yield t.split(self._op(a, b))

    def _op(self, a, b):
        n = self.name
        if n == "combine":
            return list(a) + list(b)
        if n == "product":
            return [[x, y] for x in a for y in b]
        ka = {hash_key(x): x for x in a}
        kb = {hash_key(x): x for x in b}
        if n == "difference":
            out = [ka[k] for k in ka if k not in kb]
        elif n == "disjunct":
            out = [ka[k] for k in ka if k not in kb] + [kb[k] for k in kb if k not in ka]
        elif n == "intersect":
            out = [ka[k] for k in ka if k in kb]
        elif n == "merge":
            merged = dict(ka)
            merged.update({k: v for k, v in kb.items() if k not in merged})
            out = list(merged.values())
        else:
            raise QueryEvaluationError(f"unknown list operation {n}")
        return make_set(out)


for _n in ("combine", "difference", "disjunct", "intersect", "merge", "product"):
    register(_n)(functools.partial(_list_op_step, _n))


__all__ = ["element_id", "gremlin_str", "parse_date", "uuid"]


def _conjoin(step, ctx, v):
    if v is None:
        raise QueryEvaluationError("Incoming traverser for conjoin step can't be null.")
    if not isinstance(v, (list, tuple, set, frozenset, PathValue)):
        raise QueryEvaluationError("conjoin step can only take an array or an Iterable type for"
                                   f" incoming traversers, encountered {java_class(v)}")
    seq = v.objects if isinstance(v, PathValue) else list(v)
    if not seq:
        return ""
    sep = step.args[0] if step.args else ""
    if sep is None:
        raise QueryEvaluationError("Input delimiter to conjoin step can't be null.")
    parts = [gremlin_str(x, ctx) for x in seq if x is not None]
    if not parts:
        return None
    return sep.join(parts)


class ConjoinStep(ScopedMapStep):
    def process(self, ctx, ts):
        for t in ts:
            v = _conjoin(self, ctx, t.obj)
            if v is not NOTHING:
                yield t.split(v)


register("conjoin")(lambda c, args: ConjoinStep("conjoin", _conjoin, args))


# ---------------------------------------------------------------------------- call()

_SERVICES = ("tinker.search", "tinker.degree.centrality")


class CallStep(Step):
    """call(service[, params map][, params traversal]) with with(key, value|traversal): the
    services TinkerGraph registers: ``--list`` (the service names), ``tinker.search`` (a start
    service: the properties of vertices, edges and vertex properties whose value matches
    ``regex`` or contains ``search``, optionally of elements of ``type``) and
    ``tinker.degree.centrality`` (mid-traversal: the number of edges of each vertex in
    ``direction``, IN by default)."""

    name = "call"

    def __init__(self, c, args):
        args = list(args)
        self.service = args.pop(0) if args else "--list"
        self.static: dict = {}
        self.map_trav = None
        self.dynamic: list[tuple[Any, Any]] = []
        for a in args:
            if isinstance(a, dict):
                self.static.update(a)
            elif is_traversal(a):
                self.map_trav = c.child(a)
            else:
                raise QueryEvaluationError(f"call() takes a params map or traversal, got {a!r}")
        if self.service != "--list" and self.service not in _SERVICES:
            raise QueryEvaluationError(f"The service {self.service} is not registered")

    def modulate(self, c, name, args, before=False):
        if name != "with" or len(args) != 2:
            return super().modulate(c, name, args)
        key, value = args
        self.dynamic.append((key, c.child(value) if is_traversal(value) else value))

    def _params(self, ctx, t) -> dict:
        params = dict(self.static)
        if self.map_trav is not None:
            m = self.map_trav.first(ctx, t)
            if isinstance(m, dict):
                params.update(m)
        for k, v in self.dynamic:
            if isinstance(v, Traversal):
                v = v.first(ctx, t)
                if v is NOTHING:
                    continue
            params[k] = v
        return params

    def process(self, ctx, ts):
        for t in ts:
            start = t.obj is START
            params = self._params(ctx, t)
            if self.service == "--list":
                name = params.get("service")
                names = [n for n in _SERVICES if name is None or n == name]
                for n in names:
                    yield ctx.new_traverser(n) if start else t.split(n)
            elif self.service == "tinker.search":
                if not start:
                    raise QueryEvaluationError("This service cannot be used mid-traversal:"
                                               " tinker.search")
                for p in self._search(ctx, params):
                    yield ctx.new_traverser(p)
            else:
                if start:
                    raise QueryEvaluationError("This service cannot be used to start a"
                                               " traversal: tinker.degree.centrality")
                if not isinstance(t.obj, Vtx):
                    raise QueryEvaluationError("tinker.degree.centrality takes vertices")
                d = params.get("direction", "IN")
                d = getattr(d, "name", str(d)).lower().rstrip("_")
                dirs = ("out", "in") if d == "both" else (d,)
                from gremlin_python.statics import long
                n = sum(len(ctx.graph.adjacent(t.obj.gid, x)) for x in dirs)
                yield t.split(long(n))

    def _search(self, ctx, params):
        if "regex" in params:
            pattern = re.compile(str(params["regex"]))
        elif "search" in params:
            pattern = re.compile(".*(" + str(params["search"]) + ").*")
        else:
            raise QueryEvaluationError("Missing search/regex parameter")
        typ = params.get("type")
        if typ not in (None, "Vertex", "Edge", "VertexProperty"):
            raise QueryEvaluationError(f"Type must be one of Vertex/Edge/VertexProperty: {typ}")
        g = ctx.graph
        vertices = [Vtx(gid) for gid in g.vertices()]
        elements: list = []
        if typ in (None, "Vertex"):
            elements += vertices
        if typ in (None, "Edge"):
            elements += [Edg(eid) for eid in g.edges()]
        if typ in (None, "VertexProperty"):
            elements += [vp for v in vertices for vp in properties_of(ctx, v)]
        for e in elements:
            for p in properties_of(ctx, e):
                if pattern.fullmatch(gremlin_str(p.value, ctx)):
                    yield p


register("call")(CallStep)
