"""Symbolic matrix calculus: calc against SymPy's MatrixSymbol ``diff``, identity by identity.

    python benchmarks/bench_matrix.py [--repeat 5]

For each identity: calc's time for the closed form (in-process, after start-up),
split into deriving + simplifying and verifying (the printed answer evaluated at
random instances against the numeric AD engine), calc's answer, and SymPy's
time and answer for the same identity written with MatrixSymbol (or why SymPy
cannot do it). Times are medians of --repeat runs. Target: ≤ 50 ms per identity.
"""
from __future__ import annotations

import argparse
import statistics
import time

# (command, calc expression, --wrt, --shape, sympy builder name)
IDENTITIES = [
    ("grad", "x^T A x", "x", None, "quad"),
    ("grad", "x^T A x", "x", ["A=symmetric"], "quad_sym"),
    ("hessian", "x^T A x", "x", None, "quad_hess"),
    ("grad", "b^T x", "x", None, "lin"),
    ("hessian", "b^T x", "x", None, "lin_hess"),
    ("grad", "log(det(X))", "X", None, "logdet"),
    ("grad", "norm(A x - b)^2", "x", None, "lsq"),
    ("grad", "norm(W x - y)^2", "W", ["x=vector,y=vector"], "lsq_W"),
    ("jacobian", "tanh(W x + b)", "x", None, "tanh"),
    ("grad", "sum(softplus(X w)) - y^T X w", "w", None, "logistic"),
    ("grad", "trace(X^T A X)", "X", None, "trXAX"),
    ("grad", "a^T inv(X) b", "X", None, "inv"),
]


def _sympy_cases():
    import sympy as sp
    n, m = sp.symbols("n m", integer=True, positive=True)
    x, b, y = sp.MatrixSymbol("x", n, 1), sp.MatrixSymbol("b", n, 1), sp.MatrixSymbol("y", m, 1)
    A, X = sp.MatrixSymbol("A", n, n), sp.MatrixSymbol("X", n, n)
    W, Xd = sp.MatrixSymbol("W", m, n), sp.MatrixSymbol("Xd", m, n)
    bm, a = sp.MatrixSymbol("bm", m, 1), sp.MatrixSymbol("a", n, 1)
    w = sp.MatrixSymbol("w", n, 1)
    S = sp.MatrixSymbol("S", n, n)  # SymPy has no symmetric MatrixSymbol: the same A, not simplified
    r = A * x - b
    return {
        "quad": lambda: (x.T * A * x).diff(x),
        "quad_sym": lambda: (x.T * S * x).diff(x),
        "quad_hess": lambda: (x.T * A * x).diff(x).diff(x),
        "lin": lambda: (b.T * x).diff(x),
        "lin_hess": lambda: (b.T * x).diff(x).diff(x),
        "logdet": lambda: sp.log(sp.Determinant(X)).diff(X),
        "lsq": lambda: (r.T * r).diff(x),
        "lsq_W": lambda: ((W * x - y).T * (W * x - y)).diff(W) if False else
        ((W * a - y).T * (W * a - y)).diff(W),
        "tanh": lambda: (W * a + bm).applyfunc(sp.tanh).diff(a),
        "logistic": lambda: (sp.ones(1, m) * (Xd * w).applyfunc(lambda t: sp.log(1 + sp.exp(t)))
                             - y.T * Xd * w).diff(w),
        "trXAX": lambda: sp.Trace(X.T * A * X).diff(X),
        "inv": lambda: (a.T * sp.Inverse(X) * b).diff(X),
    }


def _median_ms(fn, repeat):
    times = []
    out = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times), out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    from calccli.commands import matrix as cm
    cm.matrix_derivative("grad", "x^T x", wrt="x")          # warm up: imports, parser, numpy
    sym = _sympy_cases()
    rows = []
    for command, text, wrt, shape, key in IDENTITIES:
        real_verify = cm.verify
        cm.verify = lambda *a, **k: 0                      # deriving + simplifying only
        try:
            derive_ms, _ = _median_ms(lambda: cm.matrix_derivative(command, text, None, wrt, shape), args.repeat)
        finally:
            cm.verify = real_verify
        total_ms, r = _median_ms(lambda: cm.matrix_derivative(command, text, None, wrt, shape), args.repeat)
        try:
            sp_ms, sp_out = _median_ms(sym[key], args.repeat)
            sp_text = str(sp_out).replace("\n", " ")
            if len(sp_text) > 60:
                sp_text = sp_text[:57] + "…"
        except Exception as e:  # noqa: BLE001 - SymPy cannot do it: say how
            sp_ms, sp_text = None, f"fails: {type(e).__name__}"
        rows.append((f"{command} {text}" + (f" --shape {shape[0]}" if shape else ""), derive_ms,
                     total_ms - derive_ms, total_ms, r.answers[wrt], sp_ms, sp_text))
    print("| identity | calc derive ms | calc verify ms | calc total ms | calc answer | SymPy ms | SymPy answer |")
    print("|---|---:|---:|---:|---|---:|---|")
    for name, d, v, t, ans, sms, stext in rows:
        sms_s = "—" if sms is None else f"{sms:.1f}"
        print(f"| `{name}` | {d:.1f} | {v:.1f} | {t:.1f} | `{ans}` | {sms_s} | `{stext}` |")


if __name__ == "__main__":
    main()
