"""How symbolic ``calc diff`` / ``calc grad`` results (no point) look: the rules
applied, the simplified derivative, shared subexpressions named (commands/symbolic.py)."""
from __future__ import annotations

from calccli.commands.symbolic import SymbolicDiffResult, SymbolicGradResult
from calccli.engine.expr import free_vars
from calccli.render.doc import Block, Doc, Lines, matrix_lines
from calccli.render.json import json_obj
from calccli.render.latex import _bmatrix, _prime, _sym_step_rows, expr_latex, latex_of, name, text, to_latex
from calccli.render.views import to_doc
from calccli.symbolic.differentiate import (_SUP, checked_text, order_label, printed_length, rule_lines,
                                            where_bindings)


def sym_steps_obj(steps) -> list[dict]:
    return [{"rule": s.rule, "expression": s.expression, "formula": s.formula, "result": s.result}
            for s in steps]


# ---------------------------------------------------------------- diff

@json_obj.register(SymbolicDiffResult)
def symbolic_diff_obj(r) -> dict:
    out = {"expression": r.expression, "variable": r.variable, "order": r.order,
           "derivative_expression": r.text,
           "derivatives": [checked_text(d) for d in r.derivatives]}
    if r.steps:
        out["steps"] = sym_steps_obj(r.steps)
    if r.note:
        out["note"] = r.note
    return out


@to_doc.register(SymbolicDiffResult)
def symbolic_diff_doc(r) -> Doc:
    def label(k: int | None = None) -> str:
        return order_label(r.variable, k or r.order, r.single)
    sup = "" if r.order == 1 else str(r.order).translate(_SUP)
    d = "d" if r.single else "∂"
    title = f"{d}{sup}/{d}{r.variable}{sup} {r.expression}"
    blocks = []
    if r.steps:
        blocks.append(Lines("Steps (each rule applied, innermost first)", rule_lines(r.steps)))
    if r.order > 1 and len(r.derivatives) > 1:
        blocks.append(Lines("Derivatives", [f"{label(k)} = {checked_text(dn)}"
                                            for k, dn in enumerate(r.derivatives, 1)]))
    wb = None if printed_length(r.derivative) > 20000 else \
        where_bindings(r.derivative, set(free_vars(r.derivative)))
    if wb is not None:
        body, defs = wb
        lines = [f"{label()} = {body}"] + [f"  where {nm} = {t}" for nm, t in defs]
        blocks.append(Lines("Shared subexpressions named", lines))
    if r.note:
        blocks.append(Lines("", [r.note]))
    return Doc(title, blocks, [(label(), r.text)])


@to_latex.register(SymbolicDiffResult)
def symbolic_diff_latex(r) -> str:
    x = name(r.variable)
    sup = "" if r.order == 1 else f"^{{{r.order}}}"
    d = (r"\frac{d" + sup + "}{d" + x + sup + "}") if r.single else \
        (r"\frac{\partial" + sup + r"}{\partial " + x + sup + "}")
    parts = []
    if r.steps:
        parts.append("\\begin{aligned}\n" + " \\\\\n".join(_sym_step_rows(r.steps, r.variable))
                     + "\n\\end{aligned}")
    if r.order > 1:
        rows = []
        for k, dn in enumerate(r.derivatives, 1):
            rows.append(f"f{_prime(k)}({x}) &= {latex_of(dn)}")
        parts.append("\\begin{aligned}\n" + " \\\\\n".join(rows) + "\n\\end{aligned}")
    parts.append(f"{d}\\left[{expr_latex(r.expression)}\\right] = {latex_of(r.derivative)}")
    if r.note:
        parts.append(text(r.note))
    return "\n\n".join(parts) + "\n"


# ---------------------------------------------------------------- gradient

@json_obj.register(SymbolicGradResult)
def symbolic_grad_obj(r) -> dict:
    texts = [checked_text(g) for g in r.gradient]
    return {"expression": r.expression, "variables": r.variables, "gradient": texts,
            "derivative_expressions": dict(zip(r.variables, texts))}


@to_doc.register(SymbolicGradResult)
def symbolic_grad_doc(r) -> Doc:
    texts = [checked_text(g) for g in r.gradient]
    summary = [(f"∂f/∂{v}", t) for v, t in zip(r.variables, texts)]
    vec = matrix_lines([[t] for t in texts], "∇f = ")
    return Doc(f"∇ {r.expression}    (variables {', '.join(r.variables)})",
               [Block("", vec)] if len(texts) > 1 else [], summary)


@to_latex.register(SymbolicGradResult)
def symbolic_grad_latex(r) -> str:
    col = _bmatrix([[latex_of(g)] for g in r.gradient])
    names = _bmatrix([[r"\frac{\partial f}{\partial " + name(v) + "}"] for v in r.variables])
    return f"\\nabla f = {names} = {col}, \\quad f = {expr_latex(r.expression)}\n"
