"""In-process measurements, run by run.py in a fresh interpreter each (so the
interned-node table and the allocator start clean) and printed as one JSON object.

    python benchmarks/inproc.py rosenbrock N ROUNDS
    python benchmarks/inproc.py hessians 20,40,80 ROUNDS
    python benchmarks/inproc.py large TERMS
    python benchmarks/inproc.py scaling product|check|plot|order2|rich|plain 1000,2000,4000 ROUNDS
"""
from __future__ import annotations

import json
import resource
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import workloads as W  # noqa: E402


def _clock(f):
    def timed():  # CPU seconds: other jobs on the machine do not count
        t0 = time.process_time()
        f()
        return time.process_time() - t0
    return timed


def rosenbrock(n: int, rounds: int) -> dict:
    """One evaluation against the reverse pass alone on the same tape (the
    cheap-gradient principle), and against evaluation + reverse (a gradient)."""
    from calccli.engine.evaluate import evaluate
    from calccli.language.parse import parse
    from calccli.engine.reverse import reverse
    from calccli.engine.tape import build_tape

    node = parse(W.rosenbrock(n)).node
    tape = build_tape(node)
    names = W.xs(n)
    env = dict(zip(names, W.rosenbrock_point(n)))
    wrt = [tape.variables[v] for v in names]
    vals = evaluate(tape, env)
    reverse(tape, vals, wrt)  # builds the per-tape caches once, as any later call would find them

    # one rotation A B C A B C …: evaluation, reverse pass alone, evaluation + reverse
    clocks = (_clock(lambda: evaluate(tape, env)), _clock(lambda: reverse(tape, vals, wrt)),
              _clock(lambda: reverse(tape, evaluate(tape, env), wrt)))
    t = ([], [], [])
    for _ in range(rounds):
        for c, ts in zip(clocks, t):
            ts.append(c())
    ev_t, rev_t, grad_t = (statistics.median(ts) for ts in t)
    adj = reverse(tape, vals, wrt)
    return {"nodes": len(tape.nodes), "eval": ev_t, "reverse": rev_t,
            "reverse_over_eval": rev_t / ev_t, "grad": grad_t, "grad_over_eval": grad_t / ev_t,
            "value": vals[-1], "grad_head": [adj[i] for i in wrt[:3]]}


def hessians(sizes: str, rounds: int) -> dict:
    """Objective.hessian (forward-over-reverse: one dual pass, its tangents compressed by the
    Hessian's sparsity, 3 for this tridiagonal family) for the
    Rosenbrock family at each size, the sizes alternated round by round (A B C A B C …)."""
    from calccli.engine.objective import Objective
    from calccli.language.parse import parse

    ns = [int(s) for s in sizes.split(",")]
    objs = {n: (Objective(parse(W.rosenbrock(n)).node, {}, W.xs(n)), W.rosenbrock_point(n)) for n in ns}
    for obj, theta in objs.values():
        obj.hessian(theta)
    times = {n: [] for n in ns}
    for _ in range(rounds):
        for n in ns:
            obj, theta = objs[n]
            t0 = time.process_time()  # CPU seconds: other jobs on the machine do not count
            obj.hessian(theta)
            times[n].append(time.process_time() - t0)
    H = {n: objs[n][0].hessian(objs[n][1])[2] for n in ns}
    return {"seconds": {str(n): statistics.median(t) for n, t in times.items()},
            "growth_medians": [statistics.median(b / a for a, b in zip(times[lo], times[hi]))
                               for lo, hi in zip(ns, ns[1:])],
            "H11": {str(n): H[n][0][0] for n in ns}, "H12": {str(n): H[n][0][1] for n in ns}}


def large(terms: int) -> dict:
    """Parse + tape + value + gradient of a long sum of products of functions, once,
    as a user's single command would (the caller times the whole process); stages in CPU seconds."""
    t = {}
    text = W.big_sum(terms)
    clock = time.process_time  # CPU seconds: other jobs on the machine do not count
    t0 = clock()
    from calccli.engine.evaluate import evaluate
    from calccli.language.parse import parse
    from calccli.engine.reverse import reverse
    from calccli.engine.tape import build_tape
    t["import"] = clock() - t0
    t1 = clock()
    node = parse(text).node
    t["parse"] = clock() - t1
    t1 = clock()
    tape = build_tape(node)
    t["tape"] = clock() - t1
    names = W.xs(1000)
    env = dict(zip(names, W.big_sum_point(1000)))
    t1 = clock()
    vals = evaluate(tape, env)
    t["evaluate"] = clock() - t1
    t1 = clock()
    wrt = [tape.variables[v] for v in names if v in tape.variables]
    adj = reverse(tape, vals, wrt)
    t["reverse"] = clock() - t1
    t["total_in_process"] = clock() - t0
    return {"chars": len(text), "nodes": len(tape.nodes), "rows": len(tape.rows), "stages": t,
            "value": vals[-1], "grad_x1": adj[tape.variables["x1"]] if "x1" in tape.variables else 0.0,
            "self_maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def _scaling_case(case: str, n: int):
    """A callable doing one super-linear-prone job of size ``n`` (issue 16's cases)."""
    if case == "product":          # Simplifier.mul on x1·x2·…·xn
        from calccli.language.parse import parse
        from calccli.symbolic.simplify import simplify
        node = parse("*".join(f"x{i}" for i in range(n))).node
        return lambda: simplify(node)
    if case == "check":            # calc check on a tower x^x^…^x
        from calccli.commands.check import check_at
        text = "^".join(["x"] * n)
        return lambda: check_at(text, ["x=1.1"])
    if case == "plot":             # calc plot on a tower
        from calccli.commands.plot import plot_of
        text = "^".join(["x"] * n)
        return lambda: plot_of(text, "0.8", "1.2", width=40, height=10)
    if case == "order2":           # calc diff --order 2 of an n-factor product (refused: too long)
        from calccli.errors import CalcError
        from calccli.language.parse import parse
        from calccli.symbolic.differentiate import derivative
        node = parse("*".join(f"(x + {i})" for i in range(1, n + 1))).node

        def run():
            try:
                derivative(node, "x", 2)
            except CalcError:
                pass
        return run
    if case in ("rich", "plain"):  # calc diff --at of sin(sin(…)) n deep, rendered
        from calccli.commands.derivatives import diff_at
        from calccli.render import render_text
        result = diff_at("sin(" * n + "x" + ")" * n, ["x=0.5"])
        return lambda: render_text(result, case)
    raise SystemExit(f"unknown scaling case {case}")


def scaling(case: str, sizes: str, rounds: int) -> dict:
    """CPU seconds of one case at each size, sizes alternated round by round."""
    ns = [int(s) for s in sizes.split(",")]
    jobs = {n: _scaling_case(case, n) for n in ns}
    times = {n: [] for n in ns}
    for _ in range(rounds):
        for n in ns:
            t0 = time.process_time()
            jobs[n]()
            times[n].append(time.process_time() - t0)
    return {"seconds": {str(n): statistics.median(t) for n, t in times.items()}}


if __name__ == "__main__":
    what, *args = sys.argv[1:]
    if what == "hessians":
        print(json.dumps(hessians(args[0], int(args[1]))))
    elif what == "scaling":
        print(json.dumps(scaling(args[0], args[1], int(args[2]))))
    else:
        fn = {"rosenbrock": rosenbrock, "large": large}[what]
        print(json.dumps(fn(*map(int, args))))
