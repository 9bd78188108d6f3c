"""Random expressions for the symbolic tests (hypothesis strategies) and helpers."""
from __future__ import annotations

import math

from hypothesis import strategies as st

from calccli.errors import CalcError
from calccli.engine.evaluate import evaluate
from calccli.engine.ops import FLOAT
from calccli.language.parse import parse
from calccli.engine.tape import build_tape

FUNCS = ["sin", "cos", "exp", "log", "sqrt", "tan", "atan", "tanh", "sinh", "abs", "sigmoid"]
SYMPY_FUNCS = ["sin", "cos", "exp", "log", "sqrt", "atan", "tanh"]


def exprs(variables=("x",), funcs=FUNCS, max_leaves=8):
    """Expression texts in calc syntax (explicit operators, so SymPy reads them too)."""
    leaf = st.one_of(st.sampled_from(list(variables)),
                     st.integers(1, 5).map(str),
                     st.sampled_from(["0.5", "2.5", "pi"]))

    def extend(sub):
        return st.one_of(
            st.tuples(sub, st.sampled_from(["+", "-", "*", "/"]), sub).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
            st.tuples(sub, st.integers(-3, 4)).map(lambda t: f"({t[0]})^({t[1]})"),
            st.tuples(st.sampled_from(funcs), sub).map(lambda t: f"{t[0]}({t[1]})"),
            sub.map(lambda s: f"(-{s})"),
        )
    return st.recursive(leaf, extend, max_leaves=max_leaves)


def values(node, env):
    """All node values at ``env`` (None if evaluation fails there)."""
    tape = build_tape(node)
    try:
        vals = evaluate(tape, env, FLOAT)
    except (CalcError, ArithmeticError, ValueError):
        return None
    if not all(math.isfinite(v) for v in vals if isinstance(v, float)):
        return None
    return vals


def value(node, env):
    vals = values(node, env)
    return None if vals is None else vals[-1]


def scale(node, env) -> float:
    vals = values(node, env)
    return 1.0 if vals is None else max([1.0] + [abs(v) for v in vals if isinstance(v, float)])


def close(a: float, b: float, scale_: float, tol: float = 1e-7) -> bool:
    return abs(a - b) <= tol * scale_


POINTS = [-2.3, -0.7, 0.3, 0.9, 1.7, 3.1]


def node_of(text):
    return parse(text).node
