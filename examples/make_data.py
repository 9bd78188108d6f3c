"""Regenerate the example data sets in this folder (deterministic: fixed seeds).

    python examples/make_data.py

line.csv       y = 2x + 1 plus Gaussian noise (σ = 0.1), 100 rows, x in [-2, 2]
               calc fit "w*x + b" --data examples/line.csv --target y
logistic.csv   two classes: P(label = 1 | x) = sigmoid(2x - 1), 200 rows, x in [-3, 3]
               calc fit "sigmoid(w*x + b)" --data examples/logistic.csv --target label \\
                   --loss "-(label*log(yhat) + (1-label)*log(1-yhat))"
quadratic.csv  y = 0.5x² - x + 2 plus noise (σ = 0.05), 60 rows, x in [-2, 3]
               calc fit "a*x^2 + b*x + c" --data examples/quadratic.csv --target y

Only the standard library is used (random.Random with a fixed seed), so the
files are the same on every machine and Python version.
"""
from __future__ import annotations

import csv
import math
import random
from pathlib import Path

HERE = Path(__file__).resolve().parent


def write(name: str, header: list[str], rows: list[list[float]]) -> None:
    with open(HERE / name, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        for r in rows:
            w.writerow([f"{v:.4f}" if isinstance(v, float) else v for v in r])


def line() -> None:
    rng = random.Random(0)
    rows = []
    for _ in range(100):
        x = rng.uniform(-2, 2)
        rows.append([x, 2 * x + 1 + rng.gauss(0, 0.1)])
    write("line.csv", ["x", "y"], rows)


def logistic() -> None:
    rng = random.Random(1)
    rows = []
    for _ in range(200):
        x = rng.uniform(-3, 3)
        p = 1 / (1 + math.exp(-(2 * x - 1)))
        rows.append([x, 1 if rng.random() < p else 0])
    write("logistic.csv", ["x", "label"], rows)


def quadratic() -> None:
    rng = random.Random(2)
    rows = []
    for _ in range(60):
        x = rng.uniform(-2, 3)
        rows.append([x, 0.5 * x * x - x + 2 + rng.gauss(0, 0.05)])
    write("quadratic.csv", ["x", "y"], rows)


if __name__ == "__main__":
    line()
    logistic()
    quadratic()
    print("wrote line.csv, logistic.csv, quadratic.csv in", HERE)
