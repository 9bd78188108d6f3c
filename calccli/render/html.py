"""Results → HTML (``--format html``): one self-contained page, nothing fetched.

The page shows what rich and plain show (the same :class:`doc.Doc`: title,
the intermediate-variable table, the chain-rule steps, matrices) with inline
CSS; ``calc graph`` adds the computational graph as inline SVG drawn by a
small layered layout here (inputs at the bottom, the output at the top).
:func:`fragment` is the same without the page around it (notebooks).
"""
from __future__ import annotations

from html import escape

from calccli.render.doc import Block, Doc, Lines, Table

PAGE_CSS = """body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2em auto;
       max-width: 60em; padding: 0 1em; color: #222; }"""
CSS = """
.calc h1 { font-size: 1.25em; font-family: ui-monospace, Menlo, Consolas, monospace; }
.calc h2 { font-size: 1em; color: #07698a; margin-top: 1.5em; }
.calc table { border-collapse: collapse; font-family: ui-monospace, Menlo, Consolas, monospace; }
.calc th, .calc td { padding: 0.2em 0.8em; text-align: left; border-bottom: 1px solid #ddd; }
.calc th { border-bottom: 2px solid #999; }
.calc td:first-child { color: #a0307a; }
.calc pre { font-family: ui-monospace, Menlo, Consolas, monospace; background: #f6f8fa; padding: 0.6em;
            overflow-x: auto; }
.calc .summary { font-family: ui-monospace, Menlo, Consolas, monospace; font-weight: bold; }
.calc .summary span { color: #1a7f37; }
.calc svg text { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 12px; }
"""


def doc_html(doc: Doc) -> str:
    out = [f"<h1>{escape(doc.title)}</h1>"] if doc.title else []
    for b in doc.blocks:
        if b.title:
            out.append(f"<h2>{escape(b.title)}</h2>")
        if isinstance(b, Table):
            head = "".join(f"<th>{escape(c)}</th>" for c in b.columns)
            rows = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in r) + "</tr>" for r in b.rows)
            out.append(f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>")
        elif isinstance(b, (Lines, Block)):
            out.append("<pre>" + "\n".join(escape(line) for line in b.lines) + "</pre>")
    if doc.summary:
        out.append('<p class="summary">' + " &nbsp; ".join(
            f"{escape(label)} = <span>{escape(value)}</span>" for label, value in doc.summary) + "</p>")
    return "\n".join(out)


def graph_svg(g) -> str:
    """The graph as SVG: each node on the layer of its longest path from an input."""
    by = {n.name: n for n in g.nodes}
    layer: dict[str, int] = {}
    for n in g.nodes:                      # nodes come in tape order: arguments first
        layer[n.name] = 1 + max((layer[a] for a in n.args if a in layer), default=-1)
    depth = max(layer.values(), default=0)
    rows: dict[int, list[str]] = {}
    for nm, k in layer.items():
        rows.setdefault(k, []).append(nm)
    box_w, box_h, gap_x, gap_y = 150, 34, 24, 60
    width = max(len(r) for r in rows.values()) * (box_w + gap_x) + gap_x
    height = (depth + 1) * (box_h + gap_y) + gap_y
    pos = {}
    for k, names in rows.items():
        span = len(names) * (box_w + gap_x) - gap_x
        x0 = (width - span) / 2
        for i, nm in enumerate(names):
            pos[nm] = (x0 + i * (box_w + gap_x), height - gap_y - (k + 1) * (box_h + gap_y) + gap_y)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
             f'viewBox="0 0 {width:.0f} {height:.0f}" role="img" aria-label="computational graph">',
             '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" '
             'orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker></defs>']
    for n in g.nodes:
        for a in dict.fromkeys(n.args):
            if a in pos:
                (x1, y1), (x2, y2) = pos[a], pos[n.name]
                parts.append(f'<line x1="{x1 + box_w / 2:.0f}" y1="{y1:.0f}" x2="{x2 + box_w / 2:.0f}" '
                             f'y2="{y2 + box_h:.0f}" stroke="#555" marker-end="url(#arrow)"/>')
    for nm, (x, y) in pos.items():
        n = by[nm]
        label = nm if n.kind != "intermediate" else f"{nm} = {n.definition}"
        if len(label) > 20:
            label = label[:19] + "…"
        rx = 6 if n.kind != "intermediate" else 17
        stroke = "#a0307a" if nm == g.output else "#07698a"
        parts.append(f'<rect x="{x:.0f}" y="{y:.0f}" width="{box_w}" height="{box_h}" rx="{rx}" '
                     f'fill="#fff" stroke="{stroke}" stroke-width="{2 if nm == g.output else 1}"/>')
        parts.append(f'<text x="{x + box_w / 2:.0f}" y="{y + box_h / 2 + 4:.0f}" text-anchor="middle">'
                     f'{escape(label)}</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def fragment(result, digits: int | None = None) -> str:
    """The result as an HTML fragment (a <div>), for notebooks and pages."""
    from calccli.render.views import to_doc
    doc = to_doc(result)
    if digits:
        from calccli.render import rounded_doc
        doc = rounded_doc(doc, digits)
    if doc.raw is not None:
        body = f"<pre>{escape(doc.raw)}</pre>"
    else:
        body = doc_html(doc)
    from calccli.commands.graph import GraphResult
    if isinstance(result, GraphResult) and doc.raw is None:
        body = body.replace("<h2>", "<h2>Picture</h2>\n" + graph_svg(result) + "\n<h2>", 1)
    return f'<div class="calc">\n<style>{CSS}</style>\n{body}\n</div>\n'


def page(result, digits: int | None = None) -> str:
    """A whole self-contained page: inline CSS, no script, no network."""
    from calccli.render.views import to_doc
    title = to_doc(result).title or "calc"
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            f"<title>{escape(title)}</title>\n<style>{PAGE_CSS}</style>\n</head>\n<body>\n"
            f"{fragment(result, digits)}</body>\n</html>\n")
