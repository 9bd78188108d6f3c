"""Text → interned expression DAG, with positions for error carets.

The Lark LALR parser is built once per process from grammar/calc.lark (its
tables cached on disk as JSON, see parser_cache); a lean driver (lalr.py) runs
its tables and our transformer *during* parsing, so no parse tree is built and
nothing recurses on the depth of the input.
"""
from __future__ import annotations

import difflib
import re
from pathlib import Path

from calccli.engine import expr
from calccli.errors import CalcError, ParseError, ShapeError
from calccli.engine.expr import Node
from calccli.engine.gcpause import collector_paused
from calccli.engine.primitives import ALIASES, BY_ARITY, FILLED, PRIMS

MAX_INPUT = 1_000_000  # characters; longer input is refused before parsing
# Control characters other than tab, newline, carriage return and form feed
# (ESC included): one regex scan instead of a Python loop over every character.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f]")

_parser = None
_driver = None


def grammar_path() -> Path:
    package = Path(__file__).resolve().parent.parent   # calccli/ (the wheel puts the grammar there)
    for p in (package / "grammar" / "calc.lark", package.parent / "grammar" / "calc.lark"):
        if p.is_file():
            return p
    raise FileNotFoundError("grammar/calc.lark is missing from the installation")


_OPTIONS = dict(parser="lalr", maybe_placeholders=True)


def _cache_path(grammar: Path) -> str | None:
    """The cache file for ``grammar`` in a directory only this user can write, or None."""
    from calccli.language.parser_cache import cache_file
    return cache_file(grammar.read_text(encoding="utf-8"), _OPTIONS)


def _run(p, builder, text: str):
    """The lean driver over Lark's tables (:mod:`calccli.language.lalr`); Lark's own
    parser where it steps aside, so errors are reported exactly as Lark finds them.
    The collector is paused on long inputs: the nodes are acyclic, and each
    collection would rescan every node made so far."""
    global _driver
    from calccli.language.lalr import Driver, Fallback
    if _driver is None:
        try:
            _driver = Driver(p)
        except Exception:  # noqa: BLE001 - a Lark whose internals moved: use Lark alone
            _driver = False
    with collector_paused(len(text) > 20_000):
        if _driver:
            try:
                return _driver.parse(text)
            except Fallback:
                builder.spans = {}
        return p.parse(text)


def _get_parser():
    """The LALR parser, built once per process; its tables come from a private on-disk
    cache (JSON, never unpickled: see :mod:`calccli.language.parser_cache`)."""
    global _parser
    if _parser is None:
        from calccli.language.parser_cache import load_parser
        text = grammar_path().read_text(encoding="utf-8")
        _parser = load_parser(text, _OPTIONS, dict(transformer=_Build()))
    return _parser


# The transformer returns (node, start, end) triples so that errors found
# while building (unknown function, wrong argument count) and later (shapes)
# can point at the right columns. ``_spans`` keeps the first span of each node.

