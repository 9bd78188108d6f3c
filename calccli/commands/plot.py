"""``calc plot``: f and its derivatives drawn in the terminal (plotext, imported lazily).

The derivatives at each sample come from the engine (nested dual numbers, exact,
see :mod:`calccli.higher`), not from differences of the samples. Points where f
or a derivative is undefined are gaps. Where f' changes sign the plot's text
says so (“f' = 0 at x ≈ 1.31: a maximum of f”), and ``--at`` adds the tangent
line there. The picture is text: the result holds it as lines (no colours) next to
the sampled xs and ys; render/plot.py shows them.
"""
from __future__ import annotations

import math
import shutil
from dataclasses import dataclass, field

from calccli.display import RichDisplay

from calccli.errors import CalcError, ShapeError, UsageError
from calccli.engine.evaluate import evaluate, ops_for
from calccli.numfmt import fmt_number
from calccli.engine.ops import FLOAT
from calccli.engine.reverse import reverse
from calccli.language.parse import parse
from calccli.language.points import constant_value, resolve
from calccli.engine.tape import build_tape

# The legend shows f', f'', … as formulas when they print in ≤ 200 characters; an
# input longer than this has no such derivative in practice, and simplifying its
# derivative would cost more than the whole plot.
LEGEND_INPUT = 400
MARKERS = ("*", "+", "o", "x", "#", "%", "@", "&")
TANGENT = "."


def _label(k: int) -> str:
    from calccli.symbolic.differentiate import _SUP
    primes = {0: "", 1: "'", 2: "''", 3: "'''"}
    return "f" + (primes[k] if k in primes else "⁽" + str(k).translate(_SUP) + "⁾")


@dataclass
class PlotResult(RichDisplay):
    expression: str
    variable: str
    lo: float
    hi: float
    order: int
    xs: list[float]
    ys: dict[str, list]                     # label -> values (None where undefined)
    lines: list[str]
    tangent: dict | None = None
    critical: list[dict] = field(default_factory=list)
    derivative_expressions: dict = field(default_factory=dict)


def _draw(series, tangent, width: int, height: int, xlabel: str) -> str:
    """series: [(label, xs, ys)], ys with None gaps; returns the picture as text."""
    import plotext as plt
    if hasattr(plt, "figure") and not hasattr(plt, "plotsize"):   # plotext 6
        fig = plt.figure
        fig.clear()
        fig.plot_size(width, height)
        for k, (lab, xs, ys) in enumerate(series + ([tangent] if tangent else [])):
            marker = TANGENT if tangent and k == len(series) else MARKERS[k % len(MARKERS)]
            for sx, sy in _segments(xs, ys):
                s = fig.signal(sx, sy, marker=marker)
                s.lines()
                fig.draw(s)
        fig.label(xlabel, axis="x")
        text = fig.build().string(colorless=True)
        fig.clear()
        return text
    plt.clf()                                                       # plotext 5
    plt.plotsize(width, height)
    plt.theme("clear")
    for k, (lab, xs, ys) in enumerate(series + ([tangent] if tangent else [])):
        marker = TANGENT if tangent and k == len(series) else MARKERS[k % len(MARKERS)]
        for sx, sy in _segments(xs, ys):
            plt.plot(sx, sy, marker=marker)
    plt.xlabel(xlabel)
    out = plt.build()
    return plt.uncolorize(out) if hasattr(plt, "uncolorize") else out


def _segments(xs, ys):
    cur_x, cur_y = [], []
    for x, y in zip(xs, ys):
        if y is None:
            if cur_x:
                yield cur_x, cur_y
            cur_x, cur_y = [], []
        else:
            cur_x.append(x)
            cur_y.append(y)
    if cur_x:
        yield cur_x, cur_y


def _number(text: str, what: str) -> float:
    try:
        v = constant_value(str(text))
    except CalcError as e:
        raise UsageError(f"{what} expects a number, got '{text}' ({e.message})") from None
    if not isinstance(v, float | int) or not math.isfinite(v):
        raise UsageError(f"{what} expects a finite number, got '{text}'")
    return float(v)


