"""Machine-learning building blocks: the new primitives against numpy/scipy and
central differences (forward == reverse == symbolic), numerical stability, the
one convention at non-smooth points through every command, elementwise
operators, pasted Unicode, and ``fit`` with vector parameters against a
maximum-likelihood oracle."""
import json
import math

import numpy as np
import pytest

from calccli.commands import check, derivatives, higher, multivar
from calccli.commands.symbolic import diff_symbolic
from calccli.errors import CalcError, NotDifferentiable, ParseError, ShapeError
from calccli.language.parse import parse_expr


def _point(f):
    """The library functions take --at as a list of option strings."""
    def call(text, at=None, let=None, *args, **kw):
        wrap = (lambda v: [v] if isinstance(v, str) else v)
        return f(text, wrap(at), wrap(let), *args, **kw)
    return call


eval_expr, diff_at, grad_at = _point(derivatives.eval_expr), _point(derivatives.diff_at), _point(multivar.grad_at)
hessian_at, jacobian_at = _point(multivar.hessian_at), _point(multivar.jacobian_at)
diff_higher, check_at = _point(higher.diff_higher), _point(check.check_at)


def _erf(x):
    try:
        from scipy.special import erf
        return erf(x)
    except ImportError:  # pragma: no cover - scipy is a test oracle only
        return np.vectorize(math.erf)(x)


def _erf_d(x):
    return 2 / np.sqrt(np.pi) * np.exp(-x * x)


# expression in x, numpy value, numpy derivative, points (away from kinks)
ELEMENTWISE = [
    ("relu(x)", lambda x: np.maximum(x, 0), lambda x: (x > 0) * 1.0, [-1.5, -0.2, 0.3, 2.0]),
    ("leaky_relu(x, 0.1)", lambda x: np.where(x > 0, x, 0.1 * x), lambda x: np.where(x > 0, 1, 0.1),
     [-1.5, -0.2, 0.3, 2.0]),
    ("sign(x)", np.sign, lambda x: 0 * x, [-1.5, 0.3]),
    ("log1p(x)", np.log1p, lambda x: 1 / (1 + x), [-0.9, -0.2, 0.3, 5.0]),
    ("expm1(x)", np.expm1, np.exp, [-3.0, -1e-8, 0.3, 2.0]),
    ("log2(x)", np.log2, lambda x: 1 / (x * np.log(2)), [0.1, 1.0, 7.0]),
    ("log10(x)", np.log10, lambda x: 1 / (x * np.log(10)), [0.1, 1.0, 7.0]),
    ("erf(x)", _erf, _erf_d, [-2.0, -0.3, 0.0, 0.7, 3.0]),
    ("max(x, 0.5)", lambda x: np.maximum(x, 0.5), lambda x: (x > 0.5) * 1.0, [-1.0, 0.2, 0.9, 3.0]),
    ("min(x, 0.5)", lambda x: np.minimum(x, 0.5), lambda x: (x < 0.5) * 1.0, [-1.0, 0.2, 0.9, 3.0]),
    ("max(0.5, x)", lambda x: np.maximum(0.5, x), lambda x: (x > 0.5) * 1.0, [-1.0, 0.9]),
    ("atan2(x, 0.7)", lambda x: np.arctan2(x, 0.7), lambda x: 0.7 / (0.49 + x * x), [-2.0, 0.0, 1.3]),
    ("atan2(0.7, x)", lambda x: np.arctan2(0.7, x), lambda x: -0.7 / (0.49 + x * x), [-2.0, 0.0, 1.3]),
    ("leaky_relu(0.5, x)", lambda x: 0 * x + 0.5, lambda x: 0 * x, [-1.0, 2.0]),
    ("leaky_relu(-0.5, x)", lambda x: -0.5 * x, lambda x: 0 * x - 0.5, [-1.0, 2.0]),
]


def central(f, x, h=1e-6):
    return (f(x + h) - f(x - h)) / (2 * h)


