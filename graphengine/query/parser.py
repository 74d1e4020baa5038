"""Gremlin text -> gremlinpython ``Bytecode``: a hand-written tokenizer and recursive-descent parser.

The accepted syntax is that of TinkerPop's gremlin-language grammar, ``Gremlin.g4`` of TinkerPop 3.8
(apache/tinkerpop, ``gremlin-language/src/main/antlr4/Gremlin.g4``), the syntax of the Gherkin feature
suite; literal semantics follow ``GenericLiteralVisitor`` and ``DatetimeHelper`` of gremlin-core. The
text never reaches ``eval``/``exec`` and no ANTLR runtime is used.

API
---
``parse(text, bindings=None) -> Bytecode`` and ``parse_query(text, bindings=None) -> ParsedQuery``
(``bytecode``, ``terminal``, ``terminal_arg``). One traversal rooted at ``g``, possibly spanning lines,
optionally ending with ``;``. A final terminal method (``next``, ``toList``, ``toSet``, ``toBulkSet``,
``iterate``, ``hasNext``, ``tryNext``, ``explain``) is not put in the bytecode; its name goes to
``ParsedQuery.terminal`` and the ``n`` of ``next(n)`` to ``terminal_arg``. ``g.tx().commit()`` (and
``begin``/``rollback``) gives ``Bytecode`` with the source instruction ``["tx", "commit"]``, as
gremlinpython's ``Bytecode.GraphOp`` does.

Representation (what gremlinpython's fluent API would put into the bytecode)
---------------------------------------------------------------------------
* Steps and source steps use the Java names (``as``, ``in``, ``hasLabel``, ``valueMap``...). Source
  instructions: ``withSack``, ``withSideEffect``, ``withBulk``, ``withPath``, ``withStrategies`` (one
  instruction holding all its strategies), ``withoutStrategies`` (one instruction holding the simple
  class names as ``str``, e.g. ``["withoutStrategies", "RepeatUnrollStrategy"]``). ``g.with(k, v)``
  becomes an ``OptionsStrategy`` inside ``withStrategies``, as gremlinpython's ``with_`` does (and
  ``withComputer(...)`` a ``VertexProgramStrategy``, as ``with_computer``). Step names are not
  validated: the interpreter reports unknown steps. A source method after the first step is a step.
* Anonymous traversals (``__.out()`` or bare ``out()`` in argument position) -> nested ``Bytecode``.
* Predicates -> ``P`` / ``TextP`` built as gremlinpython builds them: ``P("gt", 1)``; ``P("between", 1,
  5)`` (value, other); ``within``/``without`` always hold ONE list: ``within(1, 2)``, ``within([1, 2])``
  and ``within(xx1)`` with ``xx1`` a list all give ``P("within", [1, 2])`` (a set argument becomes a
  list; any other single value ``v`` gives ``[v]``); ``P.not(p)`` -> ``P("not", p)``; ``p.and(q)`` ->
  ``P("and", p, q)``; ``p.or(q)`` -> ``P("or", p, q)``; ``p.negate()`` -> the complementary operator
  (``gt`` <-> ``lte``, ``within`` <-> ``without``, ``containing`` <-> ``notContaining``...) or
  ``P("not", p)``; ``typeOf(GType.INT)`` -> ``P("typeOf", GType.INT)`` (a string argument stays a str).
  A bare ``not(...)`` is the predicate when its argument is a predicate, else the ``not`` step.
* Enums are gremlinpython's members: ``T.id`` (not ``T.id_``), ``T.label``, ``Cardinality.list_``,
  ``Pop.all_``, ``Pick.any_``, ``Scope.global_``, ``Merge.on_create``/``on_match``/``out_v``/``in_v``,
  ``Direction.from_``/``to`` (aliases of ``OUT``/``IN``), ``Operator.sum_``/``and_``/``or_``/``max_``/
  ``min_``/``addAll``/``sumLong``, ``Barrier.normSack``, ``GType.INT``... gremlinpython also has the
  distinct members ``T.id_``, ``Operator.add_all``/``max``/``min``/``sum_long`` and
  ``Barrier.norm_sack``: an interpreter that also runs fluent-API bytecode should compare enum
  members by ``name.rstrip("_")`` (and ``add_all`` == ``addAll``). Bare enum words are accepted where
  the grammar accepts them (``by(id)``, ``select(all, 'a')``, ``sack(sum)``, ``option(none, ...)``,
  ``property(list, ...)``); in ``typeOf(...)``/``asNumber(...)`` the bare words ``list``/``set``/
  ``null`` are GTypes, elsewhere a Cardinality / None. ``single(x)``/``list(x)``/``set(x)`` (and
  ``Cardinality.list(x)``) -> gremlinpython ``CardinalityValue``. ``WithOptions.*``, ``IO.*``,
  ``ConnectedComponent.*``, ``PageRank.*``, ``PeerPressure.*``, ``ShortestPath.*`` -> gremlinpython's
  constants (strings / ints).
* Numbers: an unsuffixed integer is ``int`` when it fits 32 bits (Java Integer), else
  ``statics.long`` when it fits 64 bits, else ``statics.bigint``; suffixes ``i`` int, ``l``/``L``
  ``statics.long``, ``s`` ``statics.short``, ``b`` ``statics.SingleByte``, ``n`` ``statics.bigint``
  (range checked); hex ``0x1F`` and octal ``017`` as in Java's ``Integer.decode``; ``_`` separators.
  An unsuffixed decimal and ``d`` are Java Double -> ``float``; ``f`` (Java Float) -> :class:`Float32`,
  a ``float`` subclass holding the literal's decimal value (so ``== 1.5`` holds) that only marks the
  Java type; ``m`` -> ``decimal.Decimal``; ``NaN``, ``Infinity``, ``-Infinity`` -> float.
* ``true``/``false`` -> bool; ``null`` -> None; strings '...' / "..." with Java escapes; lists ->
  ``list``; ranges ``1..3`` / ``'a'..'c'`` -> list; maps -> ``dict`` in text order: a naked key
  (``name:``, even a keyword such as ``id:``, but not ``NaN:``/``Infinity:``, which are floats as in
  the grammar) is a str; ``T.id:`` / ``(T.id):`` / ``(id):`` /
  ``Direction.OUT:`` are enums; numeric and string keys as such; list keys become tuples, set keys
  frozensets, map keys tuples of (key, value) pairs (so they hash). Sets ``{1, 2}`` -> ``set`` (its
  elements made hashable the same way). ``datetime("...")`` -> timezone-aware ``datetime.datetime``
  (``DatetimeHelper`` forms: ``2018-03-22``, ``2018-03``, ``2018-03-22T00:35:44[.741][Z|+16:00|+1600]``;
  no offset means UTC; ``datetime()`` is now, UTC). ``UUID("...")`` -> ``uuid.UUID``; ``UUID()`` ->
  ``uuid.uuid4()``.
* Strategies (``withStrategies(new SubgraphStrategy(vertices: __.hasLabel("person")), ReadOnlyStrategy)``)
  -> instances of the gremlinpython class of that name (``gremlin_python.process.strategies``) with
  their default configuration updated by the given keys, kept under their Java (camelCase) names,
  e.g. ``PartitionStrategy().configuration == {"partitionKey": ..., "writePartition": ...,
  "readPartitions": [...]}``; unknown names -> ``TraversalStrategy(strategy_name=name,
  configuration=...)``. Traversals in a configuration are ``Bytecode`` (the fluent API leaves a
  ``GraphTraversal`` there: read ``getattr(v, "bytecode", v)``). ``TraversalStrategy.__eq__``
  compares classes only.
* Variables: an identifier that is not a keyword in value position is looked up in ``bindings``
  (a missing one is a ``QuerySyntaxError`` naming it); the bound value is used as is, except that a
  gremlinpython ``Traversal`` (also inside a list or dict) becomes its ``Bytecode``, as
  ``Bytecode.add_step`` does.
* Lambdas (Groovy closures ``{ it -> ... }``, ``Lambda.function(...)``, ``lambda: ...``) raise
  ``QueryEvaluationError("lambdas are not supported ...")`` naming line and column.
* Not supported: a terminated root traversal as an argument (``inject(g.V().toList())``, which the
  grammar allows but no feature uses), ``query.toString()`` and several queries in one text.
* Syntax errors raise ``QuerySyntaxError(message, line, column)`` (1-based, of the offending token).
"""

