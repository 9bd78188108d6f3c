"""Robustness of the front end: one command table for the CLI and the REPL, expressions
that begin with '-', the option parser's errors in calc's words (and JSON), shell habits.

In-process through the Typer app (the ``cli`` fixture) where stdin/stdout do not matter;
in a subprocess with real file descriptors where they do.
"""
from __future__ import annotations

import json
import math

import pytest

from calccli.app.session import SPECS, Session
from calccli.app.table import COMMANDS, FLAG, NUMBER, WHOLE
from calccli.engine.primitives import function_names


def _argument(f: str):
    """(the arguments of f in a call, the point for its variable) for the property test."""
    from calccli.engine.primitives import PRIMS
    prim = PRIMS.get(f)
    if f in ("ones", "zeros"):
        return "3", "x=0.5"
    if prim is not None and prim.array:
        if f in ("det", "trace", "inv", "transpose"):
            return "X", "X=[[2,0.5],[0.5,3]]"
        return ("x, x" if prim.arity == 2 else "x"), "x=[0.5,0.25]"
    if prim is not None and prim.arity == 2:
        return "x, 0.3", "x=0.5"
    return "x", "x=0.5"


SCALAR_FUNCTIONS = [f for f in function_names() if _argument(f) == ("x", "x=0.5")]


def json_out(cli, *args):
    code, out, err = cli(*args, "--format", "json")
    assert "Traceback" not in out + err
    return code, json.loads(out.splitlines()[0]) if out.strip() else None, err


# ---- one command table ---------------------------------------------------------------

def _click_command(name):
    import typer.main
    from calccli.app.cli import app
    return typer.main.get_command(app).commands[name]


@pytest.mark.parametrize("name", list(COMMANDS))
def test_every_table_option_is_in_the_cli_and_the_repl(name):
    cmd = _click_command(name)
    flags = {s for p in cmd.params if p.param_type_name == "option" for s in p.opts}
    for o in COMMANDS[name].options:
        assert o.flag in flags, o.flag
        assert o.name.replace("-", "_") in SPECS[name]
        kind = SPECS[name][o.name.replace("-", "_")]
        assert kind == ("point" if o.repeatable else "flag" if o.kind == FLAG else "text")
    # nothing else: the CLI has no option the table does not define
    assert flags - {o.flag for o in COMMANDS[name].options} - {"-h", "--help"} == \
        {o.short for o in COMMANDS[name].options if o.short}


def _numeric_options():
    for c in COMMANDS.values():
        for o in c.options:
            if o.kind in (WHOLE, NUMBER):
                yield c.name, o


@pytest.mark.parametrize("name,opt", list(_numeric_options()), ids=lambda v: getattr(v, "name", v))
@pytest.mark.parametrize("bad", ["abc", "1_000", "1.5"])
def test_a_bad_number_gets_the_same_message_in_the_cli_and_the_repl(cli, name, opt, bad):
    if bad == "1.5" and opt.kind == NUMBER:
        bad = "[1]"
    args = {"plot": ["--from", "0", "--to", "1"], "fit": ["--data", "examples/line.csv", "--target", "y"],
            "minimize": ["--from", "x=1"]}.get(name, ["--at", "1"] if name != "graph" else [])
    code, out, err = cli(name, "x^2", *args, opt.flag, bad)
    assert code == 2 and out == ""
    message = err.splitlines()[0].removeprefix("error: ")
    repl_args = " ".join(a.lstrip("-") if a.startswith("--") else a for a in args)
    o = Session().execute(f"{name} x^2 {repl_args} {opt.name} {bad}")
    assert o.error is not None and o.error.message == message
    assert "number" in message or "between" in message


def test_bounds_are_named_in_both_front_ends(cli):
    code, _, err = cli("minimize", "x^2", "--from", "x=1", "--steps", "1e9")
    assert code == 2 and "--steps 1000000000 is more than calc allows: at most 1000000" in err
    o = Session().execute("minimize x^2 from x=1 steps 1e9")
    assert o.error.message == err.splitlines()[0].removeprefix("error: ")
    for args, needle in [
        (["fit", "w*x", "--data", "examples/line.csv", "--target", "y", "--epochs", "99999999999999999999999"],
         "--epochs 99999999999999999999999 is more than calc allows: at most 1000000"),
        (["plot", "x", "--from", "0", "--to", "1", "--width", "1000000"], "--width 1000000 is more than"),
        (["plot", "x", "--from", "0", "--to", "1", "--height", "1000000"], "--height 1000000 is more than"),
        (["diff", "x", "--order", "1e300"], "digits) is too high: calc computes derivatives up to order 100"),
    ]:
        code, out, err = cli(*args)
        assert code == 2 and out == "" and needle in err, err


