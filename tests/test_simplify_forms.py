"""The forms a person writes (issue 17): classics, common factors of the terms as
written, cleared denominators, 1/cos^2, 1/0 — each exact, checked with SymPy as
an oracle (simplify(calc − sympy.diff) == 0) and at random points."""
import math

import pytest
from hypothesis import HealthCheck, given, settings

from calccli.engine import expr
from calccli.engine.printer import to_text
from calccli.engine.tape import topo_order
from calccli.symbolic.differentiate import derivative, derivative_node, gradient_nodes
from calccli.symbolic.simplify import simplify
from symgen import SYMPY_FUNCS, close, exprs, node_of, scale, value

DIFFS = [
    ("(x-1)/(x+1)", "2/(x + 1)^2"),
    ("log(cosh(x))", "tanh(x)"),
    ("sigmoid(x)", "sigmoid(x)(1 - sigmoid(x))"),
    ("tanh(x)^2", "2 tanh(x)(1 - tanh(x)^2)"),
    ("x^3 (x*(x - 2))^4", "x^6(x - 2)^3(11x - 14)"),        # common factors of the terms as written
    ("(5 - x)^2 x^4", "2x^3(5 - x)(10 - 3x)"),
    ("atan(3/x)", "-3/(x^2 + 9)"),                          # a fraction cleared from a denominator
    ("2x/(2/x - x)", "8x/(2 - x^2)^2"),
    ("tan(x^3) - x", "3x^2/cos(x^3)^2 - 1"),                # tan(u)^2 + 1 as a factor: 1/cos(u)^2
    ("((x - 2)(2x + x^2))^2", "32x - 32x^3 + 6x^5"),        # a product of sums multiplied out when shorter
    ("(x + x)/((x - x) x) x", "1/0"),                       # no value anywhere: said once, not 2x*(1/0) + 2x/0
    ("sqrt(x*(x - x))", "0"),                               # a zero factor still wins (the function is 0)
]


@pytest.mark.parametrize("text,want", DIFFS)
def test_derivative_forms(text, want):
    (d,) = derivative(node_of(text), "x")
    assert to_text(d) == want
    assert simplify(d) is d and simplify(node_of(want)) is d


SIMPLIFY = [("1/(1/x + 1)", "x/(x + 1)"), ("1/(1/x + 1/y)", "x y/(y + x)"), ("x/(x - x)", "1/0"),
            ("log(x - x) + 2", "1/0"), ("(x - x)^-2", "1/0"), ("0 * (1/(x - x))", "0")]


@pytest.mark.parametrize("text,want", SIMPLIFY)
def test_simplified_forms(text, want):
    assert to_text(simplify(node_of(text))) == want


def to_sympy(node):
    """A calc node as a SymPy expression (numbers exact: 0.1 is 1/10)."""
    sp = pytest.importorskip("sympy")
    done = {}
    for n in topo_order(node):
        a = [done[m] for m in n.args]
        op = n.op
        if op == "num":
            done[n] = sp.Rational(repr(n.value))
        elif op == "var":
            done[n] = sp.Symbol(n.value)
        elif op == "const":
            done[n] = sp.pi if n.value == "pi" else sp.E
        elif op in ("add", "sub", "mul", "div", "pow"):
            done[n] = {"add": lambda: a[0] + a[1], "sub": lambda: a[0] - a[1], "mul": lambda: a[0] * a[1],
                       "div": lambda: a[0] / a[1], "pow": lambda: a[0] ** a[1]}[op]()
        elif op == "neg":
            done[n] = -a[0]
        elif op == "sigmoid":
            done[n] = 1 / (1 + sp.exp(-a[0]))
        else:
            done[n] = getattr(sp, {"atan": "atan", "abs": "Abs"}.get(op, op))(a[0])
    return done[node]


@pytest.mark.parametrize("text,want", DIFFS[:-2])
def test_forms_against_sympy(text, want):
    sp = pytest.importorskip("sympy")
    X = sp.Symbol("x")
    f = to_sympy(node_of(text))
    assert sp.simplify(to_sympy(node_of(want)) - sp.diff(f, X)) == 0


@settings(max_examples=40, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(exprs(("x",), funcs=SYMPY_FUNCS, max_leaves=5))
def test_random_derivatives_against_sympy_simplify(text):
    """simplify(calc − sympy.diff) == 0, or (where SymPy cannot decide it) equal at points."""
    sp = pytest.importorskip("sympy")
    X = sp.Symbol("x")
    node = node_of(text)
    try:
        (d,) = derivative(node, "x")
    except Exception:
        return
    f = to_sympy(node)
    diff = sp.diff(f, X)
    if diff.has(sp.zoo, sp.nan) or any(m is expr.ZERO for m in ()):
        return
    gap = sp.simplify(to_sympy(d) - diff)
    if gap == 0:
        return
    raw = derivative_node(node, "x")      # SymPy could not decide: the values must agree
    for x in (0.3, 0.9, 1.7, 3.1):
        a, b = value(raw, {"x": x}), value(d, {"x": x})
        if a is not None and b is not None:
            assert close(a, b, scale(raw, {"x": x}), 1e-9), (text, to_text(d), x)


@pytest.mark.parametrize("text", ["(x-1)/(x+1) + y^2 (y-1)", "atan(3/x) y + tan(x^3) y",
                                  "x^3 (x*(x - y))^4"])
def test_gradient_is_diff_per_variable(text):
    node = node_of(text)
    assert gradient_nodes(node, ["x", "y"]) == [derivative(node, v)[0] for v in ("x", "y")]


def test_higher_orders_go_through_the_simplifier():
    ds = derivative(node_of("x^3 (x*(x - 2))^4"), "x", 3)
    for d in ds:
        assert simplify(d) is d
    assert to_text(ds[0]) == "x^6(x - 2)^3(11x - 14)"
    for x in (0.4, 1.3, 2.6):
        want = math.fsum([])  # the third derivative of x^7(x - 2)^4 by the binomial sum
        want = sum(math.comb(4, k) * (-2) ** (4 - k) * (7 + k) * (6 + k) * (5 + k) * x ** (4 + k)
                   for k in range(5))
        assert close(value(ds[2], {"x": x}), want, abs(want) + 1, 1e-10)
