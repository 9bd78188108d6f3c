"""``calc check``: forward, reverse and symbolic derivatives against central differences.

For each variable of differentiation: one forward pass (seeded at that
variable), the component of one reverse pass, the symbolic partial derivative
evaluated at the point, and the central difference (f(x+h) − f(x−h))/2h with
h = ε^(1/3)·max(1, |x|) (≈ 6e-6 at |x| ≤ 1: the step that balances truncation
against rounding). The three exact methods must agree to 1e-11 (relative: they differ only by rounding);
the difference quotient to ``--tol`` (default 1e-6). Exit status 1 otherwise.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

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


@dataclass
class CheckResult:
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
        central, cnote = _central(tape, prob.env, v, x0, h)
        note = "; ".join(n for n in (note, cnote) if n)
        exact = [fw, rv] + ([sym] if sym is not None else [])
        err_exact = max(rel_err(a, b) for a in exact for b in exact)
        err_c = None if central is None else max(rel_err(a, central) for a in exact)
        ok = err_exact <= EXACT_TOL and (err_c is None or err_c <= tol)
        if err_exact <= EXACT_TOL and err_c is not None and err_c > tol:
            note = "; ".join(n for n in (note, "the exact methods agree but the central difference does "
                                         "not: f may not be smooth within h of this point (a kink or "
                                         "a jump), or it curves too fast for h") if n)
        elif err_exact > EXACT_TOL:
            note = "; ".join(n for n in (note, "forward, reverse and symbolic derivatives disagree: "
                                         "a bug in calc — please report this input") if n)
        result.rows.append(CheckRow(v, fw, rv, sym, central, h, err_exact, err_c, ok, sym_text, note))
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


def _central(tape, env, v, x0, h):
    try:
        e1, e2 = dict(env), dict(env)
        e1[v], e2[v] = x0 + h, x0 - h
        f1 = evaluate(tape, e1, FLOAT)[-1]
        f2 = evaluate(tape, e2, FLOAT)[-1]
        return (f1 - f2) / (2 * h), ""
    except CalcError:
        return None, "f is not defined on both sides within h: no central difference"
