"""Length of calc's symbolic derivatives against SymPy's ``diff``, on random expressions.

    python benchmarks/bench_symbolic_length.py [--n 300] [--seed 1]

For each random expression f (the same text for both systems), the printed
length of calc's simplified derivative (``calc diff f``, calc syntax) and of
SymPy's ``diff(f, x)``: as ``str()`` prints it, and with ``**`` written ``^``
(the same notation as calc, so that only the form of the result differs).
Target: median ratio calc / SymPy ≤ 1.0. Every calc result is also evaluated
against SymPy's at two points (a wrong derivative would make the ratio
meaningless).

A second table compares calc's three exact methods for order-N derivatives at
a point (time and accuracy against mpmath): Taylor mode (what
``calc diff --order N --at`` uses), nested dual numbers, and repeated symbolic
differentiation then evaluation.
"""
from __future__ import annotations

import argparse
import math
import random
import statistics
import time

FUNCS = ["sin", "cos", "exp", "log", "sqrt", "tan", "atan"]


def random_expr(rng: random.Random, leaves: int) -> str:
    """A random expression with about ``leaves`` leaves, explicit operators (both systems read it)."""
    if leaves <= 1:
        return rng.choice(["x", "x", "x", str(rng.randint(1, 5)), "x"])
    kind = rng.random()
    if kind < 0.2:
        return f"{rng.choice(FUNCS)}({random_expr(rng, leaves - 1)})"
    if kind < 0.3:
        return f"({random_expr(rng, leaves - 1)})^{rng.randint(2, 4)}"
    k = rng.randint(1, leaves - 1)
    op = rng.choice(["+", "-", "*", "*", "/"])
    return f"({random_expr(rng, k)} {op} {random_expr(rng, leaves - k)})"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--simplify", action="store_true",
                    help="compare with SymPy's simplify(diff(f)) instead of diff(f) (slow: about a minute)")
    args = ap.parse_args()
    import sympy as sp
    from calccli.engine.evaluate import evaluate
    from calccli.engine.ops import FLOAT
    from calccli.language.parse import parse
    from calccli.engine.printer import to_text
    from calccli.symbolic.differentiate import derivative
    from calccli.engine.tape import build_tape

    X = sp.Symbol("x")
    rng = random.Random(args.seed)
    rows = []
    t_calc = t_sympy = 0.0
    wrong = 0
    for _ in range(args.n):
        text = random_expr(rng, rng.randint(3, 9))
        f = sp.sympify(text.replace("^", "**"), locals={"x": X})
        t0 = time.perf_counter()
        d = derivative(parse(text).node, "x")[0]
        calc_text = to_text(d)
        t1 = time.perf_counter()
        ds = sp.diff(f, X)
        if args.simplify:
            ds = sp.simplify(ds)
        sympy_text = str(ds)
        t2 = time.perf_counter()
        t_calc += t1 - t0
        t_sympy += t2 - t1
        for x0 in (0.37, 1.61):
            try:
                got = evaluate(build_tape(d), {"x": x0}, FLOAT)[-1]
            except Exception:
                continue
            want = complex(ds.subs(X, x0).evalf())
            if abs(want.imag) < 1e-12 and math.isfinite(want.real) and \
                    abs(got - want.real) > 1e-8 * max(1.0, abs(want.real)):
                wrong += 1
        rows.append((text, calc_text, sympy_text, sympy_text.replace("**", "^")))

    calc_len = [len(r[1]) for r in rows]
    sym_len = [len(r[2]) for r in rows]
    sym_caret = [len(r[3]) for r in rows]
    ratios = [c / s for c, s in zip(calc_len, sym_caret) if s]
    print(f"{args.n} random expressions (seed {args.seed}), first derivative in x\n")
    print(f"{'':34}{'median':>8}{'mean':>9}{'p90':>8}")
    for label, v in [("calc (calc syntax)", calc_len), ("SymPy str()", sym_len),
                     ("SymPy, ** written ^", sym_caret)]:
        v = sorted(v)
        print(f"{label:34}{statistics.median(v):8.1f}{statistics.mean(v):9.1f}{v[int(0.9 * (len(v) - 1))]:8d}")
    med_ratio = statistics.median(calc_len) / statistics.median(sym_caret)
    print(f"\nratio of medians, calc / SymPy (same notation): {med_ratio:.3f}   (target ≤ 1.0)")
    print(f"ratio of medians, calc / SymPy str():           "
          f"{statistics.median(calc_len) / statistics.median(sym_len):.3f}")
    print(f"median of per-expression ratios:                 {statistics.median(ratios):.3f}")
    rs = sorted(ratios)
    print(f"95th percentile of per-expression ratios:        {rs[int(0.95 * (len(rs) - 1))]:.3f}")
    cs, ss = sorted(calc_len), sorted(sym_caret)
    print(f"ratio of 95th percentiles of the lengths:        "
          f"{cs[int(0.95 * (len(cs) - 1))] / ss[int(0.95 * (len(ss) - 1))]:.3f}")
    print(f"calc shorter on {sum(c < s for c, s in zip(calc_len, sym_caret))}, equal on "
          f"{sum(c == s for c, s in zip(calc_len, sym_caret))}, longer on "
          f"{sum(c > s for c, s in zip(calc_len, sym_caret))} of {len(rows)}")
    print(f"derivatives that disagree with SymPy numerically: {wrong}")
    print(f"time: calc {t_calc:.2f} s (differentiate + simplify + print), SymPy {t_sympy:.2f} s "
          f"(diff{' + simplify' if args.simplify else ''} + str): calc {t_sympy / t_calc:.0f}× faster\n")
    print("examples (f → calc | SymPy):")
    for text, c, s, _ in rows[:6]:
        print(f"  {text}\n    calc:  {c}\n    SymPy: {s}")

    higher_orders()


