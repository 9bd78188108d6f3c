"""The command line: thin Typer wiring over the library.

Each command turns its options into a ``compute(text)`` function (see
:mod:`calccli.commands`) and hands it to :func:`calccli.output.run`, which does
formats, errors, batch mode and the exit status.
"""
from __future__ import annotations

import sys
from typing import List, Optional

import typer

from calccli import __version__
from calccli.app import wiring as C
from calccli.app.output import run

app = typer.Typer(
    add_completion=True, rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
    help="calc: derivatives, gradients, Jacobians, Hessians and gradient descent, shown step by step. "
         "Run plain `calc` for the interactive REPL.",
)

# An EXPR may begin with '-' ("-x^2"): unknown options are kept as arguments.
CMD = {"context_settings": {"ignore_unknown_options": True}}

EXPR = typer.Argument(..., help="The expression, or '-' to read one expression a line from stdin.",
                      show_default=False)
AT = typer.Option(None, "--at", help="The point: 1.0, x=1,y=2, x=[1,2]. Repeatable.")
LET = typer.Option(None, "--let", help="Constants, not differentiated: A=[[1,2],[3,4]]. Repeatable.")
WRT = typer.Option(None, "--wrt", help="Variables of differentiation, in order, e.g. x,y.")
SHAPE = typer.Option(None, "--shape", help="Shapes of symbolic names: x=vector,A=matrix (scalar, vector, "
                                            "matrix, symmetric). Repeatable.")
STEPS = typer.Option(False, "--steps", help="Show the derivation (symbolic, without --at).")
FMT = typer.Option(None, "--format", "-f",
                   help="rich | plain | json | latex | html (default: rich on a terminal, plain when piped).")
DIGITS = typer.Option(None, "--digits", min=1, max=17,
                      help="Round the numbers shown to N significant digits (JSON keeps every digit).")
STANDALONE = typer.Option(False, "--standalone", help="LaTeX: a whole document that pdflatex compiles.")


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
        from calccli.app.repl import start_repl
        _exit(start_repl())


@app.command("eval", **CMD)
def eval_cmd(expr: str = EXPR, at: Optional[List[str]] = AT, let: Optional[List[str]] = LET,
             format: Optional[str] = FMT,
             digits: Optional[int] = DIGITS, standalone: bool = STANDALONE):
    """The value of EXPR.

    Example: calc eval "x^2 + 1" --at x=3"""
    _exit(run(expr, C.eval_compute(at, let), format, digits, standalone))


@app.command("diff", **CMD)
def diff_cmd(expr: str = EXPR, at: Optional[List[str]] = AT, let: Optional[List[str]] = LET,
             wrt: Optional[str] = WRT,
             mode: str = typer.Option("reverse", "--mode", "-m", help="forward | reverse"),
             order: str = typer.Option("1", "--order", "-n", help="Order of the derivative (1-10+)."),
             steps: bool = typer.Option(False, "--steps", help="Show each differentiation rule applied."),
             format: Optional[str] = FMT,
             digits: Optional[int] = DIGITS, standalone: bool = STANDALONE):
    """Derivative of EXPR: at a point (--at) with the intermediate variables and the
    chain-rule steps; without --at, the simplified symbolic derivative.

    Example: calc diff "sqrt(x^2+exp(x^2))+cos(x^2+exp(x^2))" --at 1.0"""
    _exit(run(expr, C.diff_compute(at, let, wrt, mode, order, steps), format, digits, standalone))


@app.command("grad", **CMD)
def grad_cmd(expr: str = EXPR, at: Optional[List[str]] = AT, let: Optional[List[str]] = LET,
             wrt: Optional[str] = WRT,
             steps: bool = typer.Option(False, "--steps", help="Show the trace and the adjoints."),
             shape: Optional[List[str]] = SHAPE, format: Optional[str] = FMT,
             digits: Optional[int] = DIGITS, standalone: bool = STANDALONE):
    """Gradient of a scalar EXPR (reverse mode); symbolic without --at, in matrix form
    for vectors and matrices.

    Example: calc grad "x^2 y + sin(x y)" --at x=1,y=2 ; calc grad "x^T A x" --wrt x"""
    _exit(run(expr, C.grad_compute(at, let, wrt, steps, shape), format, digits, standalone))


