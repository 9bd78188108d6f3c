"""Numerical honesty (issue 17): exact constants in symbolic answers, one normal form for
diff and grad, and (below) the numeric verdicts, each checked against SymPy / mpmath."""
import math

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


# ---------------------------------------------------------------- minimize tells the truth

from calccli.commands import optimize  # noqa: E402
from calccli.commands.optimize import minimize_from  # noqa: E402

R10_TERMS = [f"100(x{i + 1} - x{i}^2)^2 + (1 - x{i})^2" for i in range(1, 10)]
TEST_FUNCTIONS = {   # name: (calc text, numpy function, start)
    "rosenbrock": ("(1-x)^2 + 100(y-x^2)^2", lambda v: (1 - v[0]) ** 2 + 100 * (v[1] - v[0] ** 2) ** 2,
                   {"x": -1.2, "y": 1.0}),
    "rosenbrock10": (" + ".join(R10_TERMS),
                     lambda v: sum(100 * (v[i + 1] - v[i] ** 2) ** 2 + (1 - v[i]) ** 2 for i in range(9)),
                     {f"x{i}": (-1.2 if i % 2 else 1.0) for i in range(1, 11)}),
    "beale": ("(1.5 - x + x y)^2 + (2.25 - x + x y^2)^2 + (2.625 - x + x y^3)^2",
              lambda v: (1.5 - v[0] + v[0] * v[1]) ** 2 + (2.25 - v[0] + v[0] * v[1] ** 2) ** 2
              + (2.625 - v[0] + v[0] * v[1] ** 3) ** 2, {"x": 1.0, "y": 1.0}),
    "booth": ("(x+2y-7)^2 + (2x+y-5)^2", lambda v: (v[0] + 2 * v[1] - 7) ** 2 + (2 * v[0] + v[1] - 5) ** 2,
              {"x": 0.0, "y": 0.0}),
    "himmelblau": ("(x^2+y-11)^2 + (x+y^2-7)^2", lambda v: (v[0] ** 2 + v[1] - 11) ** 2 + (v[0] + v[1] ** 2 - 7) ** 2,
                   {"x": 0.0, "y": 0.0}),
    "camel3": ("2x^2 - 1.05x^4 + x^6/6 + x y + y^2",
               lambda v: 2 * v[0] ** 2 - 1.05 * v[0] ** 4 + v[0] ** 6 / 6 + v[0] * v[1] + v[1] ** 2,
               {"x": 0.5, "y": 0.5}),
    "matyas": ("0.26(x^2 + y^2) - 0.48x y", lambda v: 0.26 * (v[0] ** 2 + v[1] ** 2) - 0.48 * v[0] * v[1],
               {"x": 1.0, "y": 1.0}),
    "mccormick": ("sin(x + y) + (x - y)^2 - 1.5x + 2.5y + 1",
                  lambda v: math.sin(v[0] + v[1]) + (v[0] - v[1]) ** 2 - 1.5 * v[0] + 2.5 * v[1] + 1,
                  {"x": 0.0, "y": 0.0}),
}
METHOD_LR = {"gd": 1e-3, "momentum": 1e-3, "adam": 1e-2}


def _start(point):
    return [",".join(f"{k}={v!r}" for k, v in point.items())]


def _scipy_local_min(f, x0):
    from scipy.optimize import minimize
    r = minimize(f, x0, method="Nelder-Mead", options={"xatol": 1e-10, "fatol": 1e-14, "maxiter": 40000})
    return r.x, r.fun


@pytest.mark.parametrize("name", list(TEST_FUNCTIONS))
@pytest.mark.parametrize("method", ["auto", "trust", "newton", "bfgs", "gd", "momentum", "adam"])
def test_minimize_claims_only_true_minima(name, method):
    """Whatever a method says "converged" at is a local minimum by SciPy's judgement (a
    derivative-free search started there stays there and finds no lower J); a method that
    does not get there says so (converged false, exit 1)."""
    text, f, start = TEST_FUNCTIONS[name]
    steps = 3000 if method in METHOD_LR else None
    r = minimize_from(text, _start(start), None, None, method, METHOD_LR.get(method), steps, 1e-8, False)
    if not r.converged:
        assert r.exit_code == 1 and r.reason
        assert method in METHOD_LR or name == "rosenbrock10", (name, method, r.reason)
        return
    x = [r.argmin()[k] for k in start]
    xs, fs = _scipy_local_min(f, x)
    assert r.classification == "minimum"
    assert math.dist(xs, x) < 1e-4 * max(1.0, math.hypot(*x)), (name, method, x, xs)
    assert r.last.J <= fs + 1e-10 * max(1.0, abs(fs))


