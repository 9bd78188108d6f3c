"""calc minimize: the methods reach the known minimizers of the classic test functions;
non-convergence and divergence are reported with exit status 1; bad input is exit 2."""
import json
import math
import subprocess
import sys

import pytest

from calccli.errors import CalcError, UsageError
from calccli.commands.optimize import classify, minimize_from, shown_rows
from calccli.render.views import to_doc

ROSENBROCK = "(1-x)^2 + 100(y-x^2)^2"
BOOTH = "(x+2y-7)^2 + (2x+y-5)^2"
BEALE = "(1.5 - x + x y)^2 + (2.25 - x + x y^2)^2 + (2.625 - x + x y^3)^2"
HIMMELBLAU = "(x^2+y-11)^2 + (x+y^2-7)^2"
HIMMELBLAU_MINIMA = [(3.0, 2.0), (-2.805118, 3.131312), (-3.779310, -3.283186), (3.584428, -1.848126)]


def run(expr, start, method="auto", lr=None, steps=None, tol=1e-8, trace=False, let=None, wrt=None):
    return minimize_from(expr, [start], let, wrt, method, lr, steps, tol, trace)


def dist(r, p):
    a = r.argmin()
    return math.hypot(a["x"] - p[0], a["y"] - p[1])


# (method, lr, steps, tolerance on the distance to the minimizer)
CASES = {
    "rosenbrock": (ROSENBROCK, "x=-1.2,y=1", (1.0, 1.0), [
        ("auto", None, None, 1e-6), ("newton", None, None, 1e-6), ("bfgs", None, None, 1e-6),
        ("momentum", 0.001, 10000, 1e-6), ("adam", 0.1, 5000, 1e-6), ("adam", None, 10000, 1e-6)]),
    "booth": (BOOTH, "x=0,y=0", (1.0, 3.0), [
        ("auto", None, None, 1e-9), ("newton", None, None, 1e-9), ("bfgs", None, None, 1e-8),
        ("gd", 0.05, None, 1e-7), ("gd", None, None, 1e-7), ("momentum", None, None, 1e-7),
        ("adam", None, None, 1e-7)]),
    "beale": (BEALE, "x=1,y=1", (3.0, 0.5), [
        ("auto", None, None, 1e-7), ("newton", None, None, 1e-7), ("bfgs", None, None, 1e-7),
        ("gd", None, None, 1e-6), ("momentum", None, None, 1e-6), ("adam", 0.1, None, 1e-6)]),
    "himmelblau": (HIMMELBLAU, "x=0,y=0", (3.0, 2.0), [
        ("auto", None, None, 1e-8), ("newton", None, None, 1e-8), ("bfgs", None, None, 1e-8),
        ("gd", None, None, 1e-8), ("momentum", 0.001, None, 1e-8), ("adam", None, None, 1e-8)]),
}


@pytest.mark.parametrize("name,method,lr,steps,tol",
                         [(n, *c) for n, (_, _, _, cs) in CASES.items() for c in cs])
def test_known_minimizers(name, method, lr, steps, tol):
    expr, start, best, _ = CASES[name]
    r = run(expr, start, method, lr, steps)
    assert r.converged, r.reason
    assert r.exit_code == 0
    assert dist(r, best) < tol
    assert abs(r.last.J) < 1e-12
    assert r.classification == "minimum"
    assert r.last.gnorm <= 1e-8


def test_rosenbrock_default_needs_no_tuning():
    """The contract: the default method solves Rosenbrock from (-1.2, 1)."""
    r = minimize_from(ROSENBROCK, ["x=-1.2,y=1"])
    assert r.requested == "auto" and r.method == "trust"   # the default is trust-region Newton (issue 17)
    assert r.converged and dist(r, (1, 1)) < 1e-6
    # the Hessian at (1, 1): [[802, -400], [-400, 200]], eigenvalues 501 ± √250601
    lo, hi = 501 - math.sqrt(250601), 501 + math.sqrt(250601)
    assert r.eigenvalues == pytest.approx([lo, hi], rel=1e-6)


