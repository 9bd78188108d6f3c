"""LaTeX → MathML for the HTML page: the formulas the LaTeX printer writes, shown by the browser.

The HTML page shows the very formulas of ``--format latex`` (one printer), translated
here for the TeX that calc writes (fractions, roots, scripts, \\left…\\right, aligned,
bmatrix, array, \\text with $…$ inside); browsers draw MathML Core natively (no script,
no font, no network). A macro not in the tables below becomes <merror> (the tests
check that no command's page has one). One pass with an explicit stack: no recursion.
"""
from __future__ import annotations

from html import escape

GREEK = {
    "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ϵ", "varepsilon": "ε", "zeta": "ζ",
    "eta": "η", "theta": "θ", "iota": "ι", "kappa": "κ", "lambda": "λ", "mu": "μ", "nu": "ν", "xi": "ξ",
    "pi": "π", "rho": "ρ", "sigma": "σ", "tau": "τ", "upsilon": "υ", "phi": "ϕ", "varphi": "φ", "chi": "χ",
    "psi": "ψ", "omega": "ω", "Gamma": "Γ", "Delta": "Δ", "Theta": "Θ", "Lambda": "Λ", "Xi": "Ξ", "Pi": "Π",
    "Sigma": "Σ", "Phi": "Φ", "Psi": "Ψ", "Omega": "Ω",
}
IDENT = {"partial": "∂", "nabla": "∇", "infty": "∞", "top": "⊤", "ell": "ℓ"}
FUNCTIONS = {"sin", "cos", "tan", "arcsin", "arccos", "arctan", "sinh", "cosh", "tanh", "exp", "ln", "log",
             "det", "max", "min", "sup", "inf", "lim"}
OPERATORS = {
    "cdot": "⋅", "times": "×", "pm": "±", "neq": "≠", "ne": "≠", "le": "≤", "leq": "≤", "ge": "≥", "geq": "≥",
    "approx": "≈", "in": "∈", "to": "→", "rightarrow": "→", "Rightarrow": "⇒", "odot": "⊙", "circ": "∘",
    "ldots": "…", "cdots": "⋯", "dots": "…", "mid": "∣", "setminus": "∖", "sum": "∑", "prod": "∏",
    "|": "‖", "{": "{", "}": "}", "lbrace": "{", "rbrace": "}", "langle": "⟨", "rangle": "⟩",
}
SPACES = {"quad": "1em", "qquad": "2em", ";": "0.2778em", ":": "0.2222em", ",": "0.1667em", " ": "0.25em",
          "!": "-0.1667em"}
ACCENTS = {"dot": "˙", "ddot": "¨", "hat": "^", "bar": "¯", "vec": "→", "tilde": "~"}
ARGS = {"frac": 2, "sqrt": 1, **{a: 1 for a in ACCENTS}}
TEXT_ESCAPES = {"textbackslash": "\\", "_": "_", "&": "&", "%": "%", "#": "#", "$": "$", "{": "{", "}": "}",
                "^": "^", "~": "~", " ": " "}
_SANS = {c: chr(0x1D5A0 + i) for i, c in enumerate("ABCDEFGHIJKLMNOPQRSTUVWXYZ")}
_DOUBLE = {"1": "𝟙", "R": "ℝ", "N": "ℕ", "Z": "ℤ", "Q": "ℚ", "C": "ℂ", "E": "𝔼"}
FENCES = {".": "", "(": "(", ")": ")", "[": "[", "]": "]", "|": "|", "\\|": "‖", "\\{": "{", "\\}": "}",
          "\\langle": "⟨", "\\rangle": "⟩"}
APPLY = "<mo>\u2061</mo>"   # FUNCTION APPLICATION: sin⁡(x)


class _Item:
    """One atom of a row with its scripts; ``limits``: scripts go under/over (argmin, ∑)."""
    __slots__ = ("base", "sub", "sup", "limits", "after", "tall")

    def __init__(self, base: str, limits: bool = False, after: str = "", tall: bool = False):
        self.base, self.sub, self.sup, self.limits, self.after = base, None, None, limits, after
        self.tall = tall   # taller than a line (a fraction, a table, ∑ …): brackets around it stretch

    def xml(self) -> str:
        b, lo, hi = self.base, self.sub, self.sup
        tags = ("munder", "mover", "munderover") if self.limits else ("msub", "msup", "msubsup")
        if lo is None and hi is None:
            pass
        elif hi is None:
            b = f"<{tags[0]}>{b}{lo}</{tags[0]}>"
        elif lo is None:
            b = f"<{tags[1]}>{b}{hi}</{tags[1]}>"
        else:
            b = f"<{tags[2]}>{b}{lo}{hi}</{tags[2]}>"
        return b + self.after


