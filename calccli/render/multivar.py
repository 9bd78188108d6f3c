"""How ``calc grad``, ``jacobian`` and ``hessian`` at a point (and ``diff`` on
vectors and matrices) look: the gradient in its variable's shape, the Jacobian
with its passes, the Hessian with its eigenvalues (commands/multivar.py)."""
from __future__ import annotations

from calccli.commands.multivar import (ArrayDiffResult, GradResult, HessianResult, JacobianResult,
                                       _short_inline, inline, num)
from calccli.numfmt import fmt_number, short_number
from calccli.render.doc import Block, Doc, Lines, Table, matrix_lines
from calccli.render.html import derivation_html, formulas_html, to_html
from calccli.render.json import flat_point, json_obj, steps_obj, trace_obj
from calccli.render.latex import _point, expr_latex, name as tex_name, steps_latex, text, to_latex, trace_latex
from calccli.render.views import step_lines, to_doc


def _col(values: list[float]) -> str:
    return "[" + ", ".join(fmt_number(x) for x in values) + "]" + ("ᵀ" if len(values) > 1 else "")


def _tex_num(v: float) -> str:
    t = num(v)
    if "e" in t:
        m, e = t.split("e")
        return f"{m} \\times 10^{{{int(e)}}}"
    return t


def bmatrix(rows: list[list[float]]) -> str:
    body = r" \\ ".join(" & ".join(_tex_num(x) for x in r) for r in rows)
    return r"\begin{bmatrix} " + body + r" \end{bmatrix}"


def _tex_var(name: str) -> str:
    return name if len(name) == 1 else f"\\mathrm{{{name}}}" if name.isalpha() else name


@json_obj.register(GradResult)
def grad_obj(r) -> dict:
    out = {"expression": r.expression, "variables": r.variables,
           "point": flat_point(r.point), "value": r.value,
           "gradient": r.gradient, "mode": "reverse"}
    if r.trace is not None:
        out["trace"] = trace_obj(r.trace)
        out["steps"] = steps_obj(r.steps or [])
    return out


@to_doc.register(GradResult)
def grad_doc(r) -> Doc:
    blocks = []
    if r.trace is not None:
        blocks += _trace_blocks(r.trace, r.steps or [], r.output,
                                ", ".join(p[0] for p in r.parts))
    lines = []
    single = len(r.parts) == 1 and r.parts[0][1] != ()
    if single:
        name, shape, g = r.parts[0]
        lines += _shaped_lines(g, f"∇_{name} f = ", [f"∂f/∂{c}" for c in r.variables])
    else:
        lines += _matrix([[fmt_number(x)] for x in r.gradient], "∇f = ",
                         [f"∂f/∂{c}" for c in r.variables])
    blocks.append(Block("Gradient (reverse mode: one pass)", lines))
    summary = [(f"f({r.args})", fmt_number(r.value)),
               ("∇f" if not single else f"∇_{r.parts[0][0]} f",
                inline(r.parts[0][2]) if single else _col(r.gradient))]
    return Doc(r.title, blocks, summary)


@to_latex.register(GradResult)
def grad_latex(r) -> str:
    """The gradient; with --steps first the intermediate variables and the chain rule."""
    parts = [grad_title(r)]
    if r.trace is not None:
        parts.append(trace_latex(r.trace))
        if r.steps:
            parts.append(steps_latex(r.steps))
    if len(r.parts) == 1 and r.parts[0][1] != () and len(r.parts[0][1]) == 2:
        name, shape, g = r.parts[0]
        parts.append(f"\\nabla_{{{_tex_var(name)}}} f = {bmatrix(g.tolist())}")
    else:
        parts.append(f"\\nabla f = {bmatrix([[x] for x in r.gradient])}")
    return "\n\n".join(parts) + "\n"


def grad_title(r) -> str:
    """f(x, y) = … at the point: the first formula of grad, jacobian and hessian."""
    return (f"f({', '.join(tex_name(v) for v in r.point)}) = {expr_latex(r.expression)} \\quad "
            f"{text('at ')}{_point(r.point)}")


@to_html.register(GradResult)
def grad_html(r, page) -> str:
    if r.trace is None:
        return formulas_html(r, page)
    return derivation_html(r, page, r.trace, r.steps)


