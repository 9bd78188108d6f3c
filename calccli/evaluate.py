"""Evaluation: one loop over the tape."""
from __future__ import annotations

import math

from .errors import UsageError
from .expr import CONSTANTS
from .ops import FLOAT


def program(tape, ops):
    """(index, function, argument indices) per intermediate variable, cached per tape and ops."""
    key = ("eval", id(ops))
    prog = tape.cache.get(key)
    if prog is None:
        prog = [(i, getattr(ops, tape.prims[i].name), tape.args[i]) for i in tape.rows]
        tape.cache[key] = prog
    return prog


def leaf_values(tape, env: dict, ops=FLOAT) -> list:
    vals = [None] * len(tape.nodes)
    lift = getattr(ops, "lift_leaf", None)
    for i, n in enumerate(tape.nodes):
        if n.op == "num":
            vals[i] = n.value
        elif n.op == "const":
            vals[i] = CONSTANTS[n.value]
        elif n.op == "var":
            try:
                vals[i] = env[n.value]
            except KeyError:
                raise UsageError(f"the variable '{n.value}' has no value: give it with --at "
                                 f"{n.value}=… (or --let)") from None
        if lift is not None and vals[i] is not None:
            vals[i] = lift(vals[i])
    return vals


def evaluate(tape, env: dict, ops=FLOAT) -> list:
    """The value of every node; ``vals[-1]`` is the expression's value."""
    vals = leaf_values(tape, env, ops)
    i = -1
    try:
        for i, f, a in program(tape, ops):
            vals[i] = f(*[vals[j] for j in a])
    except (ArithmeticError, ValueError) as exc:
        from .diagnose import first_nonfinite, value_error
        # an inf made by an earlier row (1e308*10) fails here (sin(inf)): name the row it came from
        earlier = first_nonfinite(tape, vals, before=i) if ops is FLOAT else None
        raise (earlier or value_error(tape, i, vals, exc)) from None
    if ops is FLOAT and not all(map(math.isfinite, (vals[i] for i in tape.rows))):
        from .diagnose import first_nonfinite
        raise first_nonfinite(tape, vals)
    check = getattr(ops, "check_finite", None)
    if check is not None:
        check(tape, vals)
    return vals


def depends(tape, wrt: list[int]) -> list[bool]:
    """For each node: does it depend on any of the nodes ``wrt``?"""
    need = [False] * len(tape.nodes)
    for j in wrt:
        need[j] = True
    args = tape.args
    for i in tape.rows:
        if not need[i]:
            for j in args[i]:
                if need[j]:
                    need[i] = True
                    break
    return need


ARRAY_OPS = frozenset({"vector", "transpose", "index"})


def is_scalar_problem(tape, env: dict) -> bool:
    """True when plain floats suffice (no array literal, no array-valued binding)."""
    for n in tape.nodes:
        if n.op in ARRAY_OPS or n.op == "var" and not isinstance(env.get(n.value, 0.0), float | int):
            return False
        if n.op not in ("num", "var", "const") and n.op not in _SCALAR_PRIMS:
            return False
    return True


def _scalar_prims():
    from .primitives import PRIMS
    return frozenset(n for n, p in PRIMS.items() if not p.array)


_SCALAR_PRIMS = _scalar_prims()


def ops_for(tape, env: dict):
    """The operation namespace for this tape and binding (shape-checking arrays first)."""
    if is_scalar_problem(tape, env):
        return FLOAT
    from .arrays import prepare  # numpy, only when arrays are involved
    return prepare(tape, env)


def value_of(node, env: dict):
    from .tape import build_tape
    tape = build_tape(node)
    return evaluate(tape, env, ops_for(tape, env))[-1]
