"""Fuzzing: whatever it is given, calc answers with a result or one of its own errors.

* Library: the only exceptions that may leave ``calccli.language.parse.parse``,
  ``calccli.language.points.resolve``, the commands' library functions and the renderers
  are ``calccli.errors.CalcError`` subclasses (and never the "internal" kind,
  which is how calc reports its own bugs).
* CLI: every command exits 0, 1 or 2, never prints a traceback or an internal
  error, and with ``--format json`` every line on stdout is strict JSON.

The inputs are random strings (any unicode, control characters, huge numbers,
stray operators, unbalanced brackets), random token soup in calc's alphabet,
random grammatical expressions with values at the domain boundaries, and deep
nesting.

CI runs a few hundred examples per test (about a minute in all). For a long run:

    CALC_FUZZ_EXAMPLES=20000 python -m pytest tests/test_fuzz.py -q -p no:cacheprovider

(every test then runs that many examples; a failure is shrunk and printed, and
hypothesis remembers it in .hypothesis/ so the next run tries it first). A
coverage-guided run with atheris: ``python tests/fuzz_atheris.py -max_total_time=600``.
"""
from __future__ import annotations

import importlib.util
import json
import math
import os
import signal
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, example, given, reject, settings
from hypothesis import strategies as st

from calccli.app import wiring as C
from calccli.errors import CalcError

ROOT = Path(__file__).resolve().parent.parent
LONG = int(os.environ.get("CALC_FUZZ_EXAMPLES", "0") or 0)
# A hang is a failure too: an example that runs longer than this is reported.
# Generous on purpose (slow CI machines); this is a watchdog, not a timing test.
WATCHDOG_SECONDS = int(os.environ.get("CALC_FUZZ_WATCHDOG", "60"))


def fuzz(n: int):
    """hypothesis settings: ``n`` examples in CI, CALC_FUZZ_EXAMPLES for a long run."""
    return settings(max_examples=LONG or n, deadline=None, derandomize=not LONG,
                    suppress_health_check=list(HealthCheck), database=None if not LONG else settings.default.database)


class Hang(BaseException):
    """Raised by the watchdog; a BaseException so calc's own guards cannot swallow it."""


@contextmanager
def watchdog(what: str):
    if not hasattr(signal, "SIGALRM"):
        yield
        return

    def fire(*_):
        raise Hang(f"no answer after {WATCHDOG_SECONDS} s: {what}")
    old = signal.signal(signal.SIGALRM, fire)
    signal.alarm(WATCHDOG_SECONDS)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def have(module: str) -> bool:
    """Whether a command or front-end module exists; a missing one fails the test instead of skipping it."""
    if any(importlib.util.find_spec(f"calccli.{layer}.{module}") for layer in ("commands", "app")):
        return True
    raise AssertionError(f"calccli has no module {module!r}")


# ---------------------------------------------------------------------------
# Strategies
# ---------------------------------------------------------------------------

FUNCS = ["sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh", "exp", "log", "ln",
         "sqrt", "abs", "sigmoid", "softplus", "dot", "norm", "sum", "trace", "det", "inv",
         "transpose", "sinn", "f", "max", "eval", "__import__", "exec", "open"]
NUMBERS = ["0", "1", "2", "3", ".5", "0.5", "1e-3", "6.02E23", "1e308", "1.8e308", "1e309", "1e999",
           "9" * 400, "1" + "0" * 5000, "1e-320", "1e-400", "0.0", "00", "1.", "2.5e+10", "4.9e-324",
           "1e", "1e+", "..5", "1.2.3", "0x10", "1_000", "١", "²", "½", "nan", "inf", "Infinity"]
NAMES = ["x", "y", "z", "θ", "α", "w_0", "x1", "pi", "π", "e", "T", "A", "u", "v", "foo", "_", "ε",
         "yhat", "ﬁ", "x\u0301", "X", "Σ", "ℯ", "𝑥"]
OPS = ["+", "-", "*", "/", "^", "**", "(", ")", "[", "]", ",", "^T", "'", "=", "!", "%", ";", "$",
       "\\", "|", "&", "<", ">", ".", "..", ":", "\"", "#", "{", "}", "@", "~", "`", "?"]
WEIRD = ["\x00", "\x01", "\x1b[31m", "\x7f", "\u200b", "\ufeff", "\u2028", "\u00a0", "\ud800",
         "\udcff", "\U0010ffff", "−", "×", "÷", "√", "∞", "\r", "\n", "\t", "\f", "\v", "\u0085"]
