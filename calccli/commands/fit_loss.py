"""The per-sample loss of ``calc fit`` on one tape: per sample (the reference,
:class:`SampleLoss`), or a chunk of samples per pass on numpy columns
(:class:`BatchLoss`: a tape of numbers through the engine's evaluate and reverse
on the ARRAY namespace; the adjoint of a scalar parameter sums the samples).

A loss with vectors (``sigmoid(w^T x + b)`` with ``--features x=…``) is batched
through its :class:`ScalarForm`: the tape evaluated once on arrays of symbols
(``arrays.SYMBOLS``) gives the loss as an expression of the components w[1],
x[1], …, whose tape is one of numbers; the components' gradients are put back
into the vector parameters' shapes."""
from __future__ import annotations

import math
from array import array
from functools import cached_property

from calccli.errors import CalcError, DomainError, ShapeError

CHUNK = 1 << 16      # samples per vectorised pass: the tape's values stay in the CPU caches
CELLS = 1 << 22      # at most this many values (tape nodes × samples) per pass, for a long tape
MAX_SCALAR_NODES = 4096   # a larger scalar form of a vector loss stays per sample (many passes of few samples)


class Data:
    """The data columns: floats per column (any sequence: array('d'), list), feature
    vectors as an n×d numpy matrix per group, and the file line of each row."""

    def __init__(self, columns: dict, lines, groups: dict | None = None, n: int | None = None):
        self.columns = columns
        self.groups = groups or {}
        self.n = n if n is not None else len(next(iter(columns.values()), None) or next(iter(self.groups.values())))
        self.lines = lines          # a sequence, or a function of the row index
        self._arrays = None

    def line(self, i: int) -> int:
        return self.lines(i) if callable(self.lines) else self.lines[i]

    def row(self, i: int) -> dict:
        env = {c: col[i] for c, col in self.columns.items()}
        for g, m in self.groups.items():
            env[g] = m[i]
        return env

    def arrays(self) -> dict:
        """The scalar columns as float64 numpy arrays (views of the data where possible)."""
        if self._arrays is None:
            import numpy as np
            self._arrays = {c: np.frombuffer(col) if isinstance(col, array) else np.asarray(col, dtype=float)
                            for c, col in self.columns.items()}
        return self._arrays


class SampleLoss:
    """The per-sample loss on one tape: its value and gradient for one row of data.

    ``theta0`` gives each parameter's starting value, and so its shape (a
    number, or an array for a vector parameter such as w in w^T x)."""

    def __init__(self, node, params: list[str], data: Data, theta0=None):
        from calccli.engine.evaluate import ops_for
        from calccli.engine.primitives import shape_of
        from calccli.engine.tape import build_tape
        self.tape = build_tape(node)
        self.params = params
        self.data = data
        env = data.row(0)
        theta0 = theta0 if theta0 is not None else [0.0] * len(params)
        env.update(zip(params, theta0))
        self.shapes = [shape_of(t) for t in theta0]
        self.ops = ops_for(self.tape, env)
        shapes = self.tape.cache.get("shapes")
        if shapes and shapes[-1] != ():
            from calccli.engine.primitives import shape_words
            raise ShapeError(f"the per-sample loss must be a number; here it is {shape_words(shapes[-1])} "
                             "(for a vector model, reduce it: sum(…), or w^T x for a product)")
        self.idx = [self.tape.variables.get(p) for p in params]
        self.wrt = [i for i in self.idx if i is not None]

    @property
    def n(self) -> int:
        return self.data.n

    @cached_property
    def form(self) -> ScalarForm | None:
        """The loss as a tape of numbers on columns, for BatchLoss (None: per sample only)."""
        return ScalarForm.of(self)

    def _env(self, theta, i):
        env = self.data.row(i)
        env.update(zip(self.params, theta))
        return env

    def _where(self, e: CalcError, i: int) -> CalcError:
        e.message = f"{e.message} (data line {self.data.line(i)})"
        e.args = (e.message,)
        return e

    def value(self, theta, i) -> float:
        from calccli.engine.evaluate import evaluate
        try:
            return evaluate(self.tape, self._env(theta, i), self.ops)[-1]
        except DomainError as e:
            raise self._where(e, i) from None

    def value_and_grad(self, theta, i):
        from calccli.engine.evaluate import evaluate
        from calccli.engine.reverse import reverse
        try:
            vals = evaluate(self.tape, self._env(theta, i), self.ops)
            adj = reverse(self.tape, vals, self.wrt, self.ops)
        except DomainError as e:
            raise self._where(e, i) from None
        return float(vals[-1]), [_zero_like(t) if j is None or adj[j] is None else _as_value(adj[j])
                                 for j, t in zip(self.idx, theta)]

    def grad_sum(self, theta, rows) -> list:
        """Σ over ``rows`` of the per-sample gradients, added in order."""
        p = len(theta)
        g = [0.0] * p
        for i in rows:
            _, gi = self.value_and_grad(theta, i)
            for k in range(p):
                g[k] += gi[k]
        return g

    def total(self, theta, rows) -> float:
        return math.fsum(self.value(theta, i) for i in rows)

    def mean(self, theta) -> float:
        return self.total(theta, range(self.n)) / self.n


