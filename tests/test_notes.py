"""examples/notes.calc, the lecture notes as a REPL script: every value it prints is checked.

The script runs once as `calc repl < examples/notes.calc`; each number is compared with an
independent oracle (SymPy for derivatives, numpy for the matrix formulas and least squares).
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import sympy as sp

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "examples" / "notes.calc"
x, y, a = sp.symbols("x y a")
SEED = sp.sqrt(x**2 + sp.exp(x**2)) + sp.cos(x**2 + sp.exp(x**2))


@pytest.fixture(scope="module")
def out(tmp_path_factory):
    home = tmp_path_factory.mktemp("notes")
    env = {**os.environ, "NO_COLOR": "1", "TERM": "dumb", "COLUMNS": "100", "HOME": str(home),
           "XDG_STATE_HOME": str(home / "state"), "XDG_CACHE_HOME": str(home / "cache")}
    with open(SCRIPT, encoding="utf-8") as stdin:
        p = subprocess.run([sys.executable, "-m", "calccli", "repl"], stdin=stdin, capture_output=True,
                           text=True, cwd=str(ROOT), env=env, timeout=600)
    assert p.returncode == 0 and p.stderr == "", p.stderr
    assert "\x1b" not in p.stdout
    return p.stdout


def numbers(text: str) -> list[float]:
    return [float(t) for t in re.findall(r"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?", text)]


def labelled(out: str, label: str) -> list[str]:
    """Every value printed on a summary line `label = value`, in order."""
    return re.findall(rf"^{re.escape(label)} = (.*)$", out, flags=re.M)


def close(got, want, rel=1e-12):
    np.testing.assert_allclose(np.asarray(got, dtype=float), np.asarray(want, dtype=float),
                               rtol=rel, atol=rel)


def calc_value(expression: str, **point: float) -> float:
    """Evaluate an expression that calc printed (calc syntax) with calc's own evaluator."""
    from calccli.engine.evaluate import value_of
    from calccli.language.parse import parse
    return value_of(parse(expression).node, point)


def test_the_script_is_the_notes_in_order():
    text = SCRIPT.read_text(encoding="utf-8")
    sections = [int(n) for n in re.findall(r"^# --- (\d)\.", text, flags=re.M)]
    assert sections == [1, 2, 3, 4, 5, 6, 7]


def test_chain_rule_by_hand_equals_the_derivative_of_the_composite(out):
    f1, by_hand, df1, difference = (float(v) for v in out.splitlines()[:4])
    assert difference == 0
    close(f1, float(SEED.subs(x, 1).evalf(30)), 1e-15)
    close(df1, float(sp.diff(SEED, x).subs(x, 1).evalf(30)), 1e-15)
    close(by_hand, df1, 1e-15)
    assert df1 == 5.983082595908695 and f1 == 1.0900122119747424


def test_symbolic_derivative_of_the_composite_is_right(out):
    expr = labelled(out, "f'(x)")[0]
    for p in (0.3, 1.0, 1.7):
        close(calc_value(expr, x=p), float(sp.diff(SEED, x).subs(x, p)), 1e-12)


def test_gradient_symbolic_and_at_the_point(out):
    f = x**2 * y + sp.sin(x * y)
    dfx, dfy = labelled(out, "∂f/∂x")[0], labelled(out, "∂f/∂y")[0]
    for px, py in ((1, 2), (-0.4, 0.9)):
        close(calc_value(dfx, x=px, y=py), float(sp.diff(f, x).subs({x: px, y: py})))
        close(calc_value(dfy, x=px, y=py), float(sp.diff(f, y).subs({x: px, y: py})))
    want = [float(sp.diff(f, v).subs({x: 1, y: 2})) for v in (x, y)]
    close(numbers(labelled(out, "∇f")[0]), want)
    close(float(labelled(out, "∂f/∂x(1, 2)")[0]), want[0])       # one component with `diff … wrt x`
    close(float(labelled(out, "∂f/∂y(1, 2)")[0]), want[1])


