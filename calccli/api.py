"""calc's Python API: the CLI's commands as functions (``calc.diff``, ``calc.grad``, …).

Each function builds the same ``compute`` the CLI builds (:mod:`calccli.app.wiring`,
which calls :mod:`calccli.commands`) and returns its result wrapped in a
:class:`Result`; failures raise the CLI's own errors (:mod:`calccli.errors`).
"""
from __future__ import annotations

from calccli.app import wiring
from calccli.errors import CalcError, UsageError

__all__ = ["Result", "value", "diff", "derivative", "grad", "jacobian", "hessian", "check",
           "minimize", "fit", "graph"]


class Result:
    """What a calc function computed.

    Every field of the command's own result (``raw``, the object the CLI renders)
    is an attribute: ``r.value``, ``r.derivative``, ``r.trace``, ``r.steps`` …;
    gradients, Jacobians and Hessians are numpy arrays (``g.gradient`` in the
    variable's shape). ``r.to_json()`` is the CLI's ``--format json`` object and
    ``r.to_text(fmt)`` its text in ``plain``, ``rich``, ``json`` or ``latex``.
    """

    __slots__ = ("raw", "_fields")

    def __init__(self, raw, fields: dict | None = None):
        self.raw = raw
        self._fields = fields or {}

    def __getattr__(self, name):
        if name in ("raw", "_fields"):  # not set yet (copying, unpickling)
            raise AttributeError(name)
        if name in self._fields:
            return self._fields[name]
        return getattr(self.raw, name)

    def __dir__(self):
        return sorted(set(dir(type(self))) | set(self._fields) | set(dir(self.raw)))

    def to_json(self) -> dict:
        """The result as the CLI's ``--format json`` prints it (strict JSON data)."""
        from calccli.render.json import to_obj
        return to_obj(self.raw)

    def to_text(self, format: str = "plain") -> str:
        """The result as the CLI prints it with ``--format FORMAT``."""
        from calccli.render import FORMATS, render_text
        if format not in FORMATS:
            raise _api_error(UsageError(f"unknown format '{format}': use one of {', '.join(FORMATS)}"))
        return render_text(self.raw, format)

    def __repr__(self) -> str:
        try:
            from calccli.render.views import to_doc
            summary = ", ".join(f"{k} = {v}" for k, v in to_doc(self.raw).summary)
        except Exception:  # noqa: BLE001 - a repr never fails
            summary = ""
        return f"<calc {type(self.raw).__name__}" + (f": {summary}>" if summary else ">")


def _api_error(err: CalcError) -> CalcError:
    """The error with the CLI's caret lines in its text (``str(err)``)."""
    err.args = ("\n".join([err.message] + err.caret_lines() + ([f"hint: {err.hint}"] if err.hint else [])),)
    return err


def _run(compute, text: str, fields=None) -> Result:
    from calccli.app.output import guarded
    if not isinstance(text, str):
        raise _api_error(UsageError(f"the expression must be a string, got {type(text).__name__}"))
    try:
        raw = guarded(lambda: compute(text))
    except CalcError as e:
        raise _api_error(e).with_traceback(None) from None
    return Result(raw, fields(raw) if fields else None)


def _array(v):
    import numpy as np
    return np.array(v, dtype=float)


def _gradient_fields(raw) -> dict:
    if not hasattr(raw, "parts"):  # symbolic: expressions, not numbers
        return {}
    if len(raw.parts) == 1 and raw.parts[0][1] != ():
        return {"gradient": _array(raw.parts[0][2])}
    return {"gradient": _array(raw.gradient)}


# ---------------------------------------------------------------------------- the commands

def value(expr: str, at=None, let=None) -> Result:
    """The value of ``expr`` (``calc eval``); ``calc.eval`` is the same function.

    ``at`` and ``let`` bind names: a dict of numbers, lists, numpy arrays or calc
    text (``{"x": 1.0, "A": [[1, 2], [3, 4]], "t": "pi/4"}``), a bare number
    when ``expr`` has one variable, or the CLI's strings (``"x=1,y=2"``).
    ``r.value`` is a float, or a numpy array for a vector or matrix value."""
    return _run(wiring.eval_compute(at, let), expr)


def diff(expr: str, at=None, let=None, wrt=None, mode: str = "reverse", order: int = 1,
         steps: bool = False) -> Result:
    """The derivative of ``expr`` by one variable (``calc diff``).

    With ``at``: ``r.value``, ``r.derivative`` (floats), ``r.trace`` (the
    intermediate variables: name, definition, value, local partials) and
    ``r.steps`` (the chain-rule steps), by reverse or forward ``mode``; with
    ``order`` > 1 the higher derivatives. Without ``at``: the symbolic
    derivative, as :func:`derivative`."""
    return _run(wiring.diff_compute(at, let, wrt, mode, order, steps), expr)


