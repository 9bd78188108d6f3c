"""Symbolic derivatives: the forward (tangent) loop run on expression nodes.

``forward(tape, tape.nodes, {x: 1}, ops=NODE)`` applies the primitive table's
partial-derivative rules to the nodes themselves, so the tangent of the root is
the derivative as an expression DAG (shared subexpressions stay shared); then
:func:`calccli.simplify.simplify` tidies it. Nothing here knows a derivative
rule: the table does. Numbers are held as stand-in variables while the rules
run (so nothing folds in float64) and the simplifier's exact fractions do the
arithmetic; a gradient is one such derivative per variable (one normal form).

``--steps`` replays the same loop row by row: for each subexpression that
depends on x, the rule (sum, product, quotient, power, chain with the outer
function named) with the arguments' derivatives written as ``(u)'``, then the
simplified result; the last step's result is the printed derivative.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from calccli.engine import expr
from calccli.errors import CalcError, ShapeError, UsageError
from calccli.engine.evaluate import depends
from calccli.engine.expr import Node, free_vars
from calccli.engine.forward import forward
from calccli.engine.gcpause import collector_paused
from calccli.engine.ops import NODE_EXACT
from calccli.language.parse import parse
from calccli.engine.printer import known_text, to_text
from calccli.symbolic.simplify import replace_leaves, simplify
from calccli.engine.tape import build_tape, topo_order

MAX_PRINTED = 200_000   # characters: larger results are refused, not printed
_ARRAY = frozenset({"vector", "transpose", "index", "matmul"})


class TooLarge(CalcError):
    kind = "size"
    exit_code = 1


# ------------------------------------------------------------------ helpers

def printed_length(root: Node) -> int:
    """Roughly how long ``to_text(root)`` is, without printing (a DAG can print exponentially long)."""
    size: dict[Node, int] = {}
    for n in topo_order(root):
        args = n.args
        if not args:
            size[n] = len(str(n.value)) + 1
        else:
            k = len(n.op)
            for a in args:
                k += size[a]
            size[n] = k
    return size[root]


def checked_text(node: Node, what: str = "the derivative") -> str:
    known = known_text(node)   # printed by the simplifier already (then short enough)
    if known is not None:
        return known
    n = printed_length(node)
    if n > MAX_PRINTED:
        raise TooLarge(f"{what} is too large to print (about {n:,} characters); "
                       "evaluate it at a point instead (--at)")
    return to_text(node)


def substitute_lets(node: Node, let) -> tuple[Node, dict]:
    """Replace --let constants by their (scalar) values."""
    if not let:
        return node, {}
    from calccli.language.points import _bind_value, parse_bindings
    values = {}
    for b in parse_bindings(let, "--let"):
        if b.name is None:
            raise UsageError("--let expects name=value, e.g. --let a=2", source=b.option, pos=0)
        v = _bind_value(b)
        if not isinstance(v, float | int):
            raise ShapeError(f"symbolic derivatives need scalar constants; '{b.name}' is not a number: "
                             "give a point with --at for vectors and matrices")
        values[b.name] = float(v)
    return replace_leaves(node, lambda n: expr.num(values[n.value]) if n.op == "var" and n.value in values
                          else n), values


def _check_scalar(node: Node) -> None:
    from calccli.engine.primitives import PRIMS
    for n in topo_order(node):
        p = PRIMS.get(n.op)
        if n.op in _ARRAY or (p is not None and p.array):
            raise ShapeError("symbolic derivatives work on scalar expressions; for vectors and "
                             "matrices give a point with --at")


def prepare(text: str, let) -> tuple[Node, dict]:
    parsed = parse(text)
    node, values = substitute_lets(parsed.node, let)
    _check_scalar(node)
    _check_constants(parsed)
    return node, values


def _check_constants(parsed) -> None:
    """A part without variables that has no real value (1/0, log(0), sqrt(-1)) makes the whole
    expression undefined for every x: a domain error at that part, not a derivative
    (the rules would say d/dx (x + 1/0) = 1)."""
    from calccli.engine.evaluate import value_of
    order = topo_order(parsed.node)
    constant: dict[Node, bool] = {}
    for n in order:
        constant[n] = n.op != "var" and all(constant[a] for a in n.args)
    # the largest constant parts: the arguments of a part with a variable (or the whole)
    tops = dict.fromkeys(a for n in order if not constant[n] for a in n.args if constant[a])
    if constant[parsed.node]:
        tops[parsed.node] = None
    for n in tops:
        if n.args:
            try:
                value_of(n, {})
            except CalcError as err:
                if err.kind != "domain":     # exp(1000) x: exact symbolically, beyond float64 only
                    continue
                span = parsed.span(n)
                raise (err if span is None else err.at(parsed.text, *span)) from None


def choose_variables(node: Node, wrt, let_names, many: bool) -> list[str]:
    free = [v for v in free_vars(node) if v not in let_names]
    if wrt:
        names = [w.strip() for w in (wrt.split(",") if isinstance(wrt, str) else wrt) if w.strip()]
        for n in names:
            if n in let_names:
                raise UsageError(f"'{n}' is a constant (--let) and cannot be a variable of differentiation")
            if not n.isidentifier():
                raise UsageError(f"--wrt expects variable names, got '{n}'")
        if not many and len(names) != 1:
            raise UsageError(f"diff takes one variable, got {', '.join(names)} "
                             "(grad gives all partial derivatives)")
        return names
    if many:
        return free
    if len(free) > 1:
        raise UsageError(f"the expression has several variables ({', '.join(free)}): choose with --wrt")
    return free or ["x"]


EXACT = NODE_EXACT  # functions of numbers stay exact: log(2), not 0.693…


_HOLD = "\x00q"   # prefix of the stand-in variables for numbers (no user name can start so)


def hold_numbers(node: Node) -> tuple[Node, dict]:
    """``node`` with each number replaced by a stand-in variable, and the map back.

    The rules' Python arithmetic folds two number nodes in float64 (1/3 becomes
    0.3333333333333333); with the numbers held as variables nothing folds, and
    once they are put back the simplifier does that arithmetic exactly, with
    fractions: d/dx x^2/3 is 2x/3, not 0.6666666666666666x."""
    back: dict[Node, Node] = {}

    def hold(n: Node) -> Node:
        if n.op != "num":
            return n
        h = expr.var(f"{_HOLD}{len(back)}")
        back[h] = n
        return h
    return replace_leaves(node, hold), back


def release_numbers(node: Node, back: dict) -> Node:
    """The stand-ins of :func:`hold_numbers` replaced by their numbers (no folding)."""
    return replace_leaves(node, lambda n: back.get(n, n)) if back else node


def _held_derivative(node: Node, var: str) -> tuple[Node, dict]:
    """d node / d var with the numbers still held (:func:`hold_numbers`), and the map back."""
    held, back = hold_numbers(node)
    tape = build_tape(held)
    xi = tape.variables.get(var)
    if xi is None:
        return expr.ZERO, {}
    tan = forward(tape, tape.nodes, {xi: EXACT.one}, ops=EXACT)
    t = tan[-1]
    return (expr.ZERO, {}) if t is None else (expr.lift(t), back)


def derivative_node(node: Node, var: str) -> Node:
    """d node / d var, unsimplified (the forward loop on nodes), numbers kept exact."""
    return release_numbers(*_held_derivative(node, var))


def derivative(node: Node, var: str, order: int = 1) -> list[Node]:
    """The simplified derivatives of orders 1..order (once one is 0, so are the rest).
    The cyclic collector is paused throughout, as in simplify: the rules and the
    simplifier make many short-lived nodes and tuples but no reference cycles."""
    out = []
    d = node
    with collector_paused():
        while len(out) < order:
            d = simplify(*_held_derivative(d, var))   # the simplifier puts the numbers back
            out.append(d)
            if d is expr.ZERO:
                out.extend([expr.ZERO] * (order - len(out)))
                break
            if known_text(d) is None and printed_length(d) > MAX_PRINTED:
                checked_text(d, f"the derivative of order {len(out)}")
    return out


def gradient_nodes(node: Node, names: list[str]) -> list[Node]:
    """All partial derivatives, each exactly as :func:`derivative` gives it (one
    normal form: grad's ∂f/∂w is diff --wrt w's answer)."""
    return [derivative(node, n, 1)[0] for n in names]


_SUP = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


def order_label(var: str, order: int, single: bool) -> str:
    if single:
        primes = {1: "'", 2: "''", 3: "'''"}.get(order)
        if primes is None:
            primes = "⁽" + str(order).translate(str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")) + "⁾"
        return f"f{primes}({var})"
    sup = "" if order == 1 else str(order).translate(str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹"))
    return f"∂{sup}f/∂{var}{sup}"


# ------------------------------------------------------------------ steps

@dataclass
class SymStep:
    rule: str
    expression: str       # the subexpression differentiated
    formula: str          # its derivative by the rule, arguments' derivatives as (u)'
    result: str           # simplified
    formula_node: object = field(default=None, repr=False, compare=False)
    primes: dict = field(default_factory=dict, repr=False, compare=False)  # "(u)'" -> u
    expression_node: object = field(default=None, repr=False, compare=False)
    result_node: object = field(default=None, repr=False, compare=False)


def rule_lines(steps) -> list[str]:
    """Symbolic steps as numbered lines: the rule, then (u)' = formula = result."""
    lines = []
    for k, s in enumerate(steps, 1):
        lines.append(f"{k}. {s.rule}")
        lhs = f"   {_prime(s.expression)} = "
        lines.append(lhs + s.formula)
        if s.formula != s.result:
            lines.append(" " * (len(lhs) - 2) + "= " + s.result)
    return lines


