"""Results → LaTeX (``--format latex``).

The output is a sequence of display-math formulas separated by blank lines
(math-mode content, no ``\\[ \\]``: paste each into ``\\[ … \\]`` or an
``align*``; every command's output renders with KaTeX, see tests/test_latex.py).

Expressions are written from the primitive table's ``latex`` templates by a
non-recursive printer (one pass in topological order, like ``printer.to_text``).
The intermediate-variable table is an ``aligned`` environment like the notes,
chain-rule steps another, vectors and matrices ``bmatrix``.
"""
from __future__ import annotations

import math
import re
import unicodedata
from functools import singledispatch

from calccli.numfmt import fmt_number
from calccli.render import load_renderers

PREC_ADD, PREC_MUL, PREC_NEG, PREC_POW, ATOM = 1, 2, 3, 4, 10
LONG_STEP = 72   # a chain-rule step longer than this (characters of its plain text) takes two rows
FRAC = 2.5   # \frac{}{} needs no parentheses as a factor, but does as a base

GREEK = {
    "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa",
    "lambda", "mu", "nu", "xi", "pi", "rho", "sigma", "tau", "upsilon", "phi", "chi", "psi",
    "omega", "Gamma", "Delta", "Theta", "Lambda", "Xi", "Pi", "Sigma", "Phi", "Psi", "Omega",
}
_UNICODE_GREEK = dict(zip("αβγδεζηθικλμνξπρστυφχψωΓΔΘΛΞΠΣΦΨΩ",
                          ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta",
                           "iota", "kappa", "lambda", "mu", "nu", "xi", "pi", "rho", "sigma", "tau",
                           "upsilon", "phi", "chi", "psi", "omega", "Gamma", "Delta", "Theta",
                           "Lambda", "Xi", "Pi", "Sigma", "Phi", "Psi", "Omega"]))
_SPECIAL = {"\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "_": r"\_", "#": r"\#", "$": r"\$",
            "%": r"\%", "&": r"\&", "^": r"\^{}", "~": r"\~{}"}


def text(s: str) -> str:
    """Plain words inside math: \\text{…} with LaTeX's special characters escaped."""
    s = "".join(_SPECIAL.get(ch, ch) for ch in str(s))
    s = "".join(("$\\" + _UNICODE_GREEK[ch] + "$") if ch in _UNICODE_GREEK else
                ("$" + _TEXT_MATH[ch] + "$") if ch in _TEXT_MATH else ch for ch in s)
    return r"\text{" + s + "}"


# symbols that words carry (∂c/∂x, ∇f ≠ 0, Aᵀ): math inside the text, so pdflatex needs no Unicode font
_TEXT_MATH = {"∂": r"\partial", "∇": r"\nabla", "≠": r"\neq", "ᵀ": r"^{\mathsf{T}}", "→": r"\to",
              "·": r"\cdot", "−": "-", "×": r"\times", "≤": r"\le", "≥": r"\ge", "≈": r"\approx",
              "‖": r"\|", "∞": r"\infty", "…": r"\ldots", "²": "^{2}", "³": "^{3}", "⁻": "^{-}", "¹": "^{1}",
              "ᵢ": "_{i}", "ⱼ": "_{j}", "θ": r"\theta", "₁": "_{1}", "₂": "_{2}"}


def number(v) -> str:
    if isinstance(v, bool):
        return text(str(v).lower())
    if getattr(v, "ndim", 0):   # a vector or matrix value
        return bmatrix(v)
    if not isinstance(v, float | int):
        try:
            v = float(v)
        except (TypeError, ValueError):
            return text(str(v))
    if isinstance(v, float) and not math.isfinite(v):
        return r"\infty" if v > 0 else (r"-\infty" if v < 0 else text("nan"))
    s = fmt_number(v)
    if "e" in s:
        mant, ex = s.split("e")
        return f"{mant} \\times 10^{{{int(ex)}}}"
    return s


