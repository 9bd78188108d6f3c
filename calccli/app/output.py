"""Writing results and errors: formats, colours, exit statuses, batch mode.

The CLI and the REPL both go through here, so every command prints, fails
and batches the same way.
"""
from __future__ import annotations

import os
import sys
from typing import Callable

from calccli.errors import CalcError

from calccli.render import FORMATS


def default_format() -> str:
    """rich on a terminal (or when colour is forced), plain when piped."""
    from calccli.app.streams import is_terminal
    return "rich" if is_terminal(sys.stdout) or colored(sys.stdout) else "plain"


def check_format(fmt: str | None) -> str:
    fmt = fmt or default_format()
    if fmt not in FORMATS:
        from calccli.errors import UsageError
        raise UsageError(f"unknown format '{fmt}': use one of {', '.join(FORMATS)}")
    return fmt


DISPLAY = {"digits": None, "standalone": False}   # --digits N, --standalone (set by configure)
COLOR = {"mode": None, "default": None}            # --color of this command; of the session (calc --color, :color)


def configure(digits: int | None = None, standalone: bool = False, color: str | None = None) -> None:
    """The display options of what is written next (the CLI's run and the REPL's show)."""
    DISPLAY.update(digits=digits, standalone=bool(standalone))
    COLOR["mode"] = color


def colored(stream) -> bool:
    """Colour on ``stream``? --color always|never decides; with auto, NO_COLOR (non-empty)
    turns it off, FORCE_COLOR (non-empty) on, and otherwise a terminal has it."""
    from calccli.app.streams import is_terminal
    mode = COLOR["mode"] or COLOR["default"] or "auto"
    if mode != "auto":
        return mode == "always"
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return is_terminal(stream)


def _console(stderr: bool = False):
    from rich.console import Console
    from calccli.app.streams import is_terminal
    stream = sys.stderr if stderr else sys.stdout
    terminal = is_terminal(stream)
    if colored(stream):
        kw = dict(force_terminal=True)
    else:                  # no escape codes at all (rich's no_color alone still writes bold)
        kw = dict(force_terminal=terminal, no_color=True, color_system=None)
    kw.update(stderr=stderr, highlight=False)
    c = Console(**kw)
    if c.color_system is None and "color_system" not in kw and not terminal:
        kw["color_system"] = "standard"   # colour asked for (always, FORCE_COLOR) with TERM unset or dumb
        c = Console(**kw)
    if c.width < 20:  # COLUMNS=0 (or a tiny window) would print nothing, or one character a line
        c = Console(width=80, **kw)
    return c


def render(result, fmt: str) -> str | None:
    """The text for ``result`` in ``fmt`` (None for rich, which prints itself)."""
    from calccli.render import render_text
    return render_text(result, fmt, console=_console() if fmt == "rich" else None, **DISPLAY)


def emit(result, fmt: str) -> int:
    """Write ``result``; a failure while rendering is reported like any error.

    Returns the exit status (the result's, or the error's)."""
    try:
        text = guarded(lambda: render(result, fmt))
    except CalcError as e:
        return report_error(e, fmt)
    if text is not None:
        write(text, json_mode=fmt == "json")
    return getattr(result, "exit_code", 0)


def _json_escape(m, enc: str) -> str:
    ch = m.group()
    o = ord(ch)
    if not 0xD800 <= o <= 0xDFFF:  # lone surrogates (undecodable input bytes) are never valid UTF-8
        try:
            ch.encode(enc)
            return ch
        except (UnicodeEncodeError, LookupError):
            pass
    if o > 0xFFFF:
        o -= 0x10000
        return "\\u%04x\\u%04x" % (0xD800 + (o >> 10), 0xDC00 + (o & 0x3FF))
    return "\\u%04x" % o


def write(text: str, json_mode: bool = False, stream=None) -> None:
    """Write to stdout whatever its encoding: never a UnicodeEncodeError.

    In JSON mode characters the stream cannot encode (and lone surrogates, which
    stand for undecodable input bytes) become \\u escapes, so the output stays
    strict JSON in valid UTF-8; otherwise they are backslash-escaped."""
    stream = stream or sys.stdout
    enc = getattr(stream, "encoding", None) or "utf-8"
    if json_mode and not text.isascii():
        from calccli.render.json import line_safe
        text = line_safe(text)
        try:  # the common case: the stream encodes it all (no lone surrogate): nothing to escape
            text.encode(enc)
        except (UnicodeEncodeError, LookupError):
            import re
            text = re.sub(r"[^\x00-\x7f]", lambda m: _json_escape(m, enc), text)
    try:
        stream.write(text)
    except UnicodeEncodeError:
        stream.write(text.encode(enc, "backslashreplace").decode(enc, "replace"))


def error_text(err: CalcError) -> str:
    lines = [f"error: {err.message}"] + err.caret_lines()
    if err.hint:
        lines.append(f"hint: {err.hint}")
    return "\n".join(lines)


