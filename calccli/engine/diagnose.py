"""Turning a failure inside an interpreter loop into a message about the row.

"b = log(a): a = 0 is outside the domain of log" — the intermediate variable
where it happened, its definition, and the values of its arguments.
"""
from __future__ import annotations

from calccli.errors import CalcError, DomainError, NotDifferentiable, OverflowErr
from calccli.numfmt import fmt_number
from calccli.engine.printer import definition


def _val(v) -> str:
    if isinstance(v, float | int):
        return fmt_number(v)
    v = getattr(v, "v", v)  # a dual number: its value
    try:  # arrays, in calc's own syntax: [[1, 2], [2, 4]]
        import numpy as np
        a = np.asarray(v, dtype=float)
        if a.ndim == 0:
            return fmt_number(float(a))
        if a.size > 24:
            return f"(a {'×'.join(map(str, a.shape))} array)"
        if a.ndim == 1:
            return "[" + ", ".join(fmt_number(float(x)) for x in a) + "]"
        return "[" + ", ".join("[" + ", ".join(fmt_number(float(x)) for x in r) + "]" for r in a) + "]"
    except Exception:  # pragma: no cover - anything printable
        return str(v)


def describe_row(tape, i: int) -> str:
    return f"{tape.names[i]} = {definition(tape.nodes[i], tape.node_names())}"


def arg_values(tape, i: int, vals) -> str:
    parts = []
    for j in dict.fromkeys(tape.args[i]):
        if tape.prims[j] is not None or tape.nodes[j].op == "var":
            parts.append(f"{tape.name_of(j)} = {_val(vals[j])}")
    return ", ".join(parts)


def _operands(tape, i: int, vals) -> str:
    """The arguments' values for a message: names where they have them, else the literals (sqrt(-1): -1)."""
    where = arg_values(tape, i, vals)
    return where or ", ".join(_val(vals[j]) for j in dict.fromkeys(tape.args[i]))


def value_error(tape, i: int, vals, exc: BaseException) -> CalcError:
    """An exception from evaluating row i, as calc's error."""
    if isinstance(exc, CalcError):
        return exc
    prim = tape.prims[i]
    row = describe_row(tape, i)
    where = arg_values(tape, i, vals)
    if isinstance(exc, OverflowError):
        return OverflowErr(f"{row} overflows" + (f" at {where}" if where else "")
                           + " (the result is beyond the range of float64, about 1.8e308)")
    if isinstance(exc, ZeroDivisionError):
        return DomainError(f"{row}: division by zero" + (f" ({where})" if where else ""))
    if prim.name == "pow":
        return DomainError(f"{row}: " + (f"{where}: " if where else "")
                           + "a negative number to a non-integer power is not a real number")
    dom = f" ({prim.domain})" if prim.domain else ""
    return DomainError(f"{row}: {_operands(tape, i, vals)} is outside the domain of {prim.name}{dom}")


def derivative_error(tape, i: int, k: int, vals, exc: BaseException) -> CalcError:
    """An exception from a local-derivative rule: the derivative does not exist there."""
    if isinstance(exc, CalcError):
        return exc
    row = describe_row(tape, i)
    where = arg_values(tape, i, vals)
    j = tape.args[i][k]
    wrt = tape.name_of(j)
    if isinstance(exc, OverflowError):
        return OverflowErr(f"the derivative overflows at {row} ({where}): the chain-rule product through "
                           f"∂{tape.names[i]}/∂{wrt} is beyond the range of float64 (about 1.8e308)")
    why = "is infinite or undefined"
    hint = None
    if tape.prims[i] is not None and tape.prims[i].kink_hint:
        from calccli.engine.printer import to_text
        x = to_text(tape.nodes[j])
        hint = tape.prims[i].kink_hint.format(x, p=x if tape.nodes[j].op == "var" else f"({x})")
    return NotDifferentiable(
        f"not differentiable at this point: {row} at {where}; ∂{tape.names[i]}/∂{wrt} {why} there", hint=hint)


def first_nonfinite(tape, vals, before: int | None = None) -> CalcError | None:
    """The first row (before row ``before``) whose value is inf or NaN (e.g. 1e200*1e200), if any."""
    import math
    for i in tape.rows:
        if i == before:
            break
        v = vals[i]
        if v is None:
            continue
        if isinstance(v, float):
            bad = not math.isfinite(v)
        else:
            import numpy as np
            bad = not np.all(np.isfinite(v))
        if bad:
            where = arg_values(tape, i, vals)
            return OverflowErr(f"{describe_row(tape, i)} is {_val(v)}" + (f" at {where}" if where else "")
                               + ": the value overflows float64")
    return None