def _prime(text: str) -> str:
    simple = all(ch.isalnum() or ch in "_()" for ch in text) and not text.startswith("(")
    return f"{text}'" if simple else f"({text})'"


def _rule(node: Node, dep: list[bool]) -> str:
    op = node.op
    a = node.args
    if op == "add":
        return "sum rule"
    if op == "sub":
        return "difference rule"
    if op == "neg":
        return "constant multiple rule (−1)"
    if op == "mul":
        return "product rule" if all(dep) else "constant multiple rule"
    if op == "div":
        if all(dep):
            return "quotient rule"
        return "constant multiple rule" if dep[0] else "quotient rule (constant numerator)"
    if op == "pow":
        if dep[0] and dep[1]:
            return "general power rule: (u^v)' = u^v (v' log(u) + v u'/u)"
        if dep[0]:
            return "power rule" if a[0].op == "var" else "power rule and chain rule"
        return "exponential rule: (c^u)' = c^u log(c) u'"
    if a and a[0].op == "var":
        return f"derivative of {op}"
    return f"chain rule: outer function {op}"


def symbolic_steps(node: Node, var: str) -> tuple[list[SymStep], Node]:
    """One step per subexpression that depends on ``var``, innermost first."""
    held, back = hold_numbers(node)
    tape = build_tape(held)
    xi = tape.variables.get(var)
    if xi is None:
        return [], expr.ZERO
    need = depends(tape, [xi])
    tan = forward(tape, tape.nodes, {xi: EXACT.one}, ops=EXACT)
    texts: dict[int, str] = {}
    steps = []
    final = expr.ONE if xi == len(tape.nodes) - 1 else expr.ZERO
    for i in tape.rows:
        if not need[i] or tan[i] is None:
            continue
        n = release_numbers(tape.nodes[i], back)
        args = tape.args[i]
        dep = [need[j] for j in args]
        texts[i] = checked_text(n, "the expression")
        D = [None if not need[j] else (expr.ONE if j == xi else expr.var(_prime(texts[j]))) for j in args]
        p = tape.prims[i]
        if n.op == "mul" and all(dep):
            u, v = n.args
            formula = expr.add(expr.mul(D[0], v), expr.mul(u, D[1]))
        elif n.op == "div" and all(dep):
            u, v = n.args
            formula = expr.div(expr.sub(expr.mul(D[0], v), expr.mul(u, D[1])), expr.power(v, expr.TWO))
        else:
            formula = None
            for k, j in enumerate(args):
                if D[k] is None:
                    continue
                d = expr.lift(p.partials[k](EXACT, *tape.nodes[i].args, tape.nodes[i]))
                c = D[k] if d is expr.ONE else (expr.mul(d, D[k]) if d.op == "num" or D[k] is expr.ONE
                                                 else expr.make("mul", (d, D[k])))
                formula = c if formula is None else expr.add(formula, c)
        formula = release_numbers(formula, back)
        result = simplify(release_numbers(expr.lift(tan[i]), back))
        if i == len(tape.nodes) - 1:
            final = result
        primes = {D[k].value: release_numbers(tape.nodes[j], back) for k, j in enumerate(args)
                  if D[k] is not None and D[k].op == "var" and j != xi}
        steps.append(SymStep(_rule(n, dep), texts[i], to_text(formula), checked_text(result),
                             formula, primes, n, result))
    return steps, final


# ------------------------------------------------------------------ results

def where_bindings(root: Node, avoid: set[str], min_len: int = 24, limit: int = 3):
    """Large subexpressions printed more than once, to show as ``where u = …``."""
    order = topo_order(root)
    mult: dict[Node, int] = {n: 0 for n in order}
    mult[root] = 1
    for n in reversed(order):
        for a in n.args:
            mult[a] += mult[n]
    cands = []
    for n in order:
        if n.args and mult[n] >= 2:
            ln = printed_length(n)
            if ln >= min_len:
                cands.append(((mult[n] - 1) * ln, n))
    cands.sort(key=lambda c: -c[0])
    chosen = [n for _, n in cands[:limit]]
    if not chosen:
        return None
    names = {}
    pool = (nm for nm in ("u", "v", "w", "u1", "u2", "u3") if nm not in avoid)
    pos = {n: k for k, n in enumerate(order)}
    for n in sorted(chosen, key=pos.__getitem__):
        names[n] = next(pool, None)
    names = {n: nm for n, nm in names.items() if nm}
    if not names:
        return None
    body = to_text(root, names)
    defs = []
    for n, nm in names.items():
        others = {m: v for m, v in names.items() if m is not n}
        defs.append((nm, to_text(n, others)))
    return body, defs