def _zero_like(t):
    return 0.0 if isinstance(t, float | int) else t * 0.0


def _as_value(v):
    return float(v) if isinstance(v, float | int) else v.copy()


class ScalarForm:
    """The per-sample loss as a tape of numbers: what BatchLoss evaluates on columns.

    ``columns``: the data of the tape's variables (a column, or one component of
    a feature vector, x[2]); ``names[k]``: the variables of parameter k's
    components (row-major; one, its own name, for a number). For a loss of
    numbers this is the sample's own tape."""

    def __init__(self, tape, columns: dict, names: list[list[str]], shapes: list[tuple]):
        self.tape, self.columns, self.shapes = tape, columns, shapes
        self.idx = [[tape.variables.get(c) for c in cs] for cs in names]
        self.names = names
        self.wrt = sorted({j for js in self.idx for j in js if j is not None})

    @classmethod
    def of(cls, sample: SampleLoss) -> ScalarForm | None:
        from calccli.engine.ops import FLOAT
        data = sample.data
        if sample.ops is FLOAT and not data.groups:
            return cls(sample.tape, data.arrays(), [[p] for p in sample.params], [()] * len(sample.params))
        return cls._scalarised(sample)

    @classmethod
    def _scalarised(cls, sample: SampleLoss) -> ScalarForm | None:
        """The vector loss written in components, from one evaluation of its tape on
        symbols; None when a primitive has no such form or the form is too large."""
        import numpy as np
        from calccli.engine.arrays import SYMBOLS, symbolic_prim
        from calccli.engine.evaluate import evaluate
        from calccli.engine.expr import Node, size, var
        from calccli.engine.objective import component_names
        from calccli.engine.tape import build_tape
        tape, data = sample.tape, sample.data
        if not all(symbolic_prim(tape.prims[i].name) for i in tape.rows) or _entries(tape) > MAX_SCALAR_NODES:
            return None

        def symbols(name, shape):
            if not shape:
                return var(name)
            return np.array([var(c) for c in component_names(name, shape)], dtype=object).reshape(shape)
        env = {c: var(c) for c in data.columns}
        env.update((g, symbols(g, m.shape[1:])) for g, m in data.groups.items())
        env.update((p, symbols(p, s)) for p, s in zip(sample.params, sample.shapes))
        try:
            root = evaluate(tape, env, SYMBOLS)[-1]
        except (CalcError, ArithmeticError, AttributeError, LookupError, TypeError, ValueError):
            return None                # no form in components: the per-sample path stays exact
        if not isinstance(root, Node) or size(root) > MAX_SCALAR_NODES:
            return None
        form = build_tape(root)
        if any(form.prims[i].array for i in form.rows):
            return None
        columns = {c: a for c, a in data.arrays().items() if c in form.variables}
        for g, m in data.groups.items():
            for k, c in enumerate(component_names(g, m.shape[1:])):
                if c in form.variables:
                    columns[c] = np.ascontiguousarray(m[:, k])
        names = [component_names(p, s) for p, s in zip(sample.params, sample.shapes)]
        return cls(form, columns, names, list(sample.shapes))

    def bind(self, env: dict, theta) -> None:
        """The parameters' components into ``env``."""
        for cs, s, t in zip(self.names, self.shapes, theta):
            if s:
                env.update(zip(cs, map(float, t.ravel())))
            else:
                env[cs[0]] = t

    def gradient(self, adj, scale) -> list:
        """Each parameter's gradient, in its shape, from the components' adjoints."""
        import numpy as np
        out = []
        for js, s in zip(self.idx, self.shapes):
            g = [0.0 if j is None or adj[j] is None else float(adj[j]) * scale for j in js]
            out.append(np.array(g).reshape(s) if s else g[0])
        return out


