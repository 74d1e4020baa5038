"""math(expression): an arithmetic expression over the current value (``_``) and labelled
values, with by() modulators applied to the variables in order of first appearance.

The expression language is exp4j's (which TinkerPop uses): ``+ - * / % ^``, unary minus,
parentheses, and the functions abs, acos, asin, atan, cbrt, ceil, cos, cosh, exp, floor, log,
log10, log2, sin, sinh, sqrt, tan, tanh, signum. It is parsed here into a small tree, never
evaluated by Python's ``eval``.
"""

from __future__ import annotations

import math
import re
from typing import Any

from ...errors import QueryEvaluationError
from ..traversal import NOTHING, Step, make_by, scope_value
from ..values import is_number
from . import register

_FUNCS = {
    "abs": abs, "acos": math.acos, "asin": math.asin, "atan": math.atan,
    "cbrt": lambda x: math.copysign(abs(x) ** (1 / 3), x), "ceil": math.ceil, "cos": math.cos,
    "cosh": math.cosh, "exp": math.exp, "floor": math.floor, "log": math.log,
    "log10": math.log10, "log2": math.log2, "sin": math.sin, "sinh": math.sinh,
    "sqrt": math.sqrt, "tan": math.tan, "tanh": math.tanh,
    "signum": lambda x: float((x > 0) - (x < 0)),
}
_TOKEN = re.compile(r"\s*(?:(\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+)|([A-Za-z_][A-Za-z_0-9]*)|(.))")


def _tokens(expr: str) -> list[tuple[str, Any]]:
    out = []
    pos = 0
    expr = expr.rstrip()
    while pos < len(expr):
        m = _TOKEN.match(expr, pos)
        if m is None:
            break
        pos = m.end()
        if m.group(1):
            out.append(("num", float(m.group(1))))
        elif m.group(2):
            out.append(("name", m.group(2)))
        elif m.group(3):
            if m.group(3) not in "+-*/%^()":
                raise QueryEvaluationError(f"math(): unexpected character {m.group(3)!r} in {expr!r}")
            out.append(("op", m.group(3)))
    return out


class _Parser:
    """Precedence climbing: + - < * / % < unary - < ^ (right associative)."""

    def __init__(self, expr: str):
        self.toks = _tokens(expr)
        self.i = 0
        self.expr = expr
        self.variables: list[str] = []

    def peek(self):
        return self.toks[self.i] if self.i < len(self.toks) else (None, None)

    def take(self):
        tok = self.peek()
        self.i += 1
        return tok

    def parse(self):
        node = self.additive()
        if self.i != len(self.toks):
            raise QueryEvaluationError(f"math(): unexpected {self.peek()[1]!r} in {self.expr!r}")
        return node

    def additive(self):
        node = self.term()
        while self.peek() in (("op", "+"), ("op", "-")):
            op = self.take()[1]
            node = (op, node, self.term())
        return node

    def term(self):
        node = self.unary()
        while self.peek() in (("op", "*"), ("op", "/"), ("op", "%")):
            op = self.take()[1]
            node = (op, node, self.unary())
        return node

    def unary(self):
        if self.peek() == ("op", "-"):
            self.take()
            return ("neg", self.unary())
        if self.peek() == ("op", "+"):
            self.take()
            return self.unary()
        return self.power()

    def power(self):
        base = self.atom()
        if self.peek() == ("op", "^"):
            self.take()
            return ("^", base, self.unary())
        return base

    def atom(self):
        kind, val = self.take()
        if kind == "num":
            return ("num", val)
        if kind == "name":
            if self.peek() == ("op", "(") and val in _FUNCS:
                self.take()
                arg = self.additive()
                if self.take() != ("op", ")"):
                    raise QueryEvaluationError(f"math(): missing ')' in {self.expr!r}")
                return ("fn", val, arg)
            if val in _FUNCS and self.peek()[0] is not None:
                # exp4j: a function may take its operand without parentheses (``ceil _``)
                return ("fn", val, self.unary())
            if val not in self.variables:
                self.variables.append(val)
            return ("var", val)
        if (kind, val) == ("op", "("):
            node = self.additive()
            if self.take() != ("op", ")"):
                raise QueryEvaluationError(f"math(): missing ')' in {self.expr!r}")
            return node
        raise QueryEvaluationError(f"math(): unexpected end of {self.expr!r}")


def _eval(node, env: dict[str, float]) -> float:
    kind = node[0]
    if kind == "num":
        return node[1]
    if kind == "var":
        return env[node[1]]
    if kind == "neg":
        return -_eval(node[1], env)
    if kind == "fn":
        return float(_FUNCS[node[1]](_eval(node[2], env)))
    a, b = _eval(node[1], env), _eval(node[2], env)
    if kind == "+":
        return a + b
    if kind == "-":
        return a - b
    if kind == "*":
        return a * b
    if kind == "/":
        if b == 0:
            return math.copysign(math.inf, a) if a else math.nan
        return a / b
    if kind == "%":
        return math.fmod(a, b) if b else math.nan
    return a ** b


class MathStep(Step):
    name = "math"

    def __init__(self, c, args):
        if len(args) != 1 or not isinstance(args[0], str):
            raise QueryEvaluationError("math() takes an expression string")
        p = _Parser(args[0])
        self.tree = p.parse()
        self.variables = p.variables
        self.bys = []

    def modulate(self, c, name, args, before=False):
        if name != "by":
            return super().modulate(c, name, args)
        self.bys.append(make_by(c, args))

    def process(self, ctx, ts):
        for t in ts:
            env = {}
            ok = True
            for i, var in enumerate(self.variables):
                v = t.obj if var == "_" else scope_value(ctx, t, var)
                if v is NOTHING:
                    raise QueryEvaluationError(f"math(): no value for variable {var!r}")
                if self.bys:
                    v = self.bys[i % len(self.bys)].value_of(ctx, v, t)
                    if v is NOTHING:
                        ok = False
                        break
                if not is_number(v):
                    raise QueryEvaluationError(f"math() requires numbers; {var} is"
                                               f" {type(v).__name__} {v!r}")
                env[var] = float(v)
            if ok:
                yield t.split(_eval(self.tree, env))


register("math")(MathStep)
