"""``calc fit``: gradient-descent training of a model's parameters on a CSV file.

The contract's "Fitting" section and section 6 of the notes:

- the free variables of MODEL that name CSV columns are data, the others are
  the parameters θ (in order of first appearance);
- the per-sample loss is ``(MODEL - TARGET)^2`` unless ``--loss`` gives one (it
  may use ``yhat`` for the model's output); J(θ) = mean per-sample loss;
- ``batch``: one update per epoch with the gradient averaged over all samples;
  ``online``: one update per sample; ``minibatch``: one update per mini-batch;
- ``fixed`` keeps the file's order, ``shuffle`` permutes the samples every
  epoch, ``sample`` draws n samples with replacement; ``--seed`` makes it repeatable.

The per-sample loss is built once as an expression (``yhat`` replaced by the
model's node) and turned into one tape; every gradient is the engine's own
reverse pass over that tape with the sample's columns bound.
"""
from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

from calccli.display import RichDisplay

from calccli.commands.fit_data import DataError, _clip, open_table, say  # noqa: F401 - DataError: for importers
from calccli.errors import CalcError, DomainError, ShapeError, UsageError
from calccli.numfmt import fmt_number

MODES = ("batch", "online", "minibatch")
ORDERS = ("fixed", "shuffle", "sample")
DIVERGED = 1e12


def columns_over_constants(table, *nodes):
    """A column named like a constant (e, pi) is the column in the model and the loss;
    calc says so on standard error."""
    from calccli.engine.expr import CONSTANTS, const, var
    from calccli.engine.tape import topo_order
    taken = {c for c in CONSTANTS if c in table.columns}
    used = {n.value for node in nodes if node is not None for n in topo_order(node)
            if n.op == "const" and n.value in taken}
    if not used:
        return nodes
    for c in sorted(used):
        say(f"note: '{c}' is the column {c} of {table.path} here, not the constant {c} = {CONSTANTS[c]:.6g}…")
    mapping = {const(c): var(c) for c in used}
    return tuple(None if node is None else substitute(node, mapping) for node in nodes)


