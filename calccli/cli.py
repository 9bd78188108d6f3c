"""The command line: thin Typer wiring over the library.

Each command parses its options, hands a ``compute(text)`` function to
:func:`calccli.output.run` (which does formats, errors and batch mode) and exits
with the status it returns.
"""
from __future__ import annotations

import sys
from typing import List, Optional

import typer

from . import __version__
from .output import run

app = typer.Typer(
    add_completion=True, no_args_is_help=False, rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
    help="calc: derivatives, gradients, Jacobians, Hessians and gradient descent, "
         "shown step by step.",
)

# An EXPR may begin with '-' ("-x^2"): unknown options are kept as arguments.
CMD = {"context_settings": {"ignore_unknown_options": True}}

EXPR = typer.Argument(..., help="The expression, or '-' to read one expression a line from stdin.",
                      show_default=False)
AT = typer.Option(None, "--at", help="The point: 1.0, x=1,y=2, x=[1,2]. Repeatable.")
LET = typer.Option(None, "--let", help="Constants, not differentiated: A=[[1,2],[3,4]]. Repeatable.")
WRT = typer.Option(None, "--wrt", help="Variables of differentiation, e.g. x,y.")
FMT = typer.Option(None, "--format", "-f", help="rich | plain | json | latex (default: rich on a terminal, plain when piped).")


def _exit(code: int):
    raise typer.Exit(code)


def _version(value: bool):
    if value:
        print(f"calc {__version__}")
        raise typer.Exit(0)


@app.callback(invoke_without_command=True)
def _root(ctx: typer.Context,
          version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                       help="Show the version and exit.")):
    if ctx.invoked_subcommand is None:
        from .repl_entry import start_repl
        _exit(start_repl())


@app.command("eval", **CMD)
def eval_cmd(expr: str = EXPR, at: Optional[List[str]] = AT, let: Optional[List[str]] = LET,
             format: Optional[str] = FMT):
    """The value of EXPR.   Example: calc eval "x^2 + 1" --at x=3"""
    from .derivatives import eval_expr
    _exit(run(expr, lambda t: eval_expr(t, at, let), format))


@app.command("diff", **CMD)
def diff_cmd(expr: str = EXPR, at: Optional[List[str]] = AT, let: Optional[List[str]] = LET,
             wrt: Optional[str] = WRT,
             mode: str = typer.Option("reverse", "--mode", "-m", help="forward | reverse"),
             order: int = typer.Option(1, "--order", "-n", help="Order of the derivative."),
             steps: bool = typer.Option(False, "--steps", help="Show the rules applied (symbolic)."),
             format: Optional[str] = FMT):
    """Derivative of EXPR: at a point (--at) with the intermediate variables and the
    chain-rule steps, or symbolically without --at.

    Example: calc diff "sqrt(x^2+exp(x^2))+cos(x^2+exp(x^2))" --at 1.0"""
    from .commands import diff_compute
    _exit(run(expr, diff_compute(at, let, wrt, mode, order, steps), format))


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    try:
        app(args=args, prog_name="calc", standalone_mode=True)
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 2)
        sys.stdout.flush()
        raise SystemExit(code)
