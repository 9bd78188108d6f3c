"""Results → documents (what the Rich and plain formats show).

One ``view_<result type>`` function per result; :func:`to_doc` dispatches on
the result's class name, so a new command adds one function here.
"""
from __future__ import annotations

from calccli.numfmt import fmt_number
from calccli.render.doc import Block, Doc, Lines, Table, matrix_lines


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


def view_EvalResult(r) -> Doc:
    title = r.expression + (f"    at {fmt_point(r.point)}" if r.point else "")
    if isinstance(r.value, float | int):
        return Doc(title, [], [("value", fmt(r.value))])
    return Doc(title, [Block("", value_lines(r.value, "value"))])


def view_DiffResult(r) -> Doc:
    x = r.variable
    rows = []
    for t in r.trace:
        locals_ = []
        for p in t.partials:
            d = f"∂{t.name}/∂{p.wrt}"
            same = p.expression == fmt_number(p.value)
            locals_.append(f"{d} = {p.expression}" + ("" if same else f" = {fmt_number(p.value)}"))
        rows.append([t.name, t.definition, fmt(t.value), ",  ".join(locals_)])
    blocks = [Table("Intermediate variables (forward pass)",
                    ["var", "definition", "value", "local derivative"], rows)]
    if r.mode == "reverse":
        title = f"Chain rule, reverse mode (adjoints, from {r.output} back to {x})"
    else:
        title = f"Chain rule, forward mode (tangents, from {x} to {r.output})"
    lines = step_lines(r.steps)
    if r.steps:
        blocks.append(Lines(title, lines))
    args = ", ".join(fmt(v) for v in r.point.values())
    names = ", ".join(r.point)
    d = f"f'({args})" if list(r.point) == [x] else f"∂f/∂{x}({args})"
    return Doc(f"f({names}) = {r.expression}    at {fmt_point(r.point)}", blocks,
               [(f"f({args})", fmt(r.value)), (d, fmt(r.derivative))])


def to_doc(result) -> Doc:
    if hasattr(result, "doc"):
        return result.doc()
    fn = globals().get("view_" + type(result).__name__)
    if fn is None and type(result).__name__ == "MatrixDerivative":
        from calccli.render.matrix import view_MatrixDerivative as fn
    if fn is None:
        raise TypeError(f"no view for {type(result).__name__}")
    return fn(result)
