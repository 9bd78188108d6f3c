"""Expression → text in calc's own syntax (``calc eval`` reads it back).

Non-recursive: one pass over the nodes in topological order, each node's text
built from its children's. Products print as juxtaposition where that reads
naturally and parses back the same: ``2x``, ``3x^2 sin(x)``, ``x^T A x``.
"""
from __future__ import annotations

import re

from calccli.engine.expr import Node
from calccli.numfmt import fmt_number
from calccli.engine.primitives import PRIMS, PREC_ADD, PREC_MUL, PREC_NEG, PREC_POW
from calccli.engine.tape import topo_order   # at the top: an import in to_text cost a fifth of a small print

ATOM = 10
_SIGN_START = ("-", "+")
_NAME_END = re.compile(r"(?<![\w.])(?:\d+\.?\d*|\.\d+)?(?!\d)\w+$")   # text ending in a name (2x, f)
# node → (text, precedence), shared by everything that prints through printed() (the simplifier
# compares candidates by it; nodes are interned and immutable, so entries never go stale; the
# simplifier bounds its size): to_text of a result the simplifier printed is a lookup
TEXTS: dict = {}


def _leaf(n: Node, names) -> tuple[str, int]:
    if names is not None and n in names:
        return names[n], ATOM
    if n.op == "num":
        s = fmt_number(n.value)
        return s, (PREC_NEG if s.startswith("-") else ATOM)
    return str(n.value), ATOM


def _wrap(t: tuple[str, int], need: int) -> str:
    return t[0] if t[1] >= need else f"({t[0]})"


def _juxtaposable(left: tuple[str, int], right: tuple[str, int], right_node: Node) -> bool:
    """May ``left right`` be written without '*' and parse back the same?"""
    r = right[0]
    if r.startswith(_SIGN_START) or r[:1].isdigit() or r[:1] == ".":
        return False
    if r.startswith("["):  # "x [1, 2]" would read back as indexing x[1, 2]
        return False
    if right[1] < PREC_POW:  # the right operand must be a power or tighter
        return False
    return True


def render_node(n: Node, sub: list[tuple[str, int]], unicode: bool = False) -> tuple[str, int]:
    """Text and precedence of ``n`` given its children's (text, precedence)."""
    op = n.op
    if op == "neg":
        return "-" + _wrap(sub[0], PREC_NEG + 1 if sub[0][0].startswith("-") else PREC_NEG), PREC_NEG
    if op in ("add", "sub"):
        sym = " + " if op == "add" else " - "
        return _wrap(sub[0], PREC_ADD) + sym + _wrap(sub[1], PREC_ADD + 1), PREC_ADD
    if op == "mul":
        left = _wrap(sub[0], PREC_MUL)
        right = sub[1] if sub[1][1] > PREC_MUL else (f"({sub[1][0]})", ATOM)
        # "a(b + c)" would read back as a call of a function a: after a name, write '*'
        after_name = right[0].startswith("(") and _NAME_END.search(left)
        if n.args[0].op != "div" and not after_name and _juxtaposable(sub[0], right, n.args[1]):
            b = n.args[1]
            tight = (n.args[0].op == "num" and (b.op == "var" or b.op == "pow" and b.args[0].op == "var")
                     or right[0].startswith("("))
            # 2e5x would read back as the number 2e5 times x: no tight 'e'/'E' after a number
            tight = tight and not (n.args[0].op == "num" and right[0][:1] in "eE")
            return left + ("" if tight else " ") + right[0], PREC_MUL
        return left + "*" + right[0], PREC_MUL
    if op == "div":
        return _wrap(sub[0], PREC_MUL) + "/" + _wrap(sub[1], PREC_MUL + 1), PREC_MUL
    if op == "emul":
        return _wrap(sub[0], PREC_MUL) + " .* " + _wrap(sub[1], PREC_MUL + 1), PREC_MUL
    if op == "epow":
        return _wrap(sub[0], ATOM) + ".^" + _wrap(sub[1], PREC_NEG), PREC_POW
    if op == "pow":
        base = _wrap(sub[0], ATOM)
        expo = _wrap(sub[1], PREC_NEG)
        return base + "^" + expo, PREC_POW
    if op == "transpose":
        return _wrap(sub[0], ATOM) + "^T", ATOM
    if op == "index":
        return _wrap(sub[0], ATOM) + "[" + ", ".join(map(str, n.value)) + "]", ATOM
    if op == "vector":
        return "[" + ", ".join(s for s, _ in sub) + "]", ATOM
    p = PRIMS.get(op)
    spelled = p.spelled if p is not None and p.spelled else op
    return spelled + "(" + ", ".join(s for s, _ in sub) + ")", ATOM