def test_the_table_and_the_engine_agree_on_the_highest_order():
    from calccli.app.table import MAX_ORDER
    from calccli.engine.taylor import MAX_ORDER as ENGINE
    assert MAX_ORDER == ENGINE


def test_choices_are_checked_and_completed_from_the_table():
    from calccli.app.cli import _Checked
    mode = COMMANDS["diff"].option("mode")
    assert [c.value for c in _Checked(mode).shell_complete(None, None, "f")] == ["forward"]
    fmt = COMMANDS["eval"].option("format")
    assert {c.value for c in _Checked(fmt).shell_complete(None, None, "")} >= {"rich", "plain", "json", "latex"}


def test_shell_completion_of_option_values():
    import os
    import subprocess
    import sys
    env = dict(os.environ, _CALC_COMPLETE="complete_zsh", _TYPER_COMPLETE_ARGS="calc diff x --mode ")
    p = subprocess.run([sys.executable, "-c", "from calccli.app.cli import main; main()"],
                       capture_output=True, text=True, env=env, timeout=60)
    assert "forward" in p.stdout and "reverse" in p.stdout, p.stdout + p.stderr


def test_the_help_shows_expr_and_the_real_range_of_order(cli):
    code, out, _ = cli("diff", "--help")
    assert code == 0
    assert "diff [OPTIONS] EXPR" in out and "{" not in out.split("\n")[0]
    assert "(from 1 to 100)" in " ".join(out.split())
    code, out, _ = cli("plot", "--help")
    assert "(from 0 to 10)" in " ".join(out.split())
    code, out, _ = cli("fit", "--help")
    assert "fit [OPTIONS] MODEL" in out


# ---- expressions that begin with '-' ---------------------------------------------------------

@pytest.mark.parametrize("args,key,expected", [
    (["eval", "-tanh(1)"], "value", -math.tanh(1)),
    (["diff", "-cosh(x)", "--at", "1"], "derivative", -math.sinh(1)),
    (["diff", "-sin(x)", "--at", "1"], "derivative", -math.cos(1)),
    (["diff", "-m x", "--wrt", "x", "--let", "m=2"], "derivative_expression", "-2"),
    (["diff", "-x^2", "--at", "1"], "derivative", -2.0),
    (["diff", "--at", "1", "-x^2"], "derivative", -2.0),
    (["diff", "-x^2", "-m", "forward", "--at", "1"], "derivative", -2.0),
    (["diff", "--", "-x^2", "--at", "1"], "derivative", -2.0),
    (["diff", "--at", "1", "--", "-x^2"], "derivative", -2.0),
    (["eval", "--", "-h", "--let", "h=2"], "value", -2.0),         # -h is the help option, -- escapes it
    (["eval", "-n 2", "--let", "n=3"], "value", -6.0),              # not -n 2 (the order)
    (["eval", "-f 3", "--let", "f=2"], "value", -6.0),             # not -f 3 (the format)
    (["eval", "--at", "-1", "x"], "value", -1.0),                    # an option's value may begin with '-'
])
def test_an_expression_may_begin_with_minus(cli, args, key, expected):
    code, obj, err = json_out(cli, *args)
    assert code == 0, err
    assert obj[key] == pytest.approx(expected) if isinstance(expected, float) else obj[key] == expected


def test_binary_cross_entropy_is_an_expression(cli):
    bce = "-y log(sigmoid(w x + b)) - (1 - y) log(1 - sigmoid(w x + b))"
    code, obj, err = json_out(cli, "grad", bce, "--wrt", "w,b", "--at", "w=0.5,b=-0.25", "--let", "x=2,y=1")
    assert code == 0, err
    s = 1 / (1 + math.exp(-(0.5 * 2 - 0.25)))
    assert obj["gradient"] == pytest.approx([(s - 1) * 2, s - 1])


def test_a_mistyped_option_is_an_option_error_with_a_suggestion(cli):
    code, obj, err = json_out(cli, "diff", "x^2", "--att", "1")
    assert code == 2
    assert obj == {"error": {"kind": "usage", "message": "no such option --att; did you mean --at?",
                             "column": None}}
    assert "no such option --att; did you mean --at?" in err


@pytest.mark.parametrize("args,needle", [
    (["minimize", "x^2", "--from", "x=1", "--steps", "abc"], "--steps must be a whole number"),
    (["diff"], "diff needs EXPR"),
    (["diff", "x^2", "--at"], "--at needs a value"),
    (["diff", "x^2", "y"], "unexpected argument 'y'"),
    (["diff", "x^2", "--mode", "sideways"], "unknown mode 'sideways': use forward or reverse"),
    (["plot", "x^2", "--from", "0"], "plot needs --to"),
    (["fit", "w*x", "--target", "y"], "fit needs --data"),
])
def test_option_parser_errors_are_json_objects_in_json_mode(cli, args, needle):
    code, out, err = cli(args[0], "--format", "json", *args[1:])
    obj = json.loads(out)
    assert code == 2
    assert obj["error"]["kind"] == "usage" and needle in obj["error"]["message"]
    assert needle in err and "Traceback" not in err