@pytest.mark.parametrize("start", ["x=0,y=0", "x=-1,y=1", "x=-4,y=-4", "x=4,y=-2", "x=-0.27,y=-0.92"])
def test_himmelblau_reaches_one_of_its_four_minima(start):
    r = run(HIMMELBLAU, start)
    assert r.converged
    assert min(dist(r, p) for p in HIMMELBLAU_MINIMA) < 1e-5
    assert r.classification == "minimum"


def test_newton_safeguard_when_hessian_is_not_positive_definite():
    # near the local maximum of Himmelblau the Hessian is negative definite
    r = run(HIMMELBLAU, "x=-0.27,y=-0.92", "newton")
    assert r.converged and r.classification == "minimum"
    assert any(it.note == "H modified" for it in r.history)
    assert all(b.J <= a.J for a, b in zip(r.history, r.history[1:]))   # every step went downhill
    # x^4 - 2x^2 + y^2 from x = 0.1: ∂²/∂x² = 12x² - 4 < 0 at the start
    r = run("x^4 - 2x^2 + y^2", "x=0.1,y=1", "newton")
    assert r.converged and r.argmin()["x"] == pytest.approx(1.0) and abs(r.argmin()["y"]) < 1e-9
    assert r.history[1].note == "H modified"


def test_monotone_descent_for_line_search_methods():
    for m in ("newton", "bfgs"):
        r = run(ROSENBROCK, "x=-1.2,y=1", m)
        assert all(b.J <= a.J for a, b in zip(r.history, r.history[1:]))


def test_saddle_point_is_reported():
    r = run("x^2 - y^2", "x=0,y=0")
    # a saddle is not a minimum: not converged, exit 1, with the kind and a hint (issue 17)
    assert not r.converged and r.exit_code == 1 and r.iterations == 0
    assert r.classification == "saddle" and "saddle" in r.reason
    assert any("hint" in n for n in r.notes)


def test_inflection_is_not_called_a_minimum():
    r = run("x^3", "x=1")
    # x^3 has no minimum: the flat inflection at 0 is reported as the way to -inf (issue 17)
    assert not r.converged and r.diverged and "unbounded below along x → −∞" in r.reason
    assert r.classification == "degenerate"


def test_classify():
    assert classify([1.0, 2.0]) == "minimum"
    assert classify([-1.0, -2.0]) == "maximum"
    assert classify([-1.0, 2.0]) == "saddle"
    assert classify([0.0, 2.0]) == "degenerate"


def test_not_converged_within_steps_exit_1(cli):
    code, out, err = cli("minimize", ROSENBROCK, "--from", "x=-1.2,y=1", "--method", "gd", "--lr", "0.001",
                         "--steps", "50", "--format", "json")
    assert code == 1
    d = json.loads(out)
    assert d["converged"] is False and d["iterations"] == 50
    assert "50 steps" in d["reason"]
    for k in ("expression", "method", "argmin", "minimum", "iterations", "converged"):
        assert k in d


def test_divergence_reported_exit_1(cli):
    code, out, _ = cli("minimize", "x^2", "--from", "x=1", "--method", "gd", "--lr", "1.5", "--format", "json")
    assert code == 1
    d = json.loads(out)
    assert d["converged"] is False and d["diverged"] is True
    assert "diverged" in d["reason"] and "--lr" in d["reason"]
    # strict JSON even for huge values
    assert "Infinity" not in out and "NaN" not in out
    code, out, _ = cli("minimize", "x^2", "--from", "x=1", "--method", "gd", "--lr", "1.5", "--format", "plain")
    assert code == 1 and "NOT converged" in out and "last iterate" in out


def test_overflow_mid_run_is_a_result_not_an_error(cli):
    # exp(x)^2 with a large learning rate: the iterate overflows before J grows 1e12-fold
    code, out, _ = cli("minimize", "exp(x)^2 + exp(-x)", "--from", "x=0", "--method", "momentum",
                       "--lr", "10", "--format", "json")
    assert code == 1
    d = json.loads(out)
    assert d["converged"] is False and d["reason"]


