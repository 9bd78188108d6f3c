"""How ``calc graph`` results look: the computational graph as a tree (shared
nodes drawn once), as Graphviz DOT, or as nodes and edges (commands/graph.py)."""
from __future__ import annotations

from calccli.commands.graph import GraphResult
from calccli.render.doc import Block, Doc, Table
from calccli.render.json import json_obj
from calccli.render.latex import expr_latex, name, to_latex
from calccli.render.views import to_doc


@json_obj.register(GraphResult)
def graph_obj(g) -> dict:
    return {"expression": g.expression, "output": g.output,
            "nodes": [{"name": n.name, "kind": n.kind, "op": n.op, "definition": n.definition,
                       "args": n.args, "users": n.users} for n in g.nodes],
            "edges": [[a, n.name] for n in g.nodes for a in n.args],
            "shared": g.shared}


def tree_lines(g) -> list[str]:
    """The output at the root, arguments below; a node drawn before is named, not redrawn."""
    by_name = {n.name: n for n in g.nodes}
    lines: list[str] = []
    drawn: set[str] = set()
    # stack of (name, prefix for this line, prefix for children, connector)
    stack = [(g.output, "", "", "")]
    while stack:
        nm, pre, child_pre, conn = stack.pop()
        n = by_name[nm]
        if nm in drawn:
            lines.append(f"{pre}{conn}{nm}  ↑ shared, drawn above")
            continue
        drawn.add(nm)
        if n.kind == "input":
            lines.append(f"{pre}{conn}{nm}" + ("   (input)" if n.users else ""))
            continue
        note = f"   used {n.users}×" if n.users > 1 else ""
        lines.append(f"{pre}{conn}{nm} = {n.definition}{note}")
        kids = list(dict.fromkeys(n.args))
        for k in range(len(kids) - 1, -1, -1):
            last = k == len(kids) - 1
            stack.append((kids[k], child_pre, child_pre + ("    " if last else "│   "),
                          "└── " if last else "├── "))
    return lines


def dot_lines(g) -> list[str]:
    """Graphviz: one node per input and intermediate variable, one edge per use."""
    def q(s: str) -> str:
        return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'
    out = ["digraph calc {", "  rankdir=BT;", '  node [fontname="Helvetica"];']
    for n in g.nodes:
        if n.kind == "input":
            out.append(f"  {q(n.name)} [label={q(n.name)}, shape=box, style=rounded];")
        else:
            shape = "doublecircle" if n.name == g.output else "ellipse"
            out.append(f"  {q(n.name)} [label={q(n.name + ' = ' + n.definition)}, shape={shape}];")
    for n in g.nodes:
        for a in dict.fromkeys(n.args):
            mult = n.args.count(a)
            label = f" [label={q('×' + str(mult))}]" if mult > 1 else ""
            out.append(f"  {q(a)} -> {q(n.name)}{label};")
    out.append("}")
    return out


@to_doc.register(GraphResult)
def graph_doc(g) -> Doc:
    if g.style == "dot":   # DOT is written as it is (no title, no indentation) for Graphviz
        lines = dot_lines(g)
        return Doc("", [Block("", lines)], raw="\n".join(lines) + "\n")
    inter = [n for n in g.nodes if n.kind == "intermediate"]
    inputs = [n.name for n in g.nodes if n.kind == "input"]
    blocks = [Block("Computational graph (output at the top, shared nodes drawn once)", tree_lines(g))]
    rows = [[n.name, n.definition, ", ".join(dict.fromkeys(n.args)) or "—", str(n.users)] for n in inter]
    if rows:
        blocks.append(Table("Intermediate variables", ["var", "definition", "inputs", "users"], rows))
    summary = [("inputs", ", ".join(inputs) or "none"),
               ("intermediate variables", str(len(inter))),
               ("shared", ", ".join(g.shared) or "none")]
    return Doc(f"f = {g.expression}", blocks, summary)


@to_latex.register(GraphResult)
def graph_latex(g) -> str:
    """The intermediate variables with their definitions, like the notes' table."""
    rows = [f"{name(n.name)} &= {expr_latex(n.definition)}" for n in g.nodes if n.kind == "intermediate"]
    head = f"f = {expr_latex(g.expression)}"
    return head + "\n\n" + "\\begin{aligned}\n" + " \\\\\n".join(rows) + "\n\\end{aligned}\n" if rows else head + "\n"
