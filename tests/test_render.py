"""Rendering: results are data, every format is one function per result type in render/.

Checks the architecture (no rendering code on results, commands never import
render, every result type has a renderer per format) and that the single entry
point ``render_text`` gives every format for a result of each command.
"""
import ast
import dataclasses
import json
from pathlib import Path

import pytest

from calccli.render import FORMATS, load_renderers, render_text
from calccli.render.json import json_obj, to_obj
from calccli.render.latex import to_latex
from calccli.render.views import to_doc
from conftest import ROOT, SEED

COMMANDS = ROOT / "calccli" / "commands"
LINE = str(ROOT / "examples" / "line.csv")


def one_of_each():
    """A result of every command (and every result type), computed the way the CLI does."""
    from calccli.commands.check import check_at
    from calccli.commands.derivatives import diff_at, eval_expr
    from calccli.commands.fit import fit_model
    from calccli.commands.graph import graph_of
    from calccli.commands.higher import diff_higher
    from calccli.commands.matrix import symbolic_derivative
    from calccli.commands.multivar import diff_with_arrays, grad_at, hessian_at, jacobian_at
    from calccli.commands.optimize import minimize_from
    from calccli.commands.plot import plot_of
    from calccli.commands.symbolic import diff_symbolic, grad_symbolic
    return {
        "eval": eval_expr("x^2 + 1", ["x=3"]),
        "diff": diff_at(SEED, ["x=1"]),
        "diff --order": diff_higher("x^3*sin(x)", ["x=1"], order=3),
        "diff arrays": diff_with_arrays("x*sum(v)", ["x=2"], let=["v=[1,2,3]"]),
        "diff symbolic": diff_symbolic("x^3*sin(x)", steps=True),
        "grad": grad_at("x^2*y + exp(y)", ["x=1,y=2"], steps=True),
        "grad symbolic": grad_symbolic("x^2*y + exp(y)"),
        "grad matrix": symbolic_derivative("grad", "x^T A x", None, "x"),
        "jacobian": jacobian_at("[x*y, sin(x), x+y]", ["x=1,y=2"]),
        "hessian": hessian_at("x^2*y + y^3", ["x=1,y=2"]),
        "check": check_at("x^2*sin(y)", ["x=1,y=2"]),
        "graph": graph_of(SEED),
        "plot": plot_of("x^3 - x", "-2", "2", at="1"),
        "minimize": minimize_from("(x-1)^2 + (y-2)^2", ["x=0,y=0"]),
        "fit": fit_model("w*x + b", LINE, "y", epochs=5),
        "fit --compare": fit_model("w*x + b", LINE, "y", epochs=5, compare=True),
    }


@pytest.fixture(scope="module")
def results():
    return one_of_each()


def _result_classes():
    """Every dataclass named *Result (or MatrixDerivative) in commands/ and explain/records.py."""
    import importlib
    out = []
    for path in sorted(COMMANDS.glob("*.py")) + [ROOT / "calccli" / "explain" / "records.py"]:
        mod = importlib.import_module("calccli." + ".".join(path.relative_to(ROOT / "calccli").with_suffix("").parts))
        out += [c for n, c in vars(mod).items()
                if (n.endswith("Result") or n == "MatrixDerivative") and isinstance(c, type) and c.__module__ == mod.__name__]
    return out


def test_results_are_dataclasses_without_rendering_code():
    classes = _result_classes()
    assert len(classes) >= 13
    for cls in classes:
        assert dataclasses.is_dataclass(cls), cls
        for method in ("json", "doc", "latex", "raw_text", "tree_lines", "dot_lines"):
            assert not hasattr(cls, method), f"{cls.__name__}.{method}: rendering belongs in render/"


def test_commands_never_import_render():
    for path in COMMANDS.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                assert not (node.module or "").startswith("calccli.render"), f"{path.name}:{node.lineno}"
            elif isinstance(node, ast.Import):
                assert not any(a.name.startswith("calccli.render") for a in node.names), path.name


def test_every_result_type_has_one_renderer_per_format(results):
    assert {type(r) for r in results.values()} == set(_result_classes())
    for label, r in results.items():
        load_renderers(type(r))
        for generic in (to_doc, json_obj, to_latex):
            impl = generic.dispatch(type(r))
            assert impl.__module__.startswith("calccli.render."), (label, generic.__name__)
            assert impl is not generic.registry[object], (label, generic.__name__)


def test_render_text_gives_every_format(results):
    for label, r in results.items():
        for fmt in FORMATS:
            out = render_text(r, fmt)
            assert out and out.endswith("\n"), (label, fmt)
        assert json.loads(render_text(r, "json")) == to_obj(r), label


def test_plain_shows_the_json_numbers(results):
    """The views and the JSON come from the same result: the seed's numbers agree."""
    import math
    r = results["diff"]
    obj = to_obj(r)
    assert obj["value"] == pytest.approx(math.sqrt(1 + math.e) + math.cos(1 + math.e), rel=1e-15)
    plain = render_text(r, "plain")
    assert repr(obj["derivative"]) in plain and repr(obj["value"]) in plain
    assert [row["name"] for row in obj["trace"]] == ["a", "b", "c", "d", "e", "f"]


