"""``calc graph``: the computational graph, each shared node drawn once.

The graph IS the tape: inputs (the variables), constants (``--let`` names) and
intermediate variables a, b, c, … with their definitions; numbers and pi/e are
written inside the definitions (``a = x^2``) rather than drawn as nodes. With
``--at`` every node carries its value (the forward pass) and, in reverse mode,
its adjoint ∂f/∂node (one reverse pass: the backpropagation picture), or in
forward mode its tangent ∂node/∂x. Styles:

- ``tree``/``plain``/``rich``: the output at the root, arguments below it; a
  node already drawn is referred to by name ("↑ c, shared") instead of being
  drawn again, so the picture has one entry per node of the DAG;
- ``dot``: Graphviz, one node per intermediate variable and input, one edge
  per use (``--output FILE.svg`` renders it, see :mod:`calccli.commands.graphviz`);
- ``json``: nodes and edges as data.

Walks are iterative (explicit stacks), like everything else over the DAG.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from calccli.errors import UsageError
from calccli.language.parse import parse
from calccli.engine.printer import definition, to_text
from calccli.engine.tape import build_tape
from calccli.numfmt import fmt_number

MODES = ("reverse", "forward")


@dataclass
class GraphNode:
    name: str
    kind: str            # "input", "constant" (a --let name) or "intermediate"
    op: str              # primitive name, or "var"
    definition: str      # "x^2", "exp(a)"; the variable's own name for inputs
    args: list[str]      # names of the argument nodes (inputs and intermediates only)
    users: int           # how many nodes use this one
    value: object = None      # with --at: the node's value (a float or a numpy array)
    adjoint: object = None    # reverse mode: ∂f/∂node (None: f does not depend on it through a variable)
    tangent: object = None    # forward mode: ∂node/∂x


@dataclass
class GraphResult:
    expression: str
    style: str
    nodes: list[GraphNode]
    output: str
    point: dict = field(default_factory=dict)   # the --at values (empty: no values)
    mode: str | None = None                     # "reverse" (adjoints), "forward" (tangents) or None
    wrt: str | None = None                      # forward mode: the variable
    note: str = ""                              # why there are no adjoints, if there are none
    file: str | None = None                     # --output: the picture written

    @property
    def shared(self) -> list[str]:
        return [n.name for n in self.nodes if n.users > 1]

    @property
    def has_values(self) -> bool:
        return bool(self.point)

    def derivative_label(self, name: str) -> str:
        """∂f/∂c (reverse) or ∂c/∂x (forward)."""
        return f"∂{self.output}/∂{name}" if self.mode == "reverse" else f"∂{name}/∂{self.wrt}"

    def _derivative(self, n: GraphNode):
        return n.adjoint if self.mode == "reverse" else n.tangent if self.mode == "forward" else None

    def json(self) -> dict:
        def entry(n: GraphNode) -> dict:
            out = {"name": n.name, "kind": n.kind, "op": n.op, "definition": n.definition,
                   "args": n.args, "users": n.users}
            if n.value is not None:
                out["value"] = n.value
            if self.mode == "reverse" and self.has_values:
                out["adjoint"] = n.adjoint
            if self.mode == "forward":
                out["tangent"] = n.tangent
            return out
        out = {"expression": self.expression, "output": self.output,
               "nodes": [entry(n) for n in self.nodes],
               "edges": [[a, n.name] for n in self.nodes for a in n.args],
               "shared": self.shared}
        if self.has_values:
            from calccli.render.json import flat_point
            out["point"] = flat_point(self.point)
            out["mode"] = self.mode
            if self.mode == "forward":
                out["wrt"] = self.wrt
            if self.note:
                out["note"] = self.note
        if self.file:
            out["file"] = self.file
        return out

    # ---- drawings -----------------------------------------------------
    def _label(self, n: GraphNode) -> str:
        if n.kind == "intermediate":
            note = f"   used {n.users}×" if n.users > 1 else ""
            return f"{n.name} = {n.definition}{note}"
        kind = "   (constant)" if n.kind == "constant" else "   (input)" if n.users else ""
        return n.name + kind

    def _tree(self) -> list[tuple[str, GraphNode | None]]:
        """(line, node whose values go on it, or None for a reference to a drawn node)."""
        by_name = {n.name: n for n in self.nodes}
        lines: list[tuple[str, GraphNode | None]] = []
        drawn: set[str] = set()
        # stack of (name, prefix for this line, prefix for children, connector)
        stack = [(self.output, "", "", "")]
        while stack:
            nm, pre, child_pre, conn = stack.pop()
            n = by_name[nm]
            if nm in drawn:
                lines.append((f"{pre}{conn}{nm}  ↑ shared, drawn above", None))
                continue
            drawn.add(nm)
            lines.append((f"{pre}{conn}{self._label(n)}", n))
            kids = list(dict.fromkeys(n.args))
            for k in range(len(kids) - 1, -1, -1):
                last = k == len(kids) - 1
                stack.append((kids[k], child_pre, child_pre + ("    " if last else "│   "),
                              "└── " if last else "├── "))
        return lines

    def tree_lines(self) -> list[str]:
        """The tree; with values, two aligned columns: the value and ∂f/∂node (or ∂node/∂x)."""
        rows = self._tree()
        if not self.has_values:
            return [line for line, _ in rows]
        from calccli.render.views import fmt
        cells = [(line, "" if n is None else fmt(n.value),
                  "" if n is None or self._derivative(n) is None else fmt(self._derivative(n)))
                 for line, n in rows]
        dname = {"reverse": f"∂{self.output}/∂node", "forward": f"∂node/∂{self.wrt}"}.get(self.mode, "")
        w0 = max(len(c[0]) for c in cells)
        w1 = max([len("value")] + [len(c[1]) for c in cells])
        head = f"{'':{w0}}   {'value':{w1}}   {dname}".rstrip()
        return [head] + [f"{a:{w0}}   {b:{w1}}   {c}".rstrip() for a, b, c in cells]

    def dot_lines(self) -> list[str]:
        def q(s: str) -> str:
            return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'

        def label(n: GraphNode, first: str) -> str:
            """Lines joined by DOT's \n; values with 6 significant digits (the JSON has them all)."""
            parts = [first]
            if n.value is not None:
                parts.append(f"value {_short(n.value)}")
            d = self._derivative(n)
            if d is not None:
                parts.append(f"{self.derivative_label(n.name)} = {_short(d)}")
            return "\\n".join(q(p)[1:-1] for p in parts)

        out = ["digraph calc {", "  rankdir=BT;", '  node [fontname="Helvetica"];']
        for n in self.nodes:
            if n.kind == "input":
                out.append(f'  {q(n.name)} [label="{label(n, n.name)}", shape=box, style=rounded];')
            elif n.kind == "constant":
                out.append(f'  {q(n.name)} [label="{label(n, n.name)}", shape=box, style="rounded,dashed"];')
            else:
                shape = "ellipse" if n.name != self.output else \
                    ("doublecircle" if not self.has_values else "ellipse, peripheries=2")
                out.append(f'  {q(n.name)} [label="{label(n, n.name + " = " + n.definition)}", shape={shape}];')
        for n in self.nodes:
            for a in dict.fromkeys(n.args):
                mult = n.args.count(a)
                lbl = f" [label={q('×' + str(mult))}]" if mult > 1 else ""
                out.append(f"  {q(a)} -> {q(n.name)}{lbl};")
        out.append("}")
        return out

    def raw_text(self) -> str | None:
        """DOT is written as it is (no title, no indentation) for Graphviz; with
        --output, one line says where the picture went."""
        if self.file:
            return f"wrote {self.file}: the computational graph of {self.expression} ({len(self.nodes)} nodes)\n"
        return "\n".join(self.dot_lines()) + "\n" if self.style == "dot" else None

    def doc(self):
        from calccli.render.doc import Block, Doc, Table
        if self.style == "dot":
            return Doc("", [Block("", self.dot_lines())])
        inter = [n for n in self.nodes if n.kind == "intermediate"]
        inputs = [n.name for n in self.nodes if n.kind == "input"]
        title = "Computational graph (output at the top, shared nodes drawn once)"
        if self.mode == "reverse" and self.has_values:
            title = f"Computational graph with values and adjoints ∂{self.output}/∂node (one reverse pass)"
        elif self.mode == "forward":
            title = f"Computational graph with values and tangents ∂node/∂{self.wrt} (one forward pass)"
        blocks = [Block(title, self.tree_lines())]
        head = ["var", "definition", "inputs", "users"]
        rows = [[n.name, n.definition, ", ".join(dict.fromkeys(n.args)) or "—", str(n.users)] for n in inter]
        if self.has_values:
            from calccli.render.views import fmt
            head += ["value"] + ([self.derivative_label("var")] if self.mode else [])
            for r, n in zip(rows, inter):
                d = self._derivative(n)
                r += [fmt(n.value)] + ([fmt(d) if d is not None else "—"] if self.mode else [])
        if rows:
            blocks.append(Table("Intermediate variables", head, rows))
        if self.note:
            blocks.append(Block("", [self.note]))
        summary = [("inputs", ", ".join(inputs) or "none"),
                   ("intermediate variables", str(len(inter))),
                   ("shared", ", ".join(self.shared) or "none")]
        title = f"f = {self.expression}"
        if self.has_values:
            from calccli.render.views import fmt, fmt_point
            title += f"    at {fmt_point(self.point)}"
            root = next(n for n in self.nodes if n.name == self.output)
            summary.append((self.output, fmt(root.value)))
            if self.mode == "forward":
                summary.append((f"∂{self.output}/∂{self.wrt}", fmt(root.tangent)))
            for n in self.nodes:
                if self.mode == "reverse" and n.kind == "input" and n.adjoint is not None:
                    summary.append((self.derivative_label(n.name), fmt(n.adjoint)))
        return Doc(title, blocks, summary)