def higher_orders() -> None:
    """Order-N derivatives at a point by calc's three exact methods: time and accuracy."""
    import mpmath as mp
    from calccli.engine.evaluate import evaluate
    from calccli.engine.taylor import derivatives_at, dual_derivatives_at
    from calccli.engine.ops import FLOAT
    from calccli.language.parse import parse
    from calccli.symbolic.differentiate import CalcError, derivative
    from calccli.engine.tape import build_tape

    mp.mp.dps = 50
    cases = {
        "exp(x) sin(x)": lambda x: mp.exp(x) * mp.sin(x),
        "sqrt(x^2+exp(x^2))+cos(x^2+exp(x^2))":
            lambda x: mp.sqrt(x ** 2 + mp.exp(x ** 2)) + mp.cos(x ** 2 + mp.exp(x ** 2)),
        "sin(x)^2/(1 + x^2)": lambda x: mp.sin(x) ** 2 / (1 + x ** 2),
        "tan(x)/x": lambda x: mp.tan(x) / x,
        "x^x": lambda x: x ** x,
    }
    print("\norder N at x = 0.5: Taylor mode (used by calc diff --order N --at) vs nested dual")
    print("numbers vs repeated symbolic differentiation; time, and relative error of f⁽ᴺ⁾ against")
    print("mpmath at 50 digits")
    print(f"  {'expression':38}{'N':>3}{'Taylor':>16}{'nested duals':>20}{'symbolic':>20}")
    for text, f in cases.items():
        node = parse(text).node
        tape = build_tape(node)
        for n in (4, 6, 8, 10):
            tc = mp.taylor(f, mp.mpf(1) / 2, n)
            want = float(tc[n] * mp.factorial(n))

            def err(v):
                return abs(v - want) / max(1.0, abs(want))
            t0 = time.perf_counter()
            a = derivatives_at(tape, {"x": 0.5}, "x", n)[-1]
            t1 = time.perf_counter()
            b = dual_derivatives_at(tape, {"x": 0.5}, "x", n)[-1]
            t2 = time.perf_counter()
            try:
                ds = derivative(node, "x", n)
                c = evaluate(build_tape(ds[-1]), {"x": 0.5}, FLOAT)[-1]
                sym = f"{time.perf_counter() - t2:8.3f}s {err(c):7.0e}"
            except CalcError:
                sym = f"{'too large':>17}"
            print(f"  {text[:37]:38}{n:3d}{t1 - t0:8.4f}s {err(a):7.0e}{t2 - t1:11.3f}s {err(b):7.0e}   {sym}")


if __name__ == "__main__":
    main()
