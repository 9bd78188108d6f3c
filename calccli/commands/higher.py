"""`calc diff --order N --at P`: derivatives of order N at a point (Taylor mode), each with an
error estimate (recomputed in mpmath where float64 loses the digits), and the trace."""

from __future__ import annotations

from dataclasses import dataclass, field

from calccli.display import RichDisplay

from calccli.errors import ShapeError, UsageError
from calccli.engine.evaluate import depends, evaluate, ops_for
from calccli.explain.steps import trace_rows
from calccli.engine.ops import FLOAT
from calccli.language.parse import parse
from calccli.language.points import resolve
from calccli.engine.tape import build_tape

from calccli.engine.taylor import check_order, derivatives_with_errors


@dataclass
class HigherDiffResult(RichDisplay):
    expression: str
    variable: str
    point: dict
    mode: str
    order: int
    value: float
    derivative: float
    derivatives: list[float]                 # f', f'', …, f⁽ᴺ⁾ at the point
    trace: list = field(default_factory=list)
    symbolic: list[str] = field(default_factory=list)   # with --steps: f', f'', … as expressions
    sym_steps: list = field(default_factory=list)
    base: object = None                      # order 1 with --steps: the usual DiffResult
    method: str = "Taylor-mode AD"
    exit_code: int = 0
    errors: list[float] = field(default_factory=list)   # an error estimate for each of derivatives
    note: str = ""                                      # where float64 was not enough, what was done


def diff_higher(text: str, at, let=None, wrt=None, mode: str = "reverse", order: int = 2,
                steps: bool = False, explain: bool = True) -> HigherDiffResult:
    if mode not in ("forward", "reverse"):
        raise UsageError(f"unknown mode '{mode}': use forward or reverse")
    check_order(order)
    node = parse(text).node
    prob = resolve(node, at, let, wrt)
    if len(prob.wrt) != 1:
        raise UsageError(f"diff takes one variable, got {', '.join(prob.wrt) or 'none'}: "
                         "choose with --wrt (grad gives all partial derivatives)")
    var = prob.wrt[0]
    tape = build_tape(node)
    if ops_for(tape, prob.env) is not FLOAT or not isinstance(prob.env.get(var, 0.0), (int, float)):
        raise ShapeError("derivatives of order N need scalar variables")
    sym_texts: list[str] = []
    sym_steps: list = []
    if steps:
        from calccli.symbolic.differentiate import checked_text, derivative, symbolic_steps
        sym_steps, _ = symbolic_steps(node, var)
        sym_texts = [checked_text(d) for d in derivative(node, var, order)]
    if order == 1:
        from calccli.commands.derivatives import diff_at
        base = diff_at(text, at, let, wrt, mode, explain)
        return HigherDiffResult(text, var, prob.point, mode, 1, base.value, base.derivative,
                                [base.derivative], [], sym_texts, sym_steps, base,
                                method=f"{mode} mode")
    vals, errs, note = derivatives_with_errors(tape, prob.env, var, order, mode)
    xi = tape.variables.get(var)
    trace = []
    if explain:                              # the trace: not for f''(1) in the REPL
        fvals = evaluate(tape, prob.env, FLOAT)
        trace = trace_rows(tape, fvals, depends(tape, [xi] if xi is not None else []))
    method = ("Taylor-mode AD, forward" if mode == "forward"
              else "Taylor-mode AD, reverse sweep on Taylor series")
    if note.startswith("recomputed"):
        method += ", in mpmath"
    return HigherDiffResult(text, var, prob.point, mode, order, vals[0], vals[-1], vals[1:], trace,
                            sym_texts, sym_steps, None, method, errors=errs[1:], note=note)