def test_a_type_without_renderer_is_named():
    @dataclasses.dataclass
    class Strange:
        x: float = 1.0
    with pytest.raises(TypeError, match="no to_doc renderer for Strange"):
        to_doc(Strange())
    with pytest.raises(TypeError, match="no json_obj renderer for Strange"):
        json_obj(Strange())


def test_a_new_result_type_needs_only_registrations():
    """What a new command adds: a dataclass and one function per format."""
    from calccli.render.doc import Doc

    @dataclasses.dataclass
    class AreaResult:
        expression: str
        area: float

    to_doc.register(AreaResult, lambda r: Doc(f"∫ {r.expression}", [], [("area", str(r.area))]))
    json_obj.register(AreaResult, lambda r: {"expression": r.expression, "area": r.area})
    r = AreaResult("x", 0.5)
    assert render_text(r, "plain") == "∫ x\n\narea = 0.5\n"
    assert json.loads(render_text(r, "json")) == {"expression": "x", "area": 0.5}
    assert r"\text{area} &= 0.5" in render_text(r, "latex")   # the JSON keys, when no LaTeX is registered


# ---------------------------------------------------------------- rich display (notebooks, Rich)

def test_results_display_themselves_in_notebooks_and_rich(results):
    import io

    from rich.console import Console
    r = results["diff"]
    tex = r._repr_latex_()
    assert tex.startswith("$$\n") and tex.count("$$") == 2 * len([p for p in render_text(r, "latex").split("\n\n")
                                                                  if p.strip()])
    assert r"\frac{\partial f}{\partial d}" in tex
    html = r._repr_html_()
    assert html.startswith('<div class="calc">') and html.count("<tbody><tr>") == 2   # the table, the steps
    assert html.count("<mfrac>") > 20 and "<merror" not in html                          # formulas as MathML
    c = Console(record=True, width=100, file=io.StringIO())
    c.print(r)
    shown = c.export_text()
    assert "f'(1) = 5.983082595908695" in shown and "Intermediate variables (forward pass)" in shown
    for label, res in results.items():   # every result type has the three
        assert res._repr_html_() and res._repr_latex_().startswith("$$"), label


# ---------------------------------------------------------------- LaTeX that compiles as written

def test_exp_is_a_function_beside_a_variable_named_e():
    r = one_of_each()["diff"]
    tex = to_latex(r)
    table = tex.split("\n\n")[1]
    assert r"e &= \cos\left(c\right)" in table
    assert "e^{" not in table and r"b &= \exp\left(a\right)" in table


def test_latex_compiles_with_pdflatex(results, tmp_path):
    """--standalone: the seed derivation and one result of each command compile as written."""
    import shutil
    import subprocess
    if not shutil.which("pdflatex"):
        pytest.skip("no pdflatex here (Debian: apt-get install -y texlive-latex-base)")
    for label, r in results.items():
        for digits in (None, 6):
            doc = render_text(r, "latex", digits=digits, standalone=True)
            assert doc.startswith("\\documentclass") and doc.rstrip().endswith("\\end{document}")
            name = label.replace(" ", "_").replace("-", "") + f"_{digits}"
            (tmp_path / f"{name}.tex").write_text(doc, encoding="utf-8")
            p = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", f"{name}.tex"],
                               cwd=tmp_path, capture_output=True, text=True, timeout=120)
            assert p.returncode == 0 and (tmp_path / f"{name}.pdf").is_file(), (label, p.stdout[-1500:])


def test_digits_rounds_what_is_shown_and_json_keeps_every_digit(cli):
    code, out, _ = cli("diff", SEED, "--at", "1", "--digits", "6", "--format", "plain")
    assert code == 0 and "f'(1) = 5.98308" in out and "5.983082595908695" not in out
    assert "= 0.804549·2.71828 + 0.804549 = 2.99154" in out
    code, out, _ = cli("diff", SEED, "--at", "1", "--digits", "6", "--format", "latex")
    assert "f'(1) = 5.98308" in out and "2.718281828459045" not in out
    code, out, _ = cli("diff", SEED, "--at", "1", "--digits", "6", "--format", "json")
    assert json.loads(out)["derivative"] == 5.983082595908695


def test_long_chain_rule_steps_take_two_rows():
    r = one_of_each()["diff"]
    steps = to_latex(r).split("\n\n")[2]
    rows = steps.split(" \\\\\n")
    assert any(row.startswith(" &= 0.8045493687588824 \\cdot 2.718281828459045") for row in rows)
    assert max(len(row) for row in rows) < 200


def test_grad_steps_and_hessian_eigenvalues_stay_in_latex(results):
    g = to_latex(results["grad"])
    assert "\\begin{aligned}" in g and "\\frac{\\partial d}{\\partial y}" in g and "\\nabla f =" in g
    h = to_latex(results["hessian"])
    import numpy as np
    lam = np.linalg.eigvalsh(np.array([[4.0, 2.0], [2.0, 12.0]]))
    assert f"\\lambda_{{1}} = {lam[0]:.10g}" in h and "positive definite" in h
