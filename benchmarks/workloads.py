"""Deterministic inputs for the benchmarks: expression texts and points.

Everything here is plain text generation (no calccli import), so the same
inputs can be handed to calc, to SymPy and to the optional JAX/autograd peers.
Nothing is special-cased for calc: these are the texts a user or a script
would write.
"""
from __future__ import annotations

import random
import re
import statistics
import time

# The start-up example.
SEED_EXAMPLE = "sqrt(x^2+exp(x^2))+cos(x^2+exp(x^2))"

# SymPy one-liner that prints the same two numbers (value, derivative at 1.0).
SYMPY_ONE_LINER = (
    "import sympy as s; x = s.Symbol('x'); "
    "f = s.sqrt(x**2 + s.exp(x**2)) + s.cos(x**2 + s.exp(x**2)); "
    "print(f.subs(x, 1.0).evalf(), s.diff(f, x).subs(x, 1.0).evalf())"
)

BATCH_POINT = 1.3

_UNARY = ("sin", "cos", "exp", "log", "sqrt", "tanh", "atan")


def _random_expr(rng: random.Random, depth: int) -> str:
    """A random smooth expression in x, defined at every real x (so it is
    defined at the batch point): log/sqrt get 1 + u^2, exp gets sin(u), and
    divisors are 2 + cos(u). Text uses explicit '*' and '^', which both calc
    and SymPy's parser (with convert_xor) read."""
    if depth == 0 or rng.random() < 0.12:
        r = rng.random()
        if r < 0.7:
            return "x"
        if r < 0.85:
            return str(rng.choice((2, 3, 5, 7)))
        return f"{rng.choice((0.5, 1.5, 2.5, 0.25, 3.7))}"
    k = rng.random()
    if k < 0.45:
        op = rng.choice("+-*/")
        a, b = _random_expr(rng, depth - 1), _random_expr(rng, depth - 1)
        if op == "/":
            b = f"2 + cos({b})"
        return f"{_group(a)} {op} {_group(b)}"
    if k < 0.57:
        return f"{_group(_random_expr(rng, depth - 1))}^{rng.choice((2, 3))}"
    f = rng.choice(_UNARY)
    a = _random_expr(rng, depth - 1)
    if f in ("log", "sqrt"):
        a = f"1 + ({a})^2"
    elif f == "exp":
        a = f"sin({a})"
    return f"{f}({a})"


def _group(text: str) -> str:
    """Parenthesize unless atomic (a name, a number or a call)."""
    if re.fullmatch(r"[\w.]+", text) or (re.fullmatch(r"\w+\(.*\)", text) and _balanced_call(text)):
        return text
    return f"({text})"


def _balanced_call(text: str) -> bool:
    """True when the first '(' closes at the very end: f(...) as a whole."""
    depth = 0
    for i, ch in enumerate(text):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                return i == len(text) - 1
    return False


def random_lines(n: int = 300, seed: int = 7) -> list[str]:
    """``n`` random one-variable expressions of typical size (a few to a few
    dozen operations, like hand-written ones), deterministic for ``seed``."""
    rng = random.Random(seed)
    out = []
    while len(out) < n:
        text = _random_expr(rng, rng.choice((3, 4, 4, 5, 5, 6)))
        if re.search(r"\bx\b", text) and len(text) >= 8:
            out.append(text)
    return out


def rosenbrock(n: int) -> str:
    """The extended Rosenbrock function Σ_{i<n} (1 − x_i)^2 + 100 (x_{i+1} − x_i^2)^2 in x1..xn."""
    return " + ".join(f"(1 - x{i})^2 + 100*(x{i + 1} - x{i}^2)^2" for i in range(1, n))


def rosenbrock_point(n: int) -> list[float]:
    """A point away from the minimum (so no derivative is structurally trivial)."""
    return [round(-1.2 + 0.37 * ((7 * i) % 11) / 10, 6) for i in range(n)]


def at_option(names: list[str], values: list[float]) -> str:
    return ",".join(f"{n}={v!r}" for n, v in zip(names, values))


def xs(n: int) -> list[str]:
    return [f"x{i}" for i in range(1, n + 1)]


def big_sum_terms(terms: int, nvars: int = 1000, seed: int = 11) -> list[tuple]:
    """(c, a, b, d, i, j, k) per term of ``big_sum`` (the peers write the same function as code)."""
    rng = random.Random(seed)
    out = []
    for _ in range(terms):
        i, j, k = (rng.randrange(1, nvars + 1) for _ in range(3))
        c, a, b, d = (round(rng.uniform(0.1, 2.0), 4) for _ in range(4))
        out.append((c, a, b, d, i, j, k))
    return out


def big_sum(terms: int, nvars: int = 1000, seed: int = 11) -> str:
    """A long sum of products of functions: Σ c·sin(a·x_i)·exp(b·x_j)·cos(x_k + d).

    Coefficients differ from term to term, so hash-consing cannot collapse the
    terms: about 9 distinct nodes per term (checked by the benchmark, which
    reports the node count of the tape it actually built)."""
    return " + ".join(f"{c}*sin({a}*x{i})*exp({b}*x{j})*cos(x{k} + {d})"
                      for c, a, b, d, i, j, k in big_sum_terms(terms, nvars, seed))


def big_sum_point(nvars: int = 1000) -> list[float]:
    return [round(0.001 * ((13 * i) % 997) - 0.5, 6) for i in range(nvars)]


def nested_sin(depth: int, var: str = "x") -> str:
    return "sin(" * depth + var + ")" * depth


def median_seconds(fn, x, rounds: int, sync, clock=time.process_time) -> float:
    """Median of ``rounds`` timed calls of ``fn(x)`` after one untimed call; ``sync``
    waits for a result (JAX's block_until_ready, identity elsewhere)."""
    sync(fn(x))
    ts = []
    for _ in range(rounds):
        t0 = clock()
        sync(fn(x))
        ts.append(clock() - t0)
    return statistics.median(ts)
