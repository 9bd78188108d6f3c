"""--format html: one self-contained page whose formulas are MathML made from the
LaTeX output (render/mathml.py), the derivation as tables of formulas, the graph as
inline SVG with values and adjoints; checked in headless Chromium where it exists.
"""
import re
import shutil
import subprocess
from html import escape, unescape
from xml.dom.minidom import parseString

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from calccli.render import render_text
from calccli.render.html import paragraphs
from calccli.render.latex import latex_of
from calccli.render.mathml import mathml
from conftest import SEED
from symgen import exprs, node_of
from test_render import one_of_each

ANNOTATION = re.compile(r'<annotation encoding="application/x-tex">(.*?)</annotation>', re.S)


@pytest.fixture(scope="module")
def results():
    return one_of_each()


def _seed_page(cli, *args, command="diff"):
    code, out, err = cli(command, SEED, "--at", "1", *args, "--format", "html")
    assert code == 0, err
    return out


def _maths(page: str) -> list[str]:
    return re.findall(r"<math\b.*?</math>", page, re.S)


# ---------------------------------------------------------------- LaTeX → MathML

def _dom(tex: str):
    return parseString(mathml(tex)).documentElement


def _tags(tex: str) -> list[str]:
    out, stack = [], [_dom(tex)]
    while stack:
        n = stack.pop()
        if n.nodeType == n.ELEMENT_NODE:
            out.append(n.tagName)
            stack.extend(reversed(n.childNodes))
    return out


def test_the_translator_builds_the_structure_of_each_construct():
    frac = _dom(r"\frac{\partial f}{\partial x}").getElementsByTagName("mfrac")[0]
    num, den = [c for c in frac.childNodes]
    assert [t.firstChild.data for t in num.getElementsByTagName("mi")] == ["∂", "f"]
    assert [t.firstChild.data for t in den.getElementsByTagName("mi")] == ["∂", "x"]
    sup = _dom("x^{2}").getElementsByTagName("msup")[0]
    assert [c.tagName for c in sup.childNodes] == ["mi", "mn"] and sup.childNodes[1].firstChild.data == "2"
    assert "msqrt" in _tags(r"\sqrt{x^{2} + 1}") and "msubsup" in _tags("x_{1}^{2}")
    m = _dom(r"\begin{bmatrix} 1 & 2 \\ 3 & 4 \\ 5 & 6 \end{bmatrix}")
    rows = m.getElementsByTagName("mtr")
    assert len(rows) == 3 and [len(r.getElementsByTagName("mtd")) for r in rows] == [2, 2, 2]
    assert [mo.firstChild.data for mo in m.getElementsByTagName("mo")] == ["[", "]"]
    t = _dom(r"\text{positive, but $\nabla$f $\neq$ 0}")
    assert [x.firstChild.data for x in t.getElementsByTagName("mtext")] == ["positive, but\u00a0", "f\u00a0", "\u00a00"]
    assert [x.firstChild.data for x in t.getElementsByTagName("mi")] == ["∇"]
    assert "munder" in _tags(r"\operatorname*{argmin}_{x, y} J")
    assert _dom(r"\hat\theta").getElementsByTagName("mover")[0].firstChild.firstChild.data == "θ"
    assert _dom(r"-\sin\left(c\right)").getElementsByTagName("mo")[0].getAttribute("form") == "prefix"
    assert _dom(r"a - b").getElementsByTagName("mo")[0].getAttribute("form") == ""   # binary minus
    assert "merror" in _tags(r"\undefinedmacro x")          # never silently dropped


