"""Results → JSON objects with exactly the contract's keys (strict JSON)."""
from __future__ import annotations

import json
import math
import re
from dataclasses import asdict, is_dataclass
from functools import singledispatch

from calccli.render import no_renderer


def clean(v):
    """Plain JSON data: floats full precision, arrays as lists, no NaN/Infinity tokens."""
    if isinstance(v, bool) or v is None or isinstance(v, str):
        return v
    if isinstance(v, int):
        return v
    if isinstance(v, float):
        if v == 0.0:
            return 0.0  # no -0.0 in JSON (jq prints it as -0)
        return v if math.isfinite(v) else ("inf" if v > 0 else "-inf" if v < 0 else "nan")
    if isinstance(v, dict):
        return {str(k): clean(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [clean(x) for x in v]
    if is_dataclass(v):
        return clean(asdict(v))
    if hasattr(v, "tolist"):  # numpy arrays and scalars
        return clean(v.tolist())
    return str(v)


def flat_point(point: dict) -> dict:
    """Vector and matrix values flattened into x[1], A[1,2] components (row-major)."""
    out = {}
    for name, v in point.items():
        if isinstance(v, float | int):
            out[name] = v
            continue
        import numpy as np
        a = np.asarray(v, dtype=float)
        for idx in np.ndindex(a.shape):
            out[f"{name}[{','.join(str(i + 1) for i in idx)}]"] = float(a[idx])
    return out


@singledispatch
def json_obj(result) -> dict:
    """A result's JSON object with the contract's keys; one ``@json_obj.register``
    per result type, in render/<command>.py. Values may still need :func:`clean`."""
    return no_renderer(json_obj, result)


def to_obj(result) -> dict:
    """A result as plain JSON data (clean: lists, finite floats or "inf"/"nan" text)."""
    return clean(json_obj(result))


# Strict JSON, characters as they are; no check for cycles: a result's JSON object is
# a tree made for this call (the check costs a dict insertion per object and list).
_ENCODE = json.JSONEncoder(ensure_ascii=False, allow_nan=False, check_circular=False).encode
_NEGATIVE_ZERO = re.compile(r"-0\.0(?![0-9eE])")   # the float -0.0 (not -0.05); also in a string: then clean runs


def dumps(result) -> str:
    """Most results are plain dicts of finite floats, strings and lists, which
    json encodes directly (in C); ``clean`` runs only when that fails (NaN or
    infinity, numpy values, dataclasses) or a -0.0 shows."""
    raw = json_obj(result)
    try:
        text = _ENCODE(raw)
    except (TypeError, ValueError):
        text = None
    if text is None or ("-0.0" in text and _NEGATIVE_ZERO.search(text)):
        text = _ENCODE(clean(raw))         # (clean writes -0.0 as 0.0)
    return line_safe(text)


_LINE_BREAKS = {0x85: "\\u0085", 0x2028: "\\u2028", 0x2029: "\\u2029"}


def line_safe(text: str) -> str:
    """JSON text with NEL, LINE and PARAGRAPH SEPARATOR escaped: readers of JSON Lines that split on
    every Unicode line break (Python's str.splitlines) must still see one object a line."""
    if text.isascii() or not ("\x85" in text or "\u2028" in text or "\u2029" in text):
        return text
    return text.translate(_LINE_BREAKS)


def trace_obj(trace) -> list[dict]:
    """The intermediate-variable table: name, definition, value and local partials."""
    return [{"name": t.name, "definition": t.definition, "value": t.value,
             "partials": [{"wrt": p.wrt, "expression": p.expression, "value": p.value} for p in t.partials]}
            for t in trace]


def steps_obj(steps) -> list[dict]:
    """Chain-rule steps: target, formula, numbers, value (and a note where one applies)."""
    return [{"target": s.target, "formula": s.formula, "numeric": s.numeric, "value": s.value,
             **({"note": s.note} if s.note else {})} for s in steps]