def _shaped_lines(g, left: str, labels: list[str]) -> list[str]:
    """A variable's gradient in its own shape: a column for a vector, a matrix for a matrix."""
    if isinstance(g, float | int):
        return [f"{left}{num(g)}"]
    if g.ndim == 1:
        return _matrix([[fmt_number(float(x) + 0.0)] for x in g], left, labels)
    lines = _matrix([[num(x) for x in r] for r in g], left, None)
    return lines


def _matrix(rows: list[list[str]], left: str, right: list[str] | None) -> list[str]:
    return matrix_lines(rows, left, right)


def _trace_blocks(trace, steps, output, names) -> list:
    rows = []
    for t in trace:
        locals_ = []
        for p in t.partials:
            d = f"∂{t.name}/∂{p.wrt}"
            if p.value is None and "+=" in p.expression:  # an array rule, in adjoint form
                locals_.append(p.expression)
            elif p.value is None or not isinstance(p.value, float | int):
                locals_.append(f"{d} = {p.expression}")
            else:
                same = p.expression == fmt_number(p.value)
                locals_.append(f"{d} = {p.expression}" + ("" if same else f" = {num(p.value)}"))
        rows.append([t.name, t.definition, _short_inline(t.value) if not isinstance(t.value, float | int)
                     else fmt_number(t.value), ",  ".join(locals_)])
    blocks = [Table("Intermediate variables (forward pass)", ["var", "definition", "value", "local derivative"],
                    rows)]
    lines = step_lines(steps, lambda v: fmt_number(v) if isinstance(v, float | int) else _short_inline(v))
    if steps:
        blocks.append(Lines(f"Chain rule, reverse mode (adjoints, from {output} back to {names})", lines))
    return blocks


def mode_text(r) -> str:
    other = "reverse" if r.mode == "forward" else "forward"
    why = {"forward": "one pass per input", "reverse": "one pass per output"}[r.mode]
    plural = "es" if r.passes != 1 else ""
    return (f"{r.mode} mode: {r.passes} pass{plural} ({why}); "
            f"{other} would need {r.other_passes}" + ("" if r.requested == "auto" else " (--mode "
                                                          f"{r.requested})"))


def short_mode(r) -> str:
    other = "reverse" if r.mode == "forward" else "forward"
    plural = "es" if r.passes != 1 else ""
    return f"{r.mode} mode: {r.passes} pass{plural} ({other} would need {r.other_passes})"


@json_obj.register(JacobianResult)
def jacobian_obj(r) -> dict:
    return {"expression": r.expression, "variables": r.variables, "outputs": r.outputs,
            "point": flat_point(r.point), "value": r.value, "jacobian": r.jacobian,
            "mode": r.mode, "passes": r.passes}


@to_doc.register(JacobianResult)
def jacobian_doc(r) -> Doc:
    cells = [[num(x) for x in row] for row in r.jacobian]
    head = [f"∂/∂{v}" for v in r.variables]
    widths = [max([len(h)] + [len(row[c]) for row in cells]) for c, h in enumerate(head)]
    cells = [[x.rjust(w) for x, w in zip(row, widths)] for row in cells]
    left = "J = "
    header = " " * (len(left) + 2) + "  ".join(h.rjust(w) for h, w in zip(head, widths))
    right = [f"{o}" for o in r.outputs]
    lines = [header] + _matrix(cells, left, right)
    if len(r.shape) == 2:
        rows = [r.value[k:k + r.shape[1]] for k in range(0, len(r.value), r.shape[1])]
        value = _matrix([[num(x) for x in row] for row in rows], "f = ", None)
    else:
        value = _matrix([[num(x)] for x in r.value], "f = ", None)
    blocks = [Block("Value", value),
              Block("Jacobian, row i = ∇fᵢᵀ (J[i][j] = ∂fᵢ/∂xⱼ)", lines),
              Block("", [short_mode(r)])]
    return Doc(r.title, blocks, [(f"f({r.args})", _col(r.value)),
                                 ("J", "[" + ", ".join(inline_list(row) for row in r.jacobian) + "]")])


@to_latex.register(JacobianResult)
def jacobian_latex(r) -> str:
    return f"{grad_title(r)}\n\nJ = {bmatrix(r.jacobian)}\n"


def inline_list(values: list[float]) -> str:
    return "[" + ", ".join(fmt_number(x) for x in values) + "]"