def read_columns(table, names: list[str]):
    """The named columns of the table, with a progress bar on a terminal for a large file."""
    from calccli.commands.optimize import ProgressBar
    size = table.size
    with ProgressBar(round(size / 1e6) if size else None, f"reading {table.path} (MB)") as bar:
        return table.read(names, lambda done, total: bar.update(done // 1_000_000, ""))


def read_table(path: str):
    """The whole CSV file at ``path``, every column (for tools and tests): (table, columns, lines, n)."""
    table = open_table(path)
    cols, lines, n = table.read(table.columns)
    return table, cols, lines, n


# --------------------------------------------------------------------------- the loss

def substitute(root, mapping: dict):
    """``root`` with the nodes in ``mapping`` replaced (explicit topological walk, no recursion)."""
    from calccli.engine.expr import make
    from calccli.engine.tape import topo_order
    new = {}
    for n in topo_order(root):
        if n in mapping:
            new[n] = mapping[n]
        elif not n.args:
            new[n] = n
        else:
            args = tuple(new[a] for a in n.args)
            new[n] = n if all(a is b for a, b in zip(args, n.args)) else make(n.op, args, n.value)
    return new[root]


def _finite(theta) -> bool:
    for t in theta:
        if isinstance(t, float | int):
            if not math.isfinite(t):
                return False
        elif not bool((abs(t) < math.inf).all()):
            return False
    return True


def flat(names: list[str], values: list) -> tuple[list[str], list[float]]:
    """Parameters by component, as the JSON contract names them: w[1], w[2], A[1,2], b."""
    out_names, out_values = [], []
    for n, v in zip(names, values):
        if isinstance(v, float | int):
            out_names.append(n)
            out_values.append(float(v))
        elif v.ndim == 1:
            out_names += [f"{n}[{i + 1}]" for i in range(v.shape[0])]
            out_values += [float(x) for x in v]
        else:
            out_names += [f"{n}[{i + 1},{j + 1}]" for i in range(v.shape[0]) for j in range(v.shape[1])]
            out_values += [float(x) for x in v.ravel()]
    return out_names, out_values


# --------------------------------------------------------------------------- training

SNAPSHOTS = 1000     # θ is kept for at most this many epochs (thinned: every 1st, 2nd, 10th, 20th, 100th, …)
VECTOR_MIN = 8       # a mini-batch of at least this many samples is evaluated as one vectorised pass


@dataclass
class Run:
    mode: str
    order: str
    batch_size: int | None
    epochs: int
    lr: float
    seed: int | None
    params: list[str]
    init: list[float]
    theta: list[float]
    initial_loss: float
    history: list[float]                     # J after each epoch
    snapshots: dict[int, list]               # θ after some epochs (all when few; see keep)
    updates: int
    reason: str = ""                         # why it stopped early ("" = ran every epoch)
    diverged: bool = False
    stride: int = 1                          # snapshots holds the epochs that are multiples of stride

    @property
    def loss(self) -> float:
        return self.history[-1] if self.history else self.initial_loss

    def keep(self, epoch: int, theta: list) -> None:
        """Record θ after ``epoch``: every epoch while there are few, then a thinned
        set (multiples of a growing stride, 1, 2, 10, 20, 100, …, and the last)."""
        self.theta = list(theta)
        last = max(self.snapshots, default=0)
        if last % self.stride:
            del self.snapshots[last]             # the previous "last" is not on the grid
        self.snapshots[epoch] = list(theta)
        if len(self.snapshots) > SNAPSHOTS:
            self.stride *= 5 if str(self.stride).startswith("2") else 2
            for e in [e for e in self.snapshots if e % self.stride and e != epoch]:
                del self.snapshots[e]


def _epoch_order(n: int, order: str, rng) -> list[int]:
    if order == "fixed":
        return list(range(n))
    if order == "shuffle":
        idx = list(range(n))
        rng.shuffle(idx)
        return idx
    return [rng.randrange(n) for _ in range(n)]


class Evaluator:
    """Sums of the per-sample loss and gradient over groups of samples: the
    vectorised pass (BatchLoss) when the loss has a form in numbers (vectors
    written in their components) and the group is large enough, else the
    per-sample reference (SampleLoss)."""

    def __init__(self, sample):
        from calccli.commands.fit_loss import BatchLoss
        self.sample = sample
        self.batch = BatchLoss(sample) if BatchLoss.fits(sample) else None
        self.n = sample.n

    def grad_sum(self, theta, rows):
        if self.batch is not None and len(rows) >= VECTOR_MIN:
            _, g, err = self.batch.sums(theta, rows)
            if err is not None:
                raise err
            return g
        return self.sample.grad_sum(theta, rows)

    def mean(self, theta, grad: bool = False):
        """(J(θ), Σ gradient over every sample in file order or None, its deferred error)."""
        if self.batch is not None:
            J, g, err = self.batch.sums(theta, range(self.n), grad)
            return J / self.n, g, err
        return self.sample.mean(theta), None, None


def train(loss, theta0: list, mode: str, order: str, batch_size: int, epochs: int,
          lr: float, seed: int | None, bar=None, label: str = "") -> Run:
    """Gradient descent as the notes define it. In batch mode with the samples in
    file order or shuffled (a permutation does not change the batch's sum) the
    gradient at θ comes out of the same pass as J(θ) at the end of the epoch before."""
    ev = Evaluator(loss)
    n = ev.n
    rng = random.Random(seed)
    theta = list(theta0)
    whole = mode == "batch" and order != "sample" and ev.batch is not None   # each batch: all the samples
    J0, pending, perr = ev.mean(theta, grad=whole)        # a failure at the start is an error, not a result
    run = Run(mode, order, batch_size if mode == "minibatch" else None, epochs, lr, seed, list(loss.params),
              list(theta0), list(theta0), J0, [], {}, 0)
    try:
        for epoch in range(1, epochs + 1):
            if whole:
                if perr is not None:
                    raise perr
                groups = [(None, n)]
            else:
                idx = range(n) if order == "fixed" else _epoch_order(n, order, rng)
                size = n if mode == "batch" else 1 if mode == "online" else batch_size
                groups = [(idx[k:k + size], None) for k in range(0, n, size)]
            for u, (grp, m) in enumerate(groups, 1):
                g = pending if grp is None else ev.grad_sum(theta, grp)
                scale = lr / (m if grp is None else len(grp))
                theta = [t - scale * gk for t, gk in zip(theta, g)]
                run.updates += 1
                if not _finite(theta):
                    raise _Diverged("the parameters overflowed float64", epoch)
                if bar is not None and not u & 255:          # progress within a long epoch
                    bar.update(epoch - 1 + u / len(groups), f"{label}epoch {epoch}: {u:,} of {len(groups):,} updates")
            J, pending, perr = ev.mean(theta, grad=whole and epoch < epochs)
            run.history.append(J)
            run.keep(epoch, theta)
            if J > J0 + DIVERGED * max(1.0, abs(J0)):
                raise _Diverged(f"J grew from {J0:.6g} to {J:.6g}", epoch)
            if bar is not None:
                bar.update(epoch, f"{label}epoch {epoch}  J = {J:.6g}")
        if run.history and run.history[-1] > 100 * abs(J0) and run.history[-1] > 1e-8:
            raise _Diverged(f"J ended at {run.history[-1]:.6g}, far above its start {J0:.6g}", None)
    except _Diverged as d:
        run.diverged = True
        where = f"in epoch {d.epoch}" if d.epoch is not None else "over the run"
        run.reason = (f"diverged {where}: {d} — "
                      f"the learning rate {fmt_number(lr)} is too large; try a smaller --lr")
    except KeyboardInterrupt:
        raise KeyboardInterrupt(f"{label}in epoch {len(run.history) + 1} of {epochs}") from None
    except DomainError as e:
        ep = len(run.history) + 1
        if e.kind == "overflow":
            run.diverged = True
            run.reason = (f"diverged in epoch {ep}: {e.message} — the learning rate {fmt_number(lr)} "
                          "is too large; try a smaller --lr")
        else:
            run.reason = f"stopped in epoch {ep}: {e.message}" + (f"; hint: {e.hint}" if e.hint else "")
    return run


class _Diverged(Exception):
    def __init__(self, message: str, epoch: int | None):
        super().__init__(message)
        self.epoch = epoch


# --------------------------------------------------------------------------- results

@dataclass
class FitSetup:
    model: str
    loss_text: str
    path: str
    target: str
    nrows: int
    data_columns: list[str]
    params: list[str]
    seed_note: str = ""


@dataclass
class FitResult(RichDisplay):
    setup: FitSetup
    run: Run

    @property
    def exit_code(self) -> int:
        return 1 if self.run.reason else 0


@dataclass
class CompareResult(RichDisplay):
    setup: FitSetup
    runs: list[Run] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return 1 if any(r.reason for r in self.runs) else 0

    def best(self) -> Run:
        ok = [r for r in self.runs if not r.diverged] or self.runs
        return min(ok, key=lambda r: r.loss)


# --------------------------------------------------------------------------- entry point

def _check_options(mode, order, batch_size, epochs, lr):
    if mode not in MODES:
        raise UsageError(f"unknown mode '{mode}': use batch, online or minibatch")
    if order not in ORDERS:
        raise UsageError(f"unknown order '{order}': use fixed, shuffle or sample")
    if epochs is None or epochs < 1:
        raise UsageError(f"--epochs must be at least 1, got {epochs}")
    if lr is None or not math.isfinite(lr) or lr <= 0:
        raise UsageError(f"--lr must be a positive number, got {fmt_number(lr) if lr is not None else lr}")
    if batch_size is None or batch_size < 1:
        raise UsageError(f"--batch-size must be at least 1, got {batch_size}")


def _initial(init, params: list[str]) -> dict:
    """--init values by parameter name: numbers, or vectors/matrices (which fix that parameter's shape)."""
    from calccli.language.points import constant_value, parse_bindings
    values: dict = {}
    for b in parse_bindings(init, "--init"):
        try:
            v = constant_value(b.text)
        except CalcError as e:
            e.message = f"--init {b.name or ''}{'=' if b.name else ''}{b.text.strip()}: {e.message}"
            e.args = (e.message,)
            e.source = e.pos = e.end = None
            raise
        if not isinstance(v, float | int) and b.name is None:
            raise UsageError("--init without a name sets every parameter to one number; "
                             "give an array to one parameter by name: --init w=[0,0,0]")
        if b.name is None:
            values = {p: float(v) for p in params}
        elif b.name not in params:
            raise UsageError(f"--init gives '{b.name}', which is not a parameter of the model "
                             f"(the parameters are {', '.join(params)})")
        else:
            values[b.name] = float(v) if isinstance(v, float | int) else v
    return values


def parse_features(features, table: Table) -> dict[str, list[str]]:
    """--features x=c1,c2,… (several groups: repeat the option or separate with ';'):
    a vector data variable assembled from named columns, in that order."""
    groups: dict[str, list[str]] = {}
    if isinstance(features, str):
        features = [features]
    for opt in features or []:
        for part in str(opt).split(";"):
            if not part.strip():
                continue
            name, eq, cols = part.partition("=")
            name = name.strip()
            if not eq or not name.isidentifier():
                raise UsageError(f"--features expects NAME=COL,COL,…, e.g. --features x=sepal_length,sepal_width; "
                                 f"got '{_clip(part.strip())}'")
            names = [c.strip() for c in cols.split(",")]
            if not all(names):
                raise UsageError(f"--features {name}: a column name is empty ('{_clip(cols.strip())}')")
            missing = [c for c in names if c not in table.columns]
            if missing:
                raise UsageError(f"--features {name}: no column '{missing[0]}' in {table.path} "
                                 f"(the columns are {', '.join(table.columns)})")
            if name in table.columns:
                raise UsageError(f"--features {name}: '{name}' is already a column of {table.path}; "
                                 "choose another name for the vector")
            if name in groups:
                raise UsageError(f"--features gives '{name}' twice")
            groups[name] = names
    return groups


MAX_SHAPE_TRIALS = 4096


def infer_param_shapes(node, params: list[str], env0: dict, fixed: dict, lengths: list[int]) -> dict:
    """A shape for each parameter without one from --init: the first assignment
    (numbers first, then vectors as long as a feature vector) for which the
    per-sample loss is a number. w in sigmoid(w^T x + b) gets x's length."""
    import itertools
    import numpy as np
    from calccli.engine.arrays import infer_shapes
    from calccli.engine.tape import build_tape
    tape = build_tape(node)
    free = [p for p in params if p not in fixed]
    cands = [()] + [(n,) for n in sorted(set(lengths))]
    combos = sorted(itertools.product(range(len(cands)), repeat=len(free)), key=lambda c: sum(k > 0 for k in c))
    first = None
    for combo in combos[:MAX_SHAPE_TRIALS]:
        shapes = {p: cands[k] for p, k in zip(free, combo)}
        env = dict(env0)
        env.update((p, np.zeros(sh) if sh else 0.0) for p, sh in shapes.items())
        env.update(fixed)
        try:
            root = infer_shapes(tape, env)[-1]
        except ShapeError as e:
            first = first or e
            continue
        if root == ():
            return shapes
    if first is not None:
        first.message = (f"{first.message} — calc tried numbers and vectors as long as the features for "
                         f"{', '.join(free)}; give the shapes with --init, e.g. --init {free[0]}=[0,0]")
        first.args = (first.message,)
        first.source = first.pos = first.end = None
        raise first
    raise ShapeError(f"the per-sample loss is not a number for any shape of {', '.join(free)}; "
                     f"give the shapes with --init, e.g. --init {free[0]}=[0,0]")


def fit_model(model, data, target, mode="batch", batch_size=16, order="fixed", epochs=100, lr=0.05,
              seed=None, init=None, loss=None, compare=False, features=None):
    """``calc fit``: read the data, build the loss, run gradient descent (each mode with --compare)."""
    try:
        job = prepare(model, data, target, mode, batch_size, order, epochs, lr, seed, init, loss, compare, features)
    except KeyboardInterrupt:
        say(f"interrupted while reading --data {data}")
        raise
    try:
        return job.run()
    except KeyboardInterrupt as stop:
        say(f"interrupted{' ' + str(stop) if str(stop) else ''}: no result")
        raise


@dataclass
class Job:
    """A fit ready to run: the data read, the per-sample loss on its tape, the start."""
    setup: FitSetup
    loss: object                 # fit_loss.SampleLoss
    theta0: list
    modes: tuple
    order: str
    batch_size: int
    epochs: int
    lr: float
    seed: int | None

    def run(self):
        from calccli.commands.optimize import ProgressBar
        compare = len(self.modes) > 1
        with ProgressBar(self.epochs * len(self.modes), "fit") as bar:
            runs = []
            for k, m in enumerate(self.modes):
                offset = k * self.epochs

                class _Shift:  # one bar across the compared runs
                    @staticmethod
                    def update(done, info=""):
                        bar.update(offset + done, info)
                runs.append(train(self.loss, self.theta0, m, self.order, self.batch_size, self.epochs, self.lr,
                                  self.seed, _Shift, f"{m}: " if compare else ""))
        if compare:
            return CompareResult(self.setup, runs)
        return FitResult(self.setup, runs[0])


def prepare(model, data, target, mode="batch", batch_size=16, order="fixed", epochs=100, lr=0.05,
            seed=None, init=None, loss=None, compare=False, features=None) -> Job:
    from calccli.engine.expr import free_vars, num, power, sub, var
    from calccli.language.parse import parse
    mode = (mode or "batch").strip().lower()
    order = (order or "fixed").strip().lower()
    _check_options(mode, order, batch_size, epochs, lr)
    model_node = parse(model).node
    loss_node = parse(loss).node if loss is not None and loss.strip() else None
    table = open_table(data)
    try:
        model_node, loss_node = columns_over_constants(table, model_node, loss_node)
        cols = set(table.columns)
        if target not in cols:
            raise UsageError(f"--target {target}: no such column in {data} "
                             f"(the columns are {', '.join(table.columns)})")
        groups = parse_features(features, table)
        if target in {c for g in groups.values() for c in g}:
            raise UsageError(f"--features uses the target column '{target}' as an input")
        cols |= set(groups)          # a feature vector is data, like a column
        model_vars = free_vars(model_node)
        if target in model_vars:
            raise UsageError(f"the model uses the target column '{target}' as an input")
        yhat = var("yhat")
        if loss_node is None:
            per_sample = power(sub(model_node, var(target)), num(2))
            loss_text = f"(yhat - {target})^2"
        else:
            per_sample = substitute(loss_node, {yhat: model_node})
            loss_text = loss.strip()
        names = free_vars(per_sample)
        params = [v for v in model_vars if v not in cols] + [v for v in names if v not in cols and v not in model_vars]
        if not params:
            raise UsageError(f"the model has no parameters to fit: every name in it "
                             f"({', '.join(model_vars) or 'none'}) is a column of {data}")
        if loss_node is not None and not any(p in names for p in model_vars if p not in cols):
            raise UsageError("--loss does not use the model: write yhat for the model's output, "
                             f"e.g. --loss \"(yhat - {target})^2\"")
        used_groups = {g: c for g, c in groups.items() if g in names}
        data_cols = [c for c in table.columns if c in names]
        feature_cols = [c for g in used_groups.values() for c in g if c not in data_cols]
        columns, lines, n = read_columns(table, data_cols + list(dict.fromkeys(feature_cols)))
    finally:
        table.close()
    vectors = {}
    if used_groups:
        import numpy as np
        vectors = {g: np.column_stack([np.frombuffer(columns[c]) for c in gc]) for g, gc in used_groups.items()}
    from calccli.commands.fit_loss import Data, SampleLoss
    dataset = Data({c: columns[c] for c in data_cols}, lines, vectors, n)
    n = dataset.n
    if (mode == "minibatch" or compare) and batch_size > n:
        raise UsageError(f"--batch-size {batch_size} is larger than the data ({n} rows)")
    given = _initial(init, params)
    fixed = {p: v for p, v in given.items() if not isinstance(v, float | int)}
    shapes = {p: () for p in params}
    if used_groups or fixed:
        shapes.update(infer_param_shapes(per_sample, params, dataset.row(0), fixed,
                                         [len(c) for c in used_groups.values()]))
    theta0 = []
    for p in params:
        v = given.get(p, 0.0)
        if p in fixed:
            theta0.append(v)
        elif shapes[p]:
            import numpy as np
            theta0.append(np.full(shapes[p], float(v)))
        else:
            theta0.append(float(v))
    sample_loss = SampleLoss(per_sample, params, dataset, theta0)
    seed_note = ""
    if order != "fixed" and seed is None:
        seed = random.SystemRandom().randrange(2 ** 31)
        seed_note = f"seed {seed} was chosen at random: add --seed {seed} to repeat this run"
    shown_cols = data_cols + [f"{g} = [{', '.join(c)}]" for g, c in used_groups.items()]
    setup = FitSetup(model.strip(), loss_text, data, target, n, shown_cols, params, seed_note)
    return Job(setup, sample_loss, theta0, MODES if compare else (mode,), order, batch_size, epochs, lr, seed)
