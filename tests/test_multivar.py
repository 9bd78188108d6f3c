"""grad, jacobian and hessian: against SymPy, the notes' formulas, the Matrix
Cookbook identities at random points, all Jacobian modes agreeing, and the
issue's example commands through the CLI."""
import json
import math
import random

import numpy as np
import pytest

from calccli.errors import CalcError, DomainError, ShapeError, UsageError
from calccli.engine.expr import free_vars
from calccli.commands.multivar import classify, grad_at, hessian_at, jacobian_at
from calccli.language.parse import parse_expr
from calccli.render.multivar import short_mode
from exprgen import random_expr


def vec(a) -> str:
    """A numpy vector or matrix in calc's syntax, full precision."""
    a = np.asarray(a, dtype=float)
    if a.ndim == 1:
        return "[" + ", ".join(repr(float(x)) for x in a) + "]"
    return "[" + ", ".join(vec(r) for r in a) + "]"


def rand(rng, *shape):
    return rng.uniform(-2, 2, size=shape)


def assert_close(got, want, rel=1e-9, abs_=1e-9):
    got, want = np.asarray(got, dtype=float), np.asarray(want, dtype=float)
    assert got.shape == want.shape, (got.shape, want.shape)
    assert np.allclose(got, want, rtol=rel, atol=abs_), (got, want)


def G(text, at, let=None, wrt=None):
    r = grad_at(text, at, let, wrt)
    return np.array(r.gradient)


def H(text, at, let=None, wrt=None):
    r = hessian_at(text, at, let, wrt)
    return np.array(r.hessian)


# --------------------------------------------------------------------------- SymPy oracle

def _sympy_points(rng, names):
    return {n: rng.uniform(-1.5, 1.5) for n in names}


@pytest.mark.parametrize("names", [("x", "y"), ("x", "y", "z")])
def test_grad_and_hessian_against_sympy(names):
    sympy = pytest.importorskip("sympy")
    syms = sympy.symbols(" ".join(names))
    rng = random.Random(20260 + len(names))
    checked = 0
    for _ in range(60):
        text, stext = random_expr(rng, names, depth=rng.randint(1, 4))
        f = sympy.sympify(stext, locals=dict(zip(names, syms)))
        pt = _sympy_points(rng, names)
        at = [",".join(f"{n}={v!r}" for n, v in pt.items())]
        try:
            g = grad_at(text, at, wrt=",".join(names))
            h = hessian_at(text, at, wrt=",".join(names))
        except CalcError:
            continue
        subs = dict(zip(syms, pt.values()))
        want_g = [float(sympy.diff(f, s).evalf(subs=subs)) for s in syms]
        want_h = [[float(sympy.diff(f, a, b).evalf(subs=subs)) for b in syms] for a in syms]
        assert_close(g.gradient, want_g, 1e-8, 1e-8)
        assert_close(h.hessian, want_h, 1e-7, 1e-7)
        assert_close(h.gradient, g.gradient, 1e-12, 1e-12)
        assert h.asymmetry <= 1e-9 * max(1.0, np.abs(np.array(h.hessian)).max())
        checked += 1
    assert checked >= 40