SPACE = st.sampled_from(["", "", "", " ", "  ", "\t", "\n"])

token = st.one_of(
    st.sampled_from(NUMBERS), st.sampled_from(NAMES), st.sampled_from(OPS),
    st.sampled_from(FUNCS).map(lambda f: f + "("), st.sampled_from(WEIRD),
    st.integers(-10**30, 10**30).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.text(max_size=3),
)
token_soup = st.lists(st.tuples(token, SPACE), max_size=25).map(lambda ts: "".join(a + b for a, b in ts))
any_text = st.text(max_size=60)  # every code point hypothesis can make, surrogates included
junk = st.one_of(any_text, token_soup)

# Values at and around the domain boundaries of the primitives.
BOUNDARY = ["0", "1", "-1", "2", "-2", "0.5", "-0.5", "pi/2", "-pi/2", "pi", "1e308", "-1e308",
            "1e-320", "710", "-746", "1e16", "1.0000000000000002", "0.9999999999999999", "e"]
leaf = st.one_of(st.sampled_from(["x", "y", "x", "y", "z"]), st.sampled_from(BOUNDARY),
                 st.sampled_from(["[1, 2]", "[[1, 2], [3, 4]]", "[x, y]", "[[1, 2], [2, 4]]"]))


def _grow(children):
    unary = st.sampled_from(["sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh", "exp",
                             "log", "ln", "sqrt", "abs", "sigmoid", "softplus", "norm", "sum", "trace",
                             "det", "inv", "transpose"])
    binary = st.sampled_from(["+", "-", "*", "/", "^", "**", " ", ""])
    return st.one_of(
        st.tuples(children, binary, children).map(lambda t: f"({t[0]}){t[1]}({t[2]})"),
        st.tuples(children, st.sampled_from(["+", "-", "*", "/", "^"]), children).map(lambda t: f"{t[0]} {t[1]} {t[2]}"),
        st.tuples(unary, children).map(lambda t: f"{t[0]}({t[1]})"),
        st.tuples(st.sampled_from(["dot", "log"]), children, children).map(lambda t: f"{t[0]}({t[1]}, {t[2]})"),
        children.map(lambda c: f"-{c}"),
        children.map(lambda c: f"({c})^T"),
        st.tuples(children, st.integers(0, 3)).map(lambda t: f"({t[0]})[{t[1]}]"),
        st.lists(children, min_size=1, max_size=3).map(lambda cs: "[" + ", ".join(cs) + "]"),
    )


expression = st.recursive(leaf, _grow, max_leaves=12)


@st.composite
def deep(draw):
    """Deeply nested input, balanced or not."""
    n = draw(st.integers(1, 5000 if LONG else 1500))
    shape = draw(st.sampled_from(["paren", "call", "neg", "pow", "bracket", "exp", "sum", "mixed"]))
    text = {
        "paren": "(" * n + "x" + ")" * n,
        "call": "sin(" * n + "x" + ")" * n,
        "neg": "-" * n + "x",
        "pow": "^".join(["x"] * n),
        "bracket": "[" * n + "1" + "]" * n,
        "exp": "exp(" * n + "x" + ")" * n,
        "sum": "+".join(["x"] * n),
        "mixed": "(-sqrt(1+" * n + "x" + "))" * n,
    }[shape]
    cut = draw(st.sampled_from([0, 0, 0, 1, 2]))  # sometimes unbalanced
    return text[:len(text) - cut] if cut else text


# Small everyday expressions: most bugs live where ordinary input meets an odd option.
simple = st.sampled_from(["1", "0", "x", "y", "x y", "x^2", "x^2 + y^2", "sum(x)", "[x, y]", "x^T x", "A x",
                          "norm(x)", "abs(x)", "sqrt(x)", "log(x)", "x^y", "exp(x)", "1/x", "det(A)", "inv(A)",
                          "x[1]", "A[1,2]", "sin(x) y", "[x^2, x y]", "(1-x)^2 + 100(y-x^2)^2", "w*x + b",
                          "yhat", "-x", "--x", "x^T", "pi", "e", "e^x", "θ^2"])
any_expression = st.one_of(junk, expression, simple, simple, deep())

