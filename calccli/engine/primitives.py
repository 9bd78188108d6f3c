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
    hidden: bool = False            # internal (vector, index, matmul): not callable by name
    spelled: str | None = None      # the name as written, when it differs (vmax is written max)
    teacher: str | None = None      # how the step-by-step views write it, {0} the operand: 1[{0} > 0]
    # A hint where its derivative does not exist, {0} the operand as written, {p} the same
    # in parentheses unless it is a name (norm: its square is smooth at 0).
    kink_hint: str | None = None
    # Optional, for the float reverse pass: float_partial(k, consts) -> ∂out/∂args[k] as a
    # float function of args[k] alone (or a number), given the arguments that are numbers on
    # the tape (consts[m], None where not); None: use partials[k]. Same values as partials[k].
    float_partial: Callable | None = None

    @property
    def is_function(self) -> bool:
        return self.infix is None and self.name not in ("neg",) and not self.hidden


def _pow(x: float, y: float) -> float:
    if x == 0.0 and y < 0.0:
        raise ZeroDivisionError("0 to a negative power")
    return math.pow(x, y)


def _pow_dx(o, x, y, out):
    """∂(x^y)/∂x = y·x^(y-1); a zero exponent that is a plain number gives 0
    (x^0 = 1 everywhere, also at x = 0 where 0·0^(-1) would fail)."""
    if isinstance(y, (int, float)) and y == 0:
        return 0
    return y * o.pow(x, y - 1)


def _pow_dx_float(k: int, consts: tuple):
    """∂(x^c)/∂x for an exponent c that is a number on the tape, as a function of
    x alone: the values of ``_pow_dx`` without its dispatch (x^1 is x, exactly)."""
    c = consts[1] if k == 0 else None
    if c is None:
        return None
    if c == 0:
        return 0
    e = c - 1
    if e == 0:
        return c
    if e == 1:
        return lambda x: c * x
    if e < 0:  # 0^e fails as _pow does
        return lambda x: c * _pow(x, e)
    pw = math.pow
    return lambda x: c * pw(x, e)


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
         # ∂/∂y as -(x/y)/y, not -x/(y·y): y·y underflows to 0 for |y| < 1e-162
         (lambda o, x, y, out: 1 / y, lambda o, x, y, out: -out / y),
         np="divide", infix="/", prec=PREC_MUL, latex=r"\frac{{{0}}}{{{1}}}",
         domain="a nonzero divisor"),
    Prim("neg", 1, operator.neg, (lambda o, x, out: -1,),
         np="negative", prec=PREC_NEG, latex="-{0}"),
    # x^y: the integer-power rule y·x^(y-1) holds for x < 0 too; ∂/∂y needs x > 0
    # and is only computed when the exponent depends on a variable.
    Prim("pow", 2, _pow,
         (_pow_dx, lambda o, x, y, out: out * o.log(x)),
         np="power", infix="^", prec=PREC_POW, latex="{0}^{{{1}}}",
         domain="a base ≥ 0 unless the exponent is an integer", float_partial=_pow_dx_float),
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
    Prim("exp", 1, math.exp, (lambda o, x, out: out,), np="exp", latex=r"\exp\left({0}\right)"),
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


# ---------------------------------------------------------------------------
# Machine-learning building blocks (elementwise).
#
# Non-smooth points, one convention (abs's): at a kink or a jump (relu, sign,
# leaky_relu at 0; max, min at a tie) the derivative does not exist and calc
# says "not differentiable at this point". The rules get this from ``step``,
# the indicator 1[x > 0], which has no value at 0: relu' = step(x),
# max'(a, b) = (step(a - b), step(b - a)). Symbolic derivatives keep step(…),
# so evaluating them at the kink gives the same answer.

def _step(x: float) -> float:
    if x == 0.0:
        raise ValueError("step(0) is undefined (1[x > 0] jumps there)")
    return 1.0 if x > 0 else 0.0


def _relu(x: float) -> float:
    return x if x > 0 else 0.0


def _leaky_relu(x: float, a: float) -> float:
    return x if x > 0 else a * x


def _sign(x: float) -> float:
    return 1.0 if x > 0 else (-1.0 if x < 0 else 0.0)


def _log_base(b: float):
    log = math.log2 if b == 2 else math.log10

    def f(x: float) -> float:
        if x == 0.0:
            raise ValueError(f"log{int(b)}(0)")
        return log(x)
    return f


def _pi(o):
    """π in the namespace ``o`` (an exact constant for expression nodes)."""
    return getattr(o, "pi", None) or math.pi


def _kink_free_zero(o, x):
    """0 where x ≠ 0; no value at 0 (sign's derivative: the jump has none)."""
    return 0 * o.step(x)


