"""The command line: Typer commands built from the one command table.

Every command and option is defined once, in :mod:`calccli.app.table` (the REPL
reads the same table). Each command turns its options into a ``compute(text)``
function (:mod:`calccli.app.wiring`) and hands it to :func:`calccli.app.output.run`,
which does formats, errors, batch mode and the exit status. This module adds
what a shell user expects: an EXPR may begin with '-', ``calc 2+2`` evaluates,
and the option parser's own errors read like calc's (JSON in JSON mode).
"""
from __future__ import annotations

import inspect
import os
import sys
from typing import List, Optional

import typer
from typer.core import TyperCommand, TyperGroup

try:                                   # typer ≥ 0.2x vendors click
    from typer import _click as click
except ImportError:                    # pragma: no cover - older typer uses click itself
    import click

from calccli import __version__
from calccli.app import args as A
from calccli.app.table import CHOICE, COMMANDS, FLAG, NUMBER, POINT, WHOLE, Command, Opt, build
from calccli.errors import CalcError, UsageError


class CalcCommand(TyperCommand):
    """A command whose EXPR may begin with '-' and whose usage errors are calc's own."""

    def parse_args(self, ctx, args):
        if ctx.resilient_parsing:       # shell completion: parse as click does
            return super().parse_args(ctx, args)
        try:
            args = A.expression_args(args, A.option_arity(self, ctx))
            return super().parse_args(ctx, list(args))      # (the parser consumes its list)
        except (click.exceptions.UsageError, CalcError) as e:
            _fail(A.usage_error(e, self.name, A.long_options(self, ctx)), args)

    def collect_usage_pieces(self, ctx):
        """``calc diff [OPTIONS] EXPR`` (Typer writes a required argument as {EXPR})."""
        return [p[1:-1] if p.startswith("{") and p.endswith("}") else p
                for p in super().collect_usage_pieces(ctx)]


class CalcGroup(TyperGroup):
    """``calc``: a command, or a bare expression (``calc 2+2`` is ``calc eval 2+2``)."""

    def parse_args(self, ctx, args):
        if args and not ctx.resilient_parsing:
            try:
                args = A.command_args(args, list(self.commands), A.option_arity(self, ctx))
            except CalcError as e:
                _fail(e, args)
        return super().parse_args(ctx, args)


def _fail(err: CalcError, args) -> None:
    from calccli.app.output import report_error
    report_error(err, A.format_in(args))
    raise typer.Exit(err.exit_code)


_APP = dict(
    cls=CalcGroup, add_completion=True, rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
    help="calc: derivatives, gradients, Jacobians, Hessians and gradient descent, shown step by step. "
         "Run plain `calc` for the interactive REPL; `calc EXPR` evaluates EXPR.",
)
app = typer.Typer(**_APP)


def _exit(code: int):
    raise typer.Exit(code)


def _version(value: bool):
    if value:
        print(f"calc {__version__}")
        raise typer.Exit(0)


class _Checked(click.types.ParamType):
    """An option's conversion and checks, from its table entry."""

    def __init__(self, opt: Opt):
        self.opt = opt
        self.name = opt.kind

    def convert(self, value, param, ctx):
        try:
            return self.opt.convert(value)
        except UsageError as e:
            self.fail(e.message, param, ctx)

    def shell_complete(self, ctx, param, incomplete):
        try:
            from typer._click.shell_completion import CompletionItem
        except ImportError:            # pragma: no cover - older typer
            from click.shell_completion import CompletionItem
        return [CompletionItem(c) for c in self.opt.choices if c.startswith(incomplete)]


def _color_option():
    from calccli.app.table import COLOR
    return typer.Option(None, COLOR.flag, help=COLOR.help + " For every command (and the REPL).",
                        click_type=_Checked(COLOR), metavar="[" + "|".join(COLOR.choices) + "]")


def _session_color(color: str | None) -> None:
    from calccli.app.output import COLOR
    COLOR["default"] = color


@app.callback(invoke_without_command=True)
def _root(ctx: typer.Context,
          version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                       help="Show the version and exit."),
          color: Optional[str] = _color_option()):
    _session_color(color)
    if ctx.invoked_subcommand is None:
        from calccli.app.repl import start_repl
        _exit(start_repl())


