"""How ``calc graph`` results look: the computational graph as a tree (shared
nodes drawn once), as Graphviz DOT, or as nodes and edges; with ``--at`` each
node's value and adjoint ∂f/∂node (or tangent ∂node/∂x) (commands/graph.py)."""
from __future__ import annotations

from calccli.numfmt import short_number
from calccli.commands.graph import GraphNode, GraphResult
from calccli.render.doc import Block, Doc, Table
from calccli.render.html import table_html, to_html
from calccli.render.json import flat_point, json_obj
from calccli.render.latex import expr_latex, name, number, to_latex
from calccli.render.views import fmt, fmt_point, to_doc


def derivative_label(g, node_name: str) -> str:
    """∂f/∂c (reverse) or ∂c/∂x (forward)."""
    return f"∂{g.output}/∂{node_name}" if g.mode == "reverse" else f"∂{node_name}/∂{g.wrt}"


def _short(v) -> str:
    """A value in 6 significant digits (DOT labels: pictures, not data)."""
    if isinstance(v, float | int):
        return short_number(float(v))
    import numpy as np
    a = np.asarray(v, dtype=float)
    if a.ndim == 1:
        return "[" + ", ".join(map(short_number, a)) + "]"
    return "[" + ", ".join("[" + ", ".join(map(short_number, r)) + "]" for r in a) + "]"


@json_obj.register(GraphResult)
def graph_obj(g) -> dict:
    def entry(n: GraphNode) -> dict:
        out = {"name": n.name, "kind": n.kind, "op": n.op, "definition": n.definition,
               "args": n.args, "users": n.users}
        if n.value is not None:
            out["value"] = n.value
        if g.mode == "reverse" and g.has_values:
            out["adjoint"] = n.adjoint
        if g.mode == "forward":
            out["tangent"] = n.tangent
        return out
    out = {"expression": g.expression, "output": g.output,
           "nodes": [entry(n) for n in g.nodes],
           "edges": [[a, n.name] for n in g.nodes for a in n.args],
           "shared": g.shared}
    if g.has_values:
        out["point"] = flat_point(g.point)
        out["mode"] = g.mode
        if g.mode == "forward":
            out["wrt"] = g.wrt
        if g.note:
            out["note"] = g.note
    if g.file:
        out["file"] = g.file
    return out


# ---------------------------------------------------------------- drawings

def _label(n: GraphNode) -> str:
    if n.kind == "intermediate":
        note = f"   used {n.users}×" if n.users > 1 else ""
        return f"{n.name} = {n.definition}{note}"
    kind = "   (constant)" if n.kind == "constant" else "   (input)" if n.users else ""
    return n.name + kind


# A deep expression's tree would be indented as far as it is deep (a 20,000-deep
# input: 20,000 lines of up to 80,000 characters); below this many levels the
# subtree starts again at the margin, so the drawing grows linearly.
MAX_INDENT = 24


def tree_rows(g) -> list[tuple[str, GraphNode | None]]:
    """(line, node whose values go on it, or None for a reference to a drawn node):
    the output at the root, arguments below; a node drawn before is named, not redrawn."""
    by_name = {n.name: n for n in g.nodes}
    lines: list[tuple[str, GraphNode | None]] = []
    drawn: set[str] = set()
    later: list[str] = []       # subtrees deeper than MAX_INDENT, drawn again from the margin
    # stack of (name, prefix for this line, prefix for children, connector)
    stack = [(g.output, "", "", "")]
    while stack or later:
        if not stack:
            stack.append((later.pop(0), "", "", ""))
            lines.append(("", None))
        nm, pre, child_pre, conn = stack.pop()
        n = by_name[nm]
        if nm in drawn:
            lines.append((f"{pre}{conn}{nm}  ↑ shared, drawn above", None))
            continue
        if len(pre) >= 4 * MAX_INDENT and n.args:
            lines.append((f"{pre}{conn}{nm}  ↓ continued below", None))
            later.append(nm)
            continue
        drawn.add(nm)
        lines.append((f"{pre}{conn}{_label(n)}", n))
        kids = list(dict.fromkeys(n.args))
        for k in range(len(kids) - 1, -1, -1):
            last = k == len(kids) - 1
            stack.append((kids[k], child_pre, child_pre + ("    " if last else "│   "),
                          "└── " if last else "├── "))
    return lines


def tree_lines(g) -> list[str]:
    """The tree; with values, two aligned columns: the value and ∂f/∂node (or ∂node/∂x)."""
    rows = tree_rows(g)
    if not g.has_values:
        return [line for line, _ in rows]
    cells = [(line, "" if n is None else fmt(n.value),
              "" if n is None or g.derivative(n) is None else fmt(g.derivative(n)))
             for line, n in rows]
    dname = {"reverse": f"∂{g.output}/∂node", "forward": f"∂node/∂{g.wrt}"}.get(g.mode, "")
    w0 = max(len(c[0]) for c in cells)
    w1 = max([len("value")] + [len(c[1]) for c in cells])
    head = f"{'':{w0}}   {'value':{w1}}   {dname}".rstrip()
    return [head] + [f"{a:{w0}}   {b:{w1}}   {c}".rstrip() for a, b, c in cells]


