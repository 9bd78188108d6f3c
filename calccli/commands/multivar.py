"""Several variables: gradient, Jacobian and Hessian at a point (``calc grad``,
``calc jacobian``, ``calc hessian``).

Everything here drives the one engine: the tape, ``evaluate``, ``forward`` and
``reverse`` over the FLOAT namespace (scalars) or the ARRAY one (vectors and
matrices), and :class:`calccli.objective.Objective` for forward-over-reverse
Hessians. Vector and matrix variables are flattened row-major into components
``x[1]``, ``A[1,2]`` (the contract's JSON names); the views show them in their
own shape.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from calccli.display import RichDisplay

from calccli.errors import ShapeError, UsageError
from calccli.engine.evaluate import depends, evaluate, ops_for
from calccli.engine.forward import forward
from calccli.numfmt import fmt_number
from calccli.engine.objective import Objective, component_names
from calccli.engine.ops import FLOAT
from calccli.language.parse import parse
from calccli.language.points import resolve
from calccli.engine.primitives import shape_of, shape_words
from calccli.engine.reverse import reverse
from calccli.engine.tape import build_tape


# --------------------------------------------------------------------------- the problem

@dataclass
class Var:
    name: str
    shape: tuple
    index: int | None                 # the variable's node on the tape (None: not used)
    components: list[str]

    @property
    def size(self) -> int:
        return len(self.components)


@dataclass
class _Setup:
    text: str
    parsed: object
    tape: object
    env: dict
    point: dict
    lets: dict
    ops: object
    vals: list
    vars: list[Var]
    out_shape: tuple

    @property
    def root(self) -> int:
        return len(self.tape.nodes) - 1

    @property
    def wrt_idx(self) -> list[int]:
        return [v.index for v in self.vars if v.index is not None]


def _setup(text: str, at, let, wrt, command: str) -> _Setup:
    parsed = parse(text)
    prob = resolve(parsed.node, at, let, wrt, parsed=parsed)
    if not prob.wrt:
        raise UsageError(f"{command} needs variables: give the point with --at (e.g. --at x=1,y=2)")
    tape = build_tape(parsed.node)
    ops = ops_for(tape, prob.env)
    vals = evaluate(tape, prob.env, ops)
    shapes = tape.cache.get("shapes") if ops is not FLOAT else None
    out_shape = shapes[-1] if shapes else ()
    variables = []
    for w in prob.wrt:
        s = shape_of(prob.env.get(w, 0.0))
        variables.append(Var(w, s, tape.variables.get(w), component_names(w, s)))
    point = {k: v for k, v in prob.point.items()}
    lets = {k: v for k, v in prob.env.items() if k not in prob.point}
    return _Setup(text, parsed, tape, prob.env, point, lets, ops, vals, variables, out_shape)


def _out_name(s: _Setup) -> str:
    return s.tape.name_of(s.root) if s.tape.rows else "f"


def _need_scalar(s: _Setup, command: str, other: str) -> None:
    if s.out_shape != ():
        raise ShapeError(f"{command} needs a scalar expression; this one is {shape_words(s.out_shape)} "
                         f"(use calc {other})", source=s.text, pos=0, end=len(s.text))


def _flat(v) -> list[float]:
    """A float or an array as a list of floats (row-major); -0.0 becomes 0.0."""
    if isinstance(v, float | int):
        return [float(v) + 0.0]
    return [float(x) + 0.0 for x in v.reshape(-1)]


def _finite(v) -> bool:
    if v is None:
        return True
    if isinstance(v, float | int):
        return math.isfinite(v)
    import numpy as np
    return bool(np.isfinite(v).all())


def check_derivatives(tape, ders, order, output: str, wrt: str | None = None) -> None:
    """Raise for the first node (in ``order``) whose adjoint or tangent is inf or
    NaN: a derivative beyond float64 is reported, never printed as inf."""
    from calccli.errors import NotDifferentiable, OverflowErr
    for j in order:
        d = ders[j]
        if not _finite(d):
            name = tape.name_of(j)
            d_text = f"∂{output}/∂{name}" if wrt is None else f"∂{name}/∂{wrt}"
            import math as _m
            nan = any(_m.isnan(x) for x in _flat(d))
            if nan:
                raise NotDifferentiable(f"not differentiable at this point: {d_text} is undefined (NaN)")
            raise OverflowErr(f"the derivative {d_text} overflows float64 at this point "
                              "(beyond about 1.8e308)")


def _zeros(shape):
    if shape == ():
        return 0.0
    import numpy as np
    return np.zeros(shape)


def _unit(shape, k):
    """The k-th (row-major) unit seed of ``shape``."""
    if shape == ():
        return 1.0
    import numpy as np
    e = np.zeros(shape)
    e.reshape(-1)[k] = 1.0
    return e


# --------------------------------------------------------------------------- number formatting for views

def num(v) -> str:
    """A number in a view: full precision where short, else 10 significant digits."""
    v = float(v) + 0.0
    s = fmt_number(v)
    if len(s) <= 12:
        return s
    t = f"{v:.10g}"
    return t if "e" not in t else t.replace("e+", "e")


def inline(v) -> str:
    """A value in calc's own syntax: 2, [1, 2], [[1, 2], [3, 4]] (full precision)."""
    if isinstance(v, float | int):
        return fmt_number(float(v) + 0.0)
    if v.ndim == 1:
        return "[" + ", ".join(fmt_number(float(x) + 0.0) for x in v) + "]"
    return "[" + ", ".join(inline(r) for r in v) + "]"


