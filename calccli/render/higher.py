"""How ``calc diff --order N --at P`` results look: the derivatives up to order N
(Taylor mode), with the symbolic steps when asked (commands/higher.py)."""
from __future__ import annotations

from calccli.commands.higher import HigherDiffResult
from calccli.numfmt import fmt_number
from calccli.render.derivatives import diff_latex, diff_obj
from calccli.render.doc import Doc, Lines, Table
from calccli.render.json import flat_point, json_obj
from calccli.render.latex import _point, _prime, _sym_step_rows, expr_latex, name, number, text, to_latex
from calccli.render.symbolic import sym_steps_obj
from calccli.render.views import fmt_point, to_doc
from calccli.symbolic.differentiate import _SUP, rule_lines


def primes(k: int) -> str:
    """f', f'', f''', f⁽⁴⁾ …"""
    return {1: "'", 2: "''", 3: "'''"}.get(k) or "⁽" + str(k).translate(_SUP) + "⁾"


@json_obj.register(HigherDiffResult)
def higher_obj(r) -> dict:
    if r.base is not None:
        out = diff_obj(r.base)
    else:
        out = {"expression": r.expression, "variable": r.variable,
               "point": flat_point(r.point), "mode": r.mode, "order": r.order,
               "value": r.value, "derivative": r.derivative,
               "trace": [{"name": t.name, "definition": t.definition, "value": t.value}
                         for t in r.trace],
               "steps": [{"order": k, "value": v,
                          **({"expression": r.symbolic[k - 1]} if r.symbolic else {})}
                         for k, v in enumerate(r.derivatives, 1)]}
    out["derivatives"] = r.derivatives
    out["method"] = r.method
    if r.errors:
        out["error_estimates"] = r.errors
        out["error_estimate"] = r.errors[-1]
    if r.note:
        out["note"] = r.note
    if r.symbolic:
        out["derivative_expression"] = r.symbolic[-1]
        out["derivative_expressions"] = r.symbolic
    if r.sym_steps:
        out["symbolic_steps"] = sym_steps_obj(r.sym_steps)
    return out


@to_doc.register(HigherDiffResult)
def higher_doc(r) -> Doc:
    at = fmt_number(r.point[r.variable]) if r.variable in r.point else ""
    if r.base is not None:
        doc = to_doc(r.base)
    else:
        rows = []
        shaky = bool(r.note)      # float64 was not enough: the estimates are shown with the values
        for k, v in enumerate(r.derivatives, 1):
            row = [f"f{primes(k)}({at})", fmt_number(v)]
            if shaky:
                row.append(f"{r.errors[k - 1]:.1e}")
            if r.symbolic:
                row.append(r.symbolic[k - 1])
            rows.append(row)
        cols = ["derivative", "value"] + (["± error estimate"] if shaky else []) + \
            (["expression"] if r.symbolic else [])
        # "exact": an exact method (no truncation) whose rounding estimate is ≤ 1e-10 relative
        label = r.method if shaky else f"{r.method}, exact"
        blocks = [Table(f"Derivatives up to order {r.order} ({label})", cols, rows)]
        if r.note:
            blocks.append(Lines("", [r.note]))
        doc = Doc(f"f({r.variable}) = {r.expression}    at {fmt_point(r.point)}", blocks,
                  [(f"f({at})", fmt_number(r.value)),
                   (f"f{primes(r.order)}({at})", fmt_number(r.derivative))])
    if r.sym_steps:
        doc.blocks.append(Lines("Symbolic steps (each rule applied, innermost first)",
                                rule_lines(r.sym_steps)))
    return doc


@to_latex.register(HigherDiffResult)
def higher_latex(r) -> str:
    if r.base is not None:
        out = diff_latex(r.base)
    else:
        x = name(r.variable)
        at = number(r.point.get(r.variable, 0.0))
        rows = []
        for k, v in enumerate(r.derivatives, 1):
            row = f"f{_prime(k)}({at}) &= {number(v)}"
            if r.symbolic:
                row += f" && f{_prime(k)}({x}) = {expr_latex(r.symbolic[k - 1])}"
            rows.append(row)
        out = (f"f({x}) = {expr_latex(r.expression)} \\quad {text('at ')}{_point(r.point)}\n\n"
               "\\begin{aligned}\n" + " \\\\\n".join(rows) + "\n\\end{aligned}\n")
    if r.sym_steps:
        out += "\n\\begin{aligned}\n" + " \\\\\n".join(_sym_step_rows(r.sym_steps, r.variable)) \
               + "\n\\end{aligned}\n"
    return out
