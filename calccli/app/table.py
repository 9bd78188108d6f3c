"""The one command table: every command's options, defined once.

The Typer CLI (:mod:`calccli.app.cli`) and the REPL (:mod:`calccli.app.session`)
are both built from :data:`COMMANDS`, so an option reads, checks, bounds and
fails the same way in ``calc diff x^2 --order 2`` and ``diff x^2 order 2``.
"""
from __future__ import annotations

from dataclasses import dataclass

from calccli.errors import UsageError
from calccli.render import FORMATS

# Kinds of value. The converted value is what the command's builder in
# calccli.app.wiring receives.
TEXT = "text"        # one string
POINT = "point"      # repeatable name=value list (x=1,y=2); the REPL lets values use bound names
LIST = "list"        # repeatable text, taken as it is (--shape x=vector)
SCALAR = "scalar"    # one number written as an expression (pi/4); the REPL lets it use bound names
FLAG = "flag"        # no value: True when given
WHOLE = "whole"      # an int within [lo, hi]
NUMBER = "number"    # a float within [lo, hi]
CHOICE = "choice"    # one of ``choices``

MAX_ORDER = 100      # = engine.taylor.MAX_ORDER (a test checks it): derivatives up to this order
MAX_STEPS = 1_000_000
MAX_EPOCHS = 1_000_000
MAX_WIDTH = 1_000    # plot columns
MAX_HEIGHT = 500     # plot lines


@dataclass(frozen=True)
class Opt:
    """One option: ``--name`` on the command line, ``name`` (or ``--name``) in the REPL."""
    name: str                          # the long name without dashes: "batch-size", "from"
    kind: str = TEXT
    help: str = ""
    default: object = None
    short: str | None = None           # "-m"
    dest: str | None = None            # the builder's keyword (default: name with - → _)
    choices: tuple[str, ...] = ()
    lo: float | None = None
    hi: float | None = None
    why: str = ""                      # why ``hi`` is the limit (shown when it is exceeded)
    required: bool = False
    what: str = ""                     # for a CHOICE: the word in "unknown mode 'x'" (default: name)
    bad: str = ""                      # message for a value that is not a number, is below lo, or not a choice
    over: str = ""                     # message for a value above hi ({flag} {got} {lo} {hi} {range})

    @property
    def key(self) -> str:              # the dest of the option, the REPL's keyword with _ for -
        return self.dest or self.name.replace("-", "_")

    @property
    def flag(self) -> str:
        return "--" + self.name

    @property
    def repeatable(self) -> bool:
        return self.kind in (POINT, LIST)

    def help_text(self) -> str:
        if self.kind in (WHOLE, NUMBER) and (self.lo is not None or self.hi is not None):
            return f"{self.help.rstrip('.')} {self._range()}."
        return self.help

    def _range(self) -> str:
        if self.hi is None:
            return f"(at least {_show(self.lo)})"
        if self.lo is None:
            return f"(at most {_show(self.hi)})"
        return f"(from {_show(self.lo)} to {_show(self.hi)})"

    def convert(self, value):
        """The option's value from its text (or an already converted value); a UsageError if bad."""
        if value is None or self.kind in (TEXT, SCALAR, POINT, LIST, FLAG):
            return value
        if self.kind == CHOICE:
            if value not in self.choices:
                words = ", ".join(self.choices[:-1]) + " or " + self.choices[-1]
                raise UsageError((self.bad or "unknown {what} '{got}': use {words}").format(
                    what=self.what or self.name, got=value, words=words, choices=", ".join(self.choices)))
            return value
        text = str(value).strip()
        n = _whole(value) if self.kind == WHOLE else _finite(value)
        fill = dict(flag=self.flag, lo=_show(self.lo), hi=_show(self.hi), range=self._in())
        if n is None:
            what = "a whole number" if self.kind == WHOLE else "a number"
            raise UsageError((self.bad or "{flag} must be %s{range}, got {got}" % what)
                             .format(got=repr(_clip(text)), **fill))
        if self.lo is not None and n < self.lo:
            raise UsageError((self.bad or "{flag} must be at least {lo}, got {got}").format(got=_show(n), **fill))
        if self.hi is not None and n > self.hi:
            why = f" ({self.why})" if self.why else ""
            raise UsageError((self.over or "{flag} {got} is more than calc allows: at most {hi}%s" % why)
                             .format(got=_show(n), **fill))
        return n

    def _in(self) -> str:
        return "" if self.lo is None and self.hi is None else " " + self._range()


