"""The REPL's session as a library: statements in, outcomes (results, errors) out."""
from __future__ import annotations

import importlib.util
import math

import pytest

from calccli.errors import CalcError
from calccli.app.output import error_text, render
from calccli.app.session import Session, literal, split_command, substitute

SEED = "sqrt(x^2+exp(x^2)) + cos(x^2+exp(x^2))"
F1 = 5.983082595908695          # f'(1) of the seed function (the notes, checked with a CAS)
F0 = 1.0900122119747424         # f(1)


def has(module: str) -> bool:
    """Whether a command or front-end module exists; a missing one fails the test instead of skipping it."""
    if any(importlib.util.find_spec(f"calccli.{layer}.{module}") for layer in ("commands", "app")):
        return True
    raise AssertionError(f"calccli has no module {module!r}")


def arrays_work() -> bool:
    try:
        Session().execute("[1, 2]").result.value
    except (AttributeError, CalcError):
        return False
    return Session().execute("[1, 2]").error is None


needs_multivar = pytest.mark.skipif(not has("multivar"), reason="calccli.commands.multivar not there yet")
needs_optimize = pytest.mark.skipif(not has("optimize"), reason="calccli.commands.optimize not there yet")
needs_symbolic = pytest.mark.skipif(not has("symbolic"), reason="calccli.commands.symbolic not there yet")
needs_arrays = pytest.mark.skipif(not arrays_work(), reason="vectors and matrices not there yet")


def ok(s: Session, line: str):
    o = s.execute(line)
    assert o.error is None, error_text(o.error)
    return o


def value(s: Session, line: str):
    o = ok(s, line)
    assert o.value, f"{line!r} is not a value statement"
    return o.result.value


def err(s: Session, line: str) -> CalcError:
    o = s.execute(line)
    assert o.error is not None, f"{line!r} should fail"
    assert o.status == o.error.exit_code
    return o.error


@pytest.fixture
def s():
    ses = Session()
    ok(ses, f"f(x) = {SEED}")
    return ses


# ---- definitions and values ------------------------------------------------------

def test_seed_function_and_its_derivative(s):
    assert value(s, "f(1)") == F0
    assert value(s, "f'(1)") == F1
    assert ok(s, "f'(1)").result.expression == "f'(1)"


def test_prime_matches_calc_diff_exactly(s):
    from calccli.commands.derivatives import diff_at
    for x in (0.5, 1.0, -2.0, 3.25):
        d = diff_at(SEED, [f"x={x!r}"]).derivative
        assert value(s, f"f'({x!r})") == d


def test_prime_argument_may_use_bindings_and_functions(s):
    ok(s, "a = 0.5")
    ok(s, "g(t) = 2t")
    assert value(s, "f'(g(a))") == F1
    assert value(s, "f'(2a)") == F1


def test_prime_inside_an_expression_is_the_symbolic_derivative(s):
    assert math.isclose(value(s, "f'(1) + 1"), F1 + 1, rel_tol=1e-14)
    ok(s, "h(x) = f'(x)")
    assert math.isclose(value(s, "h(1)"), F1, rel_tol=1e-14)


def test_second_derivative(s):
    # d²/dx² of the seed at 1, from central differences of the exact first derivative
    from calccli.commands.derivatives import diff_at
    h = 1e-5
    fd = (diff_at(SEED, ["x=1.00001"]).derivative - diff_at(SEED, ["x=0.99999"]).derivative) / (2 * h)
    got = value(s, "f''(1)")
    assert math.isclose(got, fd, rel_tol=1e-6)
    assert math.isclose(value(s, "f''(1) + 0"), got, rel_tol=1e-12)
    # the statement is computed exactly as `calc diff … --order 2`
    from calccli.app.wiring import diff_compute
    from calccli.render.json import to_obj
    cli = to_obj(diff_compute(["x=1"], None, None, "reverse", "2", False)(SEED))["derivative"]
    assert got == cli


def test_prime_of_polynomials():
    s = Session()
    ok(s, "p(x) = x^3 - 2x")
    assert value(s, "p'(2)") == 10.0
    assert value(s, "p''(2)") == 12.0
    ok(s, "q(x) = p''(x)")
    assert "q(x) = 6x" in ok(s, ":vars").text
    assert value(s, "p'(2) + 0") == 10.0
    assert value(s, "p''(2) + 0") == 12.0
    assert value(s, "p'''(5) + 0") == 6.0


def test_bindings_and_functions_compose():
    s = Session()
    ok(s, "a = 2")
    ok(s, "b = a^2 + 1")          # values use earlier bindings
    assert value(s, "b") == 5.0
    ok(s, "sq(x) = x^2")
    ok(s, "g(x, y) = sq(x) + a y")  # functions call earlier functions and see bindings
    assert value(s, "g(3, 1)") == 11.0
    ok(s, "a = 10")                 # bindings are looked up when a function is used
    assert value(s, "g(3, 1)") == 19.0
    assert value(s, "sq(sq(2))") == 16.0


