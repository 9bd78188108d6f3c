"""The REPL: ``calc`` with no arguments, and ``calc repl``.

On a terminal it is an interactive session built on prompt_toolkit (imported
here, only on that path): persistent history in the user's state directory,
tab completion, syntax highlighting, Ctrl-C cancels the line, Ctrl-D or
``:quit`` leaves. With standard input not a terminal it runs the statements it
reads as a script and prints only their results (``calc repl < session.calc``);
the exit status is that of the first failing statement, or 0.

The statements themselves are executed by :class:`calccli.session.Session`;
this module only reads lines and writes outcomes.
"""
from __future__ import annotations

import os
import re
import sys

from calccli.app.session import COMMANDS, KEYWORDS, META, SPECS, Outcome, Session, value_lines
from calccli.render import FORMATS

PROMPT = "calc> "


# ---- writing outcomes ------------------------------------------------------------

def show(outcome: Outcome, session: Session, *, interactive: bool, default_fmt: str,
         lineno: int | None = None) -> int:
    """Write one statement's outcome (results on stdout, errors on stderr); its exit status."""
    from calccli.app import output
    shown = outcome.display
    digits = shown.get("digits", session.digits)
    output.configure(digits, shown.get("standalone", False), shown.get("color", session.color))
    if default_fmt == "plain" and output.colored(sys.stdout):
        default_fmt = "rich"             # colour asked for: the rich format, as in the CLI
    fmt = outcome.fmt or session.fmt or default_fmt
    if outcome.error is not None:
        if interactive:
            output.report_error(outcome.error, fmt)
        else:
            if fmt == "json":
                import json
                obj = outcome.error.to_json()
                if lineno is not None:
                    obj["error"]["line"] = lineno
                output.write(json.dumps(obj, ensure_ascii=False) + "\n", json_mode=True)
            sys.stdout.flush()
            where = f"line {lineno}: " if lineno is not None else ""
            output.write(where + output.error_text(outcome.error) + "\n", stream=sys.stderr)
            sys.stderr.flush()
        return outcome.status
    for shown in (outcome.text, outcome.note if interactive else None):
        if not shown:
            continue
        if fmt == "json":                # every line of a JSON stream is JSON
            import json
            output.write(json.dumps(outcome.data if outcome.data is not None else {"text": shown},
                                    ensure_ascii=False) + "\n", json_mode=True)
        else:
            output.write(shown + "\n")
    status = outcome.status
    if outcome.result is not None:
        if outcome.value and fmt in ("rich", "plain"):
            text = "\n".join(value_lines(outcome.result.value))
            if digits:
                from calccli.render import round_numbers
                text = round_numbers(text, digits)
            output.write(text + "\n")
        else:
            rc = output.emit(outcome.result, fmt)
            status = rc if isinstance(rc, int) else status
    sys.stdout.flush()
    return status


def run_script(lines, session: Session | None = None, default_fmt: str = "plain") -> int:
    """Execute ``lines`` (strings; a CalcError stands for a line that could not be read);
    the status of the first failing statement, or 0."""
    from calccli.errors import CalcError
    session = session or Session()
    status = 0
    for lineno, line in enumerate(lines, 1):
        outcome = Outcome(error=line) if isinstance(line, CalcError) else session.execute(line)
        rc = show(outcome, session, interactive=False, default_fmt=default_fmt, lineno=lineno)
        if rc and not status:
            status = rc
        if outcome.quit:
            break
    return status


def start_repl() -> int:
    from calccli.app.streams import is_terminal
    if is_terminal(sys.stdin) and is_terminal(sys.stdout):
        return interactive()
    from calccli.app.output import stdin_lines   # bytes that do not decode become parse errors
    return run_script(line for _, line in stdin_lines())


# ---- the interactive session ----------------------------------------------------

def history_path() -> str:
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return os.path.join(base, "calc", "history")


def _history():
    from prompt_toolkit.history import FileHistory, InMemoryHistory
    path = history_path()
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "a", encoding="utf-8"):
            pass
        return FileHistory(path)
    except OSError:
        return InMemoryHistory()


