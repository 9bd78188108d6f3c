"""Shell arguments before the option parser sees them, and its errors after.

An argument that begins with '-' is an option only when it is one of the
command's option names (``--at``, ``-m``, ``--at=1``) or looks like a long option
(``--att``, reported as a mistyped one); anything else (``-x^2``, ``-sin(x)``,
``-m x``) is the expression. ``--`` makes the next argument the expression.
"""
from __future__ import annotations

import difflib
import re

from calccli.errors import CalcError, UsageError

_LONG = re.compile(r"--[A-Za-z][A-Za-z0-9-]*")


def option_arity(command, ctx) -> dict[str, bool]:
    """Every option string of a click command → whether it takes a value."""
    arity = {}
    for p in command.get_params(ctx):
        if getattr(p, "param_type_name", "") != "option":
            continue
        takes = not (getattr(p, "is_flag", False) or getattr(p, "count", False))
        for s in list(p.opts) + list(p.secondary_opts):
            arity[s] = takes
    return arity


def long_options(command, ctx) -> list[str]:
    return sorted(s for s in option_arity(command, ctx) if s.startswith("--"))


def _is_option(arg: str, arity: dict[str, bool]) -> bool:
    return arg.split("=", 1)[0] in arity if arg.startswith("--") else arg in arity


def expression_args(args: list[str], arity: dict[str, bool]) -> list[str]:
    """``args`` with the options first and the positional arguments after a ``--``."""
    options, positional = [], []
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--":                              # the escape: the next argument is EXPR
            positional.extend(args[i + 1:i + 2])
            i += 2
            continue
        if a.startswith("-") and a != "-" and (_is_option(a, arity) or _LONG.fullmatch(a.split("=", 1)[0])):
            options.append(a)
            if arity.get(a, False):                 # its value, whatever it looks like
                if i + 1 == len(args):
                    raise UsageError(f"{a} needs a value")
                options.append(args[i + 1])
                i += 1
        else:
            positional.append(a)
        i += 1
    return options + (["--"] + positional if positional else [])


def command_args(args: list[str], commands: list[str], arity: dict[str, bool]) -> list[str]:
    """``calc EXPR …`` → ``calc eval EXPR …`` (command names and calc's own options first)."""
    first = args[0]
    if first in commands or _is_option(first, arity):
        return args
    if re.fullmatch(r"[A-Za-z]+", first):
        close = difflib.get_close_matches(first, commands, n=2, cutoff=0.75)
        if close:
            raise UsageError(f"no such command '{first}'; did you mean {' or '.join(close)}?",
                             hint="calc --help lists the commands; calc EXPR evaluates an expression")
    return ["eval", *args]


def format_in(args) -> str:
    """'json' when the arguments ask for JSON output (so a usage error is a JSON object too)."""
    args = list(args or [])
    for i, a in enumerate(args):
        if a in ("--format", "-f") and i + 1 < len(args) and args[i + 1] == "json":
            return "json"
        if a == "--format=json":
            return "json"
        if a == "--":
            break
    return "plain"


def usage_error(e, command: str, options: list[str]) -> CalcError:
    """The option parser's error ``e`` (or a CalcError) in calc's words."""
    if isinstance(e, CalcError):
        return e
    kind = type(e).__name__
    name = getattr(e, "option_name", None)
    if kind == "NoSuchOption" and name:
        close = difflib.get_close_matches(name, options, n=2, cutoff=0.7)
        message = f"no such option {name}" + (f"; did you mean {' or '.join(close)}?" if close else "")
        return UsageError(message, hint=f"calc {command} --help lists the options")
    if kind == "MissingParameter":
        from calccli.app.table import COMMANDS
        cmd = COMMANDS.get(command)
        what = cmd.arg if cmd else "an argument"
        example = cmd.help.rsplit("Example: ", 1)[-1] if cmd else ""
        return UsageError(f"{command} needs {what}" + (f": {example}" if example else ""))
    if kind == "BadParameter":
        return UsageError(e.message)
    if kind == "BadOptionUsage" and name and "requires an argument" in e.message:
        return UsageError(f"{name} needs a value")
    text = e.format_message() if hasattr(e, "format_message") else str(e)
    text = text.rstrip(".")
    m = re.match(r"Got unexpected extra arguments?(?:\(s\))? \((.*)\)", text)
    if m:
        return UsageError(f"unexpected argument '{m.group(1)}'",
                          hint='an expression with spaces is one argument: quote it, calc eval "x y"')
    return UsageError(text[:1].lower() + text[1:])