_ML_TABLE = [
    Prim("step", 1, _step, (lambda o, x, out: _kink_free_zero(o, x),), np="step",
         latex=r"\mathbb{{1}}\left[{0} > 0\right]", domain="x ≠ 0: 1[x > 0] jumps at 0", teacher="1[{0} > 0]"),
    Prim("relu", 1, _relu, (lambda o, x, out: o.step(x),), np="relu",
         latex=r"\operatorname{{relu}}\left({0}\right)"),
    # ∂/∂x = a + (1 - a)·1[x > 0]; ∂/∂a = min(x, 0), which is continuous at 0
    Prim("leaky_relu", 2, _leaky_relu,
         (lambda o, x, a, out: a + (1 - a) * o.step(x), lambda o, x, a, out: o.min(x, 0.0)),
         np="leaky_relu", latex=r"\operatorname{{leaky\_relu}}\left({0}, {1}\right)"),
    Prim("sign", 1, _sign, (lambda o, x, out: _kink_free_zero(o, x),), np="sign",
         latex=r"\operatorname{{sign}}\left({0}\right)"),
    Prim("log1p", 1, lambda x: math.log1p(x), (lambda o, x, out: 1 / (1 + x),), np="log1p",
         latex=r"\ln\left(1 + {0}\right)", domain="arguments > -1"),
    Prim("expm1", 1, math.expm1, (lambda o, x, out: o.exp(x),), np="expm1",
         latex=r"\left(\exp\left({0}\right) - 1\right)"),
    Prim("log2", 1, _log_base(2), (lambda o, x, out: 1 / (x * o.log(2.0)),), np="log2",
         latex=r"\log_2\left({0}\right)", domain="arguments > 0"),
    Prim("log10", 1, _log_base(10), (lambda o, x, out: 1 / (x * o.log(10.0)),), np="log10",
         latex=r"\log_{{10}}\left({0}\right)", domain="arguments > 0"),
    Prim("erf", 1, math.erf, (lambda o, x, out: 2 / o.sqrt(_pi(o)) * o.exp(-(x * x)),), np="erf",
         latex=r"\operatorname{{erf}}\left({0}\right)"),
    Prim("max", 2, lambda a, b: a if a >= b else b,
         (lambda o, a, b, out: o.step(a - b), lambda o, a, b, out: o.step(b - a)), np="maximum",
         latex=r"\max\left({0}, {1}\right)"),
    Prim("min", 2, lambda a, b: a if a <= b else b,
         (lambda o, a, b, out: o.step(b - a), lambda o, a, b, out: o.step(a - b)), np="minimum",
         latex=r"\min\left({0}, {1}\right)"),
    # ∂/∂y = x/(x² + y²), ∂/∂x = -y/(x² + y²): at the origin 0/0, not differentiable
    Prim("atan2", 2, math.atan2,
         (lambda o, y, x, out: x / (x * x + y * y), lambda o, y, x, out: -y / (x * x + y * y)),
         np="arctan2", latex=r"\operatorname{{atan2}}\left({0}, {1}\right)"),
    # x .* y (also x ⊙ y) and x .^ y: entry by entry for arrays of equal shape
    # (or a scalar and an array); * between arrays stays the matrix product.
    Prim("emul", 2, operator.mul, (lambda o, x, y, out: y, lambda o, x, y, out: x),
         np="multiply", infix=".*", prec=PREC_MUL, latex=r"{0} \odot {1}"),
    Prim("epow", 2, _pow,
         (lambda o, x, y, out: 0 if isinstance(y, (int, float)) and y == 0 else y * o.epow(x, y - 1),
          lambda o, x, y, out: out * o.log(x)),
         np="power", infix=".^", prec=PREC_POW, latex=r"{0}^{{\circ {1}}}",
         domain="a base ≥ 0 unless the exponent is an integer"),
    # The identity with derivative 0 (JAX's stop_gradient). Internal: the shift of fit's
    # softmax and logsumexp written in components (engine/arrays.py), which they do not see.
    Prim("nograd", 1, lambda x: x, (lambda o, x, out: 0.0,), np="positive", hidden=True,
         float_partial=lambda k, consts: 0.0),
]
_TABLE += _ML_TABLE

PRIMS: dict[str, Prim] = {p.name: p for p in _TABLE}
FUNCTIONS: dict[str, Prim] = {n: p for n, p in PRIMS.items() if p.is_function}   # kept by register()

