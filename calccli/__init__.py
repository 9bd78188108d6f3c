"""calc: a command-line calculus assistant for the mathematics of machine learning.

As a library: ``import calccli as calc; calc.diff("x^2 sin(x)", at={"x": 1.0})``.
The functions (see :mod:`calccli.api`) and the error types (:mod:`calccli.errors`)
are loaded on first use (PEP 562), so ``import calccli`` stays cheap.
"""
__version__ = "0.1.0"

_API = ("Result", "value", "diff", "derivative", "grad", "jacobian", "hessian", "check", "minimize",
        "fit", "graph")
_ALIASES = {"eval": "value"}  # calc.eval is calc.value (the CLI's `calc eval`)
_ERRORS = ("CalcError", "ParseError", "ShapeError", "UsageError", "DomainError", "NotDifferentiable",
           "OverflowErr", "NoConvergence")

# not "eval": `from calccli import *` must not shadow the builtin
__all__ = ["__version__", *_API, *_ERRORS]


def __getattr__(name: str):
    if name in _API or name in _ALIASES:
        from calccli import api
        obj = getattr(api, _ALIASES.get(name, name))
    elif name in _ERRORS:
        from calccli import errors
        obj = getattr(errors, name)
    else:
        raise AttributeError(f"module 'calccli' has no attribute {name!r}")
    globals()[name] = obj  # resolved once
    return obj


def __dir__():
    return sorted(set(globals()) | set(__all__) | set(_ALIASES))
