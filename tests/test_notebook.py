"""A real Jupyter notebook (nbformat + nbclient + ipykernel) computes the seed
example with the Python API and shows it: the displayed HTML has the
intermediate-variable table, the LaTeX the derivative, to the last digit.
"""
import html as h
import os
import re

import pytest

from conftest import ROOT, SEED

nbformat = pytest.importorskip("nbformat", reason="the notebook test needs nbformat (pip install .[test])")
nbclient = pytest.importorskip("nbclient", reason="the notebook test needs nbclient (pip install .[test])")
pytest.importorskip("ipykernel", reason="the notebook test needs ipykernel (pip install .[test])")

VALUE, DERIVATIVE = "1.0900122119747424", "5.983082595908695"
DEFINITIONS = ["x^{2}", r"\exp\left(a\right)", "a + b", r"\sqrt{c}", r"\cos\left(c\right)", "d + e"]   # LaTeX


@pytest.fixture(scope="module")
def executed():
    """The notebook, run top to bottom in a fresh kernel that imports this checkout."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("import calccli as calc\nprint(calc.__file__)"),
        nbformat.v4.new_code_cell(f'r = calc.diff("{SEED}", at={{"x": 1.0}})\nr'),
        nbformat.v4.new_code_cell("print(repr(r.value), repr(r.derivative))"),
        nbformat.v4.new_code_cell('import numpy\n'
                                  'g = calc.grad("x^T A x", at={"x": [1, 2]}, let={"A": numpy.array([[1, 2], [3, 4]])})\n'
                                  'g'),
    ]
    old = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = str(ROOT) + (os.pathsep + old if old else "")
    try:
        client = nbclient.NotebookClient(nb, timeout=180, kernel_name="python3", resources={"metadata": {"path": str(ROOT)}})
        client.execute()
    finally:
        if old is None:
            del os.environ["PYTHONPATH"]
        else:
            os.environ["PYTHONPATH"] = old
    return nb


def _data(cell) -> dict:
    (out,) = [o for o in cell.outputs if o.output_type == "execute_result"]
    return out["data"]


def _html_text(html: str) -> str:
    import html as h
    import re
    return h.unescape(re.sub(r"<[^>]+>", " ", html))


def test_the_kernel_imports_this_checkout(executed):
    assert executed.cells[0].outputs[0]["text"].strip() == str(ROOT / "calccli" / "__init__.py")
    assert executed.cells[2].outputs[0]["text"].split() == [VALUE, DERIVATIVE]


def test_the_seed_example_displays_as_html_with_the_table(executed):
    data = _data(executed.cells[1])
    assert "text/html" in data, f"no HTML display (outputs: {sorted(data)})"
    html = data["text/html"]
    assert "<table" in html and "<merror" not in html
    rows = re.findall(r"<tr><td><math><semantics><mi>(\w)</mi>.*?</tr>", html)
    assert rows == list("abcdef")
    for definition in DEFINITIONS:   # each definition a formula in MathML (its TeX kept as the annotation)
        assert f'<annotation encoding="application/x-tex">{h.escape(definition)}</annotation>' in html, definition
    text = " ".join(_html_text(html).split())
    assert VALUE in text and DERIVATIVE in text


def test_the_seed_example_displays_as_latex(executed):
    data = _data(executed.cells[1])
    assert "text/latex" in data, f"no LaTeX display (outputs: {sorted(data)})"
    tex = data["text/latex"]
    assert tex.strip().startswith(("$", "\\[", "\\begin"))
    assert DERIVATIVE[:7] in tex and VALUE[:7] in tex
    assert "\\exp" in tex or "e^{" in tex


def test_a_gradient_displays_too(executed):
    data = _data(executed.cells[3])
    assert "text/html" in data and "text/latex" in data
    assert "12" in data["text/latex"] and "21" in data["text/latex"]