@settings(max_examples=1, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(st.lists(exprs(("x", "y", "θ")), min_size=200, max_size=200))
def test_random_expressions_translate_construct_for_construct(batch):
    """Every fraction, root and power of the LaTeX is one MathML element; no error, well-formed."""
    for src in batch:
        tex = latex_of(node_of(src))
        out = mathml(tex)
        parseString(out)
        assert "<merror" not in out, (src, tex)
        assert out.count("<mfrac>") == tex.count(r"\frac{"), (src, tex)
        assert out.count("<msqrt>") == tex.count(r"\sqrt{"), (src, tex)
        assert out.count("<msup>") + out.count("<msubsup>") == tex.count("^{"), (src, tex)


def test_deep_formulas_need_no_recursion():
    deep = r"\left(" * 3000 + "x" + r"\right)" * 3000
    out = mathml(r"\sqrt{" * 2000 + deep + "}" * 2000)
    assert out.count("<msqrt>") == 2000 and out.count('fence="true"') == 6000


# ---------------------------------------------------------------- every command's page

def test_every_formula_of_every_command_is_mathml(results):
    """Each LaTeX paragraph of every result is on its page as MathML (its TeX the annotation),
    every <math> is well-formed XML and none has an error node."""
    for label, r in results.items():
        page = render_text(r, "html")
        maths = _maths(page)
        assert maths and "<merror" not in page, label
        for m in maths:
            parseString(m)
        shown = {unescape(a) for a in ANNOTATION.findall(page)}
        for p in paragraphs(r):
            if p.startswith(r"\begin{aligned}") and label in ("diff", "grad", "diff arrays", "graph"):
                continue   # tables: one formula per cell (checked below)
            assert p in shown, (label, p[:80])


def test_html_is_one_self_contained_page(cli):
    page = _seed_page(cli)
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert "<style>" in page and "<script" not in page and not re.search(r"(src|href)=", page)
    assert "<title>f(x) = sqrt(x^2+exp(x^2))+cos(x^2+exp(x^2))    at x = 1</title>" in page
    trace = re.search(r'<table class="trace">.*?</table>', page, re.S).group()
    assert re.findall(r"<tr><td><math><semantics><mi>(\w)</mi>", trace) == list("abcdef")
    assert r"\frac{\partial e}{\partial c} = -\sin\left(c\right) = 0.5452515566923345" in unescape(trace)
    steps = re.search(r'<table class="steps">.*?</table>', page, re.S).group()
    tex = [unescape(a) for a in ANNOTATION.findall(steps)]
    assert (r"= \frac{\partial f}{\partial d} \cdot \frac{\partial d}{\partial c} + \frac{\partial f}{\partial e}"
            r" \cdot \frac{\partial e}{\partial c}") in tex
    assert "= 0.2592978120665479 + 0.5452515566923345 = 0.8045493687588824" in tex   # the continuation row
    assert "(c feeds d and e: contributions add)" in steps
    assert r"f(1) = 1.0900122119747424, \quad f'(1) = 5.983082595908695" in map(unescape, ANNOTATION.findall(page))


def test_digits_round_the_page(cli):
    page = _seed_page(cli, "--digits", "4")
    assert "5.983082595908695" not in page and "<mn>5.983</mn>" in page


def test_grad_steps_and_hessian_keep_their_steps_and_eigenvalues(cli):
    code, page, _ = cli("grad", "x^2*y + exp(y)", "--at", "x=1,y=2", "--steps", "--format", "html")
    assert code == 0 and '<table class="trace">' in page and '<table class="steps">' in page
    assert r"f(x, y) = x^{2} y + \exp\left(y\right)" in unescape(page)
    assert r"\nabla f = \begin{bmatrix} 4 \\ 8.389056099 \end{bmatrix}" in unescape(page)
    code, page, _ = cli("hessian", "x^2*y + y^3", "--at", "x=1,y=2", "--format", "html")
    assert code == 0 and "<mtable>" in page and "<mi>λ</mi>" in page and "positive definite" in page


def test_pages_keep_the_views_data_tables_and_pictures(results):
    fit = render_text(results["fit"], "html")
    assert "<h2>Progress per epoch</h2>" in fit and fit.count("<tr>") == 1 + 6 and "<pre>" in fit
    assert "<h2>Iterations</h2>" in render_text(results["minimize"], "html")
    plot = render_text(results["plot"], "html")
    assert "<pre>" in plot and plot.count("<math") == len(paragraphs(results["plot"]))


# ---------------------------------------------------------------- graph: inline SVG with values and adjoints

def _graph(*args):
    from calccli.commands.graph import graph_of
    return graph_of(SEED, None, "html", *args)


def test_the_graph_layout_without_graphviz():
    from calccli.render.graph_svg import layered_svg
    dom = parseString(layered_svg(_graph()))
    assert len(dom.getElementsByTagName("rect")) == 7          # x and a … f
    assert len(dom.getElementsByTagName("line")) == 8          # one per argument use
    dom = parseString(layered_svg(_graph(["x=1"])))
    texts = [t.firstChild.data for t in dom.getElementsByTagName("text")]
    assert "∂f/∂x = 5.98308" in texts and "∂f/∂c = 0.804549" in texts and "value -0.838272" in texts
    # inputs at the bottom, the output at the top
    ys = {t.firstChild.data: float(t.getAttribute("y")) for t in dom.getElementsByTagName("text")}
    assert ys["x"] > ys["a = x^2"] > ys["c = a + b"] > ys["f = d + e"]


def test_the_graph_page_has_values_and_adjoints(cli):
    page = _seed_page(cli, command="graph")
    svg = re.search(r"<svg.*?</svg>", page, re.S).group()
    parseString(svg)
    text = unescape(re.sub(r"<[^>]+>", " ", svg))
    for label in ("∂f/∂x = 5.98308", "∂f/∂a = 2.99154", "value 1.92828", "∂f/∂f = 1"):
        assert label in text, label
    assert "<merror" not in page and r"\cos\left(c\right)" in unescape(page)
    from calccli.commands.graphviz import libraries
    if libraries() is not None:   # Graphviz drew it: one <g class="node"> per node
        assert svg.count('class="node"') == 7


def test_the_graph_page_without_graphviz(cli, monkeypatch):
    from calccli.commands import graphviz
    monkeypatch.setattr(graphviz, "_LIBS", [None])
    svg = re.search(r"<svg.*?</svg>", _seed_page(cli, command="graph"), re.S).group()
    dom = parseString(svg)
    assert len(dom.getElementsByTagName("rect")) == 7 and "∂f/∂x = 5.98308" in svg


def test_a_wide_graph_is_drawn_at_once(cli):
    """400 terms: Graphviz would take minutes; the layered layout draws it."""
    code, page, _ = cli("graph", "+".join(f"sin({i}*x)" for i in range(1, 400)), "--at", "1", "--format", "html")
    assert code == 0 and page.count("<rect") == 1 + 399 + 399 + 398   # x, the products, the sines, the sums


def test_the_graph_of_matrix_lets(cli):
    code, page, err = cli("graph", "x^T A x", "--let", "A=[[1,2],[3,4]]", "--at", "x=[1,2]", "--format", "html")
    assert code == 0, err
    assert "<merror" not in page and "<svg" in page and "∂c/∂x = [12, 21]" in unescape(page)


# ---------------------------------------------------------------- in a real browser

BROWSER = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--hide-scrollbars"]
PROBE = """<script>
addEventListener('load', () => {
  const box = e => e.getBoundingClientRect();
  const fr = [...document.querySelectorAll('mfrac')];
  const stacked = fr.filter(f => box(f.children[0]).bottom <= box(f.children[1]).top + 1).length;
  const sup = [...document.querySelectorAll('msup')].filter(s => box(s.children[1]).top < box(s.children[0]).top).length;
  const rows = document.querySelectorAll('table.trace tbody tr').length;
  const svg = document.querySelector('svg'), texts = [...document.querySelectorAll('svg text')];
  const out = document.createElement('pre');
  out.id = 'probe';
  out.textContent = JSON.stringify({math: document.querySelectorAll('math').length,
    merror: document.querySelectorAll('merror').length, fractions: fr.length, stacked, sup, rows,
    svg: svg ? box(svg).height : 0, labels: texts.map(t => t.textContent).join('|')});
  document.body.appendChild(out);
});
</script>"""


def _in_browser(tmp_path, name: str, html: str) -> dict:
    """Screenshot ``html`` (non-blank) and return what a probe measured on its layout
    (a copy of the page with a script added: the page itself has none)."""
    import json
    if not BROWSER:
        pytest.skip("no headless Chromium here (Debian: apt-get install -y chromium)")
    page = tmp_path / f"{name}.html"
    page.write_text(html, encoding="utf-8")
    shot = tmp_path / f"{name}.png"
    subprocess.run([BROWSER, *FLAGS, f"--screenshot={shot}", "--window-size=1100,1300", page.as_uri()],
                   capture_output=True, timeout=120)
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10000
    assert len(set(_png_pixels(data))) > 50, "the screenshot is blank"
    probe = tmp_path / f"{name}-probe.html"
    probe.write_text(html.replace("</body>", PROBE + "</body>"), encoding="utf-8")
    dom = subprocess.run([BROWSER, *FLAGS, "--virtual-time-budget=5000", "--dump-dom", probe.as_uri()],
                         capture_output=True, text=True, timeout=120).stdout
    m = re.search(r'<pre id="probe">(.*?)</pre>', dom, re.S)
    assert m, dom[-500:]
    return json.loads(unescape(m.group(1)))


def _png_pixels(data: bytes) -> bytes:
    """The PNG's image bytes (filtered rows, good enough to tell a blank picture)."""
    import struct
    import zlib
    i, idat = 8, b""
    while i < len(data):
        n, kind = struct.unpack(">I4s", data[i:i + 8])
        if kind == b"IDAT":
            idat += data[i + 8:i + 8 + n]
        i += 12 + n
    return zlib.decompress(idat)


def test_the_seed_page_renders_its_math_in_chromium(cli, tmp_path):
    m = _in_browser(tmp_path, "seed", _seed_page(cli))
    assert m["merror"] == 0 and m["math"] > 40
    assert m["rows"] == 6                                       # the notes' six intermediate variables
    assert m["fractions"] > 20 and m["stacked"] == m["fractions"]   # laid out as MathML: numerator on top
    assert m["sup"] > 3


def test_the_graph_page_renders_in_chromium(cli, tmp_path):
    m = _in_browser(tmp_path, "graph", _seed_page(cli, command="graph"))
    assert m["merror"] == 0 and m["svg"] > 300
    assert "∂f/∂x = 5.98308" in m["labels"] and "value 2.71828" in m["labels"]