def test_jacobian_against_sympy_and_modes_agree():
    sympy = pytest.importorskip("sympy")
    names = ("x", "y", "z")
    syms = sympy.symbols("x y z")
    rng = random.Random(77)
    checked = 0
    for trial in range(40):
        m = rng.randint(1, 4)
        n = rng.randint(2, 3)
        use = names[:n]
        parts = [random_expr(rng, use, depth=rng.randint(1, 3)) for _ in range(m)]
        text = "[" + ", ".join(p[0] for p in parts) + "]"
        pt = _sympy_points(rng, use)
        at = [",".join(f"{k}={v!r}" for k, v in pt.items())]
        wrt = ",".join(use)
        try:
            results = {mode: jacobian_at(text, at, None, wrt, mode) for mode in ("auto", "forward", "reverse")}
        except CalcError:
            continue
        fw, rv, auto = results["forward"], results["reverse"], results["auto"]
        assert_close(fw.jacobian, rv.jacobian, 1e-12, 1e-12)
        assert auto.jacobian == (fw.jacobian if auto.mode == "forward" else rv.jacobian)
        used = len(set(free_vars(parse_expr(text))) & set(use))   # inputs that need a forward pass
        assert auto.mode == ("forward" if used <= m else "reverse")
        assert fw.passes == used and rv.passes == m
        assert fw.outputs == [p[0] for p in parts]
        subs = dict(zip(syms, pt.values()))
        want = []
        for _, stext in parts:
            f = sympy.sympify(stext, locals=dict(zip(names, syms)))
            want.append([float(sympy.diff(f, s).evalf(subs=subs)) for s in syms[:n]])
        assert_close(fw.jacobian, want, 1e-8, 1e-8)
        checked += 1
    assert checked >= 25


# --------------------------------------------------------------------------- the notes' formulas (section 5)

@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("n", [2, 3, 4])
def test_notes_formulas(seed, n):
    rng = np.random.default_rng(100 * n + seed)
    A, b, x = rand(rng, n, n), rand(rng, n), rand(rng, n)
    S = A + A.T
    at, lets = [f"x={vec(x)}"], [f"A={vec(A)}", f"b={vec(b)}"]
    # ∇ bᵀx = b and ∇² bᵀx = 0
    assert_close(G("b^T x", at, lets), b)
    assert_close(H("b^T x", at, lets), np.zeros((n, n)))
    # ∇ xᵀAx = (A + Aᵀ)x,  ∇² xᵀAx = A + Aᵀ
    assert_close(G("x^T A x", at, lets), (A + A.T) @ x)
    assert_close(H("x^T A x", at, lets), A + A.T)
    # symmetric A: 2Ax and 2A
    lets_s = [f"A={vec(S)}"]
    assert_close(G("x^T A x", at, lets_s), 2 * S @ x)
    assert_close(H("x^T A x", at, lets_s), 2 * S)
    # the same through dot() and an explicit transpose call
    assert_close(G("dot(x, A x)", at, lets), (A + A.T) @ x)
    assert_close(G("transpose(x) A x", at, lets), (A + A.T) @ x)


# --------------------------------------------------------------------------- Matrix Cookbook basics

@pytest.mark.parametrize("seed", range(5))
def test_cookbook_vector_identities(seed):
    rng = np.random.default_rng(seed)
    n = 3
    x, b, A = rand(rng, n), rand(rng, 4), rand(rng, 4, n)
    at = [f"x={vec(x)}"]
    assert_close(G("x^T x", at), 2 * x)                       # ∇ xᵀx = 2x
    assert_close(G("norm(x)", at), x / np.linalg.norm(x))     # ∇ ‖x‖ = x/‖x‖
    lets = [f"A={vec(A)}", f"b={vec(b)}"]
    r = A @ x - b
    assert_close(G("norm(A x - b)^2", at, lets), 2 * A.T @ r)          # least squares
    assert_close(G("(A x - b)^T (A x - b)", at, lets), 2 * A.T @ r)
    assert_close(H("norm(A x - b)^2", at, lets), 2 * A.T @ A, 1e-8, 1e-8)
    assert_close(G("sum(x^2)", at), 2 * x)
    assert_close(G("dot(x, x)", at), 2 * x)