def _short_inline(v) -> str:
    if isinstance(v, float | int):
        return num(v)
    if v.ndim == 1:
        return "[" + ", ".join(num(x) for x in v) + "]"
    return "[" + ", ".join(_short_inline(r) for r in v) + "]"


def _title(s: _Setup) -> str:
    names = ", ".join(s.point) or ", ".join(v.name for v in s.vars)
    at = ", ".join(f"{k} = {inline(v)}" for k, v in s.point.items())
    used = _used(s)
    lets = [f"{k} = {inline(v)}" for k, v in s.lets.items() if k in used and _is_value(v)]
    out = f"f({names}) = {s.text}"
    if at:
        out += f"    at {at}"
    if lets:
        out += f"    with {', '.join(lets)}"
    return out


def _is_value(v) -> bool:
    return isinstance(v, float | int) or hasattr(v, "ndim")


def _used(s: _Setup) -> set:
    return set(s.tape.variables)


def _args(s: _Setup) -> str:
    return ", ".join(inline(v) for v in s.point.values())


# --------------------------------------------------------------------------- grad

@dataclass
class GradResult(RichDisplay):
    expression: str
    variables: list[str]               # components, flattened row-major
    point: dict
    value: float
    gradient: list[float]
    parts: list[tuple[str, tuple, object]]   # (variable, shape, gradient in its shape)
    title: str = ""
    args: str = ""
    output: str = "f"
    trace: list | None = None
    steps: list | None = None


def grad_at(text: str, at, let=None, wrt=None, steps: bool = False) -> GradResult:
    """The gradient of a scalar expression by one reverse pass."""
    s = _setup(text, at, let, wrt, "grad")
    _need_scalar(s, "grad", "jacobian")
    record = [] if steps else None
    adj = reverse(s.tape, s.vals, s.wrt_idx, s.ops, record=record)
    check_derivatives(s.tape, adj, list(reversed(s.tape.rows)) + s.wrt_idx, _out_name(s))
    parts, gradient = [], []
    for v in s.vars:
        g = adj[v.index] if v.index is not None and adj[v.index] is not None else _zeros(v.shape)
        g = g + 0.0 if isinstance(g, float | int) else g + 0.0
        parts.append((v.name, v.shape, g))
        gradient += _flat(g)
    trace = step_list = None
    output = s.tape.name_of(s.root) if s.tape.rows else "f"
    if steps:
        need = depends(s.tape, s.wrt_idx)
        if s.ops is FLOAT:
            from calccli.explain.steps import reverse_steps, trace_rows
            trace = trace_rows(s.tape, s.vals, need)
            step_list = reverse_steps(s.tape, record, adj, s.wrt_idx)
        else:
            trace = array_trace_rows(s.tape, s.vals, need)
            step_list = array_reverse_steps(s.tape, record, adj, s.wrt_idx)
    return GradResult(text, [c for v in s.vars for c in v.components], s.point, float(s.vals[-1]) + 0.0,
                      gradient, parts, _title(s), _args(s), output, trace, step_list)


# --------------------------------------------------------------------------- steps for arrays

