"""calc's benchmark suite (issue 7): one command, one table, measured in one run.

    python benchmarks/run.py            # the full run (about 3–4 minutes on 2 cores)
    python benchmarks/run.py --quick    # a fast pass (under a minute; fewer rounds, smaller batch)
    python benchmarks/run.py --only 1,3 # some items only
    python benchmarks/run.py --peer-python /path/to/venv/bin/python   # optional JAX/autograd peers
    python benchmarks/run.py --only P   # the peer table: JAX, autograd, PyTorch, SymPy (peer_table.py)

Every figure is a ratio against a peer measured in the same run: peers are
alternated A B A B … and each side's median is taken, so drift of the machine
cancels. Whole-process figures run the real `calc` console script with its
output going to a pipe. In-process figures run in a fresh interpreter each
(benchmarks/inproc.py). Results are also checked (calc's numbers against the
peer's), so a fast wrong answer cannot pass unnoticed.

Targets are the issue's; the "meets" column is information for the reader,
not a test (timings are noisy and never gate CI).
"""
from __future__ import annotations

import argparse
import json
import math
import os
import platform
import re
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import workloads as W  # noqa: E402
from harness import ENV, PY, ROOT, alternate, calc_command, fmt_s, run_process  # noqa: E402

CALC = calc_command()
ROWS: list[dict] = []
NOTES: list[str] = []


def row(item, measure, calc=None, peer=None, peer_name="", ratio=None, target="", meets=None, unit="×"):
    r = {"item": item, "measure": measure, "calc": calc, "peer": peer, "peer_name": peer_name,
         "ratio": ratio, "target": target, "meets": meets, "unit": unit}
    ROWS.append(r)
    print(f"  [{item}] {measure}: {_ratio_text(r)}", file=sys.stderr, flush=True)
    return r


def _ratio_text(r):
    v = r["ratio"]
    if v is None:
        return "—"
    if isinstance(v, str):
        return v
    return f"{v:.2f}{r['unit']}" if r["unit"] == "×" else f"{v}{r['unit']}"


def _proc_timer(cmd, stdin_path=None, check=None, env=None):
    def timed():
        p = run_process(cmd, stdin_path, env=env)
        if p.returncode != 0:
            raise SystemExit(f"benchmark command failed ({p.returncode}): {' '.join(cmd)[:200]}\n"
                             f"{p.stderr.decode(errors='replace')[-2000:]}")
        if check is not None:
            check(p)
        return p.seconds
    return timed


def _rel(a, b):
    return abs(a - b) / max(1.0, abs(a), abs(b))


def calc_has(command: str) -> bool:
    """Does this checkout's `calc` implement COMMAND yet? (grad/hessian land separately.)"""
    p = run_process(CALC + [command, "x^2*y", "--at", "x=1,y=2", "--format", "json"])
    try:
        return p.returncode == 0 and "error" not in json.loads(p.stdout.decode().splitlines()[0])
    except (ValueError, IndexError):
        return False


# ---------------------------------------------------------------- 1. start-up