def test_arguments_are_substituted_simultaneously():
    s = Session()
    ok(s, "d(x, y) = x - 2y")
    ok(s, "x = 1")
    ok(s, "y = 10")
    assert value(s, "d(y, x)") == 8.0


def test_redefining_a_function_keeps_earlier_expansions():
    s = Session()
    ok(s, "g(x) = x + 1")
    ok(s, "h(x) = 2 g(x)")
    ok(s, "g(x) = x + 100")
    assert value(s, "h(1)") == 4.0
    ok(s, "g(x) = g(x) + 1")       # not recursive: the old g is expanded
    assert value(s, "g(0)") == 101.0


def test_expansion_is_a_dag_with_shared_nodes():
    from calccli.engine.tape import build_tape
    s = Session()
    ok(s, "u(t) = t^2 + exp(t^2)")
    ok(s, "f(x) = sqrt(u(x)) + cos(u(x))")
    tape = build_tape(s.functions["f"].body)
    assert len(tape.rows) == 6          # a…f, as in the notes


def test_substitute_is_not_recursive():
    from calccli.engine import expr
    x = expr.var("x")
    node = x
    for _ in range(5000):
        node = expr.make("add", (node, x))
    out = substitute(node, {x: expr.num(2.0)})
    assert out.args[1] is expr.num(2.0)
    s = Session()
    ok(s, "f(x) = " + "+".join(["x"] * 3000))
    assert value(s, "f(1)") == 3000.0


def test_expression_alone_reports_the_user_text(s):
    o = ok(s, "f(1) + 0")
    assert o.result.expression == "f(1) + 0"
    assert o.status == 0


def test_number_literals_round_trip():
    for v in (0.1, -2.5, 1e-300, 6.02e23, 1 / 3, 5e-324):
        s = Session()
        ok(s, f"a = {v!r}")
        assert s.bindings["a"].value == v
        assert value(s, "a") == v
    assert literal([[1.0, 2.5], [3.0, -4.0]]) == "[[1, 2.5], [3, -4]]"


def test_vars_lists_bindings_and_functions(s):
    ok(s, "a = 2.5")
    text = ok(s, ":vars").text
    assert "a = 2.5" in text
    assert "f(x) = sqrt(x^2 + exp(x^2)) + cos(x^2 + exp(x^2))" in text
    assert Session().execute(":vars").text == "(nothing defined yet)"


def test_del_forgets(s):
    ok(s, "a = 1")
    ok(s, ":del a f")
    assert err(s, "a").kind == "usage"
    assert "unknown function 'f'" in err(s, "f(1)").message


def test_help_shows_every_statement_with_an_example():
    text = ok(Session(), ":help").text
    for word in ("f(x) = ", "f'(1)", "diff f(x) at x=1", "grad ", "jacobian ", "hessian ", "minimize ",
                 "eval ", "check ", ":mode forward", ":format json", ":vars", ":quit", "A = [[2,1],[1,3]]"):
        assert word in text, word


def test_quit_and_comments():
    s = Session()
    assert s.execute(":quit").quit and s.execute(":q").quit
    o = s.execute("   # only a comment")
    assert o.result is None and o.error is None and o.status == 0
    assert value(s, "1 + 2   # three") == 3.0


# ---- errors: caret messages, and the session goes on ---------------------------------

def test_parse_error_has_a_caret_in_the_statement(s):
    e = err(s, "f(1) +")
    assert e.kind == "parse" and e.exit_code == 2
    assert e.source == "f(1) +" and e.pos == 6     # where the expression is missing
    assert value(s, "f(1)") == F0


def test_error_in_a_command_points_into_the_whole_line(s):
    e = err(s, "diff sin(x)) at x=1")
    assert e.caret_lines() == ["  diff sin(x)) at x=1", "             ^"]
    e = err(s, "diff x^2 at x=1+")
    assert e.source == "diff x^2 at x=1+" and e.pos == 16


def test_error_in_a_definition_points_into_the_line():
    s = Session()
    e = err(s, "g(x) = x +* 2")
    assert e.source == "g(x) = x +* 2" and e.pos == 10
    assert "g" not in s.functions