# ---- the property: -f(x) is 0 - f(x), for every command and every function ---------------------

POINT_FOR = {"eval": ["--at", "x=0.5"], "diff": ["--at", "x=0.5"], "grad": ["--at", "x=0.5"],
             "hessian": ["--at", "x=0.5"], "jacobian": ["--at", "x=0.5"], "check": ["--at", "x=0.5"],
             "plot": ["--from", "0.25", "--to", "0.75", "--width", "40"],
             "minimize": ["--from", "x=0.5", "--method", "gd", "--lr", "0.01", "--steps", "3"],
             "graph": []}
NUMBERS = ("value", "derivative", "gradient", "hessian", "jacobian", "eigenvalues", "argmin", "minimum",
           "ok", "ys", "params", "loss", "classification")


def _result(cli, command, text, extra):
    code, obj, err = json_out(cli, command, text, *extra)
    if obj is None or "error" in obj:
        return code, (obj or {}).get("error", {}).get("kind")
    if command == "graph":
        return code, sorted(n["op"] for n in obj["nodes"] if n["op"] not in ("neg", "sub", "const"))
    return code, {k: obj[k] for k in NUMBERS if k in obj}


def _leaves(v) -> list:
    if isinstance(v, dict):
        return [x for k in sorted(v) for x in _leaves(v[k])]
    if isinstance(v, list):
        return [x for item in v for x in _leaves(item)]
    return [v]


@pytest.mark.parametrize("command", [c for c in COMMANDS if c != "fit"] + ["fit"])
@pytest.mark.parametrize("f", function_names())
def test_minus_f_is_zero_minus_f_for_every_command(cli, command, f):
    arg, point = _argument(f)
    extra = [a.replace("x=0.5", point) for a in POINT_FOR.get(command, [])]
    if command == "fit":
        if f not in SCALAR_FUNCTIONS:
            pytest.skip("fit models are scalar")
        forms = [(f"-{f}(w x) + b", f"0 - {f}(w x) + b"), (f"-{f}(w x)^2 + b", f"0 - {f}(w x)^2 + b")]
        extra = ["--data", "examples/line.csv", "--target", "y", "--epochs", "2", "--lr", "0.001",
                 "--init", "w=0.1,b=0"]
    elif command == "plot" and f not in SCALAR_FUNCTIONS:
        pytest.skip("plot draws functions of one scalar")
    else:
        forms = [(f"-{f}({arg})", f"0 - {f}({arg})"), (f"-{f}({arg})^2", f"0 - {f}({arg})^2")]
    for minus, zero in forms:
        got, want = _result(cli, command, minus, extra), _result(cli, command, zero, extra)
        assert got[0] == want[0], (minus, got, want)
        if isinstance(want[1], dict):
            assert got[1].keys() == want[1].keys()
            for k, v in want[1].items():
                a, b = _leaves(got[1][k]), _leaves(v)
                assert len(a) == len(b) and all(
                    x == y if isinstance(y, (str, bool)) else x == pytest.approx(y, rel=1e-12, abs=1e-12)
                    for x, y in zip(a, b)), (minus, k)
        else:
            assert got[1] == want[1], (minus, got, want)


def test_the_repl_reads_a_leading_minus_too():
    s = Session()
    o = s.execute("diff -sin(x) at 1")
    assert o.error is None and o.result.derivative == pytest.approx(-math.cos(1))


# ---- shell habits ------------------------------------------------------------------------------

@pytest.mark.parametrize("args,value", [
    (["2+2"], 4.0),
    (["-2+3"], 1.0),
    (["x^2", "--at", "x=3"], 9.0),
    (["--at", "x=3", "x^2"], 9.0),
    (["sin(pi/2)"], 1.0),
])
def test_a_bare_expression_is_evaluated(cli, args, value):
    code, obj, err = json_out(cli, *args)
    assert code == 0, err
    assert obj["value"] == pytest.approx(value)


def test_command_names_take_precedence_and_typos_are_named(cli):
    code, obj, _ = json_out(cli, "diff", "x^2", "--at", "3")
    assert obj["derivative"] == 6.0
    code, out, err = cli("dif", "x^2")
    assert code == 2 and "no such command 'dif'; did you mean diff?" in err
    code, out, _ = cli("--version")
    assert code == 0 and out.startswith("calc ")