# Names the parser accepts as function calls (aliases included).
ALIASES = {"ln": "log"}
# One name, two primitives told apart by the number of arguments: max(x) of a
# vector is the reduction vmax, max(a, b) the elementwise maximum.
BY_ARITY = {("max", 1): "vmax", ("min", 1): "vmin"}
# Written as calls, read as vector literals: ones(3) is [1, 1, 1].
FILLED = ("ones", "zeros")


def register(prim: Prim) -> None:
    """Add a primitive to the table (and to FUNCTIONS, its index of names callable as f(…))."""
    PRIMS[prim.name] = prim
    if prim.is_function:
        FUNCTIONS[prim.name] = prim
    else:
        FUNCTIONS.pop(prim.name, None)


def function_names() -> list[str]:
    return sorted([n for n, p in PRIMS.items() if p.is_function] + list(ALIASES) + list(FILLED))


# ---------------------------------------------------------------------------
# Vectors and matrices: entries of the same table.
#
# Values: a float is a scalar, a 1-d numpy array a (column) vector, a 2-d array
# a matrix; a 1×n matrix is a row vector, which is what x^T gives. numpy is
# imported inside the functions, so these entries cost nothing on the scalar
# path. ``array`` holds
#   shape(shapes, names) -> shape    shapes as tuples: () scalar, (n,) vector,
#                                    (m, n) matrix; raises ShapeError in words
#   jvp(o, args, out, tangents)      tangent of the output (None tangent: zero)
#   vjp(o, k, g, args, out)          the adjoint contribution to args[k]
#   adjoint(k, g, names, out) -> str that contribution in words, for --steps
#   tangent(t, names, out) -> str    the output's tangent in words (t: the
#                                    arguments' tangent names, None: zero)
# JVP/VJP rules use Python operators (+ - * elementwise and broadcasting, [k]),
# ``.T`` (plain matrix transpose) and the namespace ``o`` (o.matmul,
# o.transpose, o.fit(c, like): reduce/reshape c to like's shape), so the same
# rule runs on arrays and on dual numbers over arrays (Hessians).

from calccli.engine.expr import Node  # noqa: E402
from calccli.errors import ShapeError  # noqa: E402


def _np():
    import numpy
    return numpy


def _real(r):
    """A 0-d result as a float. An expression node stays as it is: the array
    functions below also run on arrays of nodes (``arrays.SYMBOLS``, fit's scalarising)."""
    return r if isinstance(r, Node) else float(r)


def _base(v):
    """A dual number's value (other values are returned as they are)."""
    return getattr(v, "v", v)


def shape_of(v) -> tuple:
    return tuple(getattr(_base(v), "shape", ()))


def _ndim(v) -> int:
    return len(shape_of(v))


def shape_words(s: tuple) -> str:
    """'a scalar', 'a vector of length 3', 'a 1×3 row vector', 'a 2×3 matrix', 'an n×m matrix'
    (dimensions may be numbers or symbolic names)."""
    if not s:
        return "a scalar"
    if len(s) == 1:
        return f"a vector of length {s[0]}"
    if s[0] == 1:
        return f"a 1×{s[1]} row vector"
    art = "an" if str(s[0])[:1] in "aefhilmnorsx8" else "a"
    return f"{art} {s[0]}×{s[1]} matrix"


def shape_is(name: str, s: tuple) -> str:
    """'A is 3×2', 'x has length 3', 'c is a scalar'."""
    if not s:
        return f"{name} is a scalar"
    if len(s) == 1:
        return f"{name} has length {s[0]}"
    return f"{name} is {s[0]}×{s[1]}"


def _shape_error(message: str, arg: int | None = None) -> ShapeError:
    e = ShapeError(message)
    e.arg = arg  # which operand the caret should point at (None: the whole call)
    return e


def _is_vec(s):  # a column or a row vector
    return len(s) == 1 or (len(s) == 2 and s[0] == 1)


def _vec_len(s):
    return s[-1]


def _square(name):
    def rule(shapes, names):
        s = shapes[0]
        if len(s) == 2 and s[0] == s[1]:
            return ()
        why = "it is a scalar" if not s else shape_is(names[0], s)
        raise _shape_error(f"{name}({names[0]}) needs a square matrix; {why}")
    return rule


def _ones(o, v):
    """Ones in the shape of v; a namespace may make its own (symbolic values)."""
    if o.ones is not None:
        return o.ones(v)
    s = shape_of(v)
    return _np().ones(s) if s else 1.0


def _eye(o, v):
    """The identity matrix of v's size; a namespace may make its own (symbolic values)."""
    if o.eye is not None:
        return o.eye(v)
    return _np().eye(shape_of(v)[0])


def _mask(v, sel):
    m = _np().zeros(shape_of(v))
    m[sel] = 1.0
    return m


# vector: [a, b, c] (scalars → a vector) or [[…], […]] (equal rows → a matrix)

