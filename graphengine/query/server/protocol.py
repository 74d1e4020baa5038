"""The TinkerPop 3.x driver protocol's message envelopes, seen from the server's side.

gremlinpython's ``driver/serializer.py`` writes requests and reads responses; a server does the
reverse: it reads request messages and writes response messages. The value serialization is
gremlinpython's own (``GraphBinaryReader``/``GraphBinaryWriter`` of ``graphbinaryV1`` and
``GraphSONReader``/``GraphSONWriter`` of ``graphsonV3d0``), extended here with the types a
client sends but gremlinpython cannot read back (``P``, ``TextP``, traversal strategies,
classes, lambdas, ``Bytecode`` in GraphSON) and with the engine's number types on the way out
(a Python ``int`` is an Integer when it fits, else a Long, else a BigInteger; ``Float32`` is a
Float; ``Decimal`` a BigDecimal), so numbers keep their Java type through the wire.

Wire formats (TinkerPop's "Gremlin Server" documentation, protocol of 3.x):

- a request in a binary frame starts with one byte, the length of the mime type, then the mime
  type and then the message serialized in that format; a text frame holds a GraphSON message;
- a GraphBinary 1.0 request: version byte ``0x81``, request id (16 bytes), op and processor
  (int32-prefixed UTF-8 strings), the number of args and each ``(key, value)`` fully qualified;
- a GraphBinary 1.0 response: version byte ``0x81``, nullable request id, status code (int32),
  nullable status message, status attributes and result meta (maps, not nullable), then the
  result data fully qualified;
- GraphSON 3.0 messages are JSON objects ``{requestId, op, processor, args}`` and
  ``{requestId, status: {code, message, attributes}, result: {data, meta}}``.

Nothing here evaluates anything: lambdas are read as :class:`Lambda` markers that the server
rejects (status 597) before a traversal runs.
"""

from __future__ import annotations

import datetime as _dt
import io
import json
import math
import struct
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from gremlin_python.process.traversal import (
    DT,
    Barrier,
    Binding,
    Bytecode,
    Cardinality,
    CardinalityValue,
    Column,
    Direction,
    GType,
    Merge,
    Operator,
    Order,
    P,
    Pick,
    Pop,
    Scope,
    T,
    TextP,
    TraversalStrategy,
    Traverser,
)
from gremlin_python.statics import BigDecimal, GremlinType, SingleChar, bigint, long
from gremlin_python.structure.graph import Edge, Path, Vertex, VertexProperty
from gremlin_python.structure.io import graphbinaryV1 as gb
from gremlin_python.structure.io import graphsonV3d0 as gs
from gremlin_python.structure.io.util import HashableDict, SymbolUtil

GRAPHBINARY_V1 = "application/vnd.graphbinary-v1.0"
GRAPHSON_V3 = "application/vnd.gremlin-v3.0+json"

# status codes of the protocol (org.apache.tinkerpop.gremlin.driver.message.ResponseStatusCode)
SUCCESS = 200
NO_CONTENT = 204
PARTIAL_CONTENT = 206
UNAUTHORIZED = 401
AUTHENTICATE = 407
MALFORMED_REQUEST = 498
INVALID_REQUEST_ARGUMENTS = 499
SERVER_ERROR = 500
SERVER_ERROR_EVALUATION = 597
SERVER_ERROR_TIMEOUT = 598
SERVER_ERROR_SERIALIZATION = 599

__all__ = [
    "GRAPHBINARY_V1",
    "GRAPHSON_V3",
    "GraphBinaryMessageSerializer",
    "GraphSONMessageSerializer",
    "Lambda",
    "MessageSerializer",
    "ProtocolError",
    "Request",
    "contains_lambda",
    "serializer_for",
    "split_frame",
]


