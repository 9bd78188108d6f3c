"""Where the benchmarked time goes: cProfile over the same workloads as run.py.

    python benchmarks/profile_hotspots.py                 # all workloads, top 15 by own time
    python benchmarks/profile_hotspots.py batch large -n 25
    python benchmarks/profile_hotspots.py --importtime     # `python -X importtime` of the scalar diff path
    python benchmarks/profile_hotspots.py --phases         # a batch line's CPU time by stage, no profiler

Workloads: batch (the batch lines through the same library calls and JSON
rendering as `calc diff - --format json`), rosenbrock (evaluate and reverse on
the n=1000 tape), hessian (Objective.hessian, n=80), large (parse + tape +
gradient of the 100,000-node sum), startup (a whole `calc diff` run, imports
included). Each runs in a fresh interpreter.
"""
from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import workloads as W  # noqa: E402


def w_batch():
    from calccli.commands.derivatives import diff_at
    from calccli.render.json import dumps
    lines = W.random_lines(300)
    at = [f"x={W.BATCH_POINT}"]

    def go():
        for t in lines:
            dumps(diff_at(t, at))
    return go


def w_rosenbrock():
    from calccli.engine.evaluate import evaluate
    from calccli.language.parse import parse
    from calccli.engine.reverse import reverse
    from calccli.engine.tape import build_tape
    n = 1000
    tape = build_tape(parse(W.rosenbrock(n)).node)
    env = dict(zip(W.xs(n), W.rosenbrock_point(n)))
    wrt = [tape.variables[v] for v in W.xs(n)]

    def go():
        for _ in range(50):
            reverse(tape, evaluate(tape, env), wrt)
    return go


def w_hessian():
    from calccli.engine.objective import Objective
    from calccli.language.parse import parse
    n = 80
    obj = Objective(parse(W.rosenbrock(n)).node, {}, W.xs(n))
    theta = W.rosenbrock_point(n)

    def go():
        for _ in range(5):
            obj.hessian(theta)
    return go


def w_large():
    text = W.big_sum(8600)
    env = dict(zip(W.xs(1000), W.big_sum_point(1000)))

    def go():
        from calccli.engine.evaluate import evaluate
        from calccli.language.parse import parse
        from calccli.engine.reverse import reverse
        from calccli.engine.tape import build_tape
        tape = build_tape(parse(text).node)
        vals = evaluate(tape, env)
        reverse(tape, vals, [tape.variables[v] for v in env if v in tape.variables])
    return go


def w_startup():
    def go():
        import contextlib
        sys.argv = ["calc", "diff", W.SEED_EXAMPLE, "--at", "1.0"]
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                from calccli.app.cli import main
                main()
        except SystemExit:
            pass
    return go


WORKLOADS = {"batch": w_batch, "rosenbrock": w_rosenbrock, "hessian": w_hessian, "large": w_large,
             "startup": w_startup}


def profile_one(name: str, top: int, sort: str) -> None:
    go = WORKLOADS[name]()
    pr = cProfile.Profile()
    pr.enable()
    go()
    pr.disable()
    s = io.StringIO()
    st = pstats.Stats(pr, stream=s)
    st.strip_dirs().sort_stats(sort).print_stats(top)
    print(f"==== {name} (sorted by {sort}) ====")
    print("\n".join(s.getvalue().strip().splitlines()[2:]))


def importtime() -> None:
    """Self and cumulative import times of the scalar `calc diff` path, heaviest first."""
    from harness import ENV, PY
    cmd = [PY, "-X", "importtime", "-m", "calccli", "diff", W.SEED_EXAMPLE, "--at", "1.0"]
    subprocess.run(cmd, capture_output=True, env=ENV)  # write .pyc first
    err = subprocess.run(cmd, capture_output=True, text=True, env=ENV).stderr
    rows = []
    for line in err.splitlines():
        if line.startswith("import time:") and "self [us]" not in line:
            self_us, cum_us, name = line[len("import time:"):].split("|")
            rows.append((int(cum_us), int(self_us), name.rstrip()))
    print(f"{'cumulative':>10} {'self':>8}  module (µs)")
    for cum, own, name in sorted(rows, reverse=True)[:30]:
        print(f"{cum:>10} {own:>8}  {name}")
    mods = {r[2].strip() for r in rows}
    for heavy in ("numpy", "sympy", "prompt_toolkit", "plotext", "scipy", "rich", "pygments"):
        print(f"{heavy}: {'IMPORTED' if heavy in mods else 'not imported'}")


def phases(n: int = 1000, rounds: int = 3) -> None:
    """CPU µs per batch line in each stage of `calc diff - --format json` (the peer table's
    1,000 lines), the stages timed separately in process: the best of ``rounds`` passes."""
    import time
    from calccli.app.output import render
    from calccli.commands.derivatives import diff_at
    from calccli.engine.evaluate import depends, evaluate, ops_for
    from calccli.engine.reverse import reverse
    from calccli.engine.tape import build_tape
    from calccli.explain.steps import reverse_steps, trace_rows
    from calccli.language.parse import parse
    from calccli.language.points import resolve
    lines = W.random_lines(n)
    at = {"x": W.BATCH_POINT}
    best: dict[str, float] = {}
    for _ in range(rounds):
        spent: dict[str, float] = {}

        def timed(stage, fn):
            t = time.process_time()
            out = fn()
            spent[stage] = spent.get(stage, 0.0) + time.process_time() - t
            return out
        for text in lines:
            parsed = timed("parse", lambda: parse(text))
            prob = timed("point", lambda: resolve(parsed.node, at, None, None, parsed=parsed))
            tape = timed("tape", lambda: build_tape(parsed.node))
            ops = ops_for(tape, prob.env)
            vals = timed("evaluate", lambda: evaluate(tape, prob.env, ops))
            xi = tape.variables.get("x")
            wrt = [] if xi is None else [xi]
            if wrt:
                record: list = []
                adj = timed("reverse", lambda: reverse(tape, vals, wrt, ops, record=record))
                timed("steps", lambda: reverse_steps(tape, record, adj, wrt))
            timed("trace", lambda: trace_rows(tape, vals, depends(tape, wrt)))
            result = timed("diff_at (all of the above)", lambda: diff_at(text, at))
            timed("JSON", lambda: render(result, "json"))
        for k, v in spent.items():
            best[k] = min(best.get(k, v), v)
    for k, v in best.items():
        print(f"{k:>28}: {v / n * 1e6:7.1f} µs a line")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("workloads", nargs="*", default=[], help=", ".join(WORKLOADS))
    ap.add_argument("-n", type=int, default=15, help="rows per profile")
    ap.add_argument("--sort", default="tottime", help="pstats sort key (tottime, cumulative, …)")
    ap.add_argument("--importtime", action="store_true")
    ap.add_argument("--phases", action="store_true", help="a batch line's time by stage")
    args = ap.parse_args(argv)
    if args.importtime:
        importtime()
        return
    if args.phases:
        phases()
        return
    names = args.workloads or list(WORKLOADS)
    if len(names) == 1:
        profile_one(names[0], args.n, args.sort)
        return
    for name in names:  # a fresh interpreter each
        subprocess.run([sys.executable, __file__, name, "-n", str(args.n), "--sort", args.sort])


if __name__ == "__main__":
    main()
