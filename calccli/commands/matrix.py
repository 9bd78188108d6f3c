"""`calc grad/jacobian/hessian` without a point: closed matrix forms, each verified before printing.

The derivative comes from the primitive table's rules run on symbolic shaped
values (:mod:`calccli.symbolic.matrix`); the printed answer is parsed back and
evaluated at random numeric instances of the declared shapes against the
numeric AD engine (the same tape, numpy values): a mismatch is an internal
error, never a printed answer.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from calccli.display import RichDisplay

from calccli.engine import expr
from calccli.engine.expr import Node, free_vars
from calccli.engine.printer import to_text
from calccli.engine.tape import build_tape
from calccli.errors import CalcError, DomainError, ShapeError, UsageError
from calccli.language.parse import parse
from calccli.symbolic.matrix_simplify import NoClosedForm, check_printable
from calccli.symbolic.shapes import infer, parse_shape_options, words
from calccli.symbolic.matrix_steps import MatrixStep

KEYS = {"grad": "gradient_expression", "jacobian": "jacobian_expression", "hessian": "hessian_expression"}
INSTANCES = 3
MAX_NODES = 300   # symbolic Jacobians/Hessians of larger input: numeric (--at) instead


class VerificationFailed(CalcError):
    """The symbolic answer disagrees with the numeric engine: a bug in calc, never printed as an answer."""
    kind = "internal"
    exit_code = 1


class Unverifiable(DomainError):
    """Every random instance was outside the expression's domain, so the answer cannot be checked."""


@dataclass
class MatrixDerivative(RichDisplay):
    command: str                  # grad | jacobian | hessian
    expression: str
    variables: list[str]          # the variables of differentiation
    shapes: dict[str, str]        # every name -> kind
    dims: dict[str, str]          # every name -> its shape in words
    answers: dict[str, str]       # variable -> the derivative in calc's syntax
    nodes: dict[str, Node] = field(default_factory=dict, repr=False)
    intermediates: list[tuple[str, str, str]] = field(default_factory=list)  # (name, definition, shape)
    steps: list[MatrixStep] = field(default_factory=list)
    checked: int = 0              # random instances the answer was verified at
    whole: str | None = None      # scalar variables: the whole Jacobian/Hessian as one matrix literal
    tangents: list | None = field(default=None, repr=False)   # --steps: the forward pass's tangents
    tangent_tape: object = field(default=None, repr=False)
    gradient_node: Node | None = field(default=None, repr=False)


# ------------------------------------------------------------------ inputs

def _let_values(let) -> dict:
    if not let:
        return {}
    from calccli.language.points import _bind_value, parse_bindings
    out = {}
    for b in parse_bindings(let, "--let"):
        if b.name is None:
            raise UsageError("--let expects name=value, e.g. --let a=2", source=b.option, pos=0)
        out[b.name] = _bind_value(b)
    return out


def _wrt(node: Node, wrt, lets) -> list[str] | None:
    """The --wrt names, checked as the scalar path checks them (None: not given)."""
    if not wrt:
        return None
    from calccli.symbolic.differentiate import choose_variables
    return choose_variables(node, wrt, set(lets), many=True)


def is_matrix_problem(text: str, shape_opts, let) -> bool:
    """Does this expression need the matrix path (matrices, vectors or a --shape)?"""
    from calccli.symbolic.shapes import _evidence
    if parse_shape_options(shape_opts):
        return True
    if any(getattr(v, "ndim", 0) for v in _let_values(let).values()):
        return True
    _, world = _evidence(build_tape(parse(text).node))
    return world


def symbolic_derivative(command: str, text: str, let=None, wrt=None, shape_opts=None, steps=False):
    """grad/jacobian/hessian without a point: matrix forms, or the matrix of scalar partials."""
    from calccli.engine.expr import size
    from calccli.symbolic.differentiate import TooLarge
    n = size(parse(text).node)
    if n > MAX_NODES:
        raise TooLarge(f"the expression has {n} distinct subexpressions; symbolic {command} works up to "
                       f"{MAX_NODES}: give a point with --at for the numeric value")
    if is_matrix_problem(text, shape_opts, let):
        try:
            return matrix_derivative(command, text, let, wrt, shape_opts, steps)
        except (TypeError, AttributeError, NotImplementedError, IndexError) as e:
            # a table rule that needs concrete sizes (mean's 1/n, a numpy helper): numeric only
            raise NoClosedForm(f"{command} of this expression is not supported symbolically "
                               f"({type(e).__name__}); give a point with --at for the numeric value") from None
    return scalar_matrix(command, text, let, wrt)


# ------------------------------------------------------------------ scalar variables

