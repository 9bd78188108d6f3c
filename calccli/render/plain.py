"""Plain text: stable, line-oriented, no colours (the default when piped)."""
from __future__ import annotations

from calccli.render.doc import Block, Doc, Lines, Table


def render(doc: Doc) -> str:
    out = [doc.title] if doc.title else []
    for b in doc.blocks:
        out.append("")
        if b.title:
            out.append(b.title)
        if isinstance(b, Table):
            rows = [b.columns] + b.rows
            ncol = len(b.columns)
            widths = [max(len(r[c]) for r in rows) for c in range(ncol)]
            for r in rows:
                out.append("  " + "  ".join(r[c].ljust(widths[c]) for c in range(ncol)).rstrip())
        elif isinstance(b, (Lines, Block)):
            out.extend("  " + line if line else "" for line in b.lines)
    if doc.summary:
        out.append("")
        out.extend(f"{label} = {value}" for label, value in doc.summary)
    return "\n".join(out) + "\n"