def test_jacobian_rows_are_the_gradients(out):
    j = labelled(out, "J")
    close(sum((numbers(r) for r in re.findall(r"\[[^\[\]]*\]", j[0])), []), [2, 1, 1, 1, np.cos(1), 0])
    grads = labelled(out, "∇f")
    close(numbers(grads[1]), [2, 1])          # grad x y = row 1
    close(numbers(grads[2]), [1, 1])          # grad x + y = row 2
    close(numbers(j[1]), [1, 2, 3, 4, 5, 6])  # the Jacobian of W v is W


def test_hessian_is_the_jacobian_of_the_gradient_and_symmetric(out):
    rosen = (1 - x)**2 + 100 * (y - x**2)**2
    want = np.array(sp.hessian(rosen, (x, y)).subs({x: 1, y: 1}), dtype=float)
    assert "H = ⎡  802  -400 ⎤" in out
    close(numbers(labelled(out, "eigenvalues")[0]), np.linalg.eigvalsh(want))
    j_of_grad = numbers(labelled(out, "J")[2])
    close(j_of_grad, want.ravel())
    g = x**3 * y + sp.sin(x) * y**2
    h = np.array(sp.hessian(g, (x, y)).subs({x: 0.5, y: 2}), dtype=float)
    close(numbers(labelled(out, "eigenvalues")[1]), np.linalg.eigvalsh(h))
    assert "symmetric (max |H − Hᵀ| = 0)" in out


def test_the_matrix_formulas(out):
    A, B, b = np.array([[2., 1], [1, 3]]), np.array([[1., 2], [3, 4]]), np.array([1., 2])
    grads = [numbers(v) for v in labelled(out, "∇_x f")]
    close(grads[0], b)                                    # ∇ bᵀx = b
    close(grads[1], 2 * A @ [1, -1])                      # ∇ xᵀAx = 2Ax, A symmetric
    close(grads[2], (B + B.T) @ [1, 2])                   # in general (A + Aᵀ)x
    assert "[2, -4]" in out.splitlines() and "[12, 21]" in out.splitlines()   # 2 A x and (B + Bᵀ) x
    eig = [numbers(v) for v in labelled(out, "eigenvalues")[2:5]]
    close(eig[0], [0, 0])                                 # ∇² bᵀx = 0
    close(eig[1], np.linalg.eigvalsh(2 * A))              # ∇² xᵀAx = 2A
    close(eig[2], np.linalg.eigvalsh(B + B.T))            # in general A + Aᵀ
    assert "⎡ 0  0 ⎤" in out and "⎡ 4  2 ⎤" in out and "⎡ 2  5 ⎤" in out


def test_the_scalar_analogues(out):
    first = [calc_value(e, a=1.5, x=0.7) for e in labelled(out, "∂f/∂x")[2:]]
    second = [calc_value(e, a=1.5, x=0.7) for e in labelled(out, "∂²f/∂x²")]
    close(first, [1.5, 2 * 1.5 * 0.7])                       # d/dx a x = a, d/dx a x² = 2ax
    close(second, [0, 2 * 1.5])                              # d²/dx² a x = 0, d²/dx² a x² = 2a


def test_minimize_finds_argmin_and_min(out):
    argmins, minima = labelled(out, "argmin"), [float(v) for v in labelled(out, "minimum")]
    close(numbers(argmins[0]), [3], 1e-12)
    close(minima[0], 1, 1e-12)                        # min J = 1 at argmin J = 3
    close(numbers(argmins[1]), [1, 1], 1e-8)          # Rosenbrock
    close(numbers(argmins[2]), [1, 3], 1e-8)          # Booth, by plain gradient descent
    assert labelled(out, "converged") == ["yes"] * 3


