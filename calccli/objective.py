"""A scalar expression as a function of a flat parameter vector θ.

The seam between the AD engine and everything that iterates (minimize, fit,
Hessians, benchmarks): ``value``, ``value_and_grad`` (one reverse pass) and
``hessian`` (forward-over-reverse: one forward+reverse pass on dual numbers per
variable, no finite differences).
"""
from __future__ import annotations

from .errors import ShapeError
from .evaluate import evaluate, ops_for
from .ops import FLOAT, Dual, dual_ops
from .reverse import reverse
from .tape import build_tape

_DUAL = {}


def dual_over(base):
    o = _DUAL.get(id(base))
    if o is None:
        o = _DUAL[id(base)] = dual_ops(base)
    return o


class Objective:
    def __init__(self, node, env: dict, wrt: list[str]):
        self.node, self.env, self.wrt = node, dict(env), list(wrt)
        self.tape = build_tape(node)
        for w in self.wrt:
            self.env.setdefault(w, 0.0)
        self.ops = ops_for(self.tape, self.env)
        if self.ops is not FLOAT:
            raise ShapeError("this operation needs scalar variables")
        self.idx = [self.tape.variables.get(w) for w in self.wrt]
        self._wrt_idx = [i for i in self.idx if i is not None]

    def _env(self, theta) -> dict:
        env = dict(self.env)
        env.update(zip(self.wrt, map(float, theta)))
        return env

    def value(self, theta) -> float:
        return evaluate(self.tape, self._env(theta), self.ops)[-1]

    def value_and_grad(self, theta) -> tuple[float, list[float]]:
        vals = evaluate(self.tape, self._env(theta), self.ops)
        adj = reverse(self.tape, vals, self._wrt_idx, self.ops)
        grad = [0.0 if i is None or adj[i] is None else float(adj[i]) for i in self.idx]
        return vals[-1], grad

    def hessian(self, theta) -> tuple[float, list[float], list[list[float]]]:
        """Value, gradient and Hessian; column j from one dual pass seeded at θ_j."""
        n = len(self.wrt)
        dual = dual_over(self.ops)
        value, grad = self.value_and_grad(theta)
        H = [[0.0] * n for _ in range(n)]
        base_env = self._env(theta)
        for j, ij in enumerate(self.idx):
            if ij is None:
                continue
            env = dict(base_env)
            env[self.wrt[j]] = Dual(base_env[self.wrt[j]], 1.0, dual)
            vals = evaluate(self.tape, env, dual)
            adj = reverse(self.tape, vals, self._wrt_idx, dual)
            for k, ik in enumerate(self.idx):
                a = None if ik is None else adj[ik]
                H[k][j] = float(a.t) if isinstance(a, Dual) else 0.0
        return value, grad, H