def _entries(tape) -> int:
    """The entries the form in components computes, from the shapes alone (checked
    before anything is made; the form's own size, about twice this, after): each
    row's entries, or its arguments' for a reduction; A B makes one product per
    entry of A and column of B."""
    shapes = tape.cache.get("shapes") or [()] * len(tape.nodes)
    total = 0
    for i in tape.rows:
        args = [shapes[j] for j in tape.args[i]]
        if tape.prims[i].name == "matmul":
            a, b = args
            total += math.prod(a) * (b[1] if len(b) == 2 else 1)
        else:
            total += max(math.prod(shapes[i]), sum(map(math.prod, args)))
    return total


class BatchLoss:
    """The loss's :class:`ScalarForm` evaluated on column arrays, a chunk of samples per pass.

    Every primitive of a tape of numbers works entry by entry, and the reverse
    pass's ``fit`` sums a contribution to a scalar parameter (or component) over
    the samples, which is the sum of the per-sample gradients. A chunk that
    fails (a domain error, a value that is not finite) is redone by the
    per-sample reference, which names the data line exactly as the per-sample
    path does."""

    def __init__(self, sample: SampleLoss):
        self.sample = sample
        self.form = sample.form
        self.tape = self.form.tape
        self.chunk = max(1, min(CHUNK, CELLS // len(self.tape.nodes)))

    @staticmethod
    def fits(sample: SampleLoss) -> bool:
        return sample.form is not None

    def _chunks(self, rows):
        """(selection, the same rows as a range or list) per chunk of ``rows``."""
        if isinstance(rows, range) and rows.step == 1:
            for s in range(rows.start, rows.stop, self.chunk):
                e = min(s + self.chunk, rows.stop)
                yield slice(s, e), range(s, e)
        else:
            import numpy as np
            for s in range(0, len(rows), self.chunk):
                part = rows[s:s + self.chunk]
                yield np.asarray(part, dtype=np.intp), part

    def _pass(self, theta, sel, m: int, grad: bool):
        """(Σ loss, [Σ gradient] or None) over one chunk of m samples."""
        import numpy as np
        from calccli.engine.arrays import ARRAY
        from calccli.engine.evaluate import evaluate
        from calccli.engine.reverse import reverse
        form = self.form
        env = {c: a[sel] for c, a in form.columns.items()}
        form.bind(env, theta)
        vals = evaluate(self.tape, env, ARRAY)
        root = vals[-1]
        scale = 1 if np.ndim(root) else m      # a loss that uses no column is the same for every sample
        J = float(np.sum(root)) * scale
        if not grad:
            return J, None
        # seeded with one per sample, so that a term without data (a penalty on θ) counts once per sample
        adj = reverse(self.tape, vals, form.wrt, ARRAY, seed=np.ones(m) if scale == 1 else None)
        return J, form.gradient(adj, scale)

    def sums(self, theta, rows, grad: bool = True):
        """(Σ loss, Σ gradient, error) over ``rows``; ``error`` is the CalcError the
        gradient raised (the sum of losses is still complete), to be raised when
        the gradient is used."""
        J, g, err = 0.0, [0.0] * len(theta), None
        for sel, part in self._chunks(rows):
            try:
                Jc, gc = self._pass(theta, sel, len(part), grad and err is None)
            except CalcError:
                Jc, gc = self._reference(theta, part, grad and err is None)
            except FloatingPointError:     # pragma: no cover - the engine reports these as CalcErrors
                Jc, gc = self._reference(theta, part, grad and err is None)
            J += Jc
            if isinstance(gc, CalcError):
                err, gc = gc, None
            if gc is not None:
                g = [a + b for a, b in zip(g, gc)]
        return J, (None if err is not None or not grad else g), err

    def _reference(self, theta, part, grad: bool):
        """One chunk by the per-sample path: its exact values, or its exact error."""
        J = self.sample.total(theta, part)          # raises the per-sample error of the loss itself
        if not grad:
            return J, None
        try:
            return J, self.sample.grad_sum(theta, part)
        except CalcError as e:
            return J, e
