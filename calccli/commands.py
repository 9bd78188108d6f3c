"""Per-command glue: options → a ``compute(text)`` function returning a result object."""
from __future__ import annotations

from .errors import UsageError


def diff_compute(at, let, wrt, mode, order, steps):
    if mode not in ("forward", "reverse"):
        raise_usage = UsageError(f"unknown mode '{mode}': use forward or reverse")

        def fail(_):
            raise raise_usage
        return fail

    def compute(text):
        if order < 1:
            raise UsageError(f"--order must be a whole number ≥ 1, got {order}")
        if at:
            if order != 1 or steps:
                from .higher import diff_higher  # issue: higher orders / symbolic steps
                return diff_higher(text, at, let, wrt, mode, order, steps)
            from .derivatives import diff_at
            return diff_at(text, at, let, wrt, mode)
        from .symbolic import diff_symbolic
        return diff_symbolic(text, let, wrt, order, steps)
    return compute