def _vector_f(*items):
    np = _np()
    if all(isinstance(a, float | int) for a in items):
        return np.array(items, dtype=float)
    dtype = object if any(isinstance(a, Node) or getattr(a, "dtype", None) == object for a in items) else float
    if all(isinstance(a, float | int | Node) for a in items):
        return np.array(items, dtype=dtype)
    return np.stack([np.ravel(np.asarray(a, dtype=dtype)) for a in items])


def _vector_shape(shapes, names):
    if all(s == () for s in shapes):
        return (len(shapes),)
    lengths = []
    for k, s in enumerate(shapes):
        if s == ():
            raise _shape_error("a matrix literal mixes numbers and rows: write every row in brackets, "
                               "as in [[1, 2], [3, 4]]", k)
        if not _is_vec(s):
            raise _shape_error(f"a matrix literal's rows must be vectors; row {k + 1} is {shape_words(s)}", k)
        lengths.append(_vec_len(s))
    for k, n in enumerate(lengths):
        if n != lengths[0]:
            raise _shape_error(f"ragged matrix literal: row 1 has {lengths[0]} entries, "
                               f"row {k + 1} has {n}", k)
    return (len(shapes), lengths[0])


def _vector_jvp(o, args, out, tans):
    return o.vector(*[t if t is not None else 0.0 * a for a, t in zip(args, tans)])


def _vector_vjp(o, k, g, args, out):
    return o.fit(g[k], args[k])


# transpose: x^T. A vector is a column, so (n,) ↔ (1, n); matrices swap axes.

def _transpose_f(x):
    if isinstance(x, float | int | Node):
        return x
    if x.ndim == 1:
        return x.reshape(1, -1)
    if x.shape[0] == 1:
        return x.reshape(-1)
    return x.T


def transpose_shape(s: tuple) -> tuple:
    """The shape of a transpose (a column vector's is a row, a row's a column); dimensions may be names."""
    if not s:
        return ()
    if len(s) == 1:
        return (1, s[0])
    if s[0] == 1:
        return (s[1],)
    return (s[1], s[0])


def _transpose_shape(shapes, names):
    return transpose_shape(shapes[0])


# matmul: what * and juxtaposition mean between two non-scalars. A row times a
# column is a scalar (so x^T A x is one); a column times a row is the outer product.

def _matmul_f(a, b):
    np = _np()
    if a.ndim == 1:
        return np.outer(a, b)
    r = a @ b
    if b.ndim == 1 and a.shape[0] == 1:
        return _real(r[0])
    return r


def _matmul_shape(shapes, names):
    a, b = shapes
    na, nb = names[0], names[1]
    both = getattr(names, "whole", None) or f"{na} {nb}"   # the product as written
    if len(a) == 2 and len(b) == 1 and a[1] == b[0]:
        return () if a[0] == 1 else (a[0],)
    if len(a) == 2 and len(b) == 2 and a[1] == b[0]:
        return (a[0], b[1])
    if len(a) == 1 and len(b) == 2 and b[0] == 1:
        return (a[0], b[1])
    if len(a) == 1 and len(b) == 1 and a == b:
        raise _shape_error(f"{both}: {na} and {nb} are both column vectors of length {a[0]}; "
                           f"for their dot product write {na}^T {nb} or dot({na}, {nb})")
    raise _shape_error(f"{both}: {shape_is(na, a)}, {shape_is(nb, b)}")


def _bilinear_jvp(name):
    """JVP of a bilinear f(a, b) (matmul, dot): f(ȧ, b) + f(a, ḃ), skipping zero tangents."""
    def jvp(o, args, out, tans):
        f = getattr(o, name)
        (a, b), (ta, tb) = args, tans
        t = None if ta is None else f(ta, b)
        if tb is not None:
            c = f(a, tb)
            t = c if t is None else t + c
        return t
    return jvp


_matmul_jvp = _bilinear_jvp("matmul")


def _matmul_vjp(o, k, g, args, out):
    a, b = args
    scalar_out = _ndim(out) == 0
    if _ndim(a) == 1:                      # outer product a bᵀ-row
        c = o.matmul(g, b.T) if k == 0 else o.matmul(o.transpose(a), g)
    elif _ndim(b) == 1:                    # matrix (or row) times vector
        if k == 0:
            c = g * o.transpose(b) if scalar_out else o.matmul(g, o.transpose(b))
        else:
            c = g * o.transpose(a) if scalar_out else o.matmul(a.T, g)
    else:                                  # matrix times matrix
        c = o.matmul(g, b.T) if k == 0 else o.matmul(a.T, g)
    return o.fit(c, args[k])