def scalar_matrix(command: str, text: str, let=None, wrt=None) -> MatrixDerivative:
    """The Jacobian or Hessian of scalar variables: a matrix literal of simplified partials."""
    from calccli.symbolic.differentiate import _check_scalar, choose_variables, gradient_nodes, substitute_lets
    node, values = substitute_lets(parse(text).node, let)
    comps = list(node.args) if node.op == "vector" else [node]
    if any(c.op == "vector" for c in comps):
        raise ShapeError("the Jacobian of a matrix is a higher-order tensor, which calc does not print "
                         "symbolically; give a point with --at")
    names = choose_variables(node, wrt, set(values), many=True)
    if not names:
        raise UsageError("the expression has no variable to differentiate: name one with --wrt")
    if command == "hessian" and node.op == "vector":
        raise ShapeError(f"hessian needs a scalar expression; {text} is a vector: use jacobian")
    for c in comps:     # -[x], [x] + [y]: arrays that are not a literal
        _check_scalar(c)
    if command == "grad":
        rows = [gradient_nodes(node, names)]
    elif command == "jacobian":
        rows = [gradient_nodes(c, names) for c in comps]
    else:
        grad = gradient_nodes(node, names)
        rows = [gradient_nodes(g, names) for g in grad]
    from calccli.symbolic.differentiate import checked_text
    whole = "[" + ", ".join("[" + ", ".join(checked_text(e) for e in r) + "]" for r in rows) + "]"
    result = MatrixDerivative(command, text, names, {n: "scalar" for n in free_vars(node)},
                              {n: "a scalar" for n in free_vars(node)}, {}, whole=whole)
    result.nodes = {"*": parse(whole).node}
    result.checked = _verify_scalar(command, node, names, result)
    return result


def _verify_scalar(command, node, names, result, tries: int = 12) -> int:
    import numpy as np
    from calccli.engine.evaluate import value_of
    rng = np.random.default_rng(7)
    target = node
    if command == "hessian":
        from calccli.symbolic.differentiate import gradient_nodes
        target = expr.make("vector", tuple(gradient_nodes(node, names)))
    ok = 0
    for _ in range(tries):
        env = {n: float(rng.uniform(0.5, 1.5)) for n in dict.fromkeys(free_vars(node) + names)}
        try:
            cols = [np.ravel(_numeric_jacobian(target, env, n)) for n in names]
            want = np.stack(cols, axis=-1)
            if command == "grad":
                want = want.reshape(1, -1)
            got = np.asarray(value_of(result.nodes["*"], env), dtype=float).reshape(want.shape) \
                if np.size(value_of(result.nodes["*"], env)) == want.size else None
            if command == "hessian":
                from calccli.engine.evaluate import value_of as v
                g = np.asarray(v(target, env), dtype=float)
                gw = np.array([_numeric_grad(node, env, n) for n in names], dtype=float)
                if not _agree(g, gw):
                    _mismatch(result, ", ".join(names), "gradient")
        except VerificationFailed:
            raise
        except CalcError:
            continue
        if got is None or not _agree(got, want):
            _mismatch(result, ", ".join(names))
        ok += 1
        if ok == INSTANCES:
            break
    if ok == 0:
        raise Unverifiable("calc could not verify the symbolic answer at random points "
                                 "(every point was outside a domain); give a point with --at")
    return ok


# ------------------------------------------------------------------ the matrix path

