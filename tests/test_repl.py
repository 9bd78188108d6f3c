"""The REPL: in a real pseudo-terminal (pexpect), as a script from stdin, and its pieces."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from calccli.app.repl import completions, history_path, run_script, tokens
from calccli.app.session import Session

ROOT = Path(__file__).resolve().parent.parent
SEED = "sqrt(x^2+exp(x^2)) + cos(x^2+exp(x^2))"
pexpect = pytest.importorskip("pexpect")


def _env(tmp_path, **extra) -> dict:
    env = dict(os.environ)
    env.pop("NO_COLOR", None)
    env.update(HOME=str(tmp_path / "home"), XDG_STATE_HOME=str(tmp_path / "state"), TERM="dumb",
               XDG_CACHE_HOME=str(tmp_path / "cache"), COLUMNS="120")
    env.update(extra)
    return env


def _prompt(c) -> None:
    """Wait for the prompt and for prompt_toolkit to take the terminal (raw mode, echo off),
    so that control characters reach it rather than the terminal driver."""
    c.expect_exact("calc> ")
    assert c.waitnoecho(timeout=30)


def _spawn(args, env):
    return pexpect.spawn(sys.executable, ["-m", "calccli", *args], env=env, encoding="utf-8",
                         timeout=60, dimensions=(50, 120), cwd=str(ROOT))


# ---- a real terminal -----------------------------------------------------------------

def test_interactive_session_in_a_pty(tmp_path):
    c = _spawn([], _env(tmp_path))
    c.expect_exact(":help")
    _prompt(c)
    c.sendline(f"f(x) = {SEED}")
    _prompt(c)
    c.sendline("f'(1)")
    c.expect_exact("5.983082595908695")
    _prompt(c)
    c.sendline("diff f(x) at x=1")
    for text in ("Intermediate variables", "exp(a)", "Chain rule, reverse mode",
                 "f(1) = 1.0900122119747424", "f'(1) = 5.983082595908695"):
        c.expect_exact(text)
    _prompt(c)
    c.sendline("f(1) +* 2")                       # an error: a caret message, and go on
    c.expect_exact("error: expected an expression after '+', found '*'")
    c.expect_exact("^")
    _prompt(c)
    c.sendline("log(0)")                         # a domain error: go on
    c.expect_exact("outside the domain of log")
    _prompt(c)
    c.send("this line is cancelled")
    c.sendcontrol("c")                           # Ctrl-C cancels the line
    _prompt(c)
    c.sendline("f(1)")
    c.expect_exact("1.0900122119747424")
    _prompt(c)
    c.sendline(":mode forward")
    _prompt(c)
    c.sendline("diff f(x) at x=1")
    c.expect_exact("Chain rule, forward mode")
    _prompt(c)
    c.sendline(":quit")
    c.expect(pexpect.EOF)
    c.close()
    assert c.exitstatus == 0
    history = (tmp_path / "state" / "calc" / "history").read_text(encoding="utf-8")
    assert "+f'(1)" in history and "+diff f(x) at x=1" in history
    assert "this line is cancelled" not in history


def test_calc_repl_and_ctrl_d_with_history_in_home(tmp_path):
    env = _env(tmp_path)
    del env["XDG_STATE_HOME"]
    c = _spawn(["repl"], env)
    _prompt(c)
    c.sendline("A = 2.5")
    c.expect_exact("A = 2.5")
    _prompt(c)
    c.sendline(":vars")
    c.expect_exact("A = 2.5")
    _prompt(c)
    c.sendline("2A")
    c.expect_exact("5")
    _prompt(c)
    c.sendeof()                                  # Ctrl-D leaves
    c.expect(pexpect.EOF)
    c.close()
    assert c.exitstatus == 0
    assert (tmp_path / "home" / ".local" / "state" / "calc" / "history").is_file()


def test_prompt_toolkit_session_in_process(tmp_path, monkeypatch, capsys):
    """The full prompt_toolkit path (not the dumb-terminal one) with a pipe as the keyboard."""
    from prompt_toolkit.application import create_app_session
    from prompt_toolkit.input import create_pipe_input
    from prompt_toolkit.output import DummyOutput

    from calccli.app import repl
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    monkeypatch.setenv("TERM", "xterm-256color")
    with create_pipe_input() as inp:
        inp.send_text("radius = 16\r")
        inp.send_text("sqrt(radius)\r")
        inp.send_text("half a line\x03")          # Ctrl-C cancels the line
        inp.send_text(":quit\r")
        with create_app_session(input=inp, output=DummyOutput()):
            assert repl.interactive() == 0
    out = capsys.readouterr().out
    assert out.splitlines()[-2:] == ["radius = 16", "4"]
    hist = (tmp_path / "calc" / "history").read_text(encoding="utf-8")
    assert "+sqrt(radius)" in hist and "+:quit" in hist and "half a line" not in hist


def test_prompt_toolkit_completer_and_lexer():
    from prompt_toolkit.completion import CompleteEvent
    from prompt_toolkit.document import Document

    from calccli.app import repl
    s = Session()
    s.execute("radius = 1")
    comp = repl._completer(s)
    got = [(c.text, c.start_position) for c in comp.get_completions(Document("2 + sqr"), CompleteEvent())]
    assert got == [("sqrt", -3)]
    got = [c.text for c in comp.get_completions(Document("sqrt(radi"), CompleteEvent())]
    assert got == ["radius"]
    got = [c.text for c in comp.get_completions(Document(":q"), CompleteEvent())]
    assert got == [":quit"]
    lex = repl._lexer(s).lex_document(Document("grad radius x^2 at x=1"))
    frags = lex(0)
    assert ("class:command", "grad") in frags and ("class:user", "radius") in frags
    assert ("class:keyword", "at") in frags


# ---- completion and highlighting ------------------------------------------------------

def test_completions():
    s = Session()
    s.execute("radius = 1")
    s.execute("rate(t) = 2t")
    assert completions("sq", s) == ["sqrt"]
    assert completions("2 ra", s) == ["radius", "rate"]
    assert completions(":m", s) == [":mode"]
    assert completions(":mode f", s) == ["forward"]
    assert completions(":format j", s) == ["json"]
    assert completions("jac", s) == ["jacobian"]
    assert "at" in completions("diff x^2 a", s)
    assert "method" in completions("minimize x^2 from x=1 me", s)
    assert completions("diff x^2 ", s) == []


def test_tokens_cover_the_line_and_classify():
    s = Session()
    s.execute("f(x) = x^2")
    line = "diff 2 f(x) + sin(pi x) at x=1 # note"
    toks = tokens(line, s)
    assert "".join(t for _, t in toks) == line
    kinds = {t: c for c, t in toks}
    assert kinds["diff"] == "command" and kinds["at"] == "keyword" and kinds["f"] == "user"
    assert kinds["sin"] == "function" and kinds["pi"] == "constant" and kinds["2"] == "number"
    assert kinds["# note"] == "comment" and kinds["x"] == ""
    assert tokens(":mode forward", s)[0] == ("command", ":mode")
    assert "".join(t for _, t in tokens("f''(1) ¤ [1,2]", s)) == "f''(1) ¤ [1,2]"


def test_history_path(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    assert history_path() == str(tmp_path / "calc" / "history")
    monkeypatch.delenv("XDG_STATE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert history_path() == str(tmp_path / ".local" / "state" / "calc" / "history")


# ---- script mode: stdin not a terminal ---------------------------------------------------

def _script(tmp_path, text: str, *args, env=None):
    path = tmp_path / "s.calc"
    path.write_text(text, encoding="utf-8")
    with open(path, encoding="utf-8") as stdin:
        p = subprocess.run([sys.executable, "-m", "calccli", *(args or ("repl",))], stdin=stdin,
                           capture_output=True, text=True, cwd=str(ROOT),
                           env=env or _env(tmp_path), timeout=120)
    return p.returncode, p.stdout, p.stderr


SCRIPT = f"""# the notes' example
f(x) = {SEED}
f(1)
f'(1)     # the derivative
a = 2
a f(1)
"""


def test_script_prints_only_results(tmp_path):
    code, out, err = _script(tmp_path, SCRIPT)
    assert code == 0, err
    assert out == "1.0900122119747424\n5.983082595908695\n2.180024423949485\n"
    assert err == ""


def test_plain_calc_reads_a_script_too(tmp_path):
    path = tmp_path / "s.calc"
    path.write_text(SCRIPT, encoding="utf-8")
    with open(path, encoding="utf-8") as stdin:
        p = subprocess.run([sys.executable, "-m", "calccli"], stdin=stdin, capture_output=True, text=True,
                           cwd=str(ROOT), env=_env(tmp_path), timeout=120)
    assert p.returncode == 0 and p.stdout.startswith("1.0900122119747424\n")


def test_script_keeps_going_and_exits_with_the_first_failure(tmp_path):
    code, out, err = _script(tmp_path, "1 + 1\nlog(0)\n2 +\n3 + 3\n")
    assert code == 1                                   # the first failure is a domain error (1)
    assert out == "2\n6\n"
    assert "line 2: error:" in err and "line 3: error: expected an expression after '+'" in err
    code, out, err = _script(tmp_path, "1 +\nlog(0)\n7\n")
    assert code == 2 and out == "7\n"                  # the first failure is a parse error (2)


def test_script_json_lines_and_diff_table(tmp_path):
    code, out, err = _script(tmp_path, f"""f(x) = {SEED}