# dot, norm, sum, trace, det, inv

def _dot_f(u, v):
    np = _np()
    return _real(np.dot(np.ravel(u), np.ravel(v)))


def _dot_shape(shapes, names):
    a, b = shapes
    if _is_vec(a) and _is_vec(b) and _vec_len(a) == _vec_len(b):
        return ()
    for k, s in enumerate((a, b)):
        if not _is_vec(s):
            raise _shape_error(f"dot({names[0]}, {names[1]}) needs two vectors; {names[k]} is {shape_words(s)}", k)
    raise _shape_error(f"dot({names[0]}, {names[1]}) needs two vectors of the same length; "
                       f"{shape_is(names[0], a)}, {shape_is(names[1], b)}")


_dot_jvp = _bilinear_jvp("dot")


def _norm_f(x):
    if isinstance(x, float | int):
        return abs(float(x))
    return float(_np().linalg.norm(x))


def _sum_f(x):
    if isinstance(x, float | int | Node):
        return _real(x)
    return _real(_np().sum(x))


def _trace_f(a):
    return _real(_np().trace(a))


def _det_f(a):
    return float(_np().linalg.det(a))


def _singular(a) -> bool:
    np = _np()
    with np.errstate(all="ignore"):
        c = np.linalg.cond(a)
    return not np.isfinite(c) or c * np.finfo(float).eps >= 1.0


def _inv_f(a):
    np = _np()
    if _singular(a):
        raise ValueError("singular matrix")
    return np.linalg.inv(a)


def _cofactor_f(a):
    """The cofactor matrix C (∂det(A)/∂A = C = det(A) A⁻ᵀ), also for singular A."""
    np = _np()
    n = a.shape[0]
    if n == 1:
        return np.ones((1, 1))
    if n > 4 and not _singular(a):
        return np.linalg.det(a) * np.linalg.inv(a).T
    c = np.empty_like(a, dtype=float)
    for i in range(n):
        for j in range(n):
            m = np.delete(np.delete(a, i, axis=0), j, axis=1)
            c[i, j] = (-1) ** (i + j) * np.linalg.det(m)
    return c


def _cofactor_jvp(o, args, out, tans):
    np = _np()
    a, t = args[0], tans[0]
    n = a.shape[0]
    if n == 1:
        return np.zeros((1, 1))
    if n > 4 and not _singular(a):
        ainv_t = np.linalg.inv(a).T
        return np.sum(out * t) * ainv_t - out @ t.T @ ainv_t
    d = np.empty_like(a, dtype=float)
    for i in range(n):
        for j in range(n):
            m = np.delete(np.delete(a, i, axis=0), j, axis=1)
            tm = np.delete(np.delete(t, i, axis=0), j, axis=1)
            d[i, j] = (-1) ** (i + j) * np.sum(_cofactor_f(m) * tm)
    return d


def _adjoint_text(*templates):
    def text(k, g, names, out):
        return templates[k].format(*names, g=g, out=out)
    return text


def _tangent_text(*templates):
    """The tangent of a row from its arguments' tangents t0, t1 (None: zero) in words."""
    def text(t, names, out):
        terms = [tpl.format(*names, t0=t[0], t1=t[1] if len(t) > 1 else None, out=out)
                 for k, tpl in enumerate(templates) if t[k] is not None]
        return " + ".join(terms) or "0"
    return text


def _no_vjp(o, k, g, args, out):  # pragma: no cover - used only inside other rules
    raise NotImplementedError("cofactor is not differentiated in reverse mode")


