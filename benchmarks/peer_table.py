"""Item P of benchmarks/run.py: calc against JAX, HIPS autograd, PyTorch and SymPy.

    python benchmarks/run.py --only P          # the peer table alone (about 10–20 minutes)

The optional peers live in their own virtual environments made by
peer_envs.py under ~/.cache/calc-bench/ (never dependencies of calc); a peer
that cannot be installed is skipped with the reason. Every figure is a ratio
calc / peer of medians of alternated runs (A B A B …); whole-process rows run
both sides as fresh processes (wall time), in-process rows time both sides in
CPU seconds (process_time: JAX's worker threads count too) after the first call (JAX's jit compile is done then, and reported
apart, as a user who calls a compiled function again would see it).
Answers are compared with calc's, so a fast wrong peer (or calc) shows.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import peer_envs  # noqa: E402
import workloads as W  # noqa: E402
from harness import ENV, PY, alternate, calc_command, fmt_s, run_process  # noqa: E402

CALC = calc_command()
TASKS = str(HERE / "peers" / "peer_tasks.py")
LIBS = ("autograd", "jax", "jax-jit", "torch")
ENVS = {"autograd": "autograd", "jax": "jax", "jax-jit": "jax", "torch": "torch"}


def _rel(a, b):
    return abs(a - b) / max(1.0, abs(a), abs(b))


class Table:
    def __init__(self, row, notes):
        self.row, self.notes = row, notes
        self.py: dict[str, str] = {}
        for name in peer_envs.PEERS:
            py, why = peer_envs.ensure(name)
            if py:
                self.py[name] = str(py)
            else:
                notes.append(f"P: {why}: its rows are skipped.")

    def libs(self, *only):
        return [lib for lib in (only or LIBS) if ENVS[lib] in self.py]

    def peer(self, lib, *args):
        return [self.py[ENVS[lib]], TASKS, lib, *map(str, args)]

    def proc(self, cmd, stdin=None, check=None):
        def timed():
            p = run_process(cmd, stdin)
            if p.returncode != 0:
                raise RuntimeError(f"{' '.join(cmd)[:120]} failed: {p.stderr.decode(errors='replace')[-600:]}")
            if check:
                check(p)
            return p.seconds
        return timed

    def inproc(self, *args):
        p = subprocess.run([PY, str(HERE / "inproc.py"), *map(str, args)], capture_output=True, text=True, env=ENV)
        if p.returncode != 0:
            raise RuntimeError(p.stderr[-2000:])
        return json.loads(p.stdout)

    def json_of(self, cmd, stdin=None):
        p = run_process(cmd, stdin)
        if p.returncode != 0:
            raise RuntimeError(p.stderr.decode(errors="replace")[-800:])
        return json.loads(p.stdout), p

    def guarded(self, what, fn):
        try:
            fn()
        except Exception as exc:  # noqa: BLE001 - one peer's failure must not end the table
            self.row("P", what, ratio=f"failed: {str(exc).strip().splitlines()[-1][:120]}")

    # ------------------------------------------------------------ workloads

    def cold_start(self, rounds):
        calc = self.proc(CALC + ["diff", W.SEED_EXAMPLE, "--at", "1.0"],
                         check=lambda p: b"5.983082595908695" in p.stdout or _fail("calc's seed derivative"))
        peers = [(lib, self.peer(lib, "seed")) for lib in self.libs("autograd", "jax", "torch")]
        peers.append(("SymPy", [PY, "-c", W.SYMPY_ONE_LINER]))
        for name, cmd in peers:
            def one(name=name, cmd=cmd):
                a = alternate(calc, self.proc(cmd, check=lambda p: b"5.98308259590" in p.stdout
                                              or _fail(f"{name}'s seed derivative")), rounds)
                self.row("P", f"cold start: `calc diff <notes example> --at 1.0` vs {name} computing the same "
                         "derivative, whole process", a.ma, a.mb, name, a.ratio, "(information)")
            self.guarded(f"cold start vs {name}", one)

    def batch(self, rounds, n):
        fd, path = tempfile.mkstemp(prefix="calc-bench-peer-lines-", suffix=".txt")
        with os.fdopen(fd, "w") as f:
            f.write("\n".join(W.random_lines(n)) + "\n")
        try:
            calc_cmd = CALC + ["diff", "-", "--at", f"x={W.BATCH_POINT}", "--format", "json"]
            mine = [json.loads(s) for s in run_process(calc_cmd, path).stdout.decode().splitlines()]
            peers = [(lib, self.peer(lib, "batch", W.BATCH_POINT)) for lib in self.libs("autograd", "jax", "torch")]
            peers.append(("SymPy", [PY, str(HERE / "peers" / "sympy_batch.py"), str(W.BATCH_POINT)]))

            def agree(name):
                def check(p):
                    theirs = [json.loads(s) for s in p.stdout.decode().splitlines()]
                    bad = sum(1 for c, t in zip(mine, theirs)
                              if _rel(c["value"], t["value"]) > 1e-9 or _rel(c["derivative"], t["derivative"]) > 1e-8)
                    if len(theirs) != len(mine) or bad:
                        _fail(f"{name} and calc differ on {bad} of {len(mine)} lines")
                return check
            plain_cmd = CALC + ["diff", "-", "--at", f"x={W.BATCH_POINT}", "--format", "plain"]

            def same_as_json(p):   # the plain lines: the JSON lines' value and derivative, as text
                got = [line.split("\t") for line in p.stdout.decode().splitlines()]
                if got != [[repr(c["value"]), repr(c["derivative"])] for c in mine] and \
                        [list(map(float, g)) for g in got] != [[c["value"], c["derivative"]] for c in mine]:
                    _fail("calc's plain and JSON lines differ")
            # JSON carries the contract's trace and steps (about 3.5 KB a line); plain is f and f'
            # alone, what the peers print, and builds no trace.
            for fmt, cmd_calc, check in (("plain", plain_cmd, same_as_json), ("json", calc_cmd, None)):
                for name, cmd in peers:
                    def one(name=name, cmd=cmd, fmt=fmt, cmd_calc=cmd_calc, check=check):
                        a = alternate(self.proc(cmd_calc, path, check), self.proc(cmd, path, agree(name)), rounds,
                                      warmup=0)
                        what = "f and f' only, as the peers print" if fmt == "plain" else "with trace and steps"
                        self.row("P", f"{n} random scalar expressions: value + derivative at x = {W.BATCH_POINT}, "
                                 f"`calc diff - --format {fmt}` ({what}) vs {name}, whole process (answers compared)",
                                 a.ma, a.mb, name, a.ratio,
                                 "≤ 0.67× vs autograd" if name == "autograd" else "(information)",
                                 a.ratio <= 1 / 1.5 if name == "autograd" else None)
                    self.guarded(f"batch ({fmt}) vs {name}", one)
            self.notes.append("P: batch with JAX is eager (no jit): each line is a new function, so a jit "
                              "would compile once per line and run once.")
        finally:
            os.unlink(path)

    def rosenbrock(self, rounds, sizes):
        calc = {n: self.inproc("rosenbrock", n, rounds) for n in sizes}
        for lib in self.libs():
            def one(lib=lib):
                theirs, _ = self.json_of(self.peer(lib, "rosen", ",".join(map(str, sizes)), rounds))
                for n in sizes:
                    c, t = calc[n], theirs[str(n)]
                    if any(_rel(a, b) > 1e-10 for a, b in zip(c["grad_head"], t["grad_head"])):
                        _fail(f"{lib}'s Rosenbrock gradient differs from calc's at n={n}")
                    self.row("P", f"Rosenbrock gradient n={n:,}, in process: calc (eval + reverse on its tape; "
                             f"grad/eval {c['grad_over_eval']:.2f}) vs {lib} (vectorised; grad/eval "
                             f"{t['grad'] / t['eval']:.1f})", c["grad"], t["grad"], lib, c["grad"] / t["grad"],
                             "(information)")
                if lib == "jax-jit":
                    self.notes.append("P: JAX jit compile (first call, not in the per-call figures): " + ", ".join(
                        f"n={n}: {fmt_s(theirs[str(n)]['first_call'])}" for n in sizes))
            self.guarded(f"Rosenbrock vs {lib}", one)

    def hessians(self, rounds, sizes):
        h = self.inproc("hessians", ",".join(map(str, sizes)), rounds)
        calc = {n: h["seconds"][str(n)] for n in sizes}
        growth = [calc[b] / calc[a] for a, b in zip(sizes, sizes[1:])]
        self.row("P", f"Hessian of Rosenbrock, calc in process, n={'→'.join(map(str, sizes))}: growth per doubling "
                 + ", ".join(f"{g:.2f}×" for g in growth), calc[sizes[-1]], calc[sizes[0]], f"n={sizes[0]}",
                 max(growth), "≤ 2.5× per doubling", max(growth) <= 2.5)
        for lib in self.libs():
            def one(lib=lib):
                theirs, _ = self.json_of(self.peer(lib, "hess", ",".join(map(str, sizes)), rounds))
                t = {n: theirs[str(n)]["seconds"] for n in sizes}
                if _rel(theirs[str(sizes[0])]["H11"], h["H11"][str(sizes[0])]) > 1e-10:
                    _fail(f"{lib}'s Hessian differs from calc's")
                g = ", ".join(f"{t[b] / t[a]:.2f}×" for a, b in zip(sizes, sizes[1:]))
                for n in (sizes[0], sizes[-1]):
                    self.row("P", f"Hessian of Rosenbrock n={n}, in process: calc vs {lib} ({lib} growth per "
                             f"doubling {g})", calc[n], t[n], lib, calc[n] / t[n],
                             "≤ 3× vs autograd" if lib == "autograd" and n == sizes[-1] else "(information)",
                             calc[n] / t[n] <= 3 if lib == "autograd" and n == sizes[-1] else None)
            self.guarded(f"Hessians vs {lib}", one)

    def large(self, terms):
        calc = run_process([PY, str(HERE / "inproc.py"), "large", str(terms)])
        if calc.returncode != 0:
            self.row("P", "100,000-node expression", ratio="calc failed")
            return
        info = json.loads(calc.stdout)
        st = info["stages"]
        work = st["parse"] + st["tape"] + st["evaluate"] + st["reverse"]
        self.row("P", f"{info['nodes']:,}-node expression ({info['chars']:,} characters): parse + gradient, CPU "
                 f"in a fresh process: parse {fmt_s(st['parse'])}, tape {fmt_s(st['tape'])}, evaluation "
                 f"{fmt_s(st['evaluate'])}, reverse {fmt_s(st['reverse'])}; peak {calc.maxrss_mb:.0f} MB",
                 work, None, "", f"{fmt_s(work)}", "≤ 1 s", work <= 1.0, unit="")
        for lib in self.libs("autograd", "torch"):
            def one(lib=lib):
                theirs, p = self.json_of(self.peer(lib, "big", terms))
                self.row("P", f"the same function written as code (no parsing), gradient by {lib}: CPU, calc's "
                         f"parse + gradient vs its graph + gradient (peak {theirs['maxrss_mb']:.0f} MB vs calc's "
                         f"{calc.maxrss_mb:.0f} MB)",
                         work, theirs["cpu"], lib, work / theirs["cpu"], "(information)")
            self.guarded(f"large vs {lib}", one)
        self.notes.append("P: the large expression is not run with JAX: eager JAX takes tens of µs per "
                          "operation (minutes for 100,000), and jit would compile a 100,000-operation graph.")

    def scripts(self, quick):
        """The rows of other benchmarks where they exist: fit, symbolic length, matrix calculus."""
        fit = HERE / "bench_fit.py"
        if fit.exists():
            p = subprocess.run([PY, str(fit)] + (["--rounds", "3"] if quick else []),
                               capture_output=True, text=True, env=ENV, timeout=3600)
            lines = [s for s in (p.stdout + p.stderr).strip().splitlines() if s.strip()]
            self.row("P", "fit at 1e4/1e5/1e6 rows vs a hand-written numpy loop (bench_fit.py)",
                     ratio="see notes" if p.returncode == 0 else f"bench_fit.py: exit {p.returncode}")
            self.notes.extend("P fit: " + s for s in lines[-8:])
        else:
            self.row("P", "fit at 1e4/1e5/1e6 rows", ratio="pending (benchmarks/bench_fit.py not in this checkout)")
        sym = HERE / "bench_symbolic_length.py"
        if sym.exists():
            p = subprocess.run([PY, str(sym), "--simplify", "--n", "60" if quick else "150"],
                               capture_output=True, text=True, env=ENV, timeout=3600)
            out = p.stdout
            length = re.search(r"ratio of medians, calc / SymPy \(same notation\):\s*([0-9.]+)", out)
            times = re.search(r"time: calc ([0-9.]+) s .*?SymPy ([0-9.]+) s", out)
            if length and times:
                tc, ts = float(times.group(1)), float(times.group(2))
                self.row("P", "symbolic derivative vs `sympy.simplify(sympy.diff(f))`: time (random expressions, "
                         "bench_symbolic_length.py --simplify)", tc, ts, "SymPy", tc / ts, "(information)")
                self.row("P", "the same: printed length, ratio of medians calc / SymPy (same notation)",
                         ratio=float(length.group(1)), target="≤ 1.0", meets=float(length.group(1)) <= 1.0)
            else:
                self.row("P", "symbolic derivative vs sympy.simplify(sympy.diff(f))",
                         ratio=f"bench_symbolic_length.py: exit {p.returncode}")
        mat = HERE / "bench_matrix.py"
        if mat.exists():
            p = subprocess.run([PY, str(mat), "--repeat", "3"], capture_output=True, text=True, env=ENV, timeout=1800)
            pairs = []
            for line in p.stdout.splitlines():
                cells = [c.strip() for c in line.strip().strip("|").split("|")]
                if len(cells) == 7 and cells[0].startswith("`"):
                    try:
                        pairs.append((float(cells[3]), float(cells[5])))
                    except ValueError:
                        pass
            if pairs:
                import statistics
                tc = statistics.median(a for a, _ in pairs) / 1e3
                ts = statistics.median(b for _, b in pairs) / 1e3
                self.row("P", f"matrix calculus: time per identity (derive + verify), median over the {len(pairs)} "
                         "identities SymPy's MatrixSymbol diff can do (bench_matrix.py)", tc, ts, "SymPy",
                         tc / ts, "(information)")
            else:
                self.row("P", "matrix calculus vs SymPy MatrixSymbol", ratio=f"bench_matrix.py: exit {p.returncode}")


def _fail(why):
    raise RuntimeError(why)


def run(row, notes, quick: bool):
    t = Table(row, notes)
    rounds = 3 if quick else 7
    t.cold_start(rounds)
    t.batch(2 if quick else 3, 1000)
    t.rosenbrock(11 if quick else 31, (100, 1000, 10000))
    t.hessians(9 if quick else 21, (20, 40, 80, 160))
    t.large(11000)
    t.scripts(quick)
