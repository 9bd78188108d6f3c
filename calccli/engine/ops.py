"""Operation namespaces: the table's functions for one kind of value.

A partial-derivative rule receives one of these as ``o`` and calls ``o.cos(x)``,
``o.pow(x, y)`` …; arithmetic uses Python operators on the values themselves.

- ``FLOAT``: plain Python floats through the table's ``f`` (math module).
- ``NODE``: expression nodes, so rules produce symbolic derivatives.
- ``dual_ops(base)``: dual numbers over ``base``; a primitive's forward rule is
  built from the table's partials, so second derivatives need no new rules.
- ``ARRAY`` (numpy) is built on first use by :mod:`calccli.arrays`.
"""
from __future__ import annotations

import math
from types import SimpleNamespace

from calccli.engine import expr
from calccli.engine.primitives import PRIMS


class Ops(SimpleNamespace):
    kind: str
    zero: object
    one: object
    # Optional hooks the interpreters look up on every call: class-level
    # defaults keep those lookups from falling through to __getattr__.
    fit = None            # arrays: reduce a broadcast contribution to the argument's shape
    check_finite = None   # arrays: name the first row holding inf/NaN
    lift_leaf = None      # wrap leaf values (unused by the built-in namespaces)
    build = None          # make the function of a specialised primitive (x[2])
    ones = None           # symbolic values: ones / the identity in a value's shape (sum's, trace's rules)
    eye = None

    def __getattr__(self, name):
        # Reached only when an attribute is missing: a primitive specialised to
        # one node (x[2] runs the primitive "index[2]"), built on first use by
        # the namespace's ``build``.
        from calccli.engine.primitives import specialised
        p = specialised(name)
        build = self.build
        if p is None or build is None:
            raise AttributeError(name)
        fn = build(p)
        setattr(self, name, fn)
        return fn


def _float_ops() -> Ops:
    o = Ops(kind="float", zero=0.0, one=1.0, build=lambda p: p.f)
    for name, p in PRIMS.items():
        setattr(o, name, p.f)
    o.pi = math.pi
    return o


def _node_ops() -> Ops:
    o = Ops(kind="node", zero=expr.ZERO, one=expr.ONE)
    for name in PRIMS:
        setattr(o, name, (lambda n: lambda *a: expr.call(n, *map(expr.lift, a)))(name))
    o.add, o.sub, o.mul, o.div, o.neg, o.pow = expr.add, expr.sub, expr.mul, expr.div, expr.neg, expr.power
    o.lift = expr.lift
    o.pi = expr.const("pi")
    return o


def _exact_node_ops() -> Ops:
    """NODE, except that functions of numbers stay symbolic (log(2), not
    0.6931471805599453): for printed derivatives, where exact beats folded."""
    o = Ops(**vars(NODE))
    for name, p in PRIMS.items():
        if p.is_function:
            setattr(o, name, (lambda n: lambda *a: expr.make(n, tuple(map(expr.lift, a))))(name))
    return o


FLOAT = _float_ops()
NODE = _node_ops()
NODE_EXACT = _exact_node_ops()


class Dual:
    """v + t·ε with ε² = 0. ``t`` is the tangent (derivative along one direction)."""
    __slots__ = ("v", "t", "ops")
    __array_ufunc__ = None  # make numpy defer to our operators

    def __init__(self, v, t, ops):
        self.v, self.t, self.ops = v, t, ops

    def __add__(self, o): return self.ops.add(self, o)
    def __radd__(self, o): return self.ops.add(o, self)
    def __sub__(self, o): return self.ops.sub(self, o)
    def __rsub__(self, o): return self.ops.sub(o, self)
    def __mul__(self, o): return self.ops.mul(self, o)
    def __rmul__(self, o): return self.ops.mul(o, self)
    def __truediv__(self, o): return self.ops.div(self, o)
    def __rtruediv__(self, o): return self.ops.div(o, self)
    def __neg__(self): return self.ops.neg(self)
    def __pow__(self, o): return self.ops.pow(self, o)
    def __matmul__(self, o): return self.ops.matmul(self, o)
    def __rmatmul__(self, o): return self.ops.matmul(o, self)
    # linear structural operations on array-valued duals act on both parts
    def __getitem__(self, k): return Dual(self.v[k], self.t[k], self.ops)

    @property
    def T(self): return Dual(self.v.T, self.t.T, self.ops)

    def __repr__(self):
        return f"Dual({self.v!r}, {self.t!r})"


def _dual_rule(prim, base, o):
    """The forward-mode (JVP) rule of ``prim`` on dual numbers, from its partials."""
    f = getattr(base, prim.name)
    partials = prim.partials
    jvp = prim.array.get("jvp")
    fit = getattr(base, "fit", None)  # arrays: a broadcast tangent takes the output's shape
    if jvp is None and fit is None and prim.arity in (1, 2) and len(partials) == prim.arity:
        return (_dual_unary if prim.arity == 1 else _dual_binary)(f, partials, base, o)

    def apply(*args):
        vals = [a.v if isinstance(a, Dual) else a for a in args]
        out = f(*vals)
        if jvp is not None:  # array primitives give their own JVP
            tans = [a.t if isinstance(a, Dual) else None for a in args]
            if all(t is None for t in tans):
                return out
            return Dual(out, jvp(base, vals, out, tans), o)
        t = None
        for k, a in enumerate(args):
            if isinstance(a, Dual):
                c = partials[k](base, *vals, out) * a.t
                if fit is not None:
                    c = fit(c, out)
                t = c if t is None else t + c
        return Dual(out, t, o) if t is not None else out
    return apply


def _scaled(d, t):
    """d·t, skipping the multiplication where d is ±1 (exact either way): with
    vector tangents (Hessians) each skipped product is a numpy operation saved."""
    if d == 1:
        return t
    if d == -1:
        return -t
    return d * t


def _dual_unary(f, partials, base, o):
    """``_dual_rule`` unrolled for one argument over scalar values."""
    (p0,) = partials

    def apply(x):
        if type(x) is not Dual:
            return f(x)
        xv = x.v
        out = f(xv)
        return Dual(out, _scaled(p0(base, xv, out), x.t), o)
    return apply


def _dual_binary(f, partials, base, o):
    """``_dual_rule`` unrolled for two arguments over scalar values."""
    p0, p1 = partials

    def apply(x, y):
        xd, yd = type(x) is Dual, type(y) is Dual
        xv = x.v if xd else x
        yv = y.v if yd else y
        out = f(xv, yv)
        if xd:
            t = _scaled(p0(base, xv, yv, out), x.t)
            if yd:
                t = t + _scaled(p1(base, xv, yv, out), y.t)
        elif yd:
            t = _scaled(p1(base, xv, yv, out), y.t)
        else:
            return out
        return Dual(out, t, o)
    return apply


def _dual_fit(base, o):
    fit = base.fit

    def dual_fit(c, like):
        lv = like.v if isinstance(like, Dual) else like
        if isinstance(c, Dual):
            return Dual(fit(c.v, lv), fit(c.t, lv), o)
        return fit(c, lv)
    return dual_fit


def dual_ops(base: Ops) -> Ops:
    o = Ops(kind="dual", zero=base.zero, one=base.one, base=base, pi=getattr(base, "pi", None))
    o.build = lambda p: _dual_rule(p, base, o)
    for name, p in PRIMS.items():
        setattr(o, name, _dual_rule(p, base, o))
    if getattr(base, "fit", None) is not None:
        o.fit = _dual_fit(base, o)
    return o


def make_dual(v, t, ops: Ops) -> Dual:
    return Dual(v, t, ops)