def report_error(err: CalcError, fmt: str | None) -> int:
    """Show ``err`` (caret message on stderr; JSON object on stdout in json mode)."""
    if fmt == "json":
        import json
        write(json.dumps(err.to_json(), ensure_ascii=False) + "\n", json_mode=True)
    if colored(sys.stderr):
        from rich.text import Text
        c = _console(stderr=True)
        text = error_text(err).split("\n")
        c.print(Text(text[0], style="bold red"))
        for line in text[1:]:
            c.print(Text(line, style="red" if line.strip().startswith("^") else ""))
    else:
        write(error_text(err) + "\n", stream=sys.stderr)
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
    from calccli.render.views import to_summary
    return "\t".join(v for _, v in to_summary(result))


def _clip(text: str, n: int = 200) -> str:
    return text if len(text) <= n else text[:n] + f"… ({len(text):,} characters)"


def stdin_lines():
    """(line number, text) for each line of standard input.

    Bytes that do not decode are kept as surrogates, so the parser points at
    them instead of the read failing. A line longer than calc accepts is not
    held in memory: it is skipped as it is read and comes back as a ParseError.
    """
    from calccli.app.streams import read_fault
    try:
        yield from _stdin_lines()
    except OSError as e:           # unreadable (a directory, EIO): calc's I/O failure, status 74
        raise read_fault(e) from None


def _stdin_lines():
    from calccli.language.parse import MAX_INPUT
    from calccli.errors import ParseError
    if sys.stdin is None:          # closed (<&-)
        from calccli.app.streams import read_fault
        raise read_fault()
    buf = getattr(sys.stdin, "buffer", None)
    if buf is None:  # a text stream without bytes underneath (tests, embedding)
        for lineno, line in enumerate(sys.stdin, 1):
            yield lineno, line.removeprefix("\ufeff") if lineno == 1 else line
        return
    enc = getattr(sys.stdin, "encoding", None) or "utf-8"
    limit = 4 * MAX_INPUT + 2  # bytes: a character is at most 4 bytes in UTF-8
    lineno = 0
    while True:
        raw = buf.readline(limit)
        if not raw:
            return
        lineno += 1
        if lineno == 1 and raw.startswith(b"\xef\xbb\xbf"):   # a UTF-8 signature (Notepad's BOM), not text
            raw = raw[3:]
        if len(raw) >= limit and not raw.endswith(b"\n"):
            total = len(raw)
            while True:
                more = buf.readline(1 << 20)
                total += len(more)
                if not more or more.endswith(b"\n"):
                    break
            yield lineno, ParseError(f"the line is {total:,} bytes long; calc accepts at most "
                                     f"{MAX_INPUT:,} characters")
            continue
        try:
            yield lineno, raw.decode(enc, "surrogateescape")
        except (LookupError, UnicodeError):
            yield lineno, raw.decode("utf-8", "surrogateescape")


def run(expr: str, compute: Callable[[str], object], fmt: str | None, digits: int | None = None,
        standalone: bool = False, color: str | None = None) -> int:
    """Compute and print one expression, or every line of stdin when ``expr`` is '-'."""
    configure(digits, standalone, color)
    try:
        fmt = check_format(fmt)
    except CalcError as e:
        return report_error(e, "plain")
    if expr != "-":
        try:
            result = guarded(lambda: compute(expr))
        except CalcError as e:
            return report_error(e, fmt)
        return emit(result, fmt)
    status = 0
    flush = answers_awaited()
    for lineno, line in stdin_lines():
        if not isinstance(line, CalcError):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
        try:
            if isinstance(line, CalcError):
                raise line
            result = guarded(lambda: compute(line))
            if fmt == "json":
                text = guarded(lambda: render(result, "json"))
            elif fmt == "latex":
                text = guarded(lambda: render(result, "latex"))
            else:
                text = guarded(lambda: summary_line(result) + "\n")
        except CalcError as e:
            status = max(status, e.exit_code)
            if fmt == "json":
                import json
                obj = e.to_json()
                obj["error"]["line"] = lineno
                obj["error"]["input"] = _clip(line) if isinstance(line, str) else None
                write(json.dumps(obj, ensure_ascii=False) + "\n", json_mode=True)
            else:
                write(f"error\t{e.message}\n")
            sys.stdout.flush()   # the answers so far go out before the message (2>&1 keeps the order)
            write(f"line {lineno}: " + error_text(e) + "\n", stream=sys.stderr)
            continue
        write(text, json_mode=fmt == "json")
        status = max(status, getattr(result, "exit_code", 0))
        if flush:
            sys.stdout.flush()
    return status


def answers_awaited() -> bool:
    """Does someone wait for each batch answer before sending the next line? Yes when
    stdin is a pipe or a terminal (a coprocess, a person): every answer is flushed as
    it is made. From a regular file (``< lines.txt``) the whole input is there
    already, and the answers go out as the buffer fills (as grep and awk do), which
    saves a write call per line."""
    import stat
    try:
        return not stat.S_ISREG(os.fstat(sys.stdin.fileno()).st_mode)
    except (AttributeError, OSError, ValueError):   # no descriptor (tests, embedding): flush
        return True