def test_step_outside_the_domain_exit_1(cli):
    code, out, _ = cli("minimize", "log(x) + x", "--from", "x=5", "--method", "gd", "--lr", "5", "--format", "json")
    assert code == 1
    d = json.loads(out)
    assert "outside the domain of log" in d["reason"]
    assert d["argmin"] == {"x": 5.0}


def test_line_search_methods_step_back_from_the_domain_edge():
    r = run("x - log(x)", "x=5", "newton")     # a full Newton step from 5 lands at x < 0
    assert r.converged and r.argmin()["x"] == pytest.approx(1.0)


def test_json_keys_and_values(cli):
    code, out, _ = cli("minimize", BOOTH, "--from", "x=0,y=0", "--method", "gd", "--lr", "0.05", "--format", "json")
    assert code == 0
    d = json.loads(out)
    assert d["expression"] == BOOTH and d["method"] == "gd"
    assert d["argmin"]["x"] == pytest.approx(1, abs=1e-7) and d["argmin"]["y"] == pytest.approx(3, abs=1e-7)
    assert d["minimum"] < 1e-14 and d["converged"] is True and isinstance(d["iterations"], int)
    assert d["classification"] == "minimum" and d["eigenvalues"] == pytest.approx([2, 18])
    assert d["history"][0]["k"] == 0 and d["history"][-1]["k"] == d["iterations"]


def test_auto_reports_the_method_it_chose(cli):
    code, out, _ = cli("minimize", ROSENBROCK, "--from", "x=-1.2,y=1", "--format", "json")
    d = json.loads(out)
    assert code == 0 and d["method"] == "trust" and d["requested_method"] == "auto"


def test_plain_output_table_and_summary(cli):
    code, out, err = cli("minimize", ROSENBROCK, "--from", "x=-1.2,y=1", "--format", "plain")
    assert code == 0
    assert "Iterations" in out and "‖∇J‖" in out and "J(θ)" in out
    assert "argmin = x = 0.99999999999" in out
    assert "converged = yes" in out and "local minimum" in out
    assert err == ""                                    # no progress bar off a terminal


def test_trace_shows_every_row():
    r = run(BOOTH, "x=0,y=0", "gd", 0.05)
    assert len(r.history) > 100
    short = to_doc(r).blocks[1].rows
    assert short[0][0] == "0" and short[-1][0] == str(r.iterations) and len(short) < 30
    full = to_doc(run(BOOTH, "x=0,y=0", "gd", 0.05, trace=True)).blocks[1].rows
    assert [row[0] for row in full] == [str(k) for k in range(len(r.history))]


def test_shown_rows():
    assert shown_rows(5, False) == [0, 1, 2, 3, 4]
    rows = shown_rows(1001, False)
    assert rows[0] == 0 and rows[-1] == 1000 and rows[1] == 50 and len(rows) == 21
    assert shown_rows(7, True) == list(range(7))


def test_let_constants_and_wrt():
    r = minimize_from("(x - a)^2 + (y - 2)^2", ["x=0,y=5"], ["a=3"], "x", "auto", None, None, 1e-8, False)
    assert r.wrt == ["x"] and r.argmin()["x"] == pytest.approx(3.0)


@pytest.mark.parametrize("args,needle", [
    (["--from", "x=1"], "'y' has no value"),
    (["--from", "x=1,y=1", "--method", "sgd"], "unknown method 'sgd'"),
    (["--from", "x=1,y=1", "--method", "gd", "--lr", "0"], "--lr must be a positive number"),
    (["--from", "x=1,y=1", "--method", "gd", "--lr", "-0.1"], "--lr must be a positive number"),
    (["--from", "x=1,y=1", "--steps", "0"], "--steps must be at least 1"),
    (["--from", "x=1,y=1", "--tol", "-1"], "--tol"),
    ([], "needs a starting point"),
])
def test_bad_input_exit_2(cli, args, needle):
    code, out, err = cli("minimize", ROSENBROCK, *args)
    assert code == 2
    assert out == ""
    assert needle in err


