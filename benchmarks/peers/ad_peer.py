"""Optional AD peers for the Rosenbrock and Hessian figures: JAX (jit, CPU,
float64) and HIPS autograd, on the extended Rosenbrock function written as a
user of those libraries writes it (vectorized numpy), at the same point.

    python benchmarks/peers/ad_peer.py jax|autograd N ROUNDS [HESSIAN_N ...]

Prints one JSON object: per-call medians of value, gradient, and Hessians
(JAX: after compilation, which is reported apart). Exit 3 when the library is
not installed, so run.py can skip it.
"""
from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import workloads as W  # noqa: E402


def _alternated(fa, fb, x, rounds, sync):
    """Medians of fa(x) and fb(x), timed A B A B …"""
    ta, tb = [], []
    for _ in range(rounds):
        for f, ts in ((fa, ta), (fb, tb)):
            t0 = time.perf_counter()
            sync(f(x))
            ts.append(time.perf_counter() - t0)
    return statistics.median(ta), statistics.median(tb)


def load(lib):
    if lib == "jax":
        import jax
        jax.config.update("jax_enable_x64", True)
        jax.config.update("jax_platforms", "cpu")
        import jax.numpy as np

        def sync(r):
            return jax.block_until_ready(r)
        wrap = jax.jit
        grad, hess = jax.grad, jax.hessian
        asarray = np.asarray
    elif lib == "autograd":
        import autograd.numpy as np
        from autograd import grad, hessian as hess

        def sync(r):
            return r

        def wrap(f):
            return f
        asarray = np.array
    else:
        raise SystemExit(f"unknown peer {lib}")

    def f(x):
        return np.sum((1 - x[:-1]) ** 2 + 100 * (x[1:] - x[:-1] ** 2) ** 2)
    return f, wrap, grad, hess, sync, asarray


def main(argv):
    lib, n, rounds, *hn = argv
    n, rounds, hn = int(n), int(rounds), [int(k) for k in hn]
    try:
        f, wrap, grad, hess, sync, asarray = load(lib)
    except ImportError as exc:
        print(json.dumps({"lib": lib, "missing": str(exc)}))
        return 3
    x = asarray(W.rosenbrock_point(n))
    fv, gv = wrap(f), wrap(grad(f))
    t0 = time.perf_counter()
    sync(fv(x))
    sync(gv(x))
    first = time.perf_counter() - t0
    ev, gr = _alternated(fv, gv, x, rounds, sync)
    out = {"lib": lib, "n": n, "eval": ev, "grad": gr, "grad_over_eval": gr / ev,
           "first_call": first, "value": float(fv(x)), "grad_head": [float(v) for v in gv(x)[:3]],
           "hessian": {}}
    for k in hn:
        xk = asarray(W.rosenbrock_point(k))
        hv = wrap(hess(f))
        out["hessian"][str(k)] = W.median_seconds(hv, xk, max(3, rounds // 2), sync, time.perf_counter)
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