# ---- commands from the table --------------------------------------------------------

_METAVAR = {POINT: "POINT", WHOLE: "N", NUMBER: "X", CHOICE: None}


def _parameter(o: Opt) -> inspect.Parameter:
    flags = [o.flag] + ([o.short] if o.short else [])
    if o.kind == FLAG:
        default, annotation = typer.Option(False, *flags, help=o.help), bool
    elif o.repeatable:
        default = typer.Option(None, *flags, help=o.help, metavar="POINT" if o.kind == POINT else o.name.upper())
        annotation = Optional[List[str]]
    elif o.kind in (WHOLE, NUMBER, CHOICE):
        metavar = _METAVAR[o.kind] or ("[" + "|".join(o.choices) + "]")
        default = typer.Option(o.default, *flags, help=o.help_text(), click_type=_Checked(o),
                               metavar=metavar, show_default=o.default is not None)
        annotation = Optional[str]
    else:
        default = typer.Option(None, *flags, help=o.help, metavar=o.name.upper())
        annotation = Optional[str]
    return inspect.Parameter(o.key, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation)


def _register(cmd: Command) -> None:
    def command(**values):
        _exit(run_command(cmd.name, values.pop("expr"), values))
    expr = typer.Argument(..., metavar=cmd.arg, help=cmd.arg_help, show_default=False)
    command.__signature__ = inspect.Signature(
        [inspect.Parameter("expr", inspect.Parameter.KEYWORD_ONLY, default=expr, annotation=str)]
        + [_parameter(o) for o in cmd.options])
    command.__name__ = f"{cmd.name}_cmd"
    command.__doc__ = cmd.help
    app.command(cmd.name, cls=CalcCommand)(command)


def run_command(name: str, expr: str, values: dict) -> int:
    """Run command ``name`` on ``expr`` with converted option values; the exit status."""
    from calccli.app.output import report_error, run
    try:
        compute, fmt = build(name, values)
    except CalcError as e:
        return report_error(e, "json" if values.get("format") == "json" else "plain")
    return run(expr, compute, fmt, values.get("digits"), bool(values.get("standalone")), values.get("color"))


for _cmd in COMMANDS.values():
    _register(_cmd)


@app.command("repl", cls=CalcCommand)
def repl_cmd(color: Optional[str] = _color_option()):
    """Interactive session: f(x) = …, f'(1), diff … at x=1, :help.

    Example: calc repl < session.calc"""
    from calccli.app.repl import start_repl
    if color is not None:
        _session_color(color)
    _exit(start_repl())


def main(argv: list[str] | None = None) -> None:
    # Expression nodes, tapes and values form no reference cycles (refcounting
    # frees them), but building a large tape allocates hundreds of thousands
    # of tuples, and the cyclic collector's default thresholds (700, 10, 10)
    # then rescan the growing heap again and again: 15–20 % of a 100,000-node
    # parse + gradient. Collect less often; cyclic garbage is still collected.
    import gc
    gc.set_threshold(50_000, 20, 100)
    args = list(sys.argv[1:] if argv is None else argv)
    from calccli.app.streams import guarded_streams
    with guarded_streams():            # closed, full or broken stdin/stdout: status 74 or SIGPIPE
        try:
            _app_for(args)(args=args, prog_name="calc", standalone_mode=True)
        except KeyboardInterrupt:
            sys.stderr.write("interrupted\n")
            raise SystemExit(130)


def _app_for(args: list[str]) -> typer.Typer:
    """``app``, or for ``calc COMMAND …`` the same app with that command alone: Typer
    makes a Click command of every command it has at each start (about 4 ms), and
    only the one named is run. Help, completion and anything else get them all."""
    name = args[0] if args else None
    if name not in COMMANDS or any(a in ("-h", "--help") for a in args) or \
            any(k.startswith("_CALC_COMPLETE") for k in os.environ):
        return app
    one = typer.Typer(**_APP)
    one.registered_callback = app.registered_callback
    one.registered_commands = [c for c in app.registered_commands if c.name == name]
    return one