def name(n: str) -> str:
    """A variable name: θ → \\theta, x1 → x_{1}, w_0 → w_{0}, rate → \\mathrm{rate}."""
    if n in _UNICODE_GREEK:
        return "\\" + _UNICODE_GREEK[n]
    m = re.fullmatch(r"([^\W\d_]+?)_?(\d+)", n)
    if m:
        return f"{name(m.group(1))}_{{{m.group(2)}}}"
    if "_" in n:
        head, _, tail = n.partition("_")
        return f"{name(head)}_{{{name(tail)}}}"
    if n in GREEK:
        return "\\" + n
    if len(n) == 1:
        return n
    if all(ch in _UNICODE_GREEK for ch in n):
        return " ".join("\\" + _UNICODE_GREEK[ch] for ch in n)
    return r"\mathrm{" + "".join(_SPECIAL.get(ch, ch) for ch in n) + "}"


def _paren(t: tuple[str, float], need: float) -> str:
    return t[0] if t[1] >= need else r"\left(" + t[0] + r"\right)"


def _bmatrix(rows: list[list[str]]) -> str:
    return r"\begin{bmatrix} " + r" \\ ".join(" & ".join(r) for r in rows) + r" \end{bmatrix}"


def bmatrix(values) -> str:
    """Numbers (a list, or a list of rows) as a bmatrix; a flat list is a column."""
    if hasattr(values, "tolist"):
        values = values.tolist()
    if values and isinstance(values[0], (list, tuple)):
        return _bmatrix([[number(x) for x in r] for r in values])
    return _bmatrix([[number(x)] for x in values])


def _render(n, sub: list[tuple[str, float]]) -> tuple[str, float]:
    from calccli.engine.primitives import PRIMS
    op = n.op
    if op == "add":
        return _paren(sub[0], PREC_ADD) + " + " + _paren(sub[1], PREC_ADD + 0.5), PREC_ADD
    if op == "sub":
        return _paren(sub[0], PREC_ADD) + " - " + _paren(sub[1], PREC_ADD + 1), PREC_ADD
    if op == "neg":
        return "-" + _paren(sub[0], PREC_NEG if not sub[0][0].startswith("-") else ATOM), PREC_NEG
    if op == "mul":
        left = _paren(sub[0], PREC_MUL)
        right = _paren(sub[1], PREC_MUL + 0.5)
        sep = r" \cdot " if (right[:1].isdigit() or right.startswith("-") or right[:1] == ".") else " "
        return left + sep + right, PREC_MUL
    if op == "div":
        return r"\frac{" + sub[0][0] + "}{" + sub[1][0] + "}", FRAC
    if op == "emul":
        return _paren(sub[0], PREC_MUL) + r" \odot " + _paren(sub[1], PREC_MUL + 0.5), PREC_MUL
    if op == "epow":
        return _paren(sub[0], ATOM) + r"^{\circ " + sub[1][0] + "}", PREC_POW
    if op == "pow":
        base = _paren(sub[0], ATOM)
        if n.args[0].op in ("var", "const") or (n.args[0].op == "num" and not sub[0][0].startswith("-")):
            base = sub[0][0]
        return base + "^{" + sub[1][0] + "}", PREC_POW
    if op == "exp":   # always \exp: e may be an intermediate variable's name (the notes' e = cos(c))
        return r"\exp\left(" + sub[0][0] + r"\right)", ATOM
    if op == "vector":
        if n.args and all(a.op == "vector" for a in n.args):
            return _bmatrix([[_latex_cache[c] for c in row.args] for row in n.args]), ATOM
        return _bmatrix([[s] for s, _ in sub]), ATOM
    if op == "transpose":
        return _paren(sub[0], ATOM) + r"^{\mathsf{T}}", PREC_POW
    if op == "index":
        return _paren(sub[0], ATOM) + "_{" + ",".join(map(str, n.value)) + "}", ATOM
    p = PRIMS.get(op)
    if p is not None and p.latex:
        try:
            return p.latex.format(*(s for s, _ in sub)), ATOM
        except (IndexError, KeyError):
            pass
    args = ", ".join(s for s, _ in sub)
    return r"\operatorname{" + op + r"}\left(" + args + r"\right)", ATOM


