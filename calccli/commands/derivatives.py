"""Derivatives at a point: diff (one variable, with the teacher's view), grad, hessian."""
from __future__ import annotations

from calccli.errors import UsageError
from calccli.engine.evaluate import depends, evaluate, ops_for
from calccli.engine.forward import forward
from calccli.engine.ops import FLOAT
from calccli.language.parse import parse
from calccli.language.points import resolve
from calccli.explain.records import DiffResult, EvalResult
from calccli.engine.reverse import reverse
from calccli.engine.tape import build_tape


def eval_expr(text: str, at=None, let=None) -> EvalResult:
    parsed = parse(text)
    node = parsed.node
    tape = build_tape(node)
    prob = resolve(node, at, let, parsed=parsed, differentiate=False, tape=tape)   # (eval takes no --wrt)
    vals = evaluate(tape, prob.env, ops_for(tape, prob.env))
    return EvalResult(text, vals[-1], prob.point)


def diff_at(text: str, at, let=None, wrt=None, mode: str = "reverse", explain: bool = True) -> DiffResult:
    """f and f' at the point; with ``explain`` (the default) also the trace and the chain-rule steps."""
    if mode not in ("forward", "reverse"):
        raise UsageError(f"unknown mode '{mode}': use forward or reverse")
    parsed = parse(text)
    node = parsed.node
    tape = build_tape(node)
    prob = resolve(node, at, let, wrt, parsed=parsed, tape=tape)
    if len(prob.wrt) != 1:
        raise UsageError(f"diff takes one variable, got {', '.join(prob.wrt) or 'none'}: "
                         "choose with --wrt (grad gives all partial derivatives)")
    var = prob.wrt[0]
    ops = ops_for(tape, prob.env)
    if ops is not FLOAT:  # array values in the trace: multivar's view
        from calccli.commands.multivar import diff_with_arrays
        return diff_with_arrays(text, at, let, wrt, mode)
    vals = evaluate(tape, prob.env, ops)
    root = len(tape.nodes) - 1
    xi = tape.variables.get(var)
    wrt_idx = [xi] if xi is not None else []
    record: list | None = [] if explain else None
    if xi is None:
        derivative = 0.0

        def steps():
            return []
    elif mode == "reverse":
        adj = reverse(tape, vals, wrt_idx, ops, record=record)
        derivative = adj[xi]

        def steps():
            from calccli.explain.steps import reverse_steps
            return reverse_steps(tape, record, adj, wrt_idx)
    else:
        tan = forward(tape, vals, {xi: ops.one}, ops, record=record)
        derivative = tan[root] if tan[root] is not None else 0.0

        def steps():
            from calccli.explain.steps import forward_steps
            return forward_steps(tape, record, tan, wrt_idx)
    if xi == root:
        derivative = 1.0

    def explanation():   # the teacher's view is imported only where it is shown
        from calccli.explain.steps import trace_rows
        return trace_rows(tape, vals, depends(tape, wrt_idx)), steps()
    return DiffResult(text, var, prob.point, mode, 1, vals[root], derivative,
                      tape.name_of(root) if tape.rows else "f", explanation if explain else None)
