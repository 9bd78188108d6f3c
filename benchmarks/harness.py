"""Timing helpers: whole processes and in-process calls, peers alternated A B A B.

Machine drift (frequency scaling, another job on the other core, a cold page
cache) moves both members of a pair together when they alternate, so the
ratio of their medians is far steadier than either time alone.
"""
from __future__ import annotations

import gc
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable


def bench_env() -> dict:
    """The environment for every measured process.

    Bytecode caching ON, into a private prefix: a `pip install .` user runs
    from compiled .pyc files, but this workspace sets PYTHONDONTWRITEBYTECODE,
    which would make every start recompile calc's ~25 modules (about 35 ms,
    a quarter of the start-up) — a cost no user pays. The prefix keeps .pyc
    files out of the source tree. Peers run with the same environment.
    """
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = os.path.join(tempfile.gettempdir(), f"calc-bench-pycache-{os.getuid()}")
    return env


ENV = bench_env()


def calc_command() -> list[str]:
    """The installed `calc` console script next to this Python (not a pyenv
    shim, whose bash wrapper would add its own start-up), else `python -m calccli`."""
    script = Path(PY).parent / "calc"
    if script.is_file():
        return [str(script)]
    return [PY, "-m", "calccli"]


@dataclass
class Proc:
    seconds: float                 # wall time, fork to exit
    maxrss_mb: float
    returncode: int
    stdout: bytes
    stderr: bytes
    cpu: float = 0.0               # user + system CPU time of the child (less sensitive to load)


def run_process(cmd: list[str], stdin_path: str | None = None, env: dict | None = None) -> Proc:
    """Run ``cmd`` with stdout and stderr going to pipes (files), stdin from a
    file; wall time from fork to exit, and the child's own peak RSS (wait4)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        stdin = open(stdin_path, "rb") if stdin_path else subprocess.DEVNULL
        try:
            t0 = time.perf_counter()
            p = subprocess.Popen(cmd, stdin=stdin, stdout=out, stderr=err, env=ENV if env is None else env)
            _, status, ru = os.wait4(p.pid, 0)
            dt = time.perf_counter() - t0
            p.returncode = os.waitstatus_to_exitcode(status)
        finally:
            if stdin_path:
                stdin.close()
        out.seek(0)
        err.seek(0)
        # ru_maxrss is in kilobytes on Linux
        return Proc(dt, ru.ru_maxrss / 1024, p.returncode, out.read(), err.read(),
                    ru.ru_utime + ru.ru_stime)


def time_call(fn, *args) -> float:
    gc.collect()
    t0 = time.perf_counter()
    fn(*args)
    return time.perf_counter() - t0


@dataclass
class Pair:
    a: list[float] = field(default_factory=list)
    b: list[float] = field(default_factory=list)

    @property
    def ma(self) -> float:
        return statistics.median(self.a)

    @property
    def mb(self) -> float:
        return statistics.median(self.b)

    @property
    def ratio(self) -> float:
        """median(A) / median(B)."""
        return self.ma / self.mb

    @property
    def spread(self) -> float:
        """Relative spread of the per-round ratios A_k/B_k (IQR / median): a noise gauge."""
        rs = [x / y for x, y in zip(self.a, self.b)]
        if len(rs) < 4:
            return float("nan")
        q = statistics.quantiles(rs, n=4)
        return (q[2] - q[0]) / statistics.median(rs)


def alternate(fa, fb, rounds: int, warmup: int = 1) -> Pair:
    """Time ``fa`` and ``fb`` (each returns seconds) as A B A B …, ``rounds`` times each."""
    for _ in range(warmup):
        fa()
        fb()
    pair = Pair()
    for _ in range(rounds):
        pair.a.append(fa())
        pair.b.append(fb())
    return pair


def median_of(f, rounds: int, warmup: int = 1) -> float:
    for _ in range(warmup):
        f()
    return statistics.median(f() for _ in range(rounds))


def fmt_s(t: float | None) -> str:
    if t is None:
        return "—"
    if t >= 1:
        return f"{t:.2f} s"
    if t >= 1e-3:
        return f"{t * 1e3:.1f} ms"
    return f"{t * 1e6:.0f} µs"
