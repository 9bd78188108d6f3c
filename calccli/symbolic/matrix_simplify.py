"""Matrix expressions in a normal form: a sum of terms c · (scalar factors) · M₁M₂…Mₖ.

Every operation keeps that form, so simplification is bounded and needs no
rewriting passes: transposes go to the atoms ((AB)ᵀ = BᵀAᵀ, (Aᵀ)ᵀ = A,
symmetric Aᵀ = A), equal terms merge, scalar factors cancel (det(X)⁻¹ det(X)),
identities and zeros drop. A sum used as a factor stays one factor (a group),
so 2Aᵀ(Ax − b) is not expanded; when printing, terms that share their last or
first factor are collected: Aᵀx + Ax → (A + Aᵀ)x.
"""
from __future__ import annotations

from calccli.engine import expr
from calccli.engine.expr import Node
from calccli.errors import CalcError
from calccli.symbolic.shapes import matmul_shape, transpose_shape

_COLLECT_DEPTH = 3


class NoClosedForm(CalcError):
    """The derivative exists but calc's syntax cannot write it in matrix form."""
    kind = "unsupported"
    exit_code = 1


class Ctx:
    """Per derivation: node shapes, symmetric names, the groups made, the direction of a JVP."""

    def __init__(self, symmetric=()):
        self.shapes: dict[Node, tuple] = {}
        self.symmetric = set(symmetric)
        self.groups: dict[Node, "NF"] = {}
        self.order: dict[Node, int] = {}
        self.direction: Node | None = None
        self._has_dir: dict[Node, bool] = {}

    def rank(self, n: Node) -> int:
        r = self.order.get(n)
        if r is None:
            r = self.order[n] = len(self.order)
        return r

    def shape(self, n: Node) -> tuple:
        if n.op == "num" or n.op == "const":
            return ()
        return self.shapes[n]

    def node(self, n: Node, shape: tuple) -> Node:
        self.shapes.setdefault(n, shape)
        return n

    def has_dir(self, n: Node) -> bool:
        if self.direction is None:
            return False
        r = self._has_dir.get(n)
        if r is None:
            from calccli.engine.tape import topo_order
            r = self._has_dir[n] = self.direction in topo_order(n)
        return r


class NF:
    """terms: {(scal, mats): coef}; scal a sorted tuple of (scalar atom, exponent)."""
    __slots__ = ("terms", "shape", "ctx", "_node")

    def __init__(self, terms: dict, shape: tuple, ctx: Ctx):
        self.terms = {k: c for k, c in terms.items() if c != 0}
        self.shape = shape
        self.ctx = ctx
        self._node = None

    @property
    def is_zero(self) -> bool:
        return not self.terms

    def single(self):
        if len(self.terms) == 1:
            (k, c), = self.terms.items()
            return c, k[0], k[1]
        return None

    def node(self) -> Node:
        if self._node is None:
            self._node = to_node(self)
        return self._node


# ------------------------------------------------------------------ building

def const(c: float, shape: tuple, ctx: Ctx) -> NF:
    return NF({((), ()): float(c)}, shape, ctx)


def atom(n: Node, shape: tuple, ctx: Ctx) -> NF:
    ctx.node(n, shape)
    if n.op == "num":
        return const(n.value, shape, ctx)
    if not shape:
        return NF({(((n, 1),), ()): 1.0}, (), ctx)
    return NF({((), (n,)): 1.0}, shape, ctx)


def _merge_scal(a: tuple, b: tuple, ctx: Ctx, k: int = 1) -> tuple:
    if not b:
        return a
    d = dict(a)
    for n, e in b:
        d[n] = d.get(n, 0) + k * e
    return tuple(sorted(((n, e) for n, e in d.items() if e != 0), key=lambda t: ctx.rank(t[0])))


def add(a: NF, b: NF, sign: float = 1.0) -> NF:
    shape = a.shape or b.shape
    terms = dict(a.terms)
    for k, c in b.terms.items():
        terms[k] = terms.get(k, 0.0) + sign * c
    return NF(terms, shape, a.ctx)


def scale(a: NF, c: float) -> NF:
    return NF({k: v * c for k, v in a.terms.items()}, a.shape, a.ctx)


def _as_factor(a: NF) -> NF:
    """A single-term form of ``a`` (a sum becomes one group factor)."""
    if len(a.terms) <= 1:
        s = a.single()
        if s is not None and a.shape and not s[2]:      # a broadcast constant: c·ones
            ones = a.ctx.node(expr.make("ones", (), a.shape), a.shape)
            return NF({(s[1], (ones,)): s[0]}, a.shape, a.ctx)
        return a
    return group(a)


def _drop_eye(mats: tuple) -> tuple:
    if len(mats) > 1 and any(m.op == "eye" for m in mats):
        kept = tuple(m for m in mats if m.op != "eye")
        return kept or mats[:1]
    return mats


