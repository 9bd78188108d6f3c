"""Vectors and matrices: shape checking before evaluation, and the ARRAY namespace.

:func:`calccli.evaluate.ops_for` calls :func:`prepare` for every tape that has
an array literal or an array-valued binding. ``prepare``

1. infers the shape of every tape node before anything is evaluated; a
   mismatch is a :class:`ShapeError` in words, with a caret under the place in
   the input ("cannot add a vector of length 2 and a vector of length 3",
   "A x: A is 3×2, x has length 3");
2. resolves what each row means for these shapes: ``*`` (and juxtaposition)
   between two non-scalars becomes the table's ``matmul``, ``x[2]`` the
   table's ``index[2]`` (``tape.prims`` of this tape is rewritten; the nodes
   and their printing stay as written);
3. returns :data:`ARRAY`, the numpy namespace the interpreters run on.

The primitives themselves (rules, shapes in words) are entries of
:mod:`calccli.primitives`; this module only adds the numpy versions of the
scalar functions (elementwise, with the same domain errors as the scalar
path), ``fit`` and ``check_finite``; and :data:`SYMBOLS`, the same tape on
arrays of expression nodes (fit writes a vector loss in components with it).
"""
from __future__ import annotations

import math
import warnings

import numpy as np

from calccli.errors import ShapeError
from calccli.engine.ops import Ops
from calccli.engine.primitives import PRIMS, Prim, index_prim, shape_of, shape_words

# numpy's floating-point warnings ("divide by zero encountered in divide") from
# the rules' Python arithmetic on arrays: calc checks every value and every
# derivative contribution itself and reports the row (see ``fit`` and
# ``check_finite``), so the warnings are noise. numpy's error state is
# process-wide; np.errstate(...) blocks elsewhere still override it.
np.seterr(divide="ignore", over="ignore", invalid="ignore", under="ignore")
warnings.filterwarnings("ignore", category=RuntimeWarning, module=r"calccli(\.|$)")


# --------------------------------------------------------------------------- elementwise functions

def _is_scalar(v) -> bool:
    return isinstance(v, float | int)


def _check_log(x):
    a = np.asarray(x)
    if np.any(a < 0):
        raise ValueError("log of a negative number")
    if np.any(a == 0):
        raise ValueError("log(0)")


def _check_sqrt(x):
    if np.any(np.asarray(x) < 0):
        raise ValueError("sqrt of a negative number")


def _check_unit(x):
    if np.any(np.abs(np.asarray(x)) > 1):
        raise ValueError("outside [-1, 1]")


def _check_div(x, y):
    if np.any(np.asarray(y) == 0):
        raise ZeroDivisionError("division by zero")


def _check_pow(x, y):
    if isinstance(y, float | int) and y >= 0 and y == int(y):
        return                                   # a whole power ≥ 0 is defined for every base
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if np.any((x == 0) & (y < 0)):
        raise ZeroDivisionError("0 to a negative power")
    if np.any((x < 0) & (y != np.round(y))):
        raise ValueError("a negative number to a non-integer power")


def _check_log1p(x):
    if np.any(np.asarray(x) <= -1):
        raise ValueError("log1p of a number ≤ -1")


def _check_step(x):
    if np.any(np.asarray(x) == 0):
        raise ValueError("step(0) is undefined (1[x > 0] jumps there)")


_CHECKS = {"log": _check_log, "sqrt": _check_sqrt, "asin": _check_unit, "acos": _check_unit,
           "div": _check_div, "pow": _check_pow, "epow": _check_pow, "log2": _check_log,
           "log10": _check_log, "log1p": _check_log1p, "step": _check_step}


def _sigmoid(x):
    z = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + z), z / (1.0 + z))


def _softplus(x):
    return np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x)))


def _erf(x):
    return np.vectorize(math.erf, otypes=[float])(x)