def _clip(text: str) -> str:
    return text if len(text) <= 40 else text[:30] + f"… ({len(text)} characters)"


def _show(n) -> str:
    if n is None:
        return ""
    if isinstance(n, int) and not isinstance(n, bool):
        digits = str(abs(n))
        return str(n) if len(digits) <= 24 else f"{str(n)[:12]}… ({len(digits)} digits)"
    from calccli.numfmt import fmt_number
    return fmt_number(float(n))


def _whole(value) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    text = str(value).strip().replace("_", " ")     # 1_000 is not a number here (Python's digit separators)
    try:
        return int(text)
    except ValueError:
        pass
    f = _finite(text)                               # 1e6 is a whole number
    if f is not None and f.is_integer():
        return int(f)
    return None


def _finite(value) -> float | None:
    try:
        f = float(str(value).strip().replace("_", " ")) if not isinstance(value, (int, float)) else float(value)
    except (ValueError, OverflowError):
        return None
    return f                                        # nan and inf are left to the command's own checks


@dataclass(frozen=True)
class Command:
    name: str
    builder: str                       # the function in calccli.app.wiring: keyword arguments = option keys
    help: str                          # first line: what it does; then an example
    options: tuple[Opt, ...]
    arg: str = "EXPR"                  # the positional argument's name in the help
    arg_help: str = "The expression, or '-' to read one expression a line from stdin."
    own_format: bool = False           # the builder takes ``format`` and returns (compute, output format)

    def option(self, key: str) -> Opt | None:
        for o in self.options:
            if o.key == key or o.name == key:
                return o
        return None


# ---- shared options ----------------------------------------------------------------

AT = Opt("at", POINT, "The point: 1.0, x=1,y=2, x=[1,2]. Repeatable.")
LET = Opt("let", POINT, "Constants, not differentiated: A=[[1,2],[3,4]]. Repeatable.")
WRT = Opt("wrt", TEXT, "Variables of differentiation, in order, e.g. x,y.")
SHAPE = Opt("shape", LIST, "Shapes of symbolic names: x=vector,A=matrix (scalar, vector, matrix, symmetric). "
                           "Repeatable.")
SYMBOLIC_STEPS = Opt("steps", FLAG, "Show the derivation (symbolic, without --at).")
FORMAT = Opt("format", CHOICE, "rich | plain | json | latex | html (default: rich on a terminal, plain when piped).",
             short="-f", choices=FORMATS)
DIGITS = Opt("digits", WHOLE, "Round the numbers shown to N significant digits (JSON keeps every digit)",
             lo=1, hi=17)
STANDALONE = Opt("standalone", FLAG, "LaTeX: a whole document that pdflatex compiles.")
COLORS = ("auto", "always", "never")
COLOR = Opt("color", CHOICE, "auto | always | never. auto: colour on a terminal, none if NO_COLOR is set, "
                             "colour anyway if FORCE_COLOR is; always also makes rich the default format.",
            choices=COLORS, what="color mode")
OUTPUT = ("format", "digits", "standalone", "color")     # options of the output, not of the computation


def _mode(*choices: str, default: str) -> Opt:
    return Opt("mode", CHOICE, " | ".join(choices), default=default, short="-m", choices=choices)


# ---- the table ------------------------------------------------------------------------
# To add an option to a command: add an Opt(...) to its tuple below and a keyword
# parameter of the same name (Opt.key: the name with - as _) to its builder in
# calccli/app/wiring.py. Both the CLI (--name VALUE) and the REPL (name VALUE)
# then accept it, with the same checks, bounds and messages. A new command is
# one Command(...) here and one builder in wiring.py.