def plot_of(text: str, lo, hi, order: int = 1, at=None, let=None, wrt=None,
            width: int = 0, height: int = 0) -> PlotResult:
    from calccli.engine.taylor import derivatives_at
    a, b = _number(lo, "--from"), _number(hi, "--to")
    if not a < b:
        raise UsageError(f"--from must be less than --to (got {fmt_number(a)} and {fmt_number(b)})")
    try:
        order = int(order)
    except (TypeError, ValueError):
        raise UsageError(f"--order must be a whole number ≥ 0, got '{order}'") from None
    if not 0 <= order <= 10:
        raise UsageError(f"--order must be between 0 and 10, got {order}")
    node = parse(text).node
    prob = resolve(node, None, let, wrt, need_point=False)
    if len(prob.wrt) > 1:
        raise UsageError(f"plot draws a function of one variable; the expression has "
                         f"{', '.join(prob.wrt)}: choose with --wrt and bind the others with --let")
    var = prob.wrt[0] if prob.wrt else "x"
    tape = build_tape(node)
    env = dict(prob.env)
    env[var] = 0.0
    if ops_for(tape, env) is not FLOAT:
        raise ShapeError("plot needs a scalar expression of one scalar variable")
    cols = shutil.get_terminal_size((80, 24)).columns
    width = width if width > 0 else max(40, min(cols - 4, 120))
    height = height if height > 0 else 20
    n = max(2 * width, 200)
    xs = [a + (b - a) * k / (n - 1) for k in range(n)]
    labels = [_label(k) for k in range(order + 1)]
    ys: dict[str, list] = {lab: [] for lab in labels}
    need = max(order, 1)
    slope1: list = []
    for x in xs:
        e = dict(env)
        e[var] = x
        vals = _values(tape, e, var, need, derivatives_at)
        for k, lab in enumerate(labels):
            ys[lab].append(vals[k] if vals is not None and vals[k] is not None else None)
        slope1.append(vals[1] if vals is not None else None)
    if all(v is None for v in ys["f"]):
        raise UsageError(f"f is undefined everywhere on [{fmt_number(a)}, {fmt_number(b)}]")
    tangent = tangent_series = None
    if at is not None:
        t = _number(at, "--at")
        e = dict(env)
        e[var] = t
        vals = _values(tape, e, var, 1, derivatives_at)
        if vals is None or vals[1] is None:
            raise UsageError(f"f or f' is undefined at {var} = {fmt_number(t)}: no tangent line there")
        tangent = {"at": t, "value": vals[0], "slope": vals[1], "intercept": vals[0] - vals[1] * t}
        f_vals = [v for v in ys["f"] if v is not None]
        span = (max(f_vals) - min(f_vals)) or 1.0
        lo_y, hi_y = min(f_vals) - 0.25 * span, max(f_vals) + 0.25 * span
        ty = [vals[0] + vals[1] * (x - t) for x in xs]
        tangent_series = ("tangent", xs, [y if lo_y <= y <= hi_y else None for y in ty])
    critical = _critical(tape, env, var, xs, slope1, derivatives_at)
    window = _window(ys)
    series = [(lab, xs, [y if y is not None and window[0] <= y <= window[1] else None for y in ys[lab]])
              for lab in labels]
    try:
        picture = _draw(series, tangent_series, width, height, var)
        lines = [ln.rstrip() for ln in picture.rstrip("\n").split("\n")]
    except Exception as exc:  # noqa: BLE001 - a drawing failure must not lose the numbers
        lines = [f"(the plot could not be drawn: {type(exc).__name__}: {exc})"]
    exprs = {}
    if order >= 1 and len(text) <= LEGEND_INPUT:
        try:
            from calccli.symbolic.differentiate import checked_text, derivative
            ds = derivative(node if not prob.env else _bound(node, prob.env, var), var, order)
            for k, d in enumerate(ds, 1):
                t = checked_text(d)
                if len(t) <= 200:
                    exprs[_label(k)] = t
        except CalcError:
            pass
    return PlotResult(text, var, a, b, order, xs, ys, lines, tangent, critical, exprs)