def _row(items: list) -> str:
    xs = [i.xml() for i in items]
    return xs[0] if len(xs) == 1 and not items[0].after else "".join(["<mrow>", *xs, "</mrow>"])


class _Frame:
    """What the parser is inside: a {group}, \\left…\\right, a macro's arguments, an environment."""
    __slots__ = ("kind", "items", "script", "name", "args", "need", "rows", "cells", "spec", "lines", "left")

    def __init__(self, kind: str, name: str = "", need: int = 0, left: str = ""):
        self.kind, self.name, self.need, self.left = kind, name, need, left
        self.items: list = []
        self.script = None            # "^" or "_" waiting for its atom
        self.args: list[str] = []
        self.rows: list[list[str]] = []
        self.cells: list[str] = []
        self.spec = ""
        self.lines: set[int] = set()  # rows with a rule under them (\hline)


def _braced(s: str, i: int) -> tuple[str, int]:
    """The raw text of the {…} group starting at s[i] (after blanks), and the index after it."""
    while i < len(s) and s[i] == " ":
        i += 1
    if i >= len(s) or s[i] != "{":
        j = i + 1
        return s[i:j], j
    depth, j = 0, i
    while j < len(s):
        c = s[j]
        if c == "\\":
            j += 2
            continue
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return s[i + 1:j], j + 1
        j += 1
    return s[i + 1:], len(s)


def _text(raw: str) -> str:
    """\\text{…}: words, with $…$ inside as math (the escapes of latex.text undone)."""
    out, word, math, i = [], [], None, 0

    def flush():
        if word:   # spaces at the ends would be trimmed: no-break spaces keep "at x" apart
            t = "".join(word)
            core = t.strip(" ")
            t = "\u00a0" * (len(t) - len(t.lstrip(" "))) + core + "\u00a0" * (len(t) - len(t.rstrip(" ")))
            out.append("<mtext>" + escape(t if core else "\u00a0") + "</mtext>")
            word.clear()
    while i < len(raw):
        c = raw[i]
        if c == "$":
            if math is None:
                flush()
                math = i + 1
            else:
                out.append(_translate(raw[math:i]))
                math = None
            i += 1
            continue
        if math is not None:
            i += 1
            continue
        if c == "\\":
            j = i + 1
            while j < len(raw) and raw[j].isalpha():
                j += 1
            cmd = raw[i + 1:j] or raw[i + 1:i + 2]
            j = max(j, i + 2)
            if raw[j:j + 2] == "{}":
                j += 2
            word.append(TEXT_ESCAPES.get(cmd, cmd))
            i = j
            continue
        if c in "{}":
            i += 1
            continue
        word.append(c)
        i += 1
    flush()
    return "<mrow>" + "".join(out) + "</mrow>" if len(out) > 1 else (out[0] if out else "<mtext></mtext>")


def _mi(name: str, normal: bool = False) -> str:
    attr = ' mathvariant="normal"' if normal and len(name) == 1 else ""
    return f"<mi{attr}>{escape(name)}</mi>"


