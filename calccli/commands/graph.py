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
