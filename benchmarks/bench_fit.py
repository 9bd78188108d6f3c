"""`calc fit` in batch mode against a hand-written numpy loop for the same model, in one run.

    python benchmarks/bench_fit.py                      # rows 1e4, 1e5, 1e6; 20 epochs; 5 rounds
    python benchmarks/bench_fit.py --rows 10000,100000 --epochs 10 --rounds 3
    python benchmarks/bench_fit.py --vector --rows 20000 --epochs 5   # vector parameters vs scalar ones

The model is ``w1*x1 + w2*x2 + b`` with the default loss ``(yhat - y)^2`` on
generated data (y = 2 x1 - 3 x2 + 1 + noise), written once per size to a
temporary CSV file. Per size, in process, alternated A B A B:

- ``epochs``: calc's gradient descent (``Job.run``: the epochs, J after each,
  the result object) against the numpy loop (the same J per epoch and the same
  update), both on data already in memory — CSV reading EXCLUDED on both sides;
- ``read``: calc reading the CSV and building the loss (``prepare``) against
  ``np.loadtxt`` of the same file, shown in its own columns.

The ratio is median(calc) / median(numpy). The parameters are checked: calc's
must equal numpy's to 1e-9 relative, or the script stops.

``--vector``: calc against itself instead, the same model with vector parameters
and a feature vector (``sigmoid(w^T x + b)``, ``--features x=x1,x2,x3,x4``) and
written with scalar ones (``sigmoid(w1*x1 + w2*x2 + w3*x3 + w4*x4 + b)``), default
loss, batch mode, alternated A B A B: the epochs (``Job.run`` of a fresh job),
and the whole fit with the CSV read (``prepare`` + ``run``); their parameters
must agree to 1e-12 relative.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

MODEL = "w1*x1 + w2*x2 + b"
LR = 0.1


def write_csv(path: str, n: int) -> None:
    import numpy as np
    rng = np.random.default_rng(n)
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    y = 2 * x1 - 3 * x2 + 1 + 0.1 * rng.normal(size=n)
    np.savetxt(path, np.column_stack([x1, x2, y]), delimiter=",", header="x1,x2,y", comments="", fmt="%.9g")


def numpy_loop(x1, x2, y, epochs: int, lr: float):
    """Batch gradient descent on mean((w1 x1 + w2 x2 + b - y)^2), J recorded every epoch."""
    import numpy as np
    w1 = w2 = b = 0.0
    r = w1 * x1 + w2 * x2 + b - y
    history = []
    for _ in range(epochs):
        g1, g2, gb = 2 * np.mean(r * x1), 2 * np.mean(r * x2), 2 * np.mean(r)
        w1, w2, b = w1 - lr * g1, w2 - lr * g2, b - lr * gb
        r = w1 * x1 + w2 * x2 + b - y
        history.append(float(np.mean(r * r)))
    return [w1, w2, b], history


VECTOR_MODEL = "sigmoid(w^T x + b)"
SCALAR_MODEL = "sigmoid(w1*x1 + w2*x2 + w3*x3 + w4*x4 + b)"


def write_features_csv(path: str, n: int) -> None:
    import numpy as np
    rng = np.random.default_rng(n)
    X = rng.normal(size=(n, 4))
    y = (rng.random(n) < 1 / (1 + np.exp(-(X @ [1.0, -2.0, 0.5, 0.0] + 0.3)))).astype(float)
    np.savetxt(path, np.column_stack([X, y]), delimiter=",", header="x1,x2,x3,x4,y", comments="", fmt="%.9g")


def measure_vector(n: int, epochs: int, rounds: int, tmp: str) -> dict:
    """Per model: median seconds of the epochs (``Job.run`` of a fresh job, so the
    batched form is built inside it) and of the whole fit (``prepare`` + ``run``)."""
    from calccli.commands.fit import prepare
    path = os.path.join(tmp, f"fitvec-{n}.csv")
    write_features_csv(path, n)
    setups = {"vector": (VECTOR_MODEL, {"features": "x=x1,x2,x3,x4"}), "scalar": (SCALAR_MODEL, {})}
    times = {k: [] for k in ("vector", "scalar", "vector whole", "scalar whole")}
    res = {}
    for _ in range(rounds):
        for k, (model, kw) in setups.items():
            t0 = time.perf_counter()
            job = prepare(model, path, "y", mode="batch", epochs=epochs, lr=LR, **kw)
            t1 = time.perf_counter()
            res[k] = job.run().run
            t2 = time.perf_counter()
            times[k].append(t2 - t1)
            times[k + " whole"].append(t2 - t0)
    w, b = res["vector"].theta
    got, want = [*w, b], res["scalar"].theta
    for a, c in zip(got, want):
        if abs(a - c) > 1e-12 * max(abs(c), 1e-300):
            raise SystemExit(f"rows {n}: the vector model's parameters {got} differ from the scalar one's {want}")
    os.unlink(path)
    return {k: statistics.median(v) for k, v in times.items()}


def main_vector(sizes, epochs: int, rounds: int) -> None:
    print(f"calc fit \"{VECTOR_MODEL}\" --features x=x1,x2,x3,x4 vs \"{SCALAR_MODEL}\"; --mode batch "
          f"--epochs {epochs} --lr {LR}; medians of {rounds} alternated rounds; 'whole': CSV read included")
    print("| rows | vector epochs | scalar epochs | ratio | vector whole | scalar whole | ratio |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            m = measure_vector(n, epochs, rounds, tmp)
            print(f"| {n:,} | {m['vector'] * 1e3:.1f} ms | {m['scalar'] * 1e3:.1f} ms | {m['vector'] / m['scalar']:.2f}× "
                  f"| {m['vector whole'] * 1e3:.1f} ms | {m['scalar whole'] * 1e3:.1f} ms "
                  f"| {m['vector whole'] / m['scalar whole']:.2f}× |", flush=True)
    print(f"load average {os.getloadavg()[0]:.2f}; python {sys.version.split()[0]}")


def calc_prepare(path: str, epochs: int):
    from calccli.commands.fit import prepare
    return prepare(MODEL, path, "y", mode="batch", epochs=epochs, lr=LR)


def measure(n: int, epochs: int, rounds: int, tmp: str) -> dict:
    import numpy as np
    path = os.path.join(tmp, f"fit-{n}.csv")
    write_csv(path, n)
    job = calc_prepare(path, epochs)
    cols = np.loadtxt(path, delimiter=",", skiprows=1)
    x1, x2, y = (np.ascontiguousarray(cols[:, k]) for k in range(3))
    times = {"calc": [], "numpy": [], "calc read": [], "numpy read": []}
    for _ in range(rounds):
        t = time.perf_counter()
        res = job.run()
        times["calc"].append(time.perf_counter() - t)
        t = time.perf_counter()
        want, _ = numpy_loop(x1, x2, y, epochs, LR)
        times["numpy"].append(time.perf_counter() - t)
    got = res.run.theta
    for a, b in zip(got, want):
        if abs(a - b) > 1e-9 * max(abs(b), 1e-300):
            raise SystemExit(f"rows {n}: calc's parameters {got} differ from numpy's {want}")
    for _ in range(max(1, rounds // 2)):
        t = time.perf_counter()
        calc_prepare(path, epochs)
        times["calc read"].append(time.perf_counter() - t)
        t = time.perf_counter()
        np.loadtxt(path, delimiter=",", skiprows=1)
        times["numpy read"].append(time.perf_counter() - t)
    os.unlink(path)
    return {k: statistics.median(v) for k, v in times.items()}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", default="10000,100000,1000000")
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--vector", action="store_true", help="vector parameters against scalar ones (calc only)")
    a = ap.parse_args(argv)
    sizes = [int(float(r)) for r in a.rows.split(",")]
    if a.vector:
        return main_vector(sizes, a.epochs, a.rounds)
    print(f"calc fit \"{MODEL}\" --mode batch --epochs {a.epochs} --lr {LR} vs a numpy loop; "
          f"medians of {a.rounds} alternated rounds; CSV read excluded from 'epochs', shown apart")
    print(f"| rows | calc epochs | numpy epochs | ratio | per epoch (calc) | calc read | np.loadtxt | ratio |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            m = measure(n, a.epochs, a.rounds, tmp)
            print(f"| {n:,} | {m['calc']:.3f} s | {m['numpy']:.3f} s | {m['calc'] / m['numpy']:.2f}× "
                  f"| {m['calc'] / a.epochs * 1e3:.1f} ms | {m['calc read']:.2f} s | {m['numpy read']:.2f} s "
                  f"| {m['calc read'] / m['numpy read']:.1f}× |", flush=True)
    print(f"load average {os.getloadavg()[0]:.2f}; python {sys.version.split()[0]}")


if __name__ == "__main__":
    main()
