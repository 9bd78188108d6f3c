"""Writing results and errors: formats, colours, exit statuses, batch mode.

The CLI and the REPL both go through here, so every command prints, fails
and batches the same way.
"""
from __future__ import annotations

import os
import sys
from typing import Callable

from .errors import CalcError

FORMATS = ("rich", "plain", "json", "latex")


def default_format() -> str:
    return "rich" if sys.stdout.isatty() else "plain"


def check_format(fmt: str | None) -> str:
    fmt = fmt or default_format()
    if fmt not in FORMATS:
        from .errors import UsageError
        raise UsageError(f"unknown format '{fmt}': use one of {', '.join(FORMATS)}")
    return fmt


def _console(stderr: bool = False):
    from rich.console import Console
    # NO_COLOR: no escape codes at all (rich's no_color alone still writes bold)
    no_color = bool(os.environ.get("NO_COLOR"))
    return Console(stderr=stderr, highlight=False, no_color=no_color or None,
                   **({"color_system": None} if no_color else {}))


def render(result, fmt: str) -> str | None:
    """The text for ``result`` in ``fmt`` (None for rich, which prints itself)."""
    if fmt == "json":
        from .render.json import dumps
        return dumps(result) + "\n"
    if fmt == "latex":
        from .render.latex import to_latex
        return to_latex(result)
    from .render.views import to_doc
    doc = to_doc(result)
    if fmt == "plain":
        from .render.plain import render as plain
        return plain(doc)
    from .render.rich import render as rich
    rich(doc, _console())
    return None


def emit(result, fmt: str) -> None:
    text = render(result, fmt)
    if text is not None:
        sys.stdout.write(text)


def error_text(err: CalcError) -> str:
    lines = [f"error: {err.message}"] + err.caret_lines()
    if err.hint:
        lines.append(f"hint: {err.hint}")
    return "\n".join(lines)


def report_error(err: CalcError, fmt: str | None) -> int:
    """Show ``err`` (caret message on stderr; JSON object on stdout in json mode)."""
    if fmt == "json":
        import json
        sys.stdout.write(json.dumps(err.to_json(), ensure_ascii=False) + "\n")
    if sys.stderr.isatty() and not os.environ.get("NO_COLOR"):
        from rich.text import Text
        c = _console(stderr=True)
        text = error_text(err).split("\n")
        c.print(Text(text[0], style="bold red"))
        for line in text[1:]:
            c.print(Text(line, style="red" if line.strip().startswith("^") else ""))
    else:
        sys.stderr.write(error_text(err) + "\n")
    return err.exit_code


def internal_error(exc: BaseException) -> CalcError:
    """An unexpected exception, reported without a traceback (a bug in calc)."""
    e = CalcError(f"internal error ({type(exc).__name__}: {exc}); please report this input")
    e.kind, e.exit_code = "internal", 1
    return e


def guarded(compute: Callable[[], object]):
    """Run ``compute``; any failure becomes a CalcError."""
    try:
        return compute()
    except CalcError:
        raise
    except RecursionError:
        raise CalcError("the expression is nested too deeply") from None
    except MemoryError:
        raise CalcError("the expression is too large for the available memory") from None
    except Exception as exc:  # noqa: BLE001 - never show a traceback
        raise internal_error(exc) from None


def summary_line(result) -> str:
    """One line per result for batch mode in plain format: the summary values, tab-separated."""
    from .render.views import to_doc
    doc = to_doc(result)
    return "\t".join(v for _, v in doc.summary) if doc.summary else ""


def run(expr: str, compute: Callable[[str], object], fmt: str | None) -> int:
    """Compute and print one expression, or every line of stdin when ``expr`` is '-'."""
    try:
        fmt = check_format(fmt)
    except CalcError as e:
        return report_error(e, "plain")
    if expr != "-":
        try:
            result = guarded(lambda: compute(expr))
        except CalcError as e:
            return report_error(e, fmt)
        emit(result, fmt)
        return getattr(result, "exit_code", 0)
    status = 0
    for lineno, line in enumerate(sys.stdin, 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        try:
            result = guarded(lambda: compute(line))
        except CalcError as e:
            status = max(status, e.exit_code)
            if fmt == "json":
                import json
                obj = e.to_json()
                obj["error"]["line"] = lineno
                obj["error"]["input"] = line
                sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")
            else:
                sys.stdout.write(f"error\t{e.message}\n")
            sys.stderr.write(f"line {lineno}: " + error_text(e) + "\n")
            continue
        if fmt == "json":
            emit(result, "json")
        elif fmt == "latex":
            emit(result, "latex")
        else:
            sys.stdout.write(summary_line(result) + "\n")
        status = max(status, getattr(result, "exit_code", 0))
        sys.stdout.flush()
    return status