_VECTORISED = {"sigmoid": _sigmoid, "softplus": _softplus, "erf": _erf,
               "step": lambda x: np.where(np.asarray(x) > 0, 1.0, 0.0),
               "relu": lambda x: np.maximum(x, 0.0),
               "leaky_relu": lambda x, a: np.where(np.asarray(x) > 0, x, np.multiply(a, x))}


def _elementwise(p: Prim):
    """A scalar primitive on floats and arrays: the table's float function on
    floats (the scalar path's exact arithmetic and errors), numpy on arrays."""
    scalar = p.f
    vec = _VECTORISED.get(p.name) or getattr(np, p.np)
    check = _CHECKS.get(p.name)

    def fn(*args):
        for a in args:
            if not isinstance(a, float | int):
                break
        else:
            return scalar(*args)
        if check is not None:
            check(*args)
        return vec(*args)
    fn.__name__ = p.name
    return fn


# --------------------------------------------------------------------------- fit and finiteness

def fit(c, like):
    """``c`` in the shape of ``like``: a broadcast contribution summed back (its
    reverse), a scalar spread out (forward), or reshaped (a row and a column of
    the same length). A contribution that is not finite means the derivative
    does not exist there: FloatingPointError, which the interpreters report
    as "not differentiable" at the row."""
    if isinstance(like, float | int):
        if not isinstance(c, float | int):
            c = float(np.sum(c))
        if not math.isfinite(c):
            raise FloatingPointError("the derivative is not finite")
        return c
    shape = like.shape
    if isinstance(c, float | int):
        if not math.isfinite(c):
            raise FloatingPointError("the derivative is not finite")
        return np.full(shape, float(c))
    if c.shape != shape:
        c = c.reshape(shape) if c.size == like.size else np.broadcast_to(c, shape).copy()
    if not np.isfinite(c).all():
        raise FloatingPointError("the derivative is not finite")
    return c


def check_finite(tape, vals) -> None:
    """Raise for the first row whose value is inf or NaN (named like the scalar path)."""
    for i in tape.rows:
        v = vals[i]
        ok = math.isfinite(v) if isinstance(v, float | int) else bool(np.isfinite(v).all())
        if not ok:
            from calccli.engine.diagnose import first_nonfinite
            raise first_nonfinite(tape, vals)


def _build() -> Ops:
    o = Ops(kind="array", zero=0.0, one=1.0, build=lambda p: p.f)
    for name, p in PRIMS.items():
        setattr(o, name, p.f if p.array else _elementwise(p))
    o.fit = fit
    o.check_finite = check_finite
    o.pi = math.pi
    return o


ARRAY = _build()


# --------------------------------------------------------------------------- arrays of symbols

# The array primitives whose table function is made of sums and products of
# entries, reshapes and selections, so that it also runs on numpy object arrays
# of expression nodes (x[2] runs "index[2]"; specialised, it is matched by prefix).
SYMBOLIC_ARRAY_PRIMS = frozenset({"vector", "transpose", "matmul", "dot", "sum", "mean", "trace", "outer",
                                  "diag", "index", "softmax", "logsumexp", "log_softmax", "norm"})


def symbolic_prim(name: str) -> bool:
    p = PRIMS.get(name)
    return (p is not None and not p.array) or name.partition("[")[0] in SYMBOLIC_ARRAY_PRIMS


def _entrywise_symbol(p: Prim):
    """A scalar primitive as a node of its arguments (no folding, no rewriting: the
    node computes what the primitive computes), entry by entry on arrays of nodes."""
    from calccli.engine.expr import lift, make
    name = p.name

    def one(*args):
        return make(name, tuple(map(lift, args)))
    each = np.frompyfunc(one, p.arity, 1)

    def fn(*args):
        for a in args:
            if isinstance(a, np.ndarray):
                return each(*args)
        return one(*args)
    fn.__name__ = p.name
    return fn