def _short(v) -> str:
    """A value in 6 significant digits (DOT labels: pictures, not data)."""
    if isinstance(v, float | int):
        return f"{float(v):.6g}"
    import numpy as np
    a = np.asarray(v, dtype=float)
    if a.ndim == 1:
        return "[" + ", ".join(f"{x:.6g}" for x in a) + "]"
    return "[" + ", ".join("[" + ", ".join(f"{x:.6g}" for x in r) + "]" for r in a) + "]"


def graph_of(text: str, let=None, style: str = "tree", at=None, wrt=None, mode: str = "reverse",
             output: str | None = None) -> GraphResult:
    """The graph of ``text``; with ``at`` each node's value and its adjoint
    (reverse ``mode``) or tangent (forward). ``--let`` names are constant
    nodes; ``output`` renders the DOT picture to an .svg, .png or .pdf file."""
    if mode not in MODES:
        raise UsageError(f"unknown mode '{mode}': use reverse or forward")
    parsed = parse(text)
    node = parsed.node
    tape = build_tape(node)
    if at:
        from calccli.language.points import resolve
        prob = resolve(node, at, let, wrt, parsed=parsed)
        env, lets, point = prob.env, set(prob.env) - set(prob.point), prob.point
    else:
        env, lets, point = _constants(let), set(), {}
        lets = set(env)
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
    vals, ders, note, fwd_var = (None, None, "", None)
    if point:
        vals, ders, note, fwd_var = _values_and_derivatives(tape, env, prob.wrt, mode)
    nodes = []
    for v, i in tape.variables.items():
        value = env.get(v) if vals is None else vals[i]
        nodes.append(GraphNode(v, "constant" if v in lets else "input", "var", v, [], users[i], value))
    for i in tape.rows:
        n = tape.nodes[i]
        nodes.append(GraphNode(names[i], "intermediate", n.op, definition(n, node_names),
                               [shown[j] for j in tape.args[i] if j in shown], users[i],
                               None if vals is None else vals[i]))
    root = len(tape.nodes) - 1
    output_name = shown.get(root) or to_text(tape.nodes[root])
    if root not in shown:  # a constant expression: one node
        nodes.append(GraphNode(output_name, "intermediate", tape.nodes[root].op, output_name, [], 0,
                               None if vals is None else vals[root]))
    if ders is not None:
        index = {nm: i for i, nm in shown.items()}
        for g in nodes:
            i = index.get(g.name, root)
            d = ders[i]
            if d is None and ders[root] is not None and g.kind != "constant" and mode == "forward":
                d = 0.0
            if mode == "reverse":
                g.adjoint = _plain(d)
            else:
                g.tangent = _plain(d)
    result = GraphResult(text, style, nodes, output_name, point, mode if ders is not None else None,
                         fwd_var, note)
    if output:
        from calccli.commands.graphviz import write_picture
        result.file = write_picture("\n".join(result.dot_lines()) + "\n", output)
    return result