def test_bad_input_json_error_object(cli):
    code, out, _ = cli("minimize", ROSENBROCK, "--from", "x=1,y=1", "--method", "sgd", "--format", "json")
    assert code == 2
    assert json.loads(out)["error"]["kind"] == "usage"


def test_domain_error_at_the_start_is_exit_1(cli):
    code, out, err = cli("minimize", "log(x)", "--from", "x=-1")
    assert code == 1 and out == "" and "outside the domain of log" in err


def test_library_errors_are_calc_errors():
    with pytest.raises(UsageError):
        minimize_from("x^2", ["x=1"], None, None, "nope", None, None, 1e-8, False)
    with pytest.raises(CalcError):
        minimize_from("x^2 +", ["x=1"], None, None, "auto", None, None, 1e-8, False)


def test_import_is_light():
    """Importing the command module loads neither numpy nor rich (start-up time)."""
    code = ("import sys, calccli.commands.optimize, calccli.commands.fit; "
            "print('numpy' in sys.modules, 'rich' in sys.modules, 'plotext' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False", "False"]


@pytest.mark.parametrize("expr,start,method", [("-x^2", "x=0.1", "auto"), ("-x^2 - y^2", "x=0.1,y=1", "newton"),
                                               ("x^3", "x=-1", "gd"), ("x", "x=0", "bfgs")])
def test_unbounded_below_is_reported(cli, expr, start, method):
    code, out, err = cli("minimize", expr, "--from", start, "--method", method, "--format", "json")
    assert code == 1
    d = json.loads(out)
    assert d["converged"] is False and "unbounded below" in d["reason"]
    assert err == ""                                     # no numpy warnings leak out


def test_flat_direction_does_not_freeze_the_others():
    # ∂²J/∂x² = -cos(π/2) = 0 at the start while ∂J/∂x = -1: the step along x must stay
    # moderate so that the line search does not shrink the step along y to nothing
    r = run("cos(x) + (y - 2)^2", "x=pi/2,y=0", "newton")
    assert r.history[1].note == "H modified" and r.history[1].alpha >= 0.5
    assert r.converged and r.argmin()["x"] == pytest.approx(math.pi) and r.argmin()["y"] == pytest.approx(2.0)
    assert r.iterations < 10


def test_latex(cli):
    code, out, _ = cli("minimize", ROSENBROCK, "--from", "x=-1.2,y=1", "--format", "latex")
    assert code == 0
    assert r"\operatorname*{argmin}_{x, y} J" in out and "converged in 23 iterations" in out   # trust-region default
    code, out, _ = cli("minimize", "x^2", "--from", "x=1", "--method", "gd", "--steps", "3", "--format", "latex")
    assert code == 1 and "NOT converged after 3 iterations" in out


def test_vector_variables_are_flattened(cli):
    # x^T A x - 2 bᵀx is minimal where A x = b: x = A⁻¹b = (0.4, 0.2) for A = [[2,1],[1,3]], b = [1,1]
    code, out, _ = cli("minimize", "x^T A x - 2 dot(b, x)", "--let", "A=[[2,1],[1,3]]", "--let", "b=[1,1]",
                       "--from", "x=[0,0]", "--format", "json")
    assert code == 0
    d = json.loads(out)
    assert list(d["argmin"]) == ["x[1]", "x[2]"] and d["variables"] == ["x[1]", "x[2]"]
    assert d["argmin"]["x[1]"] == pytest.approx(0.4) and d["argmin"]["x[2]"] == pytest.approx(0.2)
    assert d["minimum"] == pytest.approx(-0.6) and d["classification"] == "minimum"
    for m in ("bfgs", "gd"):
        r = minimize_from("x^T A x - 2 dot(b, x)", ["x=[0,0]"], ["A=[[2,1],[1,3]]", "b=[1,1]"], None, m,
                          None, None, 1e-8, False)
        assert r.converged and r.last.theta == pytest.approx([0.4, 0.2])


def test_non_scalar_objective_is_a_type_error(cli):
    code, out, err = cli("minimize", "x", "--from", "x=[1,2]")
    assert code == 2 and out == "" and "scalar" in err