def matrix_derivative(command: str, text: str, let=None, wrt=None, shape_opts=None,
                      steps: bool = False) -> MatrixDerivative:
    from calccli.symbolic import matrix as M
    node = parse(text).node
    declared = parse_shape_options(shape_opts)
    lets = _let_values(let)
    for name in declared:
        if name not in free_vars(node):
            raise UsageError(f"--shape {name}=…: the expression has no '{name}'")
    tape = build_tape(node)
    info = infer(tape, declared, lets)
    shapes = {n: info.kinds[n] for n in tape.variables}
    dims = {n: words(info.shapes[j]) for n, j in tape.variables.items()}
    names = _wrt(node, wrt, lets) or _default_wrt(command, tape, info, lets)
    for n in names:
        if n not in tape.variables:
            raise UsageError(f"--wrt {n}: the expression has no '{n}'")
    out_shape = info.shapes[-1]
    if command in ("grad", "hessian") and out_shape:
        guess = (f" (calc guessed the shapes of {', '.join(info.guessed)} from the names: declare them "
                 f"with --shape, e.g. --shape {info.guessed[0]}=scalar)") if info.guessed else ""
        raise ShapeError(f"{command} needs a scalar expression; {text} is {words(out_shape)}"
                         + ("; for its derivative use jacobian" if command == "grad" else "") + guess)
    ctx = M.begin(n for n, k in info.kinds.items() if k == "symmetric")
    vals = M.values(tape, info)
    result = MatrixDerivative(command, text, names, shapes, dims, {})
    record: list | None = [] if steps else None
    if command == "grad":
        grads = M.gradient(tape, info, vals, names, record)
        for n in names:
            g = grads[n]
            result.nodes[n] = expr.ONE if g is None else g.node
    else:
        for n in names:
            xs = info.var_shape(tape, n)
            _tensor_check(command, text, n, xs, out_shape)
            if command == "jacobian":
                result.nodes[n], tans = _jacobian(M, ctx, tape, vals, n, xs, out_shape)
                if result.tangents is None:
                    result.tangents, result.tangent_tape = tans, tape
            else:
                g = M.gradient(tape, info, vals, [n], record)[n]
                gnode = expr.ONE if g is None else g.node
                check_printable(gnode)
                gtape = build_tape(gnode)
                ginfo = _infer_fixed(gtape, tape, info)
                gvals = M.values(gtape, ginfo)
                result.nodes[n], tans = _jacobian(M, ctx, gtape, gvals, n, xs, xs)
                result.nodes["∇" + n] = gnode
                if result.tangents is None:
                    result.tangents, result.tangent_tape, result.gradient_node = tans, gtape, gnode
    for n in names:
        check_printable(result.nodes[n])
        result.answers[n] = readable_text(result.nodes[n])
    result.checked = verify(command, node, tape, info, lets, result)
    if steps:
        from calccli.symbolic.matrix_steps import build_steps
        result.intermediates, result.steps = build_steps(tape, info, vals, record, result)
    return result


def _default_wrt(command, tape, info, lets) -> list[str]:
    names = [n for n in tape.variables if n not in lets]
    if command != "grad":
        names = [n for n in names if len(info.var_shape(tape, n)) < 2 or info.var_shape(tape, n)[0] == 1]
        if command == "hessian" and len(names) > 1:
            raise UsageError(f"the expression has several vector variables ({', '.join(names)}): "
                             "choose one with --wrt")
    if not names:
        raise UsageError("the expression has no variable to differentiate: name one with --wrt")
    return names


def _tensor_check(command, text, name, xs, out_shape) -> None:
    matrix_x = len(xs) == 2 and xs[0] != 1
    matrix_out = len(out_shape) == 2 and out_shape[0] != 1
    if matrix_x or matrix_out or (len(xs) == 2 and len(out_shape) >= 1):
        what = f"the Hessian with respect to the matrix {name}" if command == "hessian" else \
            f"the derivative of {text} with respect to {name}"
        raise NoClosedForm(f"{what} is a higher-order tensor (more than two indices), which calc does "
                           f"not print symbolically; for its numeric value give a point with --at")


def _jacobian(M, ctx, tape, vals, name, xs, out_shape):
    """J from one forward pass with the symbolic direction δx; also the pass's tangents."""
    d = expr.var("δ" + name)
    direction = M.leaf(d, xs)
    ctx.direction = d
    tans = M.tangents(tape, vals, name, direction)
    t = tans[-1] if tans else None
    j = M.read_off(None if t is None else M._nf(t), d, out_shape, xs)
    ctx.direction = None
    return j.node(), tans


def _infer_fixed(gtape, tape, info):
    """Shapes on the gradient's tape, with the variables' shapes (and dimensions) of the original."""
    from calccli.symbolic.shapes import ShapeInfo, _rule
    from calccli.engine.primitives import PRIMS
    shapes: list = [()] * len(gtape.nodes)
    for name, j in gtape.variables.items():
        shapes[j] = info.var_shape(tape, name)
    for i in gtape.rows:
        n = gtape.nodes[i]
        sh = [shapes[j] for j in gtape.args[i]]
        shapes[i] = info.dims.shape(_rule(n, sh, info.dims, gtape, i))
        if n.op == "mul" and sh[0] and sh[1]:
            gtape.prims[i] = PRIMS["matmul"]
    return ShapeInfo(shapes, info.kinds, info.dims)


def readable_text(node: Node) -> str:
    """calc's syntax, with 'A^T (…)' rather than 'A^T*(…)' where that reads back the same."""
    text = to_text(node)
    nicer = text.replace("^T*(", "^T (")
    if nicer != text:
        try:
            if parse(nicer).node is node:
                return nicer
        except CalcError:
            pass
    return text


# ------------------------------------------------------------------ verification

