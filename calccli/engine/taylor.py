"""Derivatives of order N at a point, exact (no finite differences).

Method: Taylor-mode AD (see ``derivatives_at`` below). The tape is evaluated on
truncated Taylor series x₀ + t; arithmetic uses the textbook recurrences and
every other primitive is propagated from the table's own partial derivatives
(y' = Σ ∂f/∂uᵢ·uᵢ'), so no primitive needs a Taylor rule of its own. One sweep
gives every order up to N. ``--mode reverse`` adds one reverse sweep on the
series (the adjoint of x is the series of f').

Measured against the two other exact methods (benchmarks/bench_symbolic_length.py):
nested dual numbers (``ops.dual_ops`` nested N deep) cost 3ᴺ per product —
0.6–2 s at N = 10 against 1–13 ms here — and lose accuracy with N (relative
error 8e-6 for tan(x)/x at N = 10, against 2e-13 here); repeated symbolic
differentiation is exact too and is what ``calc diff EXPR --order N`` prints
without ``--at``, but its expressions grow quickly (the notes' example passes
200,000 characters at N = 8). Nested duals stay as ``dual_derivatives_at``, a
cross-check in the tests.
"""
from __future__ import annotations

import math

from calccli.errors import CalcError, NotDifferentiable, UsageError
from calccli.engine.evaluate import evaluate
from calccli.engine.gcpause import collector_paused
from calccli.numfmt import fmt_number
from calccli.engine.ops import FLOAT, Dual, dual_ops
from calccli.engine.reverse import reverse

_NESTED = {0: FLOAT}

# The highest --order calc computes (at a point, symbolically, in plots). Work grows
# with N² per primitive at a point and far faster symbolically, and N! overflows
# float64 beyond N = 170, so a larger order is refused as a usage error (exit 2).
MAX_ORDER = 100


def check_order(order) -> None:
    """A usage error unless 1 ≤ ``order`` ≤ MAX_ORDER."""
    if not isinstance(order, int) or order < 1:
        raise UsageError(f"--order must be a whole number ≥ 1, got {order}")
    if order > MAX_ORDER:
        raise UsageError(f"--order {order} is too high: calc computes derivatives up to order {MAX_ORDER}")


def nested_ops(levels: int):
    """``levels`` nested dual-number namespaces over floats (cached)."""
    for k in range(1, levels + 1):
        if k not in _NESTED:
            _NESTED[k] = dual_ops(_NESTED[k - 1])
    return _NESTED[levels]


def seed(x0: float, levels: int):
    """x₀ + ε₁ + … + ε_levels as a nested dual number."""
    v = x0
    for k in range(1, levels + 1):
        v = Dual(v, 1.0, _NESTED[k])
    return v


def _coefficient(r, levels: int, k: int) -> float:
    """The coefficient of ε_levels⋯ε_(levels-k+1) (k tangent steps, then values)."""
    for step in range(levels):
        if not isinstance(r, Dual):
            return float(r) if step >= k else 0.0
        r = r.t if step < k else r.v
    if isinstance(r, Dual):  # pragma: no cover - a level deeper than asked
        r = r.v
    return float(r) if k <= levels else 0.0


def dual_derivatives_at(tape, env: dict, var: str, order: int, mode: str = "forward") -> list[float]:
    """[f(x₀), f'(x₀), …, f⁽ᴺ⁾(x₀)] by nested dual numbers (kept to cross-check Taylor mode)."""
    xi = tape.variables.get(var)
    base = evaluate(tape, env, FLOAT)  # value errors get the plain message first
    if xi is None:
        return [base[-1]] + [0.0] * order
    x0 = env[var]
    try:
        if mode == "reverse":
            levels = order - 1
            ops = nested_ops(levels)
            e = dict(env)
            e[var] = seed(x0, levels)
            vals = evaluate(tape, e, ops)
            adj = reverse(tape, vals, [xi], ops)
            d = adj[xi] if adj[xi] is not None else 0.0
            out = [base[-1]] + [_coefficient(d, levels, k) for k in range(order)]
        else:
            ops = nested_ops(order)
            e = dict(env)
            e[var] = seed(x0, order)
            r = evaluate(tape, e, ops)[-1]
            out = [base[-1]] + [_coefficient(r, order, k) for k in range(1, order + 1)]
    except CalcError as err:
        raise NotDifferentiable(f"a derivative of order ≤ {order} does not exist at {var} = "
                                f"{fmt_number(x0)}: {err.message.split(':')[0]}") from None
    except (ArithmeticError, ValueError):
        raise NotDifferentiable(f"a derivative of order ≤ {order} does not exist at {var} = "
                                f"{fmt_number(x0)}") from None
    import math
    if not all(math.isfinite(v) for v in out):
        raise NotDifferentiable(f"a derivative of order ≤ {order} is not finite at {var} = {fmt_number(x0)}")
    return out


