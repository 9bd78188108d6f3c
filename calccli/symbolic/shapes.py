"""Symbolic shapes for matrix calculus: scalar, vector n, matrix n×m, symmetric n×n.

Dimensions are names (n, m, …) unified as the expression is read (``A x``
makes A's columns x's length) or numbers (a --let value, a row's 1). The
kinds come from --shape, from --let values, or from the expression and the
names (det(X) makes X a matrix; in an expression with matrices, capitals are
matrices and small letters vectors); a guess that does not fit is retried
as a scalar, and a name that fits nothing is an error asking for --shape.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from calccli.errors import ShapeError, UsageError
from calccli.engine.primitives import shape_words, transpose_shape

KINDS = ("scalar", "vector", "matrix", "symmetric")
_DIM_NAMES = "nmkpqrstuvw"
_SQUARE = frozenset({"det", "inv", "trace"})
_MATRIX_OPS = frozenset({"transpose", "det", "inv", "trace", "norm", "dot", "diag", "softmax", "log_softmax",
                         "logsumexp", "mean", "outer", "vmax", "vmin"})


def parse_shape_options(options) -> dict[str, str]:
    """--shape x=vector,A=matrix (repeatable) → {name: kind}."""
    out: dict[str, str] = {}
    for opt in options or []:
        for part in str(opt).split(","):
            part = part.strip()
            if not part:
                continue
            name, eq, kind = part.partition("=")
            name, kind = name.strip(), kind.strip().lower()
            if not eq or not name.isidentifier():
                raise UsageError(f"--shape expects name=kind, e.g. --shape x=vector,A=matrix; got '{part}'",
                                 source=str(opt), pos=0)
            if kind not in KINDS:
                raise UsageError(f"--shape {name}={kind}: the kinds are {', '.join(KINDS)}",
                                 source=str(opt), pos=0)
            out[name] = kind
    return out


class Dims:
    """Union-find over dimensions: names (str) and numbers (int)."""

    def __init__(self):
        self.parent: dict = {}
        self._count = 0

    def new(self) -> str:
        k, self._count = self._count, self._count + 1
        base = _DIM_NAMES[k % len(_DIM_NAMES)]
        return base if k < len(_DIM_NAMES) else f"{base}{k // len(_DIM_NAMES)}"

    def find(self, d):
        while isinstance(d, str) and d in self.parent:
            d = self.parent[d]
        return d

    def unify(self, a, b) -> bool:
        a, b = self.find(a), self.find(b)
        if a == b:
            return True
        if isinstance(a, int) and isinstance(b, int):
            return False
        if isinstance(a, int):
            a, b = b, a
        elif isinstance(b, str) and self._rank(b) > self._rank(a):
            a, b = b, a           # the older name stays: x's n, not A's m
        self.parent[a] = b
        return True

    @staticmethod
    def _rank(d: str) -> tuple:
        return (len(d), _DIM_NAMES.index(d[0]), d)

    def shape(self, s: tuple) -> tuple:
        return tuple(self.find(d) for d in s)


words = shape_words   # one wording for numeric and symbolic shapes


def _err(msg: str, arg: int | None = None) -> ShapeError:
    e = ShapeError(msg)
    e.arg = arg
    return e


def matmul_shape(a: tuple, b: tuple, dims: Dims | None = None, names=("the left side", "the right side")):
    """The shape of the matrix product a b (a row times a column is a scalar)."""
    u = dims.unify if dims is not None else (lambda x, y: x == y)
    if len(a) == 2 and len(b) == 1 and u(a[1], b[0]):
        return () if a[0] == 1 else (a[0],)
    if len(a) == 2 and len(b) == 2 and u(a[1], b[0]):
        return (a[0], b[1])
    if len(a) == 1 and len(b) == 2 and b[0] == 1:
        return (a[0], b[1])
    if len(a) == 1 and len(b) == 1:
        raise _err(f"{names[0]} and {names[1]} are both column vectors; for their dot product "
                   f"write {names[0]}^T {names[1]}")
    raise _err(f"cannot multiply {names[0]}, {words(a)}, by {names[1]}, {words(b)}")


@dataclass
class ShapeInfo:
    shapes: list                 # per tape node, dimensions resolved
    kinds: dict                  # variable name -> kind
    dims: Dims
    guessed: list = field(default_factory=list)   # names whose kind came from the name alone

    def var_shape(self, tape, name) -> tuple:
        return self.shapes[tape.variables[name]]


def _evidence(tape) -> tuple[dict, bool]:
    """Kinds the expression itself fixes (det(X): X is a matrix), and whether it has matrices at all."""
    strong: dict[str, str] = {}
    world = False
    for i in tape.rows:
        n = tape.nodes[i]
        if n.op in _MATRIX_OPS or n.op == "vector" and any(a.op == "vector" for a in n.args):
            world = True
        for a in n.args:
            if a.op != "var":
                continue
            if n.op in _SQUARE:
                strong[a.value] = "matrix"
            elif n.op in ("transpose", "norm", "dot") and a.value not in strong:
                strong[a.value] = "matrix" if a.value[:1].isupper() else "vector"
    if any(v[:1].isupper() for v in tape.variables):
        world = True
    return strong, world


def infer(tape, declared: dict, values: dict) -> ShapeInfo:
    """Kinds and symbolic shapes of every node; rewrites ``tape.prims`` for matrix products."""
    strong, world = _evidence(tape)
    world = world or any(k != "scalar" for k in declared.values()) or \
        any(getattr(v, "ndim", 0) for v in values.values())
    kinds, weak = {}, []
    for name in tape.variables:
        if name in declared:
            kinds[name] = declared[name]
        elif name in values:
            kinds[name] = "value"
        elif name in strong:
            kinds[name] = strong[name]
        elif world:
            kinds[name] = "matrix" if name[:1].isupper() else "vector"
            weak.append(name)
        else:
            kinds[name] = "scalar"
    try:
        return _infer_with(tape, kinds, values, weak)
    except ShapeError as first:
        for name in [w for w in weak if kinds[w] == "vector"]:
            trial = dict(kinds, **{name: "scalar"})
            try:
                return _infer_with(tape, trial, values, [w for w in weak if w != name])
            except ShapeError:
                continue
        if weak:
            which = ", ".join(weak)
            raise ShapeError(f"{first.message}; calc guessed the shapes of {which} from the names "
                             f"(capitals: matrices, small letters: vectors), which do not fit: "
                             f"declare them with --shape, e.g. --shape {weak[0]}=scalar",
                             source=first.source, pos=first.pos, end=first.end) from None
        raise


def _infer_with(tape, kinds: dict, values: dict, weak: list) -> ShapeInfo:
    from calccli.engine.primitives import PRIMS
    from calccli.engine.sources import source_of
    dims = Dims()
    shapes: list = [()] * len(tape.nodes)
    out_kinds = {}
    for name, j in tape.variables.items():
        k = kinds[name]
        if k == "value":
            s = tuple(int(d) for d in getattr(values[name], "shape", ()))
            k = "scalar" if not s else "vector" if len(s) == 1 else "matrix"
        elif k == "vector":
            s = (dims.new(),)
        elif k == "matrix":
            s = (dims.new(), dims.new())
        elif k == "symmetric":
            d = dims.new()
            s = (d, d)
        else:
            s = ()
        shapes[j] = s
        out_kinds[name] = k
    src = source_of(tape.root)
    for i in tape.rows:
        n = tape.nodes[i]
        sh = [dims.shape(shapes[j]) for j in tape.args[i]]
        try:
            shapes[i] = _rule(n, sh, dims, tape, i)
        except ShapeError as e:
            from calccli.engine.arrays import _caret
            raise _caret(e, tape, i, src) from None
        if n.op == "mul" and sh[0] and sh[1]:
            tape.prims[i] = PRIMS["matmul"]
    shapes = [dims.shape(s) for s in shapes]
    return ShapeInfo(shapes, out_kinds, dims, weak)


def _text(tape, i, k):
    from calccli.engine.printer import to_text
    t = to_text(tape.nodes[tape.args[i][k]])
    return t if len(t) <= 30 else t[:29] + "…"


def _same(a, b, dims) -> bool:
    return len(a) == len(b) and all(dims.unify(x, y) for x, y in zip(a, b))


def _rule(n, sh, dims: Dims, tape, i) -> tuple:
    op = n.op
    if op == "mul":
        if not sh[0]:
            return sh[1]
        if not sh[1]:
            return sh[0]
        return matmul_shape(sh[0], sh[1], dims, (_text(tape, i, 0), _text(tape, i, 1)))
    if op in ("emul", "epow", "max", "min", "atan2"):
        op = "pow" if op == "epow" else "add"
    if op in ("add", "sub", "div", "pow"):
        a, b = sh
        if op in ("div", "pow") and len(b) == 2:
            raise _err(f"cannot {'divide by' if op == 'div' else 'raise to the power of'} "
                       f"{words(b)} ({_text(tape, i, 1)})", 1)
        if op == "pow" and len(a) == 2:
            raise _err(f"{_text(tape, i, 0)} is {words(a)}: powers of matrices are not supported "
                       "(write A A, or inv(A))", 0)
        if not a:
            return b
        if not b:
            return a
        if _same(a, b, dims):
            return dims.shape(a)
        verb = {"add": "cannot add", "sub": "cannot subtract", "div": "cannot divide",
                "pow": "cannot raise"}[op]
        raise _err(f"{verb} {_text(tape, i, 0)}, {words(a)}, and {_text(tape, i, 1)}, {words(b)}")
    if op == "transpose":
        return transpose_shape(sh[0])
    if op in _SQUARE:
        s = sh[0]
        if len(s) != 2 or not dims.unify(s[0], s[1]) or s[0] == 1:
            raise _err(f"{op}({_text(tape, i, 0)}) needs a square matrix; it is {words(s)}", 0)
        return s if op == "inv" else ()
    if op in ("norm", "sum", "mean", "vmax", "vmin", "logsumexp"):
        return ()
    if op == "outer":
        return (sh[0][0], sh[1][0]) if len(sh[0]) == 1 and len(sh[1]) == 1 else matmul_shape(sh[0], sh[1], dims)
    if op == "dot":
        a, b = sh
        if len(a) == 1 and len(b) == 1 and dims.unify(a[0], b[0]):
            return ()
        raise _err(f"dot needs two vectors of the same length; they are {words(a)} and {words(b)}")
    if op == "diag":
        s = sh[0]
        if len(s) == 1:
            return (s[0], s[0])
        if len(s) == 2 and dims.unify(s[0], s[1]):
            return (s[0],)
        raise _err(f"diag needs a vector or a square matrix; it is {words(s)}", 0)
    if op == "vector":
        if all(s == () for s in sh):
            return (len(sh),)
        raise _err("matrix literals of vectors are not supported symbolically: give a point with --at")
    if op == "index":
        raise _err("indexing (x[i]) is not supported symbolically: give a point with --at")
    if len(sh) == 1:          # elementwise functions
        return sh[0]
    raise _err(f"{op} is not supported symbolically: give a point with --at")