@pytest.mark.parametrize("text,value,deriv,points", ELEMENTWISE, ids=[e[0] for e in ELEMENTWISE])
def test_elementwise_scalar(text, value, deriv, points):
    sym = diff_symbolic(text).text
    for x in points:
        at = f"x={x!r}"
        v = eval_expr(text, at).value
        assert v == pytest.approx(float(value(np.float64(x))), rel=1e-12, abs=1e-15)
        rev = diff_at(text, at, mode="reverse").derivative
        fwd = diff_at(text, at, mode="forward").derivative
        want = float(deriv(np.float64(x)))
        assert rev == pytest.approx(want, rel=1e-10, abs=1e-12)
        assert fwd == rev
        num = central(lambda t: eval_expr(text, f"x={t!r}").value, x)
        assert rev == pytest.approx(num, rel=1e-6, abs=1e-6)
        assert eval_expr(sym, at).value == pytest.approx(want, rel=1e-10, abs=1e-12)


@pytest.mark.parametrize("text,value,deriv,points", ELEMENTWISE, ids=[e[0] for e in ELEMENTWISE])
def test_elementwise_on_vectors(text, value, deriv, points):
    """The same primitive entry by entry on a vector: value, and the gradient of the sum."""
    xs = np.array(points, dtype=float)
    at = "x=[" + ", ".join(repr(float(v)) for v in xs) + "]"
    got = np.asarray(eval_expr(text, at).value, dtype=float)
    assert np.allclose(got, value(xs), rtol=1e-12, atol=1e-15)
    g = np.array(grad_at(f"sum({text})", at).gradient)
    assert np.allclose(g, deriv(xs), rtol=1e-10, atol=1e-12)


def test_second_derivatives_forward_over_reverse_and_taylor():
    for text, x, want in [("erf(x)", 0.7, -2 * 0.7 * _erf_d(0.7)), ("log1p(x)", 0.5, -1 / 1.5 ** 2),
                          ("expm1(x)", 0.3, math.exp(0.3)), ("log2(x)", 3.0, -1 / (9 * math.log(2))),
                          ("relu(x)^3", 2.0, 12.0), ("atan2(x, 1)", 0.5, -2 * 0.5 / (1.25 ** 2))]:
        h = hessian_at(text, f"x={x}").hessian[0][0]
        assert h == pytest.approx(want, rel=1e-9)
        r = diff_higher(text, f"x={x}", order=2)
        assert r.derivatives[1] == pytest.approx(want, rel=1e-9)


# --------------------------------------------------------------------------- elementwise operators

def test_elementwise_operators_against_numpy():
    x, y = np.array([1.0, -2.0, 3.5]), np.array([0.5, 4.0, -1.25])
    at = "x=[1, -2, 3.5], y=[0.5, 4, -1.25]"
    for text, want in [("x .* y", x * y), ("x ⊙ y", x * y), ("x ./ y", x / y), ("x .^ 2", x ** 2),
                       ("2 .* x", 2 * x), ("x .* 3", 3 * x), ("x ./ 2", x / 2), ("1 ./ y", 1 / y),
                       ("abs(y) .^ x", np.abs(y) ** x), ("x .* y + x", x * y + x)]:
        assert np.allclose(eval_expr(text, at).value, want), text
    A = np.array([[1.0, 2.0], [3.0, 4.0]])
    assert np.allclose(eval_expr("A .^ 2", "A=[[1,2],[3,4]]").value, A ** 2)
    assert np.allclose(eval_expr("A .* A", "A=[[1,2],[3,4]]").value, A * A)
    assert np.allclose(eval_expr("A * A", "A=[[1,2],[3,4]]").value, A @ A)   # * stays the matrix product
    g = np.array(grad_at("sum(x .* y) + sum(x .^ 3) + sum(x ./ y)", at).gradient)
    assert np.allclose(g, np.concatenate([y + 3 * x ** 2 + 1 / y, x - x / y ** 2]))


def test_elementwise_operator_errors():
    with pytest.raises(ShapeError, match="entry by entry"):
        eval_expr("x .* y", "x=[1,2], y=[1,2,3]")
    with pytest.raises(ShapeError):
        eval_expr("x * y", "x=[1,2], y=[1,2]")   # a matrix product of two columns is still an error


