"""Results → HTML (``--format html``): one self-contained page, nothing fetched.

Every formula is MathML (render/mathml.py) made from the very LaTeX that
``--format latex`` writes, so the page and the handout say the same thing; the
browser draws it (no script, no font, no network). A derivation (diff, grad
--steps) shows the intermediate-variable table and the chain-rule steps as
tables of formulas; ``calc graph`` adds the computational graph as inline SVG
(render/graph_svg.py). :func:`fragment` is the page's body (notebooks).
"""
from __future__ import annotations

from functools import singledispatch
from html import escape

from calccli.render import load_renderers

PAGE_CSS = """body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2em auto;
       max-width: 62em; padding: 0 1em; color: #222; }"""
CSS = """
.calc math { font-family: "Latin Modern Math", "STIX Two Math", "Cambria Math", math; font-size: 1.15em; }
.calc h1 { font-size: 1.15em; font-weight: normal; margin: 0.5em 0 1em; }
.calc h2 { font-size: 1em; color: #07698a; margin-top: 1.6em; }
.calc table { border-collapse: collapse; }
.calc th, .calc td { padding: 0.3em 0.8em; text-align: left; border-bottom: 1px solid #ddd; }
.calc th { border-bottom: 2px solid #999; font-weight: 600; }
.calc table.steps td { border: none; padding: 0.25em 0.2em; }
.calc table.steps td.lhs { text-align: right; }
.calc table.steps .note { color: #666; font-style: italic; margin-left: 2em; white-space: nowrap; }
.calc .formula { margin: 0.9em 0; overflow-x: auto; }
.calc .summary { margin-top: 1.5em; padding: 0.4em 0.8em; border-left: 4px solid #1a7f37; background: #f3faf4; }
.calc pre { font-family: ui-monospace, Menlo, Consolas, monospace; background: #f6f8fa; padding: 0.6em;
            overflow-x: auto; }
.calc .picture { overflow-x: auto; }
.calc .picture svg text { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 12px; }
"""


class Page:
    """How the page writes numbers: ``digits`` rounds what is shown (like every format)."""

    def __init__(self, digits: int | None = None):
        self.digits = digits

    def tex(self, tex: str) -> str:
        if self.digits:
            from calccli.render import round_numbers
            tex = round_numbers(tex, self.digits, latex=True)
        return tex

    def math(self, tex: str, display: bool = False) -> str:
        from calccli.render.mathml import mathml
        return mathml(self.tex(tex), display)

    def text_raw(self, s: str) -> str:
        if self.digits:
            from calccli.render import round_numbers
            s = round_numbers(s, self.digits)
        return s

    def text(self, s: str) -> str:
        return escape(self.text_raw(s))

    def formula(self, tex: str, cls: str = "formula") -> str:
        return f'<div class="{cls}">{self.math(tex, display=True)}</div>'


@singledispatch
def to_html(result, page: Page) -> str:
    """The body of a result's page; one ``@to_html.register`` per result type that
    shows more than its formulas (render/<command>.py); the rest show their LaTeX."""
    if load_renderers(type(result)):
        return to_html(result, page)
    return formulas_html(result, page)


def paragraphs(result) -> list[str]:
    from calccli.render.latex import to_latex
    return [p.strip() for p in to_latex(result).split("\n\n") if p.strip()]


