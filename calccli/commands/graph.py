"""``calc graph``: the computational graph, each shared node drawn once.

The graph IS the tape: inputs (the variables) and intermediate variables
a, b, c, … with their definitions; numbers and constants are written inside
the definitions (``a = x^2``) rather than drawn as nodes. Styles:

- ``tree``/``plain``/``rich``: the output at the root, arguments below it; a
  node already drawn is referred to by name ("↑ c, shared") instead of being
  drawn again, so the picture has one entry per node of the DAG;
- ``dot``: Graphviz, one node per intermediate variable and input, one edge
  per use;
- ``json``: nodes and edges as data.

Walks are iterative (explicit stacks), like everything else over the DAG.
"""
from __future__ import annotations

from dataclasses import dataclass

from calccli.language.parse import parse
from calccli.engine.printer import definition, to_text
from calccli.engine.tape import build_tape


@dataclass
class GraphNode:
    name: str
    kind: str            # "input" or "intermediate"
    op: str              # primitive name, or "var"
    definition: str      # "x^2", "exp(a)"; the variable's own name for inputs
    args: list[str]      # names of the argument nodes (inputs and intermediates only)
    users: int           # how many nodes use this one


@dataclass
class GraphResult:
    expression: str
    style: str
    nodes: list[GraphNode]
    output: str

    @property
    def shared(self) -> list[str]:
        return [n.name for n in self.nodes if n.users > 1]

    def json(self) -> dict:
        return {"expression": self.expression, "output": self.output,
                "nodes": [{"name": n.name, "kind": n.kind, "op": n.op, "definition": n.definition,
                           "args": n.args, "users": n.users} for n in self.nodes],
                "edges": [[a, n.name] for n in self.nodes for a in n.args],
                "shared": self.shared}

    # ---- drawings -----------------------------------------------------
    def tree_lines(self) -> list[str]:
        by_name = {n.name: n for n in self.nodes}
        lines: list[str] = []
        drawn: set[str] = set()
        # stack of (name, prefix for this line, prefix for children, connector)
        stack = [(self.output, "", "", "")]
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

    def dot_lines(self) -> list[str]:
        def q(s: str) -> str:
            return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'
        out = ["digraph calc {", "  rankdir=BT;", '  node [fontname="Helvetica"];']
        for n in self.nodes:
            if n.kind == "input":
                out.append(f"  {q(n.name)} [label={q(n.name)}, shape=box, style=rounded];")
            else:
                shape = "doublecircle" if n.name == self.output else "ellipse"
                out.append(f"  {q(n.name)} [label={q(n.name + ' = ' + n.definition)}, shape={shape}];")
        for n in self.nodes:
            for a in dict.fromkeys(n.args):
                mult = n.args.count(a)
                label = f" [label={q('×' + str(mult))}]" if mult > 1 else ""
                out.append(f"  {q(a)} -> {q(n.name)}{label};")
        out.append("}")
        return out

    def raw_text(self) -> str | None:
        """DOT is written as it is (no title, no indentation) for Graphviz."""
        return "\n".join(self.dot_lines()) + "\n" if self.style == "dot" else None

    def doc(self):
        from calccli.render.doc import Block, Doc, Table
        if self.style == "dot":
            return Doc("", [Block("", self.dot_lines())])
        inter = [n for n in self.nodes if n.kind == "intermediate"]
        inputs = [n.name for n in self.nodes if n.kind == "input"]
        blocks = [Block("Computational graph (output at the top, shared nodes drawn once)",
                        self.tree_lines())]
        rows = [[n.name, n.definition, ", ".join(dict.fromkeys(n.args)) or "—", str(n.users)] for n in inter]
        if rows:
            blocks.append(Table("Intermediate variables", ["var", "definition", "inputs", "users"], rows))
        summary = [("inputs", ", ".join(inputs) or "none"),
                   ("intermediate variables", str(len(inter))),
                   ("shared", ", ".join(self.shared) or "none")]
        return Doc(f"f = {self.expression}", blocks, summary)


def graph_of(text: str, let=None, style: str = "tree") -> GraphResult:
    node = parse(text).node
    if let:
        from calccli.symbolic.differentiate import substitute_lets
        node, _ = substitute_lets(node, let)
    tape = build_tape(node)
    names = tape.names
    node_names = tape.node_names()
    shown = {i: names[i] for i in tape.rows}
    for v, i in tape.variables.items():
        shown[i] = v
    users = {i: 0 for i in shown}
    for i in tape.rows:
        for j in tape.args[i]:
            if j in users:
                users[j] += 1
    nodes = []
    for v, i in tape.variables.items():
        nodes.append(GraphNode(v, "input", "var", v, [], users[i]))
    for i in tape.rows:
        n = tape.nodes[i]
        nodes.append(GraphNode(names[i], "intermediate", n.op, definition(n, node_names),
                               [shown[j] for j in tape.args[i] if j in shown], users[i]))
    root = len(tape.nodes) - 1
    output = shown.get(root) or to_text(tape.nodes[root])
    if root not in shown:  # a constant expression: one node
        nodes.append(GraphNode(output, "intermediate", tape.nodes[root].op, output, [], 0))
    return GraphResult(text, style, nodes, output)