def test_elementwise_printing_reads_back():
    for text in ["x .* y", "(x + 1) .* y", "x .^ 2", "x ./ y", "x .* y .* z", "max(x, y)", "max(v)"]:
        n = parse_expr(text)
        assert parse_expr(str(n)) is n, (text, str(n))


# --------------------------------------------------------------------------- stability

def test_stability_scalar():
    assert eval_expr("log1p(x)", "x=1e-20").value == 1e-20
    assert diff_at("log1p(x)", "x=1e-20").derivative == 1.0
    assert eval_expr("expm1(x)", "x=1e-20").value == 1e-20
    for x in (800, -800):
        v = eval_expr("sigmoid(x)", f"x={x}").value
        d = diff_at("sigmoid(x)", f"x={x}").derivative
        assert math.isfinite(v) and math.isfinite(d)
        assert v == (1.0 if x > 0 else 0.0) and d == 0.0
        vv = eval_expr("sigmoid(x)", f"x=[{x}, 0]").value
        assert np.all(np.isfinite(vv)) and vv[1] == 0.5


# --------------------------------------------------------------------------- the non-smooth convention

KINKS = [("relu(x)", "x=0"), ("abs(x)", "x=0"), ("sign(x)", "x=0"), ("leaky_relu(x, 0.1)", "x=0"),
         ("max(x, 1)", "x=1"), ("min(x, 1)", "x=1"), ("relu(x)^2", "x=0")]


@pytest.mark.parametrize("text,at", KINKS)
def test_nonsmooth_convention_every_api(text, at):
    """At a kink, a tie or a jump every way of differentiating says the same
    thing: not differentiable at this point (never a number, never NaN)."""
    calls = [lambda: diff_at(text, at, mode="reverse"), lambda: diff_at(text, at, mode="forward"),
             lambda: diff_higher(text, at, order=2), lambda: grad_at(text, at),
             lambda: jacobian_at(f"[{text}, 2 x]", at), lambda: hessian_at(text, at),
             lambda: check_at(text, at)]
    for call in calls:
        with pytest.raises(NotDifferentiable, match="not differentiable"):
            call()
    if text != "abs(x)":   # symbolic: the formula holds where it exists; at the kink it has no value
        sym = diff_symbolic(text).text
        if sym != "0":
            with pytest.raises(CalcError):
                eval_expr(sym, at)
    assert math.isfinite(eval_expr(text, at).value)   # the value itself is fine


def test_norm_at_zero_points_to_the_smooth_square():
    with pytest.raises(NotDifferentiable) as e:
        grad_at("norm(w)^2", "w=[0, 0]")
    assert e.value.hint == "‖w‖ has no derivative at w = 0, but ‖w‖² has: write w^T w (or sum(w .^ 2))"
    with pytest.raises(NotDifferentiable) as e:
        grad_at("norm(w - [1, 1])", "w=[1, 1]")
    assert "write (w - [1, 1])^T (w - [1, 1])" in e.value.hint
    assert grad_at("w^T w", "w=[0, 0]").gradient == grad_at("sum(w .^ 2)", "w=[0, 0]").gradient == [0.0, 0.0]
    with pytest.raises(NotDifferentiable) as e:
        grad_at("abs(x)", "x=0")
    assert e.value.hint is None
    from calccli.commands.fit import fit_model
    run = fit_model("w^T x + b", IRIS, "y", epochs=3, features=["x=petal_length,petal_width"],
                    loss="(yhat - y)^2 + 0.01 norm(w)^2").run
    assert run.reason.startswith("stopped in epoch 1: not differentiable") and "hint: ‖w‖ has no derivative" in run.reason


def test_nonsmooth_convention_vectors_and_ties():
    with pytest.raises(NotDifferentiable):
        grad_at("sum(relu(x))", "x=[1, 0, 2]")
    with pytest.raises(NotDifferentiable):
        grad_at("max(x, y)", "x=1, y=1")
    assert grad_at("sum(relu(x))", "x=[1, -3, 2]").gradient == [1.0, 0.0, 1.0]