def _translate(tex: str) -> str:
    """The MathML content (no <math>) of one formula."""
    stack = [_Frame("top")]
    s, i, n = tex, 0, len(tex)

    def put(xml: str, limits: bool = False, after: str = "", tall: bool = False):
        """Deliver an atom to the innermost frame (a script, a macro argument or a row item)."""
        while True:
            f = stack[-1]
            if f.kind == "args":
                f.args.append((xml, tall))
                if len(f.args) < f.need:
                    return
                stack.pop()
                (xml, tall), limits = _macro(f.name, f.args), False
                continue
            if f.script is not None and f.items:
                last = f.items[-1]
                if f.script == "^":
                    last.sup = xml if last.sup is None else "<mrow>" + last.sup + xml + "</mrow>"
                else:
                    last.sub = xml
                last.tall = last.tall or tall or last.limits
                f.script = None
                return
            f.script = None
            f.items.append(_Item(xml, limits, after, tall))
            return

    def end_cell(f: _Frame):
        f.cells.append(_row(f.items) if f.items else "<mrow></mrow>")
        f.items = []

    while i < n:
        c = s[i]
        if c in " \n\t":
            i += 1
            continue
        if c.isdigit() or (c == "." and i + 1 < n and s[i + 1].isdigit()):
            j = i
            while j < n and (s[j].isdigit() or s[j] == "." and j + 1 < n and s[j + 1].isdigit()):
                j += 1
            put(f"<mn>{s[i:j]}</mn>")
            i = j
            continue
        if c.isalpha():
            put(_mi(c))
            i += 1
            continue
        if c == "{":
            stack.append(_Frame("group"))
            i += 1
            continue
        if c == "}":
            f = stack[-1]
            if f.kind == "group":
                stack.pop()
                put(_row(f.items) if f.items else "<mrow></mrow>", tall=any(x.tall for x in f.items))
            i += 1
            continue
        if c in "^_":
            stack[-1].script = c
            if not stack[-1].items:
                stack[-1].items.append(_Item("<mrow></mrow>"))
            i += 1
            continue
        if c == "'":
            j = i
            while j < n and s[j] == "'":
                j += 1
            f = stack[-1]   # the prime glyph sits high by itself: it follows f, not as a superscript
            prime = '<mo lspace="0" rspace="0">' + {1: "′", 2: "″", 3: "‴"}.get(j - i, "′" * (j - i)) + "</mo>"
            if f.items:
                f.items[-1].after += prime
            else:
                put(prime)
            i = j
            continue
        if c == "&":
            f = _env_frame(stack)
            if f is not None:
                _close_to(stack, f, put)
                end_cell(f)
            i += 1
            continue
        if c == "\\" and s[i + 1:i + 2] == "\\":
            f = _env_frame(stack)
            if f is not None:
                _close_to(stack, f, put)
                end_cell(f)
                f.rows.append(f.cells)
                f.cells = []
            i += 2
            continue
        if c == "\\":
            j = i + 1
            while j < n and s[j].isalpha():
                j += 1
            if j == i + 1:
                j += 1
            cmd = s[i + 1:j]
            if s[j:j + 1] == "*":
                cmd += "*"
                j += 1
            i = j
            if cmd in SPACES:
                put(f'<mspace width="{SPACES[cmd]}"></mspace>')
            elif cmd in GREEK:
                put(_mi(GREEK[cmd]))
            elif cmd in IDENT:
                put(_mi(IDENT[cmd]))
            elif cmd in FUNCTIONS:
                put(_mi(cmd), limits=cmd in ("max", "min", "lim"), after=APPLY)
            elif cmd in OPERATORS:
                big = cmd in ("sum", "prod")
                put(("<mo largeop=\"true\">" if big else "<mo>") + escape(OPERATORS[cmd]) + "</mo>", limits=big,
                    tall=big)
            elif cmd in ("text", "textrm", "mbox"):
                raw, i = _braced(s, i)
                put(_text(raw))
            elif cmd in ("mathrm", "operatorname", "operatorname*", "mathsf", "mathbb", "mathit", "mathbf"):
                raw, i = _braced(s, i)
                word = "".join(TEXT_ESCAPES.get(w, w) for w in raw.replace("\\_", "_").split("\\"))
                if cmd == "mathsf":
                    word = "".join(_SANS.get(ch, ch) for ch in word)
                elif cmd == "mathbb":
                    word = "".join(_DOUBLE.get(ch, ch) for ch in word)
                xml = _mi(word, normal=cmd in ("mathrm", "operatorname", "operatorname*"))
                if cmd.startswith("operatorname"):
                    put(xml, limits=cmd.endswith("*"), after="" if cmd.endswith("*") else APPLY)
                else:
                    put(xml)
            elif cmd in ARGS:
                stack.append(_Frame("args", cmd, ARGS[cmd]))
            elif cmd == "left":
                d, i = _delimiter(s, i)
                stack.append(_Frame("left", left=d))
            elif cmd == "right":
                d, i = _delimiter(s, i)
                f = _frame_of(stack, "left")
                if f is not None:
                    _close_to(stack, f, put)
                    stack.pop()
                    inner = "".join(x.xml() for x in f.items)
                    tall = any(x.tall for x in f.items)
                    put("".join(("<mrow>", _fence(f.left, tall), inner, _fence(d, tall), "</mrow>")), tall=tall)
            elif cmd == "begin":
                env, i = _braced(s, i)
                f = _Frame("env", env)
                if env == "array":
                    f.spec, i = _braced(s, i)
                stack.append(f)
            elif cmd == "end":
                _, i = _braced(s, i)
                f = _env_frame(stack)
                if f is not None:
                    _close_to(stack, f, put)
                    if f.items or f.cells:
                        end_cell(f)
                    if f.cells:
                        f.rows.append(f.cells)
                    stack.pop()
                    put(_table(f), tall=True)
            elif cmd == "hline":
                f = _env_frame(stack)
                if f is not None and f.rows:
                    f.lines.add(len(f.rows) - 1)
            else:
                put(f"<merror><mtext>\\{escape(cmd)}</mtext></merror>")
            continue
        if c in "()[]|":   # a bracket written without \left: its own size, no space around it
            put(f'<mo stretchy="false" lspace="0" rspace="0">{escape(c)}</mo>')
        elif c in "+-" and _after_operator(stack[-1]):   # a sign, not a binary operator: = −sin(c)
            put(f'<mo form="prefix">{"−" if c == "-" else "+"}</mo>')
        else:
            put(f"<mo>{escape({'-': '−', '*': '∗'}.get(c, c))}</mo>")
        i += 1
    while len(stack) > 1:   # unclosed groups (never from calc's printer): close them
        f = stack.pop()
        stack[-1].items.extend(f.items)
    return _row(stack[0].items) if stack[0].items else "<mrow></mrow>"