def table_html(columns: list[str], rows: list[list[str]], cls: str = "") -> str:
    """A table whose cells are HTML already (formulas or escaped text)."""
    head = "".join(f"<th>{escape(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows)
    c = f' class="{cls}"' if cls else ""
    return f"<table{c}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def doc_parts(result, page: Page, tables: tuple[str, ...], pictures: bool) -> list[str]:
    """The view's text tables named ``tables`` (data the formulas leave out: iterations,
    epochs) and, with ``pictures``, its drawings (a plot, a loss curve) as they are."""
    from calccli.render.doc import Block, Table
    from calccli.render.views import to_doc
    out = []
    for b in to_doc(result).blocks:
        if isinstance(b, Table) and tables and b.title.startswith(tables):
            out.append(f"<h2>{page.text(b.title)}</h2>")
            out.append(table_html(b.columns, [[page.text(c) for c in r] for r in b.rows]))
        elif isinstance(b, Block) and pictures and not b.title:
            out.append("<pre>" + "\n".join(page.text(line) for line in b.lines) + "</pre>")
    return out


def formulas_html(result, page: Page, tables: tuple[str, ...] = (), pictures: bool = False) -> str:
    """The LaTeX output's formulas, the first as the heading, then the view's ``tables``
    (and its ``pictures``)."""
    paras = paragraphs(result)
    out = [f"<h1>{page.math(paras[0], display=True)}</h1>"] if paras else []
    out += [page.formula(p) for p in paras[1:]]
    return "\n".join(out + doc_parts(result, page, tables, pictures))


def derivation_html(result, page: Page, trace, steps, title_tex: str | None = None) -> str:
    """The notes' board: the title formula, the intermediate-variable table (formulas in
    its cells), the chain-rule steps aligned on '=' with their notes, then the results."""
    from calccli.render.doc import Lines, Table
    from calccli.render.latex import step_rows, trace_cells
    from calccli.render.views import to_doc
    doc = to_doc(result)
    table = next((b for b in doc.blocks if isinstance(b, Table)), None)
    lines = next((b for b in doc.blocks if isinstance(b, Lines)), None)
    paras = paragraphs(result)
    # the LaTeX's aligned paragraphs, in order: the table, then the steps (if any)
    aligned = [k for k, p in enumerate(paras) if p.startswith("\\begin{aligned}")]
    k_trace = aligned[0] if aligned else -1
    k_steps = aligned[1] if steps and len(aligned) > 1 else -1
    out = [f"<h1>{page.math(title_tex, display=True)}</h1>"] if title_tex else []
    for k, p in enumerate(paras):
        if k == k_trace:
            out.append(f"<h2>{page.text(table.title if table else 'Intermediate variables')}</h2>")
            rows = [[page.math(c) if c else "" for c in row] for row in trace_cells(trace)]
            cols = table.columns if table else ["var", "definition", "value", "local derivative"]
            out.append(table_html(cols, rows, "trace"))
        elif k == k_steps:
            out.append(f"<h2>{page.text(lines.title if lines else 'Chain rule')}</h2>")
            rows = "".join(f'<tr><td class="lhs">{page.math(lhs) if lhs else ""}</td><td>{page.math(rhs)}'
                           + (f' <span class="note">({page.text(note)})</span>' if note else "") + "</td></tr>"
                           for lhs, rhs, note in step_rows(steps))
            out.append(f'<table class="steps"><tbody>{rows}</tbody></table>')
        elif k == 0 and not title_tex:
            out.append(f"<h1>{page.math(p, display=True)}</h1>")
        else:
            out.append(page.formula(p, "formula summary" if k == len(paras) - 1 else "formula"))
    return "\n".join(out)


def fragment(result, digits: int | None = None) -> str:
    """The result as an HTML fragment (a <div>), for notebooks and pages."""
    from calccli.render.views import to_doc
    doc = to_doc(result)
    page = Page(digits)
    if doc.raw is not None and not doc.blocks:   # a message (graph --output wrote a file)
        body = f"<pre>{page.text(doc.raw)}</pre>"
    else:
        body = to_html(result, page)
    return f'<div class="calc">\n<style>{CSS}</style>\n{body}\n</div>\n'


def page(result, digits: int | None = None) -> str:
    """A whole self-contained page: inline CSS, no script, no network."""
    from calccli.render.views import to_doc
    title = to_doc(result).title or "calc"
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            f"<title>{escape(title)}</title>\n<style>{PAGE_CSS}</style>\n</head>\n<body>\n"
            f"{fragment(result, digits)}</body>\n</html>\n")
