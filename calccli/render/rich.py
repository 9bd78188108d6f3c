"""Rich terminal view: titled tables, highlighted steps, a result line."""
from __future__ import annotations

from calccli.render.doc import Block, Doc, Lines, Table

# rows or lines; a longer block is turned into Segments here rather than by Rich, whose Table costs
# ~1 ms a row and whose Text wraps, splits and crops a long text in time growing faster than its length
BIG = 200


class _Segments:
    """A renderable whose Segments a function makes from (console, options)."""

    def __init__(self, make):
        self.make = make

    def __rich_console__(self, console, options):
        return self.make(console, options)


def _big_table(b: Table):
    """The same columns as Rich's box-less table, padded here, styled the same, never wrapped."""
    from rich.control import strip_control_codes
    from rich.segment import Segment

    rows = b.rows
    if not all(isinstance(c, str) and c.isprintable() for r in rows for c in r):   # else as Text shows them
        rows = [[strip_control_codes(str(c)) for c in r] for r in rows]
    widths = [max([len(c)] + [len(r[k]) for r in rows if k < len(r)]) for k, c in enumerate(b.columns)]

    def cells(r):
        last = len(widths) - 1
        return [" " + (c.ljust(w) if k < last else c) + " " for k, (c, w) in enumerate(zip(r, widths))]

    def segments(console, options):
        bold, magenta = console.get_style("bold"), console.get_style("magenta")
        if b.title:
            yield Segment(b.title, console.get_style("bold cyan"))
            yield Segment.line()
        for c in cells(b.columns):
            yield Segment(c, bold)
        yield Segment.line()
        for n, r in enumerate(rows, 1):   # the first cell magenta, the rest unstyled with the line's end
            c = cells(r)
            line, k = "".join(c), len(c[0]) if c else 0
            if n == len(rows):            # the table ends without trailing spaces
                line = line.rstrip()
            if line[:k]:
                yield Segment(line[:k], magenta)
            yield Segment(line[k:] + "\n")
    return _Segments(segments)


def _lines(lines: list[str]):
    """Text lines as Rich prints one Text of them all (wrapped, or not with soft_wrap): the lines that
    fit, as they are, in one Segment; any other (too wide, with tabs or control codes) as its own Text.
    Every line then fits, so it is printed with crop=False (Rich's crop walks the segments line by line)."""
    from rich.cells import cell_len
    from rich.segment import Segment
    from rich.text import Text

    def segments(console, options):
        width, soft = options.max_width, options.no_wrap and options.overflow == "ignore"
        plain = options.justify in (None, "default")
        # every character one cell wide (Python's isprintable excludes tabs and control codes) → cells = len
        narrow = all(cell_len(ch) == 1 for ch in set("".join(lines)))
        run = []
        for line in lines:
            if plain and line.isprintable() and (soft or (len(line) if narrow else cell_len(line)) <= width):
                run.append(line)
                continue
            if run:
                yield Segment("\n".join(run) + "\n")
                run = []
            yield from console.render(Text(line), options)   # wrapped (folded) to the width by Rich
        if run:
            yield Segment("\n".join(run) + "\n")
    return _Segments(segments)


def render(doc: Doc, console) -> None:
    from rich.table import Table as RTable
    from rich.text import Text
    if doc.title:
        console.print(Text(doc.title, style="bold"))
    for b in doc.blocks:
        console.print()
        if isinstance(b, Table) and len(b.rows) > BIG:
            console.print(_big_table(b), soft_wrap=True)
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
            lines = ["  " + line for line in b.lines]
            soft = isinstance(b, Block)   # pre-formatted: never wrapped
            if len(lines) > BIG:
                console.print(_lines(lines), soft_wrap=soft, crop=False)
            elif lines:   # one Text for all lines: wrapped line by line as before, one print not thousands
                console.print(Text("\n".join(lines)), soft_wrap=soft)
    if doc.summary:
        console.print()
        parts = Text()
        for k, (label, value) in enumerate(doc.summary):
            if k:
                parts.append("      ")
            parts.append(label + " = ", style="bold")
            parts.append(value, style="bold green")
        console.print(parts)
