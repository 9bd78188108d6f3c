"""Renderers: results → text. One entry point, ``render_text``, for every format.

rich and plain draw a :class:`calccli.render.doc.Doc` built by :mod:`views`;
json and latex have their own modules. The CLI, the REPL and the Python API
all come through here.
"""
from __future__ import annotations

FORMATS = ("rich", "plain", "json", "latex")


def render_text(result, fmt: str, console=None) -> str | None:
    """The text of ``result`` in ``fmt``.

    For ``rich`` with a ``console`` given, the result is printed on it and None
    is returned; without one, the rich text (with ANSI styles) is returned."""
    if fmt == "json":
        from calccli.render.json import dumps
        return dumps(result) + "\n"
    if fmt == "latex":
        from calccli.render.latex import to_latex
        return to_latex(result)
    raw = getattr(result, "raw_text", None)
    if raw is not None and fmt in ("plain", "rich") and raw() is not None:
        return raw()
    from calccli.render.views import to_doc
    doc = to_doc(result)
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