def bench_startup(rounds, full=True):
    cmd = CALC + ["diff", W.SEED_EXAMPLE, "--at", "1.0"]

    def check(p):
        if b"5.983082595908695" not in p.stdout:
            raise SystemExit("calc diff printed the wrong derivative:\n" + p.stdout.decode())

    calc = _proc_timer(cmd, check=check)
    imports = _proc_timer([PY, "-c", "import typer, lark, rich.console"])
    sympy = _proc_timer([PY, "-c", W.SYMPY_ONE_LINER],
                        check=lambda p: p.stdout.split()[1].startswith(b"5.98308259590"))
    a = alternate(calc, imports, rounds)
    row("1", "cold start `calc diff <notes example> --at 1.0` vs `python -c \"import typer, lark, rich.console\"`",
        a.ma, a.mb, "imports", a.ratio, "≤ 1.2×", a.ratio <= 1.2)
    b = alternate(calc, sympy, max(5, rounds // 2))
    row("1", "cold start `calc diff …` vs the SymPy one-liner computing the same number",
        b.ma, b.mb, "SymPy", b.ratio, "≤ 0.5×", b.ratio <= 0.5)
    NOTES.append(f"1: noise (IQR/median of per-round ratios): {a.spread:.2f} and {b.spread:.2f}.")
    if full:
        nopyc = dict(ENV, PYTHONDONTWRITEBYTECODE="1")
        nopyc.pop("PYTHONPYCACHEPREFIX", None)
        c = alternate(_proc_timer(cmd, env=nopyc),
                      _proc_timer([PY, "-c", "import typer, lark, rich.console"], env=nopyc), max(5, rounds // 2))
        row("1", "the same pair with PYTHONDONTWRITEBYTECODE=1 (this workspace's setting; the editable "
            "install's modules are then compiled at every start)", c.ma, c.mb, "imports", c.ratio, "(information)")
    heavy = _imported_modules()
    NOTES.append(f"1: `calc diff` imports {heavy['count']} modules; of the heavy ones "
                 f"{', '.join(heavy['heavy']) or 'none'} "
                 f"(checked: numpy, sympy, prompt_toolkit, plotext, scipy, rich.table, rich.markdown, pygments).")


def _imported_modules():
    code = ("import sys, runpy; sys.argv = ['calc', 'diff', %r, '--at', '1.0'];\n"
            "import io, contextlib\nbuf = io.StringIO()\n"
            "try:\n    with contextlib.redirect_stdout(buf):\n        runpy.run_module('calccli', run_name='__main__')\n"
            "except SystemExit:\n    pass\n"
            "print(' '.join(sorted(sys.modules)))") % W.SEED_EXAMPLE
    mods = subprocess.run([PY, "-c", code], capture_output=True, text=True, env=ENV).stdout.split()
    watch = ("numpy", "sympy", "prompt_toolkit", "plotext", "scipy", "rich.table", "rich.markdown", "pygments")
    return {"count": len(mods), "heavy": [m for m in watch if m in mods]}


# ---------------------------------------------------------------- 2. batch

def bench_batch(rounds, nlines):
    lines = W.random_lines(nlines)
    fd, path = tempfile.mkstemp(prefix="calc-bench-lines-", suffix=".txt")
    with os.fdopen(fd, "w") as f:
        f.write("\n".join(lines) + "\n")
    try:
        calc_cmd = CALC + ["diff", "-", "--at", f"x={W.BATCH_POINT}", "--format", "json"]
        sympy_cmd = [PY, str(HERE / "peers" / "sympy_batch.py"), str(W.BATCH_POINT)]
        _check_batch(run_process(calc_cmd, path), run_process(sympy_cmd, path), len(lines))
        a = alternate(_proc_timer(calc_cmd, path), _proc_timer(sympy_cmd, path), rounds, warmup=0)
        row("2", f"batch: {len(lines)} random expressions (median {_median_nodes(lines)} nodes) through "
            f"`calc diff - --at x={W.BATCH_POINT} --format json` vs a SymPy parse+diff+evalf loop, "
            "whole process vs whole process",
            a.ma, a.mb, "SymPy", a.ratio, "≤ 0.067× (≥ 15× faster)", a.ratio <= 1 / 15)
        NOTES.append(f"2: calc is {1 / a.ratio:.1f}× faster than SymPy; per line {fmt_s(a.ma / len(lines))} "
                     f"(including start-up) vs {fmt_s(a.mb / len(lines))}.")
    finally:
        os.unlink(path)


def _median_nodes(lines):
    from calccli.language.parse import parse
    from calccli.engine.tape import build_tape
    sizes = sorted(len(build_tape(parse(t).node).nodes) for t in lines)
    return sizes[len(sizes) // 2]


def _check_batch(pc, ps, n):
    if pc.returncode != 0:
        raise SystemExit("calc batch failed:\n" + pc.stderr.decode()[-2000:])
    cl = [json.loads(s) for s in pc.stdout.decode().splitlines()]
    sl = [json.loads(s) for s in ps.stdout.decode().splitlines()]
    assert len(cl) == len(sl) == n, (len(cl), len(sl), n)
    bad = [c["expression"] for c, s in zip(cl, sl)
           if _rel(c["value"], s["value"]) > 1e-9 or _rel(c["derivative"], s["derivative"]) > 1e-8]
    NOTES.append(f"2: calc and SymPy agree on value and derivative for {n - len(bad)}/{n} lines"
                 + (f"; differing: {bad[:3]}" if bad else "."))


# ---------------------------------------------------------------- 3. Rosenbrock

def bench_rosenbrock(rounds, inproc_rounds, peer_python, baseline=None):
    n = 1000
    text = W.rosenbrock(n)
    at = W.at_option(W.xs(n), W.rosenbrock_point(n))
    ip = _inproc("rosenbrock", n, inproc_rounds)
    if calc_has("grad"):
        grad_cmd = CALC + ["grad", text, "--at", at, "--format", "json"]
        eval_cmd = CALC + ["eval", text, "--at", at, "--format", "json"]
        g = json.loads(run_process(grad_cmd).stdout)
        ok = all(_rel(a, b) < 1e-12 for a, b in zip(g["gradient"], ip["grad_head"]))
        NOTES.append(f"3: `calc grad` gradient {'matches' if ok else 'DIFFERS FROM'} the in-process reverse pass.")
        a = alternate(_proc_timer(grad_cmd), _proc_timer(eval_cmd), rounds)
        row("3", f"Rosenbrock n={n} ({ip['nodes']} nodes): `calc grad` vs `calc eval`, whole process",
            a.ma, a.mb, "calc eval", a.ratio, "≤ 2×", a.ratio <= 2)
        NOTES.append(f"3: both whole processes are mostly start-up and parsing the {len(text):,}-character "
                     f"expression; the gradient itself adds {fmt_s(ip['grad'] - ip['eval'])} in process "
                     f"(noise of the per-round ratios: {a.spread:.2f}).")
    else:
        row("3", f"Rosenbrock n={n}: `calc grad` vs `calc eval`, whole process",
            ratio="pending (`calc grad` not in this checkout yet)", target="≤ 2×")
    if baseline:
        import statistics
        base_env, now, before = _baseline_env(baseline), [ip["reverse"]], []
        for k in range(3):
            before.append(_inproc_in(base_env, "rosenbrock", n, inproc_rounds)["reverse"])
            if k < 2:
                now.append(_inproc("rosenbrock", n, inproc_rounds)["reverse"])
        a, b = statistics.median(now), statistics.median(before)
        row("3", f"Rosenbrock n={n}, in process: reverse pass, this tree vs baseline {baseline} "
            "(processes alternated)", a, b, f"baseline {baseline}", a / b, "(after/before)")
    r = ip["reverse_over_eval"]
    row("3", f"Rosenbrock n={n}, in process: reverse pass alone vs one evaluation (same tape; "
        "evaluation, reverse, both rotated)",
        ip["reverse"], ip["eval"], "evaluate", r, "≤ 4×", r <= 4)
    row("3", f"Rosenbrock n={n}, in process: gradient (evaluation + reverse) vs one evaluation",
        ip["grad"], ip["eval"], "evaluate", ip["grad_over_eval"], "(information)")
    for p in _peers(peer_python, n, 51, []):
        row("3 opt.", f"optional peer {p['lib']}{' (jit, after compiling)' if p['lib'] == 'jax' else ''}: "
            f"its gradient vs its evaluation, n={n}",
            p["grad"], p["eval"], p["lib"], p["grad_over_eval"], "(information)")
        row("3 opt.", f"calc in-process gradient vs {p['lib']} gradient, n={n}",
            ip["grad"], p["grad"], p["lib"], ip["grad"] / p["grad"], "(information)")
        if p["lib"] == "jax":
            NOTES.append(f"3/4 opt.: JAX calls of {fmt_s(p['eval'])}–{fmt_s(p['grad'])} are dispatch overhead of "
                         f"compiled XLA code (first call, compiling: {fmt_s(p['first_call'])}); its ratios are "
                         "noise at these sizes, shown only as context.")


def _inproc(*args):
    p = subprocess.run([PY, str(HERE / "inproc.py"), *map(str, args)], capture_output=True, text=True, env=ENV)
    if p.returncode != 0:
        raise SystemExit(f"inproc {args} failed:\n{p.stderr[-3000:]}")
    return json.loads(p.stdout)


_PEER_CACHE: dict = {}


def _peers(peer_python, n, rounds, hn):
    out = []
    for lib in ("jax", "autograd"):
        key = (lib, n, rounds, tuple(hn))
        if key not in _PEER_CACHE:
            p = subprocess.run([peer_python, str(HERE / "peers" / "ad_peer.py"), lib, str(n), str(rounds),
                                *map(str, hn)], capture_output=True, text=True, env=ENV)
            _PEER_CACHE[key] = json.loads(p.stdout) if p.returncode == 0 else None
            if p.returncode != 0 and not any(lib in s for s in NOTES):
                NOTES.append(f"optional peer {lib}: skipped (not installed for {peer_python}; "
                             "see benchmarks/README.md to add it).")
        if _PEER_CACHE[key] is not None:
            out.append(_PEER_CACHE[key])
    return out


# ---------------------------------------------------------------- 4. Hessians

def bench_hessian(rounds, peer_python):
    sizes = (20, 40, 80)
    h = _inproc("hessians", ",".join(map(str, sizes)), rounds)
    times = {n: h["seconds"][str(n)] for n in sizes}
    for lo, hi in zip(sizes, sizes[1:]):
        g = times[hi] / times[lo]
        row("4", f"Hessian of Rosenbrock in process (`Objective.hessian`, forward-over-reverse), n={lo}→{hi}: "
            "time growth vs entry growth (4×)",
            times[hi], times[lo], f"n={lo}", g, "≤ 4.5×", g <= 4.5)
    if calc_has("hessian"):
        cmds = {n: _proc_timer(CALC + ["hessian", W.rosenbrock(n), "--at",
                                       W.at_option(W.xs(n), W.rosenbrock_point(n)), "--format", "json"])
                for n in sizes}
        for lo, hi in zip(sizes, sizes[1:]):
            a = alternate(cmds[hi], cmds[lo], max(3, rounds))
            row("4", f"`calc hessian` whole process (start-up included), n={lo}→{hi}",
                a.ma, a.mb, f"n={lo}", a.ratio, "(information)")
    else:
        row("4", "`calc hessian` through the CLI", ratio="pending (`calc hessian` not in this checkout yet)")
    NOTES.append("4: in-process Hessian times " + ", ".join(f"n={n}: {fmt_s(t)}" for n, t in times.items())
                 + "; the sizes alternate round by round in one process.")
    for p in _peers(peer_python, 1000, 51, list(sizes)):
        ph = {int(k): v for k, v in p["hessian"].items()}
        for lo, hi in zip(sizes, sizes[1:]):
            row("4 opt.", f"optional peer {p['lib']}: Hessian n={lo}→{hi} growth",
                ph[hi], ph[lo], f"n={lo}", ph[hi] / ph[lo], "(information)")


def _median_proc(cmd, rounds):
    t = _proc_timer(cmd)
    t()
    ts = sorted(t() for _ in range(rounds))
    return ts[len(ts) // 2]


# ---------------------------------------------------------------- 5. large and deep

def bench_large(runs, terms):
    res = []
    for _ in range(runs):
        p = run_process([PY, str(HERE / "inproc.py"), "large", str(terms)])
        if p.returncode != 0:
            raise SystemExit("large expression failed:\n" + p.stderr.decode()[-3000:])
        res.append((p.seconds, p.maxrss_mb, json.loads(p.stdout), p.cpu))
    res.sort(key=lambda r: r[0])
    wall, rss, info, cpu = res[len(res) // 2]
    rss = max(r[1] for r in res)
    st = info["stages"]
    row("5", f"{info['nodes']:,}-node expression ({info['chars']:,} characters, a sum of products of functions "
        "in 1000 variables): parse + gradient, whole fresh process (library)",
        wall, None, "", f"{fmt_s(wall)} (CPU {fmt_s(cpu)}), {rss:.0f} MB peak",
        "≤ 3 s, ≤ 300 MB", wall <= 3 and rss <= 300, unit="")
    NOTES.append("5: stages in process: " + ", ".join(f"{k} {fmt_s(v)}" for k, v in st.items()) + ".")
    if calc_has("grad"):
        text = W.big_sum(terms)
        fd, path = tempfile.mkstemp(prefix="calc-bench-big-", suffix=".txt")
        with os.fdopen(fd, "w") as f:
            f.write(text + "\n")
        try:
            at = W.at_option(W.xs(1000), W.big_sum_point(1000))
            p = run_process(CALC + ["grad", "-", "--at", at, "--format", "json"], path)
            ok = p.returncode == 0 and _rel(json.loads(p.stdout)["value"], info["value"]) < 1e-9
            row("5", "the same through `calc grad - --at … --format json < file` (whole process)",
                p.seconds, None, "", f"{fmt_s(p.seconds)} (CPU {fmt_s(p.cpu)}), {p.maxrss_mb:.0f} MB peak"
                + ("" if ok else f" (FAILED: exit {p.returncode})"),
                "≤ 3 s, ≤ 300 MB", ok and p.seconds <= 3 and p.maxrss_mb <= 300, unit="")
        finally:
            os.unlink(path)
    depth = 5000
    p = run_process(CALC + ["diff", W.nested_sin(depth), "--at", "0.5", "--format", "json"])
    ok, got, want = False, None, _nested_sin_derivative(depth, 0.5)
    if p.returncode == 0:
        got = json.loads(p.stdout)["derivative"]
        ok = _rel(got, want) < 1e-12
    row("5", f"`calc diff \"sin(sin(…(x)…))\" --at 0.5`, nested {depth:,} deep",
        p.seconds, None, "", ("works" if ok else f"FAILS (exit {p.returncode})") + f", {fmt_s(p.seconds)}",
        "works", ok, unit="")


def _nested_sin_derivative(depth, x):
    d = 1.0
    for _ in range(depth):
        d *= math.cos(x)
        x = math.sin(x)
    return d


# ---------------------------------------------------------------- 6. symbolic length

def bench_symbolic(quick):
    """Item 6 is measured by bench_symbolic_length.py (the symbolic engineer's); run it if present."""
    script = HERE / "bench_symbolic_length.py"
    measure = "symbolic derivative length vs SymPy's (median ratio)"
    if not script.exists():
        row("6", measure, ratio="pending", target="≤ 1.0")
        return
    text = script.read_text()
    cmd = [PY, str(script)] + (["--n", "100"] if quick and "--n" in text else [])
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=3600, env=ENV)
    out = p.stdout + p.stderr
    ratio = re.search(r"ratio of medians, calc / SymPy \(same notation\):\s*([0-9.]+)", out)
    per = re.search(r"median of per-expression ratios:\s*([0-9.]+)", out)
    if p.returncode != 0 or ratio is None:
        generic = re.findall(r"median[^0-9\n]*?([0-9]+\.[0-9]+)", out, flags=re.I)
        if p.returncode == 0 and generic:
            v = float(generic[-1])
            row("6", measure + " (from bench_symbolic_length.py)", ratio=v, target="≤ 1.0", meets=v <= 1.0)
            return
        row("6", measure, ratio=f"pending (bench_symbolic_length.py: exit {p.returncode})", target="≤ 1.0")
        NOTES.append("6: bench_symbolic_length.py said: " + " | ".join(out.strip().splitlines()[-3:]))
        return
    v = float(ratio.group(1))
    n = re.search(r"^(\d+) random expressions", out, flags=re.M)
    row("6", f"symbolic derivative length vs SymPy's diff: ratio of median lengths, same notation "
        f"({n.group(1) if n else '?'} random expressions, from bench_symbolic_length.py)",
        ratio=v, target="≤ 1.0", meets=v <= 1.0)
    if per:
        NOTES.append(f"6: median of the per-expression length ratios: {float(per.group(1)):.3f}.")
    for pat in (r"derivatives that disagree with SymPy numerically:\s*(\d+)", r"time: calc [^\n]*"):
        m = re.search(pat, out)
        if m:
            NOTES.append("6: " + m.group(0).strip() + ".")


# ---------------------------------------------------------------- 7. symbolic and rendering scaling

SCALING = [  # case, what, sizes (quick run: the first two)
    ("product", "`simplify(x1·x2·…·xn)` (Simplifier.mul)", (2000, 4000, 8000)),
    ("check", "`calc check \"x^x^…^x\" --at 1.1`, an n-level tower", (250, 500, 1000)),
    ("plot", "`calc plot \"x^x^…^x\" --from 0.8 --to 1.2`, an n-level tower", (50, 100, 200)),
    ("order2", "`calc diff \"(x + 1)(x + 2)…(x + n)\" --order 2` (refused: too long to print)", (50, 100, 200)),
    ("rich", "rich view of `calc diff \"sin(sin(…))\" --at 0.5`, n deep", (2500, 5000, 10000)),
    ("plain", "plain view of the same", (2500, 5000, 10000)),
]


def _baseline_env(rev):
    """An environment importing calccli from a snapshot of commit ``rev`` (for before/after rows)."""
    d = tempfile.mkdtemp(prefix="calc-bench-base-")
    archive = subprocess.run(["git", "archive", rev, "calccli", "grammar"], cwd=ROOT,
                             capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", d], input=archive, check=True)
    return dict(ENV, PYTHONPATH=d)


def _inproc_in(env, *args):
    p = subprocess.run([PY, str(HERE / "inproc.py"), *map(str, args)], capture_output=True, text=True, env=env)
    if p.returncode != 0:
        raise SystemExit(f"inproc {args} failed:\n{p.stderr[-3000:]}")
    return json.loads(p.stdout)


def bench_scaling(rounds, quick, baseline):
    """Growth of CPU time per doubling of the input (issue 16: ≤ 2.2×). With --baseline REV,
    the same jobs on a snapshot of REV, processes alternated A B A B (before/after in one run)."""
    import statistics
    trees = [("this tree", ENV)] + ([(f"baseline {baseline}", _baseline_env(baseline))] if baseline else [])
    medians = {}
    for case, what, sizes in SCALING:
        sizes = sizes[:2] if quick else sizes
        got = {name: {n: [] for n in sizes} for name, _ in trees}
        for _ in range(rounds):
            for name, env in trees:
                r = _inproc_in(env, "scaling", case, ",".join(map(str, sizes)), 1)
                for n in sizes:
                    got[name][n].append(r["seconds"][str(n)])
        med = {name: {n: statistics.median(v) for n, v in per.items()} for name, per in got.items()}
        medians[case] = med
        for name, _ in trees:
            for lo, hi in zip(sizes, sizes[1:]):
                g = med[name][hi] / med[name][lo]
                row("7", f"{what}: n={lo}→{hi}, CPU time growth ({name})", med[name][hi], med[name][lo],
                    f"n={lo}", g, "≤ 2.2×" if name == "this tree" else "(before)", g <= 2.2 if name == "this tree" else None)
        if baseline:
            b = f"baseline {baseline}"
            hi = sizes[-1]
            row("7", f"{what}, n={hi}: this tree vs {b} (CPU)", med["this tree"][hi], med[b][hi], b,
                med["this tree"][hi] / med[b][hi], "(after/before)")
    if "rich" in medians and "plain" in medians:
        for name, _ in trees:
            hi = max(medians["rich"][name])
            row("7", f"rich vs plain view of the {hi:,}-deep trace ({name})", medians["rich"][name][hi],
                medians["plain"][name][hi], "plain", medians["rich"][name][hi] / medians["plain"][name][hi],
                "(information)")
    NOTES.append(f"7: CPU seconds (process_time) in a fresh process per tree and round, medians of {rounds} "
                 "rounds; the sizes alternate inside each process" + (", the trees alternate A B A B." if baseline else "."))


# ---------------------------------------------------------------- table

# ---------------------------------------------------------------- 8. fit: iris logistic regression

IRIS_FEATURES = "sepal_length,sepal_width,petal_length,petal_width"
IRIS_LOSS = "-(y log(yhat) + (1-y) log(1-yhat))"


def _iris_numpy(epochs, lr):
    """The same batch gradient descent, vectorised numpy: the answer check and the peer."""
    import csv
    import numpy as np
    with open(ROOT / "examples" / "iris2.csv") as f:
        rows = list(csv.DictReader(f))
    X = np.array([[float(r[c]) for c in IRIS_FEATURES.split(",")] for r in rows])
    y = np.array([float(r["y"]) for r in rows])
    w, b = np.zeros(4), 0.0
    for _ in range(epochs):
        r = 1 / (1 + np.exp(-(X @ w + b))) - y
        w, b = w - lr / len(y) * (X.T @ r), b - lr / len(y) * r.sum()
    return list(w) + [b]


def bench_fit(rounds, epochs=1000, lr=0.05):
    cmd = CALC + ["fit", "sigmoid(w^T x + b)", "--data", str(ROOT / "examples" / "iris2.csv"), "--target", "y",
                  "--features", "x=" + IRIS_FEATURES, "--loss", IRIS_LOSS, "--epochs", str(epochs),
                  "--lr", str(lr), "--format", "json"]
    want = _iris_numpy(epochs, lr)

    def check(p):
        got = list(json.loads(p.stdout)["params"].values())
        if max(_rel(a, b) for a, b in zip(got, want)) > 1e-9:
            raise SystemExit(f"fit: calc's parameters {got} differ from numpy's {want}")
    t = _proc_timer(cmd, check=check)
    times = sorted(t() for _ in range(rounds))
    wall = times[len(times) // 2]
    import time
    t0 = time.perf_counter()
    _iris_numpy(epochs, lr)
    peer = time.perf_counter() - t0
    row("8", f"`calc fit \"sigmoid(w^T x + b)\" --data examples/iris2.csv --features x=… --epochs {epochs}` "
        "(batch, 100 rows × 4 features: 100,000 per-sample gradients), whole process; answer checked "
        "against numpy", wall, peer, "the same descent in vectorised numpy (in process)",
        f"{fmt_s(wall)} ({wall / peer:.0f}× numpy)", "context (no target)", None, unit="")


def table_markdown() -> str:
    out = ["| # | measure | calc | peer | ratio | target | meets |", "|---|---|---|---|---|---|---|"]
    for r in ROWS:
        calc = fmt_s(r["calc"]) if isinstance(r["calc"], float) else "—"
        peer = (f"{fmt_s(r['peer'])} ({r['peer_name']})" if isinstance(r["peer"], float) else "—")
        meets = {True: "yes", False: "**no**", None: ""}[r["meets"]]
        out.append(f"| {r['item']} | {r['measure']} | {calc} | {peer} | {_ratio_text(r)} | {r['target']} | {meets} |")
    return "\n".join(out)


HEAD_ONLY = False


def tree_state() -> str:
    """The commit measured, and which engine files differ from it (work in progress is measured too)."""
    def git(*a):
        r = subprocess.run(["git", *a], cwd=ROOT, capture_output=True, text=True)
        return r.stdout.rstrip("\n") if r.returncode == 0 else ""
    head = git("rev-parse", "--short", "HEAD") or "?"
    if HEAD_ONLY:
        return f"commit {head} (a snapshot of it, with --head)"
    dirty = [line[3:] for line in git("status", "--porcelain", "--", "calccli", "grammar").splitlines()]
    return f"commit {head}" + (f" + uncommitted changes in {', '.join(dirty)}" if dirty else "")


def machine() -> str:
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    except (OSError, StopIteration):
        cpu = platform.processor() or "?"
    import lark
    import sympy
    return (f"Python {platform.python_version()}, {platform.system()} {platform.machine()}, {cpu}, "
            f"{os.cpu_count()} cores; SymPy {sympy.__version__}, Lark {lark.__version__}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="fewer rounds and a smaller batch (under a minute)")
    ap.add_argument("--only", default="1,2,3,4,5,6,7,8", help="comma-separated items, e.g. 1,3; P: the peer "
                    "table (JAX, autograd, PyTorch, SymPy in their own environments, see peer_table.py)")
    ap.add_argument("--baseline", metavar="REV",
                    help="items 3 and 7 also on a snapshot of commit REV (before/after rows in one run)")
    ap.add_argument("--peer-python", default=os.environ.get("CALC_BENCH_PEER_PYTHON", PY),
                    help="a Python with jax and/or autograd for the optional peers of items 3 and 4 "
                         "(default: $CALC_BENCH_PEER_PYTHON, else this Python)")
    ap.add_argument("--json", metavar="FILE", help="also write the rows as JSON")
    ap.add_argument("--head", action="store_true",
                    help="measure a snapshot of the last commit (git archive HEAD) instead of the working "
                         "tree, e.g. while others have work in progress in calccli/")
    args = ap.parse_args(argv)
    snapshot = None
    if args.head:
        snapshot = tempfile.TemporaryDirectory(prefix="calc-bench-head-")
        archive = subprocess.run(["git", "archive", "HEAD", "calccli", "grammar"], cwd=ROOT,
                                 capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", snapshot.name], input=archive, check=True)
        ENV["PYTHONPATH"] = snapshot.name + (os.pathsep + ENV["PYTHONPATH"] if ENV.get("PYTHONPATH") else "")
        sys.path.insert(0, snapshot.name)
        global HEAD_ONLY
        HEAD_ONLY = True
    only = {s.strip() for s in args.only.split(",")}
    q = args.quick
    print(f"calc benchmarks ({'quick' if q else 'full'} run), `{' '.join(Path(c).name for c in CALC)}` "
          f"from {ROOT}", file=sys.stderr)
    load0 = os.getloadavg()
    if "1" in only:
        bench_startup(7 if q else 21, full=not q)
    if "2" in only:
        bench_batch(2 if q else 5, 100 if q else 300)
    if "3" in only:
        bench_rosenbrock(3 if q else 9, 21 if q else 61, args.peer_python, args.baseline)
    if "4" in only:
        bench_hessian(3 if q else 7, args.peer_python)
    if "5" in only:
        bench_large(1 if q else 3, 8600)
    if "6" in only:
        bench_symbolic(q)
    if "7" in only:
        bench_scaling(1 if q else 3, q, args.baseline)
    if "8" in only:
        bench_fit(1 if q else 3)
    if "P" in only:
        import peer_table
        peer_table.run(row, NOTES, q)
    load1 = os.getloadavg()
    NOTES.append(f"load average (1 min) at the start and end of the run: {load0[0]:.1f}, {load1[0]:.1f} "
                 f"on {os.cpu_count()} cores: absolute times (item 5) move with it; ratios of "
                 "alternated peers much less.")
    print()
    print(f"calc benchmarks — {'quick' if q else 'full'} run; {machine()}")
    print(f"measured: {tree_state()}")
    print()
    print(table_markdown())
    print()
    for n in NOTES:
        print(f"- {n}")
    if args.json:
        Path(args.json).write_text(json.dumps({"rows": ROWS, "notes": NOTES, "machine": machine(),
                                               "tree": tree_state()}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
