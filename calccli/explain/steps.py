"""The teacher's view of AD: trace rows and chain-rule steps, from a recorded pass.

Nothing here computes a derivative of its own: the numbers come from the
forward/reverse interpreters' ``record``; the symbolic local derivatives come
from the primitive table's rules applied to placeholder names.
"""
from __future__ import annotations

import unicodedata

from calccli.engine import expr
from calccli.numfmt import fmt_number
from calccli.engine.ops import FLOAT, NODE_EXACT
from calccli.engine.printer import definition, to_text
from calccli.explain.records import Partial, Step, TraceRow

DOT = "\u0307"  # combining dot above: ȧ is a tangent


def dotted(name: str) -> str:
    """The tangent's name: x -> ẋ (precomposed where Unicode has the letter)."""
    return unicodedata.normalize("NFC", name + DOT)


def _placeholder(tape, j):
    n = tape.nodes[j]
    return expr.var(tape.names[j]) if j in tape.names else n


# A row's texts depend only on its operation and what its arguments are called
# (a name, or a leaf: x, 2): the same rows (b = exp(a), c = a + b) recur from one
# batch line to the next, so they are printed once per process.
_DEFINITION_TEXT: dict = {}
_PARTIAL_TEXT: dict = {}
_REMEMBERED = 65536


def _row_key(tape, i: int):
    n, names, nodes = tape.nodes[i], tape.names, tape.nodes
    return (n.op, n.value, tuple(names.get(j) or nodes[j] for j in tape.args[i]))


def _remember(table: dict, key, text: str) -> str:
    if len(table) < _REMEMBERED:
        table[key] = text
    return text


def local_partial_expr(tape, i: int, k: int, key=None) -> str:
    """∂(row i)/∂(argument k) in terms of the names: e.g. 'exp(a)' for b = exp(a)."""
    key = ((key or _row_key(tape, i)), k)
    text = _PARTIAL_TEXT.get(key)
    if text is None:
        args = tuple(_placeholder(tape, j) for j in tape.args[i])
        out = expr.make(tape.nodes[i].op, args, tape.nodes[i].value)
        d = tape.prims[i].partials[k](NODE_EXACT, *args, out)
        text = _remember(_PARTIAL_TEXT, key, to_text(teacher_form(expr.lift(d))))
    return text


def teacher_form(root):
    """``root`` with the primitives that have a teacher's spelling written that
    way: step(a) as 1[a > 0], step(a - b) as 1[a > b] (a name node holding the
    text, so the printer leaves it as it is)."""
    from calccli.engine.primitives import PRIMS
    from calccli.engine.tape import topo_order
    new = {}
    for n in topo_order(root):
        p = PRIMS.get(n.op)
        args = tuple(new[a] for a in n.args)
        if p is not None and p.teacher and len(args) == 1:
            a = args[0]
            if a.op == "sub":
                shown = f"1[{to_text(a.args[0])} > {to_text(a.args[1])}]"
            else:
                shown = p.teacher.format(to_text(a))
            new[n] = expr.var(shown)
        elif args and any(x is not y for x, y in zip(args, n.args)):
            new[n] = expr.make(n.op, args, n.value)
        else:
            new[n] = n
    return new[root]


def _fmt(v) -> str:
    return fmt_number(v) if isinstance(v, float | int) else str(v)


def trace_rows(tape, vals, need) -> list[TraceRow]:
    rows = []
    nn = None
    names, args_of, prims = tape.names, tape.args, tape.prims
    for i in tape.rows:
        key = _row_key(tape, i)
        partials = []
        args = args_of[i]
        seen = set()
        for k, j in enumerate(args):
            if not need[j] or j in seen:
                continue
            seen.add(j)
            try:
                value = prims[i].partials[k](FLOAT, *[vals[a] for a in args], vals[i])
            except (ArithmeticError, ValueError):
                value = float("nan")
            partials.append(Partial(tape.name_of(j), local_partial_expr(tape, i, k, key), float(value)))
        text = _DEFINITION_TEXT.get(key)
        if text is None:
            if nn is None:
                nn = tape.node_names()
            text = _remember(_DEFINITION_TEXT, key, definition(tape.nodes[i], nn))
        rows.append(TraceRow(names[i], text, vals[i], partials))
    return rows


def _d(top: str, bottom: str) -> str:
    return f"∂{top}/∂{bottom}"


def _times(*factors: str) -> str:
    kept = [f for f in factors if f not in ("1", "1.0")]
    return "·".join(kept) if kept else "1"


def reverse_steps(tape, record, adj, wrt_idx: list[int]) -> list[Step]:
    """One step per node, from the output back to the variables of differentiation."""
    root = len(tape.nodes) - 1
    name_of = tape.name_of
    out = name_of(root)
    uses: dict[int, list] = {}
    for (i, k, j, d, c) in record:
        uses.setdefault(j, []).append((i, k, d, c))
    steps = [Step(_d(out, out), "1", "1", 1.0)]
    order = [j for j in reversed(tape.rows) if j != root and j in uses] + [j for j in wrt_idx if j in uses]
    adjoint_text: dict[int, str] = {}    # ∂out/∂user, written once per user
    for j in order:
        name = name_of(j)
        terms = sorted(uses[j], key=lambda u: u[0])  # users in tape order: d before e
        formula, numeric = [], []
        for (i, k, d, c) in terms:
            user = name_of(i)
            if i == root:
                formula.append(f"∂{user}/∂{name}")
                numeric.append(_fmt(c))
                continue
            formula.append(f"∂{out}/∂{user}·∂{user}/∂{name}")
            a = adjoint_text.get(i)
            if a is None:
                a = adjoint_text[i] = _fmt(adj[i])
            numeric.append(_times(a, _fmt(d) if d is not None else "…"))
        note = ""
        if len(terms) > 1 and len({t[0] for t in terms}) > 1:
            users = list(dict.fromkeys(name_of(t[0]) for t in terms))
            note = f"{name} feeds {', '.join(users[:-1])} and {users[-1]}: contributions add"
        steps.append(Step(f"∂{out}/∂{name}", " + ".join(formula), " + ".join(numeric), adj[j], note))
    return steps


def forward_steps(tape, record, tan, wrt_idx: list[int]) -> list[Step]:
    """One step per node, from the variable of differentiation to the output."""
    steps = [Step(dotted(tape.name_of(j)), "1", "1", 1.0) for j in wrt_idx]
    by_row: dict[int, list] = {}
    for (i, k, j, d, c) in record:
        by_row.setdefault(i, []).append((k, j, d, c))
    for i in tape.rows:
        if i not in by_row:
            continue
        formula, numeric = [], []
        for (k, j, d, c) in by_row[i]:
            local = local_partial_expr(tape, i, k)
            if local not in ("1",) and (" " in local or "+" in local or "-" in local[1:]):
                local = f"({local})" if not local.startswith("(") else local
            formula.append(_times(local, dotted(tape.name_of(j))))
            numeric.append(_times(_fmt(d), _fmt(tan[j])))
        steps.append(Step(dotted(tape.name_of(i)), " + ".join(formula).replace("+ -", "- "),
                          " + ".join(numeric), tan[i]))
    return steps