def interactive() -> int:
    from prompt_toolkit import PromptSession
    from prompt_toolkit.styles import Style

    from calccli import __version__
    session = Session()
    prompt = PromptSession(history=_history(), completer=_completer(session), lexer=_lexer(session),
                           style=Style.from_dict(STYLE), complete_while_typing=False,
                           enable_history_search=True)
    print(f"calc {__version__} — :help lists the statements, Ctrl-D leaves")
    while True:
        try:
            line = prompt.prompt(PROMPT)
        except KeyboardInterrupt:        # Ctrl-C: cancel the line
            continue
        except EOFError:                 # Ctrl-D
            break
        try:
            outcome = session.execute(line)
            show(outcome, session, interactive=True, default_fmt="rich")
        except KeyboardInterrupt:
            sys.stderr.write("interrupted\n")
            continue
        if outcome.quit:
            break
    return 0


# ---- completion and highlighting ----------------------------------------------------

def _function_names() -> list[str]:
    from calccli.engine.primitives import function_names
    return function_names()


def completions(line: str, session: Session) -> list[str]:
    """Words that complete the word before the end of ``line``."""
    m = re.search(r"(:?[\w-]*)$", line)
    word = m.group(1)
    before = line[:m.start()]
    if not before.strip():
        pool = list(META) + list(COMMANDS) + session.names() + _function_names()
    else:
        first = before.split()[0]
        if first == ":mode":
            pool = ["forward", "reverse", "auto"]
        elif first == ":format":
            pool = list(FORMATS)
        elif first == ":color":
            pool = ["auto", "always", "never"]
        elif first == ":del":
            pool = session.names()
        else:
            pool = session.names() + _function_names() + ["pi", "e"]
            if first in SPECS:
                pool += [k.replace("_", "-") for k in SPECS[first]]
    if not word:
        return []
    return sorted({p for p in pool if p.startswith(word) and p != word})


def _completer(session: Session):
    from prompt_toolkit.completion import Completer, Completion

    class CalcCompleter(Completer):
        def get_completions(self, document, complete_event):
            text = document.text_before_cursor
            word = re.search(r"(:?[\w-]*)$", text).group(1)
            for c in completions(text, session):
                yield Completion(c, start_position=-len(word))
    return CalcCompleter()


STYLE = {
    "number": "#00afaf",
    "function": "#5f87ff",
    "user": "#af87ff bold",
    "command": "bold #ffaf00",
    "keyword": "#ffaf00",
    "constant": "#00afaf italic",
    "operator": "#d7d7d7",
    "comment": "#808080 italic",
}

_TOKEN = re.compile(
    r"(?P<comment>#.*)"
    r"|(?P<meta>:\w+)"
    r"|(?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)"
    r"|(?P<name>--[A-Za-z][\w-]*|(?!\d)\w+'*)"
    r"|(?P<operator>\*\*|[-+*/^=,()\[\]])"
    r"|(?P<space>\s+)"
    r"|(?P<other>.)")


def tokens(line: str, session: Session) -> list[tuple[str, str]]:
    """(class, text) pieces covering ``line``, for highlighting. Class '' is plain."""
    out: list[tuple[str, str]] = []
    funcs = set(_function_names())
    first = line.split()[0] if line.split() else ""
    spec = SPECS.get(first, {})
    for k, m in enumerate(_TOKEN.finditer(line)):
        kind, text = m.lastgroup, m.group()
        cls = ""
        if kind in ("comment", "number", "operator"):
            cls = kind
        elif kind == "meta":
            cls = "command" if m.start() == len(line) - len(line.lstrip()) else ""
        elif kind == "name":
            bare = text.lstrip("-").rstrip("'")
            if text == first and m.start() == len(line) - len(line.lstrip()) and first in SPECS:
                cls = "command"
            elif bare.replace("-", "_") in spec and (text.startswith("--") or bare in KEYWORDS):
                cls = "keyword"
            elif bare in session.functions or bare in session.bindings:
                cls = "user"
            elif bare in funcs:
                cls = "function"
            elif bare in ("pi", "π", "e"):
                cls = "constant"
        out.append((cls, text))
    return out


def _lexer(session: Session):
    from prompt_toolkit.lexers import Lexer

    class CalcLexer(Lexer):
        def lex_document(self, document):
            lines = document.lines

            def line_tokens(i):
                return [(f"class:{c}" if c else "", t) for c, t in tokens(lines[i], session)]
            return line_tokens
    return CalcLexer()


__all__ = ["start_repl", "run_script", "interactive", "show", "completions", "tokens", "history_path"]
