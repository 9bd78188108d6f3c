"""The Python API (``import calccli as calc``): the CLI's commands as functions.

Results are checked against the CLI's JSON (the same command functions), sympy
and numpy; bindings as dicts of numbers, lists and numpy arrays; errors are
the CLI's types with its messages and carets.
"""
import json
import math
import subprocess
import sys

import numpy as np
import pytest
import sympy as sp

import calccli as calc
from conftest import ROOT, SEED


def cli_json(cli, *args):
    code, out, _ = cli(*args, "--format", "json")
    return code, json.loads(out)


def cli_error(cli, *args):
    """The CLI's error text on stderr, without the leading 'error: '."""
    code, _, err = cli(*args, "--format", "plain")
    assert err.startswith("error: "), err
    return code, err[len("error: "):].rstrip("\n")


# ---------------------------------------------------------------- the seed example

def test_seed_example_to_the_last_digit():
    r = calc.diff(SEED, at={"x": 1.0})
    assert r.value == 1.0900122119747424
    assert r.derivative == 5.983082595908695
    x = sp.Symbol("x")
    f = sp.sqrt(x**2 + sp.exp(x**2)) + sp.cos(x**2 + sp.exp(x**2))
    assert math.isclose(r.value, float(f.subs(x, 1).evalf(30)), rel_tol=1e-15)
    assert math.isclose(r.derivative, float(sp.diff(f, x).subs(x, 1).evalf(30)), rel_tol=1e-14)
    assert [t.name for t in r.trace] == list("abcdef")
    assert [t.definition for t in r.trace] == ["x^2", "exp(a)", "a + b", "sqrt(c)", "cos(c)", "d + e"]
    assert r.trace[1].value == math.exp(1.0)
    assert r.steps[-1].value == r.derivative and r.steps[0].target.startswith("∂f/∂")
    assert isinstance(r.steps[0].formula, str) and r.variable == "x" and r.point == {"x": 1.0}


@pytest.mark.parametrize("at", [{"x": 1.0}, {"x": 1}, 1.0, "1.0", "x=1", ["x=1"], {"x": "2/2"},
                                {"x": np.float64(1.0)}, {"x": np.array(1.0)}])
def test_every_spelling_of_the_point_gives_the_same_result(at):
    r = calc.diff(SEED, at=at)
    assert (r.value, r.derivative) == (1.0900122119747424, 5.983082595908695)


def test_forward_mode_and_higher_orders():
    fwd = calc.diff(SEED, at={"x": 1.0}, mode="forward")
    assert math.isclose(fwd.derivative, 5.983082595908695, rel_tol=1e-15)
    r2 = calc.diff("x^2 sin(x)", at={"x": 0.5}, order=2)
    x = sp.Symbol("x")
    assert math.isclose(r2.derivative, float(sp.diff(x**2 * sp.sin(x), x, 2).subs(x, 0.5)), rel_tol=1e-12)


