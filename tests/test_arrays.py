"""Vectors and matrices: shapes checked before evaluation (in words, with a
caret), what * means between arrays, the array primitives' rules in every mode
(forward == reverse == dual numbers == central differences), domain errors
named by row, and the scalar path staying numpy-free."""
import subprocess
import sys

import numpy as np
import pytest

from calccli.engine.arrays import ARRAY, infer_shapes, snippet
from calccli.errors import DomainError, NotDifferentiable, OverflowErr, ShapeError
from calccli.engine.evaluate import evaluate, ops_for, is_scalar_problem
from calccli.engine.forward import forward
from calccli.engine.objective import Objective
from calccli.engine.ops import FLOAT
from calccli.language.parse import parse
from calccli.language.points import constant_value
from calccli.engine.primitives import PRIMS
from calccli.engine.reverse import reverse
from calccli.engine.tape import build_tape

A = np.array([[1.0, 2.0], [3.0, 4.0]])
ENV = {"A": A, "B": np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]), "x": np.array([1.0, 2.0]),
       "y": np.array([1.0, 2.0, 3.0]), "s": 2.0}


def value(text, env=ENV):
    tape = build_tape(parse(text).node)
    return evaluate(tape, env, ops_for(tape, env))[-1]


def shape_error(text, env=ENV) -> ShapeError:
    with pytest.raises(ShapeError) as e:
        value(text, env)
    return e.value


def caret(err) -> str:
    """The underlined part of the input."""
    return err.source[err.pos:err.end]


# --------------------------------------------------------------------------- values and shapes

def test_literals_transpose_and_products():
    assert np.array_equal(value("[1, 2, 3]"), [1, 2, 3])
    assert np.array_equal(value("[[1, 2], [3, 4]]"), A)
    assert np.array_equal(value("x^T"), [[1, 2]])                 # a row: 1×n
    assert np.array_equal(value("(x^T)^T"), [1, 2])               # back to a column
    assert np.array_equal(value("transpose(A)"), A.T)
    assert value("x^T A x") == 27 and isinstance(value("x^T A x"), float)   # row·column: a scalar
    assert value("x^T x") == 5
    assert np.array_equal(value("A x"), [5, 11])
    assert np.array_equal(value("A*x"), [5, 11])
    assert np.array_equal(value("x^T A"), [[7, 10]])
    assert np.array_equal(value("x x^T"), [[1, 2], [2, 4]])       # column·row: outer product
    assert np.array_equal(value("A A"), A @ A)
    assert np.array_equal(value("B A"), ENV["B"] @ A)


def test_elementwise_functions_and_broadcasting_with_scalars():
    assert np.allclose(value("exp(x)"), np.exp([1, 2]))
    assert np.allclose(value("sigmoid([-800, 0, 800])"), [0, 0.5, 1])
    assert np.allclose(value("softplus([-800, 0, 800])"), [0, np.log(2), 800])
    assert np.array_equal(value("x^2"), [1, 4])
    assert np.array_equal(value("2^x"), [2, 4])
    assert np.array_equal(value("s x + 1"), [3, 5])
    assert np.array_equal(value("x / s"), [0.5, 1])
    assert np.array_equal(value("1 - x"), [0, -1])
    assert np.array_equal(value("-A"), -A)
    assert np.array_equal(value("x + x"), [2, 4])


def test_array_functions():
    assert value("dot(x, [3, 4])") == 11
    assert value("dot(x^T, x)") == 5
    assert value("norm([3, 4])") == 5
    assert np.isclose(value("norm(A)"), np.sqrt(30))             # Frobenius
    assert value("sum(A)") == 10 and value("sum(x)") == 3
    assert value("trace(A)") == 5
    assert np.isclose(value("det(A)"), -2)
    assert np.allclose(value("inv(A)"), np.linalg.inv(A))
    assert np.allclose(value("inv(A) A"), np.eye(2))


def test_indexing_is_one_based():
    assert value("x[2]") == 2 and value("y[3]") == 3
    assert value("A[2, 1]") == 3
    assert np.array_equal(value("A[2]"), [3, 4])                 # a row, as a vector
    assert value("x^T[2]") == 2                                   # an entry of a row vector
    assert value("[[x[1], 5], [6, 7]][1, 2]") == 5


