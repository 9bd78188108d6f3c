"""Hessians by one forward-over-reverse pass with vector tangents: the same
numbers as one dual pass per variable (the former method), as SymPy's second
derivatives and as central differences of the gradient."""
import math
import random

import numpy as np
import pytest

from calccli.engine.evaluate import evaluate
from calccli.engine.objective import Objective, dual_over
from calccli.engine.ops import Dual
from calccli.engine.reverse import reverse
from calccli.language.parse import parse
from exprgen import random_expr


def column_by_column(obj: Objective, theta) -> list[list[float]]:
    """The former method, as the oracle: column j from a dual pass seeded with
    the scalar tangent 1 at θ_j only."""
    n = len(obj.wrt)
    dual = dual_over(obj.ops)
    base = dict(obj.env, **dict(zip(obj.wrt, map(float, theta))))
    H = [[0.0] * n for _ in range(n)]
    for j, ij in enumerate(obj.idx):
        if ij is None:
            continue
        env = dict(base, **{obj.wrt[j]: Dual(base[obj.wrt[j]], 1.0, dual)})
        adj = reverse(obj.tape, evaluate(obj.tape, env, dual), obj._wrt_idx, dual)
        for k, ik in enumerate(obj.idx):
            a = None if ik is None else adj[ik]
            H[k][j] = float(a.t) if isinstance(a, Dual) else 0.0
    return H


def rel(a, b):
    return abs(a - b) / max(1.0, abs(a), abs(b))


def test_vector_tangents_give_the_column_by_column_numbers():
    rng = random.Random(16)
    names = ("x", "y", "z", "w")
    checked = 0
    for _ in range(150):
        text, _ = random_expr(rng, names, depth=rng.randint(1, 5))
        theta = [rng.uniform(-1.5, 1.5) for _ in names]
        obj = Objective(parse(text).node, {}, list(names))
        try:
            _, _, H = obj.hessian(theta)
            want = column_by_column(obj, theta)
        except (ArithmeticError, ValueError):
            continue
        for r, w in zip(H, want):
            for a, b in zip(r, w):
                if math.isfinite(b):
                    assert rel(a, b) <= 1e-12, (text, H, want)
        checked += 1
    assert checked >= 120


def test_variables_the_expression_does_not_use_have_zero_rows_and_columns():
    obj = Objective(parse("x^3*y + sin(y)").node, {}, ["x", "unused", "y"])
    _, g, H = obj.hessian([2.0, 5.0, 0.5])
    assert g[1] == 0.0 and H[1] == [0.0, 0.0, 0.0] and [r[1] for r in H] == [0.0, 0.0, 0.0]
    assert H[0][0] == pytest.approx(6 * 2.0 * 0.5, rel=1e-15)
    assert H[0][2] == H[2][0] == pytest.approx(3 * 4.0, rel=1e-15)
    assert H[2][2] == pytest.approx(-math.sin(0.5), rel=1e-15)


def rosenbrock(n):
    return " + ".join(f"(1 - x{i})^2 + 100*(x{i + 1} - x{i}^2)^2" for i in range(1, n))


def test_extended_rosenbrock_against_its_closed_form():
    n = 30
    rng = random.Random(3)
    x = [rng.uniform(-1.5, 1.5) for _ in range(n)]
    _, _, H = Objective(parse(rosenbrock(n)).node, {}, [f"x{i}" for i in range(1, n + 1)]).hessian(x)
    want = np.zeros((n, n))
    for i in range(n - 1):  # (1 - x_i)^2 + 100 (x_{i+1} - x_i^2)^2
        want[i, i] += 2 - 400 * (x[i + 1] - x[i] ** 2) + 800 * x[i] ** 2
        want[i, i + 1] += -400 * x[i]
        want[i + 1, i] += -400 * x[i]
        want[i + 1, i + 1] += 200
    assert np.allclose(H, want, rtol=1e-12, atol=1e-12)


def test_dense_quadratic_gives_its_coefficient_matrix():
    n = 12
    rng = random.Random(5)
    c = {(i, j): rng.randint(-4, 4) or 1 for i in range(n) for j in range(i, n)}
    text = " + ".join(f"{v}*x{i}*x{j}" for (i, j), v in c.items())
    _, _, H = Objective(parse(text).node, {}, [f"x{i}" for i in range(n)]).hessian([0.3] * n)
    want = np.zeros((n, n))
    for (i, j), v in c.items():
        want[i, j] += v
        want[j, i] += v
    assert np.array_equal(np.array(H), want)


def test_against_sympy_and_central_differences_of_the_gradient():
    sympy = pytest.importorskip("sympy")
    rng = random.Random(77)
    names = ("x", "y", "z")
    syms = sympy.symbols(names)
    for _ in range(25):
        text, stext = random_expr(rng, names, depth=rng.randint(2, 4))
        theta = [rng.uniform(-1, 1) for _ in names]
        obj = Objective(parse(text).node, {}, list(names))
        _, _, H = obj.hessian(theta)
        f = sympy.sympify(stext, locals=dict(zip(names, syms)))
        at = dict(zip(syms, theta))
        h = 1e-5
        for j in range(3):
            up, dn = list(theta), list(theta)
            up[j] += h
            dn[j] -= h
            gu, gd = obj.value_and_grad(up)[1], obj.value_and_grad(dn)[1]
            for k in range(3):
                ref = float(sympy.diff(f, syms[k], syms[j]).subs(at).evalf(30))
                assert rel(H[k][j], ref) <= 1e-9, (text, k, j, H[k][j], ref)
                assert rel(H[k][j], (gu[k] - gd[k]) / (2 * h)) <= 1e-5, (text, k, j)


def test_a_non_finite_second_derivative_is_reported_not_printed():
    from calccli.commands.multivar import hessian_at
    from calccli.errors import CalcError
    # the second derivative of x^1.5 at 0 is 0.75 x^(-0.5): infinite there
    with pytest.raises(CalcError):
        hessian_at("x^1.5 + y^2", ["x=0,y=1"])
