"""The teacher's view of AD: trace rows and chain-rule steps, from a recorded pass.

Nothing here computes a derivative of its own: the numbers come from the
forward/reverse interpreters' ``record``; the symbolic local derivatives come
from the primitive table's rules applied to placeholder names. The passes here
are on floats (arrays have their own views, in commands/multivar.py).
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from operator import itemgetter

from calccli.engine import expr
from calccli.numfmt import fmt_number
from calccli.engine.ops import FLOAT, NODE_EXACT
from calccli.engine.primitives import PRIMS
from calccli.engine.printer import to_text
from calccli.engine.tape import topo_order


# ---------------------------------------------------------------- the records of an explanation
# (data: renderers draw them; a result holds them once it is explained)

@dataclass
class Partial:
    wrt: str            # the argument's name (x, a, …)
    expression: str     # the local derivative in terms of names, e.g. "exp(a)"
    value: float


@dataclass
class TraceRow:
    name: str
    definition: str
    value: object
    partials: list[Partial] = field(default_factory=list)


@dataclass
class Step:
    target: str         # "∂f/∂c" (reverse) or "ċ" (forward)
    formula: str        # "∂f/∂d·∂d/∂c + ∂f/∂e·∂e/∂c"
    numeric: str        # "0.2592978120665479 + 0.5452515566923345"
    value: float
    note: str = ""      # "c feeds d and e: contributions add"


DOT = "\u0307"  # combining dot above: ȧ is a tangent


def dotted(name: str) -> str:
    """The tangent's name: x -> ẋ (precomposed where Unicode has the letter)."""
    return unicodedata.normalize("NFC", name + DOT)


# A row's texts depend only on its operation and what its arguments are called
# (a name, or a leaf: x, 2): the same rows (b = exp(a), c = a + b) recur from one
# batch line to the next, so they are printed once per process.
_ROW_TEXTS: dict = {}   # row key -> [definition, ∂/∂argument 0, ∂/∂argument 1, …, the row on placeholders]
_REMEMBERED = 65536
# How the primitives with a teacher's spelling print as calls: step( (the table is
# complete once calccli.engine.primitives is imported).
_TEACHER_CALLS = tuple(f"{p.spelled or op}(" for op, p in PRIMS.items() if p.teacher)


def _row_key(tape, i: int) -> tuple:
    """(operation, value, each argument's name, or the leaf itself where it has none)."""
    labels, nodes = tape.labels, tape.nodes
    n = nodes[i]
    return (n.op, n.value, tuple([labels[j] or nodes[j] for j in tape.args[i]]))


def _row_node(key: tuple):
    """The row of ``key`` on placeholders: its named arguments as variables of those names."""
    op, value, args = key
    return expr.make(op, tuple([expr.var(a) if a.__class__ is str else a for a in args]), value)


def _row_texts(key: tuple) -> list:
    """The row's texts (the partials None until asked), and last the row they are printed from."""
    texts = _ROW_TEXTS.get(key)
    if texts is None:
        row = _row_node(key)
        texts = [to_text(row)] + [None] * len(row.args) + [row]   # to_text(row): printer.definition's text
        if len(_ROW_TEXTS) < _REMEMBERED:
            _ROW_TEXTS[key] = texts
    return texts


def _partial_text(prim, texts: list, k: int) -> str:
    text = texts[k + 1]
    if text is None:
        row = texts[-1]
        d = expr.lift(prim.partials[k](NODE_EXACT, *row.args, row))
        text = to_text(d)
        if any(call in text for call in _TEACHER_CALLS):   # else teacher_form has nothing to respell
            text = to_text(teacher_form(d))
        texts[k + 1] = text
    return text


def local_partial_expr(tape, i: int, k: int) -> str:
    """∂(row i)/∂(argument k) in terms of the names: e.g. 'exp(a)' for b = exp(a)."""
    return _partial_text(tape.prims[i], _row_texts(_row_key(tape, i)), k)


def teacher_form(root):
    """``root`` with the primitives that have a teacher's spelling written that
    way: step(a) as 1[a > 0], step(a - b) as 1[a > b] (a name node holding the
    text, so the printer leaves it as it is)."""
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


def _local_value(rule, vals, args, i: int) -> float:
    """A local partial's value at the point (NaN where the rule fails there)."""
    try:
        value = rule(FLOAT, *[vals[a] for a in args], vals[i])
    except (ArithmeticError, ValueError):
        value = float("nan")
    return float(value)