def test_the_table_and_the_commands_agree_on_the_choices():
    from calccli.commands.fit import MODES as FIT_MODES, ORDERS
    from calccli.commands.optimize import METHODS
    assert COMMANDS["minimize"].option("method").choices == METHODS
    assert set(COMMANDS["fit"].option("mode").choices) == set(FIT_MODES)
    assert set(COMMANDS["fit"].option("order").choices) == set(ORDERS)


# ---- the parser cache: JSON in a private directory, never unpickled, no symlinks -----------------

def _run_calc(tmp_path, env_extra, *args):
    import os
    import subprocess
    import sys
    from pathlib import Path
    root = Path(__file__).resolve().parent.parent
    env = dict(os.environ, PYTHONPATH=str(root), **env_extra)
    return subprocess.run([sys.executable, "-m", "calccli", *args], capture_output=True, text=True,
                          cwd=str(tmp_path), env=env, timeout=120)


def test_a_relative_xdg_cache_home_is_ignored(tmp_path):
    # (Lark's tables are loaded, and cached, for errors: a valid input does not need them)
    p = _run_calc(tmp_path, {"XDG_CACHE_HOME": "rel", "HOME": str(tmp_path / "home")}, "eval", "1+", "-f", "json")
    assert p.returncode == 2 and json.loads(p.stdout)["error"]["kind"] == "parse"
    assert not (tmp_path / "rel").exists()
    assert list((tmp_path / "home" / ".cache" / "calccli").glob("lalr-*.json"))


def test_a_swapped_symlink_is_never_followed_and_nothing_is_unpickled(tmp_path):
    import os
    import pickle
    from calccli.language import parser_cache
    from calccli.language.parse import grammar_path
    cache = tmp_path / "cache"
    p = _run_calc(tmp_path, {"XDG_CACHE_HOME": str(cache)}, "eval", "2*")   # an error: Lark's tables
    assert p.returncode == 2
    (good,) = (cache / "calccli").glob("lalr-*.json")
    marker = tmp_path / "pwned"

    class Payload:
        def __reduce__(self):
            return (open, (str(marker), "w"))
    evil = tmp_path / "evil"
    evil.write_bytes(pickle.dumps(Payload()))
    good.unlink()
    os.symlink(evil, good)                                  # the swap another user would make
    for old in ("lalr-1-2.cache",):                         # the old pickle cache's name is not read either
        os.symlink(evil, cache / "calccli" / old)
    p = _run_calc(tmp_path, {"XDG_CACHE_HOME": str(cache)}, "eval", "2*", "-f", "json")
    assert p.returncode == 2 and json.loads(p.stdout)["error"]["message"] == "expected an expression after '*'"
    assert not marker.exists()
    assert not good.is_symlink() and json.loads(good.read_text())["key"]   # rewritten in place of the link
    # a file another user could write, or a symlinked directory, is refused outright
    os.chmod(good, 0o666)
    dfd = parser_cache._open_dir(str(cache / "calccli"))
    assert dfd is not None and parser_cache._read(dfd, good.name) is None
    os.close(dfd)
    os.symlink(cache / "calccli", tmp_path / "linked")
    assert parser_cache._open_dir(str(tmp_path / "linked")) is None
    os.chmod(cache / "calccli", 0o777)
    assert parser_cache._open_dir(str(cache / "calccli")) is None
    assert grammar_path().is_file()


def test_the_cached_parser_parses_like_a_fresh_one(tmp_path, monkeypatch):
    from calccli.language import parser_cache
    from calccli.language.parse import _Build, grammar_path
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    text = grammar_path().read_text(encoding="utf-8")
    opts = dict(parser="lalr", maybe_placeholders=True)
    fresh = parser_cache.load_parser(text, opts, {})          # builds and writes the cache
    cached = parser_cache.load_parser(text, opts, {})         # reads it back
    assert list(tmp_path.glob("calccli/lalr-*.json"))
    for src in ["1+2*3", "-x^2", "x^T A x", "[1, 2][1]", "sin(x)cos(y)/2z", "2^3^2"]:
        assert cached.parse(src) == fresh.parse(src)
    assert _Build is not None


def test_a_named_command_starts_with_that_command_alone(monkeypatch):
    """``calc diff …`` builds only diff's Click command; help, completion, a bare
    expression and unknown names get the whole app (so suggestions still work)."""
    from calccli.app.cli import _app_for, app
    one = _app_for(["diff", "x^2", "--at", "1"])
    assert [c.name for c in one.registered_commands] == ["diff"]
    assert one.registered_callback is app.registered_callback
    for args in (["diff", "--help"], ["2+2"], ["dif", "x"], [], ["repl"]):
        assert _app_for(args) is app
    monkeypatch.setenv("_CALC_COMPLETE", "bash_complete")
    assert _app_for(["diff", "x"]) is app