def derivative(expr: str, wrt=None, let=None, order: int = 1, steps: bool = False) -> Result:
    """The simplified symbolic derivative (``calc diff`` without a point).

    ``r.text`` is the derivative in calc's syntax (``calc.value`` reads it
    back), ``r.derivative`` the expression node, ``r.steps`` the rules applied
    when ``steps=True``."""
    return _run(wiring.diff_compute(None, let, wrt, "reverse", order, steps), expr)


def grad(expr: str, at=None, let=None, wrt=None, steps: bool = False) -> Result:
    """The gradient of a scalar ``expr`` by one reverse pass (``calc grad``).

    ``g.gradient`` is a numpy array: in the variable's shape when there is one
    vector or matrix variable, else one entry per name of ``g.variables``.
    ``g.value`` is f at the point; ``steps=True`` adds ``g.trace`` and
    ``g.steps``. Without ``at``: the symbolic gradient (expressions)."""
    return _run(wiring.grad_compute(at, let, wrt, steps), expr, _gradient_fields)


def jacobian(expr: str, at, let=None, wrt=None, mode: str = "auto") -> Result:
    """The Jacobian of a vector function ``[f1, f2, …]`` (``calc jacobian``).

    ``r.jacobian`` is a numpy array, one row per output and one column per
    name of ``r.variables``; ``r.value`` the output; ``r.mode`` and
    ``r.passes`` say how it was computed (``auto``: the mode with fewer passes)."""
    def fields(raw):
        shape = raw.shape if len(raw.shape) == 2 else (len(raw.value),)
        return {"jacobian": _array(raw.jacobian), "value": _array(raw.value).reshape(shape)}
    return _run(wiring.jacobian_compute(at, let, wrt, mode), expr, fields)


def hessian(expr: str, at, let=None, wrt=None) -> Result:
    """The Hessian by forward-over-reverse AD (``calc hessian``).

    ``r.hessian`` (numpy, rows and columns following ``r.variables``),
    ``r.gradient``, ``r.eigenvalues`` and ``r.classification`` (``minimum``,
    ``maximum``, ``saddle`` or ``degenerate``)."""
    def fields(raw):
        return {"hessian": _array(raw.hessian), "gradient": _array(raw.gradient),
                "eigenvalues": _array(raw.eigenvalues)}
    return _run(wiring.hessian_compute(at, let, wrt), expr, fields)


def check(expr: str, at, let=None, wrt=None, tol: float = 1e-6) -> Result:
    """Forward, reverse and symbolic derivatives against central differences
    (``calc check``). ``r.ok`` is True when they agree within ``tol``;
    ``r.rows`` has one row per variable."""
    return _run(wiring.check_compute(at, let, wrt, tol), expr)


def minimize(expr: str, start, let=None, wrt=None, method: str = "auto", lr: float | None = None,
             steps: int | None = None, tol: float = 1e-8, trace: bool = False) -> Result:
    """Minimize ``expr`` from the point ``start`` (``calc minimize --from``).

    ``r.argmin`` (name → value), ``r.minimum``, ``r.iterations``,
    ``r.converged`` (a run that stops without meeting ``tol`` is returned with
    ``converged`` False, as the CLI prints it and exits 1), ``r.history``."""
    def fields(raw):
        return {"argmin": raw.argmin(), "minimum": raw.last.J}
    return _run(wiring.minimize_compute(start, let, wrt, method, lr, steps, tol, trace), expr, fields)


def fit(model: str, data, target: str, mode: str = "batch", batch_size: int = 16, order: str = "fixed",
        epochs: int = 100, lr: float = 0.05, seed: int | None = None, init=None, loss: str | None = None,
        compare: bool = False) -> Result:
    """Fit ``model``'s parameters to the CSV file ``data`` by gradient descent (``calc fit``).

    ``r.params`` (name → value), ``r.loss`` (final J) and ``r.history`` (J after
    each epoch), with ``mode`` batch, online or minibatch; ``compare=True``
    runs all three."""
    def fields(raw):
        out = Result(raw).to_json()
        return {k: out[k] for k in ("params", "loss", "history")}
    import os
    return _run(wiring.fit_compute(os.fspath(data), target, mode, batch_size, order, epochs, lr, seed,
                                   init, loss, compare), model, fields)


def graph(expr: str, at=None, let=None, wrt=None, mode: str = "reverse", format: str = "tree",
          output=None) -> Result:
    """The computational graph (``calc graph``): ``r.nodes`` (name, kind,
    definition, args, users) and ``r.output``, the root's name. With ``at``
    each node has its ``value`` and, in reverse ``mode``, its ``adjoint``
    ∂f/∂node (forward: ``tangent`` ∂node/∂x for the one variable ``wrt``).
    ``r.to_text("plain")`` draws it (``format="dot"``: Graphviz DOT); ``output``
    renders the picture to an .svg, .png or .pdf file (needs Graphviz)."""
    import os
    compute, _ = wiring.graph_compute(let, format, at, wrt, mode, None if output is None else os.fspath(output))
    return _run(compute, expr)