def test_unknown_names_and_misuse():
    s = Session()
    ok(s, "f(x, y) = x y")
    e = err(s, "q + 1")
    assert "'q' has no value" in e.message and e.pos == 0
    assert "takes 2 arguments, got 1" in err(s, "f(1)").message
    e = err(s, "f + 1")
    assert "'f' is a function: write f(x, y)" in e.message and e.pos == 0
    assert "one variable" in err(s, "f'(1)").message
    assert "one variable" in err(s, "f'(1) + 1").message
    assert "built-in function" in err(s, "sin(x) = x").message
    assert "built-in function" in err(s, "exp = 2").message
    assert "constant" in err(s, "pi = 3").message
    assert "is a command" in err(s, "diff = 3").message
    assert "appears twice" in err(s, "g(x, x) = x").message
    assert "unknown command ':nope'" in err(s, ":nope").message
    assert "unknown mode" in err(s, ":mode sideways").message
    assert "unknown format" in err(s, ":format xml").message


def test_domain_error_has_status_1_and_the_session_goes_on():
    s = Session()
    ok(s, "g(x) = log(x)")
    e = err(s, "g(0)")
    assert e.exit_code == 1 and e.kind == "domain"
    assert value(s, "g(e)") == 1.0


def test_no_input_raises():
    s = Session()
    for line in ["", ")", "((", "f(", "=", "= 2", "f() = 1", "f(1) = 2", "a b = 3", "'", "f'", ":",
                 "diff", "diff at x=1", "eval 1 at", "minimize x^2", "\x00", "x" * 10, "[1,", "1e999",
                 "diff x^2 at x=1 order", "diff x^2 at x=1 steps 2", "plot x", "fit x"]:
        o = s.execute(line)   # never raises
        assert o.error is None or o.error.exit_code in (1, 2), line


# ---- commands: the same functions and results as the CLI ---------------------------------

def test_diff_command_is_calc_diff(s):
    o = ok(s, "diff f(x) at x=1")
    r = o.result
    assert r.derivative == F1 and r.value == F0
    assert [t.name for t in r.trace] == list("abcdef")
    assert r.mode == "reverse"
    text = render(r, "plain")
    assert "f'(1) = 5.983082595908695" in text
    assert "Intermediate variables" in text


def test_diff_accepts_cli_spelling_and_quotes(s):
    a = ok(s, f"diff {SEED} at x=1").result
    b = ok(s, f'diff "{SEED}" --at x=1 --mode forward').result
    c = ok(s, f"diff {SEED} at 1 mode forward").result
    assert a.derivative == b.derivative == c.derivative == F1
    assert b.mode == c.mode == "forward"


def test_mode_sets_the_default(s):
    ok(s, ":mode forward")
    assert ok(s, "diff f(x) at x=1").result.mode == "forward"
    assert value(s, "f'(1)") == F1
    assert ok(s, "diff f(x) at x=1 mode reverse").result.mode == "reverse"
    ok(s, ":mode reverse")
    assert ok(s, "diff f(x) at x=1").result.mode == "reverse"


def test_format_per_statement_and_session(s):
    import json
    o = ok(s, "diff f(x) at x=1 format json")
    assert o.fmt == "json"
    obj = json.loads(render(o.result, o.fmt))
    assert obj["derivative"] == F1 and obj["expression"] == "sqrt(x^2 + exp(x^2)) + cos(x^2 + exp(x^2))"
    ok(s, ":format json")
    assert s.fmt == "json"


def test_points_may_use_bindings_and_functions(s):
    ok(s, "a = 0.5")
    assert ok(s, "diff f(x) at x=2a").result.derivative == F1
    assert ok(s, "eval x y at x=a, y=f(1)").result.value == 0.5 * F0


def test_bindings_are_constants_unless_named(s):
    ok(s, "k = 3")
    r = ok(s, "diff k x^2 at x=2").result
    assert r.derivative == 12.0 and r.point == {"x": 2.0}
    ok(s, "x = 5")
    assert ok(s, "diff x^2 at x=1").result.derivative == 2.0      # at names x: a variable
    assert ok(s, "diff x^2 at 1").result.derivative == 2.0
    assert value(s, "x^2") == 25.0                                  # elsewhere the binding


def test_split_command():
    c = split_command("minimize (x-1)^2 + y^2 from x=0, y=[1, 2] method gd --lr 0.1", "minimize", 8)
    assert c.expr == "(x-1)^2 + y^2"
    assert c.options == {"from": ["x=0, y=[1, 2]"], "method": "gd", "lr": "0.1"}
    c = split_command('diff "x at y" at x=1 steps', "diff", 4)
    assert c.expr == "x at y" and c.options == {"at": ["x=1"], "steps": True}
    c = split_command("eval f(at) at at=1", "eval", 4)      # inside brackets: not keywords
    assert c.expr == "f(at)" and c.options == {"at": ["at=1"]}


@needs_symbolic
def test_diff_without_at_is_symbolic(s):
    import json
    r = ok(s, "diff x^3 format json").result
    obj = json.loads(render(r, "json"))
    assert obj["derivative_expression"] in ("3x^2", "3*x^2")