@pytest.mark.parametrize("args", [["diff", "relu(x)", "--at", "0"], ["diff", "relu(x)", "--at", "0", "--mode", "forward"],
                                  ["diff", "relu(x)", "--at", "0", "--order", "2"],
                                  ["grad", "max(x, y)", "--at", "x=1,y=1"], ["check", "abs(x)", "--at", "x=0"],
                                  ["hessian", "relu(x) + y", "--at", "x=0,y=2"],
                                  ["jacobian", "[relu(x), sign(x)]", "--at", "x=0"]])
def test_nonsmooth_convention_cli(cli, args):
    code, out, err = cli(*args, "--format", "json")
    assert code == 1
    body = json.loads(out or err)
    assert body["error"]["kind"] == "not-differentiable"
    assert "nan" not in (out + err).lower()


def test_relu_diff_examples(cli):
    code, out, _ = cli("diff", "relu(x)", "--at", "2", "--format", "json")
    assert code == 0 and json.loads(out)["derivative"] == 1.0
    code, out, _ = cli("diff", "relu(x)", "--at", "2", "--format", "plain")
    assert "1[x > 0]" in out                       # the local derivative as a teacher writes it
    code, out, _ = cli("diff", "relu(x)^2", "--format", "json")
    d = json.loads(out)["derivative_expression"]
    for x in (-1.5, 0.5, 3.0):
        assert eval_expr(d, f"x={x}").value == pytest.approx(2 * max(x, 0))


# --------------------------------------------------------------------------- Unicode from notes

@pytest.mark.parametrize("pasted,ascii_", [("x²", "x^2"), ("x³ + 2x²", "x^3 + 2x^2"), ("x⁻¹", "x^-1"),
                                            ("2·x", "2*x"), ("2 × x", "2*x"), ("x ⋅ y", "x*y"),
                                            ("x − 1", "x - 1"), ("−x", "-x"), ("√x", "sqrt(x)"),
                                            ("√(x + 1)", "sqrt(x + 1)"), ("2√x", "2 sqrt(x)"),
                                            ("x¹⁰", "x^10"), ("√x · y²", "sqrt(x)*y^2")])
def test_unicode_spellings(pasted, ascii_):
    assert parse_expr(pasted) is parse_expr(ascii_)


def test_unicode_transpose():
    assert parse_expr("xᵀ A x") is parse_expr("x^T A x")


@pytest.mark.parametrize("pasted,hint", [("x ÷ 2", "/"), ("xⁿ", "x^n"), ("∑x", "sum(x)"), ("x ∘ y", ".*"),
                                         ("½ x", "1/2")])
def test_unicode_not_read_shows_ascii(pasted, hint):
    with pytest.raises(ParseError) as e:
        parse_expr(pasted)
    assert hint in e.value.message


def test_new_function_names_and_arity():
    with pytest.raises(ParseError, match="takes two arguments"):
        parse_expr("atan2(x)")
    with pytest.raises(ParseError, match="is a function"):
        parse_expr("relu + 1")


# --------------------------------------------------------------------------- reductions and maps

def _softmax(z):
    e = np.exp(z - z.max())
    return e / e.sum()


def _lse(z):
    m = z.max()
    return m + np.log(np.exp(z - m).sum())


def vec(a) -> str:
    a = np.asarray(a, dtype=float)
    if a.ndim == 1:
        return "[" + ", ".join(repr(float(x)) for x in a) + "]"
    return "[" + ", ".join(vec(r) for r in a) + "]"


def num_grad(text, z, name="z", h=1e-6):
    g = np.zeros_like(z)
    for k in range(z.size):
        e = np.zeros_like(z)
        e.flat[k] = h
        g.flat[k] = (eval_expr(text, f"{name}={vec(z + e)}").value - eval_expr(text, f"{name}={vec(z - e)}").value) / (2 * h)
    return g