def array_trace_rows(tape, vals, need) -> list:
    """Trace rows for a tape with vectors and matrices: each row's definition and
    value; the local derivative symbolically for elementwise functions, and the
    adjoint rule in words for array operations (matrix product, det, …)."""
    from calccli.explain.steps import Partial, TraceRow, local_partial_expr
    from calccli.engine.printer import definition
    nn = tape.node_names()
    rows = []
    for i in tape.rows:
        p = tape.prims[i]
        partials = []
        seen = set()
        for k, j in enumerate(tape.args[i]):
            if not need[j] or j in seen:
                continue
            seen.add(j)
            if p.array:
                out = tape.name_of(len(tape.nodes) - 1)
                g = None if i == len(tape.nodes) - 1 else f"∂{out}/∂{tape.names[i]}"
                partials.append(Partial(tape.name_of(j), f"∂{out}/∂{tape.name_of(j)} += "
                                        + adjoint_text(tape, i, k, g), None))
                continue
            try:
                value = p.partials[k](FLOAT, *[vals[a] for a in tape.args[i]], vals[i])
            except Exception:  # noqa: BLE001 - array arguments: shown symbolically only
                value = None
            partials.append(Partial(tape.name_of(j), local_partial_expr(tape, i, k), value))
        rows.append(TraceRow(tape.names[i], definition(tape.nodes[i], nn), vals[i], partials))
    return rows


def adjoint_text(tape, i: int, k: int, g: str | None) -> str:
    """Row i's contribution to the adjoint of its argument k, in words
    (``g``: the name of row i's adjoint; None when row i is the output, whose adjoint is 1)."""
    rule = tape.prims[i].array["adjoint"]
    names = [tape.name_of(a) for a in tape.args[i]]
    user = tape.name_of(i)
    if g is not None:
        return rule(k, g, names, user)
    text = rule(k, "\0", names, user)
    text = text.replace("(\0)ᵀ", "1").replace("\0·", "").replace("·\0", "").replace("\0", "1")
    return text or "1"


def array_reverse_steps(tape, record, adj, wrt_idx) -> list:
    """One step per node, from the output back to the variables: the adjoint
    contributions (elementwise chain rule, or an array rule such as Aᵀ ∂f/∂c)
    and their values."""
    from calccli.explain.steps import Step
    root = len(tape.nodes) - 1
    out = tape.name_of(root)
    uses: dict[int, list] = {}
    for (i, k, j, d, c) in record:
        uses.setdefault(j, []).append((i, k, d, c))
    steps = [Step(f"∂{out}/∂{out}", "1", "1", 1.0)]
    order = [j for j in reversed(tape.rows) if j != root and j in uses] + [j for j in wrt_idx if j in uses]
    for j in order:
        name = tape.name_of(j)
        terms = sorted(uses[j], key=lambda u: u[0])
        formula, numeric = [], []
        for (i, k, d, c) in terms:
            user = tape.name_of(i)
            p = tape.prims[i]
            g = "1" if i == root else f"∂{out}/∂{user}"
            rule = p.array.get("adjoint")
            if rule is not None:
                formula.append(adjoint_text(tape, i, k, g if i != root else None))
            else:
                local = f"∂{user}/∂{name}"
                formula.append(local if i == root else f"{g}·{local}")
            numeric.append(fmt_number(c) if isinstance(c, float | int) else _short_inline(c))
        users = list(dict.fromkeys(tape.name_of(t[0]) for t in terms))
        note = f"{name} feeds {', '.join(users[:-1])} and {users[-1]}: contributions add" if len(users) > 1 else ""
        steps.append(Step(f"∂{out}/∂{name}", " + ".join(formula), " + ".join(numeric), adj[j], note))
    return steps


# --------------------------------------------------------------------------- jacobian

@dataclass
class JacobianResult(RichDisplay):
    expression: str
    variables: list[str]
    outputs: list[str]
    point: dict
    value: list[float]
    jacobian: list[list[float]]
    mode: str
    passes: int
    other_passes: int
    requested: str = "auto"
    title: str = ""
    args: str = ""
    shape: tuple = ()                 # the output's shape (a matrix output is shown as one)


def _output_labels(s: _Setup) -> list[str]:
    node = s.tape.nodes[s.root]
    shape = s.out_shape
    if shape == ():
        return ["f"]
    src = s.parsed
    if node.op == "vector" and len(shape) == 1:
        from calccli.engine.arrays import snippet
        labels = []
        for a in node.args:
            span = src.span(a)
            labels.append(snippet(src.text, span) if span else str(a))
        return labels
    return component_names("f", shape)