def test_bindings_give_arrays():
    assert np.array_equal(constant_value("[[1, 2], [3, 4]]"), A)
    assert np.array_equal(constant_value("[pi/4, 1]"), [np.pi / 4, 1])


def test_mul_of_two_arrays_becomes_matmul_on_the_tape_only():
    tape = build_tape(parse("x^T A x").node)
    ops_for(tape, ENV)
    assert [tape.prims[i].name for i in tape.rows] == ["transpose", "matmul", "matmul"]
    assert [tape.nodes[i].op for i in tape.rows] == ["transpose", "mul", "mul"]   # prints as written
    tape = build_tape(parse("s x").node)
    ops_for(tape, ENV)
    assert tape.prims[tape.rows[0]].name == "mul"                 # scalar times vector: elementwise


def test_shapes_are_inferred_for_every_node():
    tape = build_tape(parse("x^T A x + sum(B x) + A[1]").node)
    shapes = infer_shapes(tape, ENV)
    by_text = {str(n): s for n, s in zip(tape.nodes, shapes)}
    assert by_text["x^T"] == (1, 2) and by_text["x^T A"] == (1, 2) and by_text["x^T A x"] == ()
    assert by_text["B x"] == (3,) and by_text["A[1]"] == (2,)
    assert shapes[-1] == (2,)


# --------------------------------------------------------------------------- shape errors: words and carets

@pytest.mark.parametrize("text, message, under", [
    ("x + y", "cannot add a vector of length 2 and a vector of length 3", "x + y"),
    ("1 + (y - x)", "cannot subtract a vector of length 2 from a vector of length 3", "y - x"),
    ("B y", "B y: B is 3×2, y has length 3", "B y"),
    ("2 + B*y", "B*y: B is 3×2, y has length 3", "B*y"),
    ("x y", "x y: x has length 2, y has length 3", "x y"),
    ("x x", "for their dot product write x^T x or dot(x, x)", "x x"),
    ("[[1, 2], [3]]", "ragged matrix literal: row 1 has 2 entries, row 2 has 1", "[3]"),
    ("[[1, 2], 3]", "a matrix literal mixes numbers and rows", "3"),
    ("[A, A]", "a matrix literal's rows must be vectors; row 1 is a 2×2 matrix", "A"),
    ("det(B)", "det(B) needs a square matrix; B is 3×2", "det(B)"),
    ("1 + inv(B)", "inv(B) needs a square matrix; B is 3×2", "inv(B)"),
    ("trace(x)", "trace(x) needs a square matrix; x has length 2", "trace(x)"),
    ("dot(x, y)", "dot(x, y) needs two vectors of the same length; x has length 2, y has length 3", "dot(x, y)"),
    ("dot(A, x)", "dot(A, x) needs two vectors; A is a 2×2 matrix", "A"),
    ("x[3]", "index 3 is out of range: x has length 2", "x[3]"),
    ("A[1, 3]", "index 3 (column) is out of range: A is 2×2", "A[1, 3]"),
    ("x[1, 1]", "2 indices, but x has length 2", "x[1, 1]"),
    ("s[1]", "s is a scalar and cannot be indexed", "s[1]"),
    ("A^2", "powers of matrices are not supported", "A^2"),
    ("x^T + x", "cannot add a 1×2 row vector and a vector of length 2", "x^T + x"),
    ("sin(x) / y", "cannot divide a vector of length 2 by a vector of length 3", "sin(x) / y"),
])
def test_shape_errors_in_words_with_a_caret(text, message, under):
    e = shape_error(text)
    assert message in e.message
    assert e.source == text and caret(e) == under
    assert e.exit_code == 2 and e.kind == "type"


def test_shape_error_operand_texts_keep_their_parentheses():
    e = shape_error("(x + 1) (y - 1)")
    assert e.message.startswith("(x + 1) (y - 1): (x + 1) has length 2, (y - 1) has length 3")
    assert snippet("[(0.5) - (x), 1]", (2, 10)) == "(0.5) - (x)"


