"""calc graph, calc plot and calc check: library results and the CLI."""
import json
import math
import re

import pytest

from calccli.commands.check import check_at
from calccli.commands.graph import graph_of
from calccli.commands.plot import plot_of
from calccli.render.graph import tree_lines
from calccli.render.json import json_obj
from calccli.render.views import to_doc
from conftest import SEED


# ---------------------------------------------------------------- graph

def test_graph_of_the_seed_has_six_intermediate_variables_shared_once():
    g = graph_of(SEED, None, "tree")
    inter = [n for n in g.nodes if n.kind == "intermediate"]
    assert [(n.name, n.definition) for n in inter] == [
        ("a", "x^2"), ("b", "exp(a)"), ("c", "a + b"), ("d", "sqrt(c)"), ("e", "cos(c)"), ("f", "d + e")]
    assert g.shared == ["a", "c"] and g.output == "f"
    lines = tree_lines(g)
    for var in "abcdef":   # each node's definition is drawn exactly once
        assert sum(1 for ln in lines if re.search(rf"\b{var} = ", ln)) == 1
    assert sum("shared" in ln for ln in lines) == 2   # a and c referred to, not redrawn
    assert lines[0] == "f = d + e"


def test_dot_parses_one_node_per_variable(cli):
    code, out, _ = cli("graph", SEED, "--format", "dot")
    assert code == 0
    assert out.strip().startswith("digraph") and out.strip().endswith("}")
    names = set(re.findall(r'^\s*"(\w+)" \[label=', out, re.M))
    assert names == set("xabcdef")
    edges = re.findall(r'"(\w+)" -> "(\w+)"', out)
    assert sorted(edges) == sorted([("x", "a"), ("a", "b"), ("a", "c"), ("b", "c"), ("c", "d"),
                                    ("c", "e"), ("d", "f"), ("e", "f")])
    pydot = pytest.importorskip("pydot")
    (graph,) = pydot.graph_from_dot_data(out)
    nodes = {n.get_name().strip('"') for n in graph.get_nodes()} - {"node", "edge", "graph"}
    assert nodes == set("xabcdef")
    assert len(graph.get_edges()) == 8


def test_graph_json_and_tree_cli(cli):
    code, out, _ = cli("graph", "x*x + y", "--format", "json")
    j = json.loads(out)
    assert code == 0 and j["output"] == "b"
    assert [n["name"] for n in j["nodes"]] == ["x", "y", "a", "b"]
    assert ["x", "a"] in j["edges"] and ["a", "b"] in j["edges"]
    code, out, _ = cli("graph", SEED, "--format", "plain")
    assert code == 0 and "c = a + b" in out and "shared" in out
    code, out, err = cli("graph", SEED, "--format", "png")
    assert code == 2


from calccli.render.graph import MAX_INDENT  # noqa: E402


