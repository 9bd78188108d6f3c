"""calc graph --at: every node's value and adjoint ∂f/∂node (or tangent ∂node/∂x),
in tree, DOT and JSON; matrix --let; --output rendered by Graphviz.

The oracle for an adjoint is sympy: ∂f/∂v with v a free symbol and every
node downstream of v rebuilt from its definition in the graph's JSON.
"""
import json
import math
import re

import numpy as np
import pytest
import sympy as sp

import calccli as calc
from calccli.commands import graphviz
from conftest import SEED


def sym_adjoint(graph: dict, target: str) -> float:
    """∂f/∂target: target a symbol, other nodes their definitions (or values)."""
    t = sp.Symbol("t_")
    exprs = {}
    for n in graph["nodes"]:
        if n["name"] == target:
            exprs[n["name"]] = t
        elif n["kind"] != "intermediate":
            exprs[n["name"]] = sp.Float(n["value"], 30)
        else:
            text = re.sub(r"(\w+) (\w+)", r"\1*\2", n["definition"]).replace("^", "**")
            exprs[n["name"]] = sp.sympify(text, locals={k: sp.Symbol(k) for k in n["args"]}).subs(
                {sp.Symbol(k): exprs[k] for k in n["args"]})
    root = next(n for n in graph["nodes"] if n["name"] == graph["output"])
    value = next(n["value"] for n in graph["nodes"] if n["name"] == target)
    return float(sp.diff(exprs[root["name"]], t).subs(t, sp.Float(value, 30)).evalf(30))


@pytest.mark.parametrize("expr, at", [(SEED, "x=1"), ("x^2 y + sin(x y)", "x=1,y=2"),
                                      ("exp(x) / (1 + exp(x)) * log(y + x)", "x=0.3,y=2")])
def test_every_adjoint_is_df_by_dnode(cli, expr, at):
    code, out, _ = cli("graph", expr, "--at", at, "--format", "json")
    assert code == 0
    g = json.loads(out)
    assert g["mode"] == "reverse"
    for n in g["nodes"]:
        assert math.isclose(n["adjoint"], sym_adjoint(g, n["name"]), rel_tol=1e-12, abs_tol=1e-14), n["name"]
    grad = calc.grad(expr, at=at)
    inputs = {n["name"]: n["adjoint"] for n in g["nodes"] if n["kind"] == "input"}
    assert [inputs[v] for v in grad.variables] == grad.gradient.tolist()   # the inputs' adjoints ARE ∇f


def test_the_seed_graph_with_values_and_adjoints():
    g = calc.graph(SEED, at={"x": 1.0})
    by = {n.name: n for n in g.nodes}
    d = calc.diff(SEED, at={"x": 1.0})
    assert [by[t.name].value for t in d.trace] == [t.value for t in d.trace]
    assert by["x"].adjoint == d.derivative == 5.983082595908695
    assert by["f"].value == 1.0900122119747424 and by["f"].adjoint == 1.0
    c = 1 + math.e
    assert math.isclose(by["c"].adjoint, 1 / (2 * math.sqrt(c)) - math.sin(c), rel_tol=1e-15)
    lines = g.to_text("plain").splitlines()
    head = next(ln for ln in lines if ln.endswith("value                 ∂f/∂node"))
    col = head.index("value")
    row = next(ln for ln in lines if "c = a + b" in ln)
    assert row[col:].split()[:2] == ["3.718281828459045", repr(by["c"].adjoint)]
    assert "∂f/∂x = 5.983082595908695" in lines


def test_dot_labels_carry_value_and_adjoint(cli):
    code, out, _ = cli("graph", SEED, "--at", "1", "--format", "dot")
    assert code == 0
    pydot = pytest.importorskip("pydot")
    (dot,) = pydot.graph_from_dot_data(out)
    labels = {n.get_name().strip('"'): n.get("label").strip('"') for n in dot.get_nodes()
              if n.get_name() not in ("node", "edge", "graph")}
    assert labels["x"] == "x\\nvalue 1\\n∂f/∂x = 5.98308"
    assert labels["c"].split("\\n") == ["c = a + b", "value 3.71828", "∂f/∂c = 0.804549"]
    g = calc.graph(SEED, at=1.0).to_json()
    for n in g["nodes"]:
        value, adj = labels[n["name"]].split("\\n")[1:]
        assert float(value.split()[1]) == pytest.approx(n["value"], rel=1e-5)
        assert float(adj.split(" = ")[1]) == pytest.approx(n["adjoint"], rel=1e-5)


def test_matrix_and_vector_bindings():
    A = np.array([[1.0, 2.0], [3.0, 4.0]])
    x = np.array([1.0, 2.0])
    g = calc.graph("x^T A x", at={"x": x}, let={"A": A})
    by = {n.name: n for n in g.nodes}
    assert by["A"].kind == "constant" and by["A"].adjoint is None
    np.testing.assert_array_equal(by["A"].value, A)
    np.testing.assert_allclose(by["x"].adjoint, (A + A.T) @ x)
    np.testing.assert_allclose(by["x"].adjoint, calc.grad("x^T A x", at={"x": x}, let={"A": A}).gradient)
    assert by[g.output].value == x @ A @ x
    j = g.to_json()
    assert j["point"] == {"x[1]": 1.0, "x[2]": 2.0}
    assert next(n for n in j["nodes"] if n["name"] == "A")["value"] == [[1.0, 2.0], [3.0, 4.0]]


