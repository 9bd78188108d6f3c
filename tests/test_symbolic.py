"""Symbolic derivatives: equal to AD at random points, to SymPy, and to nested duals at higher orders."""
import json
import math

import pytest
from hypothesis import HealthCheck, given, settings

from calccli.commands.derivatives import diff_at
from calccli.engine.taylor import derivatives_at, dual_derivatives_at
from calccli.commands.higher import diff_higher
from calccli.engine.printer import to_text
from calccli.symbolic.simplify import simplify
from calccli.symbolic.differentiate import derivative, symbolic_steps
from calccli.commands.symbolic import diff_symbolic, grad_symbolic
from calccli.engine.tape import build_tape
from calccli.render.json import json_obj
from conftest import SEED
from symgen import POINTS, SYMPY_FUNCS, close, exprs, node_of, scale, value

SLOW = settings(max_examples=150, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


def ad(text, x):
    try:
        return diff_at(text, [f"x={x!r}"], wrt="x").derivative
    except Exception:
        return None


# ---------------------------------------------------------------- the examples

@pytest.mark.parametrize("text,kw,want", [
    ("x^3 sin(x)", {}, "3x^2 sin(x) + x^3 cos(x)"),
    ("x^5", {"order": 3}, "60x^2"),
    ("x^2 y^3", {"wrt": "y"}, "3x^2 y^2"),
    ("exp(x) sin(x)", {"order": 2}, "2 exp(x) cos(x)"),
    ("exp(x) sin(x)", {"order": 4}, "-4 exp(x) sin(x)"),
    ("x^2", {"wrt": "z"}, "0"),
    ("5", {}, "0"),
    ("sin(x)^2 + cos(x)^2", {}, "0"),
    ("log(x)", {}, "1/x"),
    ("sqrt(x)", {}, "1/(2 sqrt(x))"),
    ("a x^2", {"let": ["a=3"]}, "6x"),
])
def test_examples(text, kw, want):
    r = diff_symbolic(text, kw.get("let"), kw.get("wrt"), kw.get("order", 1), False)
    assert r.text == want


def test_wrt_absent_is_said_plainly():
    r = diff_symbolic("x^2", None, "z", 1, False)
    assert r.text == "0" and "does not depend on z" in r.note


def test_seed_derivative_reads_back_and_matches_the_notes():
    r = diff_symbolic(SEED, None, None, 1, False)
    d = node_of(json_obj(r)["derivative_expression"])
    assert math.isclose(value(d, {"x": 1.0}), 5.983082595908695, rel_tol=1e-14)


def test_gradient():
    r = grad_symbolic("x^2 y + sin(x y)", None, None)
    assert r.variables == ["x", "y"]
    g = json_obj(r)["gradient"]
    for x, y in ((1.0, 2.0), (-0.3, 0.7)):
        env = {"x": x, "y": y}
        assert math.isclose(value(node_of(g[0]), env), 2 * x * y + y * math.cos(x * y), rel_tol=1e-13)
        assert math.isclose(value(node_of(g[1]), env), x * x + x * math.cos(x * y), rel_tol=1e-13)


# ---------------------------------------------------------------- steps

def test_steps_name_the_rules_and_end_at_the_result():
    r = diff_symbolic("x^3 sin(x)", None, None, 1, True)
    rules = [s.rule for s in r.steps]
    assert rules == ["power rule", "derivative of sin", "product rule"]
    assert r.steps[-1].result == r.text
    r = diff_symbolic(SEED, None, None, 1, True)
    rules = " | ".join(s.rule for s in r.steps)
    for word in ("power rule", "chain rule: outer function exp", "sum rule",
                 "chain rule: outer function sqrt", "chain rule: outer function cos"):
        assert word in rules
    assert r.steps[-1].result == r.text
    r = diff_symbolic("sin(x)/x", None, None, 1, True)
    assert r.steps[-1].rule == "quotient rule" and r.steps[-1].result == r.text


@SLOW
@given(exprs(("x",), funcs=SYMPY_FUNCS))
def test_steps_always_end_at_the_printed_result(text):
    node = node_of(text)
    steps, final = symbolic_steps(node, "x")
    if steps:
        assert steps[-1].result == to_text(derivative(node, "x")[0])


# ---------------------------------------------------------------- soundness against AD

@SLOW
@given(exprs(("x",)))
def test_symbolic_equals_reverse_mode(text):
    node = node_of(text)
    d = derivative(node, "x")[0]
    assert simplify(d) is d
    for x in POINTS:
        want = ad(text, x)
        if want is None:
            continue
        got = value(d, {"x": x})
        assert got is not None, (text, to_text(d), x)
        s = max(scale(node, {"x": x}), abs(want), 1.0)
        assert close(got, want, s, 1e-8), (text, to_text(d), x, got, want)


@settings(max_examples=60, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(exprs(("x",), funcs=SYMPY_FUNCS, max_leaves=6))
def test_higher_orders_symbolic_equal_nested_duals(text):
    node = node_of(text)
    try:
        ders = derivative(node, "x", 4)
    except Exception:  # too large to print: that is reported, not wrong
        return
    tape = build_tape(node)
    for x in (0.3, 1.7):
        try:
            exact = derivatives_at(tape, {"x": x}, "x", 4)
        except Exception:
            continue
        for k, d in enumerate(ders, 1):
            got = value(d, {"x": x})
            if got is None:
                continue
            s = max(1.0, abs(exact[k]), scale(d, {"x": x}))
            assert close(got, exact[k], s, 1e-7), (text, k, to_text(d), got, exact[k])


# ---------------------------------------------------------------- SymPy as the oracle

def sympy_of(text):
    sp = pytest.importorskip("sympy")
    return sp.sympify(text.replace("^", "**"), locals={"x": sp.Symbol("x"), "y": sp.Symbol("y"),
                                                       "pi": sp.pi, "log": sp.log})


@settings(max_examples=80, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(exprs(("x",), funcs=SYMPY_FUNCS, max_leaves=6))
def test_against_sympy_orders_1_to_3(text):
    sp = pytest.importorskip("sympy")
    X = sp.Symbol("x")
    f = sympy_of(text)
    try:
        ders = derivative(node_of(text), "x", 3)
    except Exception:
        return
    for k, d in enumerate(ders, 1):
        ref = sp.diff(f, X, k)
        for x in (0.3, 1.7):
            got = value(d, {"x": x})
            if got is None:
                continue
            want = complex(ref.subs(X, sp.Float(x, 30)).evalf(30))
            if abs(want.imag) > 1e-12 or not math.isfinite(want.real):
                continue
            s = max(1.0, abs(want.real), scale(d, {"x": x}))
            assert close(got, want.real, s, 1e-8), (text, k, to_text(d), got, want)


@pytest.mark.parametrize("text", ["exp(x)*sin(x)", "x^x", "tan(x)", "sin(x)^2/(1 + x^2)", "log(1 + x^2)"])
def test_order_10_against_sympy(text):
    sp = pytest.importorskip("sympy")
    X = sp.Symbol("x")
    want = float(sp.diff(sympy_of(text), X, 10).subs(X, sp.Rational(1, 2)).evalf(40))
    r = diff_higher(text, ["0.5"], None, None, "forward", 10, False)
    assert math.isclose(r.derivative, want, rel_tol=1e-11)
    r = diff_higher(text, ["0.5"], None, None, "reverse", 10, False)
    assert math.isclose(r.derivative, want, rel_tol=1e-11)


@settings(max_examples=60, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(exprs(("x",), max_leaves=8))
def test_taylor_mode_equals_nested_duals(text):
    tape = build_tape(node_of(text))
    for x in (0.3, -1.7):
        try:
            want = dual_derivatives_at(tape, {"x": x}, "x", 4)
        except Exception:
            continue
        for mode in ("forward", "reverse"):
            got = derivatives_at(tape, {"x": x}, "x", 4, mode)
            s = max([1.0] + [abs(v) for v in want])
            for a, b in zip(got, want):
                assert close(a, b, s, 1e-9), (text, mode, got, want)


def test_higher_at_point_all_orders_and_seed():
    r = diff_higher(SEED, ["1"], None, None, "forward", 1 + 1, False)
    assert math.isclose(r.derivatives[0], 5.983082595908695, rel_tol=1e-14)
    j = json_obj(r)
    for key in ("expression", "variable", "point", "mode", "order", "value", "derivative", "trace", "steps"):
        assert key in j
    assert [t["name"] for t in j["trace"]] == list("abcdef")


def test_higher_with_steps_shows_symbolic_too():
    r = diff_higher("exp(x) sin(x)", ["0.5"], None, None, "reverse", 4, True)
    assert r.symbolic[-1] == "-4 exp(x) sin(x)"
    assert math.isclose(r.derivative, -4 * math.exp(0.5) * math.sin(0.5), rel_tol=1e-13)
    r = diff_higher("x^3 sin(x)", ["2"], None, None, "reverse", 1, True)
    assert r.base is not None and r.sym_steps[-1].result == "3x^2 sin(x) + x^3 cos(x)"


def test_deep_expression_differentiates():
    text = "x"
    for _ in range(2000):
        text = f"(({text}) + sin(x))"
    assert to_text(derivative(node_of(text), "x")[0]) == "2000 cos(x) + 1"
    text = "x"
    for _ in range(3000):
        text = f"sin({text})"
    d = derivatives_at(build_tape(node_of(text)), {"x": 0.1}, "x", 2)
    assert math.isclose(d[1], ad(text, 0.1), rel_tol=1e-12)


def test_too_large_derivative_is_refused_cleanly(cli):
    text = "x"
    for _ in range(3000):
        text = f"sin({text})"
    code, out, err = cli("diff", text, "--format", "json")
    assert code == 1 and json.loads(out)["error"]["kind"] == "size"
    assert "too large to print" in err and len(out) + len(err) < 100_000


# ---------------------------------------------------------------- the CLI

def test_cli_symbolic_and_json(cli):
    code, out, _ = cli("diff", "x^3 sin(x)", "--format", "plain")
    assert code == 0 and "f'(x) = 3x^2 sin(x) + x^3 cos(x)" in out
    code, out, _ = cli("diff", "x^5", "--order", "3", "--format", "json")
    j = json.loads(out)
    assert code == 0 and j["derivative_expression"] == "60x^2" and j["order"] == 3
    assert set(j) >= {"expression", "variable", "order", "derivative_expression"}
    code, out, _ = cli("eval", j["derivative_expression"], "--at", "x=2", "--format", "json")
    assert json.loads(out)["value"] == 240.0
    code, out, _ = cli("diff", "x^2", "--wrt", "z", "--format", "plain")
    assert code == 0 and "does not depend on z" in out
    code, out, _ = cli("grad", "x^2 y + sin(x y)", "--format", "json")
    assert code == 0 and json.loads(out)["variables"] == ["x", "y"]
    code, out, _ = cli("diff", "sqrt(x^2+exp(x^2))+cos(x^2+exp(x^2))", "--steps", "--format", "plain")
    assert code == 0 and "chain rule: outer function sqrt" in out


@pytest.mark.parametrize("args,code", [
    (["diff", "x^2", "--order", "0"], 2), (["diff", "x^2", "--order", "-1"], 2),
    (["diff", "x^2", "--order", "1.5"], 2), (["diff", "x^2", "--format", "pdf"], 2),
    (["diff", "x y"], 2), (["diff", "x^2 +"], 2), (["diff", "sqrt(x)", "--at", "0", "--order", "2"], 1),
])
def test_cli_bad_input(cli, args, code):
    got, out, err = cli(*args)
    assert got == code
    assert "Traceback" not in out + err


def test_cli_higher_order_at_point(cli):
    code, out, _ = cli("diff", "exp(x) sin(x)", "--order", "4", "--at", "0.5", "--format", "json")
    j = json.loads(out)
    assert code == 0 and math.isclose(j["derivative"], -4 * math.exp(0.5) * math.sin(0.5), rel_tol=1e-13)
    assert len(j["derivatives"]) == 4


@pytest.mark.parametrize("text,part", [("1/0", "1/0"), ("x + 1/0", "1/0"), ("log(0) x", "log(0)"),
                                        ("x^2 + sqrt(-1)", "sqrt(-1)")])
def test_a_constant_without_a_value_makes_the_derivative_a_domain_error(cli, text, part):
    # the rules alone would say d/dx (x + 1/0) = 1 and d/dx 1/0 = 0
    code, out, err = cli("diff", text)
    assert code == 1 and "Traceback" not in out + err
    caret = (out + err).splitlines()[-1]
    assert caret.strip() == "^" * len(part) and caret.index("^") - 2 == text.index(part)


def test_a_constant_beyond_float64_is_still_exact_symbolically(cli):
    code, out, _ = cli("diff", "exp(1000) x")
    assert code == 0 and out.rstrip().endswith("f'(x) = exp(1000)")


def test_a_root_of_a_square_cancels_in_the_derivative():
    """The quotient rule on sqrt(x·x) gives sqrt(x^2)^2 = x^2 in a denominator: it cancels
    (was exp(2/x - x)(x + 2/x + x^2/x^2 - 1) - x^2/x^2 + 1 over sqrt(x^2))."""
    d = derivative(node_of("((x - (x * exp(((2 / x) - x)))) / sqrt((x * x)))"), "x")[0]
    assert to_text(d) == "exp(2/x - x)(x + 2/x)/sqrt(x^2)"
