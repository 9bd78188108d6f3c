"""`calc diff` / `calc grad` without a point: the simplified symbolic derivative or gradient."""

from __future__ import annotations

from dataclasses import dataclass, field

from calccli.engine import expr
from calccli.errors import UsageError
from calccli.engine.expr import Node, free_vars

from calccli.symbolic.differentiate import (SymStep, _SUP, checked_text, choose_variables, derivative, gradient_nodes,
                                            order_label, prepare, printed_length, rule_lines, symbolic_steps,
                                            where_bindings)


@dataclass
class SymbolicDiffResult:
    expression: str
    variable: str
    order: int
    derivative: Node
    derivatives: list[Node]
    single: bool = True
    steps: list[SymStep] = field(default_factory=list)
    note: str = ""

    @property
    def text(self) -> str:
        return checked_text(self.derivative)

    def label(self, k: int | None = None) -> str:
        return order_label(self.variable, k or self.order, self.single)

    def json(self) -> dict:
        out = {"expression": self.expression, "variable": self.variable, "order": self.order,
               "derivative_expression": self.text,
               "derivatives": [checked_text(d) for d in self.derivatives]}
        if self.steps:
            out["steps"] = [{"rule": s.rule, "expression": s.expression, "formula": s.formula,
                             "result": s.result} for s in self.steps]
        if self.note:
            out["note"] = self.note
        return out

    def doc(self):
        from calccli.render.doc import Doc, Lines
        sup = "" if self.order == 1 else str(self.order).translate(_SUP)
        d = "d" if self.single else "∂"
        title = f"{d}{sup}/{d}{self.variable}{sup} {self.expression}"
        blocks = []
        if self.steps:
            blocks.append(Lines("Steps (each rule applied, innermost first)", rule_lines(self.steps)))
        if self.order > 1 and len(self.derivatives) > 1:
            blocks.append(Lines("Derivatives", [f"{self.label(k)} = {checked_text(d)}"
                                                for k, d in enumerate(self.derivatives, 1)]))
        wb = None if printed_length(self.derivative) > 20000 else \
            where_bindings(self.derivative, set(free_vars(self.derivative)))
        if wb is not None:
            body, defs = wb
            lines = [f"{self.label()} = {body}"] + [f"  where {nm} = {t}" for nm, t in defs]
            blocks.append(Lines("Shared subexpressions named", lines))
        if self.note:
            blocks.append(Lines("", [self.note]))
        return Doc(title, blocks, [(self.label(), self.text)])

    def latex(self) -> str:
        from calccli.render.latex import symbolic_diff_latex
        return symbolic_diff_latex(self)


@dataclass
class SymbolicGradResult:
    expression: str
    variables: list[str]
    gradient: list[Node]

    def json(self) -> dict:
        texts = [checked_text(g) for g in self.gradient]
        return {"expression": self.expression, "variables": self.variables, "gradient": texts,
                "derivative_expressions": dict(zip(self.variables, texts))}

    def doc(self):
        from calccli.render.doc import Block, Doc, matrix_lines
        texts = [checked_text(g) for g in self.gradient]
        summary = [(f"∂f/∂{v}", t) for v, t in zip(self.variables, texts)]
        vec = matrix_lines([[t] for t in texts], "∇f = ")
        return Doc(f"∇ {self.expression}    (variables {', '.join(self.variables)})",
                   [Block("", vec)] if len(texts) > 1 else [], summary)

    def latex(self) -> str:
        from calccli.render.latex import symbolic_grad_latex
        return symbolic_grad_latex(self)


# ------------------------------------------------------------------ commands

def diff_symbolic(text: str, let=None, wrt=None, order: int = 1, steps: bool = False) -> SymbolicDiffResult:
    from calccli.engine.taylor import check_order
    check_order(order)  # 1 … MAX_ORDER, as at a point
    node, values = prepare(text, let)
    free = [v for v in free_vars(node)]
    (var,) = choose_variables(node, wrt, set(values), many=False)
    single = len(free) <= 1
    note = ""
    if var not in free:
        if free:
            note = f"{text} does not depend on {var}: its derivative with respect to {var} is 0"
        else:
            note = f"{text} is a constant: its derivative is 0"
        ders = [expr.ZERO] * order
        return SymbolicDiffResult(text, var, order, expr.ZERO, ders, single, [], note)
    ders = derivative(node, var, order)
    st: list[SymStep] = []
    if steps:
        st, final = symbolic_steps(node, var)
        if order > 1:
            prev = final
            for k in range(2, order + 1):
                d = ders[k - 1]
                t = checked_text(d)
                st.append(SymStep(f"differentiate again: order {k}", checked_text(prev), t, t,
                                  d, {}, prev, d))
                prev = d
    return SymbolicDiffResult(text, var, order, ders[-1], ders, single, st, note)


def grad_symbolic(text: str, let=None, wrt=None) -> SymbolicGradResult:
    node, values = prepare(text, let)
    names = choose_variables(node, wrt, set(values), many=True)
    if not names:
        raise UsageError("the expression has no variable to differentiate: name one with --wrt")
    return SymbolicGradResult(text, names, gradient_nodes(node, names))
