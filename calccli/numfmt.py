"""How numbers are written: the shortest text that reads back as the same float."""
from __future__ import annotations

import math


def fmt_number(v: float) -> str:
    if v.__class__ is float and v - v == 0.0:   # the common case: a finite float
        return str(int(v)) if v.is_integer() and -1e16 < v < 1e16 else repr(v)
    if isinstance(v, bool):
        v = float(v)
    if isinstance(v, int):
        return str(v)
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    if v == int(v) and abs(v) < 1e16:
        return str(int(v))
    return repr(float(v))


def short_number(v, digits: int = 6) -> str:
    """``v`` in ``digits`` significant digits, for tables and labels (not data); -0.0 is
    written 0 (adding 0.0 turns it into +0.0)."""
    return f"{v + 0.0:.{digits}g}"


def json_number(v):
    """A float for JSON, or a string for values JSON cannot hold."""
    v = float(v)
    return v if math.isfinite(v) else fmt_number(v)