# ------------------------------------------------------------------ Taylor mode
#
# A truncated Taylor series in t around x₀: u(t) = u₀ + u₁t + u₂t² + …, with
# uₖ = u⁽ᵏ⁾(x₀)/k!. Arithmetic has the textbook recurrences; every other
# primitive y = f(u, …) comes from the table's partials through y' = Σ ∂f/∂uᵢ·uᵢ':
#     yₖ = (1/k) Σᵢ Σⱼ₌₁..ₖ j·(uᵢ)ⱼ·(pᵢ)ₖ₋ⱼ,   pᵢ = partials[i](TAYLOR, u…, y)
# where pᵢ is itself a series built by the same rules (cos for sin, y itself for
# exp), needing only coefficients below k, so each series fills its
# coefficients in increasing order. Driven level by level over the tape
# (k = 1, 2, …, N; rows in order), nothing recurses on the depth of the
# expression; the chains of helper series (pow(u, c-1), pow(u, c-2), …) are at
# most N long. O(N²) work per primitive instead of nested duals' 3ᴺ.

_MADE: list | None = None          # while sweeping: every series, in the order made


class Series:
    __slots__ = ("c", "rule")

    def __init__(self, c0: float, rule):
        self.c = [c0]
        self.rule = rule            # rule(k) -> the k-th coefficient (k ≥ 1)
        if _MADE is not None:
            _MADE.append(self)

    @property
    def v(self) -> float:
        """The value at the point, named like a dual number's (error messages read it)."""
        return self.c[0]

    def coef(self, k: int) -> float:
        c = self.c
        while len(c) <= k:
            c.append(self.rule(len(c)))
        return c[k]

    def __add__(self, o): return TAYLOR.add(self, o)
    def __radd__(self, o): return TAYLOR.add(o, self)
    def __sub__(self, o): return TAYLOR.sub(self, o)
    def __rsub__(self, o): return TAYLOR.sub(o, self)
    def __mul__(self, o): return TAYLOR.mul(self, o)
    def __rmul__(self, o): return TAYLOR.mul(o, self)
    def __truediv__(self, o): return TAYLOR.div(self, o)
    def __rtruediv__(self, o): return TAYLOR.div(o, self)
    def __neg__(self): return TAYLOR.neg(self)
    def __pow__(self, o): return TAYLOR.pow(self, o)
    def __rpow__(self, o): return TAYLOR.pow(o, self)


def _c(u, k: int):
    """Coefficient k of a series or a constant."""
    if isinstance(u, Series):
        return u.coef(k)
    return u if k == 0 else 0.0


def _mp_function(mp, name: str):
    """The mpmath version of a scalar primitive (KeyError: none)."""
    table = {"sin": mp.sin, "cos": mp.cos, "tan": mp.tan, "asin": mp.asin, "acos": mp.acos,
             "atan": mp.atan, "sinh": mp.sinh, "cosh": mp.cosh, "tanh": mp.tanh, "exp": mp.exp,
             "log": mp.log, "sqrt": mp.sqrt, "abs": mp.fabs, "pow": mp.power,
             "sigmoid": lambda x: 1 / (1 + mp.exp(-x)), "softplus": lambda x: mp.log(1 + mp.exp(x)),
             "add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
             "div": lambda a, b: a / b, "neg": lambda a: -a}
    return table[name]