_latex_cache: dict = {}


def latex_of(root, names: dict | None = None, raw: dict | None = None) -> str:
    """An expression node as LaTeX (nodes in ``names`` are written as those names;
    variables named in ``raw`` as the given LaTeX)."""
    from calccli.engine.tape import topo_order
    done: dict = {}
    _latex_cache.clear()
    nodes = topo_order(root, stop=names)
    # A node's text is dropped once its last parent is written, so deep input keeps
    # only the frontier alive (not every subtree's text: memory quadratic in depth).
    # Vector elements stay in _latex_cache: a matrix reads its rows' elements.
    uses: dict = {}
    for n in nodes:
        if names is None or n not in names:
            for a in set(n.args):
                uses[a] = uses.get(a, 0) + 1
    for n in nodes:
        if names is not None and n in names:
            done[n] = (name(names[n]), ATOM)
        elif n.op == "num":
            s = number(n.value)
            done[n] = (s, PREC_NEG if s.startswith("-") else (PREC_MUL if "times" in s else ATOM))
        elif n.op == "var":
            done[n] = (raw[n.value], ATOM) if raw and n.value in raw else (name(n.value), ATOM)
        elif n.op == "const":
            done[n] = (r"\pi" if n.value == "pi" else "e", ATOM)
        else:
            if n.op == "vector":
                for a in n.args:
                    _latex_cache[a] = done[a][0]
            done[n] = _render(n, [done[a] for a in n.args])
            for a in set(n.args):
                uses[a] -= 1
                if not uses[a]:
                    del done[a]
    return done[root][0]


def expr_latex(src: str) -> str:
    """calc text → LaTeX (falls back to \\text{} if it does not parse)."""
    try:
        from calccli.language.parse import parse
        return latex_of(parse(src).node)
    except Exception:  # noqa: BLE001 - any text can be shown as text
        return text(src)


# ---------------------------------------------------------------- step formulas

_PARTIAL = re.compile(r"∂(\w+(?:\[[\d,]+\])?)/∂(\w+(?:\[[\d,]+\])?)")
_DOTTED = re.compile(r"(\w+)\u0307")
_NUMBER = re.compile(r"-?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?")


def _factor(f: str) -> str:
    f = unicodedata.normalize("NFD", f.strip())   # ȧ (one character) is a + U+0307
    if m := _PARTIAL.fullmatch(f):
        return r"\frac{\partial " + name(m.group(1)) + r"}{\partial " + name(m.group(2)) + "}"
    if m := _DOTTED.fullmatch(f):
        return r"\dot{" + name(m.group(1)) + "}"
    if _NUMBER.fullmatch(f):
        return number(float(f))
    if f in ("…", "..."):
        return r"\ldots"
    if f.startswith("-") and (m := _DOTTED.fullmatch(f[1:]) or _PARTIAL.fullmatch(f[1:])):
        return "-" + _factor(f[1:])
    return expr_latex(f)


def formula(s: str) -> str:
    """A step's formula or numbers ("∂f/∂d·∂d/∂c + …", "exp(a)·ȧ") as LaTeX."""
    parts = re.split(r" ([+-]) ", s)
    out = []
    for k, part in enumerate(parts):
        if k % 2:
            out.append(f" {part} ")
        else:
            out.append(r" \cdot ".join(_factor(f) for f in part.split("·")))
    return "".join(out)


def _plain(s: str) -> str:
    s = re.sub(r"[A-Za-z_]\w*", lambda m: name(m.group()), s.replace("−", "-"))
    s = s.replace("(", r"\left(").replace(")", r"\right)")
    return s.replace("·", r" \cdot ")


