"""Reverse mode: adjoints from the output back to the inputs, one loop over the tape."""
from __future__ import annotations

from math import isfinite

from calccli.engine.evaluate import depends
from calccli.engine.gcpause import collector_paused
from calccli.engine.ops import FLOAT


class _Probe:
    """A stand-in argument: any use of it (arithmetic, o.cos(…)) fails."""
    __slots__ = ()


_CONST, _PICK, _RULE = 0, 1, 2
_KINDS: dict = {}


def rule_kind(rule, arity: int):
    """Classify a partial-derivative rule once, by calling it on stand-ins:
    (_CONST, number) when it ignores its arguments (∂(x+y)/∂x = 1),
    (_PICK, p) when it returns argument p, or the output as p = arity
    (∂(x·y)/∂x = y, exp' = out), else (_RULE, rule). Generic over the table:
    nothing is special-cased by primitive name."""
    key = (rule, arity)
    kind = _KINDS.get(key)
    if kind is None:
        probes = [_Probe() for _ in range(arity + 1)]
        try:
            r = rule(_ProbeOps, *probes)
        except Exception:  # noqa: BLE001 - the rule computes something: keep it
            r = None
        if type(r) in (int, float):
            kind = (_CONST, r)
        elif any(r is q for q in probes):
            kind = (_PICK, next(p for p, q in enumerate(probes) if r is q))
        else:
            kind = (_RULE, rule)
        _KINDS[key] = kind
    return kind


class _ProbeOpsType:
    def __getattr__(self, name):
        raise TypeError("probe")


_ProbeOps = _ProbeOpsType()


def _reverse_program(tape, wrt: list[int]):
    """Per tape and ``wrt``, cached: ``need`` (which nodes depend on ``wrt``)
    and the rows that do, last first, each as (i, a, b, uses, vjp): a, b as in
    evaluate's program (b = -1 unary, b = -2 other arities), ``uses`` one
    (k, j, kind, payload) per argument j that depends on ``wrt``, with the
    partial rule classified by ``rule_kind``. Structural zeros, table look-ups
    and rule dispatch are settled once here instead of on every pass; the
    common arities are unrolled so that building this stays cheaper than one
    pass."""
    key = ("reverse", tuple(wrt))
    prog = tape.cache.get(key)
    if prog is None:
        # The rows are acyclic tuples: pause the cyclic collector while making
        # them, or on a large tape it rescans the heap several times over.
        with collector_paused(len(tape.rows) > 5000, lasting=True):   # kept with the tape
            prog = tape.cache[key] = _build_reverse_program(tape, wrt)
    return prog


# (id(prim), arity) -> (prim, its rules' kinds, its vjp), for every tape: a primitive's
# rules are classified once per process (the prim is kept to tell a replaced one apart).
_PRIM_RULES: dict = {}


def _prim_rules(p, n: int):
    kinds = tuple(rule_kind(p.partials[k], n) if k < len(p.partials) else (_RULE, None) for k in range(n))
    return p, kinds, p.array.get("vjp")


def _build_reverse_program(tape, wrt: list[int]):
    nkey = ("need", tuple(wrt))
    need = tape.cache.get(nkey)
    if need is None:
        need = tape.cache[nkey] = depends(tape, wrt)
    rows = []
    targs, prims = tape.args, tape.prims
    for i in reversed(tape.rows):
        if not need[i]:
            continue  # never receives an adjoint
        p, args = prims[i], targs[i]
        n = len(args)
        ent = _PRIM_RULES.get((id(p), n))
        if ent is None or ent[0] is not p:
            ent = _PRIM_RULES[(id(p), n)] = _prim_rules(p, n)
        _, kinds, vjp = ent
        if n == 2:
            a0, a1 = args
            (c0, r0), (c1, r1) = kinds
            if c0 == _PICK:
                r0 = (a0, a1, i)[r0]
            if c1 == _PICK:
                r1 = (a0, a1, i)[r1]
            if need[a0]:
                uses = ((0, a0, c0, r0), (1, a1, c1, r1)) if need[a1] else ((0, a0, c0, r0),)
            else:
                uses = ((1, a1, c1, r1),)
            rows.append((i, a0, a1, uses, vjp))
        elif n == 1:
            c0, r0 = kinds[0]
            if c0 == _PICK:
                r0 = (args[0], i)[r0]
            rows.append((i, args[0], -1, ((0, args[0], c0, r0),), vjp))
        else:
            at = args + (i,)
            uses = tuple((k, j, kinds[k][0], at[kinds[k][1]] if kinds[k][0] == _PICK else kinds[k][1])
                         for k, j in enumerate(args) if need[j])
            rows.append((i, args, -2, uses, vjp))
    return need, rows


_ONE, _SCALE, _FN, _RULE1, _RULE2, _RULEN = 3, 4, 5, 6, 7, 8


def _float_program(tape, wrt: list[int]):
    """The reverse program flattened for floats, cached per tape and ``wrt``: one
    (i, j, kind, payload) per contribution adj[j] += adj[i]·∂i/∂j, rows last
    first. Kinds: _PICK (payload: the index of the value that is the partial),
    _ONE (the partial is 1), _SCALE (a number), _FN (a float function of
    vals[j]: the table's ``float_partial`` where the other arguments are numbers
    on the tape, e.g. x^3), _RULE1/2/N (the table's rule, payload (rule, a, b) or
    (rule, args)). Rows with an array rule have no float program (None)."""
    key = ("reverse-float", tuple(wrt))
    if key not in tape.cache:
        with collector_paused(len(tape.rows) > 5000, lasting=True):   # kept with the tape
            tape.cache[key] = _build_float_program(tape, wrt)
    return tape.cache[key]


