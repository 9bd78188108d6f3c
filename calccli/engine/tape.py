"""The tape (Wengert list): an expression DAG in topological order.

``topo_order`` is an explicit-stack post-order walk (no recursion, so any depth
works). Each distinct node appears once, arguments before their users, so the
interpreters are single loops over ``Tape.rows``. Non-leaf nodes are the
intermediate variables and get the names a, b, c, … that the notes use,
skipping names the expression itself uses.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from string import ascii_lowercase

from calccli.engine.expr import Node
from calccli.engine.gcpause import collector_paused
from calccli.engine.primitives import PRIMS, Prim


def topo_order(root: Node, stop=None) -> list[Node]:
    """Nodes reachable from ``root``, each once, children first, left to right.

    Nodes in ``stop`` are emitted but not descended into. A node stays on the
    stack until its children are done: it is looked at once to push them
    (rightmost first, so the leftmost is done first) and once more to emit it.
    """
    return topo_indexed(root, stop)[0]


def topo_indexed(root: Node, stop=None) -> tuple[list[Node], dict[Node, int]]:
    """``topo_order`` and each node's place in it (the walk's own record of what it has seen)."""
    order: list[Node] = []
    seen: dict[Node, int] = {}   # nodes hash by identity
    stack = [root]
    push, pop, emit = stack.append, stack.pop, order.append
    while stack:
        node = stack[-1]
        if node in seen:
            pop()
            continue
        pending = False
        args = node.args
        if args and (stop is None or node not in stop):
            for child in reversed(args):
                if child not in seen:
                    push(child)
                    pending = True
        if not pending:
            pop()
            seen[node] = len(order)
            emit(node)
    return order, seen


_POOL: list[str] = []     # a, b, …, z, a1, …, z1, a2, …: made once, as far as a tape has needed


def _first_names(k: int, avoid: set[str]) -> list[str]:
    """The first ``k`` names of the pool that are not in ``avoid``."""
    want = k + len(avoid)    # enough: each avoided name skips at most one
    while len(_POOL) < want:
        block = len(_POOL) // 26
        _POOL.extend(ch + (str(block) if block else "") for ch in ascii_lowercase)
    return [n for n in _POOL[:want] if n not in avoid][:k]


@dataclass
class Tape:
    root: Node
    nodes: list[Node]
    index: dict[Node, int]
    args: list[tuple[int, ...]]
    prims: list[Prim | None]          # None for leaves (numbers, constants, variables)
    rows: list[int]                   # indices of the intermediate variables, in order
    variables: dict[str, int]         # variable name -> index
    _names: dict[int, str] | None = field(default=None, repr=False)
    _shown: dict[int, str] = field(default_factory=dict, repr=False)   # name_of, remembered
    _labels: list[str | None] | None = field(default=None, repr=False)
    cache: dict = field(default_factory=dict, repr=False)

    def __len__(self) -> int:
        return len(self.nodes)

    @property
    def names(self) -> dict[int, str]:
        """Intermediate-variable names: index -> 'a', 'b', …"""
        if self._names is None:
            avoid = set(self.variables)
            avoid |= {n.value for n in self.nodes if n.op == "const"}
            self._names = dict(zip(self.rows, _first_names(len(self.rows), avoid)))
        return self._names

    def name_of(self, i: int) -> str:
        """How node ``i`` is called in the trace: its name, or a leaf's own text (x, 2, pi)."""
        shown = self._shown.get(i)
        if shown is None:
            shown = self.names.get(i)
            if shown is None:
                from calccli.engine.printer import to_text
                shown = to_text(self.nodes[i])
            self._shown[i] = shown
        return shown

    @property
    def labels(self) -> list[str | None]:
        """name_of by index for the rows and the variables, None for numbers and constants:
        the nodes an explanation names over and over (its partials and steps are taken
        with respect to variables, through rows), in one list instead of a call per name."""
        if self._labels is None:
            labels: list[str | None] = [None] * len(self.nodes)
            for name, i in self.variables.items():
                labels[i] = name
            for i, name in self.names.items():
                labels[i] = name
            self._labels = labels
        return self._labels

    def node_names(self) -> dict[Node, str]:
        return {self.nodes[i]: n for i, n in self.names.items()}


def build_tape(root: Node) -> Tape:
    nodes, index = topo_indexed(root)
    with collector_paused(len(nodes) > 5000, lasting=True):
        return _tape_of(root, nodes, index)


def _tape_of(root: Node, nodes: list[Node], index: dict[Node, int]) -> Tape:
    at = index.__getitem__
    args, prims, rows, variables = [], [], [], {}
    push_args, push_prim, push_row, prim_of = args.append, prims.append, rows.append, PRIMS.get
    for i, n in enumerate(nodes):
        a = n.args
        k = len(a)
        # arities 2 and 1 spelled out: a third of a large tape's build time was map objects
        push_args((at(a[0]), at(a[1])) if k == 2 else (at(a[0]),) if k == 1 else tuple(map(at, a)) if k else ())
        p = prim_of(n.op)     # None for a leaf (num, const, var): every other op is a primitive
        push_prim(p)
        if p is not None:
            push_row(i)
        elif n.op == "var":
            variables[n.value] = i
    return Tape(root, nodes, index, args, prims, rows, variables)
