"""``P.typeOf(GType)``: which Gremlin type a value has."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from ..errors import QueryEvaluationError
from .graph import Edg, Prop, VProp, Vtx
from .values import BulkList, KeySet, TreeDict, is_number, num_kind

_NUMERIC = {"BYTE": "byte", "SHORT": "short", "INT": "int", "LONG": "long", "BIGINT": "bigint",
            "FLOAT": "float", "DOUBLE": "double", "BIGDECIMAL": "bigdecimal"}
_REGISTERED = {"BigDecimal": "BIGDECIMAL", "BigInteger": "BIGINT", "ByteBuffer": "BINARY",
               "Boolean": "BOOLEAN", "Byte": "BYTE", "Character": "CHAR",
               "OffsetDateTime": "DATETIME", "Double": "DOUBLE", "Duration": "DURATION",
               "Edge": "EDGE", "Float": "FLOAT", "Graph": "GRAPH", "Integer": "INT",
               "List": "LIST", "Long": "LONG", "Map": "MAP", "Number": "NUMBER", "Path": "PATH",
               "Property": "PROPERTY", "Set": "SET", "Short": "SHORT", "String": "STRING",
               "Tree": "TREE", "UUID": "UUID", "Vertex": "VERTEX",
               "VertexProperty": "VPROPERTY"}


def is_type(value: Any, gtype: Any) -> bool:
    """True when ``value`` is of the Gremlin type ``gtype`` (a GType member or its name)."""
    from .values import PathValue

    if isinstance(gtype, str):
        # P.typeOf("Integer"): the simple Java class names of the GTypes (GlobalTypeCache)
        if gtype not in _REGISTERED:
            raise QueryEvaluationError(f"{gtype} is not a registered type")
        name = _REGISTERED[gtype]
    else:
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
    if name in _NUMERIC:
        return is_number(value) and num_kind(value) == _NUMERIC[name]
    checks = {
        "STRING": lambda v: isinstance(v, str),
        "CHAR": lambda v: isinstance(v, str) and len(v) == 1,
        "UUID": lambda v: isinstance(v, uuid.UUID),
        "DATETIME": lambda v: isinstance(v, dt.datetime),
        "LIST": lambda v: isinstance(v, (list, tuple)) and not isinstance(v, (BulkList, KeySet)),
        "SET": lambda v: isinstance(v, (set, frozenset, BulkList, KeySet)),
        "MAP": lambda v: isinstance(v, dict),
        "VERTEX": lambda v: isinstance(v, Vtx),
        "EDGE": lambda v: isinstance(v, Edg),
        "VPROPERTY": lambda v: isinstance(v, VProp),
        "PROPERTY": lambda v: isinstance(v, (Prop, VProp)),
        "PATH": lambda v: isinstance(v, PathValue),
        "BINARY": lambda v: isinstance(v, (bytes, bytearray)),
        "DURATION": lambda v: isinstance(v, dt.timedelta),
        "GRAPH": lambda v: type(v).__name__ == "SubgraphValue",
        "TREE": lambda v: isinstance(v, TreeDict),
    }
    fn = checks.get(name)
    return bool(fn and fn(value))
