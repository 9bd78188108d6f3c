"""Rich display for results in notebooks and Rich terminals (results stay data).

``RichDisplay`` gives a result ``_repr_html_``, ``_repr_latex_`` and
``__rich_console__``, each drawn by :func:`calccli.render.render_text`
(imported when first shown, so computing a result loads no renderer).
"""
from __future__ import annotations


class RichDisplay:
    __slots__ = ()

    def _repr_html_(self) -> str:
        from calccli.render.html import fragment
        return fragment(self)

    def _repr_latex_(self) -> str:
        from calccli.render import render_text
        paras = [p.strip() for p in render_text(self, "latex").split("\n\n") if p.strip()]
        return "\n".join(f"$$\n{p}\n$$" for p in paras)

    def __rich_console__(self, console, options):
        from rich.text import Text

        from calccli.render import render_text
        yield Text.from_ansi(render_text(self, "rich").rstrip("\n"))