diff f(x) at x=1
:format json
f'(1)
diff f(x) at x=1
q
""")
    assert code == 2
    text, _, jsonl = out.partition("f'(1) = 5.983082595908695\n")
    assert "Intermediate variables (forward pass)" in text and "∂f/∂c" in text
    objs = [json.loads(line) for line in jsonl.splitlines()]
    assert objs[0] == {"expression": "f'(1)", "value": 5.983082595908695, "point": {}}
    assert objs[1]["derivative"] == 5.983082595908695 and [t["name"] for t in objs[1]["trace"]] == list("abcdef")
    assert objs[2]["error"]["kind"] == "usage" and objs[2]["error"]["line"] == 6
    assert "line 6: error: 'q' has no value" in err


def test_script_output_has_no_escape_codes(tmp_path):
    code, out, err = _script(tmp_path, f"f(x) = {SEED}\ndiff f(x) at x=1\n:format rich\ndiff f(x) at x=1\n1 +\n")
    assert "\x1b" not in out and "\x1b" not in err


def test_quit_ends_a_script(tmp_path):
    code, out, _ = _script(tmp_path, "1\n:quit\n2\n")
    assert code == 0 and out == "1\n"


def test_example_session_file_runs(tmp_path):
    with open(ROOT / "examples" / "notes.calc", encoding="utf-8") as stdin:
        p = subprocess.run([sys.executable, "-m", "calccli", "repl"], stdin=stdin, capture_output=True,
                           text=True, cwd=str(ROOT), env=_env(tmp_path), timeout=300)
    assert p.returncode == 0, p.stderr
    assert p.stderr == ""
    out = p.stdout
    assert out.startswith("1.0900122119747424\n5.983082595908695\n")
    assert "f'(1) = 5.983082595908695" in out
    assert "Chain rule, forward mode" in out
    assert "\n0\n" in out                                  # g(h(1)) - f(1)
    assert "∇_x f = [2, -4]" in out                        # 2Ax
    assert "converged" in out and "\x1b" not in out


def test_run_script_as_a_library(capsys):
    s = Session()
    assert run_script(["g(x) = 3x^2", "g'(2)", ":vars"], s) == 0
    out = capsys.readouterr().out
    assert out == "12\ng(x) = 3x^2\n"


def test_script_with_undecodable_bytes_and_ascii_locale(tmp_path):
    path = tmp_path / "bytes.calc"
    path.write_bytes("θ = 2\nθ^2\n\xff\n7\n".encode("utf-8").replace("\xff".encode("utf-8"), b"\xff"))
    for extra in ({}, {"PYTHONIOENCODING": "ascii", "LANG": "C", "LC_ALL": "C"}):
        with open(path, "rb") as stdin:
            p = subprocess.run([sys.executable, "-m", "calccli", "repl"], stdin=stdin, capture_output=True,
                               cwd=str(ROOT), env=_env(tmp_path, **extra), timeout=120)
        err = p.stderr.decode("utf-8", "replace")
        assert "Traceback" not in err and p.returncode == 2, err
        assert p.stdout.decode().splitlines()[-1] == "7"
    assert p.stdout.decode() == "7\n"            # ascii: θ is not readable, each line says so