@pytest.mark.parametrize("seed", range(5))
def test_cookbook_matrix_identities(seed):
    rng = np.random.default_rng(50 + seed)
    n = 3
    a, b = rand(rng, n), rand(rng, n)
    A = rand(rng, n, n)
    X = rand(rng, n, n) + 4 * np.eye(n)        # well away from singular
    P = X @ X.T + np.eye(n)                     # positive definite: log det defined
    at = [f"X={vec(X)}"]
    lets = [f"a={vec(a)}", f"b={vec(b)}", f"A={vec(A)}"]
    flat = lambda M: np.asarray(M).reshape(-1)  # noqa: E731 - row-major, like the JSON
    assert_close(G("a^T X b", at, lets), flat(np.outer(a, b)))          # ∇_X aᵀXb = abᵀ
    assert_close(G("trace(A X)", at, lets), flat(A.T))                  # ∇_X tr(AX) = Aᵀ
    assert_close(G("log(det(X))", [f"X={vec(P)}"]), flat(np.linalg.inv(P).T))   # X⁻ᵀ
    assert_close(G("det(X)", at), flat(np.linalg.det(X) * np.linalg.inv(X).T))  # det(X) X⁻ᵀ
    assert_close(G("trace(inv(X))", at), flat(-(np.linalg.inv(X) @ np.linalg.inv(X)).T))
    assert_close(G("sum(X)", at), np.ones(n * n))


def test_det_gradient_at_a_singular_matrix_is_the_cofactor_matrix():
    assert_close(G("det(X)", ["X=[[1,2],[2,4]]"]), [4, -2, -2, 1])
    assert_close(G("det(X)", ["X=[[1,2,3],[2,4,6],[1,1,1]]"]),
                 [-2, 4, -2, 1, -2, 1, 0, 0, 0])


def test_hessians_of_matrix_expressions_are_symmetric_and_match_finite_differences_of_the_gradient():
    rng = np.random.default_rng(9)
    X = rand(rng, 2, 2) + 3 * np.eye(2)
    for text in ("log(det(X))", "det(X)", "trace(inv(X))", "norm(X)^2", "sum(exp(X) X)"):
        r = hessian_at(text, [f"X={vec(X)}"])
        Hm = np.array(r.hessian)
        assert r.asymmetry <= 1e-9 * max(1, np.abs(Hm).max())
        h = 1e-6
        fd = np.zeros((4, 4))
        for j in range(4):
            E = np.zeros(4)
            E[j] = h
            gp = G(text, [f"X={vec(X + E.reshape(2, 2))}"])
            gm = G(text, [f"X={vec(X - E.reshape(2, 2))}"])
            fd[:, j] = (gp - gm) / (2 * h)
        assert_close(Hm, fd, 1e-5, 1e-6)


def test_mixed_scalar_and_vector_variables_flatten_in_wrt_order():
    r = grad_at("s x^T x + s^2", ["x=[1,2]", "s=3"])     # order of first appearance
    assert r.variables == ["s", "x[1]", "x[2]"]
    assert_close(r.gradient, [5 + 6, 6, 12])
    r = grad_at("s x^T x + s^2", ["x=[1,2]", "s=3"], wrt="x,s")
    assert r.variables == ["x[1]", "x[2]", "s"]
    assert_close(r.gradient, [6, 12, 11])
    h = hessian_at("s x^T x + s^2", ["x=[1,2]", "s=3"], wrt="s,x")
    assert_close(h.hessian, [[2, 2, 4], [2, 6, 0], [4, 0, 6]])


def test_indexing_and_literals():
    assert_close(G("x[1]^2 x[2] + sin(x[1] x[2])", ["x=[1,2]"]), [2 * 2 + 2 * math.cos(2), 1 + math.cos(2)])
    assert_close(G("A[1,2] A[2,1]", ["A=[[1,2],[3,4]]"]), [0, 3, 2, 0])
    assert_close(G("sum(A[2])", ["A=[[1,2],[3,4]]"]), [0, 0, 1, 1])
    assert_close(G("x^T[2]", ["x=[5,6,7]"]), [0, 1, 0])
    assert_close(G("norm([x, 2y])", ["x=3,y=2"]), [3 / 5, 4 * 2 / 5])
    assert_close(G("[[x, y], [y, x]][1, 2]", ["x=3,y=2"]), [0, 1])