@app.command("jacobian", **CMD)
def jacobian_cmd(expr: str = EXPR, at: Optional[List[str]] = AT, let: Optional[List[str]] = LET,
                 wrt: Optional[str] = WRT,
                 mode: str = typer.Option("auto", "--mode", "-m", help="auto | forward | reverse"),
                 shape: Optional[List[str]] = SHAPE, steps: bool = STEPS, format: Optional[str] = FMT,
             digits: Optional[int] = DIGITS, standalone: bool = STANDALONE):
    """Jacobian of a vector function [f1, f2, …] or a vector-valued expression; symbolic without --at.

    Example: calc jacobian "[x y, x + y, sin(x)]" --at x=1,y=2"""
    _exit(run(expr, C.jacobian_compute(at, let, wrt, mode, shape, steps), format, digits, standalone))


@app.command("hessian", **CMD)
def hessian_cmd(expr: str = EXPR, at: Optional[List[str]] = AT, let: Optional[List[str]] = LET,
                wrt: Optional[str] = WRT, shape: Optional[List[str]] = SHAPE, steps: bool = STEPS,
                format: Optional[str] = FMT,
             digits: Optional[int] = DIGITS, standalone: bool = STANDALONE):
    """Hessian (forward-over-reverse AD), its eigenvalues and the kind of point; symbolic without --at.

    Example: calc hessian "(1-x)^2 + 100(y-x^2)^2" --at x=1,y=1"""
    _exit(run(expr, C.hessian_compute(at, let, wrt, shape, steps), format, digits, standalone))


@app.command("check", **CMD)
def check_cmd(expr: str = EXPR, at: Optional[List[str]] = AT, let: Optional[List[str]] = LET,
              wrt: Optional[str] = WRT,
              tol: float = typer.Option(1e-6, "--tol", help="Relative tolerance."),
              format: Optional[str] = FMT,
             digits: Optional[int] = DIGITS, standalone: bool = STANDALONE):
    """Forward, reverse and symbolic derivatives against central differences; exit 1 on disagreement.

    Example: calc check "x^x" --at 1.5"""
    _exit(run(expr, C.check_compute(at, let, wrt, tol), format, digits, standalone))


@app.command("graph", **CMD)
def graph_cmd(expr: str = EXPR, at: Optional[List[str]] = AT, let: Optional[List[str]] = LET,
              wrt: Optional[str] = WRT,
              mode: str = typer.Option("reverse", "--mode", "-m",
                                       help="With --at: reverse (adjoints ∂f/∂node) | forward (tangents ∂node/∂x)"),
              output: Optional[str] = typer.Option(None, "--output", "-o",
                                                   help="Render the picture to FILE.svg, .png or .pdf (Graphviz)."),
              format: str = typer.Option("tree", "--format", "-f", help="tree | dot | json | plain | html"),):
    """The computational graph, shared nodes drawn once (a tree, or Graphviz DOT);
    with --at each node's value and adjoint ∂f/∂node.

    Example: calc graph "sqrt(x^2+exp(x^2))+cos(x^2+exp(x^2))" --at 1 --format dot | dot -Tsvg > g.svg"""
    _exit(run(expr, *C.graph_compute(let, format, at, wrt, mode, output)))