def to_text(root: Node, names: dict[Node, str] | None = None) -> str:
    """Print ``root``; nodes in ``names`` print as those names (trace rows)."""
    if names is None:
        got = TEXTS.get(root)
        if got is not None:
            return got[0]
    done: dict[Node, tuple[str, int]] = {}
    for n in topo_order(root, stop=names):
        if n.is_leaf or (names is not None and n in names):
            done[n] = _leaf(n, names)
        else:
            done[n] = render_node(n, [done[a] for a in n.args])
    return done[root][0]


def known_text(root: Node) -> str | None:
    """``to_text(root)`` if it is in the shared memo :data:`TEXTS`, else None (no printing)."""
    got = TEXTS.get(root)
    return None if got is None else got[0]


def printed(root: Node, memo: dict[Node, tuple[str, int]]) -> str:
    """``to_text(root)``, reusing and extending ``memo`` (node → text and precedence):
    printing many nodes that share parts prints each part once."""
    got = memo.get(root)
    if got is not None:
        return got[0]
    args = root.args
    if not args:
        got = memo[root] = render_node(root, []) if root.op == "vector" else _leaf(root, None)
        return got[0]
    sub = []
    for a in args:
        t = memo.get(a)
        if t is None:
            break
        sub.append(t)
    else:
        got = memo[root] = render_node(root, sub)
        return got[0]
    for n in topo_order(root, stop=memo):
        if n not in memo:
            memo[n] = _leaf(n, None) if n.is_leaf else render_node(n, [memo[a] for a in n.args])
    return memo[root][0]


def definition(n: Node, names: dict[Node, str]) -> str:
    """A trace row's definition: ``n``'s operation on its arguments' names. A name
    stands for its row as a variable would, whatever the row computes ("2a", "d i"),
    so a row's text depends only on its operation and its arguments' names."""
    from calccli.engine.expr import make, var
    args = tuple(var(names[a]) if a in names else a for a in n.args)
    return to_text(make(n.op, args, n.value))


def notation(node) -> str:
    """A node in matrix notation: Aᵀ, X⁻¹, X⁻ᵀ, ‖x‖, products by juxtaposition."""
    done: dict = {}
    for n in topo_order(node):
        if n.is_leaf:
            done[n] = render_node(n, []) if n.args else _leaf(n, None)
            continue
        sub = [done[a] for a in n.args]
        op = n.op
        if op == "transpose":
            a = n.args[0]
            if a.op == "inv":
                done[n] = (_atom(done[a.args[0]]) + "⁻ᵀ", ATOM)
            else:
                done[n] = (_atom(sub[0]) + "ᵀ", ATOM)
        elif op == "inv":
            done[n] = (_atom(sub[0]) + "⁻¹", ATOM)
        elif op == "norm":
            done[n] = ("‖" + sub[0][0] + "‖", ATOM)
        elif op == "mul":
            left = sub[0][0] if sub[0][1] >= PREC_MUL else f"({sub[0][0]})"
            right = sub[1][0] if sub[1][1] > PREC_MUL else f"({sub[1][0]})"
            done[n] = (left + ("" if left[-1:].isdigit() and not right[:1].isdigit() else " ") + right,
                       PREC_MUL)
        else:
            done[n] = render_node(n, sub)
    return done[node][0]


def _atom(t) -> str:
    return t[0] if t[1] >= ATOM else f"({t[0]})"