def test_the_scalar_path_imports_no_numpy_and_import_calccli_is_cheap():
    code = ("import sys, calccli\n"
            "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('calccli', 'numpy', 'lark', 'rich'))\n"
            "print(loaded)\n"
            "r = calccli.diff('sqrt(x^2+exp(x^2))+cos(x^2+exp(x^2))', at={'x': 1.0})\n"
            "print(r.derivative, 'numpy' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    first, second = out.stdout.splitlines()
    assert first == "['calccli']"
    assert second == "5.983082595908695 False"


# ---------------------------------------------------------------- API = CLI

@pytest.mark.parametrize("fn, kw, args", [
    ("diff", {"at": {"x": 1.0}}, ["diff", SEED, "--at", "1.0"]),
    ("diff", {"at": {"x": 1, "y": 2}, "wrt": "y", "mode": "forward"},
     ["diff", "x^2 y + sin(x y)", "--at", "x=1,y=2", "--wrt", "y", "--mode", "forward"]),
    ("diff", {"at": {"x": 0.7}, "order": 3}, ["diff", "exp(sin(x))", "--at", "x=0.7", "--order", "3"]),
    ("value", {"at": {"x": [1, 2]}, "let": {"A": [[1, 2], [3, 4]]}},
     ["eval", "A x", "--at", "x=[1,2]", "--let", "A=[[1,2],[3,4]]"]),
    ("grad", {"at": {"x": 1, "y": 2}}, ["grad", "x^2 y + sin(x y)", "--at", "x=1,y=2"]),
    ("grad", {"at": {"x": [1, 2]}, "let": {"A": np.array([[1, 2], [3, 4]])}, "steps": True},
     ["grad", "x^T A x", "--at", "x=[1,2]", "--let", "A=[[1,2],[3,4]]", "--steps"]),
    ("jacobian", {"at": {"x": 1, "y": 2}}, ["jacobian", "[x y, x + y, sin(x)]", "--at", "x=1,y=2"]),
    ("hessian", {"at": {"x": 1, "y": 1}}, ["hessian", "(1-x)^2 + 100(y-x^2)^2", "--at", "x=1,y=1"]),
    ("minimize", {"start": {"x": -1.2, "y": 1}}, ["minimize", "(1-x)^2 + 100(y-x^2)^2", "--from", "x=-1.2,y=1"]),
    ("check", {"at": {"x": 1.5}}, ["check", "x^x", "--at", "1.5"]),
    ("derivative", {}, ["diff", "x^2 sin(x)"]),
    ("grad", {}, ["grad", "x^2 y"]),
])
def test_api_results_equal_the_cli_json(cli, fn, kw, args):
    r = getattr(calc, fn)(args[1], **kw)
    _, expected = cli_json(cli, *args)
    assert r.to_json() == expected
    for key in ("value", "derivative", "minimum"):
        if key in expected and isinstance(expected[key], float):
            assert getattr(r, key) == expected[key]


def test_fit_equals_the_cli(cli):
    data = str(ROOT / "examples" / "line.csv")
    r = calc.fit("w*x + b", data, "y", epochs=20, lr=0.1, init={"w": 0, "b": 0})
    _, expected = cli_json(cli, "fit", "w*x + b", "--data", data, "--target", "y", "--epochs", "20",
                           "--lr", "0.1", "--init", "w=0,b=0")
    assert r.to_json() == expected
    assert r.params == expected["params"] and r.loss == expected["loss"] and r.history == expected["history"]


def test_eval_is_value():
    assert calc.eval is calc.value
    assert "eval" not in calc.__all__ and "eval" in dir(calc)   # import * keeps the builtin
    assert calc.eval("x^2 + 1", at={"x": 3}).value == 10.0
    v = calc.value("A x", at={"x": [1, 1]}, let={"A": [[1, 2], [3, 4]]}).value
    assert isinstance(v, np.ndarray) and v.tolist() == [3.0, 7.0]


def test_symbolic_derivative_text_node_and_result():
    d = calc.derivative("x^2 sin(x)")
    assert d.text == "2x sin(x) + x^2 cos(x)"
    assert type(d.derivative).__name__ == "Node"
    x = sp.Symbol("x")
    for x0 in (-1.3, 0.3, 2.0):   # the text reads back, and is the derivative
        back = calc.value(d.text, at={"x": x0}).value
        assert math.isclose(back, float(sp.diff(x**2 * sp.sin(x), x).subs(x, x0)), rel_tol=1e-14)
    assert calc.diff("x^2 sin(x)").text == d.text     # diff without a point is the same
    assert calc.derivative("x^2 y", "y").text == "x^2"


# ---------------------------------------------------------------- numpy shapes and bindings

A = np.array([[1.0, 2.0], [3.0, 4.0]])


@pytest.mark.parametrize("x, A_", [([1, 2], A), (np.array([1, 2]), A.tolist()), ((1.0, 2.0), "[[1,2],[3,4]]"),
                                   ("[1, 2]", ((1, 2), (3, 4)))])
def test_grad_of_a_quadratic_form_with_any_spelling_of_the_values(x, A_):
    g = calc.grad("x^T A x", at={"x": x}, let={"A": A_})
    xv = np.array([1.0, 2.0])
    assert isinstance(g.gradient, np.ndarray) and g.gradient.shape == (2,)
    np.testing.assert_allclose(g.gradient, (A + A.T) @ xv, rtol=1e-15)
    assert g.value == xv @ A @ xv


def test_a_matrix_variable_gets_its_gradient_in_its_shape():
    x = np.array([1.0, 2.0])
    g = calc.grad("x^T A x", at={"A": A}, let={"x": x})
    assert g.gradient.shape == (2, 2)
    np.testing.assert_allclose(g.gradient, np.outer(x, x))
    assert g.variables == ["A[1,1]", "A[1,2]", "A[2,1]", "A[2,2]"]


def test_several_scalar_variables_give_a_vector_following_variables():
    g = calc.grad("x^2 y + sin(x y)", at={"x": 1, "y": 2})
    assert g.variables == ["x", "y"]
    np.testing.assert_allclose(g.gradient, [2 * 1 * 2 + 2 * math.cos(2), 1 + 1 * math.cos(2)], rtol=1e-15)


def test_hessian_jacobian_arrays_against_numpy():
    h = calc.hessian("(1-x)^2 + 100(y-x^2)^2", at={"x": 1, "y": 1})
    np.testing.assert_allclose(h.hessian, [[802, -400], [-400, 200]])
    np.testing.assert_allclose(h.eigenvalues, np.linalg.eigvalsh([[802, -400], [-400, 200]]), rtol=1e-12)
    assert h.classification == "minimum" and h.gradient.tolist() == [0.0, 0.0]
    j = calc.jacobian("[x y, x + y, sin(x)]", at={"x": 1, "y": 2})
    np.testing.assert_allclose(j.jacobian, [[2, 1], [1, 1], [math.cos(1), 0]], rtol=1e-15)
    assert j.value.shape == (3,) and j.mode == "forward" and j.passes == 2
    jm = calc.jacobian("A x", at={"x": [1, 2]}, let={"A": A}, mode="reverse")
    np.testing.assert_allclose(jm.jacobian, A)


def test_minimize_returns_the_argmin():
    m = calc.minimize("(1-x)^2 + 100(y-x^2)^2", start={"x": -1.2, "y": 1})
    assert m.converged and set(m.argmin) == {"x", "y"}
    assert abs(m.argmin["x"] - 1) < 1e-6 and abs(m.argmin["y"] - 1) < 1e-6 and m.minimum < 1e-12


def test_the_bindings_are_copied_not_shared():
    x = np.array([1.0, 2.0])
    g = calc.grad("x^T x", at={"x": x})
    x[0] = 100.0
    assert g.point["x"].tolist() == [1.0, 2.0] and g.gradient.tolist() == [2.0, 4.0]


@pytest.mark.parametrize("at, message", [
    ({"x": True}, "--at x: True is not a real number"),
    ({"x": 1j}, "--at x: 1j is not a real number"),
    ({"x": float("inf")}, "--at x: inf is not a finite number"),
    ({"x": [1, float("nan")]}, "--at x: the values must be finite numbers"),
    ({"x": [[1, 2], [3]]}, "--at x: not a vector or matrix of real numbers (rows of equal length, numbers only)"),
    ({"x": np.zeros((2, 2, 2))}, "--at x: calc has vectors and matrices; this array has 3 dimensions"),
    ({"x": []}, "--at x: an empty array has no value"),
    ({"x": {"a": 1}}, "--at x: expected a number, a list or a numpy array, got dict"),
    ({"2x": 1.0}, "--at expects variable names, got '2x'"),
])
def test_bad_values_are_usage_errors(at, message):
    with pytest.raises(calc.UsageError) as e:
        calc.value("x + 1", at=at)
    assert e.value.message == message and e.value.exit_code == 2


# ---------------------------------------------------------------- errors: the CLI's, with carets

@pytest.mark.parametrize("call, args, kind", [
    (lambda: calc.diff("x^^2", at=1.0), ["diff", "x^^2", "--at", "1.0"], "ParseError"),
    (lambda: calc.diff("x^2", at={"x": "pi/"}), ["diff", "x^2", "--at", "x=pi/"], "ParseError"),
    (lambda: calc.grad("x^T A x", at={"x": [1, 2, 3]}, let={"A": A}),
     ["grad", "x^T A x", "--at", "x=[1,2,3]", "--let", "A=[[1,2],[3,4]]"], "ShapeError"),
    (lambda: calc.diff("log(x)", at={"x": 0}), ["diff", "log(x)", "--at", "x=0"], "DomainError"),
    (lambda: calc.diff("x y", at={"x": 1}), ["diff", "x y", "--at", "x=1"], "UsageError"),
    (lambda: calc.diff("x^2", at={"x": 1}, mode="sideways"), ["diff", "x^2", "--at", "x=1", "--mode", "sideways"],
     "UsageError"),
])
def test_errors_are_the_cli_errors_with_the_same_message_and_caret(cli, call, args, kind):
    with pytest.raises(calc.CalcError) as e:
        call()
    code, text = cli_error(cli, *args)
    assert type(e.value).__name__ == kind and isinstance(e.value, getattr(calc, kind))
    assert str(e.value) == text and e.value.exit_code == code
    assert e.value.message == text.split("\n")[0]


def test_a_caret_points_into_the_expression():
    with pytest.raises(calc.ParseError) as e:
        calc.diff("sin(x", at=1)
    assert e.value.column is not None and e.value.source == "sin(x"
    assert str(e.value).splitlines()[1:] == e.value.caret_lines() and "^" in str(e.value)


def test_no_internal_traceback_escapes():
    with pytest.raises(calc.UsageError, match="the expression must be a string"):
        calc.diff(3.0, at=1)
    with pytest.raises(calc.UsageError, match="unknown format"):
        calc.diff("x", at=1).to_text("pdf")


# ---------------------------------------------------------------- the package surface

def test_every_public_function_is_documented_and_listed():
    for name in calc.__all__:
        obj = getattr(calc, name)
        if callable(obj) and not isinstance(obj, type) or name == "Result":
            assert obj.__doc__ and len(obj.__doc__.split()) > 8, name
    assert {"diff", "grad", "hessian", "jacobian", "minimize", "fit", "eval", "value", "check", "derivative",
            "graph", "CalcError", "ParseError", "ShapeError", "UsageError", "DomainError"} <= set(dir(calc))
    with pytest.raises(AttributeError):
        calc.no_such_function  # noqa: B018


def test_text_formats_are_the_cli_output(cli):
    r = calc.diff(SEED, at={"x": 1.0})
    _, out, _ = cli("diff", SEED, "--at", "1.0", "--format", "plain")
    assert r.to_text("plain") == out
    _, tex, _ = cli("diff", SEED, "--at", "1.0", "--format", "latex")
    assert r.to_text("latex") == tex
    assert repr(r) == "<calc DiffResult: f(1) = 1.0900122119747424, f'(1) = 5.983082595908695>"


def test_results_pickle_and_copy_with_their_trace():
    """A result crosses process boundaries (multiprocessing, caches): diff's trace and steps,
    made on demand, are made when it is pickled or deep-copied."""
    import copy
    import pickle
    r = calc.diff("sin(x)*x", at="x=1.3")
    for back in (pickle.loads(pickle.dumps(r)), copy.deepcopy(r)):
        assert back.derivative == r.derivative and back.trace == r.trace and back.steps == r.steps
        assert back.to_json() == r.to_json()
    g = calc.grad("x*y", at="x=1,y=2")
    assert list(pickle.loads(pickle.dumps(g)).gradient) == [2.0, 1.0]