Z = np.array([0.3, -1.2, 2.5, 0.9])
REDUCTIONS = [
    ("mean(z)", np.mean, lambda z: np.full(z.size, 1 / z.size)),
    ("max(z)", np.max, lambda z: (z == z.max()) * 1.0),
    ("min(z)", np.min, lambda z: (z == z.min()) * 1.0),
    ("logsumexp(z)", _lse, _softmax),
    ("sum(softmax(z) .* [1, 2, 3, 4])", lambda z: _softmax(z) @ np.arange(1, 5),
     lambda z: _softmax(z) * (np.arange(1, 5) - _softmax(z) @ np.arange(1, 5))),
    ("sum(log_softmax(z) .* [1, 0, 2, 0])", lambda z: (z - _lse(z)) @ np.array([1, 0, 2, 0]),
     lambda z: np.array([1, 0, 2, 0]) - 3 * _softmax(z)),
    ("sum(outer(z, [1, 2]) .* [[1, 0], [0, 1], [2, 2], [1, 1]])", None, None),
    ("sum(diag(z) .* [[1, 2, 3, 4], [5, 6, 7, 8], [1, 1, 1, 1], [2, 2, 2, 2]])",
     lambda z: z @ np.array([1, 6, 1, 2]), lambda z: np.array([1.0, 6, 1, 2])),
]


@pytest.mark.parametrize("text,value,grad", REDUCTIONS, ids=[r[0] for r in REDUCTIONS])
def test_reductions_against_numpy_and_central_differences(text, value, grad):
    at = f"z={vec(Z)}"
    v = eval_expr(text, at).value
    if value is not None:
        assert v == pytest.approx(float(value(Z)), rel=1e-12)
    rev = np.array(grad_at(text, at).gradient)
    fwd = np.array(jacobian_at(text, at, mode="forward").jacobian[0])
    assert np.allclose(rev, fwd, rtol=1e-12, atol=1e-14)
    if grad is not None:
        assert np.allclose(rev, grad(Z), rtol=1e-10, atol=1e-12)
    assert np.allclose(rev, num_grad(text, Z), rtol=1e-6, atol=1e-7)
    H = np.array(hessian_at(text, at).hessian)    # forward over reverse through the array rules
    Hn = np.array([num_grad_grad(text, Z, k) for k in range(Z.size)])
    assert np.allclose(H, Hn, rtol=1e-5, atol=1e-5)


def num_grad_grad(text, z, k, h=1e-5):
    e = np.zeros_like(z)
    e[k] = h
    return (np.array(grad_at(text, f"z={vec(z + e)}").gradient) - np.array(grad_at(text, f"z={vec(z - e)}").gradient)) / (2 * h)


def test_maps_against_numpy():
    at = f"z={vec(Z)}"
    assert np.allclose(eval_expr("softmax(z)", at).value, _softmax(Z), rtol=1e-14)
    assert np.allclose(eval_expr("log_softmax(z)", at).value, Z - _lse(Z), rtol=1e-14)
    assert np.allclose(eval_expr("outer(z, [1, 2])", at).value, np.outer(Z, [1, 2]))
    assert np.allclose(eval_expr("diag(z)", at).value, np.diag(Z))
    assert np.allclose(eval_expr("ones(3)", None).value, np.ones(3))
    assert np.allclose(eval_expr("zeros(2) + z[1]", at).value, np.full(2, Z[0]))
    J = np.array(jacobian_at("softmax(z)", at).jacobian)
    s = _softmax(Z)
    assert np.allclose(J, np.diag(s) - np.outer(s, s), rtol=1e-12, atol=1e-15)
    J = np.array(jacobian_at("softmax(z)", at, mode="reverse").jacobian)
    assert np.allclose(J, np.diag(s) - np.outer(s, s), rtol=1e-12, atol=1e-15)


def test_issue_examples():
    g = grad_at("logsumexp(z) - z[2]", "z=[1,2,3]").gradient
    s = _softmax(np.array([1.0, 2, 3]))
    assert np.allclose(g, s - np.array([0, 1, 0]))
    assert [round(v, 3) for v in g] == [0.090, -0.755, 0.665]
    X, y = np.array([[1.0, 2], [3, 4], [5, 6]]), np.array([1.0, 2, 3])
    g = grad_at("mean((X w - y).^2)", "w=[0,0]", "X=[[1,2],[3,4],[5,6]],y=[1,2,3]").gradient
    assert np.allclose(g, 2 / 3 * X.T @ (X @ np.zeros(2) - y))
    W = np.array([[0.1, 0.2], [0.3, 0.4], [0.5, 0.6]])
    x, y = np.array([1.0, 2]), np.array([0.0, 1, 0])
    g = grad_at("-sum(y .* log(softmax(W x + b)))", "W=[[0.1,0.2],[0.3,0.4],[0.5,0.6]],b=[0,0,0]",
                "x=[1,2],y=[0,1,0]").gradient
    d = _softmax(W @ x) - y
    assert np.allclose(g, np.concatenate([np.outer(d, x).ravel(), d]))


