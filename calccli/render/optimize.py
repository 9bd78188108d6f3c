"""How ``calc minimize`` results look: the method, the iterations (a sample of
rows unless --trace), convergence and the kind of point (commands/optimize.py)."""
from __future__ import annotations

from calccli.commands.optimize import DESCRIPTION, FIRST_ORDER, KIND_TEXT, MinimizeResult, shown_rows
from calccli.numfmt import fmt_number, short_number
from calccli.render.doc import Doc, Lines, Table
from calccli.render.html import formulas_html, to_html
from calccli.render.json import json_obj
from calccli.render.latex import expr_latex, name, number, text, to_latex
from calccli.render.views import to_doc


def _short(v: float) -> str:
    if v is None:
        return "—"
    if v == 0:
        return "0"  # also for -0.0: J(x) = -x^2 at x = 0 is not "-0"
    if 1e-4 <= abs(v) < 1e7:
        return f"{v:.10g}"
    return f"{v:.6e}"


def _sci(v: float | None) -> str:
    return "—" if v is None else f"{v:.3e}"


def method_text(r) -> str:
    d = DESCRIPTION[r.method]
    if r.method in FIRST_ORDER:
        d += f", lr = {fmt_number(r.lr)}"
    if r.requested == "auto":
        return f"auto → {r.method}: {d}"
    return f"{r.method}: {d}"


@to_doc.register(MinimizeResult)
def minimize_doc(r) -> Doc:
    names = r.wrt
    wide = len(names) > 4
    cols = ["k"] + (["θ"] if wide else names) + ["J(θ)", "‖∇J‖", "step ‖Δθ‖"]
    linesearch = r.method in ("newton", "bfgs", "trust")
    if linesearch:
        cols.append("Δ (radius)" if r.method == "trust" else "α")
    rows = []
    idx = shown_rows(len(r.history), r.trace)
    for i in idx:
        it = r.history[i]
        th = ["[" + ", ".join(_short(v) for v in it.theta) + "]"] if wide else [_short(v) for v in it.theta]
        row = [str(it.k)] + th + [_short(it.J), _sci(it.gnorm), _sci(it.step)]
        if linesearch:
            row.append("—" if it.alpha is None else f"{it.alpha:.3g}" + (f" ({it.note})" if it.note else ""))
        rows.append(row)
    shown = "" if len(idx) == len(r.history) else \
        f" ({len(idx)} of {len(r.history)} rows; --trace shows all)"
    blocks = [Lines("Method", [method_text(r)]), Table(f"Iterations{shown}", cols, rows)]
    lines = []
    if r.converged and r.last.gnorm > r.tol:
        lines.append(f"{r.reason}, after {r.iterations} iteration{'s' if r.iterations != 1 else ''}")
    elif r.converged:
        lines.append(f"converged: ‖∇J‖ = {_sci(r.last.gnorm)} ≤ tol {fmt_number(r.tol)} "
                     f"after {r.iterations} iteration{'s' if r.iterations != 1 else ''}")
    else:
        lines.append(f"NOT converged: {r.reason}")
        lines.append(f"last iterate: k = {r.iterations}, ‖∇J‖ = {_sci(r.last.gnorm)}")
    if r.eigenvalues is not None:
        ev = ", ".join(map(short_number, r.eigenvalues))
        if r.converged:
            lines.append(f"Hessian eigenvalues at the argmin: {ev}  →  {KIND_TEXT[r.classification]}")
        elif r.last.gnorm <= r.tol or r.classification in ("maximum", "saddle"):
            lines.append(f"Hessian eigenvalues at the last iterate: {ev}  →  {KIND_TEXT[r.classification]}")
        else:
            lines.append(f"Hessian eigenvalues at the last iterate: {ev} (∇J ≠ 0 there: "
                         "this is the curvature, not the kind of a stationary point)")
    elif r.classification:
        lines.append(f"kind of point: {r.classification}")
    lines.extend(r.notes)
    blocks.append(Lines("Result", lines))
    start = ", ".join(f"{n} = {fmt_number(v)}" for n, v in zip(names, r.start))
    title = f"minimize J({', '.join(names)}) = {r.expression}    from {start}"
    argmin = ", ".join(f"{n} = {fmt_number(v)}" for n, v in r.argmin().items())
    if r.converged:
        summary = [("argmin", argmin), ("minimum", fmt_number(r.last.J))]
    else:
        summary = [("last iterate", argmin), ("J", fmt_number(r.last.J))]
    summary += [("iterations", str(r.iterations)), ("converged", "yes" if r.converged else "no")]
    return Doc(title, blocks, summary)


@to_latex.register(MinimizeResult)
def minimize_latex(r) -> str:
    names = ", ".join(name(n) for n in r.wrt)
    point = ", ".join(f"{name(n)} = {number(v)}" for n, v in zip(r.wrt, r.last.theta))
    its = f"{r.iterations} iteration{'s' if r.iterations != 1 else ''}"
    status = f"converged in {its}" if r.converged else f"NOT converged after {its}"
    head = "\\hat\\theta = \\operatorname*{argmin}_{" + names + "} J" if r.converged else \
        text("last iterate") + " "
    return (f"J({names}) = {expr_latex(r.expression)}\n\n"
            f"{head}: \\; {point}, \\quad J = {number(r.last.J)} \\quad "
            f"{text(f'({r.method}, {status})')}\n")


@json_obj.register(MinimizeResult)
def minimize_obj(r) -> dict:
    idx = shown_rows(len(r.history), r.trace)
    return {
        "expression": r.expression,
        "method": r.method,
        "requested_method": r.requested,
        "argmin": r.argmin(),
        "minimum": r.last.J,
        "iterations": r.iterations,
        "converged": r.converged,
        "diverged": r.diverged,
        "reason": r.reason,
        "gradient_norm": r.last.gnorm,
        "tol": r.tol,
        "start": dict(zip(r.wrt, r.start)),
        "variables": list(r.wrt),
        "eigenvalues": r.eigenvalues,
        "classification": r.classification,
        "history": [{"k": r.history[i].k, "theta": dict(zip(r.wrt, r.history[i].theta)),
                     "J": r.history[i].J, "gradient_norm": r.history[i].gnorm,
                     "step": r.history[i].step, "alpha": r.history[i].alpha} for i in idx],
    }


@to_html.register(MinimizeResult)
def minimizeresult_html(r, page) -> str:
    """The formulas, then the table of the run."""
    return formulas_html(r, page, ("Iterations",))