def trace_rows(tape, vals, need) -> list[TraceRow]:
    """One row per intermediate variable: its definition, value and local partials with
    respect to the arguments that depend on the variables of differentiation."""
    rows = []
    labels, args_of, prims = tape.labels, tape.args, tape.prims
    for i in tape.rows:
        texts = _row_texts(_row_key(tape, i))
        args, p = args_of[i], prims[i]
        partials = []
        for k, j in enumerate(args):
            if need[j] and j not in args[:k]:   # x·x: one partial, with respect to x
                partials.append(Partial(labels[j], _partial_text(p, texts, k),
                                        _local_value(p.partials[k], vals, args, i)))
        rows.append(TraceRow(labels[i], texts[0], vals[i], partials))
    return rows


def _d(top: str, bottom: str) -> str:
    return f"∂{top}/∂{bottom}"


_ONES = ("1", "1.0")


def _times(a: str, b: str) -> str:
    """The product a·b as written in a step: factors of 1 left out."""
    if b in _ONES:
        return "1" if a in _ONES else a
    return b if a in _ONES else f"{a}·{b}"


def _by_user(record) -> dict[int, list]:
    """Each argument's record entries (row, k, argument, partial, contribution), its
    users in tape order (the reverse pass records them last row first)."""
    uses: dict[int, list] = {}
    for entry in record:
        j = entry[2]
        if j in uses:
            uses[j].append(entry)
        else:
            uses[j] = [entry]
    for terms in uses.values():
        if len(terms) > 1:
            terms.sort(key=itemgetter(0))   # by row; stable: a row's arguments stay in recorded order
    return uses


def reverse_steps(tape, record, adj, wrt_idx: list[int]) -> list[Step]:
    """One step per node, from the output back to the variables of differentiation."""
    root = len(tape.nodes) - 1
    labels = tape.labels
    out = tape.name_of(root)   # a constant expression's output is a number, which has no label
    uses = _by_user(record)
    steps = [Step(_d(out, out), "1", "1", 1.0)]
    order = [j for j in reversed(tape.rows) if j != root and j in uses] + [j for j in wrt_idx if j in uses]
    adjoint_text: dict[int, str] = {}    # ∂out/∂user, written once per user
    for j in order:
        name = labels[j]
        terms = uses[j]
        formula, numeric = [], []
        for (i, k, _, d, c) in terms:
            user = labels[i]
            if i == root:
                formula.append(f"∂{user}/∂{name}")
                numeric.append(fmt_number(c))
                continue
            formula.append(f"∂{out}/∂{user}·∂{user}/∂{name}")
            a = adjoint_text.get(i)
            if a is None:
                a = adjoint_text[i] = fmt_number(adj[i])
            numeric.append(_times(a, fmt_number(d) if d is not None else "…"))
        note = ""
        if len(terms) > 1 and terms[0][0] != terms[-1][0]:   # users sorted: more than one row
            users = list(dict.fromkeys(labels[t[0]] for t in terms))
            note = f"{name} feeds {', '.join(users[:-1])} and {users[-1]}: contributions add"
        steps.append(Step(f"∂{out}/∂{name}", " + ".join(formula), " + ".join(numeric), adj[j], note))
    return steps


def forward_steps(tape, record, tan, wrt_idx: list[int]) -> list[Step]:
    """One step per node, from the variable of differentiation to the output."""
    labels = tape.labels
    steps = [Step(dotted(labels[j]), "1", "1", 1.0) for j in wrt_idx]
    by_row: dict[int, list] = {}
    for (i, k, j, d, c) in record:
        by_row.setdefault(i, []).append((k, j, d, c))
    for i in tape.rows:
        if i not in by_row:
            continue
        texts = _row_texts(_row_key(tape, i))
        formula, numeric = [], []
        for (k, j, d, c) in by_row[i]:
            local = _partial_text(tape.prims[i], texts, k)
            if local not in ("1",) and (" " in local or "+" in local or "-" in local[1:]):
                local = f"({local})" if not local.startswith("(") else local
            formula.append(_times(local, dotted(labels[j])))
            numeric.append(_times(fmt_number(d), fmt_number(tan[j])))
        steps.append(Step(dotted(labels[i]), " + ".join(formula).replace("+ -", "- "),
                          " + ".join(numeric), tan[i]))
    return steps