def _build_float_program(tape, wrt: list[int]):
    need, prog = _reverse_program(tape, wrt)
    nodes, prims = tape.nodes, tape.prims
    flat = []
    for i, a, b, uses, vjp in prog:
        if vjp is not None:
            flat = None
            break
        spec = prims[i].float_partial
        consts = None
        if spec is not None:
            args = (a, b) if b >= 0 else (a,) if b == -1 else a
            consts = tuple(nodes[m].value if nodes[m].op == "num" else None for m in args)
        for k, j, kind, rule in uses:
            fn = spec(k, consts) if consts is not None else None
            if fn is not None:
                kind, rule = (_FN, fn) if callable(fn) else (_CONST, fn)
            if kind == _CONST:
                flat.append((i, j, _ONE, None) if rule == 1 else (i, j, _SCALE, rule))
            elif kind == _PICK or kind == _FN:
                flat.append((i, j, kind, rule))
            elif b >= 0:
                flat.append((i, j, _RULE2, (rule, a, b)))
            elif b == -1:
                flat.append((i, j, _RULE1, (rule, a)))
            else:
                flat.append((i, j, _RULEN, (rule, a)))
    return flat


def _float_pass(tape, vals, prog) -> list:
    """The reverse pass on floats without a record: the program of
    ``_float_program``, no per-contribution checks (``reverse`` checks the result
    once, and repeats a failing or non-finite pass with ``_pass`` to name the row)."""
    adj = [None] * len(tape.nodes)
    adj[-1] = 1.0
    o = FLOAT
    for i, j, kind, p in prog:
        g = adj[i]
        if g is None:
            continue
        if kind == _PICK:
            c = g * vals[p]
        elif kind == _ONE:
            c = g
        elif kind == _FN:
            c = g * p(vals[j])
        elif kind == _RULE1:
            c = g * p[0](o, vals[p[1]], vals[i])
        elif kind == _RULE2:
            c = g * p[0](o, vals[p[1]], vals[p[2]], vals[i])
        elif kind == _SCALE:
            c = g * p
        else:
            c = g * p[0](o, *[vals[m] for m in p[1]], vals[i])
        aj = adj[j]
        adj[j] = c if aj is None else aj + c
    return adj


def reverse(tape, vals, wrt: list[int], ops=FLOAT, seed=None, record: list | None = None) -> list:
    """Adjoint ∂out/∂node of every node that depends on a node in ``wrt``.

    ``adj[j] += adj[i] * ∂i/∂j`` over every use of j: the ``+=`` is what gives a
    shared subexpression (a node with several users) its full derivative.
    None is a structural zero. ``record`` collects (row, arg k, arg index,
    partial, contribution) in the order the contributions are added.
    """
    need, prog = _reverse_program(tape, wrt)
    root = len(tape.nodes) - 1
    if not need[root]:
        return [None] * len(tape.nodes)
    floats = ops is FLOAT
    # On floats an overflow shows in the result (inf·0 is nan, inf + x is inf: a non-finite
    # contribution reaches an input's adjoint), so the pass runs unchecked, its result is
    # checked once, and it is repeated with a check per contribution only to find the row
    # to blame (or the row whose partial failed).
    if floats and record is None and seed is None:
        fprog = _float_program(tape, wrt)
        if fprog is not None:
            try:
                adj = _float_pass(tape, vals, fprog)
                if all(isfinite(adj[w]) for w in wrt if adj[w] is not None):
                    return adj
            except (ArithmeticError, ValueError):
                pass
            return _pass(tape, vals, ops, seed, record, prog, check=True)
    adj = _pass(tape, vals, ops, seed, record, prog, check=floats and record is not None)
    if floats and record is None and not all(isfinite(adj[w]) for w in wrt if adj[w] is not None):
        adj = _pass(tape, vals, ops, seed, record, prog, check=True)
    return adj


def _pass(tape, vals, ops, seed, record, prog, check: bool) -> list:
    adj = [None] * len(tape.nodes)
    adj[-1] = ops.one if seed is None else seed
    fit = getattr(ops, "fit", None)
    i = k = -1
    try:
        for i, a, b, uses, vjp in prog:
            g = adj[i]
            if g is None:
                continue
            for k, j, kind, rule in uses:
                if vjp is not None:
                    av = (vals[a], vals[b]) if b >= 0 else (vals[a],) if b == -1 else [vals[m] for m in a]
                    d, c = None, vjp(ops, k, g, av, vals[i])
                else:
                    if kind == _PICK:  # the partial is a value on the tape (y for x·y, out for exp)
                        d = vals[rule]
                        c = g * d
                    elif kind == _CONST:
                        d = rule
                        c = g if d == 1 else g * d
                    else:
                        if b >= 0:
                            d = rule(ops, vals[a], vals[b], vals[i])
                        elif b == -1:
                            d = rule(ops, vals[a], vals[i])
                        else:
                            d = rule(ops, *[vals[m] for m in a], vals[i])
                        c = g * d
                    if fit is not None:
                        c = fit(c, vals[j])
                    elif check and not isfinite(c):  # e.g. 1/a at a = 1e-320: inf, silently
                        raise OverflowError("the derivative is beyond float64")
                if record is not None:
                    record.append((i, k, j, d, c))
                aj = adj[j]
                adj[j] = c if aj is None else aj + c
    except (ArithmeticError, ValueError) as exc:
        from calccli.engine.diagnose import derivative_error
        raise derivative_error(tape, i, max(k, 0), vals, exc) from None
    return adj
