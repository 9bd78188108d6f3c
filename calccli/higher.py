"""Derivatives of order N at a point, exact (no finite differences).

Method: nested dual numbers, built from the table by ``ops.dual_ops``.
x = x₀ + ε₁ + … + ε_N (each εᵢ² = 0, one level of ``dual_ops`` per εᵢ); the
coefficient of ε₁⋯ε_k in f(x) is f⁽ᵏ⁾(x₀), so one evaluation gives every order
up to N. ``--mode reverse`` runs one reverse sweep over N−1 levels of duals
instead (forward-over-reverse, as for Hessians): the same numbers, both exact.

Why not repeated symbolic differentiation? It is exact too, and is what
``calc diff EXPR --order N`` without ``--at`` prints, but its expressions can
grow with N; the cost of nested duals depends only on the size of the tape
(3ᴺ scalar products per multiplication, about 0.1 s at N = 10 for the notes'
example). ``benchmarks/bench_symbolic_length.py`` measures both.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .errors import CalcError, NotDifferentiable, ShapeError, UsageError
from .evaluate import depends, evaluate, ops_for
from .explain import trace_rows
from .numfmt import fmt_number
from .ops import FLOAT, Dual, dual_ops
from .parse import parse
from .points import resolve
from .reverse import reverse
from .tape import build_tape

_NESTED = {0: FLOAT}


def nested_ops(levels: int):
    """``levels`` nested dual-number namespaces over floats (cached)."""
    for k in range(1, levels + 1):
        if k not in _NESTED:
            _NESTED[k] = dual_ops(_NESTED[k - 1])
    return _NESTED[levels]


def seed(x0: float, levels: int):
    """x₀ + ε₁ + … + ε_levels as a nested dual number."""
    v = x0
    for k in range(1, levels + 1):
        v = Dual(v, 1.0, _NESTED[k])
    return v


def _coefficient(r, levels: int, k: int) -> float:
    """The coefficient of ε_levels⋯ε_(levels-k+1) (k tangent steps, then values)."""
    for step in range(levels):
        if not isinstance(r, Dual):
            return float(r) if step >= k else 0.0
        r = r.t if step < k else r.v
    if isinstance(r, Dual):  # pragma: no cover - a level deeper than asked
        r = r.v
    return float(r) if k <= levels else 0.0


def derivatives_at(tape, env: dict, var: str, order: int, mode: str = "forward") -> list[float]:
    """[f(x₀), f'(x₀), …, f⁽ᴺ⁾(x₀)] for the variable ``var`` (the other variables fixed)."""
    xi = tape.variables.get(var)
    base = evaluate(tape, env, FLOAT)  # value errors get the plain message first
    if xi is None:
        return [base[-1]] + [0.0] * order
    x0 = env[var]
    try:
        if mode == "reverse":
            levels = order - 1
            ops = nested_ops(levels)
            e = dict(env)
            e[var] = seed(x0, levels)
            vals = evaluate(tape, e, ops)
            adj = reverse(tape, vals, [xi], ops)
            d = adj[xi] if adj[xi] is not None else 0.0
            out = [base[-1]] + [_coefficient(d, levels, k) for k in range(order)]
        else:
            ops = nested_ops(order)
            e = dict(env)
            e[var] = seed(x0, order)
            r = evaluate(tape, e, ops)[-1]
            out = [base[-1]] + [_coefficient(r, order, k) for k in range(1, order + 1)]
    except CalcError as err:
        raise NotDifferentiable(f"a derivative of order ≤ {order} does not exist at {var} = "
                                f"{fmt_number(x0)}: {err.message.split(':')[0]}") from None
    except (ArithmeticError, ValueError):
        raise NotDifferentiable(f"a derivative of order ≤ {order} does not exist at {var} = "
                                f"{fmt_number(x0)}") from None
    import math
    if not all(math.isfinite(v) for v in out):
        raise NotDifferentiable(f"a derivative of order ≤ {order} is not finite at {var} = {fmt_number(x0)}")
    return out


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
    method: str = "nested dual numbers (forward mode)"
    exit_code: int = 0

    def json(self) -> dict:
        from .render.json import obj_DiffResult, flat_point
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
        if self.symbolic:
            out["derivative_expression"] = self.symbolic[-1]
            out["derivative_expressions"] = self.symbolic
        if self.sym_steps:
            out["symbolic_steps"] = [{"rule": s.rule, "expression": s.expression,
                                      "formula": s.formula, "result": s.result} for s in self.sym_steps]
        return out

    def doc(self):
        from .render.doc import Doc, Lines, Table
        from .render.views import fmt_point, to_doc
        at = fmt_number(self.point[self.variable]) if self.variable in self.point else ""
        if self.base is not None:
            doc = to_doc(self.base)
        else:
            rows = []
            for k, v in enumerate(self.derivatives, 1):
                row = [f"f{self._primes(k)}({at})", fmt_number(v)]
                if self.symbolic:
                    row.append(self.symbolic[k - 1])
                rows.append(row)
            cols = ["derivative", "value"] + (["expression"] if self.symbolic else [])
            doc = Doc(f"f({self.variable}) = {self.expression}    at {fmt_point(self.point)}",
                      [Table(f"Derivatives up to order {self.order} ({self.method}, exact)", cols, rows)],
                      [(f"f({at})", fmt_number(self.value)),
                       (f"f{self._primes(self.order)}({at})", fmt_number(self.derivative))])
        if self.sym_steps:
            lines = []
            from .symbolic import _prime
            for k, s in enumerate(self.sym_steps, 1):
                lines.append(f"{k}. {s.rule}")
                lhs = f"   {_prime(s.expression)} = "
                lines.append(lhs + s.formula)
                if s.formula != s.result:
                    lines.append(" " * (len(lhs) - 2) + "= " + s.result)
            doc.blocks.append(Lines("Symbolic steps (each rule applied, innermost first)", lines))
        return doc

    @staticmethod
    def _primes(k: int) -> str:
        from .symbolic import _SUP
        return {1: "'", 2: "''", 3: "'''"}.get(k) or "⁽" + str(k).translate(_SUP) + "⁾"

    def latex(self) -> str:
        from .render.latex import higher_latex
        return higher_latex(self)


def diff_higher(text: str, at, let=None, wrt=None, mode: str = "reverse", order: int = 2,
                steps: bool = False) -> HigherDiffResult:
    if mode not in ("forward", "reverse"):
        raise UsageError(f"unknown mode '{mode}': use forward or reverse")
    if not isinstance(order, int) or order < 1:
        raise UsageError(f"--order must be a whole number ≥ 1, got {order}")
    node = parse(text).node
    prob = resolve(node, at, let, wrt)
    if len(prob.wrt) != 1:
        raise UsageError(f"diff takes one variable, got {', '.join(prob.wrt) or 'none'}: "
                         "choose with --wrt (grad gives all partial derivatives)")
    var = prob.wrt[0]
    tape = build_tape(node)
    if ops_for(tape, prob.env) is not FLOAT:
        raise ShapeError("derivatives of order N need scalar variables")
    sym_texts: list[str] = []
    sym_steps: list = []
    if steps:
        from .symbolic import checked_text, derivative, symbolic_steps
        sym_steps, _ = symbolic_steps(node, var)
        sym_texts = [checked_text(d) for d in derivative(node, var, order)]
    if order == 1:
        from .derivatives import diff_at
        base = diff_at(text, at, let, wrt, mode)
        return HigherDiffResult(text, var, prob.point, mode, 1, base.value, base.derivative,
                                [base.derivative], [], sym_texts, sym_steps, base,
                                method=f"{mode} mode")
    vals = derivatives_at(tape, prob.env, var, order, mode)
    xi = tape.variables.get(var)
    fvals = evaluate(tape, prob.env, FLOAT)
    trace = trace_rows(tape, fvals, depends(tape, [xi] if xi is not None else []))
    method = ("nested dual numbers (forward mode)" if mode == "forward"
              else f"reverse over {order - 1} levels of dual numbers")
    return HigherDiffResult(text, var, prob.point, mode, order, vals[0], vals[-1], vals[1:], trace,
                            sym_texts, sym_steps, None, method)
