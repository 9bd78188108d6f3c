"""THE primitive table: everything calc knows about each function and operator.

One entry per primitive. The interpreters (evaluate, forward, reverse,
symbolic, dual numbers for Hessians) and the printers read this table and
nothing else, so adding a function is adding one entry.

``partials[k](o, *args, out)`` is the local derivative ∂out/∂args[k], written
with Python operators and the generic operation namespace ``o`` (see
:mod:`calccli.ops`). The same rule therefore runs on floats (numeric AD), on
expression nodes (symbolic derivatives, and the ∂b/∂a = exp(a) column of the
trace), on numpy arrays (elementwise functions) and on dual numbers
(forward-over-reverse Hessians). Rules may reuse ``out`` (exp' = exp) where
that saves work. A rule that divides by zero or leaves the real domain at a
point raises, and the interpreters report "not differentiable" there.
"""
from __future__ import annotations

import math
import operator
from dataclasses import dataclass, field
from typing import Callable


@dataclass(frozen=True)
class Prim:
    name: str
    arity: int                      # -1: any number of arguments
    f: Callable                     # float implementation (raises on domain errors)
    partials: tuple[Callable, ...]  # one rule per argument, see the module doc
    np: str | None = None           # numpy name for the elementwise array version
    infix: str | None = None        # operator symbol when printed infix
    prec: int = 9                   # printing precedence (higher binds tighter)
    latex: str | None = None        # LaTeX template, {0}, {1} the operands
    domain: str = ""                # the domain in words, for error messages
    array: dict = field(default_factory=dict)  # array-level rules (shape, jvp, vjp)

    @property
    def is_function(self) -> bool:
        return self.infix is None and self.name not in ("neg",)


def _pow(x: float, y: float) -> float:
    if x == 0.0 and y < 0.0:
        raise ZeroDivisionError("0 to a negative power")
    return math.pow(x, y)


def _sigmoid(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)


def _softplus(x: float) -> float:
    return max(x, 0.0) + math.log1p(math.exp(-abs(x)))


def _log(x: float) -> float:
    if x == 0.0:  # math.log(0) says "math domain error"; 0 is a boundary point
        raise ValueError("log(0)")
    return math.log(x)


PREC_ADD, PREC_MUL, PREC_NEG, PREC_POW = 1, 2, 3, 4

_TABLE = [
    # arithmetic
    Prim("add", 2, operator.add, (lambda o, x, y, out: 1, lambda o, x, y, out: 1),
         np="add", infix="+", prec=PREC_ADD, latex="{0} + {1}"),
    Prim("sub", 2, operator.sub, (lambda o, x, y, out: 1, lambda o, x, y, out: -1),
         np="subtract", infix="-", prec=PREC_ADD, latex="{0} - {1}"),
    Prim("mul", 2, operator.mul, (lambda o, x, y, out: y, lambda o, x, y, out: x),
         np="multiply", infix="*", prec=PREC_MUL, latex="{0} {1}"),
    Prim("div", 2, operator.truediv,
         (lambda o, x, y, out: 1 / y, lambda o, x, y, out: -x / (y * y)),
         np="divide", infix="/", prec=PREC_MUL, latex=r"\frac{{{0}}}{{{1}}}",
         domain="a nonzero divisor"),
    Prim("neg", 1, operator.neg, (lambda o, x, out: -1,),
         np="negative", prec=PREC_NEG, latex="-{0}"),
    # x^y: the integer-power rule y·x^(y-1) holds for x < 0 too; ∂/∂y needs x > 0
    # and is only computed when the exponent depends on a variable.
    Prim("pow", 2, _pow,
         (lambda o, x, y, out: y * o.pow(x, y - 1), lambda o, x, y, out: out * o.log(x)),
         np="power", infix="^", prec=PREC_POW, latex="{0}^{{{1}}}",
         domain="a base ≥ 0 unless the exponent is an integer"),
    # elementary functions
    Prim("sin", 1, math.sin, (lambda o, x, out: o.cos(x),), np="sin", latex=r"\sin\left({0}\right)"),
    Prim("cos", 1, math.cos, (lambda o, x, out: -o.sin(x),), np="cos", latex=r"\cos\left({0}\right)"),
    Prim("tan", 1, math.tan, (lambda o, x, out: 1 + out * out,), np="tan", latex=r"\tan\left({0}\right)"),
    Prim("asin", 1, math.asin, (lambda o, x, out: 1 / o.sqrt(1 - x * x),), np="arcsin",
         latex=r"\arcsin\left({0}\right)", domain="arguments in [-1, 1]"),
    Prim("acos", 1, math.acos, (lambda o, x, out: -1 / o.sqrt(1 - x * x),), np="arccos",
         latex=r"\arccos\left({0}\right)", domain="arguments in [-1, 1]"),
    Prim("atan", 1, math.atan, (lambda o, x, out: 1 / (1 + x * x),), np="arctan",
         latex=r"\arctan\left({0}\right)"),
    Prim("sinh", 1, math.sinh, (lambda o, x, out: o.cosh(x),), np="sinh", latex=r"\sinh\left({0}\right)"),
    Prim("cosh", 1, math.cosh, (lambda o, x, out: o.sinh(x),), np="cosh", latex=r"\cosh\left({0}\right)"),
    Prim("tanh", 1, math.tanh, (lambda o, x, out: 1 - out * out,), np="tanh", latex=r"\tanh\left({0}\right)"),
    Prim("exp", 1, math.exp, (lambda o, x, out: out,), np="exp", latex=r"e^{{{0}}}"),
    Prim("log", 1, _log, (lambda o, x, out: 1 / x,), np="log", latex=r"\ln\left({0}\right)",
         domain="arguments > 0"),
    Prim("sqrt", 1, math.sqrt, (lambda o, x, out: 1 / (2 * out),), np="sqrt",
         latex=r"\sqrt{{{0}}}", domain="arguments ≥ 0"),
    # |x|' = x/|x|: at 0 the division fails and calc says "not differentiable".
    Prim("abs", 1, abs, (lambda o, x, out: x / out,), np="abs", latex=r"\left|{0}\right|"),
    Prim("sigmoid", 1, _sigmoid, (lambda o, x, out: out * (1 - out),), np=None,
         latex=r"\sigma\left({0}\right)"),
    Prim("softplus", 1, _softplus, (lambda o, x, out: o.sigmoid(x),), np=None,
         latex=r"\operatorname{{softplus}}\left({0}\right)"),
]

PRIMS: dict[str, Prim] = {p.name: p for p in _TABLE}

# Names the parser accepts as function calls (aliases included).
ALIASES = {"ln": "log"}


def register(prim: Prim) -> None:
    """Add a primitive (array primitives are registered by calccli.arrays)."""
    PRIMS[prim.name] = prim


def function_names() -> list[str]:
    return sorted([n for n, p in PRIMS.items() if p.is_function] + list(ALIASES))
