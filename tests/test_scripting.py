"""Shell scripting: batch mode (EXPR '-'), stable plain output, strict JSON, no escape codes
when piped or with NO_COLOR, exit statuses, --version, --help, shell completion.

Everything runs the installed CLI in a subprocess, so stdin and stdout are real pipes.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SEED = "sqrt(x^2+exp(x^2))+cos(x^2+exp(x^2))"
COMMANDS = ("eval", "diff", "grad", "jacobian", "hessian", "check", "graph", "plot", "minimize", "fit",
            "repl")


def _env(**extra) -> dict:
    env = dict(os.environ)
    env.pop("NO_COLOR", None)
    env.pop("FORCE_COLOR", None)
    env.update(extra)
    return env


def calc(*args, input: str | None = None, env: dict | None = None):
    p = subprocess.run([sys.executable, "-m", "calccli", *args], input=input, capture_output=True,
                       text=True, cwd=str(ROOT), env=env or _env(), timeout=120)
    return p.returncode, p.stdout, p.stderr


def strict_json(line: str):
    def refuse(token):
        raise ValueError(f"non-standard JSON token {token}")
    return json.loads(line, parse_constant=refuse)


def jsonl(out: str) -> list[dict]:
    return [strict_json(line) for line in out.splitlines()]


# ---- batch mode: JSON Lines, input order, one error object per bad line --------------------

BATCH = """x^2

