"""The reverse pass against its floor: a hand-specialised Python loop over the same tape.

    python benchmarks/bench_reverse.py [--rounds 15] [--json]

The floor is what one could write by hand for these tapes only: one branch per
operator name, partials inlined (2·x for x^2), adjoints pre-set to 0.0, no
structural zeros, no error handling. calc's ``reverse`` is generic over the
primitive table. Both run on the same tape and values, alternated A B A B, and
the ratio of medians (CPU time) is printed per workload (ns per tape row too); the two
gradients are compared, so a fast wrong pass cannot pass unnoticed.
"""
from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import workloads as W  # noqa: E402


def hand_program(tape, wrt):
    """(i, op, a, b, c) per row that depends on ``wrt``, last first: c is the
    exponent of x^c when it is a number; a binary operator whose argument a (b)
    is a constant becomes op + "_b" (op + "_a"), so no adjoint goes to constants."""
    from calccli.engine.evaluate import depends
    need = depends(tape, wrt)
    rows = []
    for i in reversed(tape.rows):
        if not need[i]:
            continue
        args = tape.args[i]
        op = tape.prims[i].name
        b = args[1] if len(args) > 1 else -1
        c = None
        if op == "pow" and tape.nodes[b].op == "num":
            op, c = "powc", float(tape.nodes[b].value)
        elif b >= 0 and not (need[args[0]] and need[b]):
            op += "_a" if need[args[0]] else "_b"
        rows.append((i, op, args[0], b, c))
    return rows


def hand_reverse(n_nodes, rows, vals):
    adj = [0.0] * n_nodes
    adj[-1] = 1.0
    cos, sin, pw = math.cos, math.sin, math.pow
    for i, op, a, b, c in rows:
        g = adj[i]
        if op == "add":
            adj[a] += g
            adj[b] += g
        elif op == "mul":
            adj[a] += g * vals[b]
            adj[b] += g * vals[a]
        elif op == "powc":
            adj[a] += g * (c * pw(vals[a], c - 1.0))
        elif op == "mul_b":
            adj[b] += g * vals[a]
        elif op == "mul_a":
            adj[a] += g * vals[b]
        elif op == "sub":
            adj[a] += g
            adj[b] -= g
        elif op == "sub_b":
            adj[b] -= g
        elif op == "add_a" or op == "sub_a":
            adj[a] += g
        elif op == "add_b":
            adj[b] += g
        elif op == "exp":
            adj[a] += g * vals[i]
        elif op == "sin":
            adj[a] += g * cos(vals[a])
        elif op == "cos":
            adj[a] += g * -sin(vals[a])
        elif op == "neg":
            adj[a] -= g
        elif op == "div":
            adj[a] += g / vals[b]
            adj[b] += g * (-vals[i] / vals[b])
        else:
            raise SystemExit(f"the hand-written loop has no branch for {op}")
    return adj


WORKLOADS = {
    "rosenbrock n=1000": lambda: (W.rosenbrock(1000), W.xs(1000), W.rosenbrock_point(1000)),
    "100k-node sum of products": lambda: (W.big_sum(11_000), W.xs(1000), W.big_sum_point(1000)),
}


def measure(name, rounds):
    from calccli.engine.evaluate import evaluate
    from calccli.engine.reverse import reverse
    from calccli.engine.tape import build_tape
    from calccli.language.parse import parse

    text, names, point = WORKLOADS[name]()
    tape = build_tape(parse(text).node)
    env = dict(zip(names, point))
    wrt = [tape.variables[v] for v in names if v in tape.variables]
    vals = evaluate(tape, env)
    rows = hand_program(tape, wrt)
    n = len(tape.nodes)
    calc_adj, hand_adj = reverse(tape, vals, wrt), hand_reverse(n, rows, vals)
    worst = max(abs(calc_adj[j] - hand_adj[j]) / max(1.0, abs(hand_adj[j])) for j in wrt)
    tc, th = [], []
    reps = max(1, 50_000 // len(tape.rows))
    clock = time.process_time  # CPU time: other jobs on the machine do not count
    for _ in range(rounds):
        t0 = clock()
        for _ in range(reps):
            reverse(tape, vals, wrt)
        t1 = clock()
        for _ in range(reps):
            hand_reverse(n, rows, vals)
        t2 = clock()
        tc.append((t1 - t0) / reps)
        th.append((t2 - t1) / reps)
    mc, mh = statistics.median(tc), statistics.median(th)
    ratios = sorted(a / b for a, b in zip(tc, th))
    return {"ratio_iqr": (ratios[len(ratios) // 4], ratios[(3 * len(ratios)) // 4]), "workload": name, "rows": len(tape.rows), "calc_s": mc, "hand_s": mh,
            "calc_ns_per_row": 1e9 * mc / len(tape.rows), "hand_ns_per_row": 1e9 * mh / len(tape.rows),
            "ratio": mc / mh, "max_rel_diff": worst}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=25)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    out = [measure(name, args.rounds) for name in WORKLOADS]
    if args.json:
        print(json.dumps(out))
        return
    for r in out:
        print(f"{r['workload']}: {r['rows']} rows, calc {r['calc_ns_per_row']:.0f} ns/row, "
              f"hand-written {r['hand_ns_per_row']:.0f} ns/row: {r['ratio']:.2f}× "
              f"(per-round ratios, quartiles {r['ratio_iqr'][0]:.2f}–{r['ratio_iqr'][1]:.2f}) "
              f"(gradients agree to {r['max_rel_diff']:.1e})")


if __name__ == "__main__":
    main()
