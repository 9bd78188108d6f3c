"""`calc diff` / `calc grad` without a point: the simplified symbolic derivative or gradient."""

from __future__ import annotations

from dataclasses import dataclass, field

from calccli.display import RichDisplay

from calccli.engine import expr
from calccli.errors import UsageError
from calccli.engine.expr import Node, free_vars

from calccli.symbolic.differentiate import (SymStep, checked_text, choose_variables, derivative, gradient_nodes,
                                            prepare, symbolic_steps)


@dataclass
class SymbolicDiffResult(RichDisplay):
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


@dataclass
class SymbolicGradResult(RichDisplay):
    expression: str
    variables: list[str]
    gradient: list[Node]


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
