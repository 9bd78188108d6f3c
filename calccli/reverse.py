"""Reverse mode: adjoints from the output back to the inputs, one loop over the tape."""
from __future__ import annotations

from math import isfinite

from .evaluate import depends
from .ops import FLOAT


def reverse(tape, vals, wrt: list[int], ops=FLOAT, seed=None, record: list | None = None) -> list:
    """Adjoint ∂out/∂node of every node that depends on a node in ``wrt``.

    ``adj[j] += adj[i] * ∂i/∂j`` over every use of j: the ``+=`` is what gives a
    shared subexpression (a node with several users) its full derivative.
    None is a structural zero. ``record`` collects (row, arg k, arg index,
    partial, contribution) in the order the contributions are added.
    """
    key = ("need", tuple(wrt))
    need = tape.cache.get(key)
    if need is None:
        need = tape.cache[key] = depends(tape, wrt)
    adj = [None] * len(tape.nodes)
    root = len(tape.nodes) - 1
    if not need[root]:
        return adj
    adj[root] = ops.one if seed is None else seed
    args, prims = tape.args, tape.prims
    fit = getattr(ops, "fit", None)
    floats = ops is FLOAT
    i = k = -1
    try:
        for i in reversed(tape.rows):
            g = adj[i]
            if g is None:
                continue
            p = prims[i]
            a = args[i]
            av = [vals[j] for j in a]
            out = vals[i]
            vjp = p.array.get("vjp")
            for k, j in enumerate(a):
                if not need[j]:
                    continue
                if vjp is not None:
                    d, c = None, vjp(ops, k, g, av, out)
                else:
                    d = p.partials[k](ops, *av, out)
                    c = g * d
                    if fit is not None:
                        c = fit(c, vals[j])
                    elif floats and not isfinite(c):  # e.g. 1/a at a = 1e-320: inf, silently
                        raise OverflowError("the derivative is beyond float64")
                if record is not None:
                    record.append((i, k, j, d, c))
                adj[j] = c if adj[j] is None else adj[j] + c
    except (ArithmeticError, ValueError) as exc:
        from .diagnose import derivative_error
        raise derivative_error(tape, i, max(k, 0), vals, exc) from None
    return adj