def test_two_layer_network_gradient_both_weight_matrices():
    rng = np.random.default_rng(7)
    W1, W2, x = rng.normal(size=(3, 2)), rng.normal(size=(2, 3)), np.array([0.5, -1.0])
    text = "-sum(y .* log_softmax(W2 relu(W1 x)))"
    let = f"x={vec(x)},y=[0,1]"
    g = np.array(grad_at(text, f"W1={vec(W1)},W2={vec(W2)}", let).gradient)
    h = W1 @ x
    a = np.maximum(h, 0)
    d2 = _softmax(W2 @ a) - np.array([0, 1])
    gW2 = np.outer(d2, a)
    gW1 = np.outer((W2.T @ d2) * (h > 0), x)
    assert np.allclose(g, np.concatenate([gW2.ravel(), gW1.ravel()]))   # W2 is named first


def test_stability_reductions():
    assert eval_expr("logsumexp([1000, 1000])", None).value == pytest.approx(1000 + math.log(2), rel=1e-15)
    assert eval_expr("logsumexp([-1000, -1000])", None).value == pytest.approx(-1000 + math.log(2), rel=1e-15)
    for z in ("[1000, 1000, -1000]", "[-1000, -1000, 1000]", "[1000, 999]"):
        s = np.asarray(eval_expr("softmax(z)", f"z={z}").value)
        assert np.all(np.isfinite(s)) and s.sum() == pytest.approx(1.0)
        assert np.all(np.isfinite(eval_expr("log_softmax(z)", f"z={z}").value))
        J = np.array(jacobian_at("softmax(z)", f"z={z}").jacobian)
        assert np.all(np.isfinite(J))
        g = np.array(grad_at("logsumexp(z)", f"z={z}").gradient)
        assert np.allclose(g, s)
    assert eval_expr("log_softmax(z)", "z=[1000, 1000]").value.tolist() == [-math.log(2)] * 2


def test_vector_max_tie_is_not_differentiable():
    with pytest.raises(NotDifferentiable):
        grad_at("max(z)", "z=[1, 3, 3]")
    assert eval_expr("max(z)", "z=[1, 3, 3]").value == 3.0


def test_shape_messages():
    with pytest.raises(ShapeError, match="softmax"):
        eval_expr("softmax(A)", "A=[[1,2],[3,4]]")
    with pytest.raises(ShapeError, match="outer"):
        eval_expr("outer(A, z)", "A=[[1,2],[3,4]], z=[1,2]")
    with pytest.raises(ParseError, match="whole number"):
        parse_expr("ones(n)")


def test_softmax_steps_teacher_text(cli):
    code, out, _ = cli("grad", "sum(softmax(z) .* [1, 2, 3])", "--at", "z=[1,2,3]", "--steps", "--format", "plain")
    assert code == 0 and "diag(" in out and "ᵀ" in out


# --------------------------------------------------------------------------- fit with vector parameters

IRIS = "examples/iris2.csv"
FEATURES = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
NLL = "-(y log(yhat) + (1-y) log(1-yhat))"


def _iris(cols):
    import csv
    from conftest import ROOT
    with open(ROOT / IRIS) as f:
        rows = list(csv.DictReader(f))
    return np.array([[float(r[c]) for c in cols] for r in rows]), np.array([float(r["y"]) for r in rows])


def test_iris2_is_the_two_class_iris_subset():
    X, y = _iris(FEATURES)
    assert X.shape == (100, 4) and sorted(set(y)) == [0.0, 1.0] and y.sum() == 50
    try:
        from sklearn.datasets import load_iris
    except ImportError:  # pragma: no cover - sklearn is an optional oracle
        return
    d = load_iris()
    keep = d.target >= 1
    assert np.allclose(X, d.data[keep]) and np.array_equal(y, d.target[keep] - 1)


