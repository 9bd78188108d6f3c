"""The computational graph as inline SVG for the HTML page (``calc graph --format html``).

Graphviz draws the DOT of ``graph --format dot`` where its library is installed;
otherwise a small layered layout here does (each node on the layer of its longest
path from an input: inputs at the bottom, the output, outlined, at the top), so
the page needs no Graphviz (and large graphs are drawn at once). Both label each node with its value and, in reverse
mode, its adjoint ∂f/∂node (or, forward, its tangent ∂node/∂x).
"""
from __future__ import annotations

from html import escape

CHAR_W, LINE_H, PAD, GAP_X, GAP_Y = 7.3, 16, 10, 22, 56
GRAPHVIZ_NODES = 150   # Graphviz's layout takes minutes on wide graphs of a thousand nodes; ours is linear


def node_lines(g, n) -> list[str]:
    """What a node's box says: its definition, then its value and derivative (6 digits)."""
    from calccli.render.graph import _short, derivative_label
    first = n.name if n.kind != "intermediate" else f"{n.name} = {n.definition}"
    if len(first) > 28:
        first = first[:27] + "…"
    out = [first]
    if n.value is not None and g.has_values:
        out.append(f"value {_short(n.value)}")
    d = g.derivative(n)
    if d is not None:
        out.append(f"{derivative_label(g, n.name)} = {_short(d)}")
    return out


def layered_svg(g, shorten=lambda s: s) -> str:
    """The graph laid out in layers by longest path from an input (no Graphviz needed)."""
    by = {n.name: n for n in g.nodes}
    layer: dict[str, int] = {}
    for n in g.nodes:                      # nodes come in tape order: arguments first
        layer[n.name] = 1 + max((layer[a] for a in n.args if a in layer), default=-1)
    rows: dict[int, list[str]] = {}
    for nm, k in layer.items():
        rows.setdefault(k, []).append(nm)
    labels = {nm: [shorten(t) for t in node_lines(g, by[nm])] for nm in layer}
    size = {nm: (max(len(t) for t in ls) * CHAR_W + 2 * PAD, len(ls) * LINE_H + PAD)
            for nm, ls in labels.items()}
    row_w = {k: sum(size[nm][0] for nm in names) + GAP_X * (len(names) - 1) for k, names in rows.items()}
    row_h = {k: max(size[nm][1] for nm in names) for k, names in rows.items()}
    width = max(row_w.values(), default=0) + 2 * GAP_X
    height = sum(row_h.values()) + GAP_Y * (len(rows) + 1)
    pos, y = {}, height - GAP_Y
    for k in sorted(rows):
        y -= row_h[k]
        x = (width - row_w[k]) / 2
        for nm in rows[k]:
            w, h = size[nm]
            pos[nm] = (x, y + (row_h[k] - h) / 2, w, h)
            x += w + GAP_X
        y -= GAP_Y
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
             f'viewBox="0 0 {width:.0f} {height:.0f}" role="img" aria-label="computational graph">',
             '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" '
             'orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker></defs>']
    for n in g.nodes:
        for a in dict.fromkeys(n.args):
            if a in pos:
                (x1, y1, w1, _), (x2, y2, w2, h2) = pos[a], pos[n.name]
                parts.append(f'<line x1="{x1 + w1 / 2:.0f}" y1="{y1:.0f}" x2="{x2 + w2 / 2:.0f}" '
                             f'y2="{y2 + h2:.0f}" stroke="#555" marker-end="url(#arrow)"/>')
    for nm, (x, y, w, h) in pos.items():
        n = by[nm]
        rx = 6 if n.kind != "intermediate" else 14
        stroke = "#a0307a" if nm == g.output else "#07698a"
        dash = ' stroke-dasharray="4 3"' if n.kind == "constant" else ""
        parts.append(f'<rect x="{x:.0f}" y="{y:.0f}" width="{w:.0f}" height="{h:.0f}" rx="{rx}" fill="#fff" '
                     f'stroke="{stroke}" stroke-width="{2 if nm == g.output else 1}"{dash}/>')
        for k, t in enumerate(labels[nm]):
            fill = "#222" if k == 0 else "#1a7f37" if k == 2 else "#555"
            parts.append(f'<text x="{x + w / 2:.0f}" y="{y + PAD / 2 + (k + 0.75) * LINE_H:.0f}" '
                         f'text-anchor="middle" fill="{fill}">{escape(t)}</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def graph_svg(g, shorten=lambda s: s, graphviz: bool = True) -> str:
    """Graphviz's SVG of the DOT where Graphviz is installed (and the graph is small
    enough to lay out at once), else :func:`layered_svg`."""
    if graphviz and len(g.nodes) <= GRAPHVIZ_NODES:
        from calccli.commands.graphviz import GraphvizError, libraries, render
        if libraries() is not None:
            from calccli.render.graph import dot_text
            try:
                svg = render(shorten(dot_text(g)), "svg").decode("utf-8")
                return svg[svg.index("<svg"):]
            except (GraphvizError, ValueError, UnicodeDecodeError):
                pass
    return layered_svg(g, shorten)
