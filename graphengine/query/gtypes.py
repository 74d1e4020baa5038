"""``P.typeOf(GType)``: which Gremlin type a value has."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from gremlin_python.statics import SingleByte, bigint, long, short

from .graph import Edg, Prop, VProp, Vtx


def is_type(value: Any, gtype: Any) -> bool:
    """True when ``value`` is of the Gremlin type ``gtype`` (a GType member or its name)."""
    from .values import PathValue

    name = getattr(gtype, "name", str(gtype)).upper()
    if name == "NULL":
        return value is None
    if value is None:
        return False
    if name == "NUMBER":
        return isinstance(value, (int, float, Decimal)) and not isinstance(value, bool)
    if name == "BOOLEAN":
        return isinstance(value, bool)
    if isinstance(value, bool):
        return False
    checks = {
        "BYTE": lambda v: isinstance(v, SingleByte),
        "SHORT": lambda v: isinstance(v, short),
        "INT": lambda v: type(v) is int and -2 ** 31 <= v < 2 ** 31,
        "LONG": lambda v: isinstance(v, long) or (type(v) is int and not -2 ** 31 <= v < 2 ** 31),
        "BIGINT": lambda v: isinstance(v, bigint),
        "FLOAT": lambda v: type(v).__name__ == "Float32",
        "DOUBLE": lambda v: isinstance(v, float) and type(v).__name__ != "Float32",
        "BIGDECIMAL": lambda v: isinstance(v, Decimal),
        "STRING": lambda v: isinstance(v, str),
        "CHAR": lambda v: isinstance(v, str) and len(v) == 1,
        "UUID": lambda v: isinstance(v, uuid.UUID),
        "DATETIME": lambda v: isinstance(v, dt.datetime),
        "LIST": lambda v: isinstance(v, (list, tuple)),
        "SET": lambda v: isinstance(v, (set, frozenset)),
        "MAP": lambda v: isinstance(v, dict),
        "VERTEX": lambda v: isinstance(v, Vtx),
        "EDGE": lambda v: isinstance(v, Edg),
        "VPROPERTY": lambda v: isinstance(v, VProp),
        "PROPERTY": lambda v: isinstance(v, (Prop, VProp)),
        "PATH": lambda v: isinstance(v, PathValue),
        "BINARY": lambda v: isinstance(v, (bytes, bytearray)),
        "DURATION": lambda v: isinstance(v, dt.timedelta),
        "GRAPH": lambda v: type(v).__name__ == "SubgraphValue",
    }
    fn = checks.get(name)
    return bool(fn and fn(value))