_ARRAY_TABLE = [
    Prim("vector", -1, _vector_f, (), hidden=True, array={
        "shape": _vector_shape, "jvp": _vector_jvp, "vjp": _vector_vjp,
        "adjoint": lambda k, g, names, out: f"{g}[{k + 1}]",
        "tangent": lambda t, names, out: "[" + ", ".join(x or "0" for x in t) + "]"}),
    Prim("transpose", 1, _transpose_f, (), latex=r"{0}^{{\top}}", array={
        "shape": _transpose_shape,
        "jvp": lambda o, args, out, tans: o.transpose(tans[0]),
        "vjp": lambda o, k, g, args, out: o.fit(o.transpose(g), args[0]),
        "adjoint": _adjoint_text("({g})ᵀ"), "tangent": _tangent_text("({t0})ᵀ")}),
    Prim("matmul", 2, _matmul_f, (), hidden=True, prec=PREC_MUL, latex="{0} {1}", array={
        "shape": _matmul_shape, "jvp": _matmul_jvp, "vjp": _matmul_vjp,
        "adjoint": _adjoint_text("{g}·{1}ᵀ", "{0}ᵀ·{g}"), "tangent": _tangent_text("{t0}·{1}", "{0}·{t1}")}),
    Prim("dot", 2, _dot_f, (), latex=r"{0} \cdot {1}", array={
        "shape": _dot_shape, "jvp": _dot_jvp,
        "vjp": lambda o, k, g, args, out: o.fit(g * args[1 - k], args[k]),
        "adjoint": _adjoint_text("{g}·{1}", "{g}·{0}"),
        "tangent": _tangent_text("dot({t0}, {1})", "dot({0}, {t1})")}),
    Prim("norm", 1, _norm_f, (), latex=r"\left\|{0}\right\|",
         kink_hint="‖{0}‖ has no derivative at {0} = 0, but ‖{0}‖² has: write {p}^T {p} (or sum({p} .^ 2))", array={
        "shape": lambda shapes, names: (),
        "jvp": lambda o, args, out, tans: o.sum(args[0] * tans[0]) / out,
        "vjp": lambda o, k, g, args, out: o.fit((g / out) * args[0], args[0]),
        "adjoint": _adjoint_text("{g}·{0}/{out}"), "tangent": _tangent_text("dot({0}, {t0})/{out}")}),
    Prim("sum", 1, _sum_f, (), latex=r"\sum {0}", array={
        "shape": lambda shapes, names: (),
        "jvp": lambda o, args, out, tans: o.sum(tans[0]),
        "vjp": lambda o, k, g, args, out: g * _ones(o, args[0]),
        "adjoint": _adjoint_text("{g}·ones"), "tangent": _tangent_text("sum({t0})")}),
    Prim("trace", 1, _trace_f, (), latex=r"\operatorname{{tr}}\left({0}\right)", array={
        "shape": _square("trace"),
        "jvp": lambda o, args, out, tans: o.trace(tans[0]),
        "vjp": lambda o, k, g, args, out: g * _eye(o, args[0]),
        "adjoint": _adjoint_text("{g}·I"), "tangent": _tangent_text("trace({t0})")}),
    Prim("det", 1, _det_f, (), latex=r"\det\left({0}\right)", array={
        "shape": _square("det"),
        "jvp": lambda o, args, out, tans: o.sum(o.cofactor(args[0]) * tans[0]),
        "vjp": lambda o, k, g, args, out: g * o.cofactor(args[0]),
        "adjoint": _adjoint_text("{g}·{out}·{0}⁻ᵀ"), "tangent": _tangent_text("{out}·trace({0}⁻¹·{t0})")}),
    Prim("inv", 1, _inv_f, (), latex="{0}^{{-1}}", domain="it must be invertible; this matrix is singular",
         array={
        "shape": lambda shapes, names: (_square("inv")(shapes, names), shapes[0])[1],
        "jvp": lambda o, args, out, tans: -o.matmul(o.matmul(out, tans[0]), out),
        "vjp": lambda o, k, g, args, out: -o.matmul(o.matmul(out.T, g), out.T),
        "adjoint": _adjoint_text("-{out}ᵀ·{g}·{out}ᵀ"), "tangent": _tangent_text("-{out}·{t0}·{out}")}),
    # inside the rules of det only: C = det(A) A⁻ᵀ, defined for singular A too
    Prim("cofactor", 1, _cofactor_f, (), hidden=True, array={
        "shape": _square("cofactor"), "jvp": _cofactor_jvp, "vjp": _no_vjp}),
    # x[i], A[i, j], A[i] (row i as a vector). The indices are the node's value,
    # so the tape uses index_prim(indices), whose rules know them.
    Prim("index", 1, lambda x: _no_indices(), (), hidden=True, array={
        "shape": lambda shapes, names: _no_indices()}),
]


# Machine-learning reductions and maps (vectors). Numerically stable forms:
# logsumexp(x) = m + log Σ exp(x - m) with m = max(x), softmax = exp(x - m)/Σ.
# max(x) and min(x) have no derivative at a tie (two entries equal to the
# maximum): the same convention as relu at 0.

def _size(v) -> int:
    n = 1
    for d in shape_of(v):
        n *= d
    return n


def _mean_f(x):
    if isinstance(x, float | int | Node):
        return _real(x)
    return _real(_np().mean(x))


def _extreme(pick):
    def f(x):
        if isinstance(x, float | int):
            return float(x)
        return float(getattr(_np(), pick)(x))
    return f


def _argmask(pick):
    """The one-hot mask of the maximum (minimum) entry; a tie has no derivative."""
    def mask(v):
        np = _np()
        a = np.asarray(_base(v), dtype=float)
        if a.ndim == 0:
            return 1.0
        hits = a == getattr(np, pick)(a)
        if int(hits.sum()) > 1:
            raise ValueError(f"{pick}(x) is attained at several entries (a tie): no derivative there")
        return hits.astype(float)
    return mask


