"""The REPL under :format json writes JSON only (every line of the stream parses), and its
display options (digits N, standalone, :digits, :color) take effect as in the CLI."""
from __future__ import annotations

import json
import math
import os
import subprocess
import sys

from calccli.app.repl import run_script, show
from calccli.app.session import EXAMPLES, Session

ENV = {**os.environ, "PYTHONPATH": os.getcwd(), "NO_COLOR": "1"}


def repl(script: str):
    p = subprocess.run([sys.executable, "-m", "calccli", "repl"], input=script, capture_output=True,
                       text=True, env=ENV, timeout=120)
    assert "Traceback" not in p.stderr
    return p


def test_every_line_of_a_json_repl_stream_is_json():
    script = "\n".join([
        "A = [[2, 1], [1, 3]]", "f(x) = x^2 sin(x)", ":format json", ":vars", ":help", ":help diff", ":mode",
        ":format", ":digits", ":color", "f(1)", "f'(1)", "sin(", "diff f(x) at x=1", ":mode forward",
        ":digits 3", ":del A", ":vars", ":bogus", "graph x^2", "x^T A x"]) + "\n"
    p = repl(script)
    lines = p.stdout.splitlines()
    objs = [json.loads(line) for line in lines]          # every line is JSON
    assert len(objs) == 15                           # acknowledgements are not shown in a script
    listing = objs[0]["vars"]
    assert listing["bindings"] == {"A": [[2.0, 1.0], [1.0, 3.0]]}
    assert listing["functions"] == [{"function": "f(x)", "body": "x^2 sin(x)", "nodes": 5}]
    assert [e["statement"] for e in objs[1]["help"]] == [e[0] for e in EXAMPLES]
    assert objs[2] == {"help": [{"statement": "diff EXPR [at P] [wrt x] [order N] [mode M] [steps]",
                                 "does": "the table of intermediate variables and the chain rule; "
                                         "symbolic without at", "example": "diff f(x) at x=1"}]}
    assert objs[3:7] == [{"mode": None}, {"format": "json"}, {"digits": None}, {"color": None}]
    assert objs[7]["value"] == math.sin(1)
    assert math.isclose(objs[8]["value"], 2 * math.sin(1) + math.cos(1), rel_tol=1e-15)
    assert objs[9]["error"]["kind"] == "parse" and objs[9]["error"]["line"] == 13
    assert objs[10]["derivative"] == objs[8]["value"]
    assert objs[11]["vars"]["bindings"] == {}
    assert objs[12]["error"]["message"] == "unknown command ':bogus': try :help"
    assert objs[13]["nodes"] and objs[14]["error"]["line"] == 21     # graph as JSON; A was deleted
    assert p.returncode == 2


def test_acknowledgements_are_json_in_an_interactive_json_session(capsys):
    s = Session(fmt="json")
    for line in ["f(x) = x^3", "a = 2", ":mode forward", ":format json", ":digits 4", ":del a"]:
        show(s.execute(line), s, interactive=True, default_fmt="rich")
    got = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert got == [{"defined": {"function": "f(x)", "body": "x^3", "nodes": 3}}, {"bound": "a", "value": 2.0},
                   {"mode": "forward"}, {"format": "json"}, {"digits": 4}, {"deleted": ["a"]}]


def test_plain_acknowledgements_stay_text(capsys):
    s = Session()
    show(s.execute("f(x) = x^3"), s, interactive=True, default_fmt="plain")
    show(s.execute(":vars"), s, interactive=False, default_fmt="plain")
    assert capsys.readouterr().out == "f(x) = x^3\nf(x) = x^3\n"


# ---- display options in the REPL ---------------------------------------------------------

def _out(lines, capsys, fmt="plain"):
    assert run_script(lines, default_fmt=fmt) == 0
    return capsys.readouterr().out


def test_digits_per_statement_and_for_the_session(capsys):
    out = _out(["diff sin(x) at x=1 digits 4"], capsys)
    assert "f'(1) = 0.5403" in out and "0.5403023058681398" not in out
    out = _out(["diff sin(x) at x=1"], capsys)                 # not kept: it was that line's
    assert "f'(1) = 0.5403023058681398" in out
    out = _out([":digits 3", "pi", "diff sin(x) at x=1", ":digits off", "pi"], capsys)
    assert out.splitlines()[0] == "3.14" and "f'(1) = 0.54\n" in out
    assert out.splitlines()[-1] == str(math.pi)
    out = _out([":format json", "diff sin(x) at x=1 digits 3"], capsys)    # JSON keeps every digit
    assert json.loads(out)["derivative"] == math.cos(1)


def test_standalone_latex_in_the_repl(capsys):
    out = _out([":format latex", "diff x^2 at x=1 standalone"], capsys)
    assert out.startswith("\\documentclass") and out.rstrip().endswith("\\end{document}")
    out = _out([":format latex", "diff x^2 at x=1"], capsys)
    assert "\\documentclass" not in out and "\\frac{\\partial a}{\\partial x}" in out


def test_display_defaults_are_checked_as_the_cli_checks_them():
    s = Session()
    e = s.execute(":digits 40").error
    assert e.kind == "usage" and "at most 17" in e.message and e.source == ":digits 40" and e.pos == 8
    e = s.execute(":color sometimes").error
    assert e.message == "unknown color mode 'sometimes': use auto, always or never"
    assert s.execute(":color never").error is None and s.color == "never"
    assert s.execute(":color auto").error is None and s.color is None