def jacobian_at(text: str, at, let=None, wrt=None, mode: str = "auto") -> JacobianResult:
    """The Jacobian by forward mode (one pass per input component) or reverse
    mode (one pass per output component); ``auto`` takes the one with fewer
    passes (a tie goes to forward)."""
    if mode not in ("auto", "forward", "reverse"):
        raise UsageError(f"unknown mode '{mode}': use auto, forward or reverse")
    s = _setup(text, at, let, wrt, "jacobian")
    n_in = sum(v.size for v in s.vars)
    n_out = 1
    for d in s.out_shape:
        n_out *= d
    # forward: one pass per input component the expression uses; reverse: one per output component
    n_fwd = sum(v.size for v in s.vars if v.index is not None)
    chosen = mode if mode != "auto" else ("forward" if n_fwd <= n_out else "reverse")
    J = [[0.0] * n_in for _ in range(n_out)]
    root = s.root
    if chosen == "forward":
        col = 0
        passes = 0
        for v in s.vars:
            for c in range(v.size):
                if v.index is not None:
                    tan = forward(s.tape, s.vals, {v.index: _unit(v.shape, c)}, s.ops)
                    check_derivatives(s.tape, tan, s.tape.rows, "f", v.components[c])
                    passes += 1
                    t = tan[root]
                    if t is not None:
                        for r, x in enumerate(_flat(s.ops.fit(t, s.vals[root]) if s.ops is not FLOAT else t)):
                            J[r][col] = x
                col += 1
        other = n_out
    else:
        passes = 0
        for r in range(n_out):
            adj = reverse(s.tape, s.vals, s.wrt_idx, s.ops, seed=_unit(s.out_shape, r))
            check_derivatives(s.tape, adj, list(reversed(s.tape.rows)) + s.wrt_idx, _out_name(s))
            passes += 1
            row = []
            for v in s.vars:
                a = adj[v.index] if v.index is not None else None
                row += _flat(a) if a is not None else [0.0] * v.size
            J[r] = row
        other = n_fwd
    return JacobianResult(text, [c for v in s.vars for c in v.components], _output_labels(s), s.point,
                          _flat(s.vals[root]), J, chosen, passes, other, mode, _title(s), _args(s),
                          s.out_shape)


# --------------------------------------------------------------------------- hessian


@dataclass
class HessianResult(RichDisplay):
    expression: str
    variables: list[str]
    point: dict
    value: float
    gradient: list[float]
    hessian: list[list[float]]
    eigenvalues: list[float]
    classification: str
    asymmetry: float
    critical: bool
    title: str = ""
    args: str = ""
    parts: list = field(default_factory=list)


def classify(eigenvalues: list[float]) -> str:
    """minimum / maximum / saddle / degenerate. An eigenvalue counts as zero only when it is
    within the rounding error of the eigenvalues themselves (about n·ε·max|λ|, a factor 16
    to spare): relative to the Hessian's scale, with no absolute floor, so x^2 + 1e-10 y^2
    (eigenvalues 2e-10 and 2) is a minimum, and 1e-12(x^2 + y^2) one too."""
    scale = max([0.0] + [abs(x) for x in eigenvalues])
    if scale == 0.0 or not math.isfinite(scale):
        return "degenerate"
    tol = 16 * len(eigenvalues) * 2.220446049250313e-16 * scale
    pos = sum(1 for x in eigenvalues if x > tol)
    neg = sum(1 for x in eigenvalues if x < -tol)
    if pos and neg:
        return "saddle"
    if pos == len(eigenvalues):
        return "minimum"
    if neg == len(eigenvalues):
        return "maximum"
    return "degenerate"


def hessian_at(text: str, at, let=None, wrt=None) -> HessianResult:
    """Value, gradient and Hessian by forward-over-reverse AD (one dual pass with
    vector tangents; with arrays, one pass per variable component), its symmetry,
    eigenvalues and the kind of point."""
    import numpy as np
    s = _setup(text, at, let, wrt, "hessian")
    _need_scalar(s, "hessian", "jacobian")
    names = [v.name for v in s.vars]
    obj = Objective(s.parsed.node, s.env, names)
    theta = []
    for v in s.vars:
        theta += _flat(s.env.get(v.name, 0.0))
    value, grad, H = obj.hessian(theta)
    H = [[float(x) + 0.0 for x in r] for r in H]
    grad = [float(x) + 0.0 for x in grad]
    from calccli.errors import NotDifferentiable, OverflowErr
    if not all(map(math.isfinite, grad)):
        raise OverflowErr("the gradient overflows float64 at this point (beyond about 1.8e308)")
    for r in H:
        for x in r:
            if not math.isfinite(x):
                raise NotDifferentiable("not twice differentiable at this point: the Hessian is not finite")
    A = np.array(H, dtype=float).reshape(len(grad), len(grad))
    asym = float(np.max(np.abs(A - A.T))) if A.size else 0.0
    eig = [float(x) + 0.0 for x in np.linalg.eigvalsh((A + A.T) / 2)] if A.size else []
    kind = classify(eig)
    gscale = max(1.0, abs(value))
    critical = all(abs(g) <= 1e-8 * gscale for g in grad)
    return HessianResult(text, obj.names, s.point, float(value) + 0.0, grad, H, eig, kind, asym, critical,
                         _title(s), _args(s), [(v.name, v.shape, None) for v in s.vars])