def test_the_five_gradient_descent_fits_approach_least_squares(out):
    data = np.loadtxt(ROOT / "examples" / "line.csv", delimiter=",", skiprows=1)
    X = np.column_stack([data[:, 0], np.ones(len(data))])
    (w_ls, b_ls), *_ = np.linalg.lstsq(X, data[:, 1], rcond=None)
    j_ls = float(np.mean((X @ [w_ls, b_ls] - data[:, 1]) ** 2))
    ws, bs = [float(v) for v in labelled(out, "w")], [float(v) for v in labelled(out, "b")]
    losses = [float(v) for v in labelled(out, "loss")]
    assert len(ws) == len(bs) == len(losses) == 5
    close([ws[0], bs[0]], [w_ls, b_ls], 1e-3)        # batch mode: converged to the least-squares line
    for w, b, loss in zip(ws, bs, losses):
        assert abs(w - w_ls) < 0.05 and abs(b - b_ls) < 0.05
        assert j_ls - 1e-12 <= loss <= 1.25 * j_ls
        close(loss, np.mean((X @ [w, b] - data[:, 1]) ** 2), 1e-9)   # the printed loss is J(θ)
    assert "online (one update per sample)" in out and "shuffled every epoch (seed 1)" in out
    assert "sampled with replacement (seed 1)" in out


def test_backpropagation_on_the_notes_example(out):
    assert labelled(out, "shared") == ["a, c"] and labelled(out, "intermediate variables") == ["6"]
    assert labelled(out, "f(1)") == ["1.0900122119747424"] * 2      # reverse and forward mode
    assert labelled(out, "f'(1)") == ["5.983082595908695"] * 2
    for row in ("a    x^2", "b    exp(a)", "c    a + b", "d    sqrt(c)", "e    cos(c)", "f    d + e"):
        assert row in out
    assert "(c feeds d and e: contributions add)" in out and "Chain rule, forward mode" in out
    assert labelled(out, "result") == ["all methods agree"]


def _at(expression: str, **env):
    """The value of an expression calc printed, with numpy arrays bound (calc's own evaluator)."""
    from calccli.engine.evaluate import value_of
    from calccli.language.parse import parse
    return np.asarray(value_of(parse(expression).node, env), dtype=float)


def test_symbolic_jacobian_and_hessian_are_the_matrices_of_partials(out):
    (jac, jac_of_grad), (hess,) = labelled(out, "J f"), labelled(out, "∇² f")
    rosen = (1 - x)**2 + 100 * (y - x**2)**2
    for px, py in ((1.0, 2.0), (-0.7, 0.3)):
        want_j = np.array(sp.Matrix([x * y, x + y, sp.sin(x)]).jacobian([x, y]).subs({x: px, y: py}), dtype=float)
        close(_at(jac, x=px, y=py), want_j)
        want_h = np.array(sp.hessian(rosen, (x, y)).subs({x: px, y: py}), dtype=float)
        close(_at(hess, x=px, y=py), want_h)
        close(_at(jac_of_grad, x=px, y=py), want_h)        # H = J(∇f)


def test_the_matrix_formulas_derived_symbolically(out):
    grads, hessians = labelled(out, "∇ₓ f"), labelled(out, "∇²ₓ f")
    assert len(grads) == len(hessians) == 3
    rng = np.random.default_rng(0)
    for n in (2, 3, 5):
        A, b, v = rng.normal(size=(n, n)), rng.normal(size=n), rng.normal(size=n)
        S = A + A.T
        close(_at(grads[0], b=b, x=v), b)                  # ∇ bᵀx = b
        assert hessians[0] == "0"                          # ∇² bᵀx = 0
        close(_at(grads[1], A=S, x=v), 2 * S @ v)          # 2Ax for a symmetric A
        close(_at(hessians[1], A=S), 2 * S)                # 2A
        close(_at(grads[2], A=A, x=v), (A + A.T) @ v)      # (A + Aᵀ)x in general
        close(_at(hessians[2], A=A), A + A.T)              # A + Aᵀ
    assert out.count("verified at 3 random instances against the numeric AD engine") >= 9