def test_scalar_times_vector_broadcasting_reduces_in_reverse():
    # ∂/∂s of sum(s·x) = sum(x); ∂/∂s of sum(x + s) = n
    assert_close(G("sum(s x)", ["s=2", "x=[1,2,3]"], wrt="s"), [6])
    assert_close(G("sum(x + s)", ["s=2", "x=[1,2,3]"], wrt="s"), [3])
    assert_close(G("sum(x/s)", ["s=2", "x=[1,2,3]"], wrt="s"), [-6 / 4])
    assert_close(G("sum(s^x)", ["s=2", "x=[1,2,3]"], wrt="s"), [1 + 4 + 12])
    r = jacobian_at("s x", ["s=2", "x=[1,2]"], None, "s", "forward")
    assert_close(r.jacobian, [[1], [2]])


# --------------------------------------------------------------------------- jacobian details

def test_jacobian_of_a_typed_vector_expression_is_the_matrix():
    A = [[1, 2], [3, 4], [5, 6]]
    for mode in ("auto", "forward", "reverse"):
        r = jacobian_at("A x", ["x=[1,2]"], [f"A={A}"], None, mode)
        assert_close(r.jacobian, A)
        assert r.value == [5, 11, 17]
    r = jacobian_at("A x", ["x=[1,2]"], [f"A={A}"], None, "auto")
    assert (r.mode, r.passes) == ("forward", 2)
    r = jacobian_at("exp(x)", ["x=[0,1,2]"], None, None, "auto")
    assert (r.mode, r.passes) == ("forward", 3)           # a tie goes to forward
    assert_close(r.jacobian, np.diag(np.exp([0, 1, 2])))


def test_jacobian_auto_takes_reverse_when_outputs_are_fewer():
    r = jacobian_at("[x y z, x + y + z]", ["x=1,y=2,z=3"], None, None, "auto")
    assert (r.mode, r.passes) == ("reverse", 2)
    assert short_mode(r) == "reverse mode: 2 passes (forward would need 3)"
    assert_close(r.jacobian, [[6, 3, 2], [1, 1, 1]])


def test_jacobian_of_the_issue_example_says_which_mode():
    r = jacobian_at("[x y, x + y, sin(x)]", ["x=1,y=2"], None, None, "auto")
    assert short_mode(r) == "forward mode: 2 passes (reverse would need 3)"
    assert_close(r.jacobian, [[2, 1], [1, 1], [math.cos(1), 0]], 1e-15, 0)
    assert r.outputs == ["x y", "x + y", "sin(x)"]


# --------------------------------------------------------------------------- hessian details

def test_rosenbrock_hessian_and_classification():
    r = hessian_at("(1-x)^2 + 100(y-x^2)^2", ["x=1,y=1"])
    assert r.hessian == [[802, -400], [-400, 200]]
    assert r.gradient == [0, 0] and r.value == 0
    assert r.classification == "minimum" and r.critical
    assert r.asymmetry == 0
    assert_close(r.eigenvalues, np.linalg.eigvalsh([[802, -400], [-400, 200]]), 1e-12)


def test_classification():
    assert hessian_at("x^2 + y^2", ["x=0,y=0"]).classification == "minimum"
    assert hessian_at("-x^2 - 3y^2", ["x=0,y=0"]).classification == "maximum"
    assert hessian_at("x^2 - y^2", ["x=0,y=0"]).classification == "saddle"
    assert hessian_at("x^4 + y^2", ["x=0,y=0"]).classification == "degenerate"
    r = hessian_at("x^2 + y^2", ["x=1,y=0"])
    assert r.classification == "minimum" and not r.critical
    assert classify([1e-20, 1.0]) == "degenerate"
    assert classify([-1.0, 0.0, 1.0]) == "saddle"


# --------------------------------------------------------------------------- errors