@pytest.mark.parametrize("name", list(TEST_FUNCTIONS))
def test_default_finds_the_minimum_of_its_basin_like_scipy_trust_exact(name):
    import numpy as np
    from scipy.optimize import minimize
    text, f, start = TEST_FUNCTIONS[name]
    r = minimize_from(text, _start(start))
    assert r.method == "trust" and r.converged, r.reason
    # SciPy's trust-exact with exact derivatives (from calc's own AD, which the other tests check)
    obj = optimize._problem(text, _start(start), None, None)[0]
    names = list(obj.names)          # calc's order (first appearance), SciPy works in it too
    keys = list(start)

    def g(v):                        # f takes the variables in the order of ``start``
        d = dict(zip(names, v))
        return f([d[k] for k in keys])
    ref = minimize(g, [start[n] for n in names], method="trust-exact",
                   jac=lambda v: np.array(obj.value_and_grad(list(v))[1]),
                   hess=lambda v: np.array(obj.hessian(list(v))[2]), options={"gtol": 1e-9})
    assert ref.success or ref.status == 2   # 2: SciPy's own stall at float64's precision (Rosenbrock 10-D)
    x = [r.argmin()[n] for n in names]
    assert math.dist(ref.x, x) < 1e-6 * max(1.0, float(np.linalg.norm(ref.x))), (name, x, ref.x)


def test_three_hump_camel_stays_in_its_basin():
    r = minimize_from(TEST_FUNCTIONS["camel3"][0], ["x=0.5,y=0.5"])
    assert r.converged and math.hypot(*r.last.theta) < 1e-8


def test_maximum_is_not_success(cli):
    import json
    code, out, _ = cli("minimize", "-x^2", "--from", "x=0", "--format", "json")
    d = json.loads(out)
    assert code == 1 and d["converged"] is False and d["classification"] == "maximum"
    assert "local maximum" in d["reason"]
    code, out, _ = cli("minimize", "-x^2", "--from", "x=0", "--format", "plain")
    assert "hint: start from another point" in out
    assert "-0" not in out  # J(0) = -0.0 is written 0


def test_x_cubed_is_unbounded_below(cli):
    import json
    code, out, _ = cli("minimize", "x^3", "--from", "x=1", "--format", "json")
    d = json.loads(out)
    assert code == 1 and d["converged"] is False and "unbounded below along x → −∞" in d["reason"]


def test_rosenbrock10_stops_at_attainable_precision():
    text, f, start = TEST_FUNCTIONS["rosenbrock10"]
    for method in ("auto", "newton"):
        r = minimize_from(text, _start(start), None, None, method, None, None, 1e-8, False)
        assert r.converged and r.iterations < 100, (method, r.reason)
    # a tolerance float64 cannot reach: stopped and said, not run to the cap
    r = minimize_from(text, _start(start), None, None, "auto", None, None, 1e-30, False)
    assert r.converged and r.iterations < 200 and "accuracy float64 allows" in r.reason


def test_history_is_bounded(monkeypatch):
    monkeypatch.setattr(optimize, "HISTORY_MAX", 64)
    r = minimize_from("x^2 + y^2", ["x=1,y=1"], None, None, "gd", 1e-6, 5000, 0.0, False)
    assert r.iterations == 5000 and len(r.history) <= 65
    assert r.history[0].k == 0 and r.history[-1].k == 5000
    ks = [it.k for it in r.history]
    assert ks == sorted(ks)


# ---------------------------------------------------------------- hessian, check

def test_hessian_tiny_positive_eigenvalue_is_a_minimum():
    from calccli.commands.multivar import classify, hessian_at
    r = hessian_at("x^2 + 1e-10 y^2", ["x=0,y=0"])
    assert r.classification == "minimum"
    assert classify([1e-12, 2e-12]) == "minimum"           # no absolute floor
    assert classify([4e-17, 4.0]) == "degenerate"           # below the eigenvalues' rounding
    assert classify([-1.0, 1e-3]) == "saddle"


def test_check_does_not_call_cancellation_a_bug(cli):
    import json
    for at in ("0.001", "1e-6"):
        code, out, _ = cli("check", "(exp(x)-1)/x", "--at", at, "--format", "json")
        d = json.loads(out)
        assert code == 0 and d["ok"], d
        c = d["checks"][0]
        assert "bug" not in c.get("note", "")
        # each stated rounding bound covers the true error (mpmath)
        import mpmath as mp
        mp.mp.dps = 40
        true = float(mp.diff(lambda t: mp.expm1(t) / t, mp.mpf(at)))
        assert abs(c["forward"] - true) <= c["rounding_bound_exact"]
        assert abs(c["symbolic"] - true) <= c["rounding_bound_symbolic"]
    code, out, _ = cli("check", "abs(x)", "--at", "1e-7")
    assert code == 1 and "MISMATCH" in out                # a kink is still a disagreement


# ---------------------------------------------------------------- higher orders at a point

import mpmath  # noqa: E402
from hypothesis import HealthCheck, assume, given, settings, strategies as st  # noqa: E402

from calccli.commands.higher import diff_higher  # noqa: E402
from calccli.errors import CalcError  # noqa: E402
from symgen import exprs  # noqa: E402