# ---------------------------------------------------------------- results

def _point(point: dict) -> str:
    parts = []
    for k, v in point.items():
        parts.append(f"{name(k)} = " + (number(v) if isinstance(v, float | int) else bmatrix(v)))
    return ", ".join(parts)


def _prime(k: int) -> str:
    return {1: "'", 2: "''", 3: "'''"}.get(k) or f"^{{({k})}}"


def trace_cells(trace) -> list[list[str]]:
    """Each intermediate variable as LaTeX cells: name, definition, value, local derivatives."""
    rows = []
    for t in trace:
        val = number(t.value) if isinstance(t.value, float | int) else bmatrix(t.value)
        locs = []
        for p in getattr(t, "partials", []) or []:
            d = r"\frac{\partial " + name(t.name) + r"}{\partial " + name(p.wrt) + "}"
            e = expr_latex(p.expression)
            if not isinstance(p.value, float | int):   # an array rule: no single number
                locs.append(f"{d} = {e}" if "+=" not in p.expression else text(p.expression))
                continue
            v = number(p.value)
            locs.append(f"{d} = {e}" + ("" if e == v else f" = {v}"))
        rows.append([name(t.name), expr_latex(t.definition), val, r",\ ".join(locs)])
    return rows


def trace_latex(trace) -> str:
    """The intermediate-variable table as an aligned environment (the notes' table)."""
    rows = [f"{v} &= {d} & &= {val} & & {locs}" for v, d, val, locs in trace_cells(trace)]
    return "\\begin{aligned}\n" + " \\\\\n".join(rows) + "\n\\end{aligned}"


def step_rows(steps) -> list[tuple[str, str, str]]:
    """Chain-rule steps as (left, right, note) rows: the target, '= formula = numbers = value'
    and the plain note; a step too wide for a portrait page continues on a row of its own."""
    rows = []
    for s in steps:   # the same lines as the rich/plain view (render/views.py)
        val = fmt_number(s.value) if isinstance(s.value, float | int) else str(s.value)
        target = formula(s.target)
        head = "" if s.formula == s.target else f"= {formula(s.formula)}"
        note = getattr(s, "note", "") or ""
        if s.formula in (val, "1") and s.numeric in (val, "1"):
            rows.append((target, head or f"= {number(s.value)}", note))
        elif s.numeric in (val, s.formula):
            rows.append((target, f"{head} = {number(s.value)}".lstrip(), note))
        elif len(s.formula) + len(s.numeric) + len(val) > LONG_STEP:   # too wide for a portrait page
            rows += _long_step(target, s, note)
        else:
            rows.append((target, f"{head} = {formula(s.numeric)} = {number(s.value)}".lstrip(), note))
    return rows


def _chunks(s: str, width: int = LONG_STEP) -> list[str]:
    """``s`` cut before a ' + ' or ' - ' into pieces of at most ``width`` characters
    (a single longer term stays whole); every piece but the first starts with its sign."""
    parts = re.split(r" ([+-]) ", s)
    out = [parts[0]]
    for k in range(1, len(parts), 2):
        term = f"{parts[k]} {parts[k + 1]}"
        if len(out[-1]) + len(term) + 1 > width:
            out.append(term)
        else:
            out[-1] += " " + term
    return out


def _continued(piece: str) -> str:
    """A piece as LaTeX; one that goes on from the row above keeps its sign, indented."""
    if piece[:2] in ("+ ", "- "):
        return r"\quad " + piece[0] + " " + formula(piece[2:])
    return formula(piece)