class _Build:
    def __init__(self):
        self.spans: dict[Node, tuple[int, int]] = {}
        # name -> expand(args: tuple[Node, ...]) -> Node, for user-defined
        # functions (the REPL's f(x) = …); consulted only for names that are
        # not built-in functions. Set per call by ``parse(text, functions=…)``.
        self.functions = None

    def _t(self, node, start, end):
        self.spans.setdefault(node, (start, end))
        return (node, start, end)

    def number(self, c):
        tok = c[0]
        v = float(tok)
        if v == float("inf"):
            shown = tok if len(tok) <= 40 else f"{tok[:20]}…{tok[-8:]} ({len(tok):,} characters)"
            raise ParseError(f"the number {shown} is too large (float64 ends at about 1.8e308)",
                             pos=tok.start_pos, end=tok.end_pos)
        return self._t(expr.num(v), tok.start_pos, tok.end_pos)

    def var(self, c):
        tok = c[0]
        name = tok.value
        if name in ("pi", "π"):
            node = expr.const("pi")
        elif name == "e":
            node = expr.const("e")
        elif name in PRIMS and PRIMS[name].is_function or name in ALIASES or name in FILLED:
            raise ParseError(f"'{name}' is a function: write {name}(…)",
                             pos=tok.start_pos, end=tok.end_pos)
        else:
            node = expr.var(name)
        return self._t(node, tok.start_pos, tok.end_pos)

    def _bin(op):
        def rule(self, c):
            (a, s, _), (b, _, e) = c[0], c[-1]
            return self._t(expr.make(op, (a, b)), s, e)
        return rule

    add, sub, mul, div, emul = _bin("add"), _bin("sub"), _bin("mul"), _bin("div"), _bin("emul")

    def pow(self, c):
        (a, s, _), (b, _, e) = c[0], c[2]
        return self._t(expr.make("pow", (a, b)), s, e)

    def epow(self, c):
        (a, s, _), (b, _, e) = c[0], c[2]
        return self._t(expr.make("epow", (a, b)), s, e)

    def superscript(self, c):
        """x² = x^2, x⁻¹ = x^-1 (superscript digits pasted from notes)."""
        (a, s, _), tok = c[0], c[1]
        k = int(tok.value.translate(_SUPERSCRIPT_DIGITS))
        return self._t(expr.make("pow", (a, expr.num(k))), s, tok.end_pos)

    def transpose_sup(self, c):
        a, s, e = c[0]
        return self._t(expr.make("transpose", (a,)), s, e + 1)

    def root(self, c):
        """√x and √(…): sqrt of the atom that follows."""
        a, s, e = c[0]
        return self._t(expr.make("sqrt", (a,)), s - 1, e)

    def neg(self, c):
        a, s, e = c[0]
        # a negative literal is a number, so "-2" prints and folds as -2
        node = expr.num(-a.value) if a.op == "num" else expr.make("neg", (a,))
        return self._t(node, s - 1, e)

    def transpose(self, c):
        a, s, e = c[0]
        return self._t(expr.make("transpose", (a,)), s, e + 2)

    def args(self, c):
        return list(c)

    def index(self, c):
        (a, s, e), idx = c[0], c[1]
        text = getattr(self, "text", None)
        if text is not None:  # "A [1, 2]": an index or a product with a literal? Ask.
            b = text.rfind("[", e, idx[0][1])
            if b > 0 and text[b - 1].isspace():
                end = idx[-1][2] + 1
                base = text[s:e].strip()
                if base.count("(") != base.count(")") or len(base) > 30:
                    base = "…"
                inside = text[b + 1:end - 1].strip()
                raise ShapeError(f"a space before '[' is ambiguous: write {base}[{inside}] to index, "
                                 f"or {base}*[{inside}] for a product", pos=b, end=end)
        values = []
        for (n, ps, pe) in idx:
            if n.op != "num" or n.value != int(n.value) or n.value < 1:
                msg = "an index must be a whole number ≥ 1 (indices start at 1)"
                if n.op == "vector":  # "A [1,2]" reads as indexing, like A[1,2]
                    msg += "; brackets right after an expression index it: for a product write A*[…]"
                raise ShapeError(msg, pos=ps, end=pe)
            values.append(int(n.value))
        end = idx[-1][2] + 1
        return self._t(expr.make("index", (a,), tuple(values)), s, end)

    def array(self, c):
        items = c[0]
        nodes = tuple(n for n, _, _ in items)
        s, e = items[0][1] - 1, items[-1][2] + 1
        return self._t(expr.make("vector", nodes), s, e)

    def call(self, c):
        tok, args = c[0], c[1] or []
        name = ALIASES.get(tok.value, tok.value)
        start, end = tok.start_pos, (args[-1][2] + 1 if args else tok.end_pos + 2)
        prim = PRIMS.get(name)
        if (prim is None or not prim.is_function) and self.functions and tok.value in self.functions:
            try:
                node = self.functions[tok.value](tuple(n for n, _, _ in args))
            except CalcError as e:
                if e.pos is None:
                    e.pos, e.end = start, end
                raise
            return self._t(node, start, end)
        if name in FILLED:
            return self._t(_filled(name, args, start, end), start, end)
        if prim is None or not prim.is_function:
            raise ParseError(unknown_function_message(tok.value), pos=tok.start_pos, end=tok.end_pos)
        other = BY_ARITY.get((name, len(args)))
        if other is not None:  # max(x) of a vector, max(a, b) of two numbers
            name, prim = other, PRIMS[other]
        if prim.arity >= 0 and len(args) != prim.arity:
            want = {1: "one argument", 2: "two arguments"}.get(prim.arity, f"{prim.arity} arguments")
            raise ParseError(f"{tok.value}() takes {want}, got {len(args)}", pos=start, end=end)
        node = expr.make(name, tuple(n for n, _, _ in args))
        return self._t(node, start, end)