class ProtocolError(Exception):
    """A request that cannot be served: ``code`` is the response status to send."""

    def __init__(self, code: int, message: str, request_id: uuid.UUID | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.request_id = request_id


class SerializationError(ProtocolError):
    """A result value that the response format cannot hold (status 599)."""

    def __init__(self, message: str):
        super().__init__(SERVER_ERROR_SERIALIZATION, message)


@dataclass
class Request:
    """One request message: ``op`` (eval, bytecode, authentication, close), ``processor``
    ('' for scripts, 'traversal' for bytecode, 'session') and its ``args``."""

    request_id: uuid.UUID | None
    op: str
    processor: str
    args: dict[str, Any] = field(default_factory=dict)
    lambda_free: bool = False   # the decoder saw only types that cannot hold a Lambda
    frame: bytes | str = b""    # the frame it came in (a replica forwards it as it is)
    template: Any = field(default=None, repr=False, compare=False)  # the _Template it matched


class Lambda:
    """A lambda received in a request (a script for another language): never evaluated."""

    __slots__ = ("arguments", "language", "script")

    def __init__(self, script: str, language: str, arguments: int = -1):
        self.script = script
        self.language = language
        self.arguments = arguments

    def __repr__(self) -> str:
        return f"Lambda({self.script!r}, {self.language!r})"


def contains_lambda(value: Any, depth: int = 0) -> bool:
    """Whether a request argument (bytecode, predicate, collection) holds a :class:`Lambda`."""
    if depth > 200:
        return False
    if isinstance(value, Lambda):
        return True
    if isinstance(value, Bytecode):
        return any(contains_lambda(a, depth + 1) for inst in
                   (*value.source_instructions, *value.step_instructions) for a in inst[1:])
    if isinstance(value, P):
        return contains_lambda(value.value, depth + 1) or contains_lambda(value.other, depth + 1)
    if isinstance(value, TraversalStrategy):
        return any(contains_lambda(v, depth + 1) for v in value.configuration.values())
    if isinstance(value, dict):
        return any(contains_lambda(k, depth + 1) or contains_lambda(v, depth + 1)
                   for k, v in value.items())
    if isinstance(value, (list, tuple, set, frozenset)):
        return any(contains_lambda(v, depth + 1) for v in value)
    return False


def split_frame(frame: bytes) -> tuple[str, bytes]:
    """``(mime type, payload)`` of a binary request frame (first byte: the mime's length)."""
    if not frame:
        raise ProtocolError(MALFORMED_REQUEST, "empty request frame")
    n = frame[0]
    if n == 0 or len(frame) < 1 + n:
        raise ProtocolError(MALFORMED_REQUEST, "request frame shorter than its mime type header")
    try:
        mime = frame[1:1 + n].decode("ascii")
    except UnicodeDecodeError:
        raise ProtocolError(MALFORMED_REQUEST, "request frame has no readable mime type") from None
    return mime, frame[1 + n:]


def _strategy(fqcn: str, conf: dict[str, Any]) -> TraversalStrategy:
    name = fqcn.rsplit(".", 1)[-1]
    return TraversalStrategy(strategy_name=name, configuration=dict(conf), fqcn=fqcn)


def _make_p(cls: type, op: str, args: list[Any]) -> P:
    """A predicate from its wire form: ``within``/``without`` take the whole list."""
    if op in ("within", "without"):
        return cls(op, list(args))
    if len(args) == 0:
        return cls(op, None)
    if len(args) == 1:
        return cls(op, args[0])
    return cls(op, args[0], args[1])


class MessageSerializer:
    """One wire format: reads request payloads, writes response frames."""

    mime: str = ""
    #: responses go out as text frames (GraphSON) or binary frames (GraphBinary)
    text_frames: bool = False

    def read_request(self, payload: bytes | str) -> Request:
        raise NotImplementedError

    def write_response(self, request_id: uuid.UUID | None, code: int, message: str | None = "",
                       data: Any = None, attributes: dict[str, Any] | None = None,
                       meta: dict[str, Any] | None = None) -> bytes | str:
        raise NotImplementedError


# ============================================================================ GraphBinary 1.0

_int32 = struct.Struct(">i")
_int64 = struct.Struct(">q")


def _read_int(b: io.BytesIO) -> int:
    raw = b.read(4)
    if len(raw) != 4:
        raise ValueError("truncated message")
    return _int32.unpack(raw)[0]


def _read_str(b: io.BytesIO) -> str:
    n = _read_int(b)
    if n < 0:
        raise ValueError("negative string length")
    raw = b.read(n)
    if len(raw) != n:
        raise ValueError("truncated message")
    return raw.decode("utf-8")


def _nullable(b: io.BytesIO, nullable: bool) -> bool:
    """Reads the value flag of a nullable value; True when the value is null."""
    if not nullable:
        return False
    flag = b.read(1)
    if not flag:
        raise ValueError("truncated message")
    return flag[0] == 0x01


def _restore_bytecode(bc: Bytecode) -> Bytecode:
    """``Cardinality.list(x)`` travels as bytecode ``CardinalityValueTraversal``: rebuild it."""
    si = bc.source_instructions
    if not bc.step_instructions and len(si) == 1 and si[0][0] == "CardinalityValueTraversal" \
            and len(si[0]) == 3:
        return CardinalityValue(si[0][1], si[0][2])
    return bc


def _map_key(k: Any) -> Any:
    """A map key made hashable as the engine does (list -> tuple, set -> frozenset)."""
    if isinstance(k, list):
        return tuple(_map_key(x) for x in k)
    if isinstance(k, set):
        return frozenset(_map_key(x) for x in k)
    if isinstance(k, dict) and not isinstance(k, HashableDict):
        return HashableDict((_map_key(a), b) for a, b in k.items())
    return k


class _GBBytecode:
    @classmethod
    def objectify(cls, b: io.BytesIO, reader: gb.GraphBinaryReader, nullable: bool = True) -> Any:
        bc = gb.BytecodeIO.objectify(b, reader, nullable)
        return None if bc is None else _restore_bytecode(bc)


class _GBMap:
    @classmethod
    def objectify(cls, b: io.BytesIO, reader: gb.GraphBinaryReader, nullable: bool = True) -> Any:
        if _nullable(b, nullable):
            return None
        n = _read_int(b)
        if n < 0:
            raise ValueError("negative map size")
        out: dict[Any, Any] = {}
        for _ in range(n):
            k = _map_key(reader.read_object(b))
            out[k] = reader.read_object(b)
        return out


class _GBPredicate:
    cls: type = P

    @classmethod
    def objectify(cls, b: io.BytesIO, reader: gb.GraphBinaryReader, nullable: bool = True) -> Any:
        if _nullable(b, nullable):
            return None
        op = _read_str(b)
        n = _read_int(b)
        if n < 0 or n > 1 << 20:
            raise ValueError("bad predicate argument count")
        return _make_p(cls.cls, op, [reader.read_object(b) for _ in range(n)])


class _GBTextP(_GBPredicate):
    cls = TextP


class _GBClass:
    @classmethod
    def objectify(cls, b: io.BytesIO, reader: gb.GraphBinaryReader, nullable: bool = True) -> Any:
        if _nullable(b, nullable):
            return None
        return GremlinType(_read_str(b))


class _GBStrategy:
    @classmethod
    def objectify(cls, b: io.BytesIO, reader: gb.GraphBinaryReader, nullable: bool = True) -> Any:
        if _nullable(b, nullable):
            return None
        fqcn = _read_str(b)
        conf = reader.to_object(b, gb.DataType.map, False)
        return _strategy(fqcn, conf)


class _GBLambda:
    @classmethod
    def objectify(cls, b: io.BytesIO, reader: gb.GraphBinaryReader, nullable: bool = True) -> Any:
        if _nullable(b, nullable):
            return None
        language = _read_str(b)
        script = _read_str(b)
        arguments = _read_int(b)
        return Lambda(script, language, arguments)


class _GBNumber:
    """Reads a number into the engine's Python type of its Java type."""

    size = 8
    fmt = ">q"
    wrap: Any = long

    @classmethod
    def objectify(cls, b: io.BytesIO, reader: gb.GraphBinaryReader, nullable: bool = True) -> Any:
        if _nullable(b, nullable):
            return None
        raw = b.read(cls.size)
        if len(raw) != cls.size:
            raise ValueError("truncated message")
        return cls.wrap(struct.unpack(cls.fmt, raw)[0])


class _GBFloat(_GBNumber):
    size = 4
    fmt = ">f"

    @staticmethod
    def wrap(v: float) -> Any:
        from ..parser import Float32
        if math.isnan(v) or math.isinf(v):
            return Float32(v)
        import numpy as np
        return Float32(float(str(np.float32(v))))


def _enum_member(cls: type, name: Any) -> Any:
    """An enum member from its Java name (``any`` -> ``Pick.any_``, ``sumLong`` ...)."""
    if not isinstance(name, str):
        raise TypeError(f"an enum name is a string, not {type(name).__name__}")
    for key in (name, SymbolUtil.to_snake_case(name), name + "_",
                SymbolUtil.to_snake_case(name) + "_"):
        member = cls.__members__.get(key)
        if member is not None:
            return member
    raise ValueError(f"unknown {cls.__name__} {name!r}")


class _GBEnum:
    cls: type = T

    @classmethod
    def objectify(cls, b: io.BytesIO, reader: gb.GraphBinaryReader, nullable: bool = True) -> Any:
        if _nullable(b, nullable):
            return None
        return _enum_member(cls.cls, reader.read_object(b))


def _gb_enum(enum_cls: type) -> type:
    return type(f"_GB{enum_cls.__name__}", (_GBEnum,), {"cls": enum_cls})


class _GBBigInt:
    @classmethod
    def objectify(cls, b: io.BytesIO, reader: gb.GraphBinaryReader, nullable: bool = True) -> Any:
        if _nullable(b, nullable):
            return None
        n = _read_int(b)
        raw = b.read(n)
        if n < 0 or len(raw) != n:
            raise ValueError("truncated message")
        return bigint(int.from_bytes(raw, "big", signed=True))


class _GBBigDecimal:
    @classmethod
    def objectify(cls, b: io.BytesIO, reader: gb.GraphBinaryReader, nullable: bool = True) -> Any:
        if _nullable(b, nullable):
            return None
        scale = _read_int(b)
        n = _read_int(b)
        raw = b.read(n)
        if n < 0 or len(raw) != n:
            raise ValueError("truncated message")
        return Decimal(int.from_bytes(raw, "big", signed=True)).scaleb(-scale)


def _graph_elements(graph: Any) -> tuple[list[tuple[Any, list]], list[tuple[Any, list]]]:
    """``[(Vertex, [VertexProperty])]`` and ``[(Edge, [Property])]`` of a store graph (a
    ``subgraph()`` result), read through a Gremlin engine over it."""
    from ..engine import Gremlin

    q = Gremlin(graph)
    vs = q.execute("g.V().project('v','p').by().by(properties().fold())").all()
    es = q.execute("g.E().project('e','p').by().by(properties().fold())").all()
    return [(r["v"], list(r["p"])) for r in vs], [(r["e"], list(r["p"])) for r in es]


class _GBGraphOut:
    """A ``subgraph()`` result as GraphBinary's graph (TinkerPop's ``GraphSerializer`` layout)."""

    @classmethod
    def dictify(cls, obj: Any, writer: Any, to_extend: bytearray, as_value: bool = False,
                nullable: bool = True) -> bytearray:
        if not as_value:
            to_extend.append(gb.DataType.graph.value)
        if nullable:
            to_extend.append(0x00)
        vs, es = _graph_elements(obj)
        to_extend.extend(_int32.pack(len(vs)))
        for v, props in vs:
            writer.to_dict(v.id, to_extend)
            gb.StringIO.dictify(v.label, writer, to_extend, True, False)
            to_extend.extend(_int32.pack(len(props)))
            for vp in props:
                writer.to_dict(vp.id, to_extend)
                gb.StringIO.dictify(vp.label, writer, to_extend, True, False)
                writer.to_dict(vp.value, to_extend)
                to_extend.extend(gb.NULL_BYTES)                   # parent
                gb.ListIO.dictify([], writer, to_extend, True, False)   # meta-properties
        to_extend.extend(_int32.pack(len(es)))
        for e, props in es:
            writer.to_dict(e.id, to_extend)
            gb.StringIO.dictify(e.label, writer, to_extend, True, False)
            writer.to_dict(e.inV.id, to_extend)
            to_extend.extend(gb.NULL_BYTES)                       # in-vertex label
            writer.to_dict(e.outV.id, to_extend)
            to_extend.extend(gb.NULL_BYTES)                       # out-vertex label
            to_extend.extend(gb.NULL_BYTES)                       # parent
            gb.ListIO.dictify(list(props), writer, to_extend, True, False)
        return to_extend


class _GBGraph:
    """GraphBinary's graph read as ``{"vertices": [Vertex], "edges": [Edge]}`` (gremlinpython
    has no graph type), the elements carrying their properties."""

    @classmethod
    def objectify(cls, b: io.BytesIO, reader: gb.GraphBinaryReader, nullable: bool = True) -> Any:
        if _nullable(b, nullable):
            return None
        vertices = []
        for _ in range(_read_int(b)):
            vid = reader.read_object(b)
            label = _read_str(b)
            props = []
            for _ in range(_read_int(b)):
                pid = reader.read_object(b)
                key = _read_str(b)
                value = reader.read_object(b)
                reader.read_object(b)                             # parent
                reader.to_object(b, gb.DataType.list, False)      # meta-properties
                props.append(VertexProperty(pid, key, value, None))
            vertices.append(Vertex(vid, label, props))
        by_id = {v.id: v for v in vertices}
        edges = []
        for _ in range(_read_int(b)):
            eid = reader.read_object(b)
            label = _read_str(b)
            in_id = reader.read_object(b)
            reader.read_object(b)
            out_id = reader.read_object(b)
            reader.read_object(b)
            reader.read_object(b)
            props = reader.to_object(b, gb.DataType.list, False)
            edges.append(Edge(eid, by_id.get(out_id) or Vertex(out_id), label,
                              by_id.get(in_id) or Vertex(in_id), props))
        return {"vertices": vertices, "edges": edges}


def _prefix(code: int, as_value: bool, nullable: bool, to_extend: bytearray) -> None:
    """A value's type code (unless written as a bare value) and its not-null flag."""
    if not as_value:
        to_extend.append(code)
    if nullable:
        to_extend.append(0x00)


class _GBIntOut:
    """Python ints out: Integer when they fit, else Long, else BigInteger."""

    @classmethod
    def dictify(cls, obj: int, writer: Any, to_extend: bytearray, as_value: bool = False,
                nullable: bool = True) -> bytearray:
        v = int(obj)
        if -2 ** 31 <= v < 2 ** 31 and type(obj) is not long:
            _prefix(0x01, as_value, nullable, to_extend)
            to_extend += _int32.pack(v)
        elif -2 ** 63 <= v < 2 ** 63 and type(obj) is not bigint:
            _prefix(0x02, as_value, nullable, to_extend)
            to_extend += _int64.pack(v)
        else:
            gb.BigIntIO.dictify(v, writer, to_extend, as_value, nullable)
        return to_extend


class _GBListOut:
    """Lists and tuples out (gremlinpython's layout, without its per-value enum lookups)."""

    @classmethod
    def dictify(cls, obj: Any, writer: Any, to_extend: bytearray, as_value: bool = False,
                nullable: bool = True) -> bytearray:
        _prefix(0x09, as_value, nullable, to_extend)
        to_extend += _int32.pack(len(obj))
        for item in obj:
            writer.to_dict(item, to_extend)
        return to_extend


class _GBTraverserOut:
    """A bytecode result: its bulk (Long) and its object."""

    @classmethod
    def dictify(cls, obj: Traverser, writer: Any, to_extend: bytearray, as_value: bool = False,
                nullable: bool = True) -> bytearray:
        _prefix(0x21, as_value, nullable, to_extend)
        to_extend += _int64.pack(obj.bulk)
        writer.to_dict(obj.object, to_extend)
        return to_extend


class _GBDecimalOut:
    @classmethod
    def dictify(cls, obj: Decimal, writer: Any, to_extend: bytearray, as_value: bool = False,
                nullable: bool = True) -> bytearray:
        sign, digits, exp = obj.as_tuple()
        if not isinstance(exp, int):
            raise SerializationError(f"BigDecimal cannot hold {obj}")
        unscaled = int("".join(map(str, digits)) or "0") * (-1 if sign else 1)
        return gb.BigDecimalIO.dictify(BigDecimal(-exp, unscaled), writer, to_extend, as_value,
                                       nullable)


class _GBFloatOut:
    @classmethod
    def dictify(cls, obj: float, writer: Any, to_extend: bytearray, as_value: bool = False,
                nullable: bool = True) -> bytearray:
        return gb.FloatIO.dictify(float(obj), writer, to_extend, as_value, nullable)


class _GBDoubleOut:
    @classmethod
    def dictify(cls, obj: Any, writer: Any, to_extend: bytearray, as_value: bool = False,
                nullable: bool = True) -> bytearray:
        return gb.DoubleIO.dictify(float(obj), writer, to_extend, as_value, nullable)


class _GBBoolOut:
    @classmethod
    def dictify(cls, obj: Any, writer: Any, to_extend: bytearray, as_value: bool = False,
                nullable: bool = True) -> bytearray:
        return gb.BooleanIO.dictify(bool(obj), writer, to_extend, as_value, nullable)


def _numpy_types() -> dict[type, Any]:
    try:
        import numpy as np
    except ImportError:   # pragma: no cover
        return {}
    out: dict[type, Any] = {np.bool_: _GBBoolOut, np.float32: _GBFloatOut,
                            np.float64: _GBDoubleOut}
    for t in (np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64):
        out[t] = _GBIntOut
    return out


def _serializer_for(serializers: dict[type, Any], obj: Any, fmt: str) -> Any:
    """The serializer of ``obj``'s type, else of its first base class listed (remembered for
    the type); a type with none is a serialization error (599), not a short frame."""
    t = type(obj)
    ser = serializers.get(t)
    if ser is None:
        ser = next((s for key, s in list(serializers.items()) if isinstance(obj, key)), None)
        if ser is None:
            raise SerializationError(f"{fmt} cannot serialize a {t.__name__} result")
        serializers[t] = ser
    return ser


class _GraphBinaryWriter(gb.GraphBinaryWriter):
    """gremlinpython's writer that refuses types it has no serializer for (instead of silently
    writing nothing) and writes the engine's number types."""

    def __init__(self) -> None:
        from ...store.graph import Graph as StoreGraph
        from ..parser import Float32
        extra: dict[type, Any] = {int: _GBIntOut, long: _GBIntOut, Decimal: _GBDecimalOut,
                                  Float32: _GBFloatOut, list: _GBListOut, tuple: _GBListOut,
                                  Traverser: _GBTraverserOut, frozenset: gb.SetDeserializer,
                                  StoreGraph: _GBGraphOut}
        extra.update(_numpy_types())
        super().__init__(extra)

    def to_dict(self, obj: Any, to_extend: bytearray | None = None) -> Any:
        if to_extend is None:
            to_extend = bytearray()
        if obj is None:
            to_extend.extend(gb.NULL_BYTES)
            return to_extend
        t = type(obj)
        ser = self.serializers.get(t) or _serializer_for(self.serializers, obj, "GraphBinary")
        try:
            return ser.dictify(obj, self, to_extend)
        except (struct.error, OverflowError, AttributeError, NotImplementedError, TypeError) as e:
            raise SerializationError(f"GraphBinary cannot serialize {t.__name__}: {e}") from e


class _FastDecoder:
    """A tight GraphBinary value decoder for what requests mostly hold (strings, numbers,
    lists, maps, bytecode, predicates, ``T`` and ``Direction``) straight from the frame's bytes;
    any other type goes to gremlinpython's reader (with the extensions above)."""

    _u32 = struct.Struct(">I")
    _f64 = struct.Struct(">d")

    def __init__(self, reader: gb.GraphBinaryReader):
        self.reader = reader
        self.depth = 0
        self.fallbacks = 0      # values read by gremlinpython's reader (they may hold lambdas)
        #: the Int / Long arguments of the request's own step instructions, as
        #: ``(offset of the value's bytes, type code, instruction index, argument index)``
        self.slots: list[tuple[int, int, int, int]] = []
        self.track = False      # the value being read is the request's bytecode

    def _fallback(self, data: bytes, pos: int) -> tuple[Any, int]:
        self.fallbacks += 1
        b = io.BytesIO(data)
        b.seek(pos)
        return self.reader.read_object(b), b.tell()

    def _int(self, data: bytes, pos: int) -> tuple[int, int]:
        return _int32.unpack_from(data, pos)[0], pos + 4    # struct.error: truncated

    def _str(self, data: bytes, pos: int) -> tuple[str, int]:
        n = _int32.unpack_from(data, pos)[0]
        pos += 4
        end = pos + n
        if n < 0 or end > len(data):
            raise ValueError("truncated message")
        return data[pos:end].decode("utf-8"), end

    def value(self, data: bytes, pos: int) -> tuple[Any, int]:
        """One fully qualified value at ``pos``: ``(value, next position)``."""
        if pos + 2 > len(data):
            raise ValueError("truncated message")
        code, flag = data[pos], data[pos + 1]
        if code == 0xFE:                                    # null
            return None, pos + 2
        if flag == 0x01:
            return None, pos + 2
        if flag != 0x00:
            raise ValueError(f"bad value flag {flag:#x}")
        p = pos + 2
        if code == 0x03:                                    # string
            return self._str(data, p)
        if code == 0x01:                                    # int
            return self._int(data, p)
        if code == 0x02:                                    # long
            return long(_int64.unpack_from(data, p)[0]), p + 8
        if code == 0x07:                                    # double
            return self._f64.unpack_from(data, p)[0], p + 8
        if code == 0x27:                                    # boolean
            if p + 1 > len(data):
                raise ValueError("truncated message")
            return data[p] == 0x01, p + 1
        if code in (0x09, 0x0A, 0x15, 0x1E, 0x28):
            self.depth += 1
            if self.depth > 200:
                raise ValueError("nested too deeply")
            try:
                if code == 0x09:                            # list
                    n, p = self._int(data, p)
                    if n < 0:
                        raise ValueError("negative list size")
                    out = []
                    for _ in range(n):
                        v, p = self.value(data, p)
                        out.append(v)
                    return out, p
                if code == 0x0A:                            # map
                    n, p = self._int(data, p)
                    if n < 0:
                        raise ValueError("negative map size")
                    m: dict[Any, Any] = {}
                    for _ in range(n):
                        k, p = self.value(data, p)
                        v, p = self.value(data, p)
                        m[_map_key(k)] = v
                    return m, p
                if code == 0x15:                            # bytecode
                    bc = Bytecode()
                    top = self.track and self.depth == 1
                    for target in (bc.step_instructions, bc.source_instructions):
                        n, p = self._int(data, p)
                        if n < 0:
                            raise ValueError("negative instruction count")
                        for _ in range(n):
                            name, p = self._str(data, p)
                            k, p = self._int(data, p)
                            if k < 0:
                                raise ValueError("negative argument count")
                            inst: list[Any] = [name]
                            for _ in range(k):
                                if top and target is bc.step_instructions and \
                                        data[p:p + 2] in (b"\x01\x00", b"\x02\x00"):
                                    self.slots.append((p + 2, data[p], len(target), len(inst)))
                                v, p = self.value(data, p)
                                inst.append(v)
                            target.append(inst)
                    return _restore_bytecode(bc), p
                op, p = self._str(data, p)                  # P / TextP
                n, p = self._int(data, p)
                if n < 0 or n > 1 << 20:
                    raise ValueError("bad predicate argument count")
                args = []
                for _ in range(n):
                    v, p = self.value(data, p)
                    args.append(v)
                return _make_p(P if code == 0x1E else TextP, op, args), p
            finally:
                self.depth -= 1
        if code == 0x20 or code == 0x18:                    # T, Direction
            v, p = self.value(data, p)
            return _enum_member(T if code == 0x20 else Direction, v), p
        return self._fallback(data, pos)


@dataclass
class _Template:
    """A bytecode request learnt from a frame: frames equal to it but for the values of the
    Int / Long arguments of its step instructions (its slots) decode to its arguments with
    theirs (the values are read from the frame: data, never code)."""

    op: str
    processor: str
    args: dict[str, Any]
    slots: list[tuple[int, struct.Struct, type, int, int]]  # offset, format, type, inst, arg
    #: the server's prepared answer path for the requests of this template (see the server)
    fast: Any = field(default=None, repr=False, compare=False)

    @property
    def only_first_step_varies(self) -> bool:
        """Whether every slot is an argument of the first step instruction (``V(id)``)."""
        return all(i == 0 for _, _, _, i, _ in self.slots)

    def first_step_args(self, data: bytes) -> list:
        """The arguments of the first step instruction of ``data`` (a frame of this template)."""
        args = self.args["gremlin"].step_instructions[0][1:]
        for offset, fmt, wrap, i, j in self.slots:
            if i == 0:
                args[j - 1] = wrap(fmt.unpack_from(data, offset)[0])
        return args

    def request(self, rid: uuid.UUID, data: bytes) -> Request:
        bc0 = self.args["gremlin"]
        bc = Bytecode()
        bc.source_instructions = [list(i) for i in bc0.source_instructions]
        steps = bc.step_instructions = [list(i) for i in bc0.step_instructions]
        for offset, fmt, wrap, i, j in self.slots:
            steps[i][j] = wrap(fmt.unpack_from(data, offset)[0])
        args = dict(self.args)
        args["gremlin"] = bc
        return Request(rid, self.op, self.processor, args, lambda_free=True, template=self)


def _shareable(value: Any) -> bool:
    """Whether a request argument may be shared by the requests of a template: no list, map
    or set that a traversal could hold on to."""
    if isinstance(value, Bytecode):
        return all(_shareable(a) for inst in (*value.source_instructions,
                                              *value.step_instructions) for a in inst[1:])
    if isinstance(value, P):
        return _shareable(value.value) and _shareable(value.other)
    return not isinstance(value, (list, dict, set))


def _cut(data: bytes, cuts: tuple[tuple[int, int], ...]) -> bytes:
    """``data`` past its request id without the byte ranges ``cuts`` (sorted)."""
    parts, prev = [], 17
    for start, end in cuts:
        parts.append(data[prev:start])
        prev = end
    parts.append(data[prev:])
    return b"".join(parts)


#: a success response after its request id: status 200, message "", no attributes, no meta
_SUCCESS_HEAD = _int32.pack(SUCCESS) + b"\x00" + _int32.pack(0) + b"\0\0\0\0" * 2
_SUCCESS_ONE = _SUCCESS_HEAD + b"\x09\x00" + _int32.pack(1) + b"\x21\x00"  # + bulk, value
_MAX_TEMPLATES = 1024      # request templates a serializer keeps
_TEMPLATES_PER_SIZE = 4    # slot layouts tried per frame size

_GB_ENUMS: dict[str, type] = {"barrier": Barrier, "cardinality": Cardinality, "column": Column,
                              "direction": Direction, "operator": Operator, "order": Order,
                              "pick": Pick, "pop": Pop, "scope": Scope, "t": T, "merge": Merge,
                              "dt": DT, "gtype": GType}


class GraphBinaryMessageSerializer(MessageSerializer):
    """GraphBinary 1.0 (gremlinpython's default serializer)."""

    mime = GRAPHBINARY_V1
    text_frames = False

    def __init__(self) -> None:
        dt = gb.DataType
        self.reader = gb.GraphBinaryReader({
            dt.p: _GBPredicate, dt.textp: _GBTextP, dt.clazz: _GBClass,
            dt.traversalstrategy: _GBStrategy, dt.lambda_: _GBLambda,
            dt.long: _GBNumber, dt.float: _GBFloat, dt.biginteger: _GBBigInt,
            dt.bigdecimal: _GBBigDecimal, dt.bytecode: _GBBytecode, dt.map: _GBMap,
            dt.graph: _GBGraph,
            **{getattr(dt, k): _gb_enum(c) for k, c in _GB_ENUMS.items()},
        })
        self.writer = _GraphBinaryWriter()
        #: frame size -> the slot layouts (byte ranges) of the templates of that size
        self._layouts: dict[int, list[tuple[tuple[int, int], ...]]] = {}
        #: (layout, frame without its request id and slot values) -> template
        self._templates: dict[tuple, _Template] = {}

    def _learn(self, data: bytes, req: Request, slots: list[tuple[int, int, int, int]]) -> None:
        """Keep a lambda-free bytecode request as a template (see :class:`_Template`)."""
        layouts = self._layouts.setdefault(len(data), [])
        cuts = tuple((off, off + (4 if code == 0x01 else 8)) for off, code, _, _ in slots)
        if cuts not in layouts:
            if len(layouts) >= _TEMPLATES_PER_SIZE:
                return
            layouts.append(cuts)
        if len(self._templates) >= _MAX_TEMPLATES:
            self._templates.clear()
            self._layouts = {len(data): [cuts]}
        self._templates[cuts, _cut(data, cuts)] = _Template(
            req.op, req.processor, req.args,
            [(off, _int32 if code == 0x01 else _int64, int if code == 0x01 else long, i, j)
             for off, code, i, j in slots])

    def template(self, data: bytes) -> _Template | None:
        """The learnt template that the request payload ``data`` matches, or None."""
        for cuts in self._layouts.get(len(data), ()):
            template = self._templates.get((cuts, _cut(data, cuts)))
            if template is not None and data[0] == 0x81:
                return template
        return None

    def read_request(self, payload: bytes | str) -> Request:
        if isinstance(payload, str):
            raise ProtocolError(MALFORMED_REQUEST, "GraphBinary requests come in binary frames")
        data = bytes(payload)
        rid: uuid.UUID | None = None
        dec = _FastDecoder(self.reader)
        try:
            if data[:1] != b"\x81":
                raise ProtocolError(MALFORMED_REQUEST, "GraphBinary request: version byte is not 0x81")
            if len(data) < 17:
                raise ValueError("truncated request id")
            rid = uuid.UUID(bytes=data[1:17])
            template = self.template(data)
            if template is not None:
                return template.request(rid, data)
            op, pos = dec._str(data, 17)
            processor, pos = dec._str(data, pos)
            n, pos = dec._int(data, pos)
            if n < 0 or n > 1 << 16:
                raise ValueError(f"bad argument count {n}")
            args: dict[str, Any] = {}
            for _ in range(n):
                key, pos = dec.value(data, pos)
                if not isinstance(key, str):
                    raise TypeError("argument names must be strings")
                dec.track = key == "gremlin"
                args[key], pos = dec.value(data, pos)
        except ProtocolError as e:
            e.request_id = rid
            raise
        except RecursionError:
            raise ProtocolError(MALFORMED_REQUEST, "GraphBinary request nested too deeply",
                                rid) from None
        except struct.error:
            raise ProtocolError(MALFORMED_REQUEST, "malformed GraphBinary request: "
                                "truncated message", rid) from None
        except Exception as e:  # noqa: BLE001 (any decoding failure is a malformed request)
            raise ProtocolError(MALFORMED_REQUEST, f"malformed GraphBinary request: "
                                f"{type(e).__name__}: {e}", rid) from None
        req = Request(rid, op, processor, args, lambda_free=not dec.fallbacks)
        gremlin = args.get("gremlin")
        if op == "bytecode" and not dec.fallbacks and isinstance(gremlin, Bytecode) and all(
                _shareable(a) for inst in (*gremlin.source_instructions,
                                           *gremlin.step_instructions) for a in inst[1:]):
            self._learn(data, req, dec.slots)
        return req

    def write_success(self, request_id: bytes, data: Any) -> bytes:
        """``write_response(UUID(bytes=request_id), SUCCESS, "", data)`` from the request id's
        16 bytes, the constant part of the frame prebuilt."""
        if len(data) == 1:
            t = data[0]
            v = t.object
            if v.__class__ is int and -2 ** 31 <= v < 2 ** 31 and \
                    t.bulk.__class__ is int and -2 ** 63 <= t.bulk < 2 ** 63:
                # one traverser of an Integer (a count): list of 1, Traverser, bulk, Int
                return b"".join((b"\x81\x00", request_id, _SUCCESS_ONE, _int64.pack(t.bulk),
                                 b"\x01\x00", _int32.pack(v)))
        ba = bytearray(b"\x81\x00")
        ba += request_id
        ba += _SUCCESS_HEAD
        self.writer.to_dict(data, ba)
        return bytes(ba)

    def write_response(self, request_id: uuid.UUID | None, code: int, message: str | None = "",
                       data: Any = None, attributes: dict[str, Any] | None = None,
                       meta: dict[str, Any] | None = None) -> bytes:
        ba = bytearray(b"\x81")
        if request_id is None:
            ba.append(0x01)
        else:
            ba.append(0x00)
            ba.extend(request_id.bytes)
        ba.extend(_int32.pack(code))
        if message is None:
            ba.append(0x01)
        else:
            ba.append(0x00)
            raw = message.encode("utf-8")
            ba.extend(_int32.pack(len(raw)))
            ba.extend(raw)
        w = self.writer
        for m in (attributes, meta):
            if m:
                gb.MapIO.dictify(m, w, ba, True, False)
            else:
                ba.extend(b"\0\0\0\0")          # an empty map as a value: its size
        w.to_dict(data, ba)
        return bytes(ba)


# ============================================================================ GraphSON 3.0

_ENUMS: dict[str, type] = {"g:Barrier": Barrier, "g:Cardinality": Cardinality, "g:Column": Column,
                           "g:Operator": Operator, "g:Order": Order, "g:Pick": Pick,
                           "g:Pop": Pop, "g:Scope": Scope, "g:T": T, "g:Merge": Merge,
                           "g:Direction": Direction, "g:DT": DT, "g:GType": GType}


def _enum_reader(enum_cls: type) -> Any:
    class _Reader:
        @classmethod
        def objectify(cls, v: Any, reader: Any) -> Any:
            return _enum_member(enum_cls, v)
    return _Reader


class _GSPredicate:
    cls: type = P

    @classmethod
    def objectify(cls, v: Any, reader: Any) -> Any:
        op = v["predicate"]
        raw = v.get("value")
        if isinstance(raw, list) and op not in ("within", "without"):
            args = [reader.to_object(x) for x in raw]
        else:
            val = reader.to_object(raw)
            args = list(val) if op in ("within", "without") and isinstance(val, (list, set)) else [val]
        return _make_p(cls.cls, op, args)


class _GSTextP(_GSPredicate):
    cls = TextP


class _GSBytecode:
    @classmethod
    def objectify(cls, v: Any, reader: Any) -> Any:
        bc = Bytecode()
        for key, target in (("source", bc.source_instructions), ("step", bc.step_instructions)):
            for inst in v.get(key, []):
                if not isinstance(inst, list) or not inst or not isinstance(inst[0], str):
                    raise ValueError("a bytecode instruction is a list that starts with its name")
                target.append([inst[0], *(reader.to_object(a) for a in inst[1:])])
        return _restore_bytecode(bc)


class _GSMap:
    @classmethod
    def objectify(cls, v: Any, reader: Any) -> Any:
        if not isinstance(v, list) or len(v) % 2:
            raise ValueError("a g:Map value is a list of keys and values")
        return {_map_key(reader.to_object(v[i])): reader.to_object(v[i + 1])
                for i in range(0, len(v), 2)}


class _GSBinding:
    @classmethod
    def objectify(cls, v: Any, reader: Any) -> Any:
        return Binding(v["key"], reader.to_object(v["value"]))


class _GSLambda:
    @classmethod
    def objectify(cls, v: Any, reader: Any) -> Any:
        return Lambda(v.get("script", ""), v.get("language", ""), v.get("arguments", -1))


class _GSClass:
    @classmethod
    def objectify(cls, v: Any, reader: Any) -> Any:
        return GremlinType(v)


class _GSNumber:
    wrap: Any = long

    @classmethod
    def objectify(cls, v: Any, reader: Any) -> Any:
        if isinstance(v, bool) or not isinstance(v, (int, float, str)):
            raise TypeError(f"not a number: {v!r}")
        return cls.wrap(int(v))


class _GSBigInt(_GSNumber):
    wrap = bigint


class _GSFloat:
    @classmethod
    def objectify(cls, v: Any, reader: Any) -> Any:
        from ..parser import Float32
        return Float32(float(v))


class _GSBigDecimal:
    @classmethod
    def objectify(cls, v: Any, reader: Any) -> Any:
        return Decimal(str(v))


class _GSChar:
    @classmethod
    def objectify(cls, v: Any, reader: Any) -> Any:
        return SingleChar(v)


class _GraphSONReader(gs.GraphSONReader):
    """gremlinpython's GraphSON 3.0 reader plus the request-side types (bytecode, predicates,
    enums, strategies, lambdas); an unknown ``@type`` is an error, not a plain map."""

    def __init__(self) -> None:
        extra: dict[str, Any] = {k: _enum_reader(v) for k, v in _ENUMS.items()}
        extra.update({"g:P": _GSPredicate, "g:Map": _GSMap, "tinker:graph": _GSGraph, "g:TextP": _GSTextP,
                      "g:Bytecode": _GSBytecode, "g:Binding": _GSBinding, "g:Lambda": _GSLambda,
                      "g:Class": _GSClass, "g:Int64": _GSNumber, "gx:BigInteger": _GSBigInt,
                      "g:Float": _GSFloat, "gx:BigDecimal": _GSBigDecimal, "gx:Char": _GSChar})
        super().__init__(extra)

    def to_object(self, obj: Any) -> Any:
        if isinstance(obj, dict) and "@type" in obj:
            tname = obj["@type"]
            des = self.deserializers.get(tname) if isinstance(tname, str) else None
            if des is not None:
                return des.objectify(obj.get("@value"), self)
            value = obj.get("@value")
            if isinstance(value, dict) and "fqcn" in value:
                return _strategy(value["fqcn"], self.to_object(value.get("conf") or {}))
            raise ValueError(f"unknown GraphSON type {tname!r}")
        if isinstance(obj, dict):
            return {self.to_object(k): self.to_object(v) for k, v in obj.items()}
        if isinstance(obj, list):
            return [self.to_object(o) for o in obj]
        return obj


class _GSIntOut:
    @classmethod
    def dictify(cls, obj: Any, writer: Any) -> Any:
        v = int(obj)
        if -2 ** 31 <= v < 2 ** 31 and type(obj) is not long:
            return gs.GraphSONUtil.typed_value("Int32", v)
        if -2 ** 63 <= v < 2 ** 63 and type(obj) is not bigint:
            return gs.GraphSONUtil.typed_value("Int64", v)
        return gs.GraphSONUtil.typed_value("BigInteger", v, "gx")


class _GSFloatOut:
    @classmethod
    def dictify(cls, obj: Any, writer: Any) -> Any:
        v = float(obj)
        if math.isnan(v):
            return gs.GraphSONUtil.typed_value("Float", "NaN")
        if math.isinf(v):
            return gs.GraphSONUtil.typed_value("Float", "Infinity" if v > 0 else "-Infinity")
        return gs.GraphSONUtil.typed_value("Float", v)


class _GSDoubleOut:
    @classmethod
    def dictify(cls, obj: Any, writer: Any) -> Any:
        return gs.DoubleIO.dictify(float(obj), writer)


class _GSDecimalOut:
    @classmethod
    def dictify(cls, obj: Any, writer: Any) -> Any:
        return gs.GraphSONUtil.typed_value("BigDecimal", str(obj), "gx")


class _GSBoolOut:
    @classmethod
    def dictify(cls, obj: Any, writer: Any) -> Any:
        return bool(obj)


class _GSListOut:
    @classmethod
    def dictify(cls, obj: Any, writer: Any) -> Any:
        return gs.GraphSONUtil.typed_value("List", [writer.to_dict(x) for x in obj])


class _GSSetOut:
    @classmethod
    def dictify(cls, obj: Any, writer: Any) -> Any:
        return gs.GraphSONUtil.typed_value("Set", [writer.to_dict(x) for x in obj])


class _GSGraphOut:
    """A ``subgraph()`` result as GraphSON 3.0's ``tinker:graph``."""

    @classmethod
    def dictify(cls, obj: Any, writer: Any) -> Any:
        tv = gs.GraphSONUtil.typed_value
        vs, es = _graph_elements(obj)
        vertices = []
        for v, props in vs:
            by_key: dict[str, list] = {}
            for vp in props:
                by_key.setdefault(vp.label, []).append(tv("VertexProperty", {
                    "id": writer.to_dict(vp.id), "value": writer.to_dict(vp.value),
                    "label": vp.label}))
            vertices.append(tv("Vertex", {"id": writer.to_dict(v.id), "label": v.label,
                                          "properties": by_key}))
        edges = []
        for e, props in es:
            edges.append(tv("Edge", {
                "id": writer.to_dict(e.id), "label": e.label,
                "inVLabel": e.inV.label, "outVLabel": e.outV.label,
                "inV": writer.to_dict(e.inV.id), "outV": writer.to_dict(e.outV.id),
                "properties": {p.key: tv("Property", {"key": p.key, "value": writer.to_dict(p.value)})
                               for p in props}}))
        return {"@type": "tinker:graph", "@value": {"vertices": vertices, "edges": edges}}


class _GSGraph:
    @classmethod
    def objectify(cls, v: Any, reader: Any) -> Any:
        return {"vertices": [reader.to_object(x) for x in v.get("vertices", [])],
                "edges": [reader.to_object(x) for x in v.get("edges", [])]}


class _GSPathOut:
    @classmethod
    def dictify(cls, obj: Any, writer: Any) -> Any:
        labels = gs.GraphSONUtil.typed_value("List", [
            gs.GraphSONUtil.typed_value("Set", [writer.to_dict(x) for x in lab]) for lab in obj.labels])
        return gs.GraphSONUtil.typed_value("Path", {
            "labels": labels, "objects": writer.to_dict(list(obj.objects))})


_JSON_NATIVE = (str, bool, type(None))


class _GraphSONWriter(gs.GraphSONWriter):
    """gremlinpython's GraphSON 3.0 writer with the engine's number types; an unknown type is
    a serialization error."""

    def __init__(self) -> None:
        from ...store.graph import Graph as StoreGraph
        from ..parser import Float32
        extra: dict[type, Any] = {int: _GSIntOut, long: _GSIntOut, bigint: _GSIntOut,
                                  Float32: _GSFloatOut, Decimal: _GSDecimalOut,
                                  tuple: _GSListOut, frozenset: _GSSetOut, Path: _GSPathOut,
                                  StoreGraph: _GSGraphOut}
        try:
            import numpy as np
            extra.update({np.bool_: _GSBoolOut, np.float32: _GSFloatOut,
                          np.float64: _GSDoubleOut})
            for t in (np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32,
                      np.uint64):
                extra[t] = _GSIntOut
        except ImportError:   # pragma: no cover
            pass
        super().__init__(extra)

    def to_dict(self, obj: Any) -> Any:
        if isinstance(obj, _JSON_NATIVE):
            return obj
        t = type(obj)
        ser = _serializer_for(self.serializers, obj, "GraphSON")
        try:
            return ser.dictify(obj, self)
        except (OverflowError, AttributeError, NotImplementedError, TypeError, ValueError) as e:
            raise SerializationError(f"GraphSON cannot serialize {t.__name__}: {e}") from e


class GraphSONMessageSerializer(MessageSerializer):
    """GraphSON 3.0 (``GraphSONSerializersV3d0`` in gremlinpython); responses as text frames."""

    mime = GRAPHSON_V3
    text_frames = True

    def __init__(self) -> None:
        self.reader = _GraphSONReader()
        self.writer = _GraphSONWriter()

    def read_request(self, payload: bytes | str) -> Request:
        rid: uuid.UUID | None = None
        try:
            msg = json.loads(payload)
            if not isinstance(msg, dict):
                raise TypeError("a request message is a JSON object")
            raw_id = msg.get("requestId")
            if isinstance(raw_id, dict):
                raw_id = raw_id.get("@value")
            rid = uuid.UUID(str(raw_id)) if raw_id is not None else None
            op = msg.get("op")
            processor = msg.get("processor") or ""
            if not isinstance(op, str) or not isinstance(processor, str):
                raise TypeError("op and processor must be strings")
            args = self.reader.to_object(msg.get("args") or {})
            if not isinstance(args, dict):
                raise TypeError("args must be a map")
        except RecursionError:
            raise ProtocolError(MALFORMED_REQUEST, "GraphSON request nested too deeply",
                                rid) from None
        except Exception as e:  # noqa: BLE001 (any decoding failure is a malformed request)
            raise ProtocolError(MALFORMED_REQUEST, f"malformed GraphSON request: "
                                f"{type(e).__name__}: {e}", rid) from None
        if rid is None:
            raise ProtocolError(MALFORMED_REQUEST, "GraphSON request without a requestId")
        return Request(rid, op, processor, args)

    def write_response(self, request_id: uuid.UUID | None, code: int, message: str | None = "",
                       data: Any = None, attributes: dict[str, Any] | None = None,
                       meta: dict[str, Any] | None = None) -> str:
        w = self.writer
        msg = {"requestId": None if request_id is None else str(request_id),
               "status": {"message": message, "code": code,
                          "attributes": w.to_dict(attributes or {})},
               "result": {"data": w.to_dict(data), "meta": w.to_dict(meta or {})}}
        try:
            return json.dumps(msg, separators=(",", ":"), default=_json_default)
        except (TypeError, ValueError) as e:
            raise SerializationError(f"GraphSON cannot serialize the result: {e}") from e


def _json_default(o: Any) -> Any:
    if isinstance(o, (_dt.date, _dt.time)):
        return o.isoformat()
    raise TypeError(f"{type(o).__name__} is not JSON serializable")


_SERIALIZERS: dict[str, type[MessageSerializer]] = {
    GRAPHBINARY_V1: GraphBinaryMessageSerializer,
    GRAPHSON_V3: GraphSONMessageSerializer,
    "application/json": GraphSONMessageSerializer,
    "application/vnd.gremlin-v3.0+json;types=true": GraphSONMessageSerializer,
}


def serializer_for(mime: str) -> MessageSerializer | None:
    """A (new) serializer for a request's mime type, or None when the format is not served."""
    cls = _SERIALIZERS.get(mime.strip().lower())
    return cls() if cls is not None else None