def _softmax_family(o: Ops) -> None:
    """softmax, logsumexp, log_softmax and norm of arrays of symbols, in entries. With
    d = z - m, m = nograd(mean(z)): softmax(z) = exp(d)/Σ exp(d), logsumexp(z) =
    m + log Σ exp(d), log_softmax(z) = d - log Σ exp(d). The shift changes none of them
    and carries no gradient; it keeps exp(d) finite while z's entries are within about
    700 of their mean (beyond, a chunk overflows and fit redoes it sample by sample) and
    Σ exp(d) ≥ 1, so that the log never meets 0."""
    from functools import reduce
    from operator import add

    def parts(z):   # m, d = z - m, exp(d), log Σ exp(d)
        zs = list(np.ravel(z))
        m = o.nograd(reduce(add, zs) / len(zs))
        d = [zi - m for zi in zs]
        e = [o.exp(di) for di in d]
        return m, d, e, reduce(add, e)

    def softmax(z):
        if not isinstance(z, np.ndarray):
            return 1.0
        _, _, e, s = parts(z)
        return np.array([ei / s for ei in e], dtype=object).reshape(z.shape)

    def logsumexp(z):
        if not isinstance(z, np.ndarray):
            return z
        m, _, _, s = parts(z)
        return m + o.log(s)

    def log_softmax(z):
        if not isinstance(z, np.ndarray):
            return 0.0
        _, d, _, s = parts(z)
        log_s = o.log(s)
        return np.array([di - log_s for di in d], dtype=object).reshape(z.shape)

    def norm(z):
        if not isinstance(z, np.ndarray):
            return o.abs(z)
        return o.sqrt(reduce(add, [zi * zi for zi in np.ravel(z)]))
    o.softmax, o.logsumexp, o.log_softmax, o.norm = softmax, logsumexp, log_softmax, norm


def _build_symbols() -> Ops:
    from calccli.engine.expr import ONE, ZERO
    o = Ops(kind="symbols", zero=ZERO, one=ONE, build=lambda p: p.f)
    for name, p in PRIMS.items():
        setattr(o, name, p.f if p.array else _entrywise_symbol(p))
    _softmax_family(o)
    o.pi = math.pi
    return o


# The tape evaluated on symbols: an array value is an object array whose entries are
# scalar expressions of the entries of the inputs (w^T x: w[1]·x[1] + w[2]·x[2] + …).
# Forward only (no rules run on it), for the primitives of symbolic_prim.
SYMBOLS = _build_symbols()


# --------------------------------------------------------------------------- shapes

_VERB = {
    "add": ("cannot add {a} and {b}", None),
    "sub": ("cannot subtract {b} from {a}", None),
    "div": ("cannot divide {a} by {b} (entry by entry, the shapes must be equal)", None),
    "pow": ("cannot raise {a} to the power {b} (entry by entry, the shapes must be equal)", None),
    "mul": ("cannot multiply {a} and {b}", None),
    "emul": ("cannot multiply {a} and {b} entry by entry (.* needs equal shapes, or a scalar)", None),
    "epow": ("cannot raise {a} to the power {b} entry by entry (.^ needs equal shapes, or a scalar)", None),
}


def _elementwise_shape(op: str, shapes, names):
    if len(shapes) == 1:
        return shapes[0]
    a, b = shapes
    if op == "pow" and (len(a) == 2 or len(b) == 2):
        raise ShapeError(f"{names[0]}^{names[1]}: powers of matrices are not supported "
                         f"({shape_is_words(names, a, b)}); write A A for a matrix product, "
                         "inv(A) for the inverse")
    if not a:
        return b
    if not b or a == b:
        return a
    verb = _VERB.get(op, (f"{op}(…, …) works entry by entry: its arguments must have equal shapes "
                          "(or one be a scalar); got {a} and {b}", None))[0]
    raise ShapeError(verb.format(a=shape_words(a), b=shape_words(b)))


def shape_is_words(names, a, b) -> str:
    from calccli.engine.primitives import shape_is
    return ", ".join(shape_is(n, s) for n, s in zip(names, (a, b)) if len(s) == 2)