def _plain(v):
    return v + 0.0 if v is not None else None


def _constants(let) -> dict:
    """The --let values (no point: the constants still show their values)."""
    if not let:
        return {}
    from calccli.language.points import _bind_value, parse_bindings
    out = {}
    for b in parse_bindings(let, "--let"):
        if b.name is None:
            raise UsageError("--let expects name=value, e.g. --let \"A=[[1,2],[3,4]]\"", source=b.option, pos=0)
        out[b.name] = _bind_value(b)
    return out


def _values_and_derivatives(tape, env, wrt: list[str], mode: str):
    """Values of every node; adjoints ∂f/∂node (one reverse pass from a scalar
    f) or tangents ∂node/∂x (one forward pass for one scalar x)."""
    from calccli.commands.multivar import check_derivatives
    from calccli.engine.evaluate import evaluate, ops_for
    ops = ops_for(tape, env)
    vals = evaluate(tape, env, ops)
    root = len(tape.nodes) - 1
    out = tape.name_of(root) if tape.rows else "f"
    idx = [tape.variables[w] for w in wrt if w in tape.variables]
    if mode == "forward":
        if len(wrt) != 1:
            raise UsageError(f"graph --mode forward follows one variable, got {', '.join(wrt)}: choose it with --wrt")
        if not isinstance(vals[idx[0]] if idx else 0.0, float | int):
            raise UsageError(f"graph --mode forward follows a scalar variable; {wrt[0]} is not one: "
                             "use reverse mode for its adjoint")
        from calccli.engine.forward import forward
        tan = forward(tape, vals, {idx[0]: ops.one}, ops) if idx else [None] * len(tape.nodes)
        check_derivatives(tape, tan, tape.rows, out, wrt[0])
        if idx:
            tan[idx[0]] = 1.0
        return vals, tan, "", wrt[0]
    if not isinstance(vals[root], float | int):
        return vals, None, ("the output is not a scalar, so there are no adjoints ∂f/∂node: "
                            "calc jacobian gives its derivatives"), None
    from calccli.engine.reverse import reverse
    adj = reverse(tape, vals, idx, ops)
    check_derivatives(tape, adj, list(reversed(tape.rows)) + idx, out)
    adj[root] = 1.0
    return vals, adj, "", None