def test_errors():
    with pytest.raises(ShapeError, match="grad needs a scalar expression; this one is a vector of length 2"):
        grad_at("A x", ["x=[1,2]"], ["A=[[1,2],[3,4]]"])
    with pytest.raises(ShapeError, match="A x: A is 3×2, x has length 3") as e:
        jacobian_at("A x", ["x=[1,2,3]"], ["A=[[1,2],[3,4],[5,6]]"], None, "auto")
    assert e.value.column == 1 and e.value.exit_code == 2
    with pytest.raises(DomainError, match="inv") as e:
        grad_at("sum(inv(X))", ["X=[[1,2],[2,4]]"])
    assert e.value.exit_code == 1
    with pytest.raises(UsageError, match="bound by both --at and --let"):
        grad_at("x^T x", ["x=[1,2]"], ["x=[1,2]"])
    with pytest.raises(UsageError, match="'A' has no value"):
        grad_at("x^T A x", ["x=[1,2]"])
    with pytest.raises(CalcError, match="not differentiable"):
        grad_at("norm(x)", ["x=[0,0]"])
    with pytest.raises(UsageError, match="unknown mode"):
        jacobian_at("[x, y]", ["x=1,y=2"], None, None, "sideways")


# --------------------------------------------------------------------------- the CLI: the issue's six commands

def test_issue_examples_through_the_cli(cli):
    code, out, _ = cli("grad", "x^2 y + sin(x y)", "--at", "x=1,y=2", "--format", "json")
    assert code == 0
    d = json.loads(out)
    assert d["variables"] == ["x", "y"]
    assert_close(d["gradient"], [4 + 2 * math.cos(2), 1 + math.cos(2)], 1e-15, 0)
    assert set(d) >= {"expression", "variables", "point", "value", "gradient"}

    code, out, _ = cli("jacobian", "[x y, x + y, sin(x)]", "--at", "x=1,y=2", "--format", "json")
    d = json.loads(out)
    assert code == 0 and d["mode"] == "forward" and d["passes"] == 2
    assert d["value"] == [2, 3, math.sin(1)] and d["jacobian"] == [[2, 1], [1, 1], [math.cos(1), 0]]
    code, out, _ = cli("jacobian", "[x y, x + y, sin(x)]", "--at", "x=1,y=2", "--format", "plain")
    assert "forward mode: 2 passes (reverse would need 3)" in out

    code, out, _ = cli("hessian", "(1-x)^2 + 100(y-x^2)^2", "--at", "x=1,y=1", "--format", "json")
    d = json.loads(out)
    assert code == 0 and d["hessian"] == [[802, -400], [-400, 200]] and d["classification"] == "minimum"
    assert set(d) >= {"expression", "variables", "point", "value", "gradient", "hessian", "eigenvalues",
                      "classification"}
    code, out, _ = cli("hessian", "(1-x)^2 + 100(y-x^2)^2", "--at", "x=1,y=1", "--format", "plain")
    assert "local minimum" in out and "symmetric (max |H − Hᵀ| = 0)" in out

    code, out, _ = cli("grad", "x^T A x", "--let", "A=[[1,2],[3,4]]", "--at", "x=[1,2]", "--format", "json")
    d = json.loads(out)
    assert code == 0 and d["gradient"] == [12, 21] and d["variables"] == ["x[1]", "x[2]"]
    assert d["point"] == {"x[1]": 1, "x[2]": 2} and d["value"] == 27

    code, out, _ = cli("hessian", "x^T A x", "--let", "A=[[1,2],[3,4]]", "--at", "x=[1,2]", "--format", "json")
    d = json.loads(out)
    assert code == 0 and d["hessian"] == [[2, 5], [5, 8]] and d["classification"] == "saddle"

    code, out, _ = cli("grad", "log(det(X))", "--at", "X=[[2,1],[1,3]]", "--format", "json")
    d = json.loads(out)
    assert code == 0 and d["variables"] == ["X[1,1]", "X[1,2]", "X[2,1]", "X[2,2]"]
    assert_close(d["gradient"], np.linalg.inv([[2, 1], [1, 3]]).T.reshape(-1), 1e-14, 1e-15)


