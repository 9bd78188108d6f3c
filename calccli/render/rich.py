"""Rich terminal view: titled tables, highlighted steps, a result line."""
from __future__ import annotations

from calccli.render.doc import Block, Doc, Lines, Table


def render(doc: Doc, console) -> None:
    from rich.table import Table as RTable
    from rich.text import Text
    if doc.title:
        console.print(Text(doc.title, style="bold"))
    for b in doc.blocks:
        console.print()
        if isinstance(b, Table):
            t = RTable(title=b.title, title_justify="left", title_style="bold cyan",
                       header_style="bold", box=None, pad_edge=True)
            for k, c in enumerate(b.columns):
                t.add_column(c, style="magenta" if k == 0 else None, no_wrap=k < 3)
            for r in b.rows:
                t.add_row(*r)
            console.print(t)
        elif isinstance(b, (Lines, Block)):
            if b.title:
                console.print(Text(b.title, style="bold cyan"))
            for line in b.lines:
                console.print(Text("  " + line), highlight=isinstance(b, Lines), soft_wrap=isinstance(b, Block))
    if doc.summary:
        console.print()
        parts = Text()
        for k, (label, value) in enumerate(doc.summary):
            if k:
                parts.append("      ")
            parts.append(label + " = ", style="bold")
            parts.append(value, style="bold green")
        console.print(parts)
