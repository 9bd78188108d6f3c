"""Symbolic matrix calculus: the table's array rules run on shape-typed symbolic values.

``Sym`` is a matrix expression (a :class:`matrix_simplify.NF`) with its shape;
``MATRIX`` is the operation namespace the primitive table's jvp/vjp and partial
rules call (o.matmul, o.transpose, o.fit, …). So one reverse pass over the
tape (:func:`calccli.engine.reverse.reverse`) with ``ops=MATRIX`` is the matrix
gradient, and one forward pass with a symbolic direction δx gives J δx, from
which the Jacobian is read off (J δx → J). No derivative rule lives here.
"""
from __future__ import annotations

from calccli.engine import expr
from calccli.engine.ops import Ops
from calccli.engine.primitives import PRIMS
from calccli.symbolic import matrix_simplify as S
from calccli.symbolic.matrix_simplify import NF, NoClosedForm
from calccli.symbolic.shapes import transpose_shape


class Sym:
    """A symbolic scalar, vector or matrix value."""
    __slots__ = ("nf",)
    __array_ufunc__ = None

    def __init__(self, nf: NF):
        self.nf = nf

    @property
    def shape(self) -> tuple:
        return self.nf.shape

    @property
    def node(self):
        return self.nf.node()

    def __add__(self, o): return MATRIX.add(self, o)
    def __radd__(self, o): return MATRIX.add(o, self)
    def __sub__(self, o): return MATRIX.sub(self, o)
    def __rsub__(self, o): return MATRIX.sub(o, self)
    def __mul__(self, o): return MATRIX.mul(self, o)
    def __rmul__(self, o): return MATRIX.mul(o, self)
    def __truediv__(self, o): return MATRIX.div(self, o)
    def __rtruediv__(self, o): return MATRIX.div(o, self)
    def __neg__(self): return MATRIX.neg(self)
    def __pow__(self, o): return MATRIX.pow(self, o)
    def __rpow__(self, o): return MATRIX.pow(o, self)
    def __matmul__(self, o): return MATRIX.matmul(self, o)

    def __getitem__(self, k):
        raise NoClosedForm("parts of vectors (x[i], matrix literals) are not supported symbolically; "
                           "give a point with --at")

    @property
    def T(self): return MATRIX.transpose(self)

    def __repr__(self):
        return f"Sym({self.node}, {self.shape})"


class Problem:
    """The context every Sym of one derivation shares (the simplifier's Ctx)."""
    ctx: S.Ctx | None = None


_P = Problem()


def _nf(v) -> NF:
    if isinstance(v, Sym):
        return v.nf
    return S.const(float(v), (), _P.ctx)


def _wrap(fn):
    return lambda *a: Sym(fn(*map(_nf, a)))


def _fit(c, like):
    """The contribution c in the shape of like (a sum for a broadcast, a transpose for row ↔ column)."""
    c, ls = _nf(c), _nf(like).shape
    if c.shape == ls:
        return Sym(c)
    if not ls:
        return Sym(S.call("sum", c, ()) if len(c.shape) == 1 else S.call("sum", c, ()))
    if not c.shape:
        return Sym(S.mul(c, S.const(1.0, ls, c.ctx)))
    if transpose_shape(c.shape) == ls and (len(ls) == 1 or ls[0] == 1):
        return Sym(S.transpose(c))
    raise NoClosedForm(f"cannot fit a contribution of shape {c.shape} to {ls}")


SCALAR_OUT = frozenset({"det", "trace", "norm", "sum", "mean", "vmax", "vmin", "logsumexp"})


def _fn(name):
    def apply(*args):
        if len(args) != 1:
            raise NoClosedForm(f"{name} of several arguments is not supported symbolically; "
                               "give a point with --at")
        a = _nf(args[0])
        shape = () if name in SCALAR_OUT else a.shape
        return Sym(S.call(name, a, shape))
    return apply


def _pow(a, b):
    a, b = _nf(a), _nf(b)
    s = b.single()
    if s is not None and not s[1] and not s[2]:
        return Sym(S.power(a, s[0]))
    return Sym(S.atom(expr.make("pow", (a.node(), b.node())), a.shape or b.shape, a.ctx))


def _vector(*items):
    raise NoClosedForm("matrix literals are not supported symbolically; give a point with --at")


