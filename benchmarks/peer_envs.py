"""Virtual environments for the optional benchmark peers, made by the benchmark itself.

    python benchmarks/peer_envs.py [autograd jax torch]   # make (or reuse) them, print their Pythons

Each peer gets its own environment under ~/.cache/calc-bench/ (``$CALC_BENCH_PEERS``
to move it), installed with that environment's pip: the peers are never
dependencies of calc and never touch the project's environment. A peer that
cannot be installed is skipped with the reason (the log is kept next to it).
PyTorch is tried from its CPU-only index first, then from PyPI.
"""
from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(os.environ.get("CALC_BENCH_PEERS") or Path.home() / ".cache" / "calc-bench")

# peer -> (module to import, pip attempts: each a list of pip arguments)
PEERS = {
    "autograd": ("autograd", [["autograd", "numpy"]]),
    "jax": ("jax", [["jax", "numpy"]]),
    "torch": ("torch", [["torch", "numpy", "--index-url", "https://download.pytorch.org/whl/cpu",
                         "--extra-index-url", "https://pypi.org/simple", "--timeout", "15", "--retries", "0"],
                        ["torch", "numpy"]]),
}


def python_of(name: str) -> Path:
    return ROOT / name / "bin" / "python"


def _imports(py: Path, module: str) -> bool:
    return py.exists() and subprocess.run([str(py), "-c", f"import {module}"], capture_output=True).returncode == 0


def ensure(name: str) -> tuple[Path | None, str]:
    """(the peer's Python, "") when it imports, else (None, why it was skipped)."""
    module, attempts = PEERS[name]
    py = python_of(name)
    if _imports(py, module):
        return py, ""
    ROOT.mkdir(parents=True, exist_ok=True)
    if not py.exists():
        venv.EnvBuilder(with_pip=True, clear=True).create(ROOT / name)
    log = ROOT / f"{name}.log"
    with open(log, "w") as f:
        for args in attempts:
            p = subprocess.run([str(py), "-m", "pip", "install", "-q", *args], stdout=f, stderr=subprocess.STDOUT)
            if p.returncode == 0 and _imports(py, module):
                return py, ""
    tail = log.read_text(errors="replace").strip().splitlines()[-1:] or ["?"]
    return None, f"{name} could not be installed ({tail[0][:160]}; log: {log})"


def main(argv):
    for name in argv or list(PEERS):
        py, why = ensure(name)
        print(f"{name}: {py}" if py else f"{name}: skipped: {why}")


if __name__ == "__main__":
    main(sys.argv[1:])
