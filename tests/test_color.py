"""Colour: --color auto|always|never on every command (one table entry), calc --color and
:color for the REPL, NO_COLOR and FORCE_COLOR; option values complete in the shell; the
eval hint names only options eval takes."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from calccli.app.table import COLOR, COMMANDS

ESC = "\x1b["


def calc(*args, input=None, **env):
    base = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    base.update(PYTHONPATH=os.getcwd(), COLUMNS="100", **env)
    p = subprocess.run([sys.executable, "-m", "calccli", *args], capture_output=True, text=True, env=base,
                       input=input, timeout=120)
    assert "Traceback" not in p.stderr
    return p


def test_every_command_has_the_one_color_option():
    for cmd in COMMANDS.values():
        assert COLOR in cmd.options, cmd.name


@pytest.mark.parametrize("args,env,colored", [
    ((), {}, False),                                    # piped: plain, no colour
    (("--color", "always"), {}, True),                  # and rich becomes the default format
    (("--color", "never"), {"FORCE_COLOR": "1"}, False),
    (("--color", "auto"), {"FORCE_COLOR": "1"}, True),
    ((), {"FORCE_COLOR": "1"}, True),
    ((), {"FORCE_COLOR": ""}, False),                   # empty: not set
    ((), {"FORCE_COLOR": "1", "NO_COLOR": "1"}, False),  # NO_COLOR wins over FORCE_COLOR
    (("--color", "always"), {"NO_COLOR": "1"}, True),   # the option wins over both
    (("--color", "always", "--format", "plain"), {}, False),   # plain has no colour to give
])
def test_color_choice(args, env, colored):
    p = calc("diff", "x^2", "--at", "1", *args, **env)
    assert p.returncode == 0
    assert (ESC in p.stdout) == colored, p.stdout
    assert "f'(1) = " in p.stdout.replace(ESC + "0m", "").replace(ESC + "1m", "") or ESC in p.stdout


def test_rich_without_colour_is_the_same_layout():
    never = calc("diff", "x^2", "--at", "1", "--format", "rich", "--color", "never").stdout
    always = calc("diff", "x^2", "--at", "1", "--format", "rich", "--color", "always").stdout
    import re
    assert ESC not in never and re.sub(r"\x1b\[[0-9;]*m", "", always) == never


def test_errors_on_stderr_follow_the_colour_choice():
    p = calc("eval", "sin(", "--color", "always")
    assert p.returncode == 2 and ESC in p.stderr and "error: " in p.stderr
    p = calc("eval", "sin(")
    assert ESC not in p.stderr


def test_the_root_and_repl_options_set_the_session_colour():
    assert ESC in calc("--color", "always", "eval", "2").stdout
    assert ESC in calc("repl", "--color", "always", input="diff x^2 at x=1\n").stdout
    assert ESC in calc("--color", "always", "repl", input="diff x^2 at x=1\n").stdout
    p = calc("repl", "--color", "always", input=":color never\ndiff x^2 at x=1\n")
    assert ESC not in p.stdout and "f'(1) = 2" in p.stdout
    p = calc("repl", input="diff x^2 at x=1 color always\n")
    assert ESC in p.stdout


def test_a_bad_colour_mode_is_a_usage_error():
    p = calc("eval", "1", "--color", "sometimes")
    assert p.returncode == 2
    assert p.stderr.startswith("error: unknown color mode 'sometimes': use auto, always or never")


@pytest.mark.parametrize("words,expected", [
    ("calc diff x --format ", ["rich", "plain", "json", "latex", "html"]),
    ("calc diff x --mode ", ["forward", "reverse"]),
    ("calc jacobian x --mode ", ["auto", "forward", "reverse"]),
    ("calc eval x --color ", ["auto", "always", "never"]),
    ("calc diff x --mode f", ["forward"]),
])
def test_option_values_complete_in_the_shell(words, expected):
    parts = words.split(" ")
    p = calc(_CALC_COMPLETE="complete_bash", COMP_WORDS=words, COMP_CWORD=str(len(parts) - 1))
    assert p.stdout.split() == expected


def test_eval_does_not_suggest_wrt():
    for args in (["eval", "x + y"], ["eval", "x y", "--at", "x=1"], ["eval", "x + y", "--at", "1"]):
        p = calc(*args)
        assert p.returncode == 2 and "--wrt" not in p.stderr, p.stderr
    assert "give it with --at x=" in calc("eval", "x + y").stderr
    assert "--wrt" in calc("diff", "x + y").stderr          # diff takes it
