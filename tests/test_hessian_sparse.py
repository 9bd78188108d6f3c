"""Compressed Hessians: the sparsity pattern read off the tape contains every
nonzero second derivative, the colouring lets no two columns of a row share a
tangent, and the compressed pass gives the numbers of the dense one."""
import random

import numpy as np
import pytest

from calccli.engine.objective import Objective
from calccli.engine.primitives import PRIMS
from calccli.errors import CalcError
from calccli.engine.sparsity import compression, distance2_colors, hessian_pattern
from calccli.language.parse import parse
from exprgen import random_expr

# every scalar primitive of the table, written as a call (or operator) on two sub-expressions
SCALAR = sorted(n for n, p in PRIMS.items() if not p.array and p.arity in (1, 2) and n != "nograd")
_OPS = {"add": "({0}) + ({1})", "sub": "({0}) - ({1})", "mul": "({0}) * ({1})",
        "div": "({0}) / (2 + sin({1}))", "pow": "(2 + sin({0}))^({1})", "neg": "-({0})",
        "emul": "({0}) .* ({1})", "epow": "(2 + sin({0})).^({1})"}
_POSITIVE = {"log", "sqrt", "log2", "log10"}
_UNIT = {"asin", "acos"}


def _call(name: str, a: str, b: str) -> str:
    if name in _OPS:
        return _OPS[name].format(a, b)
    if PRIMS[name].arity == 2:
        return f"{name}({a}, {b})"
    if name in _POSITIVE:
        return f"{name}(1 + ({a})^2)"
    if name in _UNIT:
        return f"{name}(0.5*sin({a}))"
    if name in ("log1p",):
        return f"{name}(({a})^2)"
    if name in ("exp", "expm1", "sinh", "cosh", "tan"):
        return f"{name}(sin({a}))"
    return f"{name}({a})"


def _sparse_sum(rng, names, terms):
    """A sum of terms, each a random expression in two or three nearby variables
    (so the Hessian is banded), some through every scalar primitive."""
    parts = []
    for _ in range(terms):
        k = rng.randrange(len(names) - 2)
        local = names[k:k + rng.choice((1, 2, 3))]
        a, _ = random_expr(rng, local, depth=rng.randint(1, 3))
        b, _ = random_expr(rng, local, depth=rng.randint(0, 2))
        parts.append(_call(rng.choice(SCALAR), a, b) if rng.random() < 0.7 else a)
    return " + ".join(f"({p})" for p in parts)


def _dense(obj, theta):
    return np.array(obj.hessian(theta, compress=10**9)[2])


def test_the_pattern_covers_every_nonzero_and_the_compressed_pass_agrees():
    rng = random.Random(2026)
    names = [f"x{i}" for i in range(1, 25)]
    checked = compressed = 0
    for _ in range(120):
        text = _sparse_sum(rng, names, rng.randint(3, 14))
        theta = [rng.uniform(-1.2, 1.2) for _ in names]
        obj = Objective(parse(text).node, {}, names)
        try:
            want = _dense(obj, theta)
            got = np.array(obj.hessian(theta, compress=1)[2])
        except (ArithmeticError, ValueError, CalcError):
            continue
        if not np.all(np.isfinite(want)):
            continue
        pattern, colors = compression(obj.tape, obj.idx)
        assert pattern is not None, text
        for i, j in zip(*np.nonzero(want)):
            assert pattern[i] >> j & 1, (text, names[i], names[j])
        scale = max(1.0, float(np.max(np.abs(want))))
        assert np.max(np.abs(got - want)) <= 1e-13 * scale, text
        checked += 1
        compressed += max(colors) + 1 < len(names)
    assert checked >= 100 and compressed >= 80


def test_no_two_columns_of_a_row_share_a_colour():
    rng = random.Random(7)
    for _ in range(200):
        n = rng.randint(1, 40)
        pattern = [1 << i if rng.random() < 0.7 else 0 for i in range(n)]
        for _ in range(rng.randint(0, 3 * n)):
            i, j = rng.randrange(n), rng.randrange(n)
            pattern[i] |= 1 << j
            pattern[j] |= 1 << i
        colors = distance2_colors(pattern)
        for row in pattern:
            cols = [j for j in range(n) if row >> j & 1]
            assert len({colors[j] for j in cols}) == len(cols)


def test_rosenbrock_needs_three_tangents_whatever_its_size():
    for n in (20, 200):
        text = " + ".join(f"(1 - x{i})^2 + 100*(x{i + 1} - x{i}^2)^2" for i in range(1, n))
        obj = Objective(parse(text).node, {}, [f"x{i}" for i in range(1, n + 1)])
        pattern, colors = compression(obj.tape, obj.idx)
        assert max(colors) + 1 == 3
        assert [bin(r).count("1") for r in pattern[:3]] == [2, 3, 3]   # tridiagonal
        x = [0.1 * (i % 7) - 0.3 for i in range(n)]
        assert np.array_equal(np.array(obj.hessian(x)[2]), _dense(obj, x))


def test_linear_rows_add_nothing_and_a_wide_dense_block_falls_back():
    names = [f"x{i}" for i in range(60)]
    linear = " + ".join(f"{i + 1}*x{i}" for i in range(60))
    obj = Objective(parse(f"{linear} + x0*x1").node, {}, names)
    pattern = hessian_pattern(obj.tape, obj.idx)
    assert pattern[0] == 1 << 1 and pattern[1] == 1 << 0 and not any(pattern[2:])
    # (Σ x_i)² couples all 60 variables: no compression, the dense pass as before
    obj = Objective(parse(f"({' + '.join(names)})^2").node, {}, names)
    assert compression(obj.tape, obj.idx) == (None, None)
    _, _, H = obj.hessian([0.5] * 60)
    assert np.array_equal(np.array(H), np.full((60, 60), 2.0))


@pytest.mark.parametrize("n", [16, 40])
def test_unused_variables_stay_zero_when_compressed(n):
    names = [f"x{i}" for i in range(n)] + ["unused"]
    text = " + ".join(f"sin(x{i})*x{i + 1}" for i in range(n - 1))
    _, _, H = Objective(parse(text).node, {}, names).hessian([0.3] * (n + 1), compress=1)
    assert H[-1] == [0.0] * (n + 1) and all(r[-1] == 0.0 for r in H)