# Pasted characters calc does not read, and their ASCII spelling.
_ASCII_HINTS = {
    "÷": "for division write /", "∗": "for a product write *", "–": "for minus write -",
    "—": "for minus write -", "∑": "for a sum write sum(x) (x a vector)", "∏": "write the product out with *",
    "½": "write 1/2", "¼": "write 1/4", "¾": "write 3/4", "∞": "calc has no infinity: write a large number",
    "∂": "for derivatives use calc diff or calc grad", "∇": "for a gradient use calc grad",
    "≤": "calc has no comparisons", "≥": "calc has no comparisons", "≠": "calc has no comparisons",
    "∘": "for the entry-by-entry product write .* (or ⊙)", "∛": "for a cube root write x^(1/3)",
    "⁺": "for a power write ^, e.g. x^2", "⁽": "for a power write ^(…), e.g. x^(n+1)",
}
_SUPERSCRIPT_LETTERS = dict(zip("ⁿⁱˣʸᵏᵐ", "nixykm"))
_SUPERSCRIPT_DIGITS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻", "0123456789-")
MAX_FILLED = 100_000


def _filled(name: str, args, start: int, end: int) -> Node:
    """ones(n), zeros(n): a vector literal of n ones or zeros (n a whole number)."""
    if len(args) != 1:
        raise ParseError(f"{name}() takes one argument, the length: {name}(3)", pos=start, end=end)
    n, ps, pe = args[0]
    if n.op != "num" or n.value != int(n.value) or not 1 <= n.value <= MAX_FILLED:
        raise ParseError(f"{name}(n) needs a whole number 1 ≤ n ≤ {MAX_FILLED:,} as its length, "
                         f"e.g. {name}(3)", pos=ps, end=pe)
    item = expr.ONE if name == "ones" else expr.ZERO
    return expr.make("vector", (item,) * int(n.value))


def unknown_function_message(name: str) -> str:
    names = [n for n, p in PRIMS.items() if p.is_function] + list(ALIASES) + list(FILLED)
    close = difflib.get_close_matches(name, names, n=2, cutoff=0.6)
    msg = f"unknown function '{name}'"
    if close:
        msg += " — did you mean " + " or ".join(f"'{c}'" for c in close) + "?"
    else:
        msg += f" (for a product write {name}*(…))"
    return msg


# Readable names for the grammar's terminals in error messages.
_WORDS = {
    "NUMBER": "a number", "NAME": "a name", "LPAR": "'('", "RPAR": "')'",
    "LSQB": "'['", "RSQB": "']'", "PLUS": "'+'", "MINUS": "'-'", "STAR": "'*'",
    "SLASH": "'/'", "POW": "'^'", "COMMA": "','", "$END": "the end of the input", "T": "T",
}


def _expected_words(expected) -> str:
    starts = {"NUMBER", "NAME", "LPAR", "LSQB", "MINUS", "PLUS"}
    exp = set(expected)
    words = []
    if starts & exp:
        words.append("an expression")
        exp -= starts
    words += sorted(_WORDS.get(t, t) for t in exp if t not in ("T",))
    return ", ".join(words[:-1]) + (" or " if len(words) > 1 else "") + words[-1] if words else "something else"


def _open_bracket_before(text: str, pos: int) -> int | None:
    """Position of the innermost bracket still open at ``pos``."""
    stack = []
    for i, ch in enumerate(text[:pos]):
        if ch in "([":
            stack.append(i)
        elif ch in ")]" and stack:
            stack.pop()
    return stack[-1] if stack else None


