"""The peer side of the peer table (benchmarks/peer_table.py): one library, one task.

    python peer_tasks.py LIB seed                 # cold start: the notes' example derivative at 1.0
    python peer_tasks.py LIB batch X < lines.txt  # each line's value and derivative at x = X, JSON lines
    python peer_tasks.py LIB rosen 100,1000 ROUNDS
    python peer_tasks.py LIB hess 20,40,80 ROUNDS
    python peer_tasks.py LIB big TERMS            # gradient of the large sum of products

LIB: autograd, jax (eager), jax-jit (jitted; compiling is done before timing and
reported apart), torch (CPU, float64). Functions are written as a user of the
library writes them: vectorised numpy for Rosenbrock; the batch lines are the
benchmark's own generated texts (calc syntax, ``^`` read as ``**``), turned into
Python functions. In-process times are CPU seconds (process_time), as calc's
are in the peer table. Exit 3 when the library is missing.
"""
from __future__ import annotations

import json
import re
import resource
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import workloads as W  # noqa: E402

FUNCS = ("sin", "cos", "exp", "log", "sqrt", "tanh", "atan")


def load(lib):
    """(namespace of elementwise functions, grad(f), hessian(f), eval(f), array(list), sync, item)."""
    if lib in ("jax", "jax-jit"):
        import jax
        jax.config.update("jax_enable_x64", True)
        jax.config.update("jax_platforms", "cpu")
        import jax.numpy as np
        jit = jax.jit if lib == "jax-jit" else (lambda f: f)
        ns = {f: getattr(np, {"atan": "arctan"}.get(f, f)) for f in FUNCS}
        return (ns, np, lambda f: jit(jax.grad(f)), lambda f: jit(jax.hessian(f)), jit,
                lambda v: np.asarray(v, dtype=np.float64), jax.block_until_ready, float)
    if lib == "autograd":
        import autograd
        import autograd.numpy as np
        ns = {f: getattr(np, {"atan": "arctan"}.get(f, f)) for f in FUNCS}
        return (ns, np, autograd.grad, autograd.hessian, lambda f: f, lambda v: np.array(v, dtype=float),
                lambda r: r, float)
    if lib == "torch":
        import torch
        torch.set_num_threads(1)
        def tensor_fn(fn):  # torch's functions take tensors only: cos(0.5) in a line is a constant
            return lambda v: fn(v if isinstance(v, torch.Tensor) else torch.tensor(v, dtype=torch.float64))
        ns = {f: tensor_fn(getattr(torch, f)) for f in FUNCS}

        def grad(f):
            def g(x):
                x = x.detach().requires_grad_(True)
                (d,) = torch.autograd.grad(f(x), x)
                return d
            return g

        def hess(f):
            return lambda x: torch.autograd.functional.hessian(f, x)
        return (ns, torch, grad, hess, lambda f: f, lambda v: torch.tensor(v, dtype=torch.float64),
                lambda r: r, float)
    raise SystemExit(f"unknown peer {lib}")


def as_function(text, ns):
    """A Python function of x from a benchmark-generated line (calc syntax, ^ is **)."""
    src = "lambda x: " + re.sub(r"\^", "**", text)
    return eval(compile(src, "<line>", "eval"), {"__builtins__": {}, **ns})  # noqa: S307 - our own text


def seed(env):
    ns, np, grad, _, _, arr, sync, item = env
    f = as_function(W.SEED_EXAMPLE, ns)
    x = arr(1.0)
    print(item(f(x)), item(sync(grad(f)(x))))


def batch(env, point):
    ns, np, grad, _, _, arr, sync, item = env
    x = arr(point)
    out = sys.stdout
    for line in sys.stdin:
        text = line.strip()
        if not text:
            continue
        f = as_function(text, ns)
        out.write(json.dumps({"expression": text, "value": item(f(x)), "derivative": item(sync(grad(f)(x)))}) + "\n")


def _rosenbrock(np):
    def f(x):
        return np.sum((1 - x[:-1]) ** 2 + 100 * (x[1:] - x[:-1] ** 2) ** 2)
    return f


def rosen(env, sizes, rounds):
    ns, np, grad, _, jit, arr, sync, item = env
    f = _rosenbrock(np)
    out = {}
    for n in sizes:
        x = arr(W.rosenbrock_point(n))
        fv, gv = jit(f), grad(f)
        t0 = time.process_time()
        sync(fv(x))
        sync(gv(x))
        first = time.process_time() - t0
        ev, gr = [], []
        for _ in range(rounds):  # A B A B
            for fn, ts in ((fv, ev), (gv, gr)):
                t1 = time.process_time()
                sync(fn(x))
                ts.append(time.process_time() - t1)
        out[str(n)] = {"eval": statistics.median(ev), "grad": statistics.median(gr), "first_call": first,
                       "value": item(fv(x)), "grad_head": [item(v) for v in gv(x)[:3]]}
    print(json.dumps(out))


def hess(env, sizes, rounds):
    ns, np, _, hessian, _, arr, sync, item = env
    f = _rosenbrock(np)
    out = {}
    for n in sizes:
        x = arr(W.rosenbrock_point(n))
        h = hessian(f)
        out[str(n)] = {"seconds": W.median_seconds(h, x, rounds, sync), "H11": item(h(x)[0][0])}
    print(json.dumps(out))


def big(env, terms):
    """The same sum of products as calc's 100,000-node expression, written as code
    (a peer has no parser: its time is building the graph and the gradient)."""
    ns, np, grad, _, _, arr, sync, item = env
    sin, exp, cos = ns["sin"], ns["exp"], ns["cos"]
    spec = W.big_sum_terms(terms)

    def f(x):
        total = 0.0
        for c, a, b, d, i, j, k in spec:
            total = total + c * sin(a * x[i - 1]) * exp(b * x[j - 1]) * cos(x[k - 1] + d)
        return total
    x = arr(W.big_sum_point(1000))
    t0 = time.process_time()
    g = sync(grad(f)(x))
    cpu = time.process_time() - t0
    print(json.dumps({"cpu": cpu, "grad_head": [item(v) for v in g[:3]],
                      "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


def main(argv):
    lib, task, *rest = argv
    try:
        env = load(lib)
    except ImportError as exc:
        print(json.dumps({"lib": lib, "missing": str(exc)}))
        return 3
    if task == "seed":
        seed(env)
    elif task == "batch":
        batch(env, float(rest[0]))
    elif task in ("rosen", "hess"):
        sizes = [int(s) for s in rest[0].split(",")]
        (rosen if task == "rosen" else hess)(env, sizes, int(rest[1]))
    elif task == "big":
        big(env, int(rest[0]))
    else:
        raise SystemExit(f"unknown task {task}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
