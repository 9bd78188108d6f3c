"""Per-command glue: options → a ``compute(text)`` function returning a result object.

The feature modules are imported inside ``compute`` so a command loads only
what it uses (start-up time).
"""
from __future__ import annotations

from calccli.errors import UsageError


def _fail(err):
    def compute(_text):
        raise err
    return compute


def parse_order(order) -> int:
    try:
        n = int(str(order).strip())
        if str(n) != str(order).strip().lstrip("+"):
            raise ValueError
    except ValueError:
        raise UsageError(f"--order must be a whole number ≥ 1, got '{order}'") from None
    if n < 1:
        raise UsageError(f"--order must be a whole number ≥ 1, got {n}")
    return n


def eval_compute(at, let):
    from calccli.commands.derivatives import eval_expr
    return lambda text: eval_expr(text, at, let)


def diff_compute(at, let, wrt, mode, order, steps, explain=True):
    """``explain=False``: the numbers only, without the trace and the steps (the REPL's f'(1))."""
    if mode not in ("forward", "reverse"):
        return _fail(UsageError(f"unknown mode '{mode}': use forward or reverse"))
    try:
        n = parse_order(order)
    except UsageError as e:
        return _fail(e)

    def compute(text):
        if at:
            if n == 1 and not steps:
                from calccli.commands.derivatives import diff_at
                return diff_at(text, at, let, wrt, mode, explain)
            from calccli.commands.higher import diff_higher
            return diff_higher(text, at, let, wrt, mode, n, steps, explain)
        from calccli.commands.symbolic import diff_symbolic
        return diff_symbolic(text, let, wrt, n, steps)
    return compute


def grad_compute(at, let, wrt, steps, shape=None):
    def compute(text):
        if at:
            from calccli.commands.multivar import grad_at
            return grad_at(text, at, let, wrt, steps)
        from calccli.commands.matrix import is_matrix_problem, symbolic_derivative
        if is_matrix_problem(text, shape, let):
            return symbolic_derivative("grad", text, let, wrt, shape, steps)
        from calccli.commands.symbolic import grad_symbolic
        return grad_symbolic(text, let, wrt)
    return compute


def _need_at(at, cmd):
    if not at:
        raise UsageError(f"{cmd} needs a point: --at x=1,y=2")


def jacobian_compute(at, let, wrt, mode, shape=None, steps=False):
    if mode not in ("auto", "forward", "reverse"):
        return _fail(UsageError(f"unknown mode '{mode}': use auto, forward or reverse"))

    def compute(text):
        if not at:
            from calccli.commands.matrix import symbolic_derivative
            return symbolic_derivative("jacobian", text, let, wrt, shape, steps)
        from calccli.commands.multivar import jacobian_at
        return jacobian_at(text, at, let, wrt, mode)
    return compute


def hessian_compute(at, let, wrt, shape=None, steps=False):
    def compute(text):
        if not at:
            from calccli.commands.matrix import symbolic_derivative
            return symbolic_derivative("hessian", text, let, wrt, shape, steps)
        from calccli.commands.multivar import hessian_at
        return hessian_at(text, at, let, wrt)
    return compute


def check_compute(at, let, wrt, tol):
    def compute(text):
        _need_at(at, "check")
        from calccli.commands.check import check_at
        return check_at(text, at, let, wrt, tol)
    return compute


def graph_compute(let, format, at=None, wrt=None, mode="reverse", output=None):
    """graph has its own formats (tree, dot); returns (compute, output format).
    With ``at``: values and adjoints (or tangents, ``mode`` forward); ``output``
    renders the picture to an .svg/.png/.pdf file."""
    style = format or "tree"
    if style not in ("tree", "dot", "json", "plain", "rich", "html"):
        return _fail(UsageError(f"unknown graph format '{style}': use tree, dot, json or html")), "plain"
    out = {"json": "json", "tree": None, "rich": "rich", "plain": "plain", "dot": "plain", "html": "html"}[style]

    def compute(text):
        from calccli.commands.graph import graph_of
        g = graph_of(text, let, style, at, wrt, mode or "reverse")
        if output:
            from calccli.commands.graphviz import write_picture
            from calccli.render.graph import dot_text
            g.file = write_picture(dot_text(g), output)
        return g
    return compute, out


def plot_compute(lo, hi, order, at, let, wrt, width, height):
    def compute(text):
        from calccli.commands.plot import plot_of
        return plot_of(text, lo, hi, order, at, let, wrt, width, height)
    return compute


def minimize_compute(start, let, wrt, method, lr, steps, tol, trace):
    def compute(text):
        if not start:
            raise UsageError("minimize needs a starting point: --from x=0,y=0")
        from calccli.commands.optimize import minimize_from
        return minimize_from(text, start, let, wrt, method, lr, steps, tol, trace)
    return compute


def fit_compute(data, target, mode, batch_size, order, epochs, lr, seed, init, loss, compare, features=None):
    def compute(text):
        from calccli.commands.fit import fit_model
        return fit_model(text, data, target, mode, batch_size, order, epochs, lr, seed, init, loss, compare,
                         features)
    return compute
