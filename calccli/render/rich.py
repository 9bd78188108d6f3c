"""Rich terminal view: titled tables, highlighted steps, a result line."""
from __future__ import annotations

from calccli.render.doc import Block, Doc, Lines, Table


BIG_TABLE = 200   # rows; a longer table is laid out here as one Text (Rich's Table costs ~1 ms a row)


def _big_table(b: Table, Text):
    """The same columns as Rich's box-less table, padded here, styled the same, never wrapped."""
    rows = [tuple(str(c) for c in r) for r in b.rows]
    widths = [max([len(c)] + [len(r[k]) for r in rows if k < len(r)]) for k, c in enumerate(b.columns)]
    out = Text()
    if b.title:
        out.append(b.title + "\n", style="bold cyan")

    def line(cells, header):
        for k, (cell, w) in enumerate(zip(cells, widths)):
            style = "bold" if header else ("magenta" if k == 0 else None)
            out.append(" " + (cell.ljust(w) if k < len(widths) - 1 else cell) + " ", style=style)
        out.append("\n")
    line(b.columns, True)
    for r in rows:
        line(r, False)
    out.rstrip()
    return out


def render(doc: Doc, console) -> None:
    from rich.table import Table as RTable
    from rich.text import Text
    if doc.title:
        console.print(Text(doc.title, style="bold"))
    for b in doc.blocks:
        console.print()
        if isinstance(b, Table) and len(b.rows) > BIG_TABLE:
            console.print(_big_table(b, Text), soft_wrap=True)
        elif isinstance(b, Table):
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
            if b.lines:   # one Text for all lines: wrapped line by line as before, one print not thousands
                console.print(Text("\n".join("  " + line for line in b.lines)), soft_wrap=isinstance(b, Block))
    if doc.summary:
        console.print()
        parts = Text()
        for k, (label, value) in enumerate(doc.summary):
            if k:
                parts.append("      ")
            parts.append(label + " = ", style="bold")
            parts.append(value, style="bold green")
        console.print(parts)
