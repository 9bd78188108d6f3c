"""--format latex: the notes' table and steps, and every command's output renders.

The renderer check uses KaTeX through node when both are installed (set
CALC_KATEX to a node_modules folder holding katex, or `npm install katex` in
the checkout); otherwise only the structural checks run (environments and
braces balanced, \\left/\\right paired).
"""
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from calccli.commands.derivatives import diff_at, eval_expr
from calccli.render.latex import latex_of, name, to_latex
from conftest import ROOT, SEED
from symgen import exprs, node_of


def structural(tex: str) -> None:
    """Braces balanced, \\begin/\\end matched, \\left/\\right paired, per formula."""
    for formula in formulas(tex):
        s = re.sub(r"\\[{}]", "", formula)
        depth = 0
        for ch in s:
            depth += {"{": 1, "}": -1}.get(ch, 0)
            assert depth >= 0, formula
        assert depth == 0, formula
        envs = re.findall(r"\\(begin|end)\{(\w+\*?)\}", formula)
        stack = []
        for kind, env in envs:
            if kind == "begin":
                stack.append(env)
            else:
                assert stack and stack.pop() == env, formula
        assert not stack, formula
        assert len(re.findall(r"\\left[(\[.|]|\\left\\\{", formula)) == len(re.findall(r"\\right[)\].|]|\\right\\\}", formula)), formula


def formulas(tex: str) -> list[str]:
    """Each paragraph of the output is one display formula."""
    return [p.strip() for p in tex.split("\n\n") if p.strip() and not p.strip().startswith("%")]


def _katex_dir():
    cands = [os.environ.get("CALC_KATEX"), str(ROOT / "node_modules"), "/tmp/katex/node_modules"]
    if shutil.which("npm"):
        try:
            cands.append(subprocess.run(["npm", "root", "-g"], capture_output=True, text=True,
                                        timeout=20).stdout.strip())
        except (OSError, subprocess.SubprocessError):
            pass
    for c in cands:
        if c and (Path(c) / "katex" / "package.json").is_file():
            return c
    return None


KATEX = _katex_dir() if shutil.which("node") else None
SCRIPT = """
const katex = require(process.argv[1] + '/katex');
let data = '';
process.stdin.on('data', d => data += d);
process.stdin.on('end', () => {
  const out = JSON.parse(data).map(f => {
    try { katex.renderToString(f, {displayMode: true, throwOnError: true, strict: 'ignore'}); return null; }
    catch (e) { return String(e.message); }
  });
  process.stdout.write(JSON.stringify(out));
});
"""


