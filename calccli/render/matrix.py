"""Symbolic matrix derivatives (MatrixDerivative) in every format.

Plain and rich write matrix notation (Aᵀ, X⁻¹, X⁻ᵀ, ‖x‖) beside the answer in
calc's syntax (which `calc eval` reads back); LaTeX uses ^{\\top} and ^{-1};
JSON has the contract's keys.
"""
from __future__ import annotations

from calccli.commands.matrix import KEYS, MatrixDerivative
from calccli.engine.printer import notation
from calccli.render.doc import Doc, Lines
from calccli.render.json import json_obj
from calccli.render.latex import latex_of, to_latex
from calccli.render.views import to_doc

_TITLES = {"grad": "∇", "jacobian": "J", "hessian": "∇²"}
_LABELS = {"grad": "∇{s} f", "jacobian": "∂f/∂{v}", "hessian": "∇²{s} f"}
_SUB = str.maketrans("abcdefghijklmnopqrstuvwxyz", "ₐbcdₑfgₕᵢⱼₖₗₘₙₒₚqᵣₛₜᵤᵥwₓyz")


def label(r, v: str) -> str:
    return _LABELS[r.command].format(v=v, s=v.translate(_SUB) if len(v) == 1 and v.islower() else v)


@to_doc.register(MatrixDerivative)
def matrix_doc(r) -> Doc:
    blocks = []
    shapes = [f"{n}: {w}" + (" (symmetric)" if r.shapes.get(n) == "symmetric" else "")
              for n, w in r.dims.items()]
    if r.whole is None and shapes:
        blocks.append(Lines("Shapes", shapes))
    if r.intermediates:
        blocks.append(Lines("Intermediate variables (matrix form)",
                            [f"{n} = {d}    ({s})" for n, d, s in r.intermediates]))
    if r.steps:
        blocks.append(Lines("Derivation (each rule named)",
                            [f"{s.target} = {s.expression}    [{s.rule}]" for s in r.steps]))
    if r.whole is not None:
        summary = [(_TITLES[r.command] + " f", r.whole)]
        title = f"{_TITLES[r.command]} {r.expression}    (variables {', '.join(r.variables)})"
    else:
        lines = [f"{label(r, v)} = {notation(r.nodes[v])}" for v in r.variables]
        blocks.append(Lines("In matrix notation", lines))
        summary = [(label(r, v), r.answers[v]) for v in r.variables]
        title = f"{_TITLES[r.command]} {r.expression}    (with respect to {', '.join(r.variables)})"
    blocks.append(Lines("", [f"verified at {r.checked} random instance{'s' if r.checked != 1 else ''} "
                             "against the numeric AD engine"]))
    return Doc(title, blocks, summary)


@json_obj.register(MatrixDerivative)
def matrix_obj(r) -> dict:
    if r.whole is not None:
        answer = r.whole
    elif len(r.variables) == 1:
        answer = r.answers[r.variables[0]]
    else:
        answer = dict(r.answers)
    out = {"expression": r.expression, "variables": r.variables, "shapes": r.shapes, KEYS[r.command]: answer,
           "verified_instances": r.checked}
    if r.steps:
        out["intermediates"] = [{"name": n, "definition": d, "shape": s} for n, d, s in r.intermediates]
        out["steps"] = [{"rule": s.rule, "target": s.target, "expression": s.expression} for s in r.steps]
    return out


@to_latex.register(MatrixDerivative)
def matrix_latex(r) -> str:
    sym = {"grad": r"\nabla_{{{v}}} f", "jacobian": r"\frac{{\partial f}}{{\partial {v}}}",
           "hessian": r"\nabla^2_{{{v}}} f"}[r.command]
    if r.whole is not None:
        return f"{sym.format(v=', '.join(r.variables))} = {latex_of(r.nodes['*'])}\n"
    lines = [f"{sym.format(v=v)} = {latex_of(r.nodes[v])}" for v in r.variables]
    return " \\\\\n".join(lines) + "\n"