def _softmax_f(x):
    np = _np()
    if isinstance(x, float | int):
        return 1.0
    e = np.exp(x - np.max(x))
    return e / np.sum(e)


def _logsumexp_f(x):
    np = _np()
    if isinstance(x, float | int):
        return float(x)
    m = float(np.max(x))
    if not math.isfinite(m):
        raise OverflowError("logsumexp of a non-finite entry")
    return m + float(np.log(np.sum(np.exp(x - m))))


def _log_softmax_f(x):
    np = _np()
    if isinstance(x, float | int):
        return 0.0
    z = x - np.max(x)        # (x - m) - log Σ exp(x - m): no cancellation of a large m
    return z - np.log(np.sum(np.exp(z)))


def _vector_only(name, scalar_ok=False):
    def rule(shapes, names):
        s = shapes[0]
        if len(s) == 1 or (scalar_ok and not s):
            return s
        raise _shape_error(f"{name}({names[0]}) needs a vector; {shape_is(names[0], s) if s else names[0] + ' is a scalar'}")
    return rule


def _outer_shape(shapes, names):
    a, b = shapes
    for k, s in enumerate((a, b)):
        if len(s) != 1:
            raise _shape_error(f"outer({names[0]}, {names[1]}) needs two (column) vectors; "
                               f"{names[k]} is {shape_words(s)}", k)
    return (a[0], b[0])


def _outer_f(u, v):
    return _np().outer(u, v)


def _diag_f(v):
    return _np().diag(v)


def _diag_vjp(o, k, g, args, out):
    """The diagonal of g: (g ⊙ I)·1, written with operations every namespace has."""
    return o.fit(o.matmul(g * _eye(o, out), _ones(o, args[0])), args[0])


def _outer_vjp(o, k, g, args, out):
    u, v = args
    c = o.matmul(g, v) if k == 0 else o.matmul(o.transpose(g), u)
    return o.fit(c, args[k])


_vmax_mask, _vmin_mask = _argmask("max"), _argmask("min")

_ML_ARRAY_TABLE = [
    Prim("mean", 1, _mean_f, (), latex=r"\operatorname{{mean}}\left({0}\right)", array={
        "shape": lambda shapes, names: (),
        "jvp": lambda o, args, out, tans: o.sum(tans[0]) / _size(args[0]),
        "vjp": lambda o, k, g, args, out: (g / _size(args[0])) * _ones(o, args[0]),
        "adjoint": _adjoint_text("{g}·1/n"), "tangent": _tangent_text("mean({t0})")}),
    Prim("vmax", 1, _extreme("max"), (), spelled="max", latex=r"\max\left({0}\right)", array={
        "shape": lambda shapes, names: (),
        "jvp": lambda o, args, out, tans: o.sum(_vmax_mask(args[0]) * tans[0]),
        "vjp": lambda o, k, g, args, out: g * _vmax_mask(args[0]),
        "adjoint": _adjoint_text("{g}·1[{0} = max({0})]"), "tangent": _tangent_text("{t0} at the argmax")}),
    Prim("vmin", 1, _extreme("min"), (), spelled="min", latex=r"\min\left({0}\right)", array={
        "shape": lambda shapes, names: (),
        "jvp": lambda o, args, out, tans: o.sum(_vmin_mask(args[0]) * tans[0]),
        "vjp": lambda o, k, g, args, out: g * _vmin_mask(args[0]),
        "adjoint": _adjoint_text("{g}·1[{0} = min({0})]"), "tangent": _tangent_text("{t0} at the argmin")}),
    # ∂s/∂z = diag(s) - s sᵀ, applied without forming the matrix
    Prim("softmax", 1, _softmax_f, (), latex=r"\operatorname{{softmax}}\left({0}\right)", array={
        "shape": _vector_only("softmax"),
        "jvp": lambda o, args, out, tans: out * (tans[0] - o.sum(out * tans[0])),
        "vjp": lambda o, k, g, args, out: o.fit(out * (g - o.sum(g * out)), args[0]),
        "adjoint": _adjoint_text("(diag({out}) − {out} {out}ᵀ)·{g}"),
        "tangent": _tangent_text("(diag({out}) − {out} {out}ᵀ)·{t0}")}),
    # ∂/∂z logsumexp(z) = softmax(z)
    Prim("logsumexp", 1, _logsumexp_f, (), latex=r"\log\sum\exp\left({0}\right)", array={
        "shape": lambda shapes, names: (),
        "jvp": lambda o, args, out, tans: o.sum(o.softmax(args[0]) * tans[0]),
        "vjp": lambda o, k, g, args, out: o.fit(g * o.softmax(args[0]), args[0]),
        "adjoint": _adjoint_text("{g}·softmax({0})"), "tangent": _tangent_text("softmax({0})ᵀ·{t0}")}),
    # ∂ log_softmax(z)/∂z = I - 1 softmax(z)ᵀ, softmax(z) = exp(out)
    Prim("log_softmax", 1, _log_softmax_f, (), latex=r"\log\operatorname{{softmax}}\left({0}\right)", array={
        "shape": _vector_only("log_softmax"),
        "jvp": lambda o, args, out, tans: tans[0] - o.sum(o.exp(out) * tans[0]),
        "vjp": lambda o, k, g, args, out: o.fit(g - o.exp(out) * o.sum(g), args[0]),
        "adjoint": _adjoint_text("{g} − exp({out})·sum({g})"),
        "tangent": _tangent_text("(I − 1 exp({out})ᵀ)·{t0}")}),
    Prim("outer", 2, _outer_f, (), latex=r"{0} {1}^{{\top}}", array={
        "shape": _outer_shape, "jvp": _bilinear_jvp("outer"), "vjp": _outer_vjp,
        "adjoint": _adjoint_text("{g}·{1}", "{g}ᵀ·{0}"), "tangent": _tangent_text("{t0} {1}ᵀ", "{0} {t1}ᵀ")}),
    Prim("diag", 1, _diag_f, (), latex=r"\operatorname{{diag}}\left({0}\right)", array={
        "shape": lambda shapes, names: (lambda s: (s[0], s[0]))(_vector_only("diag")(shapes, names)),
        "jvp": lambda o, args, out, tans: o.diag(tans[0]), "vjp": _diag_vjp,
        "adjoint": _adjoint_text("the diagonal of {g}"), "tangent": _tangent_text("diag({t0})")}),
]

