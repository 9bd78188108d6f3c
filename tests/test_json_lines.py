"""Batch JSON lines: the cheap path gives what the straightforward one gives.

A row's texts are printed once per process under a key they are printed from, the
steps group the record's entries by argument, the names come from one list per tape,
and one encoder writes every result: each is checked against the plain way of doing
the same thing."""
import json
import math
import random

import pytest

from calccli.commands.derivatives import diff_at
from calccli.engine import expr
from calccli.engine.evaluate import depends, evaluate
from calccli.engine.ops import NODE_EXACT
from calccli.engine.printer import definition, to_text
from calccli.engine.tape import build_tape
from calccli.explain import steps
from calccli.language.parse import parse
from calccli.render.json import dumps
from exprgen import random_expr

# Repeated arguments (x·x, x^x), a teacher's spelling (step), and a variable called
# like the rows of the lines before it (a).
TEXTS = [random_expr(random.Random(seed))[0] + " + x" for seed in range(40)] + [
    "x*x", "x^x", "sin(x^x)", "max(x, 2x) + x", "step(x - 1) * x", "relu(x) + exp(x)",
    "sin(x^2) + cos(x^2)", "sin(a) + x", "a*exp(a) + x^2"]
AT = {"x": 1.3, "a": 0.7}


def _plain_obj(r) -> dict:
    """The contract's object of a diff result, written out key by key."""
    return {
        "expression": r.expression, "variable": r.variable, "point": dict(r.point), "mode": r.mode,
        "order": r.order, "value": r.value, "derivative": r.derivative, "output": r.output,
        "trace": [{"name": t.name, "definition": t.definition, "value": t.value,
                   "partials": [{"wrt": p.wrt, "expression": p.expression, "value": p.value}
                                for p in t.partials]} for t in r.trace],
        "steps": [dict({"target": s.target, "formula": s.formula, "numeric": s.numeric, "value": s.value},
                       **({"note": s.note} if s.note else {})) for s in r.steps],
    }


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_json_line_is_json_dumps_of_the_records(mode):
    for text in TEXTS:
        r = diff_at(text, AT, wrt="x", mode=mode)
        assert dumps(r) == json.dumps(_plain_obj(r), ensure_ascii=False, allow_nan=False)


def _printed_afresh(tape, i: int, k: int) -> str:
    """A row's local partial printed from the tape: the rule on the arguments' names."""
    names = tape.names
    args = tuple(expr.var(names[j]) if j in names else tape.nodes[j] for j in tape.args[i])
    out = expr.make(tape.nodes[i].op, args, tape.nodes[i].value)
    return to_text(steps.teacher_form(expr.lift(tape.prims[i].partials[k](NODE_EXACT, *args, out))))


def test_cached_row_texts_are_what_each_row_prints():
    """Every line after the first finds rows in the cache: their texts must still be
    what that line's rows print (sin(a) of a variable a, after rows called a)."""
    for text in TEXTS:
        tape = build_tape(parse(text).node)
        vals = evaluate(tape, AT)
        need = depends(tape, [tape.variables["x"]])
        for i, row in zip(tape.rows, steps.trace_rows(tape, vals, need)):
            assert row.name == tape.name_of(i)
            assert row.definition == definition(tape.nodes[i], tape.node_names())
            expected = {}   # each argument once, at its first place (x^x: ∂/∂ the base)
            for k, j in enumerate(tape.args[i]):
                if need[j]:
                    expected.setdefault(tape.name_of(j), _printed_afresh(tape, i, k))
            assert {p.wrt: p.expression for p in row.partials} == expected


def test_labels_are_the_names_of_rows_and_variables():
    for text in TEXTS:
        tape = build_tape(parse(text).node)
        named = set(tape.rows) | set(tape.variables.values())
        for i, label in enumerate(tape.labels):
            assert (label is not None) == (i in named)
            assert label is None or label == tape.name_of(i)


@pytest.mark.parametrize("text", ["x^x", "sin(x^x)"])
def test_steps_keep_a_rows_arguments_in_order(text):
    """x^x uses x twice: the terms of ∂/∂x come as the row's arguments do, ∂(x^x)/∂base first."""
    x = 1.3
    terms = diff_at(text, {"x": x}).steps[-1].numeric.split(" + ")   # [∂f/∂a·]∂a/∂x, twice
    assert [float(t.split("·")[-1]) for t in terms] == pytest.approx([x * x ** (x - 1), math.log(x) * x ** x])


@pytest.mark.parametrize("text, out", [("2.5", "2.5"), ("pi", "pi"), ("x", "x")])
def test_steps_of_an_output_that_is_a_leaf(cli, text, out):
    """The output is named by its own text when it is a number, a constant or the variable."""
    code, got, _ = cli("grad", text, "--at", "x=1.3", "--steps", "--format", "json")
    assert code == 0 and json.loads(got)["steps"][0]["target"] == f"∂{out}/∂{out}"