AT_VALUES = ["1", "0", "-1", "x=1", "x=1,y=2", "x=0,y=0,z=0", "x=1e308,y=-1e308", "x=pi/2,y=e",
             "x=[1,2]", "x=[[1,2],[3,4]]", "x=1e999", "x=sqrt(-1)", "x=y", "x=", "=1", "x==1", "x=1,,y=2",
             "x=(1", "1,2", "θ=1", "x=1,x=2", "", " ", "x=1e-320", "x=1;rm -rf /", "x=__import__('os')",
             "x=1\x00", "y=2", "z=[1,2,3]", "A=[[1,2],[3,4]]", "x=[]", "x=[1,[2]]"]
at_option = st.lists(st.one_of(st.sampled_from(AT_VALUES), junk), max_size=3)
wrt_option = st.one_of(st.none(), st.sampled_from(["x", "y", "x,y", "y,x", "z", "x,x", "", ",", "θ", "pi",
                                                   "1", "x y"]), junk)


# ---------------------------------------------------------------------------
# Library
# ---------------------------------------------------------------------------

def only_calc_errors(fn, *args, **kw):
    """Run fn; a CalcError is a fine answer, anything else (or an internal error) fails the test."""
    with watchdog(f"{getattr(fn, '__name__', fn)}{args!r:.300}"):
        try:
            return fn(*args, **kw)
        except ModuleNotFoundError as e:  # a command whose module has not landed yet
            if not (e.name or "").startswith("calccli."):
                raise
            reject()
        except CalcError as e:
            assert e.kind != "internal", e.message
            assert isinstance(e.message, str) and e.message
            assert e.exit_code in (1, 2)
            e.caret_lines()  # the caret must be drawable
            json.dumps(e.to_json(), allow_nan=False)
            return None


@fuzz(1000)
@given(junk)
@example("")
@example("\x00")
@example("(" * 100_000)
@example("x" * 10_000_000)
@example("1" * 999_999)
@example("\udcff")
def test_parse_raises_only_calc_errors(text):
    from calccli.language.parse import parse
    only_calc_errors(parse, text)


@fuzz(300)
@given(any_expression)
def test_parse_expressions_and_deep_nesting(text):
    from calccli.language.parse import parse
    from calccli.engine.printer import to_text
    parsed = only_calc_errors(parse, text)
    if parsed is not None:  # what calc prints reads back as the same expression
        again = only_calc_errors(parse, to_text(parsed.node))
        assert again is not None and again.node is parsed.node


@fuzz(400)
@given(any_expression, at_option, at_option, wrt_option)
def test_resolve_raises_only_calc_errors(text, at, let, wrt):
    from calccli.language.parse import parse
    from calccli.language.points import resolve
    parsed = only_calc_errors(parse, text)
    if parsed is None:
        parsed = parse("x + y")
    for need_point in (True, False):
        only_calc_errors(resolve, parsed.node, at, let, wrt, need_point=need_point, parsed=parsed)


@fuzz(200)
@given(junk)
def test_constant_value_raises_only_calc_errors(text):
    from calccli.language.points import constant_value
    v = only_calc_errors(constant_value, text)
    if isinstance(v, float):
        assert math.isfinite(v)


def render_everywhere(result):
    """A result must render in every format (the renderers are library code too)."""
    import io

    from rich.console import Console

    from calccli.app.output import render
    from calccli.render import rich as rich_render
    from calccli.render.views import to_doc
    for fmt in ("plain", "json", "latex"):
        text = only_calc_errors(render, result, fmt)
        if fmt == "json" and text is not None:
            strict_json_lines(text)
    only_calc_errors(lambda: rich_render.render(to_doc(result), Console(file=io.StringIO(), width=100)))


MODES = st.sampled_from(["forward", "reverse", "auto", "sideways", ""])