def _build() -> Ops:
    o = Ops(kind="matrix", zero=0.0, one=1.0)
    for name, p in PRIMS.items():
        if p.is_function or name in ("cofactor",):
            setattr(o, name, _fn(name))
    o.add = _wrap(S.add)
    o.sub = _wrap(lambda a, b: S.add(a, b, -1.0))
    o.neg = _wrap(lambda a: S.scale(a, -1.0))
    o.mul = _wrap(S.mul)
    o.emul = _wrap(S.mul)
    o.epow = _pow
    o.outer = _wrap(lambda u, v: S.matmul(u, S.transpose(v)))
    o.div = _wrap(S.div)
    o.pow = _pow
    o.matmul = _wrap(S.matmul)
    o.transpose = _wrap(S.transpose)
    o.diag = _wrap(S.diag)
    o.dot = _wrap(lambda u, v: S.matmul(S.transpose(u) if len(u.shape) == 1 else u,
                                        v if len(v.shape) == 1 else S.transpose(v)))
    o.cofactor = lambda a: MATRIX.det(a) * MATRIX.transpose(MATRIX.inv(a))
    o.vector = _vector
    o.fit = _fit
    o.ones = lambda like: Sym(S.const(1.0, _nf(like).shape, _P.ctx))
    o.eye = lambda like: Sym(S.atom(expr.make("eye", (), _nf(like).shape[0]), _nf(like).shape, _P.ctx))
    o.lift = lambda v: v
    return o


MATRIX = _build()


def leaf(node, shape: tuple) -> Sym:
    return Sym(S.atom(node, shape, _P.ctx))


def begin(symmetric=()) -> S.Ctx:
    """Start a derivation (a fresh simplifier context)."""
    _P.ctx = S.Ctx(symmetric)
    return _P.ctx


# ------------------------------------------------------------------ passes over the tape

def values(tape, info) -> list:
    """The symbolic value of every tape node (leaves: the names with their shapes)."""
    vals: list = [None] * len(tape.nodes)
    for i, n in enumerate(tape.nodes):
        if n.op == "num":
            vals[i] = n.value
        elif n.op in ("var", "const"):
            vals[i] = leaf(n, info.shapes[i])
    for i in tape.rows:
        f = getattr(MATRIX, tape.prims[i].name)
        vals[i] = f(*[vals[j] for j in tape.args[i]])
    return vals


def gradient(tape, info, vals, names: list[str], record=None) -> dict:
    """{name: Sym}: one reverse pass of the table's rules on symbolic values."""
    from calccli.engine.reverse import reverse
    idx = [tape.variables[n] for n in names]
    adj = reverse(tape, vals, idx, ops=MATRIX, record=record)
    root = len(tape.nodes) - 1
    out = {}
    for n, i in zip(names, idx):
        if i == root:
            out[n] = None
        else:
            a = adj[i]
            out[n] = Sym(S.NF({}, info.shapes[i], _P.ctx)) if a is None else _fit(a, vals[i])
    return out


def tangents(tape, vals, name: str, direction: Sym) -> list | None:
    """Every node's tangent along δx (the root's is J δx): one forward pass of the table's rules."""
    from calccli.engine.forward import forward
    i = tape.variables.get(name)
    if i is None:
        return None
    return forward(tape, vals, {i: direction}, ops=MATRIX)


def read_off(t: NF | None, direction_node, out_shape: tuple, x_shape: tuple) -> NF:
    """J from J δx: every term ends in δx (a scalar output's δxᵀ v is first transposed)."""
    ctx = _P.ctx
    jshape = _jacobian_shape(out_shape, x_shape)
    if t is None or t.is_zero:
        return NF({}, jshape, ctx)
    if not out_shape and len(x_shape) == 1:
        t = S.transpose(t) if any(m and m[0].op == "transpose" and m[0].args[0] is direction_node
                                  for _, m in t.terms) else t
    terms = {}
    for (scal, mats), c in t.terms.items():
        if not x_shape:
            e = dict(scal).get(direction_node, 0)
            if e != 1 or any(ctx.has_dir(m) for m in mats):
                raise NoClosedForm("the derivative is not linear in a form calc can read off")
            scal = tuple((n, k) for n, k in scal if n is not direction_node)
            key = (scal, mats)
        else:
            if not mats or mats[-1] is not direction_node or any(ctx.has_dir(m) for m in mats[:-1]) \
                    or any(ctx.has_dir(n) for n, _ in scal):
                if not out_shape and mats and mats[0] is not direction_node:
                    pass
                raise NoClosedForm("this Jacobian needs a form calc cannot write (an identity matrix "
                                   "or an elementwise product); give a point with --at")
            rest = mats[:-1]
            if not rest:
                raise NoClosedForm("the Jacobian is a multiple of the identity matrix, which calc's "
                                   "syntax cannot write; give a point with --at")
            key = (scal, rest)
        terms[key] = terms.get(key, 0.0) + c
    return NF(terms, jshape, ctx)


def _jacobian_shape(out_shape, x_shape):
    if not x_shape:
        return out_shape
    if not out_shape:
        return (1, x_shape[0])
    return (out_shape[0], x_shape[0])