def _long_step(target: str, s, note: str) -> list[tuple[str, str, str]]:
    """A step too wide for one row: the formula, then the numbers, each cut at its
    + and - into rows that fit a portrait page; the value ends the last row."""
    rows = []
    if s.formula != s.target:
        for k, piece in enumerate(_chunks(s.formula)):
            rows.append(("" if k else target, ("= " if not k else "") + _continued(piece), note if not k else ""))
    else:
        rows.append((target, "", note))
    pieces = _chunks(s.numeric)
    for k, piece in enumerate(pieces):
        rows.append(("", ("= " if not k else "") + _continued(piece), ""))
    val = f"= {number(s.value)}"
    if len(pieces[-1]) + len(val) > LONG_STEP and len(pieces) > 1:
        rows.append(("", val, ""))
    else:
        rows[-1] = (rows[-1][0], rows[-1][1] + " " + val, rows[-1][2])
    return rows


def steps_latex(steps) -> str:
    """Chain-rule steps as an aligned environment, long ones on two rows."""
    rows = [f"{left} &{right}" for left, right, _ in step_rows(steps)]
    return "\\begin{aligned}\n" + " \\\\\n".join(rows) + "\n\\end{aligned}"


def _sym_step_rows(steps, var: str) -> list[str]:
    """d/dx[u] = rule applied = simplified result, one aligned row per step."""
    dx = r"\frac{d}{d" + name(var) + "}"
    rows = []
    for s in steps:
        u = latex_of(s.expression_node) if s.expression_node is not None else expr_latex(s.expression)
        raw = {p: dx + r"\left[" + latex_of(node) + r"\right]" for p, node in s.primes.items()}
        body = latex_of(s.formula_node, raw=raw) if s.formula_node is not None else expr_latex(s.formula)
        rhs = latex_of(s.result_node) if s.result_node is not None else expr_latex(s.result)
        rows.append(f"{dx}\\left[{u}\\right] &= {body}" + ("" if body == rhs else f" = {rhs}")
                    + r" && " + text(s.rule))
    return rows


def generic_latex(result) -> str:
    """Any result: its JSON keys as an aligned list (numbers, vectors, matrices)."""
    from calccli.render.json import json_obj
    obj = json_obj(result)
    rows = []
    for k, v in obj.items():
        if isinstance(v, float | int) and not isinstance(v, bool):
            val = number(v)
        elif isinstance(v, str):
            val = expr_latex(v) if k.endswith("expression") else text(v)
        elif isinstance(v, list) and v and all(isinstance(x, float | int) for x in v):
            val = bmatrix(v)
        elif isinstance(v, list) and v and all(isinstance(x, list) and all(isinstance(y, float | int) for y in x)
                                               for x in v):
            val = bmatrix(v)
        elif isinstance(v, dict) and all(isinstance(x, float | int) for x in v.values()):
            val = ", ".join(f"{name(a)} = {number(b)}" for a, b in v.items()) or text("none")
        else:
            continue
        rows.append(f"{text(k)} &= {val}")
    return "\\begin{aligned}\n" + " \\\\\n".join(rows) + "\n\\end{aligned}\n"


@singledispatch
def to_latex(result) -> str:
    """A result as display-math formulas separated by blank lines; one
    ``@to_latex.register`` per result type, in render/<command>.py; a result
    without one shows its JSON keys (:func:`generic_latex`)."""
    if load_renderers(type(result)):
        return to_latex(result)
    return generic_latex(result)


def document(tex: str) -> str:
    """``--standalone``: the formulas in a document that pdflatex compiles as it is
    (each formula a display, a portrait A4 page, long rows allowed to break)."""
    paras = [p.strip() for p in tex.split("\n\n") if p.strip()]
    body = "\n\n".join(f"\\[\n{p}\n\\]" if not p.startswith("%") else p for p in paras)
    return ("\\documentclass[11pt]{article}\n\\usepackage[a4paper,margin=2cm]{geometry}\n"
            "\\usepackage{amsmath,amssymb}\n\\allowdisplaybreaks\n\\begin{document}\n\\small\n"
            + body + "\n\\end{document}\n")
