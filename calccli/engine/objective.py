"""A scalar expression as a function of a flat parameter vector θ.

The seam between the AD engine and everything that iterates (minimize, fit,
Hessians, benchmarks): ``value``, ``value_and_grad`` (one reverse pass) and
``hessian`` (forward-over-reverse: one forward+reverse pass on dual numbers whose
tangents are vectors, one entry per variable, or per colour of a sparse
Hessian's variables; no finite differences).

Variables may be vectors or matrices (bound to arrays in ``env``): θ then
lists their components row-major, named by ``names`` (``x[1]``, ``A[1,2]``);
the scalar case runs exactly as before, without numpy.
"""
from __future__ import annotations

from calccli.errors import ShapeError
from calccli.engine.evaluate import evaluate, ops_for
from calccli.engine.ops import FLOAT, Dual, dual_ops
from calccli.engine.reverse import reverse
from calccli.engine.sparsity import compression, recover
from calccli.engine.tape import build_tape

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
        self.idx = [self.tape.variables.get(w) for w in self.wrt]
        self._wrt_idx = [i for i in self.idx if i is not None]
        self.shapes = [()] * len(self.wrt)
        if self.ops is not FLOAT:
            from calccli.engine.arrays import root_shape
            from calccli.engine.primitives import shape_of, shape_words
            out = root_shape(self.tape)
            if out != ():
                raise ShapeError(f"this operation needs a scalar expression; this one is {shape_words(out)}")
            self.shapes = [shape_of(self.env[w]) for w in self.wrt]
        self.scalar_vars = all(s == () for s in self.shapes)
        self.sizes = [_size(s) for s in self.shapes]
        self.names = [c for w, s in zip(self.wrt, self.shapes) for c in component_names(w, s)]

    def _env(self, theta) -> dict:
        env = dict(self.env)
        if self.scalar_vars:
            env.update(zip(self.wrt, map(float, theta)))
            return env
        import numpy as np
        k = 0
        for w, s, n in zip(self.wrt, self.shapes, self.sizes):
            env[w] = float(theta[k]) if s == () else np.asarray(theta[k:k + n], dtype=float).reshape(s)
            k += n
        return env

    def _flat(self, adj, part=None) -> list[float]:
        """The adjoints of the variables, flattened like θ (``part``: of dual numbers, 'v' or 't')."""
        out: list[float] = []
        for i, s, n in zip(self.idx, self.shapes, self.sizes):
            a = None if i is None else adj[i]
            if part is not None:
                a = getattr(a, part) if isinstance(a, Dual) else None
            if a is None:
                out.extend([0.0] * n)
            elif s == ():
                out.append(float(a))
            else:
                out.extend(float(x) for x in a.reshape(-1))
        return out

    def value(self, theta) -> float:
        return evaluate(self.tape, self._env(theta), self.ops)[-1]

    def value_and_grad(self, theta) -> tuple[float, list[float]]:
        vals = evaluate(self.tape, self._env(theta), self.ops)
        adj = reverse(self.tape, vals, self._wrt_idx, self.ops)
        if not self.scalar_vars:
            return vals[-1], self._flat(adj)
        grad = [0.0 if i is None or adj[i] is None else float(adj[i]) for i in self.idx]
        return vals[-1], grad

    def hessian(self, theta, compress: int = 16) -> tuple[float, list[float], list[list[float]]]:
        """Value, gradient and Hessian from one forward-over-reverse pass whose
        tangents are vectors: variable j is seeded with a unit vector, so the
        tangent part of variable k's adjoint is row k of the Hessian.

        From ``compress`` variables on, the seeds are compressed when the
        Hessian is sparse: variables that never share a row of its sparsity
        pattern share a tangent (``engine.sparsity``), so Rosenbrock-like
        objectives need 3 tangents instead of n and the pass stays linear in
        the tape's length. Below that, or when dense, e_j as it is."""
        value, grad = self.value_and_grad(theta)
        if self.ops is not FLOAT:  # array values: their tangents would need a tangent axis
            return value, grad, self._array_hessian(theta)
        import numpy as np
        n = len(self.wrt)
        pattern = colors = None
        if n >= compress:
            pattern, colors = compression(self.tape, self.idx)
        k = n if colors is None else max(colors, default=-1) + 1
        seeds = np.eye(k) if colors is None else np.eye(k)[colors]
        dual = dual_over(self.ops)
        env = self._env(theta)
        for j, (w, ij) in enumerate(zip(self.wrt, self.idx)):
            if ij is not None:
                env[w] = Dual(env[w], seeds[j], dual)
        with np.errstate(all="ignore"):  # an inf or NaN entry is reported by the caller
            vals = evaluate(self.tape, env, dual)
            adj = reverse(self.tape, vals, self._wrt_idx, dual)
        H = []
        for i, ik in enumerate(self.idx):
            a = None if ik is None else adj[ik]
            if not isinstance(a, Dual):
                H.append([0.0] * n)
            elif colors is None:
                H.append(a.t.tolist())
            else:
                H.append(recover(a.t.tolist(), pattern[i], colors))
        return value, grad, H

    def _array_hessian(self, theta) -> list[list[float]]:
        """Array values (``ops`` is not FLOAT): column j from one dual pass whose
        tangent is the j-th component's unit seed."""
        import numpy as np
        dual = dual_over(self.ops)
        base_env = self._env(theta)
        n = len(self.names)
        cols: list[list[float]] = []
        for w, i, s, size in zip(self.wrt, self.idx, self.shapes, self.sizes):
            for c in range(size):
                if i is None:
                    cols.append([0.0] * n)
                    continue
                if s == ():
                    seed = 1.0
                else:
                    seed = np.zeros(size)
                    seed[c] = 1.0
                    seed = seed.reshape(s)
                env = dict(base_env)
                env[w] = Dual(base_env[w], seed, dual)
                vals = evaluate(self.tape, env, dual)
                adj = reverse(self.tape, vals, self._wrt_idx, dual)
                cols.append(self._flat(adj, "t"))
        return [[cols[j][k] for j in range(n)] for k in range(n)]


def _size(shape: tuple) -> int:
    n = 1
    for d in shape:
        n *= d
    return n


def component_names(name: str, shape: tuple) -> list[str]:
    """x → [x]; a vector x → x[1], x[2], …; a matrix A → A[1,1], A[1,2], … (row-major)."""
    if shape == ():
        return [name]
    if len(shape) == 1:
        return [f"{name}[{i + 1}]" for i in range(shape[0])]
    return [f"{name}[{i + 1},{j + 1}]" for i in range(shape[0]) for j in range(shape[1])]