@app.command("plot", **CMD)
def plot_cmd(expr: str = EXPR,
             lo: str = typer.Option(..., "--from", help="Left end of the interval."),
             hi: str = typer.Option(..., "--to", help="Right end of the interval."),
             order: int = typer.Option(1, "--order", "-n", help="Plot derivatives up to this order."),
             at: Optional[str] = typer.Option(None, "--at", help="Draw the tangent line at this x."),
             let: Optional[List[str]] = LET, wrt: Optional[str] = WRT,
             width: int = typer.Option(0, "--width", help="Plot width in characters (0: terminal)."),
             height: int = typer.Option(0, "--height", help="Plot height in lines (0: automatic)."),
             format: Optional[str] = FMT,
             digits: Optional[int] = DIGITS, standalone: bool = STANDALONE):
    """f and its derivatives drawn in the terminal.

    Example: calc plot "sin(x) exp(-x^2/4)" --from -4 --to 4"""
    _exit(run(expr, C.plot_compute(lo, hi, order, at, let, wrt, width, height), format, digits, standalone))


@app.command("minimize", **CMD)
def minimize_cmd(expr: str = EXPR,
                 start: Optional[List[str]] = typer.Option(None, "--from", help="Starting point: x=-1.2,y=1."),
                 let: Optional[List[str]] = LET, wrt: Optional[str] = WRT,
                 method: str = typer.Option("auto", "--method",
                                            help="auto (trust-region Newton/BFGS) | gd | momentum | adam | newton | bfgs | trust"),
                 lr: Optional[float] = typer.Option(None, "--lr", help="Learning rate (gd, momentum, adam)."),
                 steps: Optional[int] = typer.Option(None, "--steps", help="Maximum number of iterations."),
                 tol: float = typer.Option(1e-8, "--tol", help="Stop when the gradient norm is below this."),
                 trace: bool = typer.Option(False, "--trace", help="Show every iteration."),
                 format: Optional[str] = FMT,
             digits: Optional[int] = DIGITS, standalone: bool = STANDALONE):
    """Minimize EXPR from a starting point; exit 1 if it does not converge.

    Example: calc minimize "(1-x)^2 + 100(y-x^2)^2" --from x=-1.2,y=1"""
    _exit(run(expr, C.minimize_compute(start, let, wrt, method, lr, steps, tol, trace), format, digits,
              standalone))


@app.command("fit", **CMD)
def fit_cmd(model: str = typer.Argument(..., help="The model, e.g. \"w*x + b\".", show_default=False),
            data: str = typer.Option(..., "--data", help="CSV file with a header row."),
            target: str = typer.Option(..., "--target", help="The column to predict."),
            mode: str = typer.Option("batch", "--mode", help="batch | online | minibatch"),
            batch_size: int = typer.Option(16, "--batch-size", help="Mini-batch size."),
            order: str = typer.Option("fixed", "--order", help="fixed | shuffle | sample"),
            epochs: int = typer.Option(100, "--epochs", help="Passes over the data."),
            lr: float = typer.Option(0.05, "--lr", help="Learning rate."),
            seed: Optional[int] = typer.Option(None, "--seed", help="Random seed (shuffle, sample)."),
            init: Optional[List[str]] = typer.Option(None, "--init", help="Starting values: w=0,b=0."),
            loss: Optional[str] = typer.Option(None, "--loss", help="Per-sample loss; may use yhat and the target."),
            compare: bool = typer.Option(False, "--compare", help="Run batch, online and mini-batch and compare."),
            format: Optional[str] = FMT,
             digits: Optional[int] = DIGITS, standalone: bool = STANDALONE):
    """Fit MODEL's parameters to data by gradient descent.

    Example: calc fit "w*x + b" --data examples/line.csv --target y --mode minibatch --batch-size 16"""
    _exit(run(model, C.fit_compute(data, target, mode, batch_size, order, epochs, lr, seed, init,
                                   loss, compare), format, digits, standalone))


@app.command("repl")
def repl_cmd():
    """Interactive session: f(x) = …, f'(1), diff … at x=1, :help.

    Example: calc repl < session.calc"""
    from calccli.app.repl import start_repl
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
    if "--" in args:  # `calc diff -- -x^2 --at 1`: EXPR may start with '-' anyway (see CMD)
        args.remove("--")
    try:
        app(args=args, prog_name="calc", standalone_mode=True)
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        raise SystemExit(130)