def test_a_bracket_after_a_space_is_ambiguous_and_the_error_says_how_to_write_it():
    with pytest.raises(ShapeError, match=r"write A\[1, 2\] to index, or A\*\[1, 2\] for a product") as e:
        parse("x^T A [1, 2]")
    assert caret(e.value) == "[1, 2]"
    assert value("x^T A*[1, 2]") == 27 and value("x^T A[1, 2]")[0, 0] == 2
    with pytest.raises(ShapeError, match="brackets right after an expression index it"):
        parse("A[[1, 2]]")


def test_shape_errors_come_before_any_evaluation():
    # log(-1) would be a domain error, but the shapes are checked first
    e = shape_error("log(-1) + x + y")
    assert "cannot add" in e.message


# --------------------------------------------------------------------------- domain errors, named by row

@pytest.mark.parametrize("text, cls, words", [
    ("inv([[1, 2], [2, 4]])", DomainError, "is outside the domain of inv (it must be invertible; this matrix is singular)"),
    ("sqrt(x - 2)", DomainError, "b = sqrt(a): a = [-1, 0] is outside the domain of sqrt"),
    ("log(x - 1)", DomainError, "a = [0, 1] is outside the domain of log"),
    ("x / (x - 1)", DomainError, "division by zero"),
    ("(-x)^0.5", DomainError, "a negative number to a non-integer power"),
    ("asin(x)", DomainError, "outside the domain of asin"),
    ("exp(1000 x)", OverflowErr, "overflows"),
])
def test_domain_errors_name_the_row(text, cls, words):
    with pytest.raises(cls) as e:
        value(text)
    assert words in e.value.message and e.value.exit_code == 1


def test_not_differentiable_points_are_reported_not_nan():
    for text, env in [("norm(x)", {"x": np.zeros(2)}), ("sum(sqrt(x))", {"x": np.array([0.0, 1.0])}),
                      ("sum(abs(x))", {"x": np.array([0.0, 1.0])})]:
        tape = build_tape(parse(text).node)
        ops = ops_for(tape, env)
        vals = evaluate(tape, env, ops)
        with pytest.raises(NotDifferentiable):
            reverse(tape, vals, [tape.variables["x"]], ops)
        with pytest.raises(NotDifferentiable):
            forward(tape, vals, {tape.variables["x"]: np.ones(2)}, ops)


# --------------------------------------------------------------------------- every primitive's rules, every mode

RULE_CASES = [
    ("x^T A x", {"x": [0.3, -1.2]}),
    ("sum(A x)", {"x": [0.3, -1.2]}),
    ("sum(x x^T)", {"x": [0.3, -1.2]}),
    ("sum(B x)", {"x": [0.3, -1.2]}),
    ("sum(x^T B^T)", {"x": [0.3, -1.2]}),
    ("dot(x, sin(x))", {"x": [0.3, -1.2]}),
    ("norm(exp(x))", {"x": [0.3, -1.2]}),
    ("sum([x[2], x[1]^2, 3] * s)", {"x": [0.3, -1.2], "s": 1.5}),
    ("trace(X X)", {"X": [[1.0, 0.5], [-0.3, 2.0]]}),
    ("det(X)", {"X": [[1.0, 0.5], [-0.3, 2.0]]}),
    ("log(det(X))", {"X": [[1.0, 0.5], [-0.3, 2.0]]}),
    ("sum(inv(X))", {"X": [[1.0, 0.5], [-0.3, 2.0]]}),
    ("X[1, 2] X[2, 1] + sum(X[2])", {"X": [[1.0, 0.5], [-0.3, 2.0]]}),
    ("sum(transpose(X) A)", {"X": [[1.0, 0.5], [-0.3, 2.0]]}),
    ("sum(sigmoid(X) + softplus(X) + tanh(X))", {"X": [[1.0, 0.5], [-0.3, 2.0]]}),
    ("det([[s, 1, 2], [3, s^2, 1], [0, 1, s]])", {"s": 0.7}),
    ("det(X)", {"X": (np.arange(25.0).reshape(5, 5) % 7) + np.eye(5)}),   # n > 4: the det·X⁻ᵀ path
]