def snippet(text: str, span: tuple[int, int]) -> str:
    """The text of a node, widened to balance the parentheses a span leaves out
    (a parenthesised group's span starts and ends inside it)."""
    s, e = span
    depth = low = 0
    for ch in text[s:e]:
        depth += (ch == "(") - (ch == ")")
        low = min(low, depth)
    for _ in range(-low):           # unmatched ')': take in the '(' before the span
        k = s - 1
        while k > 0 and text[k].isspace():
            k -= 1
        if k < 0 or text[k] != "(":
            break
        s = k
    for _ in range(depth - low):    # unmatched '(': take in the ')' after it
        k = text.find(")", e)
        if k < 0:
            break
        e = k + 1
    return text[s:e].strip()


class _Names:
    """Operand texts for messages, made only when a message needs them."""

    def __init__(self, tape, i, src):
        self.tape, self.i, self.src = tape, i, src

    def __getitem__(self, k):
        return self._text(self.tape.nodes[self.tape.args[self.i][k]], operand=True)

    @property
    def whole(self) -> str:
        return self._text(self.tape.nodes[self.i], operand=False)

    def _text(self, node, operand: bool) -> str:
        span = self.src.span(node) if self.src is not None else None
        if span is not None:
            text = snippet(self.src.text, span)
            prim = PRIMS.get(self.tape.nodes[self.i].op)
            if operand and not (prim is not None and prim.is_function):
                text = _parenthesised(self.src.text, span, text)
        else:
            from calccli.engine.printer import to_text
            text = to_text(node)
        return text if len(text) <= 40 else text[:39] + "…"


def _parenthesised(source: str, span, text: str) -> str:
    """``(x + 1)`` rather than ``x + 1`` for an operand written in parentheses."""
    s, e = span
    before = source[:s].rstrip()
    after = source[e:].lstrip()
    if before.endswith("(") and after.startswith(")") and not (text.startswith("(") and text.endswith(")")):
        return f"({text})"
    return text


def _caret(err: ShapeError, tape, i, src) -> ShapeError:
    if src is None:
        return err
    arg = getattr(err, "arg", None)
    node = tape.nodes[tape.args[i][arg]] if arg is not None else tape.nodes[i]
    span = src.span(node) or src.span(tape.nodes[i])
    if span is not None:
        err.at(src.text, span[0], span[1])
    return err


def infer_shapes(tape, env) -> list[tuple]:
    """The shape of every node, checked before evaluation; rewrites ``tape.prims``."""
    from calccli.engine.sources import source_of
    src = source_of(tape.root)
    shapes: list[tuple] = [()] * len(tape.nodes)
    for name, j in tape.variables.items():
        shapes[j] = shape_of(env.get(name, 0.0))
    prims, args, nodes = tape.prims, tape.args, tape.nodes
    changed = False
    for i in tape.rows:
        n = nodes[i]
        sh = [shapes[j] for j in args[i]]
        names = _Names(tape, i, src)
        try:
            if n.op == "index":
                prim = index_prim(n.value)
            elif n.op == "mul" and sh[0] and sh[1]:
                prim = PRIMS["matmul"]
            else:
                prim = PRIMS[n.op]
            rule = prim.array.get("shape")
            shapes[i] = rule(sh, names) if rule is not None else _elementwise_shape(n.op, sh, names)
        except ShapeError as e:
            raise _caret(e, tape, i, src) from None
        if prims[i] is not prim:
            prims[i] = prim
            changed = True
    if changed:  # programs built for the old primitives
        for key in [k for k in tape.cache if isinstance(k, tuple) and k and k[0] == "eval"]:
            del tape.cache[key]
    tape.cache["shapes"] = shapes
    return shapes


def prepare(tape, env) -> Ops:
    """Check shapes (before any evaluation) and return the ARRAY namespace."""
    infer_shapes(tape, env)
    return ARRAY


def root_shape(tape) -> tuple:
    shapes = tape.cache.get("shapes")
    return shapes[-1] if shapes else ()
