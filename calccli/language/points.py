"""``--at`` / ``--let`` bindings and the choice of variables (``--wrt``).

``--at 1.0``, ``--at x=1,y=2``, ``--at x=[1,2,3]``, ``--at x=pi/4`` and repeated
options. Values are constant expressions in calc's own language, evaluated by
calc's own engine (never by Python's eval). The Python API gives the same
bindings as data: ``{"x": 1.0, "A": numpy_array, "y": "pi/4"}`` or a bare number.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from calccli.errors import CalcError, UsageError
from calccli.engine.expr import Node, free_vars

_NAME = re.compile(r"\s*((?!\d)\w+)\s*=(?!=)")


@dataclass
class Binding:
    name: str | None       # None: a bare value (``--at 1.0``)
    text: str              # the value's text
    option: str            # the whole option text, for carets
    pos: int               # where the value starts in ``option``
    value: object = None   # a value given as data (Python API): a float or a numpy array


def split_top_level(text: str) -> list[tuple[str, int]]:
    """Split at commas outside brackets; returns (piece, start offset)."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append((text[start:i], start))
            start = i + 1
    parts.append((text[start:], start))
    return parts


def _data_text(v) -> str:
    """A data value written as calc would read it (for messages and carets)."""
    if isinstance(v, float):
        return repr(v)
    if getattr(v, "ndim", 0) == 1:
        return "[" + ", ".join(repr(float(x)) for x in v) + "]"
    return "[" + ", ".join(_data_text(r) for r in v) + "]"


def data_value(name: str, v, flag: str = "--at"):
    """A binding given as Python data: a number becomes a float; a list, tuple or
    numpy array a float64 vector or matrix (a copy). Anything else is a UsageError."""
    where = f"{flag} {name}" if name else flag
    if isinstance(v, bool) or isinstance(v, complex):
        raise UsageError(f"{where}: {v!r} is not a real number")
    if isinstance(v, int | float):
        f = float(v)
    else:
        if not isinstance(v, list | tuple) and not hasattr(v, "__array__"):
            raise UsageError(f"{where}: expected a number, a list or a numpy array, got {type(v).__name__}")
        import numpy as np
        try:
            a = np.array(v, dtype=float)
        except (TypeError, ValueError):
            raise UsageError(f"{where}: not a vector or matrix of real numbers "
                             "(rows of equal length, numbers only)") from None
        if a.ndim == 0:
            f = float(a)
        elif a.ndim > 2:
            raise UsageError(f"{where}: calc has vectors and matrices; this array has {a.ndim} dimensions")
        elif a.size == 0:
            raise UsageError(f"{where}: an empty array has no value")
        elif not np.all(np.isfinite(a)):
            raise UsageError(f"{where}: the values must be finite numbers")
        else:
            return a
    if not math.isfinite(f):
        raise UsageError(f"{where}: {f!r} is not a finite number")
    return f


def _data_binding(name: str | None, v, flag: str) -> Binding:
    if name is not None and not _NAME.fullmatch(f"{name}="):
        raise UsageError(f"{flag} expects variable names, got {name!r}")
    value = data_value(name or "", v, flag)
    text = _data_text(value)
    prefix = f"{name}=" if name is not None else ""
    return Binding(name, text, prefix + text, len(prefix), value)


def _normalize(options, flag: str):
    """Option strings, and Bindings for values given as data (the Python API):
    a dict name → number, list, numpy array or calc text; a bare number or
    array (``at=1.0``); a string or a list of strings (as on the command line)."""
    if options is None:
        return []
    if isinstance(options, str):
        return [options]
    if isinstance(options, dict):
        out = []
        for name, v in options.items():
            if not isinstance(name, str):
                raise UsageError(f"{flag} expects variable names, got {name!r}")
            out.append(f"{name}={v}" if isinstance(v, str) else _data_binding(name, v, flag))
        return out
    if isinstance(options, list | tuple) and all(isinstance(o, str) for o in options):
        return list(options)
    return [_data_binding(None, options, flag)]


def parse_bindings(options, flag: str = "--at") -> list[Binding]:
    """The bindings of repeated ``flag`` options, or of the same given as data
    (see :func:`_normalize`)."""
    out: list[Binding] = []
    for opt in _normalize(options, flag):
        if isinstance(opt, Binding):
            out.append(opt)
            continue
        pieces = split_top_level(opt)
        for piece, start in pieces:
            m = _NAME.match(piece)
            if m:
                out.append(Binding(m.group(1), piece[m.end():], opt, start + m.end()))
            elif len(pieces) == 1 and piece.strip():
                out.append(Binding(None, piece, opt, start))
            else:
                raise UsageError(f"{flag} expects name=value pairs such as x=1,y=2",
                                 source=opt, pos=start, end=start + max(len(piece), 1))
    seen = {}
    for b in out:
        if b.name is not None and b.name in seen:
            raise UsageError(f"{flag} gives '{b.name}' twice", source=b.option, pos=b.pos)
        seen[b.name] = b
    return out


# A plain decimal literal, optionally negated: the grammar's NUMBER (see
# grammar/calc.lark) with an optional unary minus, and the grammar's ignored
# whitespace around them.
_LITERAL = re.compile(r"[ \t\f\r\n]*(-?)[ \t\f\r\n]*((?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)[ \t\f\r\n]*")
_CONSTANTS: dict[str, float] = {}