def _taylor_ops(mp=None):
    """Taylor arithmetic on floats, or (``mp`` = the mpmath module) in its working precision."""
    from calccli.engine.primitives import PRIMS
    from calccli.engine.ops import Ops
    o = Ops(kind="taylor", zero=0.0, one=1.0)
    fsum = math.fsum if mp is None else mp.fsum

    def add(u, v):
        if not isinstance(u, Series) and not isinstance(v, Series):
            return u + v
        return Series(_c(u, 0) + _c(v, 0), lambda k: _c(u, k) + _c(v, k))

    def sub(u, v):
        if not isinstance(u, Series) and not isinstance(v, Series):
            return u - v
        return Series(_c(u, 0) - _c(v, 0), lambda k: _c(u, k) - _c(v, k))

    def neg(u):
        if not isinstance(u, Series):
            return -u
        return Series(-u.c[0], lambda k: -u.coef(k))

    def mul(u, v):
        if not isinstance(u, Series) and not isinstance(v, Series):
            return u * v
        if not isinstance(u, Series) or not isinstance(v, Series):
            s, a = (v, u) if isinstance(v, Series) else (u, v)
            return Series(s.c[0] * a, lambda k: s.coef(k) * a)
        return Series(u.c[0] * v.c[0], lambda k: fsum(u.coef(j) * v.coef(k - j) for j in range(k + 1)))

    def div(u, v):
        if not isinstance(v, Series):
            if not isinstance(u, Series):
                return u / v
            return Series(u.c[0] / v, lambda k: u.coef(k) / v)
        v0 = v.c[0]
        if v0 == 0.0:
            raise ZeroDivisionError("division by a series that is 0 at the point")
        q = Series(_c(u, 0) / v0, None)
        q.rule = lambda k: (_c(u, k) - fsum(q.coef(j) * v.coef(k - j) for j in range(k))) / v0
        return q

    def generic(name):
        p = PRIMS[name]
        f = p.f if mp is None else _mp_function(mp, name)

        def apply(*args):
            if not any(isinstance(a, Series) for a in args):
                return f(*args)
            y = Series(f(*[_c(a, 0) for a in args]), None)
            parts = []

            def rule(k):
                if not parts:  # the partials, as series, built on first use
                    for i, a in enumerate(args):
                        if isinstance(a, Series):
                            parts.append((a, p.partials[i](o, *args, y)))
                total = []
                for a, d in parts:
                    for j in range(1, k + 1):
                        total.append(j * a.coef(j) * _c(d, k - j))
                return fsum(total) / k
            y.rule = rule
            return y
        return apply

    for name in PRIMS:
        try:
            setattr(o, name, generic(name))
        except KeyError:      # no mpmath version (array primitives): not on that path
            pass
    o.add, o.sub, o.neg, o.mul, o.div = add, sub, neg, mul, div
    return o


TAYLOR = None


@collector_paused()   # series and their rules form cycles: collected after the sweep
def derivatives_at(tape, env: dict, var: str, order: int, mode: str = "forward", mp=None) -> list:
    """[f(x₀), f'(x₀), …, f⁽ᴺ⁾(x₀)] for ``var`` (other variables fixed), by Taylor-mode AD.

    forward: the tape evaluated on series x₀ + t; f⁽ᵏ⁾ = k!·(coefficient k of f).
    reverse: then one reverse sweep on those series; the adjoint of x is the
    series of f'(x₀ + t), so f⁽ᵏ⁺¹⁾ = k!·(its coefficient k).
    Coefficients are filled level by level (k = 1 … N) over every series in the
    order it was made, so no computation recurses on the depth of the expression.
    """
    global TAYLOR, _MADE
    if TAYLOR is None:
        TAYLOR = _taylor_ops()
    from calccli.engine.evaluate import leaf_values
    base = evaluate(tape, env, FLOAT)
    xi = tape.variables.get(var)
    if xi is None:
        return [base[-1]] + [0.0] * order
    x0 = env[var]
    made: list = []
    owner: list = []                # owner[m]: the tape row whose rules made series made[m]
    current = None                  # the row being worked on when a rule fails
    saved = TAYLOR
    _MADE = made
    try:
        vals = leaf_values(tape, env, FLOAT)
        if mp is not None:          # the same sweep in mpmath's precision
            TAYLOR = _mp_ops(mp)
            vals = [_mp_leaf(mp, n, v) if tape.prims[i] is None else v
                    for i, (n, v) in enumerate(zip(tape.nodes, vals))]
            x0 = mp.mpf(x0)
        vals[xi] = Series(x0, lambda k: 1.0 if k == 1 else 0.0)
        owner.append(None)
        args, prims = tape.args, tape.prims
        for i in tape.rows:
            current = i
            vals[i] = getattr(TAYLOR, prims[i].name)(*[vals[j] for j in args[i]])
            owner.extend([i] * (len(made) - len(owner)))
        current = None
        if mode == "reverse":
            r = reverse(tape, vals, [xi], TAYLOR)[xi]
            levels, shift = order - 1, 1
        else:
            r = vals[-1]
            levels, shift = order, 0
        owner.extend([None] * (len(made) - len(owner)))
        for k in range(1, levels + 1):
            n = len(made)
            for m in range(n):
                current = owner[m]
                made[m].coef(k)
                owner.extend([current] * (len(made) - len(owner)))  # helper series of that row
        current = None
        out = [_c(r, k) * math.factorial(k) for k in range(shift == 0, levels + 1)]
    except CalcError as err:
        raise NotDifferentiable(f"a derivative of order ≤ {order} does not exist at {var} = "
                                f"{fmt_number(x0)}: {err.message}") from None
    except (ArithmeticError, ValueError):
        at = ""
        if current is not None:
            from calccli.engine.diagnose import arg_values, describe_row
            where = arg_values(tape, current, base)
            at = f": not differentiable at {describe_row(tape, current)}" + (f" ({where})" if where else "")
        raise NotDifferentiable(f"a derivative of order ≤ {order} does not exist at {var} = "
                                f"{fmt_number(x0)}{at}") from None
    finally:
        _MADE = None
        TAYLOR = saved
    if r is None:
        out = [0.0] * order
    if mp is not None:
        return [base[-1]] + out
    if not all(math.isfinite(v) for v in out):
        raise NotDifferentiable(f"a derivative of order ≤ {order} is not finite at {var} = {fmt_number(x0)}")
    return [base[-1]] + out