def _window(ys: dict) -> tuple[float, float]:
    """The y range drawn: the middle 90% of each curve's values, together, plus a margin
    (so that f' = 1/x near 0 does not flatten everything else)."""
    lo, hi = math.inf, -math.inf
    for vals in ys.values():
        v = sorted(y for y in vals if y is not None)
        if not v:
            continue
        lo = min(lo, v[int(0.05 * (len(v) - 1))])
        hi = max(hi, v[int(0.95 * (len(v) - 1))])
    if not lo < hi:
        return (lo - 1.0, hi + 1.0) if math.isfinite(lo) else (-math.inf, math.inf)
    pad = 0.15 * (hi - lo)
    return lo - pad, hi + pad


def _bound(node, env, var):
    from calccli.engine import expr
    from calccli.engine.tape import topo_order
    new = {}
    for n in topo_order(node):
        if n.op == "var" and n.value != var and isinstance(env.get(n.value), float | int):
            new[n] = expr.num(env[n.value])
        elif n.args:
            new[n] = expr.make(n.op, tuple(new[x] for x in n.args), n.value)
        else:
            new[n] = n
    return new[node]


def _values(tape, env, var, order, derivatives_at):
    """[f, f', …] at one point (None entries where a derivative does not exist).
    f' alone comes from one reverse pass (the compiled tape programs: several
    times cheaper than Taylor series on a large expression); higher orders
    from Taylor mode."""
    if order == 1:
        try:
            vals = evaluate(tape, env, FLOAT)
            xi = tape.variables.get(var)
            d = reverse(tape, vals, [xi])[xi] if xi is not None else None
            d = 0.0 if d is None else d
            if math.isfinite(d):
                return [vals[-1], d]
        except CalcError:
            pass
    try:
        return derivatives_at(tape, env, var, order)
    except CalcError:
        pass
    try:
        f = evaluate(tape, env, FLOAT)[-1]
    except CalcError:
        return None
    return [f] + [None] * order


def _critical(tape, env, var, xs, slope, derivatives_at) -> list[dict]:
    """Zeros of f': a sample where f' is exactly 0, or a sign change of f' between two
    samples refined by root-finding on f' (the bracket kept, Newton steps with the exact
    f'' from Taylor mode, bisection where Newton would leave the bracket), so f' = 2x
    gives x = 0 exactly. A zero at an end of the interval is reported as an endpoint."""
    out = []

    def derivs(x):
        e = dict(env)
        e[var] = x
        return _values(tape, e, var, 2, derivatives_at)

    def refine(lo, hi, flo):
        x = 0.5 * (lo + hi)
        for _ in range(200):
            v = derivs(x)
            if v is None or v[1] is None:
                return None
            d1, d2 = v[1], v[2]
            if d1 == 0.0:
                return x
            if (d1 < 0) == (flo < 0):
                lo = x
            else:
                hi = x
            step = x - d1 / d2 if d2 not in (None, 0.0) and math.isfinite(d2) else None
            nxt = step if step is not None and lo < step < hi else 0.5 * (lo + hi)
            if nxt == x or hi - lo <= 4 * math.ulp(max(abs(lo), abs(hi))):
                return nxt
            x = nxt
        return x

    last = len(xs) - 1
    for k in range(len(xs)):
        s0 = slope[k]
        if s0 is None:
            continue
        if s0 == 0.0:
            xc, left, right = xs[k], slope[k - 1] if k else None, slope[k + 1] if k < last else None
        elif k < last and slope[k + 1] is not None and s0 * slope[k + 1] < 0:
            xc, left, right = refine(xs[k], xs[k + 1], s0), s0, slope[k + 1]
            if xc is None:
                continue
        else:
            continue
        e = dict(env)
        e[var] = xc
        try:
            fval = evaluate(tape, e, FLOAT)[-1]
        except CalcError:
            continue
        neg_left = left is not None and left < 0 or left is None and right is not None and right > 0
        if (left is None or left < 0) and (right is None or right > 0) and neg_left:
            kind = "a minimum"
        elif (left is None or left > 0) and (right is None or right < 0) and (left or right):
            kind = "a maximum"
        else:
            kind = "a stationary point"
        c = {"x": xc, "f": fval, "kind": kind}
        if k == 0 and s0 == 0.0 or k == last and s0 == 0.0:
            c["endpoint"] = True
        out.append(c)
        if len(out) >= 20:
            break
    return out