def test_a_matrix_let_without_a_point_is_a_constant_node(cli):
    code, out, err = cli("graph", "x^T A x", "--let", "A=[[1,2],[3,4]]", "--format", "plain")
    assert code == 0, err
    assert "A   (constant)" in out and "value" not in out


def test_forward_mode_gives_tangents(cli):
    g = calc.graph("x^2 y + sin(x y)", at={"x": 1, "y": 2}, wrt="x", mode="forward")
    by = {n.name: n for n in g.nodes}
    assert by["x"].tangent == 1.0 and by["y"].tangent == 0.0
    assert by[g.output].tangent == calc.diff("x^2 y + sin(x y)", at={"x": 1, "y": 2}, wrt="x").derivative
    assert all(n.adjoint is None for n in g.nodes)
    with pytest.raises(calc.UsageError, match="follows one variable"):
        calc.graph("x y", at={"x": 1, "y": 2}, mode="forward")
    code, out, _ = cli("graph", "x^2 y", "--at", "x=1,y=2", "--mode", "forward", "--wrt", "y", "--format", "json")
    assert code == 0 and json.loads(out)["wrt"] == "y"


def test_a_vector_output_has_values_but_no_adjoints():
    g = calc.graph("[x^2, x y]", at={"x": 3, "y": 2})
    assert g.mode is None and "not a scalar" in g.note
    assert next(n for n in g.nodes if n.name == g.output).value.tolist() == [9.0, 6.0]


def test_errors_point_at_the_input(cli):
    code, _, err = cli("graph", "x y", "--at", "x=1")
    assert code == 2 and "the variable 'y' has no value" in err and "^" in err
    code, _, err = cli("graph", "sqrt(x)", "--at", "x=0")
    assert code == 1 and "error:" in err
    code, _, err = cli("graph", "x^2", "--at", "1", "--mode", "sideways")
    assert code == 2 and "unknown mode 'sideways'" in err


def test_repl_graph_at(cli):
    code, out, _ = cli("repl", input="A = [[2,1],[1,3]]\ngraph x^T A x at x=[1,1]\n")
    assert code == 0
    assert "[6, 8]" in out   # ∇(xᵀAx) = (A + Aᵀ)x


# ---------------------------------------------------------------- --output (Graphviz)

needs_graphviz = pytest.mark.skipif(graphviz.libraries() is None,
                                    reason="Graphviz (libgvc) is not installed: apt-get install graphviz")


@needs_graphviz
def test_output_svg_and_png(cli, tmp_path):
    svg = tmp_path / "seed.svg"
    code, out, _ = cli("graph", SEED, "--at", "1", "--output", str(svg))
    assert code == 0 and out.startswith(f"wrote {svg}")
    text = svg.read_text()
    assert text.lstrip().startswith("<?xml") and "<svg" in text
    assert set(re.findall(r"<title>(\w+)</title>", text)) >= set("xabcdef")
    assert "∂f/∂x = 5.98308" in text
    png = tmp_path / "seed.png"
    code, out, _ = cli("graph", SEED, "--output", str(png))
    assert code == 0 and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    r = calc.graph(SEED, at=1, output=tmp_path / "api.svg")
    assert r.file == str(tmp_path / "api.svg") and (tmp_path / "api.svg").stat().st_size > 1000


def test_output_without_graphviz_says_how_to_install_it(cli, tmp_path, monkeypatch):
    monkeypatch.setattr(graphviz, "_LIBS", [None])
    code, _, err = cli("graph", SEED, "--output", str(tmp_path / "g.svg"))
    assert code == 1
    assert "needs Graphviz, which is not installed" in err and "apt-get install graphviz" in err
    assert "--format dot | dot -Tsvg" in err
    assert not (tmp_path / "g.svg").exists()


def test_output_needs_a_picture_suffix(cli, tmp_path):
    code, _, err = cli("graph", "x^2", "--output", str(tmp_path / "g.txt"))
    assert code == 2 and "must end in .svg, .png or .pdf" in err


def test_graph_digits_rounds_the_tree_and_keeps_its_columns(cli):
    code, out, _ = cli("graph", "x^2 sin(x)", "--at", "x=1", "--digits", "4", "--format", "plain")
    assert code == 0
    rows = [ln for ln in out.splitlines() if "=" in ln and ("a b" in ln or "x^2" in ln or "sin(x)" in ln)][1:]
    assert len(rows) == 3
    assert "0.8415" in rows[0] and "0.8414709848" not in out
    # the value column starts at the same place on every row, the adjoint column too
    columns = [[m.start() for m in re.finditer(r"(?<=   )[-\d]", ln)] for ln in rows]
    assert len({tuple(c) for c in columns}) == 1 and len(columns[0]) == 2, rows
    code, out, _ = cli("graph", "x^2 sin(x)", "--at", "x=1", "--digits", "4", "--format", "json")
    assert json.loads(out)["nodes"][0]["adjoint"] == 2.2232442754839328      # JSON keeps every digit