COMMANDS: dict[str, Command] = {c.name: c for c in (
    Command("eval", "eval_compute", 'The value of EXPR.\n\nExample: calc eval "x^2 + 1" --at x=3',
            (AT, LET, FORMAT, DIGITS, STANDALONE, COLOR)),
    Command("diff", "diff_compute",
            "Derivative of EXPR: at a point (--at) with the intermediate variables and the chain-rule "
            "steps; without --at, the simplified symbolic derivative.\n\n"
            'Example: calc diff "sqrt(x^2+exp(x^2))+cos(x^2+exp(x^2))" --at 1.0',
            (AT, LET, WRT, _mode("forward", "reverse", default="reverse"),
             Opt("order", WHOLE, "Order of the derivative", default=1, short="-n", lo=1, hi=MAX_ORDER,
                 bad="{flag} must be a whole number ≥ 1, got {got}",
                 over="{flag} {got} is too high: calc computes derivatives up to order {hi}"),
             Opt("steps", FLAG, "Show each differentiation rule applied."), FORMAT, DIGITS, STANDALONE, COLOR)),
    Command("grad", "grad_compute",
            "Gradient of a scalar EXPR (reverse mode); symbolic without --at, in matrix form for vectors "
            'and matrices.\n\nExample: calc grad "x^2 y + sin(x y)" --at x=1,y=2 ; calc grad "x^T A x" --wrt x',
            (AT, LET, WRT, Opt("steps", FLAG, "Show the trace and the adjoints."), SHAPE, FORMAT, DIGITS, STANDALONE, COLOR)),
    Command("jacobian", "jacobian_compute",
            "Jacobian of a vector function [f1, f2, …] or a vector-valued expression; symbolic without --at.\n\n"
            'Example: calc jacobian "[x y, x + y, sin(x)]" --at x=1,y=2',
            (AT, LET, WRT, _mode("auto", "forward", "reverse", default="auto"), SHAPE, SYMBOLIC_STEPS, FORMAT, DIGITS, STANDALONE, COLOR)),
    Command("hessian", "hessian_compute",
            "Hessian (forward-over-reverse AD), its eigenvalues and the kind of point; symbolic without --at."
            '\n\nExample: calc hessian "(1-x)^2 + 100(y-x^2)^2" --at x=1,y=1',
            (AT, LET, WRT, SHAPE, SYMBOLIC_STEPS, FORMAT, DIGITS, STANDALONE, COLOR)),
    Command("check", "check_compute",
            "Forward, reverse and symbolic derivatives against central differences; exit 1 on "
            'disagreement.\n\nExample: calc check "x^x" --at 1.5',
            (AT, LET, WRT, Opt("tol", NUMBER, "Relative tolerance.", default=1e-6), FORMAT, DIGITS, STANDALONE, COLOR)),
    Command("graph", "graph_compute",
            "The computational graph, shared nodes drawn once (a tree, or Graphviz DOT); "
            "with --at each node's value and adjoint ∂f/∂node.\n\n"
            'Example: calc graph "sqrt(x^2+exp(x^2))+cos(x^2+exp(x^2))" --at 1 --format dot | dot -Tsvg > g.svg',
            (AT, LET, WRT,
             Opt("mode", CHOICE, "With --at: reverse (adjoints ∂f/∂node) | forward (tangents ∂node/∂x)",
                 default="reverse", short="-m", choices=("reverse", "forward")),
             Opt("output", TEXT, "Render the picture to FILE.svg, .png or .pdf (Graphviz).", short="-o"),
             Opt("format", CHOICE, "tree | dot | json | plain", default="tree", short="-f",
                      choices=("tree", "dot", "json", "plain", "rich", "html"), what="graph format"), DIGITS, COLOR),
            own_format=True),
    Command("plot", "plot_compute",
            'f and its derivatives drawn in the terminal.\n\nExample: calc plot "sin(x) exp(-x^2/4)" --from -4 --to 4',
            (Opt("from", SCALAR, "Left end of the interval.", dest="lo", required=True),
             Opt("to", SCALAR, "Right end of the interval.", dest="hi", required=True),
             Opt("order", WHOLE, "Plot derivatives up to this order", default=1, short="-n", lo=0, hi=10,
                 bad="{flag} must be between {lo} and {hi}, got {got}",
                 over="{flag} must be between {lo} and {hi}, got {got}"),
             Opt("at", SCALAR, "Draw the tangent line at this x."), LET, WRT,
             Opt("width", WHOLE, "Plot width in characters, 0: the terminal's", default=0, lo=0,
                 hi=MAX_WIDTH, why="a terminal plot wider than this cannot be read"),
             Opt("height", WHOLE, "Plot height in lines, 0: automatic", default=0, lo=0, hi=MAX_HEIGHT,
                 why="a terminal plot taller than this cannot be read"), FORMAT, DIGITS, STANDALONE, COLOR)),
    Command("minimize", "minimize_compute",
            "Minimize EXPR from a starting point; exit 1 if it does not converge.\n\n"
            'Example: calc minimize "(1-x)^2 + 100(y-x^2)^2" --from x=-1.2,y=1',
            (Opt("from", POINT, "Starting point: x=-1.2,y=1.", dest="start"), LET, WRT,
             Opt("method", CHOICE, "auto (trust-region Newton/BFGS) | gd | momentum | adam | newton | bfgs | trust",
                 default="auto", choices=("auto", "gd", "momentum", "adam", "newton", "bfgs", "trust"),
                 bad="unknown method '{got}': use one of {choices}"),
             Opt("lr", NUMBER, "Learning rate (gd, momentum, adam)."),
             Opt("steps", WHOLE, "Maximum number of iterations", lo=1, hi=MAX_STEPS,
                 why="more iterations take minutes; a method that needs them is the wrong one: "
                     "try --method auto"),
             Opt("tol", NUMBER, "Stop when the gradient norm is below this.", default=1e-8),
             Opt("trace", FLAG, "Show every iteration."), FORMAT, DIGITS, STANDALONE, COLOR)),
    Command("fit", "fit_compute",
            "Fit MODEL's parameters to data by gradient descent.\n\n"
            'Example: calc fit "w*x + b" --data examples/line.csv --target y --mode minibatch --batch-size 16',
            (Opt("data", TEXT, "CSV file with a header row.", required=True),
             Opt("target", TEXT, "The column to predict.", required=True),
             Opt("mode", CHOICE, "batch | online | minibatch", default="batch",
                 choices=("batch", "online", "minibatch")),
             Opt("batch-size", WHOLE, "Mini-batch size.", default=16, lo=1),
             Opt("order", CHOICE, "fixed | shuffle | sample", default="fixed",
                 choices=("fixed", "shuffle", "sample")),
             Opt("epochs", WHOLE, "Passes over the data", default=100, lo=1, hi=MAX_EPOCHS,
                 why="more passes take hours; raise --lr or use --mode minibatch"),
             Opt("lr", NUMBER, "Learning rate.", default=0.05),
             Opt("seed", WHOLE, "Random seed (shuffle, sample)."),
             Opt("init", POINT, "Starting values: w=0,b=0."),
             Opt("loss", TEXT, "Per-sample loss; may use yhat and the target."),
             Opt("compare", FLAG, "Run batch, online and mini-batch and compare."),
             Opt("features", TEXT, "A vector from columns: x=col1,col2,…"), FORMAT, DIGITS, STANDALONE, COLOR),
            arg="MODEL", arg_help='The model, e.g. "w*x + b".'),
)}


def build(name: str, values: dict, example: str | None = None):
    """``(compute, output format)`` for command ``name`` with converted option ``values``
    (keyed by Opt.key; missing ones take their defaults). Raises a UsageError, which
    shows ``example`` (default: the CLI example) when a required option is missing."""
    from calccli.app import wiring
    cmd = COMMANDS[name]
    kwargs = {}
    for o in cmd.options:
        v = values.get(o.key, o.default)
        if o.required and (v is None or v == []):
            raise UsageError(f"{name} needs {o.flag}: {example or _cli_example(cmd)}")
        if o.key not in OUTPUT or (cmd.own_format and o.key == "format"):
            kwargs[o.key] = v
    compute = getattr(wiring, cmd.builder)(**kwargs)
    if cmd.own_format:
        return compute
    return compute, values.get("format")


def _cli_example(cmd: Command) -> str:
    line = cmd.help.rsplit("Example: ", 1)[-1]
    return line.split(" | ")[0]
