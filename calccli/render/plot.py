"""How ``calc plot`` results look: the picture (drawn by the command), its legend,
the critical points and the tangent line (commands/plot.py)."""
from __future__ import annotations

from calccli.commands.plot import MARKERS, TANGENT, PlotResult
from calccli.numfmt import fmt_number, short_number
from calccli.render.doc import Block, Doc, Lines
from calccli.render.html import formulas_html, to_html
from calccli.render.json import json_obj
from calccli.render.latex import expr_latex, name, number, to_latex
from calccli.render.views import to_doc


@json_obj.register(PlotResult)
def plot_obj(p) -> dict:
    out = {"expression": p.expression, "variable": p.variable, "from": p.lo, "to": p.hi,
           "order": p.order, "xs": p.xs, "ys": p.ys, "critical_points": p.critical}
    if p.tangent:
        out["tangent"] = p.tangent
    if p.derivative_expressions:
        out["derivative_expressions"] = p.derivative_expressions
    return out


@to_doc.register(PlotResult)
def plot_doc(p) -> Doc:
    x = p.variable
    blocks = [Block("", p.lines)]
    notes = []
    legend = "   ".join(f"{MARKERS[k % len(MARKERS)]} {lab}" for k, lab in enumerate(p.ys))
    if p.tangent:
        legend += f"   {TANGENT} tangent at {x} = {short_number(p.tangent['at'])}"
    notes.append(legend)
    for lab, text in p.derivative_expressions.items():
        notes.append(f"{lab}({x}) = {text}")
    for c in p.critical:
        where = f"the endpoint {x} = {short_number(c['x'])}" if c.get("endpoint") else f"{x} ≈ {short_number(c['x'])}"
        on = f" on [{short_number(p.lo)}, {short_number(p.hi)}]" if c.get("endpoint") else ""
        notes.append(f"f'({x}) = 0 at {where}: {c['kind']} of f{on} (f = {short_number(c['f'])})")
    if p.order >= 1 and not p.critical:
        notes.append(f"f' does not change sign on [{short_number(p.lo)}, {short_number(p.hi)}]: "
                     "no extremum of f there")
    if p.tangent:
        t = p.tangent
        notes.append(f"tangent at {x} = {short_number(t['at'])}: y = {short_number(t['value'])} "
                     f"+ {short_number(t['slope'])}·({x} - {short_number(t['at'])})")
    blocks.append(Lines("", notes))
    title = f"f({x}) = {p.expression}    on [{short_number(p.lo)}, {short_number(p.hi)}]"
    summary = []
    if p.critical:
        summary.append((f"f'({x}) = 0 at {x}", ", ".join(short_number(c["x"]) for c in p.critical)))
    if p.tangent:
        summary.append((f"f'({short_number(p.tangent['at'])})", fmt_number(p.tangent["slope"])))
    return Doc(title, blocks, summary)


@to_latex.register(PlotResult)
def plot_latex(p) -> str:
    x = name(p.variable)
    parts = [f"f({x}) = {expr_latex(p.expression)}, \\quad {x} \\in [{number(p.lo)}, {number(p.hi)}]"]
    for lab, text in p.derivative_expressions.items():
        parts.append(f"{lab}({x}) = {expr_latex(text)}")
    for c in p.critical:
        parts.append(f"f'({x}) = 0 \\text{{ at }} {x} \\approx {number(float(short_number(c['x'])))}"
                     f" \\quad \\text{{({c['kind']})}}")
    if p.tangent:
        t = p.tangent
        parts.append(f"y = {number(t['value'])} + {number(t['slope'])} \\left({x} - {number(t['at'])}\\right)")
    return "\n\n".join(parts) + "\n"


@to_html.register(PlotResult)
def plot_html(r, page) -> str:
    """The formulas, then the picture."""
    return formulas_html(r, page, pictures=True)