def test_cli_views_show_matrices(cli):
    code, out, _ = cli("grad", "log(det(X))", "--at", "X=[[2,1],[1,3]]", "--format", "plain")
    assert code == 0
    assert "∇_X f = ⎡  0.6  -0.2 ⎤" in out and "⎣ -0.2   0.4 ⎦" in out
    code, out, _ = cli("grad", "x^T A x", "--let", "A=[[1,2],[3,4]]", "--at", "x=[1,2]", "--steps",
                       "--format", "plain")
    assert code == 0 and "∂c/∂x = (∂c/∂a)ᵀ + bᵀ" in out and "= [5, 11] + [7, 10] = [12, 21]" in out
    code, out, _ = cli("hessian", "x^T A x", "--let", "A=[[1,2],[3,4]]", "--at", "x=[1,2]", "--format", "latex")
    if code == 0:  # the LaTeX renderer is another module; when present it shows the bmatrix
        assert "bmatrix" in out


def test_cli_errors_have_carets_and_exit_codes(cli):
    code, out, err = cli("jacobian", "A x", "--let", "A=[[1,2],[3,4],[5,6]]", "--at", "x=[1,2,3]")
    assert code == 2 and "A x: A is 3×2, x has length 3" in err and "^^^" in err
    code, out, err = cli("grad", "x + y", "--at", "x=[1,2],y=[1,2,3]", "--format", "json")
    d = json.loads(out)
    assert code == 2 and d["error"]["kind"] == "type" and d["error"]["column"] == 1
    assert "cannot add a vector of length 2 and a vector of length 3" in d["error"]["message"]
    code, out, err = cli("grad", "sum(inv(X))", "--at", "X=[[1,2],[2,4]]")
    assert code == 1 and "singular" in err
    code, out, err = cli("grad", "x^T x", "--at", "x=[1,2]", "--let", "x=[1,2]")
    assert code == 2 and "both --at and --let" in err
    code, out, err = cli("hessian", "det([[x, 1, 2], [3, 4, 5]])", "--at", "x=1")
    assert code == 2 and "needs a square matrix" in err


def test_batch_mode_grad_json_lines(cli):
    code, out, _ = cli("grad", "-", "--at", "x=[1,2]", "--format", "json", input="x^T x\nsum(x)\nnorm(x\n")
    lines = [json.loads(x) for x in out.splitlines()]
    assert code == 2 and lines[0]["gradient"] == [2, 4] and lines[1]["gradient"] == [1, 1]
    assert lines[2]["error"]["kind"] == "parse"


# --------------------------------------------------------------------------- diff on expressions with arrays inside

def test_diff_with_arrays_both_modes():
    from calccli.commands.multivar import diff_with_arrays
    from calccli.render.json import to_obj
    text = "norm([x, 2, x^2])^2 + [x, 1]^T A*[x, 1]"
    for mode in ("reverse", "forward"):
        r = diff_with_arrays(text, ["x=1.5"], ["A=[[1,2],[3,4]]"], None, mode)
        # f = 2x² + 5x + x⁴ + 8
        assert r.value == 2 * 1.5**2 + 5 * 1.5 + 1.5**4 + 8
        assert r.derivative == 4 * 1.5 + 5 + 4 * 1.5**3
        d = to_obj(r)
        assert set(d) >= {"expression", "variable", "point", "mode", "order", "value", "derivative",
                          "trace", "steps"}
        assert d["mode"] == mode and d["trace"][1]["value"] == [1.5, 2, 2.25]
    with pytest.raises(UsageError, match="use calc grad"):
        diff_with_arrays("x^T x", ["x=[1,2]"], None, None, "reverse")
