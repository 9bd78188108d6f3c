"""--steps for symbolic matrix derivatives: the intermediate variables in matrix form and the
adjoints (reverse) or tangents (forward) as matrix expressions, each with its rule named.

Read from what the passes recorded (engine.reverse/forward ``record``); nothing is re-derived.
"""
from __future__ import annotations

from dataclasses import dataclass

from calccli.engine.printer import definition, notation
from calccli.symbolic.shapes import words

@dataclass
class MatrixStep:
    rule: str
    target: str
    expression: str


RULES = {
    "add": "sum rule", "sub": "difference rule", "neg": "negation", "mul": "product rule (scalar factor)",
    "div": "quotient rule", "pow": "power rule", "matmul": "product rule (matrix product): ∂(UV) = ∂U V + U ∂V",
    "transpose": "transpose: ∂(Uᵀ) = (∂U)ᵀ", "det": "determinant: ∂det(X) = det(X) X⁻ᵀ",
    "inv": "inverse: ∂X⁻¹ = −X⁻¹ ∂X X⁻¹", "trace": "trace: ∂tr(X) = I", "norm": "norm: ∂‖x‖ = xᵀ/‖x‖",
    "sum": "sum of entries: ∂sum(x) = 1ᵀ", "dot": "dot product", "diag": "diag (linear)",
    "log": "chain rule (log)", "exp": "chain rule (exp)",
}


def rule_of(op: str, elementwise: bool) -> str:
    r = RULES.get(op)
    if r is None:
        r = f"chain rule ({op}{', elementwise' if elementwise else ''})"
    return r


def build_steps(tape, info, vals, record, result):
    names = tape.node_names()
    inter = [(tape.names[i], definition(tape.nodes[i], names), words(info.shapes[i])) for i in tape.rows]
    steps: list = []
    if result.command == "jacobian":
        return inter, tangent_steps(tape, info, result)
    out = tape.name_of(len(tape.nodes) - 1)
    steps.append(MatrixStep("seed", f"∂{out}/∂{out}", "1"))
    by_target: dict[int, list] = {}
    last: dict[int, int] = {}
    for n, (i, k, j, d, c) in enumerate(record or []):
        by_target.setdefault(j, []).append((i, c))
        last[j] = n
    for j in sorted(by_target, key=last.__getitem__):       # each adjoint once it is complete
        contribs = by_target[j]
        parts = []
        for i, c in contribs:
            prim = tape.prims[i].name
            parts.append((notation(c.node) if hasattr(c, "node") else str(c),
                          rule_of(prim, bool(info.shapes[i]))))
        target = f"∂{out}/∂{tape.name_of(j)}"
        if len(parts) == 1:
            steps.append(MatrixStep(parts[0][1], target, parts[0][0]))
        else:
            rules = "; ".join(dict.fromkeys(r for _, r in parts))
            steps.append(MatrixStep(f"{rules}; contributions add", target, " + ".join(p for p, _ in parts)))
    if result.command == "hessian":
        return inter, steps + tangent_steps(tape, info, result)
    for v in result.variables:
        steps.append(MatrixStep("simplified: transposes pushed to the names, terms collected",
                                f"∇{v} f", notation(result.nodes[v])))
    return inter, steps


def tangent_steps(tape, info, result) -> list:
    """Forward pass: each row's tangent along δx as a matrix expression, then J read off."""
    steps = []
    v = result.variables[0]
    tans = result.tangents or []
    t_tape = result.tangent_tape or tape
    hessian = result.command == "hessian"
    if hessian:
        steps.append(MatrixStep("reverse pass, simplified", f"∇{v} f", notation(result.gradient_node)))
    steps.append(MatrixStep("seed: a direction" + (" (forward over reverse)" if hessian else ""),
                            f"d{v}", f"δ{v}"))
    for i in t_tape.rows:
        t = tans[i] if i < len(tans) else None
        if t is None:
            continue
        text = notation(t.node) if hasattr(t, "node") else str(t)
        what = notation(t_tape.nodes[i]) if hessian else t_tape.name_of(i)
        steps.append(MatrixStep(rule_of(t_tape.prims[i].name, True), f"d({what})" if hessian else f"d{what}",
                                text))
    what = "∇²" if result.command == "hessian" else "J"
    steps.append(MatrixStep(f"read off: {what} δ{v} → {what}", f"{what} ({v})", notation(result.nodes[v])))
    return steps