for _p in _ML_ARRAY_TABLE:
    register(_p)


def _no_indices():
    raise ValueError("index needs its indices: use index_prim(indices)")


for _p in _ARRAY_TABLE:
    register(_p)


def _selection(shape: tuple, idx: tuple, name: str = "x"):
    """The 0-based numpy selection for 1-based ``idx`` into ``shape`` and the result's shape."""
    if not shape:
        raise _shape_error(f"{name} is a scalar and cannot be indexed")
    what = f"{name} has length {shape[0]}" if len(shape) == 1 else f"{name} is {shape[0]}×{shape[1]}"
    if len(shape) == 2 and shape[0] == 1 and len(idx) == 1:   # an entry of a row vector
        if idx[0] > shape[1]:
            raise _shape_error(f"index {idx[0]} is out of range: {what}")
        return (0, idx[0] - 1), ()
    if len(idx) > len(shape):
        raise _shape_error(f"{name}[{', '.join(map(str, idx))}]: {len(idx)} indices, but {shape_is(name, shape)}")
    for k, (i, n) in enumerate(zip(idx, shape)):
        if i > n:
            which = "" if len(shape) == 1 else (" (row)" if k == 0 else " (column)")
            raise _shape_error(f"index {i}{which} is out of range: {what}")
    sel = tuple(i - 1 for i in idx)
    return sel, tuple(shape[len(idx):])


_SPECIAL: dict[str, Prim] = {}


def index_prim(idx: tuple) -> Prim:
    """The primitive ``x[idx]`` for fixed 1-based indices (one per distinct index)."""
    name = "index[" + ",".join(map(str, idx)) + "]"
    p = _SPECIAL.get(name)
    if p is not None:
        return p
    idx = tuple(idx)

    def sel_for(v):
        return _selection(shape_of(v), idx)[0]

    def f(x):
        r = x[sel_for(x)]
        return _real(r) if getattr(r, "ndim", 0) == 0 else r

    def shape(shapes, names):
        return _selection(shapes[0], idx, names[0])[1]

    p = Prim(name, 1, f, (), hidden=True, array={
        "shape": shape,
        "jvp": lambda o, args, out, tans: f(tans[0]),
        "vjp": lambda o, k, g, args, out: g * _mask(args[0], sel_for(args[0])),
        "adjoint": lambda k, g, names, out: f"{g} placed at [{', '.join(map(str, idx))}]",
        "tangent": lambda t, names, out: f"{t[0]}[{', '.join(map(str, idx))}]"})
    _SPECIAL[name] = p
    return p


def specialised(name: str) -> Prim | None:
    """A primitive made for one node (``index[2]``), by name, if it has been made."""
    return _SPECIAL.get(name)
