"""Forward mode: tangents from the inputs to the output, one loop over the tape."""
from __future__ import annotations

from math import isfinite

from calccli.engine.ops import FLOAT


def forward(tape, vals, seeds: dict[int, object], ops=FLOAT, record: list | None = None) -> list:
    """Tangent of every node given the tangents ``seeds`` of some leaves.

    A tangent of None is a structural zero: rows that do not depend on the
    seeded inputs are skipped, and so are their partial derivatives (so x^2's
    exponent never asks for log(x)). ``record`` collects (row, arg k, arg index,
    partial, contribution) for the step-by-step view.
    """
    tan = [None] * len(tape.nodes)
    for j, t in seeds.items():
        tan[j] = t
    args, prims = tape.args, tape.prims
    fit = getattr(ops, "fit", None)
    floats = ops is FLOAT
    i = k = -1
    try:
        for i in tape.rows:
            a = args[i]
            if all(tan[j] is None for j in a):
                continue
            p = prims[i]
            av = [vals[j] for j in a]
            jvp = p.array.get("jvp")
            if jvp is not None:
                tan[i] = jvp(ops, av, vals[i], [tan[j] for j in a])
                continue
            t = None
            for k, j in enumerate(a):
                tj = tan[j]
                if tj is None:
                    continue
                d = p.partials[k](ops, *av, vals[i])
                c = d * tj
                if fit is not None:
                    c = fit(c, vals[i])
                elif floats and not isfinite(c):  # e.g. 1/a at a = 1e-320: inf, silently
                    raise OverflowError("the derivative is beyond float64")
                if record is not None:
                    record.append((i, k, j, d, c))
                t = c if t is None else t + c
            tan[i] = t
    except (ArithmeticError, ValueError) as exc:
        from calccli.engine.diagnose import derivative_error
        raise derivative_error(tape, i, max(k, 0), vals, exc) from None
    return tan
