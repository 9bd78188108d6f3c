"""REPL definitions that double (f_k = f_{k-1}∘f_{k-1}) stay a DAG of 2^(k-1)+1 nodes:
they are computed on it, never written out, and refused with a size error (which limit,
and why) once a call would pass MAX_NODES. Run in a subprocess whose address space is
capped, so a text expansion (gigabytes by f18 before) would fail the test, not the machine.
"""
from __future__ import annotations

import json
import math
import os
import subprocess
import sys

import pytest

from calccli.app.session import MAX_NODES, Session

LIMIT_BYTES = 1_500_000_000


def _capped():
    import resource
    resource.setrlimit(resource.RLIMIT_AS, (LIMIT_BYTES, LIMIT_BYTES))


def doubling(first: str, last: int) -> list[str]:
    return [f"f1(x) = {first}"] + [f"f{k}(x) = f{k - 1}(f{k - 1}(x))" for k in range(2, last + 1)]


def repl(lines: list[str]):
    env = {**os.environ, "PYTHONPATH": os.getcwd(), "OPENBLAS_NUM_THREADS": "1", "NO_COLOR": "1"}
    p = subprocess.run([sys.executable, "-m", "calccli", "repl"], input="\n".join(lines) + "\n",
                       capture_output=True, text=True, env=env, timeout=600,
                       preexec_fn=_capped if os.name == "posix" else None)
    assert "Traceback" not in p.stderr and "internal error" not in p.stderr + p.stdout, p.stderr[-2000:]
    return p


def largest_allowed() -> int:
    """The last k whose f_k (2^(k-1)+1 nodes) a call may build: f_k = f_{k-1}(f_{k-1}(x))
    needs nodes(f_{k-1}) + nodes(f_{k-1}(x)) ≤ MAX_NODES."""
    k = 1
    while 2 * (2 ** (k - 1) + 1) <= MAX_NODES:
        k += 1
    return k


@pytest.mark.skipif(os.name != "posix", reason="RLIMIT_AS")
def test_doubling_definitions_are_computed_on_the_dag_or_refused():
    k = largest_allowed()
    assert 15 <= k < 30
    lines = doubling("sin(x)", 30) + [":format json", f"f{k}(1)", f"f{k}'(1)", ":mode forward", f"f{k}'(1)",
                                       f"eval f{k}(x) at x=1", ":vars"]
    p = repl(lines)
    assert p.returncode == 1                      # the size errors: the mathematics was refused
    errors = [line for line in p.stderr.splitlines() if line.startswith("line ")]
    first = f"line {k + 1}: error: this call of f{k}(x) would make an expression of up to "
    assert errors[0].startswith(first), errors[0]
    assert f"({MAX_NODES:,})" in errors[0] and "few hundred MB" in errors[0]
    assert all("unknown function" in e for e in errors[1:]), [e for e in errors[1:] if "unknown" not in e]

    # the oracle: sin iterated 2^(k-1) times, and the chain rule's product of cosines
    s, d = 1.0, 1.0
    for _ in range(2 ** (k - 1)):
        d *= math.cos(s)
        s = math.sin(s)
    out = [json.loads(line) for line in p.stdout.splitlines()]     # every line is JSON
    value, reverse, forward, evaluated, listing = out
    assert value["value"] == pytest.approx(s, rel=1e-12)
    assert reverse["value"] == pytest.approx(d, rel=1e-9)
    assert forward["value"] == pytest.approx(d, rel=1e-9)
    assert evaluated["value"] == pytest.approx(s, rel=1e-12) and evaluated["expression"] == f"f{k}(x)"
    functions = listing["vars"]["functions"]
    assert [f["nodes"] for f in functions] == [2 ** (j - 1) + 1 for j in range(1, k + 1)]
    assert functions[-1]["body"] is None and functions[0]["body"] == "sin(x)"


@pytest.mark.skipif(os.name != "posix", reason="RLIMIT_AS")
def test_squares_that_double_are_refused_cleanly():
    """The issue's case: x*x doubled to f30 (f15 was an internal error, f18 1.2 GB, f30 killed)."""
    p = repl(doubling("x*x", 30) + ["f15(1)", "f15'(0)", "f15(x)"])
    assert p.returncode == 1
    assert "would make an expression of up to" in p.stderr
    assert p.stdout.splitlines() == ["1", "0"]
    assert "more than a formula calc writes" not in p.stderr       # a value needs no formula
    assert "'x' has no value" in p.stderr


def test_a_formula_too_long_to_write_is_refused_without_a_point():
    s = Session()
    for line in doubling("x*x", 12):
        assert s.execute(line).error is None
    e = s.execute("diff f12(x)").error
    assert e.kind == "size" and e.exit_code == 1
    assert "give a point" in e.message and "2,049 distinct nodes" in e.message
    e = s.execute("diff f12(x) at x=1").error      # x^(2^2048): at a point, computed; f' overflows
    assert e.kind == "overflow" and e.exit_code == 1


def test_written_length_counts_the_tree_on_the_dag():
    from calccli.app.session import written_length
    from calccli.engine.printer import to_text
    for first in ("x + 1", "x*x", "sin(x)", "x^2 + sin(x)"):
        s = Session()
        for line in doubling(first, 4):
            s.execute(line)
        body = s.functions["f4"].body
        assert 0.5 <= written_length(body) / len(to_text(body)) <= 3, first   # the order of magnitude
