"""Random expressions for property tests: text in calc syntax and the same in SymPy syntax."""
import random

UNARY = ["sin", "cos", "exp", "tanh", "atan", "sigmoid", "softplus", "sqrt", "log"]


def random_expr(rng: random.Random, variables=("x",), depth=4) -> tuple[str, str]:
    """(calc text, sympy text) of a random smooth expression, positive where it needs to be."""
    if depth == 0 or rng.random() < 0.25:
        if rng.random() < 0.6:
            v = rng.choice(variables)
            return v, v
        c = rng.choice([1, 2, 3, 0.5, 1.5, 2.5])
        return str(c), str(c)
    kind = rng.random()
    if kind < 0.45:
        op = rng.choice(["+", "-", "*", "/"])
        a, sa = random_expr(rng, variables, depth - 1)
        b, sb = random_expr(rng, variables, depth - 1)
        if op == "/":  # keep the divisor away from zero
            b, sb = f"(2 + sin({b}))", f"(2 + sin({sb}))"
        return f"({a}) {op} ({b})", f"({sa}) {op} ({sb})"
    if kind < 0.6:
        a, sa = random_expr(rng, variables, depth - 1)
        n = rng.choice([2, 3])
        return f"({a})^{n}", f"({sa})**{n}"
    f = rng.choice(UNARY)
    a, sa = random_expr(rng, variables, depth - 1)
    if f in ("sqrt", "log"):  # a positive argument
        a, sa = f"1 + ({a})^2", f"1 + ({sa})**2"
    if f == "exp":  # no overflow
        a, sa = f"sin({a})", f"sin({sa})"
    sym = {"sigmoid": "1/(1+exp(-({0})))", "softplus": "log(1+exp({0}))"}.get(f, f + "({0})")
    return f"{f}({a})", sym.format(sa)