def library_calls(draw):
    """(command name, compute) for a random command with random options."""
    at, let, wrt = draw(at_option), draw(at_option), draw(wrt_option)
    cmd = draw(st.sampled_from(["eval", "diff", "grad", "jacobian", "hessian", "check", "graph", "plot",
                                "minimize", "fit"]))
    if cmd == "eval":
        return cmd, C.eval_compute(at, let)
    if cmd == "diff":
        order = draw(st.sampled_from(["1", "1", "2", "3", "0", "-1", "x", "1.5", "+2", " 2", "", "100", "101",
                                      "99999999999999999999"]))
        return cmd, C.diff_compute(at, let, wrt, draw(MODES), order, draw(st.booleans()))
    if cmd == "grad":
        return cmd, C.grad_compute(at, let, wrt, draw(st.booleans()))
    if cmd == "jacobian":
        return cmd, C.jacobian_compute(at, let, wrt, draw(MODES))
    if cmd == "hessian":
        return cmd, C.hessian_compute(at, let, wrt)
    if cmd == "check":
        return cmd, C.check_compute(at, let, wrt, draw(st.sampled_from([1e-6, 0.0, -1.0, 1e300])))
    if cmd == "graph":
        try:
            return cmd, C.graph_compute(let, draw(st.sampled_from(["tree", "dot", "json", "plain", "x"])))[0]
        except ImportError:
            return cmd, None
    if cmd == "plot":
        lo, hi = draw(st.sampled_from([("-1", "1"), ("0", "0"), ("1", "-1"), ("-1e308", "1e308"), ("x", "1"),
                                       ("-pi", "pi"), ("0", "1e-300"), ("nan", "1")]))
        return cmd, C.plot_compute(lo, hi, draw(st.integers(-1, 4)), draw(st.sampled_from([None, "0", "x=1", "y"])),
                                   let, wrt, draw(st.sampled_from([0, 1, 40, -5])), draw(st.sampled_from([0, 1, 10, -5])))
    if cmd == "fit":
        data = draw(st.sampled_from([str(ROOT / "examples" / f) for f in ("line.csv", "logistic.csv",
                                                                           "quadratic.csv")]
                                    + ["/nonexistent.csv", "/", "/dev/null", "", str(ROOT / "README.md")]))
        return cmd, C.fit_compute(data, draw(st.sampled_from(["y", "x", "nope", ""])),
                                  draw(st.sampled_from(["batch", "online", "minibatch", "nope"])),
                                  draw(st.sampled_from([1, 16, 0, 10**9])),
                                  draw(st.sampled_from(["fixed", "shuffle", "sample", "nope"])),
                                  draw(st.sampled_from([1, 3, 0])), draw(st.sampled_from([0.05, 1e10, 0.0, -1.0])),
                                  draw(st.sampled_from([None, 0, -1])), draw(st.one_of(st.none(), at_option)),
                                  draw(st.one_of(st.none(), st.sampled_from(["(yhat - y)^2", "abs(yhat - y)",
                                                                             "log(yhat)", "yhat", "1"]), junk)),
                                  draw(st.booleans()))
    method = draw(st.sampled_from(["auto", "gd", "momentum", "adam", "newton", "bfgs", "nope"]))
    lr = draw(st.sampled_from([None, 0.1, 0.0, -1.0, 1e300, float("nan")]))
    steps = draw(st.sampled_from([None, 1, 20, 0, -3]))
    return cmd, C.minimize_compute(at, let, wrt, method, lr, steps if steps is not None else 50,
                                   draw(st.sampled_from([1e-8, 0.0, -1.0])), draw(st.booleans()))


MODULE_OF = {"grad": "multivar", "jacobian": "multivar", "hessian": "multivar", "check": "check",
             "graph": "graph", "plot": "plot", "minimize": "optimize", "fit": "fit"}


@fuzz(1500)
@given(any_expression, st.data())
def test_library_commands_raise_only_calc_errors(text, data):
    cmd, compute = library_calls(data.draw)
    assume(compute is not None and have(MODULE_OF.get(cmd, "derivatives")))
    result = only_calc_errors(compute, text)
    if result is not None:
        render_everywhere(result)
        from calccli.render.json import to_obj
        obj = only_calc_errors(to_obj, result)
        assert obj is None or not non_finite(obj), (cmd, text, obj)


@fuzz(800)
@given(expression, st.data())
def test_library_on_grammatical_expressions_at_boundary_points(text, data):
    """Grammatical input at points on the domain boundaries: results or CalcErrors, never NaN."""
    point = ",".join(f"{v}={data.draw(st.sampled_from(BOUNDARY))}" for v in ("x", "y", "z"))
    cmd = data.draw(st.sampled_from(["eval", "diff", "diff-forward", "grad", "hessian", "jacobian"]))
    assume(have(MODULE_OF.get(cmd, "derivatives")))
    compute = {
        "eval": lambda: C.eval_compute([point], None),
        "diff": lambda: C.diff_compute([point], None, "x", "reverse", "1", False),
        "diff-forward": lambda: C.diff_compute([point], None, "x", "forward", "1", False),
        "grad": lambda: C.grad_compute([point], None, None, False),
        "hessian": lambda: C.hessian_compute([point], None, None),
        "jacobian": lambda: C.jacobian_compute([point], None, None, "auto"),
    }[cmd]()
    result = only_calc_errors(compute, text)
    if result is not None:
        render_everywhere(result)
        from calccli.render.json import to_obj
        assert not non_finite(to_obj(result)), (text, point, cmd)


