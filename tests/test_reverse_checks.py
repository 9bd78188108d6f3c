"""The reverse pass checks finiteness once at the end on floats; an overflow is still
reported at the row where it happened, as by the per-contribution check."""
import math

import pytest

from calccli.engine.evaluate import evaluate
from calccli.engine.reverse import reverse
from calccli.engine.tape import build_tape
from calccli.errors import CalcError
from calccli.language.parse import parse


def _error(text, env, record):
    tape = build_tape(parse(text).node)
    vals = evaluate(tape, env)
    wrt = [tape.variables[v] for v in sorted(env) if v in tape.variables]
    with pytest.raises(CalcError) as e:
        reverse(tape, vals, wrt, record=record)
    return e.value.message


@pytest.mark.parametrize("text", ["1/x", "0*(1/x) + x", "y*(1/x) + sin(x)", "y^2 + exp(y)*(1/x)^1"])
def test_overflow_found_at_the_same_row(text):
    env = {"x": 1e-170, "y": 2.0}
    unchecked = _error(text, env, None)
    assert unchecked == _error(text, env, [])      # a recorded pass checks every contribution
    assert "overflows" in unchecked


def test_finite_results_unchanged():
    tape = build_tape(parse("x*y + exp(x)*sin(y) + 1/x").node)
    env = {"x": 0.7, "y": -1.3}
    vals = evaluate(tape, env)
    wrt = [tape.variables["x"], tape.variables["y"]]
    adj = reverse(tape, vals, wrt)
    x, y = 0.7, -1.3
    assert adj[wrt[0]] == pytest.approx(y + math.exp(x) * math.sin(y) - 1 / x ** 2, rel=1e-14)
    assert adj[wrt[1]] == pytest.approx(x + math.exp(x) * math.cos(y), rel=1e-14)
    assert adj == reverse(tape, vals, wrt, record=[])