_MP = {"sin": mpmath.sin, "cos": mpmath.cos, "tan": mpmath.tan, "exp": mpmath.exp, "log": mpmath.log,
       "sqrt": mpmath.sqrt, "atan": mpmath.atan, "tanh": mpmath.tanh, "sinh": mpmath.sinh,
       "sigmoid": lambda u: 1 / (1 + mpmath.exp(-u)), "abs": abs}
_MP_ARITH = {"add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
             "div": lambda a, b: a / b, "neg": lambda a: -a,
             "pow": lambda a, b: a ** int(b) if b == int(b) else a ** b}


def mp_function(text):
    """f as an mpmath function of x, read from calc's tree (an oracle independent of calc's Taylor code)."""
    from calccli.engine.tape import topo_order
    root = parse(text).node
    order = topo_order(root)

    def f(x):
        out = {}
        for n in order:
            if n.op == "num":
                out[n] = mpmath.mpf(repr(n.value))
            elif n.op == "var":
                out[n] = x
            elif n.op == "const":
                out[n] = mpmath.pi if n.value == "pi" else mpmath.e
            else:
                out[n] = (_MP_ARITH.get(n.op) or _MP[n.op])(*(out[a] for a in n.args))
        return out[root]
    return f


def true_derivative(text, x0, n):
    with mpmath.workdps(50):
        return mpmath.diff(mp_function(text), mpmath.mpf(repr(x0)), n)


@pytest.mark.parametrize("text,at,order,want", [
    ("sin(x)/x", 0.01, 8, "0.1111066"), ("(exp(x)-1)/x", 0.001, 6, "0.1429822"),
    ("tan(x)/x", 0.05, 10, "34347.02"),
])
def test_cancellation_near_removable_singularity(text, at, order, want):
    r = diff_higher(text, [f"x={at!r}"], None, None, "reverse", order)
    true = true_derivative(text, at, order)
    assert abs(true - float(want)) < 1e-6 * abs(true)                   # the values the issue quotes
    assert abs(mpmath.mpf(r.derivative) - true) <= r.errors[-1] <= 1e-10 * abs(true)
    assert "mpmath" in r.note


def test_float_path_needs_no_mpmath():
    import subprocess
    import sys
    code = ("import sys; from calccli.commands.higher import diff_higher; "
            "r = diff_higher('exp(x) sin(x)', ['x=0.5'], None, None, 'reverse', 6); "
            "print('mpmath' in sys.modules, r.note == '', r.errors[-1] < 1e-12)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "True", "True"]


@settings(max_examples=60, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(exprs(("x",), funcs=["sin", "cos", "exp", "log", "sqrt", "tan", "atan", "tanh", "sigmoid"], max_leaves=6),
       st.integers(2, 8), st.floats(-2.0, 2.0).map(lambda v: round(v, 3)))
def test_higher_orders_within_their_stated_error(text, order, x0):
    try:
        r = diff_higher(text, [f"x={x0!r}"], None, None, "reverse", order)
    except CalcError:
        assume(False)
    try:
        true = true_derivative(text, x0, order)
    except (ValueError, ZeroDivisionError, TypeError):
        assume(False)
    assume(isinstance(true, mpmath.mpf) and mpmath.isfinite(true))
    err = r.errors[-1]
    # the oracle (mpmath's own numerical differentiation at 50 digits) is good to ~1e-30
    assert abs(mpmath.mpf(r.derivative) - true) <= err + 1e-30 * max(1, abs(true)), \
        (text, order, x0, r.derivative, true, err, r.note)
    true = float(true)
    assert err <= 1e-6 * max(1.0, abs(true)), (text, order, x0, err, true)


# ---------------------------------------------------------------- plot critical points

def test_plot_critical_points_exact_and_endpoints():
    from calccli.commands.plot import plot_of
    r = plot_of("x^2", "-1", "2")
    assert [(c["x"], c["kind"]) for c in r.critical] == [(0.0, "a minimum")]
    r = plot_of("x^2", "0", "1")
    assert r.critical == [{"x": 0.0, "f": 0.0, "kind": "a minimum", "endpoint": True}]
    r = plot_of("x^3 - 3x", "-2", "2")
    want = [(-1.0, "a maximum"), (1.0, "a minimum")]
    assert [(c["kind"]) for c in r.critical] == [k for _, k in want]
    for c, (x, _) in zip(r.critical, want):
        assert abs(c["x"] - x) <= 4 * math.ulp(1.0)


def test_no_negative_zero_in_tables_and_labels(cli):
    """-0.0 is written 0 wherever numbers are shortened for people (plot notes, graph labels)."""
    _, out, _ = cli("plot", "-x^2", "--from", "-1", "--to", "1", "--format", "plain")
    assert "a maximum of f (f = 0)" in out and "f = -0" not in out
    _, out, _ = cli("graph", "-x^2", "--at", "0", "--format", "dot")
    assert "b = -a\\nvalue 0\\n" in out and "value -0" not in out
    from calccli.numfmt import short_number
    assert [short_number(v) for v in (-0.0, 0.0, -1.5e-7, 2 / 3)] == ["0", "0", "-1.5e-07", "0.666667"]