KINDS = {
    "minimum": ("positive definite", "local minimum"),
    "maximum": ("negative definite", "local maximum"),
    "saddle": ("indefinite", "saddle point"),
    "degenerate": ("singular (semidefinite)", "degenerate: the second-derivative test is inconclusive"),
}


def kind_text(r) -> str:
    definite, kind = KINDS[r.classification]
    if r.critical:
        return kind
    return f"{definite}, but ∇f ≠ 0: not a critical point"


@json_obj.register(HessianResult)
def hessian_obj(r) -> dict:
    return {"expression": r.expression, "variables": r.variables,
            "point": flat_point(r.point), "value": r.value, "gradient": r.gradient,
            "hessian": r.hessian, "eigenvalues": r.eigenvalues,
            "classification": r.classification, "critical_point": r.critical,
            "symmetry_error": r.asymmetry, "mode": "forward-over-reverse"}


@to_doc.register(HessianResult)
def hessian_doc(r) -> Doc:
    ev = ", ".join(map(short_number, r.eigenvalues))
    notes = [f"symmetric (max |H − Hᵀ| = {r.asymmetry:.3g})",
             f"eigenvalues {ev}  →  {kind_text(r)}"]
    cells = [[num(x) for x in row] for row in r.hessian]
    n = len(cells)
    lines = _matrix(cells, "H = ", notes[:n] if n >= 2 else None)
    if n < 2:
        lines = [lines[0] + "     " + notes[0]] + ["    " + " " * len(lines[0]) + " " + notes[1]] \
            if lines else notes
    head = [f"f = {num(r.value)}          ∇f = {_short_col(r.gradient)}"]
    if any(p[1] != () for p in r.parts):
        head.append("variables: " + ", ".join(r.variables))
    return Doc(r.title, [Block("", head), Block("Hessian (forward-over-reverse AD)", lines)],
               [(f"f({r.args})", fmt_number(r.value)), ("∇f", _col(r.gradient)),
                ("eigenvalues", "[" + ", ".join(fmt_number(x) for x in r.eigenvalues) + "]"),
                ("kind", r.classification if r.critical else f"{r.classification} (not critical)")])


@to_latex.register(HessianResult)
def hessian_latex(r) -> str:
    """H, its eigenvalues and what they say about the point."""
    ev = ", \\; ".join(f"\\lambda_{{{k}}} = {_tex_num(x)}" for k, x in enumerate(r.eigenvalues, 1))
    return (f"{grad_title(r)}\n\nH = {bmatrix(r.hessian)}\n\n{ev} \\quad \\Rightarrow \\quad "
            f"{text(kind_text(r))}\n")


def _short_col(values: list[float]) -> str:
    return "[ " + "  ".join(num(x) for x in values) + " ]" + ("ᵀ" if len(values) > 1 else "")


@json_obj.register(ArrayDiffResult)
def array_diff_obj(r) -> dict:
    out = {"expression": r.expression, "variable": r.variable, "point": flat_point(r.point),
           "mode": r.mode, "order": 1, "value": r.value, "derivative": r.derivative}
    out["trace"] = trace_obj(r.trace) if r.trace is not None else []
    out["steps"] = steps_obj(r.steps or []) if r.trace is not None else []
    return out


@to_doc.register(ArrayDiffResult)
def array_diff_doc(r) -> Doc:
    x = r.variable
    blocks = _trace_blocks(r.trace or [], [], r.output, x)
    if r.steps:
        blocks += _steps_block(r.steps, r.mode, r.output, x)
    d = f"f'({r.args})" if list(r.point) == [x] else f"∂f/∂{x}({r.args})"
    return Doc(r.title, blocks, [(f"f({r.args})", fmt_number(r.value)),
                                 (d, fmt_number(r.derivative))])


def _steps_block(steps, mode, output, x) -> list:
    if mode == "reverse":
        return [b for b in _trace_blocks([], steps, output, x) if isinstance(b, Lines)]
    lines = []
    for st in steps:
        shown = fmt_number(st.value) if isinstance(st.value, float | int) else _short_inline(st.value)
        if st.formula == "1":
            lines.append(f"{st.target} = 1")
            continue
        mid = f" = {st.numeric}" if st.numeric and st.numeric != shown else ""
        lines.append(f"{st.target} = {st.formula}{mid} = {shown}")
    return [Lines(f"Chain rule, forward mode (tangents, from {x} to {output})", lines)]