def katex_errors(items: list[str]) -> list:
    r = subprocess.run(["node", "-e", SCRIPT, KATEX], input=json.dumps(items), capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


# ---------------------------------------------------------------- the notes' example

def test_seed_table_and_steps():
    tex = to_latex(diff_at(SEED, ["1.0"]))
    structural(tex)
    parts = formulas(tex)
    assert parts[0].startswith(r"f(x) = \sqrt{x^{2} + \exp\left(x^{2}\right)} + \cos\left(x^{2} + \exp\left(x^{2}\right)\right)")
    assert "e^{" not in tex   # exp is \exp everywhere: e is also the intermediate variable e = cos(c)
    table = parts[1]
    assert table.startswith(r"\begin{aligned}") and table.endswith(r"\end{aligned}")
    rows = table.splitlines()[1:-1]
    assert len(rows) == 6
    for row, var in zip(rows, "abcdef"):
        assert row.startswith(f"{var} &= ")
    assert r"d &= \sqrt{c}" in table
    assert r"\frac{\partial d}{\partial c} = \frac{1}{2 \sqrt{c}} = 0.2592978120665479" in table
    assert r"\frac{\partial e}{\partial c} = -\sin\left(c\right) = 0.5452515566923345" in table
    steps = parts[2]
    assert (r"\frac{\partial f}{\partial c} &= \frac{\partial f}{\partial d} \cdot \frac{\partial d}{\partial c}"
            r" + \frac{\partial f}{\partial e} \cdot \frac{\partial e}{\partial c}") in steps
    assert r"\frac{\partial f}{\partial x} &= \frac{\partial f}{\partial a} \cdot \frac{\partial a}{\partial x}" \
           r" = 2.9915412979543476 \cdot 2 = 5.983082595908695" in steps
    assert parts[3] == r"f(1) = 1.0900122119747424, \quad f'(1) = 5.983082595908695"


def test_forward_mode_tangents_are_dotted():
    tex = to_latex(diff_at(SEED, ["1.0"], mode="forward"))
    structural(tex)
    assert r"\dot{d} &= \frac{1}{2 \sqrt{c}} \cdot \dot{c}" in tex


def test_expressions():
    cases = {
        "x^3 sin(x)": r"x^{3} \sin\left(x\right)",
        "1/(2 sqrt(x))": r"\frac{1}{2 \sqrt{x}}",
        "(x + 1)^2": r"\left(x + 1\right)^{2}",
        "-x^2": r"-x^{2}",
        "2*3": r"2 \cdot 3",
        "θ_1 + alpha + w0 + rate": r"\theta_{1} + \alpha + w_{0} + \mathrm{rate}",
        "exp(-x^2/4)": r"\exp\left(\frac{-x^{2}}{4}\right)",
        "exp(x)^2": r"\exp\left(x\right)^{2}",
        "x - (y - z)": r"x - \left(y - z\right)",
        "[[1, 2], [3, 4]]": r"\begin{bmatrix} 1 & 2 \\ 3 & 4 \end{bmatrix}",
        "1e-5 x": r"1 \times 10^{-5} x",
    }
    for src, want in cases.items():
        assert latex_of(node_of(src)) == want, src


def test_names():
    assert name("x") == "x" and name("θ") == r"\theta" and name("x12") == "x_{12}"
    assert name("w_0") == "w_{0}" and name("theta") == r"\theta" and name("lr") == r"\mathrm{lr}"


def test_deep_expression_no_recursion():
    text = "x"
    for _ in range(5000):
        text = f"sin({text})"
    tex = latex_of(node_of(text))
    assert tex.count(r"\sin") == 5000


# ---------------------------------------------------------------- every command renders

COMMANDS = [
    ["eval", "x^2 + 1", "--at", "x=3"],
    ["diff", SEED, "--at", "1.0"],
    ["diff", SEED, "--at", "1.0", "--mode", "forward"],
    ["diff", "x^3 sin(x)"],
    ["diff", SEED, "--steps"],
    ["diff", "sin(x)/x", "--steps"],
    ["diff", "x^5", "--order", "3"],
    ["diff", "exp(x) sin(x)", "--order", "4", "--at", "0.5"],
    ["diff", "exp(x) sin(x)", "--order", "3", "--at", "0.5", "--steps"],
    ["diff", "x^3 sin(x)", "--at", "2", "--steps"],
    ["diff", "x^2", "--wrt", "z"],
    ["grad", "x^2 y + sin(x y)"],
    ["grad", "x^2 y + sin(x y)", "--at", "x=1,y=2"],
    ["jacobian", "[x y, x + y, sin(x)]", "--at", "x=1,y=2"],
    ["hessian", "(1-x)^2 + 100(y-x^2)^2", "--at", "x=1,y=1"],
    ["check", "x^x", "--at", "1.5"],
    ["plot", "sin(x) exp(-x^2/4)", "--from", "-4", "--to", "4"],
    ["minimize", "(x-1)^2 + (y+2)^2", "--from", "x=0,y=0"],
]


def _latex_of_command(cli, args):
    code, out, err = cli(*args, "--format", "latex")
    assert code == 0, (args, out, err)
    return out


def test_every_command_is_structurally_sound(cli):
    for args in COMMANDS:
        structural(_latex_of_command(cli, args))


@pytest.mark.skipif(KATEX is None, reason="KaTeX (node + katex) not installed; structural checks only")
def test_every_command_renders_with_katex(cli):
    items, where = [], []
    for args in COMMANDS:
        for f in formulas(_latex_of_command(cli, args)):
            items.append(f)
            where.append(args)
    errs = katex_errors(items)
    bad = [(where[k], items[k][:200], e) for k, e in enumerate(errs) if e]
    assert not bad, bad


@pytest.mark.skipif(KATEX is None, reason="KaTeX (node + katex) not installed")
@settings(max_examples=1, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(st_batch=__import__("hypothesis.strategies", fromlist=["lists"]).lists(
    exprs(("x", "y", "θ")), min_size=150, max_size=150))
def test_random_expressions_render_with_katex(st_batch):
    items = [latex_of(node_of(t)) for t in st_batch]
    for f in items:
        structural(f)
    errs = katex_errors(items)
    bad = [(st_batch[k], items[k], e) for k, e in enumerate(errs) if e]
    assert not bad, bad[:3]


def test_eval_result_latex():
    tex = to_latex(eval_expr("x^2 + 1", ["x=3"]))
    assert tex.strip() == r"x^{2} + 1 = 10 \quad \text{at }x = 3"


MANY = "sin(x)*x+cos(x)*x+exp(x)*x+sqrt(x)*x+log(x)*x+tan(x)*x"   # x feeds twelve nodes


def test_a_step_with_many_contributions_is_cut_into_rows_that_fit_a_portrait_page(tmp_path):
    r = diff_at(MANY, ["1.3"])
    tex = to_latex(r)
    structural(tex)
    last = r.steps[-1]
    rows = formulas(tex)[2].split(" \\\\\n")
    rows = rows[next(k for k, row in enumerate(rows) if row.startswith(r"\frac{\partial q}{\partial x}")):]
    rows[-1] = rows[-1].removesuffix("\n\\end{aligned}")
    assert len(rows) >= 6 and all(row.startswith((r"\frac", r" &\quad + ", " &= ")) for row in rows)
    numbers = re.findall(r"-?\d+\.\d+|\d+", " ".join(row for row in rows if "partial" not in row))
    assert numbers == re.findall(r"-?\d+\.\d+|\d+", last.numeric) + [repr(last.value)]   # nothing lost
    assert max(sum(map(len, re.findall(r"-?\d+\.\d+|\d+", row))) for row in rows) <= 72   # digits a row
    if shutil.which("pdflatex"):
        from calccli.render import render_text
        (tmp_path / "many.tex").write_text(render_text(r, "latex", standalone=True), encoding="utf-8")
        p = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "many.tex"], cwd=tmp_path,
                           capture_output=True, text=True, timeout=120)
        assert p.returncode == 0 and "Overfull \\hbox" not in (tmp_path / "many.log").read_text(errors="replace")