def _fit(path, features, mode="batch", order="fixed", epochs=5, lr=0.05, batch_size=10, seed=3, init=None,
         compare=False):
    from calccli.commands.fit import fit_model
    return fit_model("sigmoid(w^T x + b)", str(path), "y", mode, batch_size, order, epochs, lr, seed, init,
                     NLL, compare, features)


def _json(result) -> dict:
    from calccli.render import render_text
    return json.loads(render_text(result, "json"))


def _sgd_oracle(X, y, mode, order, epochs, lr, batch_size, seed):
    """Plain numpy gradient descent on the logistic loss, visiting samples in the
    order calc's sampler draws them (the gradient math is independent of calc)."""
    import random
    from calccli.commands.fit import _epoch_order
    n = len(y)
    rng = random.Random(seed)
    w, b = np.zeros(X.shape[1]), 0.0
    for _ in range(epochs):
        idx = _epoch_order(n, order, rng)
        groups = ([idx] if mode == "batch" else [[i] for i in idx] if mode == "online"
                  else [idx[k:k + batch_size] for k in range(0, n, batch_size)])
        for grp in groups:
            r = 1 / (1 + np.exp(-(X[grp] @ w + b))) - y[grp]
            w, b = w - lr / len(grp) * (X[grp].T @ r), b - lr / len(grp) * r.sum()
    return w, b


@pytest.mark.parametrize("mode,order", [("batch", "fixed"), ("online", "fixed"), ("online", "shuffle"),
                                        ("online", "sample"), ("minibatch", "fixed"), ("minibatch", "shuffle"),
                                        ("minibatch", "sample"), ("batch", "shuffle")])
def test_fit_vector_parameters_every_mode_step_by_step(mode, order):
    """The issue's command: w's length (4) comes from the feature list; every
    update equals the numpy oracle's."""
    from conftest import ROOT
    X, y = _iris(FEATURES)
    r = _fit(ROOT / IRIS, [f"x={','.join(FEATURES)}"], mode, order, epochs=3, lr=0.01)
    w, b = _sgd_oracle(X, y, mode, order, 3, 0.01, 10, 3)
    got_w, got_b = r.run.theta
    assert got_w.shape == (4,)
    assert np.allclose(got_w, w, rtol=1e-10, atol=1e-12) and got_b == pytest.approx(b, rel=1e-10, abs=1e-12)
    assert r.run.initial_loss == pytest.approx(math.log(2))
    if mode == "batch":   # (online over the file's order ends on a block of one class: J may rise)
        assert r.run.loss < r.run.initial_loss
    j = _json(r)
    assert list(j["params"]) == ["w[1]", "w[2]", "w[3]", "w[4]", "b"]


def _mle(Z, y):
    """The maximum-likelihood logistic regression (no penalty), by scipy or by Newton's method."""
    A = np.column_stack([Z, np.ones(len(y))])
    try:
        from scipy.optimize import minimize

        def nll(t):
            z = A @ t
            return np.mean(np.logaddexp(0, z) - y * z)
        t = minimize(nll, np.zeros(A.shape[1]), method="BFGS", options={"gtol": 1e-12}).x
    except ImportError:  # pragma: no cover
        t = np.zeros(A.shape[1])
        for _ in range(50):
            p = 1 / (1 + np.exp(-A @ t))
            t -= np.linalg.solve(A.T @ (A * (p * (1 - p))[:, None]), A.T @ (p - y))
    z = A @ t
    return t, float(np.mean(np.logaddexp(0, z) - y * z))


@pytest.fixture(scope="module")
def sepal_std(tmp_path_factory):
    """The sepal measurements, standardised (a well-conditioned maximum-likelihood problem)."""
    X, y = _iris(["sepal_length", "sepal_width"])
    Z = (X - X.mean(0)) / X.std(0)
    path = tmp_path_factory.mktemp("iris") / "sepal.csv"
    path.write_text("f1,f2,y\n" + "".join(f"{float(a)!r},{float(c)!r},{int(t)}\n" for (a, c), t in zip(Z, y)))
    return path, Z, y