def product(a: NF, b: NF, shape: tuple) -> NF:
    """a·b (scalar factors commute; matrix factors keep their order)."""
    if a.is_zero or b.is_zero:
        return NF({}, shape, a.ctx)
    if a.shape and b.shape:            # a matrix product: a sum or a broadcast constant is one factor
        a, b = _as_factor(a), _as_factor(b)
    else:                              # a scalar factor: one scalar atom (xᵀAx is a number)
        a = a if len(a.terms) == 1 else group(a)
        b = b if len(b.terms) == 1 else group(b)
        a, b = (_scalar_atom(a) if not a.shape else a), (_scalar_atom(b) if not b.shape else b)
    (ca, sa, ma), (cb, sb, mb) = a.single(), b.single()
    return NF({(_merge_scal(sa, sb, a.ctx), _drop_eye(ma + mb)): ca * cb}, shape, a.ctx)


def _scalar_atom(a: NF) -> NF:
    """A scalar term whose matrix factors (bᵀx) become one scalar factor."""
    c, scal, mats = a.single()
    if not mats:
        return a
    n = NF({((), mats): 1.0}, (), a.ctx).node()
    return NF({(_merge_scal(scal, ((n, 1),), a.ctx), ()): c}, (), a.ctx)


def mul(a: NF, b: NF) -> NF:
    """Elementwise or scalar product (Python's * in the table's rules)."""
    if not a.shape or not b.shape:
        return product(a, b, a.shape or b.shape)
    return hadamard(a, b)


def matmul(a: NF, b: NF) -> NF:
    return product(a, b, matmul_shape(a.shape, b.shape))


def group(a: NF) -> NF:
    """``a`` as one factor: c · (sum), the sum's common coefficient pulled out."""
    ctx = a.ctx
    coefs = list(a.terms.values())
    c = 1.0
    if coefs and all(abs(x) == abs(coefs[0]) for x in coefs):
        c = abs(coefs[0]) if any(x > 0 for x in coefs) else -abs(coefs[0])
    inner = scale(a, 1.0 / c) if c != 1.0 else a
    n = inner.node()
    ctx.node(n, a.shape)
    if n.op != "var" and n.op != "num":
        ctx.groups.setdefault(n, inner)
    out = atom(n, a.shape, ctx)
    return scale(out, c)


# ------------------------------------------------------------------ transposes

def t_atom(n: Node, ctx: Ctx) -> Node:
    s = ctx.shape(n)
    if not s:
        return n
    if n.op == "transpose":
        return n.args[0]
    if n.op == "var" and n.value in ctx.symmetric or n.op in ("diag", "eye"):
        return n
    if n.op == "inv" and t_atom(n.args[0], ctx) is n.args[0]:
        return n
    g = ctx.groups.get(n)
    if g is not None:
        tg = transpose(g)
        tn = tg.node()
        ctx.node(tn, transpose_shape(s))
        if tn.op not in ("var", "num"):
            ctx.groups.setdefault(tn, tg)
        return tn
    return ctx.node(expr.make("transpose", (n,)), transpose_shape(s))


def transpose(a: NF) -> NF:
    ctx = a.ctx
    terms: dict = {}
    for (scal, mats), c in a.terms.items():
        k = (scal, tuple(t_atom(m, ctx) for m in reversed(mats)))
        terms[k] = terms.get(k, 0.0) + c
    return NF(terms, transpose_shape(a.shape), ctx)


# ------------------------------------------------------------------ elementwise

def _is_const(a: NF):
    s = a.single()
    return s is not None and not s[2] and not s[1]


def hadamard(a: NF, b: NF) -> NF:
    ctx = a.ctx
    if a.is_zero or b.is_zero:
        return NF({}, a.shape, ctx)
    if _is_const(a):
        return scale(b, a.single()[0])
    if _is_const(b):
        return scale(a, b.single()[0])
    if a.node() is b.node():
        return power(a, 2.0)
    if len(a.shape) == 1 or (len(a.shape) == 2 and a.shape[0] == 1):
        if len(a.shape) == 2:          # rows: (aᵀ ⊙ bᵀ)ᵀ
            return transpose(hadamard(transpose(a), transpose(b)))
        if ctx.has_dir(a.node()) and not ctx.has_dir(b.node()):
            a, b = b, a
        return product(diag(a), b, b.shape)
    na, nb = sorted((a.node(), b.node()), key=ctx.rank)
    return atom(expr.make("emul", (na, nb)), a.shape, ctx)


