"""``calc check``: forward, reverse and symbolic derivatives against central differences.

For each variable of differentiation: one forward pass (seeded at that
variable), the component of one reverse pass, the symbolic partial derivative
evaluated at the point, and the central difference (f(x+h) − f(x−h))/2h with
h = ε^(1/3)·max(1, |x|) (≈ 6e-6 at |x| ≤ 1: the step that balances truncation
against rounding). Every value carries its own error estimate: the exact methods
a running rounding-error bound of the computation they do (the unsimplified
derivative DAG for forward/reverse, the printed derivative for symbolic), the
difference quotient its truncation error (from the step sweep h, 2h, as in
Richardson extrapolation) plus its rounding error (the bound on f over h). The
exact methods must agree to 1e-11 relative or within their bounds; the difference
quotient to ``--tol`` (default 1e-6) or within its own error estimate. Exit status 1
otherwise, so a cancellation such as (exp(x) − 1)/x at 0.001 is not called a bug.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from calccli.display import RichDisplay

from calccli.errors import CalcError, ShapeError, UsageError
from calccli.engine.evaluate import evaluate, ops_for
from calccli.engine.forward import forward
from calccli.engine.ops import FLOAT
from calccli.language.parse import parse
from calccli.language.points import resolve
from calccli.engine.reverse import reverse
from calccli.engine.tape import build_tape

EXACT_TOL = 1e-11   # exact methods differ only by rounding (order of evaluation)
H_FACTOR = 2.0 ** (-52 / 3)    # ε^(1/3) ≈ 6.06e-6


def rel_err(a: float, b: float) -> float:
    """|a − b| relative to the larger magnitude (absolute when both are below 1)."""
    return abs(a - b) / max(1.0, abs(a), abs(b))


@dataclass
class CheckRow:
    variable: str
    forward: float
    reverse: float
    symbolic: float | None
    central: float | None
    h: float
    err_exact: float                 # largest disagreement among forward, reverse, symbolic
    err_central: float | None        # largest distance of those to the central difference
    ok: bool
    symbolic_expression: str = ""
    note: str = ""
    bound_exact: float = 0.0         # rounding-error bound of forward/reverse (absolute)
    bound_symbolic: float = 0.0      # … of the symbolic derivative evaluated in float64
    central_error: float | None = None   # the central difference's own error estimate


def rounding_bound(tape, vals) -> float:
    """A first-order bound on the rounding error of evaluating ``tape`` in float64
    (running error analysis): each operation adds ε·|its value|, and errors of its
    arguments pass through with |∂/∂argument|. Variables are exact; inf when a
    partial does not exist."""
    eps = 2.0 ** -53
    err = [0.0] * len(tape.nodes)
    for i, n in enumerate(tape.nodes):
        p = tape.prims[i]
        v = vals[i]
        if p is None:
            if n.op != "var" and not (n.op == "num" and float(v).is_integer()):
                err[i] = eps * abs(v)
            continue
        e = eps * abs(v)
        for k, j in enumerate(tape.args[i]):
            if err[j]:
                try:
                    e += abs(p.partials[k](FLOAT, *[vals[a] for a in tape.args[i]], v)) * err[j]
                except (ArithmeticError, ValueError, TypeError):
                    return math.inf
        err[i] = e
    return err[-1]


def _bound_of(node, env) -> tuple[float | None, float]:
    """The float64 value of ``node`` at ``env`` and its rounding bound."""
    t = build_tape(node)
    vals = evaluate(t, env, FLOAT)
    return float(vals[-1]), rounding_bound(t, vals)


@dataclass
class CheckResult(RichDisplay):
    expression: str
    point: dict
    value: float
    tol: float
    rows: list[CheckRow] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.rows)

    @property
    def exit_code(self) -> int:
        return 0 if self.ok else 1


def check_at(text: str, at, let=None, wrt=None, tol: float = 1e-6) -> CheckResult:
    try:
        tol = float(tol)
    except (TypeError, ValueError):
        raise UsageError(f"--tol expects a number, got '{tol}'") from None
    if not (tol > 0 and math.isfinite(tol)):
        raise UsageError(f"--tol must be a positive number, got {tol}")
    node = parse(text).node
    prob = resolve(node, at, let, wrt)
    if not prob.wrt:
        raise UsageError("check needs a variable: give a point with --at x=…")
    tape = build_tape(node)
    ops = ops_for(tape, prob.env)
    if ops is not FLOAT or not all(isinstance(prob.env.get(v, 0.0), (int, float)) for v in prob.wrt):
        raise ShapeError("check compares derivatives of scalar variables; vectors and matrices are "
                         "not supported here yet (use grad or jacobian)")
    vals = evaluate(tape, prob.env, FLOAT)
    idx = [tape.variables.get(v) for v in prob.wrt]
    present = [i for i in idx if i is not None]
    adj = reverse(tape, vals, present, FLOAT) if present else []
    root = len(tape.nodes) - 1
    sym_nodes = _symbolic(node, prob.wrt)
    result = CheckResult(text, dict(prob.point), vals[-1], tol)
    for v, i in zip(prob.wrt, idx):
        if i is None:
            fw = rv = 0.0
        elif i == root:
            fw = rv = 1.0
        else:
            t = forward(tape, vals, {i: 1.0}, FLOAT)[root]
            fw = 0.0 if t is None else float(t)
            rv = 0.0 if adj[i] is None else float(adj[i])
        sym, sym_text, note = _eval_symbolic(sym_nodes.get(v), prob.env)
        x0 = prob.env.get(v, 0.0)
        h = H_FACTOR * max(1.0, abs(x0))
        central, cnote, c_err = _central(tape, prob.env, v, x0, h)
        note = "; ".join(n for n in (note, cnote) if n)
        b_ad = _ad_bound(node, v, prob.env) if i is not None and i != root else 0.0
        b_sym = _sym_bound(sym_nodes.get(v), prob.env) if sym is not None else 0.0
        exact = [(fw, b_ad), (rv, b_ad)] + ([(sym, b_sym)] if sym is not None else [])
        err_exact = max(rel_err(a, b) for a, _ in exact for b, _ in exact)
        agree = all(abs(a - b) <= max(EXACT_TOL * max(1.0, abs(a), abs(b)), 2 * (ea + eb))
                    for a, ea in exact for b, eb in exact)
        err_c = None if central is None else max(rel_err(a, central) for a, _ in exact)
        near = central is None or all(abs(a - central) <= max(tol * max(1.0, abs(a), abs(central)),
                                                              c_err + 2 * ea) for a, ea in exact)
        ok = agree and near
        if agree and err_exact > EXACT_TOL:
            note = "; ".join(n for n in (note, f"the exact methods differ by {err_exact:.1e}, within their "
                                         "rounding-error bounds (cancellation in float64 at this point)") if n)
        if b_ad > 1e-10 * max(abs(fw), 1e-300):
            digits = max(0, int(-math.log10(b_ad / max(abs(fw), 1e-300))))
            note = "; ".join(n for n in (note, f"float64 gives this derivative to about {digits} digits here "
                                         f"(rounding-error bound ±{b_ad:.1e})") if n)
        if agree and not near:
            note = "; ".join(n for n in (note, "the exact methods agree but the central difference does "
                                         "not: f may not be smooth within h of this point (a kink or "
                                         "a jump), or it curves too fast for h") if n)
        elif not agree:
            note = "; ".join(n for n in (note, "forward, reverse and symbolic derivatives disagree beyond "
                                         "their rounding-error bounds: a bug in calc — please report this input")
                             if n)
        result.rows.append(CheckRow(v, fw, rv, sym, central, h, err_exact, err_c, ok, sym_text, note,
                                    b_ad, b_sym, c_err))
    return result


def _symbolic(node, names):
    try:
        from calccli.symbolic.differentiate import gradient_nodes
        return dict(zip(names, gradient_nodes(node, names)))
    except CalcError:
        return {}


def _eval_symbolic(d, env):
    if d is None:
        return None, "", "no symbolic derivative (too large or not supported)"
    from calccli.symbolic.differentiate import printed_length
    from calccli.engine.printer import to_text
    text = to_text(d) if printed_length(d) <= 2000 else ""
    try:
        t = build_tape(d)
        return float(evaluate(t, env, FLOAT)[-1]), text, ""
    except CalcError as e:
        return None, text, f"the symbolic derivative cannot be evaluated here ({e.message})"


def _ad_bound(node, v, env) -> float:
    """Rounding bound of forward/reverse: the derivative DAG the forward loop computes."""
    try:
        from calccli.symbolic.differentiate import derivative_node
        return _bound_of(derivative_node(node, v), env)[1]
    except CalcError:
        return 0.0


def _sym_bound(d, env) -> float:
    try:
        return _bound_of(d, env)[1]
    except CalcError:
        return 0.0


def _central(tape, env, v, x0, h):
    """(f(x+h) − f(x−h))/2h, and its error estimate: truncation from the step sweep
    h, 2h (|D(h) − D(2h)|/3, the Richardson correction) plus rounding (f's bound / h)."""
    def quotient(step):
        e1, e2 = dict(env), dict(env)
        e1[v], e2[v] = x0 + step, x0 - step
        v1, v2 = evaluate(tape, e1, FLOAT), evaluate(tape, e2, FLOAT)
        r = (rounding_bound(tape, v1) + rounding_bound(tape, v2)) / (2 * step)
        return (v1[-1] - v2[-1]) / (2 * step), r
    try:
        d1, r1 = quotient(h)
    except CalcError:
        return None, "f is not defined on both sides within h: no central difference", None
    try:
        d2, _ = quotient(2 * h)
        trunc = abs(d1 - d2) / 3
    except CalcError:
        trunc = 0.0
    return d1, "", 2 * (trunc + r1) + 4 * 2.0 ** -53 * abs(d1)
