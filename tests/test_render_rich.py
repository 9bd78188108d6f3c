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
    monkeypatch.setattr(R, "BIG_TABLE", 10 ** 9)
    assert _visible(fast) == _visible(render_text(result, "rich"))
    assert len(_visible(fast)) > 2 * depth
    assert "\x1b[35m" in fast     # the first column is styled (magenta) either way