def _after_operator(f: _Frame) -> bool:
    """Does a sign here begin an operand (row start, or after =, +, a comma)?"""
    if not f.items:
        return True
    last = f.items[-1]
    return (last.base.startswith("<mo") and not last.after and last.sub is None and last.sup is None
            and not last.base.endswith((")</mo>", "]</mo>", "|</mo>")))


def _delimiter(s: str, i: int) -> tuple[str, int]:
    while i < len(s) and s[i] == " ":
        i += 1
    if s[i:i + 1] == "\\":
        j = i + 1
        while j < len(s) and s[j].isalpha():
            j += 1
        j = max(j, i + 2)
        return s[i:j], j
    return s[i:i + 1], i + 1


def _fence(d: str, tall: bool = True) -> str:
    """A \\left/\\right delimiter: stretched only around tall content (fractions, tables),
    since without a math font a stretched bracket is drawn from pieces, with gaps."""
    ch = FENCES.get(d, d)
    return (f'<mo fence="true" stretchy="{"true" if tall else "false"}" lspace="0" rspace="0">'
            f'{escape(ch)}</mo>') if ch else ""


def _frame_of(stack: list, kind: str):
    for f in reversed(stack):
        if f.kind == kind:
            return f
        if f.kind == "env":
            return None
    return None


def _env_frame(stack: list):
    for f in reversed(stack):
        if f.kind == "env":
            return f
    return None


def _close_to(stack: list, target: _Frame, put) -> None:
    """Close the groups left open inside ``target`` (their items join the frame below)."""
    while stack[-1] is not target:
        f = stack.pop()
        stack[-1].items.extend(f.items)


def _macro(name: str, args: list[tuple[str, bool]]) -> tuple[str, bool]:
    """A macro's MathML from its arguments' (MathML, tall), and whether it is tall."""
    (a, tall), *rest = args
    if name == "frac":
        return f"<mfrac>{a}{rest[0][0]}</mfrac>", True
    if name == "sqrt":
        return f"<msqrt>{a}</msqrt>", tall
    return f'<mover accent="true">{a}<mo>{ACCENTS[name]}</mo></mover>', tall


def _table(f: _Frame) -> str:
    """aligned (right, left, right, left … columns, no gap inside a pair), bmatrix, array{lrr}."""
    out = []
    for k, row in enumerate(f.rows):
        cells = []
        for j, cell in enumerate(row):
            if f.name in ("aligned", "align", "align*", "split", "gathered"):
                style = "text-align:right;padding:0.2em 0 0.2em 1em" if j % 2 == 0 else \
                    "text-align:left;padding:0.2em 0"
                if j % 2:
                    cell = "<mrow><mrow></mrow>" + cell + "</mrow>"   # '= …' continues: '=' is a relation
            elif f.name == "array":
                align = {"l": "left", "r": "right", "c": "center"}.get((f.spec.replace("|", "") + "l" * 50)[j])
                style = f"text-align:{align}"
            else:
                style = "text-align:center"
            if k in f.lines:
                style += ";border-bottom:1px solid"
            cells.append(f'<mtd style="{style}">{cell}</mtd>')
        out.append("<mtr>" + "".join(cells) + "</mtr>")
    table = "<mtable>" + "".join(out) + "</mtable>"
    fences = {"bmatrix": ("[", "]"), "pmatrix": ("(", ")"), "vmatrix": ("|", "|"), "cases": ("{", "")}
    if f.name in fences:
        a, b = fences[f.name]
        return "<mrow>" + _fence(a) + table + _fence(b) + "</mrow>"
    return table


def mathml(tex: str, display: bool = False) -> str:
    """A <math> element for the LaTeX formula ``tex`` (display: a block of its own)."""
    attr = ' display="block"' if display else ""
    return (f'<math{attr}><semantics>{_translate(tex)}'
            f'<annotation encoding="application/x-tex">{escape(tex)}</annotation></semantics></math>')
