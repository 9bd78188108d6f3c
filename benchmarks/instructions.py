"""Instructions executed (Valgrind's callgrind) by whole batch processes: calc and autograd.

    python benchmarks/instructions.py [--lines 1000] [--format plain|json]

On a shared machine wall time moves by ±15 % from run to run; the number of
instructions a process executes does not (it is the same to 0.1 % each time), so
this is the measure to compare two versions of calc by, and a steady second
opinion on the peer table's batch row. It runs the workload of that row (1,000
random lines, `calc diff - --at x=1.3`) under callgrind, and the same lines
through the autograd peer when its environment exists (`benchmarks/peer_envs.py
autograd`). Instructions are not time: numpy's C loops retire more instructions
per cycle than the interpreter, so the wall-time ratio is a few percent higher.
Needs `valgrind`; each process takes about 30–60 s under it.
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import workloads as W  # noqa: E402
from harness import ENV, PY  # noqa: E402
from peer_envs import python_of  # noqa: E402


def instructions(cmd: list[str], stdin_path: str) -> int:
    with open(stdin_path, "rb") as f:
        p = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *cmd],
                           stdin=f, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=ENV, check=False)
    m = re.search(rb"Collected : (\d+)", p.stderr)
    if p.returncode != 0 or m is None:
        raise SystemExit(f"failed ({p.returncode}): {' '.join(cmd)}\n{p.stderr.decode(errors='replace')[-800:]}")
    return int(m.group(1))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--lines", type=int, default=1000)
    ap.add_argument("--format", choices=("plain", "json"), default="plain")
    args = ap.parse_args()
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (apt-get install valgrind)")
    fd, path = tempfile.mkstemp(prefix="calc-bench-lines-", suffix=".txt")
    with os.fdopen(fd, "w") as f:
        f.write("\n".join(W.random_lines(args.lines)) + "\n")
    try:
        calc = instructions([PY, "-m", "calccli", "diff", "-", "--at", f"x={W.BATCH_POINT}",
                             "--format", args.format], path)
        print(f"calc diff - --format {args.format}: {calc / 1e6:,.0f} M instructions "
              f"({calc / args.lines / 1e3:,.0f} k a line, start-up included)")
        peer = python_of("autograd")
        if peer.exists():
            theirs = instructions([str(peer), str(HERE / "peers" / "peer_tasks.py"), "autograd", "batch",
                                   str(W.BATCH_POINT)], path)
            print(f"autograd, the same lines: {theirs / 1e6:,.0f} M instructions; calc / autograd {calc / theirs:.3f}")
        else:
            print("autograd: no environment (python benchmarks/peer_envs.py autograd)")
    finally:
        os.unlink(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
