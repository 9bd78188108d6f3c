"""The float reverse pass (flattened program, constant exponents through the
table's ``float_partial``) gives exactly the adjoints of the general pass, and the
same errors at the same rows."""
import math
import random

import pytest

from calccli.engine.evaluate import evaluate
from calccli.engine.ops import FLOAT
from calccli.engine.primitives import PRIMS
from calccli.engine.reverse import reverse
from calccli.engine.tape import build_tape
from calccli.errors import CalcError
from calccli.language.parse import parse
from exprgen import random_expr

EXPONENTS = ["0", "1", "2", "3", "0.5", "-1", "-2.5", "1.5", "4"]


def _both(text, env):
    tape = build_tape(parse(text).node)
    vals = evaluate(tape, env)
    wrt = [tape.variables[v] for v in sorted(env) if v in tape.variables]
    fast = reverse(tape, vals, wrt)
    general = reverse(tape, vals, wrt, record=[])  # a recorded pass runs the general loop
    return fast, general, wrt


def _same(a, b):
    return (a is None and b is None) or a == b and math.copysign(1, a) == math.copysign(1, b) or (
        a != a and b != b)


def test_float_pass_equals_the_general_pass_on_random_expressions():
    rng = random.Random(2)
    for _ in range(300):
        text, _ = random_expr(rng, ("x", "y"), depth=rng.randint(1, 5))
        text = f"({text})^{rng.choice(EXPONENTS)} + y^{rng.choice(EXPONENTS)} * {text}"
        env = {"x": rng.uniform(0.1, 2), "y": rng.uniform(0.1, 2)}
        try:
            fast, general, _ = _both(text, env)
        except CalcError:
            continue
        assert all(_same(a, b) for a, b in zip(fast, general)), text


@pytest.mark.parametrize("c", EXPONENTS)
@pytest.mark.parametrize("x", [-1.5, 0.0, 0.3, 2.0])
def test_constant_exponent_partials_against_the_generic_rule(c, x):
    pw, y = PRIMS["pow"], float(c)
    spec = pw.float_partial(0, (None, y))

    def special():
        return spec(x) if callable(spec) else spec
    try:
        want = pw.partials[0](FLOAT, x, y, None)
    except (ArithmeticError, ValueError) as exc:
        with pytest.raises(type(exc)):
            special()
        return
    got = special()
    assert got == want and math.copysign(1, got) == math.copysign(1, want)


def test_a_variable_exponent_keeps_the_generic_rule():
    pw = PRIMS["pow"]
    assert pw.float_partial(0, (None, None)) is None and pw.float_partial(1, (2.0, None)) is None


@pytest.mark.parametrize("text, env", [
    ("x^0.5 * y", {"x": 0.0, "y": 2.0}),          # 0^(-0.5) in the partial: not differentiable
    ("x^-0.5 + y", {"x": 5e-324, "y": 1.0}),      # a finite value, an overflowing partial
    ("y*x^1.5 + x^-0.5", {"x": 5e-324, "y": 1.0}),
    ("sqrt(x) + y^2", {"x": 0.0, "y": 1.0}),
])
def test_errors_match_the_checked_pass(text, env):
    tape = build_tape(parse(text).node)
    wrt = [tape.variables[v] for v in sorted(env)]
    messages = []
    for record in (None, []):
        vals = evaluate(tape, env)
        with pytest.raises(CalcError) as e:
            reverse(tape, vals, wrt, record=record)
        messages.append(e.value.message)
    assert messages[0] == messages[1]