def dot_lines(g) -> list[str]:
    """Graphviz: one node per input, constant and intermediate variable, one edge per use."""
    def q(s: str) -> str:
        return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'

    def label(n: GraphNode, first: str) -> str:
        """Lines joined by DOT's \\n; values with 6 significant digits (the JSON has them all)."""
        parts = [first]
        if n.value is not None:
            parts.append(f"value {_short(n.value)}")
        d = g.derivative(n)
        if d is not None:
            parts.append(f"{derivative_label(g, n.name)} = {_short(d)}")
        return "\\n".join(q(p)[1:-1] for p in parts)

    out = ["digraph calc {", "  rankdir=BT;", '  node [fontname="Helvetica"];']
    for n in g.nodes:
        if n.kind == "input":
            out.append(f'  {q(n.name)} [label="{label(n, n.name)}", shape=box, style=rounded];')
        elif n.kind == "constant":
            out.append(f'  {q(n.name)} [label="{label(n, n.name)}", shape=box, style="rounded,dashed"];')
        else:
            shape = "ellipse" if n.name != g.output else \
                ("doublecircle" if not g.has_values else "ellipse, peripheries=2")
            out.append(f'  {q(n.name)} [label="{label(n, n.name + " = " + n.definition)}", shape={shape}];')
    for n in g.nodes:
        for a in dict.fromkeys(n.args):
            mult = n.args.count(a)
            lbl = f" [label={q('×' + str(mult))}]" if mult > 1 else ""
            out.append(f"  {q(a)} -> {q(n.name)}{lbl};")
    out.append("}")
    return out


def dot_text(g) -> str:
    return "\n".join(dot_lines(g)) + "\n"


@to_doc.register(GraphResult)
def graph_doc(g) -> Doc:
    if g.file:       # --output: one line says where the picture went
        return Doc("", [], raw=f"wrote {g.file}: the computational graph of {g.expression} ({len(g.nodes)} nodes)\n")
    if g.style == "dot":   # DOT is written as it is (no title, no indentation) for Graphviz
        return Doc("", [Block("", dot_lines(g))], raw=dot_text(g))
    inter = [n for n in g.nodes if n.kind == "intermediate"]
    inputs = [n.name for n in g.nodes if n.kind == "input"]
    title = "Computational graph (output at the top, shared nodes drawn once)"
    if g.mode == "reverse" and g.has_values:
        title = f"Computational graph with values and adjoints ∂{g.output}/∂node (one reverse pass)"
    elif g.mode == "forward":
        title = f"Computational graph with values and tangents ∂node/∂{g.wrt} (one forward pass)"
    blocks = [Block(title, tree_lines(g))]
    head = ["var", "definition", "inputs", "users"]
    rows = [[n.name, n.definition, ", ".join(dict.fromkeys(n.args)) or "—", str(n.users)] for n in inter]
    if g.has_values:
        head += ["value"] + ([derivative_label(g, "var")] if g.mode else [])
        for row, n in zip(rows, inter):
            d = g.derivative(n)
            row += [fmt(n.value)] + ([fmt(d) if d is not None else "—"] if g.mode else [])
    if rows:
        blocks.append(Table("Intermediate variables", head, rows))
    if g.note:
        blocks.append(Block("", [g.note]))
    summary = [("inputs", ", ".join(inputs) or "none"),
               ("intermediate variables", str(len(inter))),
               ("shared", ", ".join(g.shared) or "none")]
    title = f"f = {g.expression}"
    if g.has_values:
        title += f"    at {fmt_point(g.point)}"
        root = next(n for n in g.nodes if n.name == g.output)
        summary.append((g.output, fmt(root.value)))
        if g.mode == "forward":
            summary.append((f"∂{g.output}/∂{g.wrt}", fmt(root.tangent)))
        for n in g.nodes:
            if g.mode == "reverse" and n.kind == "input" and n.adjoint is not None:
                summary.append((derivative_label(g, n.name), fmt(n.adjoint)))
    return Doc(title, blocks, summary)


@to_latex.register(GraphResult)
def graph_latex(g) -> str:
    """The intermediate variables with their definitions, like the notes' table."""
    rows = [f"{name(n.name)} &= {expr_latex(n.definition)}" for n in g.nodes if n.kind == "intermediate"]
    head = f"f = {expr_latex(g.expression)}"
    return head + "\n\n" + "\\begin{aligned}\n" + " \\\\\n".join(rows) + "\n\\end{aligned}\n" if rows else head + "\n"


@to_html.register(GraphResult)
def graph_html(g, page) -> str:
    """The expression, the picture (inline SVG, values and adjoints on the nodes with --at)
    and the intermediate variables with their definitions, values and derivatives."""
    from calccli.render.graph_svg import graph_svg
    doc = graph_doc(g)
    out = [f"<h1>{page.math('f = ' + expr_latex(g.expression), display=True)}</h1>"]
    if g.has_values:
        out.append(f"<p>at {page.math(', '.join(f'{name(k)} = {number(v)}' for k, v in g.point.items()))}</p>")
    out.append(f"<h2>{page.text(doc.blocks[0].title)}</h2>")
    out.append(f'<div class="picture">{graph_svg(g, page.text_raw)}</div>')
    table = next((b for b in doc.blocks if isinstance(b, Table)), None)
    if table is not None:
        rows = []
        for n in (n for n in g.nodes if n.kind == "intermediate"):
            row = [page.math(name(n.name)), page.math(expr_latex(n.definition)),
                   page.text(", ".join(dict.fromkeys(n.args)) or "—"), str(n.users)]
            if g.has_values:
                d = g.derivative(n)
                row.append(page.math(number(n.value)))
                if g.mode:
                    row.append(page.math(number(d)) if d is not None else "—")
            rows.append(row)
        out.append(f"<h2>{page.text(table.title)}</h2>")
        out.append(table_html(table.columns, rows))
    if g.note:
        out.append(f"<p>{page.text(g.note)}</p>")
    out.append('<p class="summary">' + " &nbsp; ".join(f"{page.text(a)} = {page.text(v)}"
                                                      for a, v in doc.summary) + "</p>")
    return "\n".join(out)
