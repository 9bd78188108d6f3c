"""The rich view of long tables: laid out by calc (fast), the same visible text as Rich's table."""
import re

import pytest

from calccli.commands.derivatives import diff_at
from calccli.render import render_text


def _visible(text: str) -> list[str]:
    return [line.rstrip() for line in re.sub(r"\x1b\[[0-9;]*m", "", text).split("\n")]


@pytest.mark.parametrize("depth", [3, 260])
def test_big_table_matches_rich_table(depth, monkeypatch):
    import calccli.render.rich as R
    result = diff_at("sin(" * depth + "x" + ")" * depth, "0.5")
    fast = render_text(result, "rich")
    monkeypatch.setattr(R, "BIG", 10 ** 9)
    assert _visible(fast) == _visible(render_text(result, "rich"))
    assert len(_visible(fast)) > 2 * depth
    assert "\x1b[35m" in fast     # the first column is styled (magenta) either way


def _rich(doc, width):
    import io

    from rich.console import Console

    import calccli.render.rich as R
    c = Console(record=True, force_terminal=True, width=width, file=io.StringIO())
    R.render(doc, c)
    return c.export_text(styles=True)


@pytest.mark.parametrize("width", [100, 40, 12, 1])
def test_long_lines_blocks_match_one_rich_text(width, monkeypatch):
    """Past BIG lines a block is laid out as Segments by calc: byte for byte what Rich makes of
    one Text of all the lines, wrapped (Lines) or not (Block), odd lines included."""
    import calccli.render.rich as R
    from calccli.render.doc import Block, Doc, Lines
    from calccli.render.views import to_doc
    trace = to_doc(diff_at("sin(" * 120 + "x" + ")" * 120, "0.5"))
    odd = ["", "a\tb\tc", "bell\x07 and\rreturn", "宽字符" * 9, "∂" * 45, "x" * 45 + "  ",
           "  spaced  out  words " * 4]
    steps = trace.blocks[1].lines + odd * 5
    doc = Doc("title", [Lines("Chain rule", steps), Block("", steps), trace.blocks[1]], trace.summary)
    monkeypatch.setattr(R, "BIG", 0)
    fast = _rich(doc, width)
    monkeypatch.setattr(R, "BIG", 10 ** 9)
    assert fast == _rich(doc, width)
    assert "∂a/∂x" in fast and fast.count("\n") > 2 * len(steps)
