"""`calc diff --order N --at P`: derivatives of order N at a point (Taylor mode), each with an
error estimate (recomputed in mpmath where float64 loses the digits), and the trace."""

from __future__ import annotations

from dataclasses import dataclass, field

from calccli.errors import ShapeError, UsageError
from calccli.engine.evaluate import depends, evaluate, ops_for
from calccli.explain.steps import trace_rows
from calccli.numfmt import fmt_number
from calccli.engine.ops import FLOAT
from calccli.language.parse import parse
from calccli.language.points import resolve
from calccli.engine.tape import build_tape

from calccli.engine.taylor import check_order, derivatives_with_errors


@dataclass
class HigherDiffResult:
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

    def json(self) -> dict:
        from calccli.render.json import obj_DiffResult, flat_point
        if self.base is not None:
            out = obj_DiffResult(self.base)
        else:
            out = {"expression": self.expression, "variable": self.variable,
                   "point": flat_point(self.point), "mode": self.mode, "order": self.order,
                   "value": self.value, "derivative": self.derivative,
                   "trace": [{"name": t.name, "definition": t.definition, "value": t.value}
                             for t in self.trace],
                   "steps": [{"order": k, "value": v,
                              **({"expression": self.symbolic[k - 1]} if self.symbolic else {})}
                             for k, v in enumerate(self.derivatives, 1)]}
        out["derivatives"] = self.derivatives
        out["method"] = self.method
        if self.errors:
            out["error_estimates"] = self.errors
            out["error_estimate"] = self.errors[-1]
        if self.note:
            out["note"] = self.note
        if self.symbolic:
            out["derivative_expression"] = self.symbolic[-1]
            out["derivative_expressions"] = self.symbolic
        if self.sym_steps:
            out["symbolic_steps"] = [{"rule": s.rule, "expression": s.expression,
                                      "formula": s.formula, "result": s.result} for s in self.sym_steps]
        return out

    def doc(self):
        from calccli.render.doc import Doc, Lines, Table
        from calccli.render.views import fmt_point, to_doc
        at = fmt_number(self.point[self.variable]) if self.variable in self.point else ""
        if self.base is not None:
            doc = to_doc(self.base)
        else:
            rows = []
            shaky = bool(self.note)      # float64 was not enough: the estimates are shown with the values
            for k, v in enumerate(self.derivatives, 1):
                row = [f"f{self._primes(k)}({at})", fmt_number(v)]
                if shaky:
                    row.append(f"{self.errors[k - 1]:.1e}")
                if self.symbolic:
                    row.append(self.symbolic[k - 1])
                rows.append(row)
            cols = ["derivative", "value"] + (["± error estimate"] if shaky else []) + \
                (["expression"] if self.symbolic else [])
            # "exact": an exact method (no truncation) whose rounding estimate is ≤ 1e-10 relative
            label = self.method if shaky else f"{self.method}, exact"
            blocks = [Table(f"Derivatives up to order {self.order} ({label})", cols, rows)]
            if self.note:
                blocks.append(Lines("", [self.note]))
            doc = Doc(f"f({self.variable}) = {self.expression}    at {fmt_point(self.point)}", blocks,
                      [(f"f({at})", fmt_number(self.value)),
                       (f"f{self._primes(self.order)}({at})", fmt_number(self.derivative))])
        if self.sym_steps:
            from calccli.symbolic.differentiate import rule_lines
            doc.blocks.append(Lines("Symbolic steps (each rule applied, innermost first)",
                                    rule_lines(self.sym_steps)))
        return doc

    @staticmethod
    def _primes(k: int) -> str:
        from calccli.symbolic.differentiate import _SUP
        return {1: "'", 2: "''", 3: "'''"}.get(k) or "⁽" + str(k).translate(_SUP) + "⁾"

    def latex(self) -> str:
        from calccli.render.latex import higher_latex
        return higher_latex(self)


def diff_higher(text: str, at, let=None, wrt=None, mode: str = "reverse", order: int = 2,
                steps: bool = False) -> HigherDiffResult:
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
        base = diff_at(text, at, let, wrt, mode)
        return HigherDiffResult(text, var, prob.point, mode, 1, base.value, base.derivative,
                                [base.derivative], [], sym_texts, sym_steps, base,
                                method=f"{mode} mode")
    vals, errs, note = derivatives_with_errors(tape, prob.env, var, order, mode)
    xi = tape.variables.get(var)
    fvals = evaluate(tape, prob.env, FLOAT)
    trace = trace_rows(tape, fvals, depends(tape, [xi] if xi is not None else []))
    method = ("Taylor-mode AD, forward" if mode == "forward"
              else "Taylor-mode AD, reverse sweep on Taylor series")
    if note.startswith("recomputed"):
        method += ", in mpmath"
    return HigherDiffResult(text, var, prob.point, mode, order, vals[0], vals[-1], vals[1:], trace,
                            sym_texts, sym_steps, None, method, errors=errs[1:], note=note)
