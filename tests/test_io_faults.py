"""Faults of the standard streams, with real file descriptors in a subprocess: a closed
stdin, stdout or stderr, a full disk (/dev/full), a broken pipe. Each ends calc with one
line on stderr and status 74 (EX_IOERR), silently by SIGPIPE for a broken pipe, and a
parse error keeps its status 2 even with nowhere to say it; never a traceback.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from calccli.app.streams import EX_IOERR

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX file descriptors and signals")

ENV = {**os.environ, "PYTHONPATH": os.getcwd() + os.pathsep + os.environ.get("PYTHONPATH", ""),
       "NO_COLOR": "1", "COLUMNS": "80"}
FULL = "/dev/full"


def calc(*args, stdin=None, stdout=subprocess.PIPE, close=(), input_text=None):
    """Run ``python -m calccli ARGS`` with the file descriptors in ``close`` closed."""
    def child():
        for fd in close:
            os.close(fd)
    p = subprocess.run([sys.executable, "-m", "calccli", *args], stdin=stdin, stdout=stdout,
                       stderr=subprocess.PIPE if 2 not in close else None, preexec_fn=child,
                       input=input_text, env=ENV, timeout=120)
    err = (p.stderr or b"").decode("utf-8", "replace")
    assert "Traceback" not in err and "Exception ignored" not in err, err
    return p.returncode, (p.stdout or b"").decode() if stdout == subprocess.PIPE else "", err


def one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


def broken_pipe():
    """A pipe whose reading end is already closed: every write to it fails with EPIPE."""
    r, w = os.pipe()
    os.close(r)
    return w


# ---- closed descriptors --------------------------------------------------------------

@pytest.mark.parametrize("args", [["diff", "-", "--at", "x=1"], ["eval", "-", "--format", "json"], ["repl"],
                                  ["fit", "w*x + b", "--data", "-", "--target", "y"]])
def test_closed_stdin_is_an_io_error(args):
    code, out, err = calc(*args, close=(0,))
    assert code == EX_IOERR
    assert one_line(err) == "calc: cannot read standard input: Bad file descriptor"
    assert out == ""


@pytest.mark.parametrize("args", [["eval", "1"], ["eval", "1", "--format", "json"],
                                  ["diff", "x^2", "--at", "1"], ["--help"], ["--version"]])
def test_closed_stdout_is_an_io_error(args):
    code, _, err = calc(*args, stdout=None, close=(1,))
    assert code == EX_IOERR
    assert one_line(err) == "calc: cannot write to standard output: Bad file descriptor"


def test_closed_stdout_does_not_hide_a_parse_error():
    """Nothing had to be written to stdout: the parse error and its status stand."""
    code, _, err = calc("eval", "sin(", stdout=None, close=(1,))
    assert code == 2
    assert err.startswith("error: ")


@pytest.mark.parametrize("args,status", [(["eval", "sin("], 2), (["eval", "sqrt(-1)"], 1),
                                         (["eval", "1+1"], 0), (["diff", "-", "--at", "x=1"], 2)])
def test_closed_stderr_keeps_the_status(args, status):
    code, out, _ = calc(*args, close=(2,), input_text=b"x^2\nsin(\n")
    assert code == status
    if status == 0:
        assert "value = 2" in out


# ---- a full disk ---------------------------------------------------------------------

needs_full = pytest.mark.skipif(not os.path.exists(FULL), reason="no /dev/full")


@needs_full
@pytest.mark.parametrize("args", [["eval", "1"], ["eval", "1", "--format", "json"],
                                  ["eval", "sin(", "--format", "json"],              # the JSON error path
                                  ["eval", "-"], ["eval", "-", "--format", "json"],   # batch mode
                                  ["diff", "x^2", "--at", "1", "--format", "rich"],
                                  ["repl"]])
def test_full_disk_is_an_io_error(args):
    with open(FULL, "wb") as full:
        code, _, err = calc(*args, stdout=full, input_text=b"1+1\n2+2\n")
    assert code == EX_IOERR
    lines = err.strip().splitlines()        # (after the parse error's own message, if any)
    assert lines[-1] == "calc: cannot write to standard output: No space left on device"
    assert sum(line.startswith("calc:") for line in lines) == 1


@needs_full
def test_full_stderr_keeps_the_status():
    with open(FULL, "wb") as full:
        p = subprocess.run([sys.executable, "-m", "calccli", "eval", "sin("], stdout=subprocess.PIPE,
                           stderr=full, env=ENV, timeout=120)
    assert p.returncode == 2


# ---- a broken pipe -------------------------------------------------------------------

@pytest.mark.parametrize("args", [["--help"], ["eval", "1"], ["eval", "sin(", "--format", "json"],
                                  ["diff", "-", "--at", "x=1"], ["repl"],
                                  ["diff", "x^2", "--at", "1", "--format", "rich"]])
def test_broken_pipe_is_silent_and_ends_by_sigpipe(args):
    w = broken_pipe()
    try:
        code, _, err = calc(*args, stdout=w, input_text=b"f(x) = x^3\nf(2)\n:vars\n" if args == ["repl"]
                            else b"x^2\n")
    finally:
        os.close(w)
    assert code == -signal.SIGPIPE          # a shell shows 141
    assert err == ""


def test_head_closing_the_pipe_midway():
    """``calc diff - --at x=1 < many_lines | head -1``: head leaves after one line."""
    lines = "".join(f"x^2 + {k} x\n" for k in range(20000)).encode()
    p = subprocess.Popen([sys.executable, "-m", "calccli", "diff", "-", "--at", "x=1"], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV)
    import threading
    feeder = threading.Thread(target=lambda: (p.stdin.write(lines), p.stdin.close()), daemon=True)
    feeder.start()
    first = p.stdout.readline()
    p.stdout.close()                        # what head -1 does
    err = p.stderr.read().decode()
    p.wait(timeout=120)
    feeder.join(timeout=10)
    assert first.decode().split("\t") == ["1", "2\n"]      # x^2 + 0 x at 1: value 1, derivative 2
    assert p.returncode == -signal.SIGPIPE
    assert err == ""


@pytest.mark.parametrize("pipeline,which", [
    ("printf 'x\\n%.0s' $(seq 30000) | python -m calccli diff - --at x=1 | head -1 >/dev/null", 1),
    ("printf 'f(x) = x^2\\nf(1)\\n%.0s' $(seq 15000) | python -m calccli repl | head -1 >/dev/null", 1)])
def test_shell_reports_141(pipeline, which):
    """As a shell sees it: calc's status in the pipeline is 141 (128 + SIGPIPE)."""
    path = os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"]
    p = subprocess.run(["bash", "-c", pipeline + f"; echo ${{PIPESTATUS[{which}]}}"], capture_output=True,
                       text=True, env={**ENV, "PATH": path}, timeout=300)
    assert p.stdout.strip() == "141"
    assert p.stderr == ""


# ---- an unreadable stdin, in-process ---------------------------------------------------

def test_unreadable_stdin_is_an_io_error(monkeypatch, capsys):
    import errno
    import io

    from calccli.app.cli import main

    class Failing(io.RawIOBase):
        def readable(self):
            return True

        def readinto(self, b):
            raise OSError(errno.EIO, os.strerror(errno.EIO))
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BufferedReader(Failing())))
    with pytest.raises(SystemExit) as e:
        main(["eval", "-"])
    assert e.value.code == EX_IOERR
    assert capsys.readouterr().err == f"calc: cannot read standard input: {os.strerror(errno.EIO)}\n"
