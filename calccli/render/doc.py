"""A small document model shared by the Rich and plain renderers.

Views build a ``Doc`` from a result; ``render.rich`` and ``render.plain`` lay it
out. Both see the same blocks, so the two formats always say the same things.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Table:
    title: str
    columns: list[str]
    rows: list[list[str]]


@dataclass
class Lines:
    title: str
    lines: list[str]


@dataclass
class Block:
    """Pre-formatted text lines (matrices, trees, plots) shown as they are."""
    title: str
    lines: list[str]


@dataclass
class Doc:
    title: str
    blocks: list = field(default_factory=list)
    summary: list[tuple[str, str]] = field(default_factory=list)   # (label, value)
    raw: str | None = None    # text written as it is instead (DOT for Graphviz)


def matrix_lines(rows: list[list[str]], left: str = "", right: list[str] | None = None) -> list[str]:
    """A bracketed, column-aligned matrix (like LaTeX's bmatrix) as text lines.

    ``left`` is written before the middle row (e.g. "H = "), ``right`` are
    notes written beside the rows.
    """
    if not rows:
        return [left + "[ ]"]
    ncol = max(len(r) for r in rows)
    widths = [max(len(r[c]) if c < len(r) else 0 for r in rows) for c in range(ncol)]
    n = len(rows)
    out = []
    for k, r in enumerate(rows):
        cells = "  ".join(r[c].rjust(widths[c]) if c < len(r) else " " * widths[c] for c in range(ncol))
        if n == 1:
            lb, rb = "[", "]"
        elif k == 0:
            lb, rb = "⎡", "⎤"
        elif k == n - 1:
            lb, rb = "⎣", "⎦"
        else:
            lb, rb = "⎢", "⎥"
        prefix = left if k == (n - 1) // 2 else " " * len(left)
        note = ("     " + right[k]) if right and k < len(right) and right[k] else ""
        out.append(f"{prefix}{lb} {cells} {rb}{note}")
    return out