def non_finite(obj) -> list:
    """Values that stand for inf or NaN in a result's JSON (calc's JSON writes them as strings)."""
    bad, stack = [], [obj]
    while stack:
        o = stack.pop()
        if isinstance(o, dict):   # names are not values: a variable may be called nan or inf
            stack.extend(v for k, v in o.items() if k not in ("variables", "variable", "expression", "wrt"))
        elif isinstance(o, list):
            stack.extend(o)
        elif o in ("inf", "-inf", "nan") or isinstance(o, float) and not math.isfinite(o):
            bad.append(o)
    return bad


# ---------------------------------------------------------------------------
# CLI
# ---------------------------------------------------------------------------

def _no_constants(name):
    raise ValueError(f"{name} is not strict JSON")


def strict_json_lines(out: str) -> list:
    objs = []
    for line in out.splitlines():
        if line.strip():
            objs.append(json.loads(line, parse_constant=_no_constants))
    return objs


def invoke(args, input=None, check_json=True):
    from typer.testing import CliRunner

    from calccli.app.cli import app
    runner = CliRunner()
    with watchdog(f"calc {args!r:.300}"):
        r = runner.invoke(app, args, input=input, catch_exceptions=True)
    out, err = r.stdout, r.stderr
    assert r.exception is None or isinstance(r.exception, SystemExit), (args, repr(r.exception))
    assert r.exit_code in (0, 1, 2), (args, r.exit_code, out[-500:], err[-500:])
    assert "Traceback" not in out + err, (args, out[-2000:], err[-2000:])
    not_landed = "No module named 'calccli." in out + err  # a command still being written
    assert "internal error" not in out + err or not_landed, (args, out[-500:], err[-500:])
    if check_json and (json_mode(args) or out.startswith("{")):
        strict_json_lines(out)
    return r.exit_code, out, err


def json_mode(args) -> bool:
    """Does this command line ask for JSON (the last --format wins)?"""
    fmts = [args[i + 1] for i in range(len(args) - 1) if args[i] in ("--format", "-f")]
    return bool(fmts) and fmts[-1] == "json" and not {"--help", "-h", "--version"} & set(args)


COMMANDS = ["eval", "diff", "grad", "jacobian", "hessian", "check", "graph", "plot", "minimize", "fit"]
OPTIONS = {
    "eval": ["--at", "--let"],
    "diff": ["--at", "--let", "--wrt", "--mode", "--order", "-n", "--steps"],
    "grad": ["--at", "--let", "--wrt", "--steps"],
    "jacobian": ["--at", "--let", "--wrt", "--mode"],
    "hessian": ["--at", "--let", "--wrt"],
    "check": ["--at", "--let", "--wrt", "--tol"],
    "graph": ["--let"],
    "plot": ["--from", "--to", "--order", "--at", "--let", "--wrt", "--width", "--height"],
    "minimize": ["--from", "--let", "--wrt", "--method", "--lr", "--steps", "--tol", "--trace"],
    "fit": ["--data", "--target", "--mode", "--batch-size", "--order", "--epochs", "--lr", "--seed",
            "--init", "--loss", "--compare"],
}
OPTION_VALUES = ["1", "0", "-1", "x=1", "x=1,y=2", "x", "y", "x,y", "forward", "reverse", "auto", "gd",
                 "adam", "newton", "batch", "online", "minibatch", "shuffle", "sample", "fixed", "1e999",
                 "nan", "-inf", "99999999999999999999999", "", "--", "-", "tree", "dot",
                 str(ROOT / "examples" / "line.csv"), "/nonexistent.csv", "/", "/dev/null", "w=0,b=0",
                 "(yhat - y)^2", "1e-300", "3", "2.5"]


@st.composite
def cli_args(draw):
    cmd = draw(st.sampled_from(COMMANDS + ["nope", "--help", "--version", ""]))
    args = [cmd]
    if cmd in OPTIONS:
        args.append(draw(any_expression))
    for _ in range(draw(st.integers(0, 5))):
        opt = draw(st.sampled_from(OPTIONS.get(cmd, []) + ["--format", "-f", "--bogus", "--at", "--"]))
        args.append(opt)
        if opt in ("--steps", "--trace", "--compare") and cmd != "minimize":
            continue
        args.append(draw(st.one_of(st.sampled_from(OPTION_VALUES), st.sampled_from(["json", "plain", "latex",
                                                                                      "rich", "html"]), junk)))
    if draw(st.booleans()):
        args += ["--format", draw(st.sampled_from(["json", "plain", "latex", "rich"]))]
    if cmd == "minimize" and "--steps" not in args:
        args += ["--steps", "30"]
    if cmd == "fit" and "--epochs" not in args:
        args += ["--epochs", "3"]
    return [a for a in args if "\x00" not in a]  # argv cannot hold NUL