from __future__ import annotations

import datetime as _dt
import decimal
import math
import re
import uuid
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NoReturn

from gremlin_python import statics
from gremlin_python.process import strategies as _strategies
from gremlin_python.process.traversal import (
    DT,
    IO,
    Barrier,
    Bytecode,
    Cardinality,
    CardinalityValue,
    Column,
    ConnectedComponent,
    Direction,
    GType,
    Merge,
    Operator,
    Order,
    P,
    PageRank,
    PeerPressure,
    Pick,
    Pop,
    Scope,
    ShortestPath,
    T,
    TextP,
    Traversal,
    TraversalStrategy,
    WithOptions,
)

from graphengine.errors import QueryEvaluationError, QuerySyntaxError

__all__ = ["Float32", "ParsedQuery", "parse", "parse_query"]


class Float32(float):
    """A Java ``Float`` literal (``1.5f``): a ``float`` holding the literal's decimal value."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"{float.__repr__(self)}f"


@dataclass(frozen=True)
class ParsedQuery:
    """A parsed traversal: its bytecode and the terminal method that ended the text, if any."""

    bytecode: Bytecode
    terminal: str | None = None
    terminal_arg: Any = None


# --------------------------------------------------------------------------------------------
# Tables
# --------------------------------------------------------------------------------------------

_T = {"id": T.id, "label": T.label, "key": T.key, "value": T.value}
_ORDER = {"asc": Order.asc, "desc": Order.desc, "shuffle": Order.shuffle}
_SCOPE = {"local": Scope.local, "global": Scope.global_}
_COLUMN = {"keys": Column.keys, "values": Column.values}
_POP = {"first": Pop.first, "last": Pop.last, "all": Pop.all_, "mixed": Pop.mixed}
_DIRECTION = {
    "IN": Direction.IN,
    "OUT": Direction.OUT,
    "BOTH": Direction.BOTH,
    "from": Direction.from_,
    "to": Direction.to,
}
_CARDINALITY = {"single": Cardinality.single, "set": Cardinality.set_, "list": Cardinality.list_}
_MERGE = {"onCreate": Merge.on_create, "onMatch": Merge.on_match, "outV": Merge.out_v, "inV": Merge.in_v}
_OPERATOR = {
    "addAll": Operator.addAll,
    "and": Operator.and_,
    "assign": Operator.assign,
    "div": Operator.div,
    "max": Operator.max_,
    "min": Operator.min_,
    "minus": Operator.minus,
    "mult": Operator.mult,
    "or": Operator.or_,
    "sum": Operator.sum_,
    "sumLong": Operator.sumLong,
}
_PICK = {"any": Pick.any_, "none": Pick.none, "unproductive": Pick.unproductive}
_DT = {"second": DT.second, "minute": DT.minute, "hour": DT.hour, "day": DT.day}
_BARRIER = {"normSack": Barrier.normSack}
_GTYPE_LOWER = {
    "bigDecimal": "BIGDECIMAL",
    "bigInt": "BIGINT",
    "binary": "BINARY",
    "boolean": "BOOLEAN",
    "byte": "BYTE",
    "char": "CHAR",
    "datetime": "DATETIME",
    "double": "DOUBLE",
    "duration": "DURATION",
    "edge": "EDGE",
    "float": "FLOAT",
    "graph": "GRAPH",
    "int": "INT",
    "list": "LIST",
    "long": "LONG",
    "map": "MAP",
    "null": "NULL",
    "number": "NUMBER",
    "path": "PATH",
    "property": "PROPERTY",
    "set": "SET",
    "short": "SHORT",
    "string": "STRING",
    "tree": "TREE",
    "uuid": "UUID",
    "vertex": "VERTEX",
    "vproperty": "VPROPERTY",
}
_GTYPE: dict[str, Any] = {m.name: m for m in GType}
_GTYPE.update({k: GType[v] for k, v in _GTYPE_LOWER.items()})


def _consts(cls: type, names: str) -> dict[str, Any]:
    return {n: getattr(cls, n) for n in names.split()}


# Qualified names: Class.member -> value.
_QUALIFIED: dict[str, dict[str, Any]] = {
    "T": _T,
    "Order": _ORDER,
    "Scope": _SCOPE,
    "Column": _COLUMN,
    "Pop": _POP,
    "Direction": _DIRECTION,
    "Cardinality": _CARDINALITY,
    "Merge": _MERGE,
    "Operator": _OPERATOR,
    "Pick": _PICK,
    "DT": _DT,
    "Barrier": _BARRIER,
    "GType": _GTYPE,
    "WithOptions": _consts(WithOptions, "tokens none ids labels keys values all indexer list map"),
    "IO": _consts(IO, "reader writer gryo graphson graphml registry"),
    "ConnectedComponent": _consts(ConnectedComponent, "component edges propertyName"),
    "PageRank": _consts(PageRank, "edges times propertyName"),
    "PeerPressure": _consts(PeerPressure, "edges times propertyName"),
    "ShortestPath": _consts(ShortestPath, "target edges distance maxDistance includeEdges"),
}

# Bare words in value position (the grammar's short enum forms), first table wins.
_BARE: dict[str, Any] = {}
for _table in (_GTYPE, _PICK, _DT, _OPERATOR, _BARRIER, _MERGE, _POP, _COLUMN, _CARDINALITY,
               _DIRECTION, _SCOPE, _ORDER, _T):
    _BARE.update(_table)
# In typeOf(...) / asNumber(...), the GType reading of list / set / null wins.
_BARE_GTYPE: dict[str, Any] = dict(_BARE)
_BARE_GTYPE.update(_GTYPE)
_GTYPE_STEPS = frozenset({"typeOf", "asNumber"})

_P_ONE = frozenset({"eq", "neq", "lt", "lte", "gt", "gte"})
_P_TWO = frozenset({"inside", "outside", "between"})
_P_LIST = frozenset({"within", "without"})
_TEXTP = frozenset({
    "containing", "notContaining", "startingWith", "notStartingWith",
    "endingWith", "notEndingWith", "regex", "notRegex",
})
_PREDICATES = _P_ONE | _P_TWO | _P_LIST | _TEXTP | {"not", "typeOf"}
_NEGATE = {
    "eq": "neq", "neq": "eq", "lt": "gte", "gte": "lt", "gt": "lte", "lte": "gt",
    "within": "without", "without": "within", "inside": "outside", "outside": "inside",
    "containing": "notContaining", "notContaining": "containing",
    "startingWith": "notStartingWith", "notStartingWith": "startingWith",
    "endingWith": "notEndingWith", "notEndingWith": "endingWith",
    "regex": "notRegex", "notRegex": "regex",
}

_SOURCE_METHODS = frozenset({
    "withBulk", "withPath", "withSack", "withSideEffect", "withStrategies", "withoutStrategies",
    "with", "withComputer",
})
_TERMINALS = frozenset({"next", "toList", "toSet", "toBulkSet", "iterate", "hasNext", "tryNext", "explain"})

_INT32 = 1 << 31
_INT64 = 1 << 63

# --------------------------------------------------------------------------------------------
# Tokenizer
# --------------------------------------------------------------------------------------------

_D = r"\d(?:[\d_]*\d)?"
_TOKEN_RE = re.compile(
    rf"""
    (?:[ \t\r\n\f]+|//[^\r\n]*)*
    (?:(?P<punct>[()\[\]{{}},.:;])
      |(?P<id>[^\W\d][\w$]*|\$[\w$]*)
      |(?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
      |(?P<inf>[+-]Infinity(?![\w$]))
      |(?P<float>[+-]?{_D}(?:\.{_D}(?:[eE][+-]?{_D})?|[eE][+-]?{_D})[fFdDmM]?|[+-]?{_D}[fFdDmM])
      |(?P<int>[+-]?(?:0[xX][0-9a-fA-F](?:[0-9a-fA-F_]*[0-9a-fA-F])?|{_D})[bBsSnNiIlL]?)
      |(?P<arrow>->)
      |(?P<end>\Z)
      |(?P<err>.))
    """,
    re.VERBOSE | re.DOTALL,
)
_ESCAPE_RE = re.compile(r"\\(?:u+([0-9a-fA-F]{4})|([0-3][0-7]{2}|[0-7]{1,2})|(.))", re.DOTALL)
_SIMPLE_ESCAPES = {"b": "\b", "t": "\t", "n": "\n", "f": "\f", "r": "\r", '"': '"', "'": "'", "\\": "\\"}
_DATE_RE = re.compile(
    r"(\d{4})-(\d{1,2})(?:-(\d{1,2})(?:[Tt](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?"
    r"(?:([Zz])|([+-])(\d{2})(?::?(\d{2})(?::?(\d{2}))?)?)?)?)?"
)

_EOF = "eof"


def _unescape(body: str) -> str:
    if "\\" not in body:
        return body

    def repl(m: re.Match[str]) -> str:
        if m.group(1) is not None:
            return chr(int(m.group(1), 16))
        if m.group(2) is not None:
            return chr(int(m.group(2), 8))
        c = m.group(3)
        # StringEscapeUtils.unescapeJava drops a backslash before any other character.
        return _SIMPLE_ESCAPES.get(c, c)

    return _ESCAPE_RE.sub(repl, body)


def _line_col(text: str, pos: int) -> tuple[int, int]:
    line = text.count("\n", 0, pos) + 1
    return line, pos - (text.rfind("\n", 0, pos) + 1) + 1


def _syntax(text: str, pos: int, message: str) -> NoReturn:
    line, col = _line_col(text, pos)
    raise QuerySyntaxError(message, line, col)


def _int_value(text: str, raw: str, pos: int) -> Any:
    # As GenericLiteralVisitor.visitIntegerLiteral: a last letter b/s/i/l/n is the type suffix, even
    # after hex digits (0x1b is the byte 1); no suffix means Integer, else Long, else BigInteger.
    s = raw.replace("_", "").lower()
    suffix = s[-1] if s[-1] in "bsiln" else ""
    if suffix:
        s = s[:-1]
    digits = s.lstrip("+-")
    try:
        if digits[:2] == "0x":
            v = int(digits, 0)
        elif len(digits) > 1 and digits[0] == "0":
            v = int(digits, 8)
        else:
            v = int(digits)
    except ValueError:
        _syntax(text, pos, f"malformed integer literal {raw}")
    if s[0] == "-":
        v = -v
    if suffix == "":
        if -_INT32 <= v < _INT32:
            return v
        if -_INT64 <= v < _INT64:
            return statics.long(v)
        return statics.bigint(v)
    if suffix == "n":
        return statics.bigint(v)
    limit, cls = _INT_SUFFIX[suffix]
    if not -limit <= v < limit:
        _syntax(text, pos, f"integer literal {raw} is out of range for its type")
    return cls(v)


_INT_SUFFIX: dict[str, tuple[int, type]] = {
    "i": (_INT32, int), "l": (_INT64, statics.long), "s": (1 << 15, statics.short),
    "b": (1 << 7, statics.SingleByte),
}


def _float_value(raw: str) -> Any:
    s = raw.replace("_", "")
    suffix = s[-1].lower()
    if suffix == "m":
        return decimal.Decimal(s[:-1])
    if suffix == "f":
        return Float32(s[:-1])
    if suffix == "d":
        return float(s[:-1])
    return float(s)


def _tokenize(text: str) -> tuple[list[str], list[Any], list[int]]:
    kinds: list[str] = []
    vals: list[Any] = []
    poss: list[int] = []
    add_kind, add_val, add_pos = kinds.append, vals.append, poss.append
    for m in _TOKEN_RE.finditer(text):
        kind = m.lastgroup
        if kind == "punct" or kind == "id":
            raw = m.group(kind)
            add_kind(raw if kind == "punct" else kind)
            add_val(raw)
        elif kind == "end":
            break
        else:
            raw = m.group(kind)
            pos = m.start(kind)
            add_pos(pos)
            if kind == "str":
                add_kind(kind)
                add_val(_unescape(raw[1:-1]))
            elif kind == "int":
                add_kind("num")
                add_val(_int_value(text, raw, pos))
            elif kind == "float":
                add_kind("num")
                add_val(_float_value(raw))
            elif kind == "inf":
                add_kind("num")
                add_val(-math.inf if raw[0] == "-" else math.inf)
            else:  # arrow, err
                if raw in "'\"":
                    _syntax(text, pos, "unterminated string literal")
                add_kind(kind)
                add_val(raw)
            continue
        add_pos(m.start(kind))
    n = len(text)
    for _ in range(4):
        add_kind(_EOF)
        add_val(None)
        add_pos(n)
    return kinds, vals, poss


# --------------------------------------------------------------------------------------------
# Values
# --------------------------------------------------------------------------------------------


def _hashable(v: Any) -> Any:
    if isinstance(v, list):
        return tuple(_hashable(x) for x in v)
    if isinstance(v, set):
        return frozenset(v)
    if isinstance(v, dict):
        return tuple((_hashable(k), _hashable(x)) for k, x in v.items())
    return v


def _parse_datetime(s: str) -> _dt.datetime | None:
    m = _DATE_RE.fullmatch(s.strip())
    if m is None:
        return None
    year, month, day, hh, mm, ss, frac, _z, sign, oh, om, os_ = m.groups()
    try:
        tz = _dt.timezone.utc
        if sign is not None:
            off = _dt.timedelta(hours=int(oh), minutes=int(om or 0), seconds=int(os_ or 0))
            tz = _dt.timezone(off if sign == "+" else -off)
        micro = int((frac or "0").ljust(6, "0")[:6])
        return _dt.datetime(int(year), int(month), int(day or 1), int(hh or 0), int(mm or 0),
                            int(ss or 0), micro, tzinfo=tz)
    except ValueError:
        return None


def _convert_binding(v: Any) -> Any:
    """A bound value as ``Bytecode.add_step`` would store it: traversals become their bytecode."""
    if isinstance(v, Traversal):
        return v.bytecode
    if isinstance(v, list):
        return [_convert_binding(x) for x in v]
    if isinstance(v, dict):
        return {_convert_binding(k): _convert_binding(x) for k, x in v.items()}
    return v


def _within(op: str, args: list[Any]) -> P:
    if len(args) == 1 and type(args[0]) is list:
        return P(op, args[0])
    if len(args) == 1 and type(args[0]) is set:
        return P(op, list(args[0]))
    return P(op, list(args))


def _negate(p: P) -> P:
    op = p.operator
    if op == "and":
        return P("or", _negate(p.value), _negate(p.other))
    if op == "or":
        return P("and", _negate(p.value), _negate(p.other))
    if op == "not":
        return p.value
    neg = _NEGATE.get(op)
    if neg is None:
        return P("not", p)
    return type(p)(neg, p.value, p.other)


_STRATEGY_CLASSES: dict[str, type] = {
    name: cls
    for name, cls in vars(_strategies).items()
    if isinstance(cls, type) and issubclass(cls, TraversalStrategy) and cls is not TraversalStrategy
}


def _make_strategy(name: str, conf: dict[str, Any]) -> TraversalStrategy:
    cls = _STRATEGY_CLASSES.get(name)
    if cls is None:
        return TraversalStrategy(strategy_name=name, configuration=conf)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        if name == "SeedStrategy":
            strategy = cls(conf.get("seed"))
        elif name == "OptionsStrategy":
            strategy = cls(**conf)
        else:
            strategy = cls()
    if strategy.configuration is None:
        strategy.configuration = {}
    strategy.configuration.update(conf)
    return strategy


# --------------------------------------------------------------------------------------------
# Parser
# --------------------------------------------------------------------------------------------


class _Parser:
    __slots__ = ("bindings", "i", "kinds", "poss", "text", "vals")

    def __init__(self, text: str, bindings: Mapping[str, Any] | None):
        self.text = text
        self.kinds, self.vals, self.poss = _tokenize(text)
        self.i = 0
        self.bindings = bindings

    # -- helpers -----------------------------------------------------------------------------

    def _describe(self, i: int) -> str:
        kind = self.kinds[i]
        if kind == _EOF:
            return "end of input"
        if kind == "str":
            return f"string {self.vals[i]!r}"
        if kind == "num":
            m = _TOKEN_RE.match(self.text, self.poss[i])
            return f"number {m.group(m.lastgroup) if m is not None and m.lastgroup else self.vals[i]!r}"
        if kind == "err":
            return f"character {self.vals[i]!r}"
        return f"'{self.vals[i]}'"

    def fail(self, expected: str, i: int | None = None) -> NoReturn:
        if i is None:
            i = self.i
        if self.kinds[i] == "arrow" or (self.kinds[i] == "err" and self._in_braces(i)):
            self.lambda_error(i)
        _syntax(self.text, self.poss[i], f"unexpected {self._describe(i)}, expected {expected}")

    def _in_braces(self, i: int) -> bool:
        depth = 0
        for k in range(i - 1, -1, -1):
            kind = self.kinds[k]
            if kind == "}":
                depth += 1
            elif kind == "{":
                if depth == 0:
                    return True
                depth -= 1
        return False

    def lambda_error(self, i: int) -> NoReturn:
        line, col = _line_col(self.text, self.poss[i])
        raise QueryEvaluationError(
            f"lambdas are not supported: line {line}, column {col}: "
            "rewrite the closure with Gremlin steps")

    def expect(self, kind: str, expected: str | None = None) -> Any:
        i = self.i
        if self.kinds[i] != kind:
            self.fail(expected or f"'{kind}'")
        self.i = i + 1
        return self.vals[i]

    def ident(self, expected: str) -> str:
        return self.expect("id", expected)

    # -- query ---------------------------------------------------------------------------------

    def query(self) -> ParsedQuery:
        kinds, vals = self.kinds, self.vals
        if kinds[0] == "id" and vals[0] == "g":
            self.i = 1
        else:
            self.fail("'g' (a traversal starts with g)")
        bc = Bytecode()
        # source self-methods
        while (kinds[self.i] == "." and kinds[self.i + 1] == "id" and vals[self.i + 1] in _SOURCE_METHODS
               and kinds[self.i + 2] == "("):
            self.i += 1
            self.source_method(bc)
        terminal: str | None = None
        terminal_arg: Any = None
        if kinds[self.i] == "." and kinds[self.i + 1] == "id" and vals[self.i + 1] == "tx":
            self.i += 2
            self.expect("(")
            self.expect(")")
            self.expect(".")
            op = self.ident("'begin', 'commit' or 'rollback'")
            if op not in ("begin", "commit", "rollback"):
                self.fail("'begin', 'commit' or 'rollback'", self.i - 1)
            self.expect("(")
            self.expect(")")
            bc.source_instructions.append(["tx", op])
        elif kinds[self.i] == ".":
            terminal, terminal_arg = self.chain(bc, top=True)
        if kinds[self.i] == ";":
            self.i += 1
        if kinds[self.i] != _EOF:
            if terminal is not None:
                self.fail(f"end of input after the terminal method {terminal}()")
            self.fail("'.' or end of input")
        return ParsedQuery(bc, terminal, terminal_arg)

    def source_method(self, bc: Bytecode) -> None:
        name = self.vals[self.i]
        self.i += 1
        if name == "withStrategies":
            self.expect("(")
            strategies_: list[Any] = [self.strategy()]
            while self.kinds[self.i] == ",":
                self.i += 1
                strategies_.append(self.strategy())
            self.expect(")", "',' or ')'")
            bc.source_instructions.append(["withStrategies", *strategies_])
            return
        if name == "withoutStrategies":
            self.expect("(")
            names = [self.ident("a strategy class name")]
            while self.kinds[self.i] == ",":
                self.i += 1
                names.append(self.ident("a strategy class name"))
            self.expect(")", "',' or ')'")
            bc.source_instructions.append(["withoutStrategies", *names])
            return
        args = self.args(name)
        if name == "with":
            if not args or len(args) > 2 or not isinstance(args[0], str):
                _syntax(self.text, self.poss[self.i - 1], "with() takes a string key and an optional value")
            key, val = args[0], (True if len(args) == 1 or args[1] is None else args[1])
            for ins in bc.source_instructions:
                if ins[0] == "withStrategies" and type(ins[1]) is _strategies.OptionsStrategy:
                    ins[1].configuration[key] = val
                    return
            bc.source_instructions.append(["withStrategies", _strategies.OptionsStrategy(**{key: val})])
            return
        if name == "withComputer":
            bc.source_instructions.append(["withStrategies", _strategies.VertexProgramStrategy(*args)])
            return
        bc.source_instructions.append([name, *args])

    def strategy(self) -> TraversalStrategy:
        kinds, vals = self.kinds, self.vals
        if kinds[self.i] == "id" and vals[self.i] == "new" and kinds[self.i + 1] == "id":
            self.i += 1
        name = self.ident("a traversal strategy")
        conf: dict[str, Any] = {}
        if kinds[self.i] == "(":
            self.i += 1
            if kinds[self.i] != ")":
                while True:
                    key = self.ident("a configuration key")
                    self.expect(":", "':'")
                    conf[key] = self.value()
                    if kinds[self.i] != ",":
                        break
                    self.i += 1
            self.expect(")", "',' or ')'")
        return _make_strategy(name, conf)

    def chain(self, bc: Bytecode, top: bool) -> tuple[str | None, Any]:
        """Parses ``.step(...)`` calls into ``bc``; at the top level, a final terminal method."""
        kinds = self.kinds
        steps = bc.step_instructions
        while kinds[self.i] == ".":
            if not top and not (kinds[self.i + 1] == "id" and kinds[self.i + 2] == "("):
                break
            self.i += 1
            name = self.ident("a step name")
            if top and name in _TERMINALS:
                args = self.args(name)
                if kinds[self.i] != _EOF and kinds[self.i] != ";":
                    self.fail(f"end of input after the terminal method {name}()")
                if len(args) > (1 if name == "next" else 0):
                    _syntax(self.text, self.poss[self.i - 1], f"too many arguments to {name}()")
                return name, (args[0] if args else None)
            if name == "Lambda" or (kinds[self.i] != "(" and name == "lambda"):
                self.lambda_error(self.i - 1)
            steps.append([name, *self.args(name)])
        if top and kinds[self.i] == "id":
            self.fail("'.'")
        return None, None

    def args(self, step: str) -> list[Any]:
        if self.kinds[self.i] == "{":  # a Groovy trailing closure: filter{ it... }
            self.lambda_error(self.i)
        self.expect("(", f"'(' after {step}")
        kinds = self.kinds
        if kinds[self.i] == ")":
            self.i += 1
            return []
        gtype = step in _GTYPE_STEPS
        out = [self.value(gtype)]
        while kinds[self.i] == ",":
            self.i += 1
            out.append(self.value(gtype))
        if kinds[self.i] != ")":
            self.fail("',' or ')'")
        self.i += 1
        return out

    # -- values --------------------------------------------------------------------------------

    def value(self, gtype: bool = False) -> Any:
        i = self.i
        kind = self.kinds[i]
        if kind == "str" or kind == "num":
            self.i = i + 1
            v = self.vals[i]
            if self.kinds[i + 1] == "." and self.kinds[i + 2] == ".":
                return self.range_literal(v, i)
            return v
        if kind == "id":
            return self.ident_value(gtype)
        if kind == "[":
            return self.collection()
        if kind == "{":
            return self.set_literal()
        self.fail("a value")

    def range_literal(self, start: Any, i: int) -> list[Any]:
        self.i += 2
        j = self.i
        end = self.value()
        if isinstance(start, str) and isinstance(end, str):
            if len(start) != len(end) or start[:-1] != end[:-1]:
                _syntax(self.text, self.poss[i], "a string range needs two strings differing in the last character")
            if not start:
                return []
            a, b = ord(start[-1]), ord(end[-1])
            step = 1 if a <= b else -1
            return [start[:-1] + chr(c) for c in range(a, b + step, step)]
        if type(start) is int and type(end) is int:
            step = 1 if start <= end else -1
            if abs(end - start) > 1_000_000:
                _syntax(self.text, self.poss[i], "range is too wide (at most 1,000,000 items)")
            return list(range(start, end + step, step))
        _syntax(self.text, self.poss[j], "a range needs two integers or two strings")

    def ident_value(self, gtype: bool) -> Any:
        kinds, vals = self.kinds, self.vals
        i = self.i
        name = vals[i]
        nxt = kinds[i + 1]
        if nxt == "(":
            return self.call_value(name, gtype)
        if nxt == ".":
            if name == "__":
                self.i = i + 1
                bc = Bytecode()
                if not (kinds[self.i + 1] == "id" and kinds[self.i + 2] == "("):
                    self.fail("a step after '__.'", self.i + 1)
                self.chain(bc, top=False)
                return bc
            if name in ("P", "TextP"):
                return self.qualified_predicate(name)
            if name == "Lambda":
                self.lambda_error(i)
            table = _QUALIFIED.get(name)
            if table is not None:
                self.i = i + 2
                member = self.ident(f"a member of {name}")
                if member not in table:
                    self.fail(f"one of {name}.{', '.join(table)}", self.i - 1)
                if name == "Cardinality" and kinds[self.i] == "(":
                    return self.cardinality_value(member)
                return table[member]
            if name == "g":
                self.fail("a value (a nested traversal starts with __ or a step, not g)")
        if name == "lambda" and nxt == ":":
            self.lambda_error(i)
        self.i = i + 1
        if name == "true":
            return True
        if name == "false":
            return False
        if name == "null" and not gtype:
            return None
        if name == "NaN":
            return math.nan
        if name == "Infinity":
            return math.inf
        table = _BARE_GTYPE if gtype else _BARE
        v = table.get(name, table)
        if v is not table:
            return v
        if self.bindings is not None and name in self.bindings:
            return _convert_binding(self.bindings[name])
        if name == "__":
            self.fail("'.' after __", i + 1)
        _syntax(self.text, self.poss[i], f"undefined variable '{name}' (not a Gremlin keyword and not in the bindings)")

    def call_value(self, name: str, gtype: bool) -> Any:
        """``name(`` in value position: a predicate, a literal function or an anonymous traversal."""
        i = self.i
        if name in _PREDICATES:
            self.i = i + 1
            args = self.args(name)
            if name == "not" and not (len(args) == 1 and isinstance(args[0], P)):
                bc = Bytecode()
                bc.step_instructions.append(["not", *args])
                self.chain(bc, top=False)
                return bc
            return self.predicate_chain(self.predicate(name, args, i))
        if name in ("datetime", "DateTime"):
            self.i = i + 1
            args = self.args(name)
            if not args:
                return _dt.datetime.now(_dt.timezone.utc)
            if len(args) != 1 or not isinstance(args[0], str):
                _syntax(self.text, self.poss[i], f"{name}() takes one string")
            d = _parse_datetime(args[0])
            if d is None:
                _syntax(self.text, self.poss[i + 2], f"malformed datetime {args[0]!r}")
            return d
        if name == "UUID":
            self.i = i + 1
            args = self.args(name)
            if not args:
                return uuid.uuid4()
            if len(args) != 1 or not isinstance(args[0], str):
                _syntax(self.text, self.poss[i], "UUID() takes one string")
            try:
                return uuid.UUID(args[0])
            except ValueError:
                _syntax(self.text, self.poss[i + 2], f"malformed UUID {args[0]!r}")
        if name in _CARDINALITY:
            self.i = i + 1
            return self.cardinality_value(name)
        if name == "Lambda" or name == "lambda":
            self.lambda_error(i)
        if name == "g":
            self.fail("a value (a nested traversal starts with __ or a step, not g)")
        self.i = i + 1
        bc = Bytecode()
        bc.step_instructions.append([name, *self.args(name)])
        self.chain(bc, top=False)
        return bc

    def cardinality_value(self, member: str) -> CardinalityValue:
        i = self.i
        args = self.args(member)
        if len(args) != 1:
            _syntax(self.text, self.poss[i], f"Cardinality.{member}() takes one value")
        return CardinalityValue(_CARDINALITY[member], args[0])

    def qualified_predicate(self, cls_name: str) -> P:
        self.i += 2
        j = self.i
        name = self.ident(f"a {cls_name} predicate")
        valid = _TEXTP if cls_name == "TextP" else _PREDICATES - _TEXTP
        if name not in valid:
            self.fail(f"a {cls_name} predicate ({', '.join(sorted(valid))})", j)
        args = self.args(name)
        return self.predicate_chain(self.predicate(name, args, j))

    def predicate(self, name: str, args: list[Any], i: int) -> P:
        n = len(args)
        if name in _P_LIST:
            return _within(name, args)
        if name in _P_TWO:
            if n != 2:
                _syntax(self.text, self.poss[i], f"{name}() takes 2 arguments, got {n}")
            return P(name, args[0], args[1])
        if n != 1:
            _syntax(self.text, self.poss[i], f"{name}() takes 1 argument, got {n}")
        arg = args[0]
        if name in _TEXTP:
            return TextP(name, arg)
        if name == "not":
            if not isinstance(arg, P):
                _syntax(self.text, self.poss[i], "not() of a predicate needs a predicate")
            return P("not", arg)
        if name == "typeOf":
            if not isinstance(arg, (str, GType)):
                _syntax(self.text, self.poss[i], "typeOf() takes a GType or a type name")
            return P("typeOf", arg)
        return P(name, arg)

    def predicate_chain(self, p: P) -> P:
        kinds, vals = self.kinds, self.vals
        while kinds[self.i] == "." and kinds[self.i + 1] == "id" and kinds[self.i + 2] == "(":
            op = vals[self.i + 1]
            if op not in ("and", "or", "negate"):
                self.fail("and(), or() or negate() after a predicate", self.i + 1)
            j = self.i + 1
            self.i += 2
            args = self.args(op)
            if op == "negate":
                if args:
                    _syntax(self.text, self.poss[j], "negate() takes no argument")
                p = _negate(p)
                continue
            if len(args) != 1 or not isinstance(args[0], P):
                _syntax(self.text, self.poss[j], f"{op}() of a predicate takes one predicate")
            p = P(op, p, args[0])
        return p

    def collection(self) -> Any:
        """``[...]``: a list, a map or ``[:]``."""
        kinds = self.kinds
        self.i += 1
        if kinds[self.i] == "]":
            self.i += 1
            return []
        if kinds[self.i] == ":" and kinds[self.i + 1] == "]":
            self.i += 2
            return {}
        first_key, is_map = self.element_or_key()
        if not is_map:
            items = [first_key]
            while kinds[self.i] == ",":
                self.i += 1
                items.append(self.value())
            if kinds[self.i] != "]":
                self.fail("',' or ']'")
            self.i += 1
            return items
        out: dict[Any, Any] = {}
        key = first_key
        while True:
            self.i += 1  # the ':'
            out[key] = self.value()
            if kinds[self.i] != ",":
                break
            self.i += 1
            key, is_map = self.element_or_key()
            if not is_map:
                self.fail("':' after a map key")
        if kinds[self.i] != "]":
            self.fail("',' or ']'")
        self.i += 1
        return out

    def element_or_key(self) -> tuple[Any, bool]:
        """A list element or a map key; the flag says the next token is ':' (a map entry)."""
        kinds = self.kinds
        i = self.i
        if kinds[i] == "id" and kinds[i + 1] == ":":
            key = self.vals[i]
            if key == "lambda":
                self.lambda_error(i)
            self.i = i + 1
            # A naked key (even a keyword) is its text, except NaN and Infinity: the grammar's
            # mapKey tries numericLiteral before keyword.
            if key == "NaN":
                return math.nan, True
            if key == "Infinity":
                return math.inf, True
            return key, True
        if kinds[i] == "(":
            self.i = i + 1
            key = self.value()
            self.expect(")", "')'")
            if kinds[self.i] != ":":
                self.fail("':' after a parenthesized map key")
            return self.hashable(key, i + 1, "a map key"), True
        v = self.value()
        if kinds[self.i] == ":":
            return self.hashable(v, i, "a map key"), True
        return v, False

    def hashable(self, v: Any, i: int, what: str) -> Any:
        v = _hashable(v)
        try:
            hash(v)
        except TypeError:
            _syntax(self.text, self.poss[i], f"a {type(v).__name__} cannot be {what}")
        return v

    def set_literal(self) -> set[Any]:
        kinds = self.kinds
        start = self.i
        # A Groovy closure: '->' or characters that are not Gremlin before the matching '}'.
        depth = 0
        for k in range(start, len(kinds)):
            kind = kinds[k]
            if kind == "{":
                depth += 1
            elif kind == "}":
                depth -= 1
                if depth == 0:
                    break
            elif kind == "arrow" or kind == "err" or (kind == "id" and self.vals[k] == "it" and depth == 1
                                                      and kinds[k + 1] == "."):
                self.lambda_error(start)
            elif kind == _EOF:
                break
        self.i += 1
        out: set[Any] = set()
        if kinds[self.i] == "}":
            self.i += 1
            return out
        out.add(self.hashable(self.value(), start + 1, "a set element"))
        while kinds[self.i] == ",":
            self.i += 1
            j = self.i
            out.add(self.hashable(self.value(), j, "a set element"))
        if kinds[self.i] != "}":
            self.fail("',' or '}'")
        self.i += 1
        return out


def parse_query(text: str, bindings: Mapping[str, Any] | None = None) -> ParsedQuery:
    """Parses one Gremlin traversal (``g....``) into its bytecode and its terminal method.

    Raises ``QuerySyntaxError`` (with 1-based ``line``/``column``) for malformed text, an unknown
    enum member or an unbound variable, and ``QueryEvaluationError`` for a lambda.
    """
    try:
        return _Parser(text, bindings).query()
    except RecursionError:
        raise QuerySyntaxError("the traversal is nested too deeply to parse", 1, 1) from None


def parse(text: str, bindings: Mapping[str, Any] | None = None) -> Bytecode:
    """Parses one Gremlin traversal into gremlinpython ``Bytecode`` (any terminal method dropped)."""
    return parse_query(text, bindings).bytecode