# comments and blank lines are skipped
sin(x
log(x - 1)
x^3
"""


def test_eval_batch_json():
    code, out, err = calc("eval", "-", "--at", "x=1", "--format", "json", input=BATCH)
    objs = jsonl(out)
    assert [o.get("value", "error") for o in objs] == [1.0, "error", "error", 1.0]
    assert objs[0] == {"expression": "x^2", "value": 1.0, "point": {"x": 1.0}}
    bad = objs[1]["error"]
    assert bad["kind"] == "parse" and bad["line"] == 4 and bad["input"] == "sin(x" and bad["column"] == 4
    dom = objs[2]["error"]
    assert dom["kind"] == "domain" and dom["line"] == 5 and dom["column"] is None
    assert code == 2                                  # the largest status of any line
    assert "line 4: error:" in err and "line 5: error:" in err


def test_batch_status_is_the_largest():
    assert calc("eval", "-", "--at", "x=1", input="x\nx+1\n")[0] == 0
    assert calc("eval", "-", "--at", "x=1", input="log(x-1)\nx\n")[0] == 1
    assert calc("eval", "-", "--at", "x=1", input="log(x-1)\n(x\nx\n")[0] == 2
    assert calc("eval", "-", input="")[0] == 0


def test_diff_batch_json():
    code, out, _ = calc("diff", "-", "--at", "x=1", "--format", "json", input=f"{SEED}\n2 +\nx^3\n")
    objs = jsonl(out)
    assert len(objs) == 3 and code == 2
    seed = objs[0]
    assert seed["derivative"] == 5.983082595908695 and seed["value"] == 1.0900122119747424
    assert [t["name"] for t in seed["trace"]] == list("abcdef")
    assert seed["trace"][1]["definition"] == "exp(a)"
    assert set(seed) >= {"expression", "variable", "point", "mode", "order", "value", "derivative",
                         "trace", "steps"}
    assert objs[1]["error"]["kind"] == "parse" and objs[1]["error"]["line"] == 2
    assert objs[2]["derivative"] == 3.0


def test_diff_batch_plain_is_one_line_per_result():
    code, out, err = calc("diff", "-", "--at", "x=1", "--format", "plain", input=f"{SEED}\n(x\nx^3\n")
    assert out == ("1.0900122119747424\t5.983082595908695\n"
                   "error\tunclosed '(' opened at column 1\n"
                   "1\t3\n")
    assert code == 2


def test_plain_is_the_default_when_piped_and_is_stable():
    a = calc("diff", SEED, "--at", "1.0")
    b = calc("diff", SEED, "--at", "1.0", "--format", "plain")
    assert a == b and a[0] == 0
    lines = a[1].splitlines()
    assert lines[-2:] == ["f(1) = 1.0900122119747424", "f'(1) = 5.983082595908695"]
    assert any(line.split() == ["a", "x^2", "1", "∂a/∂x", "=", "2x", "=", "2"] for line in lines)
    # grep- and awk-friendly: the answer is found by its label
    deriv = [line.split(" = ")[1] for line in lines if line.startswith("f'(1) = ")]
    assert deriv == ["5.983082595908695"]


def test_grad_batch():
    code, out, _ = calc("grad", "-", "--at", "x=1,y=2", "--format", "json",
                        input="x^2 y + sin(x y)\n[x, y]\nx y +\n")
    objs = jsonl(out)
    import math
    g = objs[0]
    assert g["variables"] == ["x", "y"] and g["point"] == {"x": 1.0, "y": 2.0}
    assert g["gradient"] == [4 + 2 * math.cos(2), 1 + math.cos(2)]
    assert set(g) >= {"expression", "variables", "point", "value", "gradient"}
    assert objs[1]["error"]["kind"] == "type" and objs[1]["error"]["line"] == 2
    assert objs[2]["error"]["kind"] == "parse"
    assert code == 2


def test_grad_batch_flattens_vector_variables():
    code, out, _ = calc("grad", "-", "--at", "x=[1,-1]", "--let", "A=[[2,1],[1,3]]", "--format", "json",
                        input="x^T A x\nsum(x)\n")
    objs = jsonl(out)
    assert code == 0
    assert objs[0]["variables"] == ["x[1]", "x[2]"] and objs[0]["gradient"] == [2.0, -4.0]
    assert objs[0]["point"] == {"x[1]": 1.0, "x[2]": -1.0}
    assert objs[1]["gradient"] == [1.0, 1.0]


def test_jacobian_batch():
    code, out, _ = calc("jacobian", "-", "--at", "x=1,y=2", "--format", "json",
                        input="[x y, x + y, sin(x)]\n[x y]\n[x, log(y - 2)]\n")
    objs = jsonl(out)
    import math
    j = objs[0]
    assert j["jacobian"] == [[2.0, 1.0], [1.0, 1.0], [math.cos(1), 0.0]]
    assert j["mode"] == "forward" and j["passes"] == 2 and j["value"] == [2.0, 3.0, math.sin(1)]
    assert objs[1]["jacobian"] == [[2.0, 1.0]] and objs[1]["mode"] == "reverse" and objs[1]["passes"] == 1
    assert objs[2]["error"]["kind"] == "domain" and objs[2]["error"]["line"] == 3
    assert code == 1


def test_hessian_batch():
    code, out, _ = calc("hessian", "-", "--at", "x=1,y=1", "--format", "json",
                        input="(1-x)^2 + 100(y-x^2)^2\n-(x^2 + y^2)\nx^2 - y^2\n[x, y]\n")
    objs = jsonl(out)
    r = objs[0]
    assert r["hessian"] == [[802.0, -400.0], [-400.0, 200.0]] and r["gradient"] == [0.0, 0.0]
    assert r["classification"] == "minimum"
    assert set(r) >= {"expression", "variables", "point", "value", "gradient", "hessian", "eigenvalues",
                      "classification"}
    assert [o.get("classification") for o in objs[1:3]] == ["maximum", "saddle"]
    assert objs[3]["error"]["kind"] == "type"
    assert code == 2


def test_batch_plain_for_every_command_has_one_line_per_input():
    inputs = {"eval": "x^2 y\nx +\n", "diff": "x^2 y\nx +\n", "grad": "x^2 y\nx +\n",
              "jacobian": "[x^2 y, x]\nx +\n", "hessian": "x^2 y\nx +\n"}
    for cmd, text in inputs.items():
        args = ["--at", "x=1,y=2"] + (["--wrt", "x"] if cmd == "diff" else [])
        code, out, err = calc(cmd, "-", *args, input=text)
        lines = out.splitlines()
        assert len(lines) == 2, (cmd, out)
        assert not lines[0].startswith("error") and lines[1].startswith("error\t"), (cmd, out)
        assert code == 2 and "line 2: error:" in err


def test_batch_one_at_serves_every_line():
    code, out, _ = calc("eval", "-", "--at", "x=2,y=3", input="x\ny\n")
    assert (code, out) == (0, "2\n3\n")
    # a constant line is differentiated by the --at variable: d/dx 2.5 = 0, not an error
    code, out, _ = calc("diff", "-", "--at", "x=2", input="x^2\n2.5\nsin(1)\n")
    assert (code, out.splitlines()) == (0, ["4\t4", "2.5\t0", "0.8414709848078965\t0"])
    code, out, _ = calc("grad", "-", "--at", "x=2,y=3", input="x y\n2.5\n")
    assert (code, out.splitlines()) == (0, ["6\t[3, 2]ᵀ", "2.5\t[0, 0]ᵀ"])


def test_batch_from_a_file_keeps_answers_and_messages_in_order(tmp_path):
    """From a regular file the answers are not flushed one by one, but every one is
    written, and an error's message (stderr) still follows the answers before it."""
    lines = tmp_path / "lines.txt"
    lines.write_text("x^2\nfoo(\nx^3\n" + "x + 1\n" * 3000, encoding="utf-8")
    with open(lines, "rb") as f:
        p = subprocess.run([sys.executable, "-m", "calccli", "diff", "-", "--at", "x=2", "--format", "plain"],
                           stdin=f, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=str(ROOT),
                           env=_env(), timeout=120)
    out = p.stdout.decode().splitlines()
    assert p.returncode == 2
    assert out[:3] == ["4\t4", "error\texpected an expression after '('",
                       "line 2: error: expected an expression after '('"]
    assert out[5] == "8\t12" and out[6:] == ["3\t1"] * 3000


def test_answers_are_flushed_for_a_pipe_not_for_a_file(tmp_path, monkeypatch):
    from calccli.app.output import answers_awaited
    f = tmp_path / "in.txt"
    f.write_text("x\n", encoding="utf-8")
    with open(f, encoding="utf-8") as stream:
        monkeypatch.setattr(sys, "stdin", stream)
        assert answers_awaited() is False
    r, w = os.pipe()
    with os.fdopen(r) as stream, os.fdopen(w, "w"):
        monkeypatch.setattr(sys, "stdin", stream)
        assert answers_awaited() is True


def test_a_byte_order_mark_starts_a_stream_and_is_not_read():
    """A file saved with a UTF-8 signature (Windows Notepad) and CRLF lines reads as its text."""
    code, out, _ = calc("diff", "-", "--at", "x=1", input="\ufeffx^2\r\nsin(x)\r\n")
    assert (code, out.splitlines()) == (0, ["1\t2", "0.8414709848078965\t0.5403023058681398"])
    code, out, _ = calc("repl", input="\ufefff(x) = x^2\nf(2)\n")
    assert (code, out) == (0, "4\n")
    code, _, err = calc("eval", "-", input="1\n\ufeff2\n")      # elsewhere it is a character like any other
    assert code == 2 and "U+FEFF" in err


# ---- JSON is strict; output carries no escape codes when piped or with NO_COLOR ----------

def test_json_is_strict_for_every_command():
    runs = [("eval", "x^2", "--at", "x=1e200"),        # a huge value still prints as a number or an error
            ("diff", SEED, "--at", "1"),
            ("grad", "x y", "--at", "x=1,y=2"),
            ("jacobian", "[x y, x]", "--at", "x=1,y=2"),
            ("hessian", "x^2 y", "--at", "x=1,y=2"),
            ("minimize", "(x-1)^2", "--from", "x=0"),
            ("check", "x^x", "--at", "1.5"),
            ("graph", SEED)]
    for args in runs:
        code, out, _ = calc(*args, "--format", "json")
        for line in out.splitlines():
            strict_json(line)


def test_piped_output_has_no_escape_codes():
    for args in (("diff", SEED, "--at", "1"), ("diff", SEED, "--at", "1", "--format", "rich"),
                 ("hessian", "x^2 y", "--at", "x=1,y=2", "--format", "rich"), ("eval", "1 +"),
                 ("minimize", "(1-x)^2 + 100(y-x^2)^2", "--from", "x=-1.2,y=1")):
        code, out, err = calc(*args)
        assert "\x1b" not in out and "\x1b" not in err, args


def _pty_output(args, env) -> str:
    pexpect = pytest.importorskip("pexpect")
    c = pexpect.spawn(sys.executable, ["-m", "calccli", *args], env=env, encoding="utf-8", timeout=60,
                      cwd=str(ROOT), dimensions=(50, 120))
    c.expect(pexpect.EOF)
    c.close()
    return c.before


def test_no_color_on_a_terminal():
    env = _env(TERM="xterm-256color")
    coloured = _pty_output(["diff", SEED, "--at", "1"], env)
    assert "\x1b[" in coloured                      # on a terminal, rich output is coloured …
    plain = _pty_output(["diff", SEED, "--at", "1"], dict(env, NO_COLOR="1"))
    assert "\x1b" not in plain                      # … unless NO_COLOR is set
    assert "f'(1) = 5.983082595908695" in plain
    err = _pty_output(["eval", "1 +"], dict(env, NO_COLOR="1"))
    assert "\x1b" not in err and "expected an expression" in err


# ---- --version, --help, shell completion -----------------------------------------------------

def test_version():
    from calccli import __version__
    code, out, _ = calc("--version")
    assert (code, out) == (0, f"calc {__version__}\n")


def test_help_has_an_example_per_command():
    code, out, _ = calc("--help")
    assert code == 0
    for cmd in COMMANDS:
        assert f"  {cmd} " in out, cmd
        code, text, _ = calc(cmd, "--help")
        assert code == 0 and "Example: calc " in text, cmd
    assert "--install-completion" in out and "--show-completion" in out


def test_shell_completion():
    code, out, _ = calc("--show-completion", "bash")
    assert code == 0 and "_calc_completion" in out and "complete " in out
    env = _env(_CALC_COMPLETE="complete_bash", COMP_WORDS="calc jac", COMP_CWORD="1")
    assert calc(env=env)[1].split() == ["jacobian"]
    env = _env(_CALC_COMPLETE="complete_bash", COMP_WORDS="calc diff x --mo", COMP_CWORD="3")
    assert calc(env=env)[1].split() == ["--mode"]


def test_usage_errors_exit_2_without_traceback():
    for args in (("diff", "x^2", "--format", "xml"), ("diff", "x^2", "--at", "1", "--mode", "sideways"),
                 ("nonsense",), ("jacobian", "[x y]", "--shape", "x=tensor")):
        code, out, err = calc(*args)
        assert code == 2, args
        assert "Traceback" not in out + err
