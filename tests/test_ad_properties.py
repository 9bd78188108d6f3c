"""Forward == reverse (1e-12), both == central differences, and SymPy as an oracle."""
import math
import random

import pytest
from hypothesis import given, settings, strategies as st

from calccli.engine.evaluate import evaluate
from calccli.engine.forward import forward
from calccli.engine.objective import Objective
from calccli.language.parse import parse_expr
from calccli.engine.reverse import reverse
from calccli.engine.tape import build_tape
from exprgen import random_expr


def ad_both(text, env, var):
    tape = build_tape(parse_expr(text))
    vals = evaluate(tape, env)
    i = tape.variables.get(var)
    if i is None:
        return vals[-1], 0.0, 0.0
    fwd = forward(tape, vals, {i: 1.0})[-1]
    rev = reverse(tape, vals, [i])[i]
    return vals[-1], fwd or 0.0, rev or 0.0


def central(text, env, var):
    tape = build_tape(parse_expr(text))
    x = env[var]
    h = 1e-6 * max(1.0, abs(x))
    hi, lo = dict(env), dict(env)
    hi[var], lo[var] = x + h, x - h
    return (evaluate(tape, hi)[-1] - evaluate(tape, lo)[-1]) / (2 * h)


def close(a, b, rel, abs_=1e-9):
    return abs(a - b) <= abs_ + rel * max(abs(a), abs(b))


@settings(max_examples=300, deadline=None)
@given(seed=st.integers(0, 10**9), x=st.floats(-2, 2), y=st.floats(-2, 2))
def test_forward_equals_reverse_equals_central_differences(seed, x, y):
    rng = random.Random(seed)
    text, stext = random_expr(rng, ("x", "y"), depth=rng.randint(1, 5))
    env = {"x": x, "y": y}
    _, fwd, rev = ad_both(text, env, "x")
    assert close(fwd, rev, 1e-12)
    fd = central(text, env, "x")
    if not close(fwd, fd, 1e-5, 1e-6):
        # a fast oscillation (1/(2+sin((3x^2)^3-1)) at x = 2) defeats the fixed step of the
        # central difference; SymPy's derivative in 30 digits settles which one is wrong
        sympy = pytest.importorskip("sympy")
        X, Y = sympy.symbols("x y")
        exact = float(sympy.diff(sympy.sympify(stext, locals={"x": X, "y": Y}), X).subs({X: x, Y: y}).evalf(30))
        assert close(fwd, exact, 1e-9, 1e-9), (text, fwd, fd, exact)


def test_sympy_oracle_on_random_expressions():
    sympy = pytest.importorskip("sympy")
    rng = random.Random(1234)
    X, Y = sympy.symbols("x y")
    checked = 0
    for _ in range(300):
        text, stext = random_expr(rng, ("x", "y"), depth=rng.randint(1, 5))
        x, y = rng.uniform(-2, 2), rng.uniform(-2, 2)
        env = {"x": x, "y": y}
        sym = sympy.sympify(stext, locals={"x": X, "y": Y})
        value, dx, _ = ad_both(text, env, "x")
        _, dy, _ = ad_both(text, env, "y")
        sv = float(sym.subs({X: x, Y: y}).evalf(30))
        sdx = float(sympy.diff(sym, X).subs({X: x, Y: y}).evalf(30))
        sdy = float(sympy.diff(sym, Y).subs({X: x, Y: y}).evalf(30))
        assert close(value, sv, 1e-11), (text, value, sv)
        assert close(dx, sdx, 1e-10), (text, dx, sdx)
        assert close(dy, sdy, 1e-10), (text, dy, sdy)
        checked += 1
    assert checked == 300


def test_hessian_forward_over_reverse_matches_sympy():
    sympy = pytest.importorskip("sympy")
    rng = random.Random(99)
    X, Y = sympy.symbols("x y")
    for _ in range(60):
        text, stext = random_expr(rng, ("x", "y"), depth=rng.randint(1, 4))
        x, y = rng.uniform(-2, 2), rng.uniform(-2, 2)
        sym = sympy.sympify(stext, locals={"x": X, "y": Y})
        _, g, H = Objective(parse_expr(text), {}, ["x", "y"]).hessian([x, y])
        for i, a in enumerate((X, Y)):
            for j, b in enumerate((X, Y)):
                ref = float(sympy.diff(sym, a, b).subs({X: x, Y: y}).evalf(30))
                assert close(H[i][j], ref, 1e-9, 1e-9), (text, i, j, H[i][j], ref)
        assert close(H[0][1], H[1][0], 1e-12, 1e-12)


def test_shared_subexpression_gets_full_adjoint():
    # x^2 is used three times; the += in reverse mode must add every use.
    _, fwd, rev = ad_both("x^2 + sin(x^2) * x^2", {"x": 0.7}, "x")
    x = 0.7
    exact = 2 * x + (math.cos(x * x) * 2 * x) * x * x + math.sin(x * x) * 2 * x
    assert close(rev, exact, 1e-14) and close(fwd, exact, 1e-14)
