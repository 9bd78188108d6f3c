"""Interned, immutable expression nodes (hash-consing).

Structurally equal expressions are the *same* object: ``make`` looks a node up
by (op, args, value) before creating it, so a shared subexpression such as the
``x^2`` in ``sqrt(x^2+exp(x^2))+cos(x^2+exp(x^2))`` is one node, and one
intermediate variable on the tape. Children are interned first, so the key
compares children by identity and hashing is O(arity).

Node ops: ``num`` (value: float), ``var`` (value: name), ``const`` (value:
"pi" or "e"), and every primitive name in :mod:`calccli.primitives` (args are
the operands; ``index`` keeps its 1-based indices in ``value``).
"""
from __future__ import annotations

import math
from numbers import Real
from typing import Any


class Node:
    __slots__ = ("op", "args", "value", "__weakref__")

    op: str
    args: tuple["Node", ...]
    value: Any

    def __setattr__(self, name, value):  # immutable once made
        raise AttributeError("expression nodes are immutable")

    def __repr__(self) -> str:
        from calccli.engine.printer import to_text
        from calccli.engine.tape import topo_order
        n = len(topo_order(self))
        if n > 200:  # printing a large shared DAG in full can take gigabytes
            return f"Node(<{self.op}, {n} distinct nodes>)"
        return f"Node({to_text(self)!r})"

    def __str__(self) -> str:
        from calccli.engine.printer import to_text
        return to_text(self)

    @property
    def is_leaf(self) -> bool:
        return not self.args and self.op != "vector"

    # Generic arithmetic: partial-derivative rules written with Python operators
    # run unchanged on floats, arrays, dual numbers and nodes (symbolic results).
    def __add__(self, other): return add(self, lift(other))
    def __radd__(self, other): return add(lift(other), self)
    def __sub__(self, other): return sub(self, lift(other))
    def __rsub__(self, other): return sub(lift(other), self)
    def __mul__(self, other): return mul(self, lift(other))
    def __rmul__(self, other): return mul(lift(other), self)
    def __truediv__(self, other): return div(self, lift(other))
    def __rtruediv__(self, other): return div(lift(other), self)
    def __pow__(self, other): return power(self, lift(other))
    def __rpow__(self, other): return power(lift(other), self)
    def __neg__(self): return neg(self)
    def __matmul__(self, other): return make("matmul", (self, lift(other)))


_table: dict[tuple, Node] = {}
# the slots' own setters: a new node is made without Node.__setattr__ (which refuses)
# and without object.__setattr__'s lookup of each slot by name
_new, _set_op, _set_args, _set_value = object.__new__, Node.op.__set__, Node.args.__set__, Node.value.__set__


def make(op: str, args: tuple[Node, ...] = (), value: Any = None) -> Node:
    key = (op, args, value)
    node = _table.get(key)
    if node is None:
        node = _new(Node)
        _set_op(node, op)
        _set_args(node, args)
        _set_value(node, value)
        _table[key] = node
    return node


def num(v: float) -> Node:
    v = float(v)
    if v == 0.0:
        v = 0.0  # one zero: -0.0 and 0.0 are the same node
    return make("num", (), v)


def var(name: str) -> Node:
    return make("var", (), name)


def const(name: str) -> Node:
    return make("const", (), name)


CONSTANTS = {"pi": math.pi, "e": math.e}

ZERO, ONE, TWO = num(0), num(1), num(2)


def lift(x) -> Node:
    if isinstance(x, Node):
        return x
    if isinstance(x, (int, float, Real)):     # Real: numpy's integers too (np.mean's count)
        return num(x)
    raise TypeError(f"cannot make an expression of {type(x).__name__}")


def is_num(n: Node, v: float | None = None) -> bool:
    return n.op == "num" and (v is None or n.value == v)


def _fold(op: str, *vals: float) -> Node | None:
    """Constant folding with exact float arithmetic; None when it would fail."""
    from calccli.engine.primitives import PRIMS
    try:
        r = PRIMS[op].f(*vals)
    except (ArithmeticError, ValueError):
        return None
    if isinstance(r, float) and math.isfinite(r):
        return num(r)
    return None


# Light-weight simplifying constructors, used by symbolic differentiation.
# They only apply identities that are always valid (x+0, x*1, x*0 with x
# finite, constant folding); calccli.simplify does the heavier rewriting.

def add(a: Node, b: Node) -> Node:
    if is_num(a, 0.0):
        return b
    if is_num(b, 0.0):
        return a
    if a.op == "num" and b.op == "num":
        return _fold("add", a.value, b.value) or make("add", (a, b))
    if b.op == "neg":
        return sub(a, b.args[0])
    return make("add", (a, b))


def sub(a: Node, b: Node) -> Node:
    if is_num(b, 0.0):
        return a
    if is_num(a, 0.0):
        return neg(b)
    if a is b:
        return ZERO
    if a.op == "num" and b.op == "num":
        return _fold("sub", a.value, b.value) or make("sub", (a, b))
    if b.op == "neg":
        return add(a, b.args[0])
    return make("sub", (a, b))


def mul(a: Node, b: Node) -> Node:
    if is_num(a, 0.0) or is_num(b, 0.0):
        return ZERO
    if is_num(a, 1.0):
        return b
    if is_num(b, 1.0):
        return a
    if is_num(a, -1.0):
        return neg(b)
    if is_num(b, -1.0):
        return neg(a)
    if a.op == "num" and b.op == "num":
        return _fold("mul", a.value, b.value) or make("mul", (a, b))
    if b.op == "num" and a.op != "num":  # numbers first: 2x, not x*2
        a, b = b, a
    if a.op == "neg":
        return neg(mul(a.args[0], b))
    if b.op == "neg":
        return neg(mul(a, b.args[0]))
    if a.op == "num" and b.op == "mul" and b.args[0].op == "num":
        return mul(mul(a, b.args[0]), b.args[1])
    return make("mul", (a, b))


def div(a: Node, b: Node) -> Node:
    if is_num(b, 1.0):
        return a
    if is_num(a, 0.0) and not is_num(b, 0.0):
        return ZERO
    if a.op == "num" and b.op == "num":
        return _fold("div", a.value, b.value) or make("div", (a, b))
    if a.op == "neg":
        return neg(div(a.args[0], b))
    if b.op == "neg":
        return neg(div(a, b.args[0]))
    return make("div", (a, b))


def neg(a: Node) -> Node:
    if a.op == "num":
        return num(-a.value)
    if a.op == "neg":
        return a.args[0]
    if a.op == "sub":
        return make("sub", (a.args[1], a.args[0]))
    return make("neg", (a,))


def power(a: Node, b: Node) -> Node:
    if is_num(b, 1.0):
        return a
    if is_num(b, 0.0):
        return ONE
    if a.op == "num" and b.op == "num":
        return _fold("pow", a.value, b.value) or make("pow", (a, b))
    return make("pow", (a, b))


def call(op: str, *args: Node) -> Node:
    """A primitive applied to nodes, folded when all arguments are numbers."""
    if all(a.op == "num" for a in args):
        folded = _fold(op, *(a.value for a in args))
        if folded is not None:
            return folded
    return make(op, tuple(args))


def free_vars(root: Node) -> list[str]:
    """Variable names in order of first appearance (left to right)."""
    from calccli.engine.tape import topo_order
    return [n.value for n in topo_order(root) if n.op == "var"]


def size(root: Node) -> int:
    from calccli.engine.tape import topo_order
    return len(topo_order(root))