@pytest.mark.parametrize("mode,order,lr,epochs,tol_j,tol_t", [
    ("batch", "fixed", 2.0, 100, 1e-10, 1e-5),
    ("minibatch", "shuffle", 0.1, 60, 2e-3, 0.1),
    ("minibatch", "sample", 0.1, 60, 3e-3, 0.15),
    ("online", "shuffle", 0.01, 40, 2e-3, 0.1),
    ("online", "sample", 0.01, 40, 3e-3, 0.15),
])
def test_fit_converges_to_maximum_likelihood(sepal_std, mode, order, lr, epochs, tol_j, tol_t):
    path, Z, y = sepal_std
    theta, J = _mle(Z, y)
    r = _fit(path, ["x=f1,f2"], mode, order, epochs=epochs, lr=lr, seed=11)
    w, b = r.run.theta
    assert r.run.loss == pytest.approx(J, abs=tol_j)
    assert np.allclose(np.append(w, b), theta, atol=tol_t)


def test_fit_compare_with_vector_parameters(sepal_std):
    path, Z, y = sepal_std
    theta, J = _mle(Z, y)
    r = _fit(path, ["x=f1,f2"], epochs=30, lr=0.5, compare=True, order="shuffle", seed=5)
    assert [x.mode for x in r.runs] == ["batch", "online", "minibatch"]
    assert all(x.loss < math.log(2) for x in r.runs)
    assert r.best().loss == pytest.approx(J, abs=0.01)
    j = _json(r)
    assert set(j["runs"]["online"]["params"]) == {"w[1]", "w[2]", "b"}


def test_fit_features_cli_and_messages(cli, tmp_path):
    from conftest import ROOT
    code, out, _ = cli("fit", "sigmoid(w^T x + b)", "--data", str(ROOT / IRIS), "--target", "y",
                       "--features", "x=" + ",".join(FEATURES), "--loss", NLL, "--epochs", "2", "--format", "json")
    assert code == 0
    j = json.loads(out)
    assert len(j["params"]) == 5 and j["loss"] < j["initial_loss"]
    code, out, _ = cli("fit", "sigmoid(w^T x + b)", "--data", str(ROOT / IRIS), "--target", "y",
                       "--features", "x=" + ",".join(FEATURES), "--loss", NLL, "--epochs", "2",
                       "--init", "w=[0.1,0,0,0]", "--format", "plain")
    assert code == 0 and "w[1]" in out and "a vector of length 4" in out
    for feats, msg in [("x=sepal_length,nope", "no column 'nope'"), ("sepal_length=petal_width", "already a column"),
                       ("x", "NAME=COL"), ("x=y", "target column")]:
        code, out, err = cli("fit", "sigmoid(w^T x + b)", "--data", str(ROOT / IRIS), "--target", "y",
                             "--features", feats, "--loss", NLL, "--epochs", "1", "--format", "json")
        assert code == 2 and msg in json.loads(out or err)["error"]["message"], (feats, out, err)
    code, out, err = cli("fit", "sigmoid(w^T x + b)", "--data", str(ROOT / IRIS), "--target", "y",
                         "--features", "x=sepal_length,sepal_width", "--init", "w=[0,0,0]", "--loss", NLL,
                         "--format", "json")
    assert code == 2 and "w^T x" in json.loads(out or err)["error"]["message"]


@pytest.mark.parametrize("text,at", [("erf(x) log1p(x) + expm1(x) log2(x) + log10(x)", "x=0.7"),
                                     ("leaky_relu(x, a) + atan2(x, a) + max(x, a)^2", "x=0.3,a=-0.4"),
                                     ("max(x, a) min(x, 2a) + sign(x) + relu(x)^3 + x² · √x", "x=0.3,a=-0.4")])
def test_check_command_agrees(cli, text, at):
    """calc check: forward, reverse, symbolic and central differences agree on the new primitives."""
    code, out, err = cli("check", text, "--at", at, "--format", "json")
    assert code == 0, out + err


def test_fit_features_in_the_repl(cli):
    from conftest import ROOT
    line = (f"fit sigmoid(w^T x + b) data {ROOT / IRIS} target y features x=petal_length,petal_width "
            f"epochs 1 loss {NLL}\n")
    code, out, err = cli("repl", input=line)
    assert code == 0 and "w[2] = " in out, out + err