# --------------------------------------------------------------------------- diff on tapes with arrays

def array_forward_steps(tape, record, tan, wrt_idx) -> list:
    """One step per row with a tangent, from the variable to the output: the
    elementwise chain rule (∂c/∂a·ȧ) or an array rule in words (ȧ·x + A·ẋ)."""
    from calccli.explain.steps import Step, dotted
    by_row: dict[int, list] = {}
    for (i, k, j, d, c) in record:
        by_row.setdefault(i, []).append((k, j, d, c))
    steps = [Step(dotted(tape.name_of(j)), "1", "1", 1.0) for j in wrt_idx]
    for i in tape.rows:
        if tan[i] is None:
            continue
        p = tape.prims[i]
        rule = p.array.get("tangent")
        if rule is not None:
            names = [tape.name_of(a) for a in tape.args[i]]
            ts = [dotted(tape.name_of(a)) if tan[a] is not None else None for a in tape.args[i]]
            formula = rule(ts, names, tape.name_of(i))
            numeric = ""
        else:
            terms = by_row.get(i, [])
            formula = " + ".join(f"∂{tape.name_of(i)}/∂{tape.name_of(j)}·{dotted(tape.name_of(j))}"
                                 for (k, j, d, c) in terms)
            numeric = " + ".join(fmt_number(c) if isinstance(c, float | int) else _short_inline(c)
                                 for (k, j, d, c) in terms)
        steps.append(Step(dotted(tape.name_of(i)), formula, numeric, tan[i]))
    return steps


@dataclass
class ArrayDiffResult(GradResult):
    """``calc diff`` on an expression with vectors or matrices inside (one scalar variable)."""
    variable: str = "x"
    mode: str = "reverse"
    derivative: float = 0.0


def diff_with_arrays(text: str, at, let=None, wrt=None, mode: str = "reverse") -> ArrayDiffResult:
    """``calc diff EXPR --at …`` when the expression has vectors or matrices
    inside: the derivative of a scalar output by one scalar variable, with the
    trace (array values) and the chain-rule steps (array rules in words)."""
    if mode not in ("forward", "reverse"):
        raise UsageError(f"unknown mode '{mode}': use forward or reverse")
    s = _setup(text, at, let, wrt, "diff")
    if len(s.vars) != 1:
        raise UsageError(f"diff takes one variable, got {', '.join(v.name for v in s.vars)}: "
                         "choose with --wrt (grad gives all partial derivatives)")
    v = s.vars[0]
    if v.shape != ():
        raise UsageError(f"diff takes a scalar variable; {v.name} is {shape_words(v.shape)}: "
                         f"use calc grad for ∇_{v.name} f (or calc jacobian)")
    _need_scalar(s, "diff", "jacobian")
    wrt_idx = s.wrt_idx
    record: list = []
    derivative, steps = 0.0, []
    if wrt_idx:
        if mode == "reverse":
            adj = reverse(s.tape, s.vals, wrt_idx, s.ops, record=record)
            check_derivatives(s.tape, adj, list(reversed(s.tape.rows)) + wrt_idx, _out_name(s))
            derivative = adj[v.index] if adj[v.index] is not None else 0.0
            steps = array_reverse_steps(s.tape, record, adj, wrt_idx)
        else:
            tan = forward(s.tape, s.vals, {v.index: 1.0}, s.ops, record=record)
            check_derivatives(s.tape, tan, s.tape.rows, _out_name(s), v.name)
            derivative = tan[s.root] if tan[s.root] is not None else 0.0
            steps = array_forward_steps(s.tape, record, tan, wrt_idx)
    need = depends(s.tape, wrt_idx)
    derivative = float(derivative) + 0.0
    output = s.tape.name_of(s.root) if s.tape.rows else "f"
    return ArrayDiffResult(text, [v.name], s.point, float(s.vals[-1]) + 0.0, [derivative],
                           [(v.name, (), derivative)], _title(s), _args(s), output,
                           array_trace_rows(s.tape, s.vals, need), steps,
                           variable=v.name, mode=mode, derivative=derivative)
