"""How ``calc eval`` and ``calc diff --at`` results look: the intermediate-variable
table and the chain-rule steps, in every format (results: explain/records.py)."""
from __future__ import annotations

from calccli.explain.records import DiffResult, EvalResult
from calccli.numfmt import fmt_number
from calccli.render.doc import Block, Doc, Lines, Table
from calccli.render.html import derivation_html, to_html
from calccli.render.json import flat_point, json_obj, steps_obj, trace_obj
from calccli.render.latex import (_point, bmatrix, expr_latex, name, number, steps_latex, text, to_latex,
                                  trace_latex)
from calccli.render.views import fmt, fmt_point, step_lines, to_doc, to_summary, value_lines


# ---------------------------------------------------------------- eval

@to_doc.register(EvalResult)
def eval_doc(r) -> Doc:
    title = r.expression + (f"    at {fmt_point(r.point)}" if r.point else "")
    if isinstance(r.value, float | int):
        return Doc(title, [], [("value", fmt(r.value))])
    return Doc(title, [Block("", value_lines(r.value, "value"))])


@json_obj.register(EvalResult)
def eval_obj(r) -> dict:
    return {"expression": r.expression, "value": r.value, "point": flat_point(r.point)}


@to_latex.register(EvalResult)
def eval_latex(r) -> str:
    head = expr_latex(r.expression)
    val = number(r.value) if isinstance(r.value, float | int) else bmatrix(r.value)
    at = (r" \quad " + text("at ") + _point(r.point)) if r.point else ""
    return f"{head} = {val}{at}\n"


# ---------------------------------------------------------------- diff at a point

@to_doc.register(DiffResult)
def diff_doc(r) -> Doc:
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
    return Doc(f"f({', '.join(r.point)}) = {r.expression}    at {fmt_point(r.point)}", blocks, diff_summary(r))


@to_summary.register(DiffResult)
def diff_summary(r) -> list[tuple[str, str]]:
    """f and f' at the point: without the trace, which the summary does not show."""
    args = ", ".join(fmt(v) for v in r.point.values())
    d = f"f'({args})" if list(r.point) == [r.variable] else f"∂f/∂{r.variable}({args})"
    return [(f"f({args})", fmt(r.value)), (d, fmt(r.derivative))]


@json_obj.register(DiffResult)
def diff_obj(r) -> dict:
    return {
        "expression": r.expression, "variable": r.variable, "point": flat_point(r.point),
        "mode": r.mode, "order": r.order, "value": r.value, "derivative": r.derivative,
        "output": r.output, "trace": trace_obj(r.trace), "steps": steps_obj(r.steps),
    }


@to_latex.register(DiffResult)
def diff_latex(r) -> str:
    x = r.variable
    args = ", ".join(name(k) for k in r.point) or name(x)
    at = ", ".join(number(v) if isinstance(v, float | int) else bmatrix(v) for v in r.point.values())
    d = "'" if len(r.point) <= 1 else r"_{" + name(x) + "}"
    parts = [f"f({args}) = {expr_latex(r.expression)} \\quad {text('at ')}{_point(r.point)}",
             trace_latex(r.trace)]
    if r.steps:
        parts.append(steps_latex(r.steps))
    parts.append(f"f({at}) = {number(r.value)}, \\quad f{d}({at}) = {number(r.derivative)}")
    return "\n\n".join(parts) + "\n"


@to_html.register(DiffResult)
def diff_html(r, page) -> str:
    return derivation_html(r, page, r.trace, r.steps)