def _instance(tape, info, lets, rng, sizes):
    import numpy as np
    env = {}
    for name, j in tape.variables.items():
        if name in lets:
            env[name] = lets[name]
            continue
        s = info.shapes[j]
        if not s:
            env[name] = float(rng.uniform(0.5, 1.5))
            continue
        shape = tuple(d if isinstance(d, int) else sizes.setdefault(d, (3, 2, 4, 5, 6)[len(sizes) % 5])
                      for d in s)
        v = rng.normal(size=shape)
        if len(shape) == 2 and shape[0] == shape[1] and shape[0] > 1:
            if info.kinds.get(name) == "symmetric":
                v = (v + v.T) / 2
            v = v + shape[0] * np.eye(shape[0])
        env[name] = v
    return env


def _numeric_grad(node, env, name):
    import numpy as np
    from calccli.engine.evaluate import evaluate, ops_for
    from calccli.engine.reverse import reverse
    t = build_tape(node)
    ops = ops_for(t, env)
    vals = evaluate(t, env, ops)
    xi = t.variables.get(name)
    if xi is None:       # --wrt a name the expression does not have
        return np.zeros(np.shape(env[name])) if np.ndim(env[name]) else 0.0
    adj = reverse(t, vals, [xi], ops)
    if xi == len(t.nodes) - 1:
        return np.ones(np.shape(env[name])) if np.ndim(env[name]) else 1.0
    a = adj[xi]
    return np.zeros(np.shape(env[name])) if a is None else a


def _numeric_jacobian(node, env, name):
    import numpy as np
    from calccli.engine.evaluate import evaluate, ops_for
    from calccli.engine.forward import forward
    t = build_tape(node)
    ops = ops_for(t, env)
    vals = evaluate(t, env, ops)
    out = np.asarray(vals[-1], dtype=float)
    xi = t.variables.get(name)
    x = env[name]
    if np.ndim(x) == 0:
        if xi is None:
            return np.zeros(out.shape)
        tan = forward(t, vals, {xi: 1.0}, ops)[-1]
        return np.zeros(out.shape) if tan is None else np.asarray(tan, dtype=float)
    n = np.size(x)
    cols = []
    for k in range(n):
        e = np.zeros(n)
        e[k] = 1.0
        seed = e.reshape(np.shape(x))
        tan = None if xi is None else forward(t, vals, {xi: seed}, ops)[-1]
        cols.append(np.zeros(out.shape) if tan is None else np.ravel(np.asarray(tan, dtype=float)))
    return np.stack(cols, axis=-1) if out.ndim else np.stack(cols)[None, :]


def _agree(got, want) -> bool:
    import numpy as np
    g, w = np.asarray(got, dtype=float), np.asarray(want, dtype=float)
    if g.shape != w.shape:
        if g.ndim == 0 and g == 0 and not np.any(w):
            return True
        return False
    scale = 1.0 + float(np.max(np.abs(w))) if w.size else 1.0
    return bool(np.allclose(g, w, rtol=1e-6, atol=1e-8 * scale))


def verify(command, node, tape, info, lets, result, tries: int = 12) -> int:
    """Evaluate each printed answer at random instances against the numeric AD engine."""
    import numpy as np
    from calccli.engine.evaluate import value_of
    rng = np.random.default_rng(12)
    ok = 0
    for _ in range(tries):
        env = _instance(tape, info, lets, rng, {})
        try:
            for name in result.variables:
                if command == "grad":
                    want = _numeric_grad(node, env, name)
                elif command == "jacobian":
                    want = _numeric_jacobian(node, env, name)
                else:
                    want = _numeric_jacobian(result.nodes["∇" + name], env, name)
                    gwant = _numeric_grad(node, env, name)
                    gnode = result.nodes["∇" + name]
                    if not _agree(value_of(gnode, env) if gnode.op != "num" else gnode.value, gwant):
                        _mismatch(result, name, "gradient")
                answer = parse(result.answers[name]).node
                got = answer.value if answer.op == "num" else value_of(answer, env)
                if not _agree(got, want):
                    _mismatch(result, name)
        except VerificationFailed:
            raise
        except CalcError:
            continue          # outside a domain at this instance (log of a negative, …): draw again
        ok += 1
        if ok == INSTANCES:
            break
    if ok == 0:
        raise Unverifiable("calc could not verify the symbolic answer at random instances "
                                 "(every instance was outside a domain); give a point with --at")
    return ok


def _mismatch(result, name, what=None):
    raise VerificationFailed(
        f"internal error: the symbolic {what or result.command} with respect to {name} "
        f"({result.answers.get(name, '?')}) disagrees with the numeric AD engine at a random instance, "
        "so it is not printed; give a point with --at for the numeric value")
