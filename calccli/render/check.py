"""How ``calc check`` results look: forward, reverse, symbolic and central
differences side by side, with the errors (commands/check.py)."""
from __future__ import annotations

from calccli.commands.check import EXACT_TOL, CheckResult
from calccli.numfmt import fmt_number
from calccli.render.doc import Doc, Lines, Table
from calccli.render.json import json_obj
from calccli.render.latex import expr_latex, name, number, text, to_latex
from calccli.render.views import fmt_point, to_doc


@json_obj.register(CheckResult)
def check_obj(r) -> dict:
    return {"expression": r.expression, "point": r.point, "value": r.value,
            "tol": r.tol, "exact_tol": EXACT_TOL, "ok": r.ok,
            "variables": [c.variable for c in r.rows],
            "checks": [{"variable": c.variable, "forward": c.forward, "reverse": c.reverse,
                        "symbolic": c.symbolic, "central_difference": c.central, "h": c.h,
                        "symbolic_expression": c.symbolic_expression,
                        "max_rel_error_exact": c.err_exact, "max_rel_error_central": c.err_central,
                        "rounding_bound_exact": c.bound_exact, "rounding_bound_symbolic": c.bound_symbolic,
                        "central_error_estimate": c.central_error,
                        "ok": c.ok, **({"note": c.note} if c.note else {})} for c in r.rows]}


@to_doc.register(CheckResult)
def check_doc(r) -> Doc:
    rows = []
    for c in r.rows:
        rows.append([f"∂f/∂{c.variable}", fmt_number(c.forward), fmt_number(c.reverse),
                     "—" if c.symbolic is None else fmt_number(c.symbolic),
                     "—" if c.central is None else fmt_number(c.central),
                     f"{c.err_exact:.1e}", "—" if c.err_central is None else f"{c.err_central:.1e}",
                     "ok" if c.ok else "MISMATCH"])
    blocks = [Table("Derivatives by four methods",
                    ["", "forward", "reverse", "symbolic", "central diff.", "rel. err (exact)",
                     "rel. err (vs diff.)", ""], rows)]
    notes = [f"exact methods must agree within {EXACT_TOL:g}; the central difference "
             f"(h = 6.1e-6·max(1, |x|)) within --tol {r.tol:g}"
             + (" (or within their own error estimates, see below)"
                if any("rounding-error bound" in c.note for c in r.rows) else "")]
    for c in r.rows:
        if c.symbolic_expression:
            notes.append(f"∂f/∂{c.variable} = {c.symbolic_expression}")
        if c.note:
            notes.append(f"{c.variable}: {c.note}")
    blocks.append(Lines("", notes))
    verdict = "all methods agree" if r.ok else "the methods DISAGREE"
    return Doc(f"check f = {r.expression}    at {fmt_point(r.point)}", blocks,
               [("f", fmt_number(r.value)), ("result", verdict)])


@to_latex.register(CheckResult)
def check_latex(r) -> str:
    head = r"\text{variable} & \text{forward} & \text{reverse} & \text{symbolic} & \text{central} & \text{rel. err}"
    body = []
    for c in r.rows:
        cells = [r"\frac{\partial f}{\partial " + name(c.variable) + "}", number(c.forward), number(c.reverse),
                 "-" if c.symbolic is None else number(c.symbolic),
                 "-" if c.central is None else number(c.central),
                 number(float(f"{max(c.err_exact, c.err_central or 0.0):.2e}"))]
        body.append(" & ".join(cells))
    table = "\\begin{array}{lrrrrr}\n" + head + r" \\ \hline" + "\n" + " \\\\\n".join(body) + "\n\\end{array}"
    verdict = text("all methods agree" if r.ok else "the methods disagree")
    return f"f = {expr_latex(r.expression)}\n\n{table}\n\n{verdict}\n"