def constant_value(text: str):
    """The value of a constant expression (a number, pi/4, [1, 2], [[1,2],[3,4]]).

    A plain number (``--at x=1.3``, or each of a thousand ``x1=…,x2=…``) is read
    with ``float`` — exactly what parsing it would give — instead of a full
    parse; other scalar values are remembered by text (in batch mode one
    ``--at`` serves every line)."""
    m = _LITERAL.fullmatch(text)
    if m is not None:
        v = float(m.group(2))
        if math.isfinite(v):  # else let the parser say "too large"
            return -v if m.group(1) and v != 0.0 else v
    v = _CONSTANTS.get(text)
    if v is not None:
        return v
    v = _constant_value(text)
    if isinstance(v, float) and len(_CONSTANTS) < 4096:
        _CONSTANTS[text] = v
    return v


def _constant_value(text: str):
    from calccli.language.parse import parse
    from calccli.engine.evaluate import value_of
    node = parse(text).node
    names = free_vars(node)
    if names:
        raise UsageError(f"a value cannot use the variable '{names[0]}'")
    return value_of(node, {})


def _bind_value(b: Binding):
    if b.value is not None:
        return b.value
    try:
        return constant_value(b.text)
    except CalcError as e:
        shift = b.pos
        if e.pos is not None and e.source == b.text:
            e.source, e.pos, e.end = b.option, e.pos + shift, (e.end + shift if e.end is not None else None)
        else:
            e.source, e.pos, e.end = b.option, shift, shift + len(b.text)
        raise


@dataclass
class Problem:
    """An expression with its point, constants and variables of differentiation."""
    node: Node
    env: dict                    # every name the expression needs -> value
    wrt: list[str]               # variables of differentiation, in order
    point: dict = field(default_factory=dict)   # the --at bindings, name -> value


def resolve(node: Node, at: list[str] | None = None, let: list[str] | None = None,
            wrt: str | list[str] | None = None, *, need_point: bool = True,
            defaults: dict | None = None, parsed=None, differentiate: bool = True, tape=None) -> Problem:
    """Bind the expression's free variables and choose the variables of differentiation.

    ``parsed`` (a :class:`calccli.parse.Parsed`) lets errors about a variable
    point at it in the input; ``tape``, the node's tape if it is built already,
    saves a walk over the nodes (its variables are the free ones, in order).
    """
    free = list(tape.variables) if tape is not None else free_vars(node)
    lets = parse_bindings(let, "--let")
    ats = parse_bindings(at, "--at")
    env = dict(defaults or {})
    for b in lets:
        if b.name is None:
            raise UsageError("--let expects name=value, e.g. --let \"A=[[1,2],[3,4]]\"", source=b.option, pos=0)
        env[b.name] = _bind_value(b)
    let_names = {b.name for b in lets}
    point: dict = {}
    bare = [b for b in ats if b.name is None]
    if len(bare) > 1:  # --at 1 --at 2: which is which?
        b = bare[1]
        raise UsageError(f"--at gives {len(bare)} values without names ({', '.join(x.text.strip() for x in bare)}); "
                         "name them: --at x=…,y=…", source=b.option, pos=b.pos)
    if bare:
        candidates = [v for v in free if v not in let_names and v not in env]
        if wrt:
            w = ([n.strip() for n in wrt.split(",") if n.strip()] if isinstance(wrt, str) else list(wrt)) or [wrt]
            candidates = [v for v in w if v in candidates or v not in free] if len(w) == 1 else candidates
        if len(candidates) != 1:
            b = bare[0]
            if not candidates:
                raise UsageError("--at gives a bare value but the expression has no free variable; "
                                 "use --at NAME=VALUE", source=b.option, pos=b.pos)
            raise UsageError(f"--at {b.text.strip()} is ambiguous: the expression has the variables "
                             f"{', '.join(candidates)}; write --at {candidates[0]}=…", source=b.option, pos=b.pos)
        bare[0].name = candidates[0]
    for b in ats:
        if b.name in let_names:
            raise UsageError(f"'{b.name}' is bound by both --at and --let", source=b.option, pos=b.pos)
        point[b.name] = env[b.name] = _bind_value(b)

    if wrt:
        names = [w.strip() for w in (wrt.split(",") if isinstance(wrt, str) else wrt) if w.strip()]
        for n in names:
            if n in let_names:
                raise UsageError(f"'{n}' is a constant (--let) and cannot be a variable of differentiation")
            if need_point and n not in point and n in free:
                raise UsageError(f"--wrt {n}: give its value with --at {n}=…")
    elif point:
        order = {v: k for k, v in enumerate(free)}
        # a constant line of a batch (2.5 with --at x=1.3) is differentiated by the --at names
        names = sorted((n for n in point if n in order), key=order.__getitem__) or list(point)
    else:
        names = [v for v in free if v not in env] if differentiate else []
        if len(names) > 1:
            raise UsageError(f"the expression has several variables ({', '.join(names)}): choose with --wrt")
    missing = [v for v in free if v not in env and (need_point or v not in names)]
    if missing:
        err = UsageError(f"the variable '{missing[0]}' has no value: give it with --at {missing[0]}=…"
                         + (" (or --let)" if need_point else ""))
        if parsed is not None:
            from calccli.engine.expr import var
            span = parsed.span(var(missing[0]))
            if span:
                err.at(parsed.text, *span)
        raise err
    return Problem(node, env, names, point)