@pytest.mark.parametrize("text, point", RULE_CASES)
def test_forward_reverse_dual_and_central_differences_agree(text, point):
    env = dict(ENV)
    env.update({k: np.asarray(v, dtype=float) if isinstance(v, list | np.ndarray) else v for k, v in point.items()})
    wrt = list(point)
    obj = Objective(parse(text).node, env, wrt)
    theta = [float(t) for w in wrt for t in np.ravel(env[w])]
    f0, g = obj.value_and_grad(theta)
    # forward mode, one pass per component
    tape, ops = obj.tape, obj.ops
    vals = evaluate(tape, env, ops)
    fwd = []
    for w, shape in zip(wrt, obj.shapes):
        for k in range(max(1, int(np.prod(shape)))):
            seed = 1.0 if shape == () else np.eye(int(np.prod(shape)))[k].reshape(shape)
            fwd.append(forward(tape, vals, {tape.variables[w]: seed}, ops)[-1])
    assert np.allclose(fwd, g, rtol=1e-12, atol=1e-12)
    # central differences
    h = 1e-6
    fd = []
    for j in range(len(theta)):
        tp, tm = list(theta), list(theta)
        tp[j] += h
        tm[j] -= h
        fd.append((obj.value(tp) - obj.value(tm)) / (2 * h))
    assert np.allclose(g, fd, rtol=1e-6, atol=1e-6), (g, fd)
    # forward-over-reverse Hessian: symmetric, and the gradient's central differences
    _, g2, H = obj.hessian(theta)
    H = np.array(H)
    assert np.allclose(g2, g, rtol=1e-14, atol=1e-14)
    assert np.allclose(H, H.T, rtol=1e-9, atol=1e-9)
    Hfd = np.zeros_like(H)
    for j in range(len(theta)):
        tp, tm = list(theta), list(theta)
        tp[j] += h
        tm[j] -= h
        Hfd[:, j] = (np.array(obj.value_and_grad(tp)[1]) - np.array(obj.value_and_grad(tm)[1])) / (2 * h)
    assert np.allclose(H, Hfd, rtol=1e-5, atol=1e-5)


def test_array_primitives_are_table_entries_with_rules():
    for name in ("vector", "transpose", "index", "matmul", "dot", "norm", "sum", "trace", "det", "inv"):
        p = PRIMS[name]
        assert p.array and "shape" in p.array
    for name in ("transpose", "dot", "norm", "sum", "trace", "det", "inv"):
        assert PRIMS[name].is_function
    for name in ("vector", "index", "matmul", "cofactor"):
        assert not PRIMS[name].is_function          # internal: the parser does not call them by name
    # ARRAY holds every primitive; scalar problems keep the float namespace
    assert all(hasattr(ARRAY, n) for n in PRIMS)
    tape = build_tape(parse("sin(x) y").node)
    assert is_scalar_problem(tape, {"x": 1.0, "y": 2.0}) and ops_for(tape, {"x": 1.0, "y": 2.0}) is FLOAT
    tape = build_tape(parse("norm(x)").node)
    assert not is_scalar_problem(tape, {"x": 1.0})
    assert value("norm(-3)", {}) == 3


def test_scalar_rows_in_array_problems_use_exact_float_arithmetic():
    # the same numbers as the scalar path, to the last digit
    s = value("sin(s)^2 + exp(s) / 3", {"s": 0.7})
    v = value("sum([sin(s)^2 + exp(s) / 3])", {"s": 0.7})
    assert s == v


# --------------------------------------------------------------------------- start-up: numpy only when needed

def _imports_numpy(*args) -> bool:
    r = subprocess.run([sys.executable, "-X", "importtime", "-m", "calccli", *args],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    return any("numpy" in line for line in r.stderr.splitlines() if "import time:" in line)


def test_scalar_diff_does_not_import_numpy():
    assert not _imports_numpy("diff", "sqrt(x^2+exp(x^2))+cos(x^2+exp(x^2))", "--at", "1.0")
    assert not _imports_numpy("grad", "x^2 y + sin(x y)", "--at", "x=1,y=2")


def test_arrays_import_numpy():
    assert _imports_numpy("eval", "x^T x", "--at", "x=[1,2]")


def test_the_primitive_table_does_not_import_numpy():
    code = "import sys, calccli.engine.primitives, calccli.language.parse; sys.exit('numpy' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], timeout=60).returncode == 0