def diag(a: NF) -> NF:
    """diag(v): the diagonal matrix of a vector (linear: constants come out)."""
    ctx = a.ctx
    n = a.shape[0]
    s = a.single()
    if s is not None and s[2]:
        c, scal, mats = s
        inner = NF({((), mats): 1.0}, a.shape, ctx).node()
        d = atom(expr.make("diag", (inner,)), (n, n), ctx)
        return product(NF({(scal, ()): c}, (), ctx), d, (n, n))
    return atom(expr.make("diag", (a.node(),)), (n, n), ctx)


def power(a: NF, k) -> NF:
    ctx = a.ctx
    s = a.single()
    if isinstance(k, float | int) and float(k).is_integer() and not a.shape and s is not None and not s[2]:
        c, scal, _ = s
        return NF({(tuple((n, e * int(k)) for n, e in scal), ()): c ** int(k)}, (), ctx) if c != 0 \
            else NF({}, (), ctx)
        # (a scalar monomial: exponents multiply)
    if not a.shape and s is not None and not s[2] and len(s[1]) == 1 and s[0] == 1.0 and \
            isinstance(k, float | int):
        (n, e), = s[1]
        return atom(expr.make("pow", (n, expr.num(float(k) * e))), (), ctx)
    kn = expr.num(k) if isinstance(k, float | int) else k.node()
    return atom(expr.make("pow", (a.node(), kn)), a.shape, ctx)


def reciprocal(a: NF) -> NF:
    """1/a for a scalar a."""
    s = a.single()
    if s is not None and not s[2] and s[0] != 0:
        c, scal, _ = s
        return NF({(tuple((n, -e) for n, e in scal), ()): 1.0 / c}, (), a.ctx)
    g = group(a)
    c, scal, _ = g.single()
    return NF({(tuple((n, -e) for n, e in scal), ()): 1.0 / c}, (), a.ctx)


def div(a: NF, b: NF) -> NF:
    if not b.shape:
        return product(a, reciprocal(b), a.shape)
    return hadamard(a, power(b, -1.0))


def call(op: str, a: NF, shape: tuple) -> NF:
    """A function applied to a (det, inv, trace, sum, norm, log, tanh, …)."""
    ctx = a.ctx
    if a.is_zero and a.shape and op in ("sum", "trace"):
        return NF({}, (), ctx)
    if a.is_zero and a.shape and op != "norm":   # exp(b - b): a vector of ones, its size unwritable
        raise NoClosedForm(f"{op} of a zero {'vector' if len(a.shape) == 1 else 'matrix'} needs its size, "
                           "which calc's syntax cannot write; give a point with --at")
    s = a.single()
    if op == "trace":
        out = NF({}, (), ctx)
        for (scal, mats), c in a.terms.items():
            if not mats:
                raise NoClosedForm("trace of a broadcast constant")
            inner = mats[0].args[0] if len(mats) == 1 and mats[0].op == "transpose" else \
                NF({((), mats): 1.0}, a.shape, ctx).node()
            tr = atom(expr.make("trace", (inner,)), (), ctx)
            out = add(out, product(NF({(scal, ()): c}, (), ctx), tr, ()))
        return out
    if op == "sum" and len(a.shape) == 1:
        out = NF({}, (), ctx)
        for (scal, mats), c in a.terms.items():
            if len(mats) == 2 and mats[0].op == "diag" and len(ctx.shape(mats[0].args[0])) == 1:
                u = mats[0].args[0]
                term = NF({(scal, (t_atom(u, ctx), mats[1])): c}, (), ctx)
            else:
                term = NF({(scal, ()): c}, (), ctx)
                term = product(term, atom(expr.make("sum", (NF({((), mats): 1.0}, a.shape, ctx).node(),)),
                                          (), ctx), ())
            out = add(out, term)
        return out
    if s is not None and s[2] and len(s[2]) == 1 and not s[1]:
        c, _, (m,) = s
        if op == "det" and c == 1.0:
            if m.op == "transpose":
                return call("det", atom(m.args[0], ctx.shape(m.args[0]), ctx), ())
            if m.op == "inv":
                return reciprocal(call("det", atom(m.args[0], ctx.shape(m.args[0]), ctx), ()))
        if op == "inv":
            return scale(atom(_inv_atom(m, ctx), shape, ctx), 1.0 / c)
    if op == "exp" and s is not None and s[0] == 1.0 and not s[1] and len(s[2]) == 1 and \
            s[2][0].op == "log_softmax":
        return atom(expr.make("softmax", s[2][0].args), shape, ctx)
    if op == "norm" and s is not None and s[0] < 0:
        a = scale(a, -1.0)
    return atom(expr.make(op, (a.node(),)), shape, ctx)


def _inv_atom(m: Node, ctx: Ctx) -> Node:
    if m.op == "inv":
        return m.args[0]
    if m.op == "transpose":
        return t_atom(_inv_atom(m.args[0], ctx), ctx)
    return ctx.node(expr.make("inv", (m,)), ctx.shape(m))