_MP_OPS: dict = {}


def _mp_ops(mp):
    key = mp.mp.prec
    if key not in _MP_OPS:
        _MP_OPS.clear()
        _MP_OPS[key] = _taylor_ops(mp)
    return _MP_OPS[key]


def _mp_leaf(mp, node, v):
    """A leaf in mpmath: numbers as the decimals they were written as, π and e to full precision."""
    if node.op == "const":
        return mp.pi if node.value == "pi" else mp.e
    if node.op == "num":
        return mp.mpf(repr(float(node.value)))
    return mp.mpf(v) if isinstance(v, float) else v


# ---------------------------------------------------------------- error estimates

EPS = 2.0 ** -52
TRUSTED = 1e-10      # relative accuracy below which float64's answer is recomputed


def derivatives_with_errors(tape, env: dict, var: str, order: int, mode: str = "forward"):
    """[f, f', …, f⁽ᴺ⁾], an error estimate for each, and how they were computed.

    The estimate in float64: the sweep is repeated with x₀ moved by two units in
    the last place either way (the derivatives themselves move by far less), so
    the spread measures how much rounding the recurrences amplify — cancellation
    near a removable singularity shows up as a spread as large as the value. Where
    the estimate is above TRUSTED relative for the requested order, the sweep runs
    again in mpmath (imported only then) at 30, 60, … digits until two precisions
    agree; its estimate is their difference. Without mpmath (or for a primitive it
    lacks) the float64 values are kept and the note says how many digits to trust.
    """
    vals = derivatives_at(tape, env, var, order, mode)
    x0 = env[var]
    spread = [0.0] * len(vals)
    for s in (1, -1):
        moved = dict(env)
        moved[var] = x0 + s * 2 * EPS * abs(x0) if x0 else s * 1e-300
        try:
            other = derivatives_at(tape, moved, var, order, mode)
        except CalcError:
            continue
        spread = [max(a, abs(b - c)) for a, b, c in zip(spread, other, vals)]
    errs = [8 * d + 4 * (k + 1) * EPS * abs(v) for k, (d, v) in enumerate(zip(spread, vals))]
    if errs[-1] <= TRUSTED * abs(vals[-1]) or not math.isfinite(errs[-1]):
        return vals, errs, ""
    lost = _digits(errs[-1], vals[-1])
    lost = "no" if lost == 0 else f"about {lost}"
    try:
        import mpmath
    except ImportError:
        return vals, errs, f"float64 gives {lost} correct digits of f⁽{order}⁾ here (cancellation)"
    try:
        hp, hp_errs, dps = _high_precision(mpmath, tape, env, var, order, mode)
    except (KeyError, AttributeError, TypeError):
        return vals, errs, f"float64 gives {lost} correct digits of f⁽{order}⁾ here (cancellation)"
    return hp, hp_errs, (f"recomputed in {dps}-digit arithmetic (mpmath): float64 keeps {lost} "
                         f"correct digits of f⁽{order}⁾ here (cancellation)")


def _digits(err: float, v: float) -> int:
    if err == 0:
        return 16
    return max(0, min(16, int(-math.log10(err / max(abs(v), 1e-300)))))


def _high_precision(mp, tape, env, var, order, mode):
    prev = None
    saved = mp.mp.dps
    try:
        for dps in (30, 60, 120, 240, 480):
            mp.mp.dps = dps
            cur = derivatives_at(tape, env, var, order, mode, mp=mp)
            if prev is not None:
                errs = [float(abs(a - b)) + EPS / 2 * float(abs(b)) for a, b in zip(prev, cur)]
                if all(e <= 1e-13 * max(float(abs(b)), 1e-300) for e, b in zip(errs, cur)) or dps == 480:
                    return [float(b) for b in cur], errs, dps
            prev = cur
    finally:
        mp.mp.dps = saved