def test_graph_of_a_deep_expression():
    text = "x"
    for _ in range(3000):
        text = f"sin({text})"
    g = graph_of(text, None, "tree")
    lines = tree_lines(g)
    drawn = [ln for ln in lines if "=" in ln or "(input)" in ln]
    assert len(drawn) == 3001                       # every node once
    continued = [ln for ln in lines if ln.endswith("↓ continued below")]
    assert len(continued) == -(-3000 // (MAX_INDENT + 1)) - 1   # 3,000 sin nodes, MAX_INDENT + 1 a chunk
    # indentation restarts at the margin: width bounded, size linear (not 3000² characters)
    assert max(len(ln) for ln in lines) <= 4 * MAX_INDENT + 40
    starts = [ln for ln in lines if ln.startswith(tuple("abcdefghijklmnopqrstuvwxyz"))]
    assert len(starts) == len(continued) + 1


def test_graph_tree_of_a_deep_expression_continues_where_it_stopped():
    from calccli.render.graph import tree_rows
    g = graph_of("sin(" * 60 + "x" + ")" * 60, None, "tree")
    rows = tree_rows(g)
    cut = [line.split()[-4] for line, _ in rows if line.endswith("continued below")]
    heads = [line.split(" = ")[0] for line, n in rows if n is not None and not line.startswith((" ", "└", "├"))]
    assert heads[1:] == cut                          # each cut subtree is drawn next, from the margin


# ---------------------------------------------------------------- plot

def test_plot_samples_derivatives_and_extrema():
    r = plot_of("x^3 - 3x", "-2.5", "2.5", 2, "1.5", None, None, 60, 15)
    j = json_obj(r)
    assert list(j["ys"]) == ["f", "f'", "f''"]
    n = len(j["xs"])
    assert n >= 100 and all(len(v) == n for v in j["ys"].values())
    for x, f, d1, d2 in zip(j["xs"], *j["ys"].values()):
        assert math.isclose(f, x ** 3 - 3 * x, abs_tol=1e-12)
        assert math.isclose(d1, 3 * x * x - 3, abs_tol=1e-12)
        assert math.isclose(d2, 6 * x, abs_tol=1e-12)
    crit = [(round(c["x"], 9), c["kind"]) for c in j["critical_points"]]
    assert crit == [(-1.0, "a maximum"), (1.0, "a minimum")]
    t = j["tangent"]
    assert t["at"] == 1.5 and math.isclose(t["slope"], 3.75) and math.isclose(t["value"], -1.125)
    doc = to_doc(r)
    assert len(doc.blocks[0].lines) >= 10      # the picture itself
    assert any("f''(x) = 6x" in ln for ln in doc.blocks[1].lines)


def test_plot_gaps_where_undefined():
    r = plot_of("log(x)", "-1", "3", 1, None, None, None, 50, 12)
    ys = json_obj(r)["ys"]
    assert ys["f"][0] is None and ys["f"][-1] is not None
    assert r.critical == []


@pytest.mark.parametrize("args", [["--from", "2", "--to", "1"], ["--from", "a", "--to", "1"],
                                  ["--from", "0", "--to", "1", "--order", "-1"]])
def test_plot_bad_input(cli, args):
    code, out, err = cli("plot", "x^2", *args)
    assert code == 2 and "Traceback" not in out + err


def test_plot_cli(cli):
    code, out, _ = cli("plot", "sin(x) exp(-x^2/4)", "--from", "-4", "--to", "4", "--format", "plain",
                       "--width", "60", "--height", "15")
    assert code == 0 and "f'(x) = 0 at x ≈ 1.07687: a maximum of f" in out
    code, out, _ = cli("plot", "sin(x)", "--from", "0", "--to", "3", "--format", "json")
    assert code == 0 and len(json.loads(out)["xs"]) >= 100


# ---------------------------------------------------------------- check

def test_check_agrees():
    r = check_at("x^x", ["1.5"], None, None, 1e-6)
    (row,) = r.rows
    want = 1.5 ** 1.5 * (math.log(1.5) + 1)
    for v in (row.forward, row.reverse, row.symbolic):
        assert math.isclose(v, want, rel_tol=1e-14)
    assert row.err_central < 1e-8 and r.exit_code == 0
    assert row.h == pytest.approx(6.055e-6 * 1.5, rel=1e-3)


def test_check_several_variables_and_json(cli):
    code, out, _ = cli("check", "x^2 y + sin(x y)", "--at", "x=1,y=2", "--format", "json")
    j = json.loads(out)
    assert code == 0 and j["ok"] and j["variables"] == ["x", "y"]
    c = {k["variable"]: k for k in j["checks"]}
    assert math.isclose(c["x"]["reverse"], 2 * 1 * 2 + 2 * math.cos(2), rel_tol=1e-14)
    assert c["y"]["symbolic_expression"] == "x^2 + x cos(x y)"   # as diff --wrt y writes it (issue 17)


def test_check_disagreement_exits_1(cli):
    code, out, _ = cli("check", "abs(x)", "--at", "1e-7", "--format", "plain")
    assert code == 1 and "MISMATCH" in out and "not be smooth" in out
    code, out, _ = cli("check", "x^x", "--at", "1.5", "--format", "plain")
    assert code == 0 and "all methods agree" in out


def test_check_errors(cli):
    code, _, _ = cli("check", "sqrt(x)", "--at", "0")
    assert code == 1
    code, _, _ = cli("check", "x^2")
    assert code == 2
    code, _, _ = cli("check", "x^2", "--at", "1", "--tol", "-1")
    assert code == 2


def test_plot_of_a_tall_tower_is_bounded_and_its_slopes_match_taylor_mode():
    import gc
    from calccli.commands.plot import LEGEND_INPUT, _values
    from calccli.engine.tape import build_tape
    from calccli.engine.taylor import derivatives_at
    from calccli.language.parse import parse
    tower = "^".join(["x"] * 3000)
    assert len(tower) > LEGEND_INPUT
    r = plot_of(tower, "1", "1.1", 1, None, None, None, 40, 10)
    assert r.derivative_expressions == {}                              # no symbolic legend for a huge input
    assert all(v is not None for v in r.ys["f"]) and all(v is not None for v in r.ys["f'"])
    assert gc.isenabled()                             # the Taylor sweeps give the collector back
    for text, x in (("x^x^x", 1.3), ("sin(x)/x", 0.01), ("log(1+exp(x))*tanh(x)", -2.0), (tower, 1.05)):
        tape = build_tape(parse(text).node)
        fast = _values(tape, {"x": x}, "x", 1, derivatives_at)
        slow = derivatives_at(tape, {"x": x}, "x", 1)
        assert fast[0] == slow[0]
        # sin(x)/x near 0 cancels: both are exact AD, rounded differently (3e-12 relative)
        assert math.isclose(fast[1], slow[1], rel_tol=1e-10)
