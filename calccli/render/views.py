"""Results → documents (what the Rich and plain formats show).

:func:`to_doc` is a generic function with one implementation per result type,
registered in render/<command>.py; the helpers here are shared by those views.
"""
from __future__ import annotations

from functools import singledispatch

from calccli.numfmt import fmt_number
from calccli.render import no_renderer
from calccli.render.doc import Doc, matrix_lines


def fmt(v) -> str:
    if isinstance(v, float | int):
        return fmt_number(v)
    try:
        import numpy as np
        a = np.asarray(v, dtype=float)
    except Exception:
        return str(v)
    if a.ndim == 1:
        return "[" + ", ".join(fmt_number(x) for x in a) + "]"
    return "[" + ", ".join("[" + ", ".join(fmt_number(x) for x in r) + "]" for r in a) + "]"


def fmt_point(point: dict) -> str:
    return ", ".join(f"{k} = {fmt(v)}" for k, v in point.items())


def value_lines(v, name: str) -> list[str]:
    """A value as text lines: a scalar on one line, arrays as bracketed blocks."""
    if isinstance(v, float | int):
        return [f"{name} = {fmt_number(v)}"]
    import numpy as np
    a = np.asarray(v, dtype=float)
    if a.ndim == 1:
        return matrix_lines([[fmt_number(x)] for x in a], f"{name} = ")
    return matrix_lines([[fmt_number(x) for x in r] for r in a], f"{name} = ")


def step_lines(steps, show=fmt) -> list[str]:
    """Chain-rule steps as lines: 'target = formula = numbers = value', the
    numbers on a continuation line (aligned under the '=') when it is long."""
    lines = []
    for s in steps:
        head = s.target if s.formula == s.target else f"{s.target} = {s.formula}"
        val = show(s.value)
        if s.formula in (val, "1") and s.numeric in (val, "1"):
            lines.append(head)
            continue
        tail = f"= {val}" if s.numeric in (val, s.formula) else f"= {s.numeric} = {val}"
        note = f"      ({s.note})" if s.note else ""
        if len(head) + len(tail) + len(note) < 80:
            lines.append(f"{head} {tail}{note}")
        else:
            lines.append(head + note)
            lines.append(" " * (len(s.target) + 1) + tail)
    return lines


@singledispatch
def to_doc(result) -> Doc:
    """The document (title, tables, lines, summary) that rich and plain draw;
    one ``@to_doc.register`` per result type, in render/<command>.py."""
    return no_renderer(to_doc, result)


@singledispatch
def to_summary(result) -> list[tuple[str, str]]:
    """The document's summary (label, value) pairs: batch mode's plain line. A result whose
    document is costly to build (a trace) registers its summary alone."""
    from calccli.render import load_renderers
    if load_renderers(type(result)):   # the first of its type: its module may register one
        return to_summary(result)
    return to_doc(result).summary