@fuzz(1000)
@given(cli_args())
@example(["eval", "x" * 10_000_000])
@example(["diff", "-x^2", "--at", "1", "--format", "json"])
@example(["eval", "\udcff", "--format", "json"])
def test_cli_never_breaks(args):
    invoke(args)


@fuzz(200)
@given(st.lists(st.one_of(any_expression, st.sampled_from(["# comment", "", "   ", "x^2", "1/0", "sqrt(x)"])),
                max_size=8),
       st.sampled_from(["eval", "diff", "grad", "hessian", "jacobian"]),
       st.sampled_from(["json", "plain", "latex"]))
def test_cli_batch_mode_never_breaks(lines, cmd, fmt):
    assume(have(MODULE_OF.get(cmd, "derivatives")))
    lines = [ln.replace("\n", " ").replace("\r", " ").replace("\x0b", " ").replace("\x0c", " ")
             .replace("\x1c", " ").replace("\x1d", " ").replace("\x1e", " ").replace("\x85", " ")
             .replace("\u2028", " ").replace("\u2029", " ") for ln in lines]
    data = ("\n".join(lines) + "\n").encode("utf-8", "surrogatepass")  # stdin is bytes, valid UTF-8 or not
    code, out, err = invoke([cmd, "-", "--at", "x=0.5,y=2", "--format", fmt], input=data)
    if fmt == "json":
        objs = strict_json_lines(out)
        counted = [ln for ln in lines if ln.strip() and not ln.strip().startswith("#")]
        assert len(objs) == len(counted)


@fuzz(150)
@given(st.lists(st.one_of(junk, expression, st.sampled_from([
    "f(x) = x^2 sin(x)", "f'(1)", "f''(1)", "f'''(0)", "g(x, y) = x y", "g'(1)", "A = [[2,1],[1,3]]",
    "x = 3", "x", "diff x^2 at x=1", "grad x y at x=1, y=2", "hessian x^2 y at x=1, y=2",
    "jacobian [x y, x] at x=1, y=2", "minimize (x-1)^2 from x=0", ":mode forward", ":mode nope",
    ":format json", ":format plain", ":format html", ":help", ":nope", "f(x) = f(x)", "f(x) = g(x)",
    "g(x) = f(x) + 1", "f(", "= 1", "sin = 1", "pi = 3", "e = 2", "f(x, x) = x", "f(1) = 2", "diff",
    "minimize x^4 from x=1", "h(x) = sqrt(x)", "h'(0)", "A^T", "inv(A)", "det(A)"])), max_size=10))
def test_repl_script_never_breaks(statements):
    assume(have("repl") and have("session"))
    statements = [s.replace("\n", " ").replace("\r", " ") for s in statements]
    # :help asks for text, so a script in :format json that asks for it gets text
    invoke(["repl"], input=("\n".join(statements) + "\n:quit\n").encode("utf-8", "surrogatepass"),
           check_json=not any(s.strip().startswith(":help") for s in statements))


# ---------------------------------------------------------------------------
# Found by fuzzing, in modules owned by others: reported, pinned here until fixed
# ---------------------------------------------------------------------------

def _no_internal_error(args):
    code, out, err = invoke_raw(args)
    assert "internal error" not in out + err, (args, err)
    assert code in (0, 1, 2)


def invoke_raw(args, input=None):
    from typer.testing import CliRunner

    from calccli.app.cli import app
    r = CliRunner().invoke(app, args, input=input)
    return r.exit_code, r.stdout, r.stderr


@pytest.mark.parametrize("args", [["minimize", "1", "--from", "y=1", "--wrt", "x,y", "--method", "gd"],
                                  ["minimize", "y^2", "--from", "y=1", "--wrt", "x"]])
def test_minimize_wrt_a_variable_without_a_start(args):
    _no_internal_error(args)


def test_higher_order_with_an_array_point_and_a_constant_expression():
    _no_internal_error(["diff", "1", "--at", "x=[1,2]", "--wrt", "x", "--order", "2"])


def test_check_with_an_array_point_and_a_constant_expression():
    _no_internal_error(["check", "1", "--at", "x=[1,2]", "--wrt", "x"])
