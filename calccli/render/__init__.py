"""Renderers: results → text. One entry point, ``render_text``, for every format.

Results are plain dataclasses (commands/*); every format is a generic function
here with one implementation per result type (``functools.singledispatch``):
``views.to_doc`` (rich and plain draw the :class:`doc.Doc` it builds),
``json.json_obj`` and ``latex.to_latex``. ``render/<command>.py`` registers them for
the results of ``commands/<command>.py`` and is imported on first use (:data:`FAMILIES`),
so the scalar path loads only what it shows. The CLI, the REPL and the Python API
all come through here.
"""
from __future__ import annotations

from importlib import import_module

FORMATS = ("rich", "plain", "json", "latex", "html")

# the module that defines a result → the render module that registers its formats
FAMILIES = {
    "calccli.explain.records": lambda: import_module("calccli.render.derivatives"),
    "calccli.commands.multivar": lambda: import_module("calccli.render.multivar"),
    "calccli.commands.higher": lambda: import_module("calccli.render.higher"),
    "calccli.commands.symbolic": lambda: import_module("calccli.render.symbolic"),
    "calccli.commands.optimize": lambda: import_module("calccli.render.optimize"),
    "calccli.commands.fit": lambda: import_module("calccli.render.fit"),
    "calccli.commands.check": lambda: import_module("calccli.render.check"),
    "calccli.commands.graph": lambda: import_module("calccli.render.graph"),
    "calccli.commands.plot": lambda: import_module("calccli.render.plot"),
    "calccli.commands.matrix": lambda: import_module("calccli.render.matrix"),
}
_loaded: set[str] = set()


def load_renderers(cls) -> bool:
    """Import the render modules of ``cls`` (and its bases); True if one was new."""
    new = False
    for c in cls.__mro__:
        load = FAMILIES.get(c.__module__)
        if load is not None and c.__module__ not in _loaded:
            _loaded.add(c.__module__)
            load()
            new = True
    return new


def no_renderer(generic, result):
    """The default of every generic render function: load the result's render
    module and dispatch again, or say that this type has no renderer."""
    if load_renderers(type(result)):
        return generic(result)
    raise TypeError(f"no {generic.__name__} renderer for {type(result).__name__}")


def render_text(result, fmt: str, console=None, digits: int | None = None,
                standalone: bool = False) -> str | None:
    """The text of ``result`` in ``fmt``.

    For ``rich`` with a ``console`` given, the result is printed on it and None
    is returned; without one, the rich text (with ANSI styles) is returned.
    ``digits`` rounds the numbers shown to that many significant digits (JSON
    keeps every digit); ``standalone`` makes LaTeX a whole document."""
    if fmt == "json":
        from calccli.render.json import dumps
        return dumps(result) + "\n"
    if fmt == "html":
        from calccli.render.html import page
        return page(result, digits)
    if fmt == "latex":
        from calccli.render.latex import document, to_latex
        out = to_latex(result)
        out = out if out.endswith("\n") else out + "\n"
        if digits:
            out = round_numbers(out, digits, latex=True)
        return document(out) if standalone else out
    from calccli.render.views import to_doc
    doc = to_doc(result)
    if digits:
        doc = rounded_doc(doc, digits)
    if doc.raw is not None:           # shown as it is (a DOT graph for Graphviz)
        return doc.raw
    if fmt == "plain":
        from calccli.render.plain import render as plain
        return plain(doc)
    from calccli.render.rich import render as rich
    if console is not None:
        rich(doc, console)
        return None
    import io

    from rich.console import Console
    c = Console(record=True, force_terminal=True, width=100, file=io.StringIO())
    rich(doc, c)
    return c.export_text(styles=True)


_LONG_NUMBER = None


def round_numbers(text: str, digits: int, latex: bool = False, keep_width: bool = False) -> str:
    """Every decimal number in ``text`` with more than ``digits`` significant
    digits, rounded to ``digits`` (2.9915412979543476 → 2.99154 for 6);
    ``keep_width`` pads it to its old width where a column follows it (two spaces):
    text already laid out in columns keeps them."""
    global _LONG_NUMBER
    import re
    if _LONG_NUMBER is None:
        _LONG_NUMBER = re.compile(r"(?<![\w.])(\d+\.\d+(?:e[+-]?\d+)?)(?![\w.])")

    def short(m):
        t = m.group(1)
        mant = t.split("e")[0].replace(".", "").lstrip("0")
        if len(mant) <= digits:
            return t
        v = f"{float(t):.{digits}g}"
        if latex and "e" in v:
            mant, ex = v.split("e")
            return f"{mant} \\times 10^{{{int(ex)}}}"
        aligned = keep_width and m.string.startswith("  ", m.end())   # a column follows
        return v.ljust(len(t)) if aligned else v
    return _LONG_NUMBER.sub(short, text)


def rounded_doc(doc, digits: int):
    """A copy of ``doc`` with its numbers rounded for display (:func:`round_numbers`)."""
    from dataclasses import replace

    from calccli.render.doc import Table
    r = lambda t: round_numbers(t, digits)  # noqa: E731
    blocks = []
    for b in doc.blocks:
        if isinstance(b, Table):
            blocks.append(Table(r(b.title), [r(c) for c in b.columns], [[r(c) for c in row] for row in b.rows]))
        else:
            # a block's lines are laid out already (the graph's value columns): keep the columns
            lines = [round_numbers(x, digits, keep_width=True).rstrip() for x in b.lines]
            blocks.append(replace(b, title=r(b.title), lines=lines))
    return replace(doc, title=r(doc.title), blocks=blocks, summary=[(r(a), r(v)) for a, v in doc.summary],
                   raw=None if doc.raw is None else r(doc.raw))
