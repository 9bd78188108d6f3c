"""A/B two checkouts of calc on the benchmark workloads, alternated A B A B.

For judging an engine patch (benchmarks/proposals/*.diff) before it lands:

    python benchmarks/compare_trees.py --proposals             # all proposals vs this checkout
    python benchmarks/compare_trees.py --proposals 01 02       # some of them
    python benchmarks/compare_trees.py /path/to/patched/checkout [--base /other/checkout]

With --proposals, two snapshots of this checkout's working tree (or, with
--head, of its last commit) are copied to a temporary directory, so edits in
flight cannot make the sides differ, and the chosen diffs are applied to one
of them with `git apply`.

In-process figures are the workers' own wall-clock medians; whole-process
figures are wall time, or CPU time with --cpu. Each side runs with PYTHONPATH
pointing at its checkout (ahead of the editable install), in fresh processes.
Prints per workload the two medians and patched/base.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import workloads as W  # noqa: E402
from harness import ENV, PY, ROOT, fmt_s, run_process  # noqa: E402


CPU = False


def _env(tree: Path) -> dict:
    env = dict(ENV)
    env["PYTHONPATH"] = str(tree) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def workloads(lines_path: str, big_path: str):
    calc = [PY, "-m", "calccli"]
    inproc = [PY, str(HERE / "inproc.py")]
    return {
        "startup: calc diff <example> --at 1.0": (calc + ["diff", W.SEED_EXAMPLE, "--at", "1.0"], None, None),
        "batch: 300 lines, calc diff - --format json": (
            calc + ["diff", "-", "--at", f"x={W.BATCH_POINT}", "--format", "json"], lines_path, None),
        "rosenbrock n=1000: evaluate (in process)": (inproc + ["rosenbrock", "1000", "15"], None, "eval"),
        "rosenbrock n=1000: reverse (in process)": (inproc + ["rosenbrock", "1000", "15"], None, "reverse"),
        "rosenbrock n=1000: eval+reverse (in process)": (inproc + ["rosenbrock", "1000", "15"], None, "grad"),
        "hessian n=80 (in process)": (inproc + ["hessians", "80", "3"], None, "hessian80"),
        "rosenbrock n=1000: calc grad, whole process": (
            calc + ["grad", W.rosenbrock(1000), "--at", W.at_option(W.xs(1000), W.rosenbrock_point(1000)),
                    "--format", "json"], None, None),
        "100k nodes: calc grad - < file, whole process": (
            calc + ["grad", "-", "--at", W.at_option(W.xs(1000), W.big_sum_point(1000)), "--format", "json"],
            big_path, None),
        "100k nodes: parse (in process)": (inproc + ["large", "8600"], None, "parse"),
        "100k nodes: parse+gradient, whole process": (inproc + ["large", "8600"], None, None),
    }


def measure(cmd, stdin, key, env):
    p = run_process(cmd, stdin, env=env)
    if p.returncode not in (0, 1):
        raise SystemExit(f"failed: {' '.join(cmd)[:120]}\n{p.stderr.decode()[-1500:]}")
    if key is None:
        return (p.cpu if CPU else p.seconds), p.stdout
    obj = json.loads(p.stdout)
    if key == "hessian80":
        return obj["seconds"]["80"], b""
    if key == "parse":
        return obj["stages"]["parse"], b""
    return obj[key], b""


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("patched", type=Path, nargs="?")
    ap.add_argument("--proposals", nargs="*", metavar="PREFIX",
                    help="apply benchmarks/proposals/*.diff (all, or those starting with PREFIX)")
    ap.add_argument("--base", type=Path, default=ROOT)
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--head", action="store_true",
                    help="with --proposals: snapshot the last commit instead of the working tree")
    ap.add_argument("--only", default="", help="substring of the workload names to run")
    ap.add_argument("--cpu", action="store_true",
                    help="whole processes: compare CPU time (user+system) instead of wall time; "
                         "steadier when other jobs load the machine")
    args = ap.parse_args(argv)
    global CPU
    CPU = args.cpu
    tmp = None
    if args.proposals is not None:
        tmp = tempfile.TemporaryDirectory(prefix="calc-ab-")
        args.base, args.patched = snapshot_trees(Path(tmp.name), args.proposals, args.head)
    elif args.patched is None:
        ap.error("give a patched checkout or --proposals")
    fd, lines_path = tempfile.mkstemp(suffix=".txt")
    with os.fdopen(fd, "w") as f:
        f.write("\n".join(W.random_lines(300)) + "\n")
    fd, big_path = tempfile.mkstemp(suffix=".txt")
    with os.fdopen(fd, "w") as f:
        f.write(W.big_sum(8600) + "\n")
    envs = {"base": _env(args.base.resolve()), "patched": _env(args.patched.resolve())}
    print(f"base: {args.base}    patched: {args.patched}    rounds: {args.rounds}")
    print(f"{'workload':48} {'base':>10} {'patched':>10} {'patched/base':>13}")
    try:
        for name, (cmd, stdin, key) in workloads(lines_path, big_path).items():
            if args.only and args.only not in name:
                continue
            t = {"base": [], "patched": []}
            outs = {}
            for side in t:  # warm-up (also writes .pyc)
                outs[side] = measure(cmd, stdin, key, envs[side])[1]
            if outs["base"] != outs["patched"] and key is None and b"stages" not in outs["base"]:
                print(f"  note: {name}: outputs differ between the trees")
            for _ in range(args.rounds):
                for side in t:
                    t[side].append(measure(cmd, stdin, key, envs[side])[0])
            b, p = statistics.median(t["base"]), statistics.median(t["patched"])
            print(f"{name:48} {fmt_s(b):>10} {fmt_s(p):>10} {p / b:>12.2f}×", flush=True)
    finally:
        os.unlink(lines_path)
        os.unlink(big_path)
        if tmp is not None:
            tmp.cleanup()


def snapshot_trees(dest: Path, prefixes: list[str], head: bool = False) -> tuple[Path, Path]:
    """Two copies of calccli/ and grammar/ (working tree, or the last commit with
    ``head``), the chosen proposals applied to the second."""
    import shutil
    import subprocess
    trees = []
    for side in ("base", "patched"):
        d = dest / side
        if head:
            d.mkdir(parents=True)
            archive = subprocess.run(["git", "archive", "HEAD", "calccli", "grammar"], cwd=ROOT,
                                     capture_output=True, check=True).stdout
            subprocess.run(["tar", "-x", "-C", str(d)], input=archive, check=True)
        else:
            for part in ("calccli", "grammar"):
                shutil.copytree(ROOT / part, d / part, ignore=shutil.ignore_patterns("__pycache__"))
        trees.append(d)
    diffs = sorted(p for p in (HERE / "proposals").glob("*.diff")
                   if not prefixes or any(p.name.startswith(x) for x in prefixes))
    for p in diffs:
        r = subprocess.run(["git", "apply", "--whitespace=nowarn", str(p)], cwd=trees[1],
                           capture_output=True, text=True)
        print(f"applied {p.name}" if r.returncode == 0 else f"could NOT apply {p.name}: {r.stderr.strip()}")
    return trees[0], trees[1]


if __name__ == "__main__":
    main()
