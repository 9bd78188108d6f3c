"""Evaluation: one loop over the tape."""
from __future__ import annotations

import math
from operator import itemgetter

from calccli.errors import UsageError
from calccli.engine.expr import CONSTANTS
from calccli.engine.gcpause import collector_paused
from calccli.engine.ops import FLOAT


def program(tape, ops):
    """(index, function, argument indices) per intermediate variable, cached per tape and ops."""
    key = ("eval", id(ops))
    prog = tape.cache.get(key)
    if prog is None:
        prog = [(i, getattr(ops, tape.prims[i].name), tape.args[i]) for i in tape.rows]
        tape.cache[key] = prog
    return prog


def _eval_program(tape, ops):
    """Per intermediate variable (index, function, a, b), cached per tape and ops:
    a, b are the argument indices of a binary row; b = -1 marks a unary row and
    b = -2 any other arity (then a is the tuple of argument indices). Unpacking
    arity-specific tuples saves building an argument list per row."""
    key = ("eval-fast", id(ops))
    prog = tape.cache.get(key)
    if prog is None:
        with collector_paused(len(tape.rows) > 5000, lasting=True):   # kept with the tape
            prog = _build_eval_program(tape, ops)
        tape.cache[key] = prog
    return prog


def _build_eval_program(tape, ops):
    prog = []
    for i in tape.rows:
        f, a = getattr(ops, tape.prims[i].name), tape.args[i]
        prog.append((i, f, a[0], a[1]) if len(a) == 2 else
                    (i, f, a[0], -1) if len(a) == 1 else (i, f, a, -2))
    return prog


def _leaf_plan(tape):
    """Per tape: a template of the values list with numbers and constants filled
    in, the (index, name) of each variable, the indices of the other leaves, and
    a C-level getter of the rows' values (for the finiteness check)."""
    plan = tape.cache.get("leaves")
    if plan is None:
        template = [None] * len(tape.nodes)
        slots, fixed = [], []
        for i, n in enumerate(tape.nodes):
            if n.op == "num":
                template[i] = n.value
                fixed.append(i)
            elif n.op == "const":
                template[i] = CONSTANTS[n.value]
                fixed.append(i)
            elif n.op == "var":
                slots.append((i, n.value))
        rows = tape.rows
        getter = itemgetter(*rows) if len(rows) > 1 else (lambda v: tuple(v[i] for i in rows))
        plan = tape.cache["leaves"] = (template, tuple(slots), tuple(fixed), getter)
    return plan


def leaf_values(tape, env: dict, ops=FLOAT) -> list:
    template, slots, fixed, _ = _leaf_plan(tape)
    vals = template.copy()
    for i, name in slots:
        try:
            vals[i] = env[name]
        except KeyError:
            raise UsageError(f"the variable '{name}' has no value: give it with --at "
                             f"{name}=… (or --let)") from None
    lift = getattr(ops, "lift_leaf", None)
    if lift is not None:
        for i in fixed:
            vals[i] = lift(vals[i])
        for i, _ in slots:
            vals[i] = lift(vals[i])
    return vals


def evaluate(tape, env: dict, ops=FLOAT) -> list:
    """The value of every node; ``vals[-1]`` is the expression's value."""
    vals = leaf_values(tape, env, ops)
    i = -1
    try:
        for i, f, a, b in _eval_program(tape, ops):
            if b >= 0:
                vals[i] = f(vals[a], vals[b])
            elif b == -1:
                vals[i] = f(vals[a])
            else:
                vals[i] = f(*[vals[j] for j in a])
    except (ArithmeticError, ValueError) as exc:
        from calccli.engine.diagnose import first_nonfinite, value_error
        # an inf made by an earlier row (1e308*10) fails here (sin(inf)): name the row it came from
        earlier = first_nonfinite(tape, vals, before=i) if ops is FLOAT else None
        raise (earlier or value_error(tape, i, vals, exc)) from None
    if ops is FLOAT and not all(map(math.isfinite, _leaf_plan(tape)[3](vals))):
        from calccli.engine.diagnose import first_nonfinite
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
    from calccli.engine.primitives import PRIMS
    return frozenset(n for n, p in PRIMS.items() if not p.array)


_SCALAR_PRIMS = _scalar_prims()


def ops_for(tape, env: dict):
    """The operation namespace for this tape and binding (shape-checking arrays first)."""
    if is_scalar_problem(tape, env):
        return FLOAT
    from calccli.engine.arrays import prepare  # numpy, only when arrays are involved
    return prepare(tape, env)


def value_of(node, env: dict):
    from calccli.engine.tape import build_tape
    tape = build_tape(node)
    return evaluate(tape, env, ops_for(tape, env))[-1]
