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
  per use (``--output FILE.svg`` renders it: :mod:`calccli.commands.graphviz`);
- ``json``: nodes and edges as data.

Walks are iterative (explicit stacks), like everything else over the DAG.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from calccli.display import RichDisplay

from calccli.errors import UsageError
from calccli.language.parse import parse
from calccli.engine.printer import definition, to_text
from calccli.engine.tape import build_tape

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
class GraphResult(RichDisplay):
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

    def derivative(self, n: GraphNode):
        """The node's adjoint (reverse mode), tangent (forward) or None."""
        return n.adjoint if self.mode == "reverse" else n.tangent if self.mode == "forward" else None


def graph_of(text: str, let=None, style: str = "tree", at=None, wrt=None, mode: str = "reverse") -> GraphResult:
    """The graph of ``text``; with ``at`` each node's value and its adjoint
    (reverse ``mode``) or tangent (forward). ``--let`` names are constant nodes."""
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
    return GraphResult(text, style, nodes, output_name, point, mode if ders is not None else None,
                       fwd_var, note)


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