# ------------------------------------------------------------------ printing

def _pow_node(n: Node, e: int) -> Node:
    return n if e == 1 else expr.make("pow", (n, expr.num(e)))


def _chain(factors: list[Node]) -> Node:
    out = factors[0]
    for f in factors[1:]:
        out = expr.make("mul", (out, f))
    return out


def _term_node(c: float, scal: tuple, mats: tuple, lead: bool = False) -> tuple[Node, bool]:
    """A term's node; a leading negative term carries its sign on the first factor (-2x, -inv(X)^T a)."""
    num = [_pow_node(n, e) for n, e in scal if e > 0]
    den = [_pow_node(n, -e) for n, e in scal if e < 0]
    factors = num + list(mats)
    mag = abs(c)
    if mag != 1.0 or not factors:
        factors.insert(0, expr.num(mag))
    if lead and c < 0:
        f = factors[0]
        factors[0] = expr.num(-f.value) if f.op == "num" else expr.make("neg", (f,))
        c = -c
    node = _chain(factors)
    if den:
        node = expr.make("div", (node, _chain(den)))
    return node, c < 0


def _transposes(mats: tuple) -> int:
    return sum(1 for m in mats if m.op == "transpose")


def _collect(nf: NF, depth: int) -> list:
    """Terms (c, scal, mats), those sharing a first or last matrix factor collected into a group."""
    terms = [(c, k[0], k[1]) for k, c in nf.terms.items()]
    ctx = nf.ctx
    if depth >= _COLLECT_DEPTH:
        return terms
    for _ in range(4):
        changed = False
        for side in (-1, 0):
            buckets: dict = {}
            for t in terms:
                if len(t[2]) >= 2:
                    rest = t[2][:-1] if side == -1 else t[2][1:]
                    buckets.setdefault((t[1], t[2][side], _fold_shape(ctx, rest)), []).append(t)
            for (scal, key, rest_shape), ts in buckets.items():
                if len(ts) < 2 or rest_shape is None or not rest_shape:
                    continue
                rest_mats = [t[2][:-1] if side == -1 else t[2][1:] for t in ts]
                rest = NF({}, rest_shape, ctx)
                for t, rm in zip(ts, rest_mats):
                    rest = add(rest, NF({((), rm): t[0]}, rest_shape, ctx))
                rest._node = None
                if rest.is_zero:
                    new = []
                else:
                    g = group_at(rest, depth + 1)
                    gc, gscal, gm = g.single()
                    mats = gm + (key,) if side == -1 else (key,) + gm
                    new = [(gc, _merge_scal(scal, gscal, ctx), mats)]
                terms = [t for t in terms if not any(t is u for u in ts)] + new
                changed = True
                break
            if changed:
                break
        if not changed:
            break
    merged: dict = {}
    for c, scal, mats in terms:
        merged[(scal, mats)] = merged.get((scal, mats), 0.0) + c
    return [(c, k[0], k[1]) for k, c in merged.items() if c != 0]


def _fold_shape(ctx: Ctx, mats: tuple):
    """The shape of the product of ``mats`` (None if it is not a plain matrix product)."""
    try:
        shape = ctx.shape(mats[0])
        for m in mats[1:]:
            shape = matmul_shape(shape, ctx.shape(m))
    except CalcError:
        return None
    return shape


def group_at(a: NF, depth: int) -> NF:
    a._node = to_node(a, depth)
    return group(a)


def to_node(nf: NF, depth: int = 0) -> Node:
    ctx = nf.ctx
    if nf.is_zero:
        return expr.ZERO
    terms = _collect(nf, depth) if len(nf.terms) > 1 else [(c, k[0], k[1]) for k, c in nf.terms.items()]
    if nf.shape and all(not t[2] for t in terms):
        raise NoClosedForm(f"the result is a constant {len(nf.shape) == 1 and 'vector' or 'matrix'} "
                           "(all entries equal), which calc's syntax cannot write without a point")
    terms.sort(key=lambda t: (t[0] < 0, -len(t[2]), _transposes(t[2])))
    out = None
    for c, scal, mats in terms:
        node, negative = _term_node(c, scal, mats, lead=out is None)
        if out is None:
            out = node
        else:
            out = expr.make("sub" if negative else "add", (out, node))
    ctx.node(out, nf.shape)
    return out


UNPRINTABLE = {"ones": "a matrix or vector of ones",
               "eye": "an identity matrix"}


def check_printable(root: Node) -> None:
    from calccli.engine.tape import topo_order
    for n in topo_order(root):
        what = UNPRINTABLE.get(n.op)
        if what is not None:
            raise NoClosedForm(f"the derivative needs {what}, which calc's syntax cannot write; "
                               "give a point with --at for its value")