def _translate(text: str, err) -> CalcError:
    from lark.exceptions import UnexpectedCharacters, UnexpectedToken, UnexpectedEOF
    if isinstance(err, UnexpectedCharacters):
        ch = text[err.pos_in_stream] if err.pos_in_stream < len(text) else ""
        desc = repr(ch) if ch.isprintable() else f"U+{ord(ch):04X}"
        hint = _ASCII_HINTS.get(ch)
        if hint is None and ch in _SUPERSCRIPT_LETTERS:
            hint = f"for a power write ^, e.g. x^{_SUPERSCRIPT_LETTERS[ch]}"
        return ParseError(f"unexpected character {desc}" + (f": {hint}" if hint else ""),
                          source=text, pos=err.pos_in_stream)
    if isinstance(err, (UnexpectedToken, UnexpectedEOF)):
        tok = getattr(err, "token", None)
        expected = getattr(err, "expected", None) or getattr(err, "accepts", None) or set()
        at_end = tok is None or tok.type == "$END"
        if at_end:
            pos = len(text.rstrip())
            opened = _open_bracket_before(text, pos)
            stripped = text.rstrip()
            if stripped and stripped[-1] in "+-*/^,([":
                last = stripped[-1]
                what = {"(": "after '('", "[": "after '['", ",": "after ','"}.get(last, f"after '{last}'")
                return ParseError(f"expected an expression {what}", source=text, pos=pos)
            if opened is not None and ("RPAR" in expected or "RSQB" in expected):
                return ParseError(f"unclosed '{text[opened]}' opened at column {opened + 1}",
                                  source=text, pos=opened)
            if not stripped:
                return ParseError("empty expression", source=text, pos=0)
            return ParseError(f"unexpected end of input: expected {_expected_words(expected)}",
                              source=text, pos=max(pos - 1, 0))
        pos = tok.start_pos
        val = str(tok)
        if tok.type in ("RPAR", "RSQB") and _open_bracket_before(text, pos) is None:
            return ParseError(f"unmatched '{val}'", source=text, pos=pos)
        prev = text[:pos].rstrip()
        if prev and prev[-1] in "+-*/^,([" and tok.type not in ("NUMBER", "NAME", "LPAR", "LSQB"):
            return ParseError(f"expected an expression after '{prev[-1]}', found '{val}'",
                              source=text, pos=pos, end=pos + len(val))
        return ParseError(f"unexpected '{val}': expected {_expected_words(expected)}",
                          source=text, pos=pos, end=pos + len(val))
    return ParseError(str(err), source=text)


class Parsed:
    """A parsed expression and where each of its nodes came from."""
    __slots__ = ("text", "node", "spans")

    def __init__(self, text: str, node: Node, spans: dict):
        self.text, self.node, self.spans = text, node, spans

    def span(self, node: Node) -> tuple[int, int] | None:
        return self.spans.get(node)


class ParsedText(str):
    """An expression's text that comes with its parse: :func:`parse` returns ``parsed``
    instead of reading the text again. The REPL hands a command an expression whose
    user functions are expanded into the DAG this way when the expansion written out
    would be too long to read back (``f20(x)`` with f_k = f_{k-1}∘f_{k-1})."""
    parsed: Parsed

    def __new__(cls, text: str, parsed: Parsed):
        self = super().__new__(cls, text)
        self.parsed = parsed
        return self


def parse(text: str, functions=None) -> Parsed:
    """Parse ``text``. ``functions`` optionally maps names of user-defined
    functions to ``expand(args) -> Node`` (called with the argument nodes of
    each call; may raise a CalcError, which gets the call's position)."""
    if isinstance(text, ParsedText):
        return text.parsed
    from lark.exceptions import LarkError, VisitError
    if len(text) > MAX_INPUT:
        raise ParseError(f"the input is {len(text):,} characters long; calc accepts at most {MAX_INPUT:,}",
                         source=text[:200], pos=0)
    m = _CONTROL.search(text)
    if m is not None:
        bad = m.start()
        return _raise(ParseError(f"control character U+{ord(text[bad]):04X} in the input", source=text, pos=bad))
    p = _get_parser()
    builder = p.options.transformer
    builder.spans = {}
    builder.text = text
    builder.functions = functions
    try:
        node, _, _ = _run(p, builder, text)
    except CalcError as e:
        raise e.at(text, e.pos, e.end)
    except VisitError as e:  # an error raised inside a rule, wrapped by Lark
        inner = e.orig_exc
        if isinstance(inner, CalcError):
            raise inner.at(text, inner.pos, inner.end)
        raise ParseError(str(inner), source=text) from None
    except LarkError as e:
        raise _translate(text, e) from None
    except RecursionError:
        raise ParseError("the expression is nested too deeply", source=text, pos=0) from None
    finally:
        builder.functions = None
    parsed = Parsed(text, node, builder.spans)
    _remember(parsed)
    return parsed


# The latest parses by root node, so that later stages (shape checking of
# vectors and matrices) can point a caret into the text a tape came from.
_RECENT: dict[Node, Parsed] = {}
_RECENT_MAX = 64


def _remember(parsed: Parsed) -> None:
    _RECENT.pop(parsed.node, None)
    _RECENT[parsed.node] = parsed
    if len(_RECENT) > _RECENT_MAX:
        del _RECENT[next(iter(_RECENT))]


def source_of(root: Node) -> Parsed | None:
    """The most recent parse whose result is ``root`` (its text and spans), if any."""
    return _RECENT.get(root)


def _raise(err):
    raise err


def parse_expr(text: str) -> Node:
    return parse(text).node