@needs_multivar
@needs_arrays
def test_issue_example_grad_and_hessian():
    s = Session()
    ok(s, "A = [[2,1],[1,3]]")
    r = ok(s, "grad x^T A x at x=[1,-1]").result
    import json
    obj = json.loads(render(r, "json"))
    # ∇ xᵀAx = (A + Aᵀ)x = 2Ax for symmetric A: 2·[2-1, 1-3] = [2, -4]
    assert obj["gradient"] == [2.0, -4.0]
    assert obj["variables"] == ["x[1]", "x[2]"]
    r = ok(s, "hessian (x-1)^2 + 3(y+2)^2 at x=0, y=0").result
    obj = json.loads(render(r, "json"))
    assert obj["hessian"] == [[2.0, 0.0], [0.0, 6.0]]
    assert obj["classification"] == "minimum"


@needs_multivar
def test_grad_jacobian_hessian_commands(s):
    import json
    ok(s, "g(x, y) = x^2 y + sin(x y)")
    obj = json.loads(render(ok(s, "grad g(x, y) at x=1, y=2").result, "json"))
    assert obj["variables"] == ["x", "y"]
    assert math.isclose(obj["gradient"][0], 2 * 1 * 2 + 2 * math.cos(2), rel_tol=1e-12)
    assert math.isclose(obj["gradient"][1], 1 + math.cos(2), rel_tol=1e-12)
    obj = json.loads(render(ok(s, "jacobian [x y, x + y, sin(x)] at x=1, y=2").result, "json"))
    assert obj["jacobian"] == [[2.0, 1.0], [1.0, 1.0], [math.cos(1), 0.0]]
    assert obj["mode"] == "forward"
    ok(s, ":mode reverse")
    obj = json.loads(render(ok(s, "jacobian [x y, x + y, sin(x)] at x=1, y=2").result, "json"))
    assert obj["mode"] == "reverse"
    obj = json.loads(render(ok(s, "hessian (1-x)^2 + 100(y-x^2)^2 at x=1, y=1").result, "json"))
    assert obj["hessian"] == [[802.0, -400.0], [-400.0, 200.0]]


@needs_optimize
def test_minimize_command():
    import json
    s = Session()
    ok(s, "rosen(x, y) = (1-x)^2 + 100(y-x^2)^2")
    o = ok(s, "minimize rosen(x, y) from x=-1.2, y=1")
    obj = json.loads(render(o.result, "json"))
    assert obj["converged"] is True
    assert math.isclose(obj["argmin"]["x"], 1.0, abs_tol=1e-6)
    assert math.isclose(obj["argmin"]["y"], 1.0, abs_tol=1e-6)
    o = s.execute("minimize rosen(x, y) from x=-1.2, y=1 method gd steps 3")
    assert o.error is None and o.status == 1      # printed, but did not converge


def test_a_pasted_cli_line_works():
    s = Session()
    r = ok(s, 'calc diff "x^3" --at 2 --mode forward').result
    assert (r.derivative, r.mode) == (12.0, "forward")
    e = err(s, 'calc eval "1 +"')
    assert e.source == 'calc eval "1 +"' and e.pos == 14


def test_primes_after_numbers_and_in_products():
    s = Session()
    ok(s, "f(x) = x^3")
    assert value(s, "2f'(1)") == 6.0
    assert value(s, "3 f''(2)") == 36.0
    assert err(s, "2'").kind == "parse"
    assert "unexpected character \"'\"" in err(s, "f(1)'").message


def test_nested_compositions_stay_a_small_dag():
    s = Session()
    ok(s, "f(x) = x^2 + sin(x)")
    for new, old in zip("ghkm", "fghk"):
        ok(s, f"{new}(x) = {old}({old}(x))")
    note = ok(s, "n(x) = m(m(x))").note          # written out: tens of billions of characters
    assert note.startswith("n(x) = … (about ") and "distinct nodes" in note
    assert value(s, "m(0.1)") == 7047.491051431962
    e = err(s, "diff m(m(x))")                    # a formula that long cannot be written
    assert e.kind == "size" and e.exit_code == 1 and "characters" in e.message
    e = err(s, "diff m(m(x)) at x=0.1")           # at a point it is computed, on the DAG: it overflows
    assert e.kind == "overflow" and e.exit_code == 1
    d = ok(s, "diff m(x) at x=0.1").result.derivative
    central = (value(s, "m(0.1 + 1e-7)") - value(s, "m(0.1 - 1e-7)")) / 2e-7
    assert d == pytest.approx(central, rel=1e-5)
    assert ok(s, "diff k(x) at x=0.1").result.value == value(s, "k(0.1)")
