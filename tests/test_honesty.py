"""Numerical honesty (issue 17): exact constants in symbolic answers, one normal form for
diff and grad, and (below) the numeric verdicts, each checked against SymPy / mpmath."""
import pytest
import sympy as sp

from calccli.commands.symbolic import diff_symbolic, grad_symbolic
from calccli.language.parse import parse
from calccli.symbolic.simplify import simplify

BCE = "-(y log(sigmoid(w x + b)) + (1-y) log(1 - sigmoid(w x + b)))"
_SYMS = {n: sp.Symbol(n) for n in ("x", "y", "w", "b")}
_FUNCS = {"sigmoid": lambda u: 1 / (1 + sp.exp(-u)), "log": sp.log, "exp": sp.exp, "sqrt": sp.sqrt,
          "sin": sp.sin, "cos": sp.cos, "tan": sp.tan, "atan": sp.atan, "tanh": sp.tanh,
          "cosh": sp.cosh, "sinh": sp.sinh, "abs": sp.Abs}
_ARITH = {"add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
          "div": lambda a, b: a / b, "pow": lambda a, b: a ** b, "neg": lambda a: -a}


def sym(text: str):
    """calc's reading of ``text`` as a SymPy expression (numbers as exact rationals)."""
    from calccli.engine.tape import topo_order
    out = {}
    for n in topo_order(parse(text).node):
        if n.op == "num":
            out[n] = sp.Rational(repr(n.value))
        elif n.op == "var":
            out[n] = _SYMS.setdefault(n.value, sp.Symbol(n.value))
        elif n.op == "const":
            out[n] = {"pi": sp.pi, "e": sp.E}[n.value]
        else:
            out[n] = (_ARITH.get(n.op) or _FUNCS[n.op])(*(out[a] for a in n.args))
    return out[parse(text).node]


def same(calc_text: str, sympy_expr) -> bool:
    """calc's printed answer read by SymPy equals ``sympy_expr`` (checked symbolically)."""
    return sp.simplify(sym(calc_text) - sympy_expr) == 0


# ---------------------------------------------------------------- exact constants

@pytest.mark.parametrize("text,wrt,want", [
    ("log(x/3)", "x", "1/x"),
    ("x^2/3", "x", "2x/3"),
    ("x^2/3 + y^2/5", "y", "2y/5"),
    ("x/7 + 0.3x", "x", "31/70"),
    ("0.1 x^2", "x", "x/5"),
    ("(x-1)/(x+1)", "x", "2/(x + 1)^2"),
    ("log(cosh(x))", "x", "tanh(x)"),
    ("sigmoid(x)", "x", "sigmoid(x)(1 - sigmoid(x))"),
    ("tan(atan(x^2))", "x", "2x"),
])
def test_exact_symbolic_answers(text, wrt, want):
    r = diff_symbolic(text, None, wrt, 1, False)
    assert r.text == want
    assert same(r.text, sp.diff(sym(text), _SYMS[wrt]))
    # the printed form reads back as the same expression
    assert simplify(parse(r.text).node) is simplify(r.derivative)


def test_grad_components_are_diffs_answers():
    g = grad_symbolic("x^2/3 + y^2/5")
    assert [str(n) for n in g.gradient] == ["2x/3", "2y/5"]
    g = grad_symbolic(BCE, None, "w,b")
    for v, node in zip(("w", "b"), g.gradient):
        d = diff_symbolic(BCE, None, v, 1, False)
        assert node is d.derivative
        assert same(d.text, sp.diff(sym(BCE), _SYMS[v]))
    assert str(g.gradient[1]) == "sigmoid(w x + b) - y"


def test_higher_orders_stay_exact():
    r = diff_symbolic("x^3/3 + x/6", None, None, 3, False)
    assert [str(d) for d in r.derivatives] == ["x^2 + 1/6", "2x", "2"]
