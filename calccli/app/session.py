"""REPL state and statement execution, as a library (no I/O).

A :class:`Session` holds the bindings (``A = [[2,1],[1,3]]``), the user-defined
functions (``f(x) = x^2 sin(x)``) and the defaults set by ``:mode`` and
``:format``. :meth:`Session.execute` runs one statement and returns an
:class:`Outcome` (a result object to render, a text, or an error); printing is
the caller's business (:mod:`calccli.repl`).

How statements reach the engine:

- A call of a user function is expanded by substitution into the expression
  DAG while parsing (``parse(text, functions=…)``): ``f(2y)`` becomes the body
  of ``f`` with ``2y`` in place of its parameter. Function bodies are expanded
  when they are defined, so a function may call earlier functions and never
  itself.
- ``f'``, ``f''`` … of a one-variable function are functions too: their
  bodies are the symbolic derivatives of :mod:`calccli.symbolic` (so
  ``g(x) = f'(x)`` works). ``f'(1)`` alone is computed exactly as
  ``calc diff BODY --at 1 [--order N]`` computes it.
- Commands (``diff EXPR at x=1``) read their options from the CLI's command
  table (:mod:`calccli.app.table`: the same names, checks, bounds and
  messages) and go through the same ``*_compute`` builders
  (:mod:`calccli.app.wiring`), so they compute and render the same.
  An expression that used a user function is handed over as its expansion,
  printed in calc's syntax; bound names are handed over as ``--let`` constants.
- A bound name is a constant everywhere except where the statement names it as
  a variable (``at``, ``from``, ``wrt``).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from calccli.app.table import COMMANDS as TABLE, FLAG, POINT, SCALAR, build
from calccli.engine import expr
from calccli.errors import CalcError, ParseError, UsageError
from calccli.engine.expr import Node
from calccli.numfmt import fmt_number
from calccli.render import FORMATS

PRIME = "\u02b9"        # ʹ: f' is parsed as the name fʹ (same length, so carets stay put)
_NAME = r"(?!\d)\w+"
_DEF_FUNC = re.compile(rf"\s*({_NAME})\s*\(([^()]*)\)\s*=(?!=)")
_DEF_NAME = re.compile(rf"\s*({_NAME})\s*=(?!=)")
_PRIME_CALL = re.compile(rf"\s*({_NAME})('+)\s*\(")
_PARAM = re.compile(rf"\s*({_NAME})\s*$")
_KEYWORD = re.compile(r"(--)?([A-Za-z][A-Za-z_-]*)(?=\s|=|$)")

MODES = ("forward", "reverse")


def _keyword(opt) -> str:
    """The REPL's key for an option: its name with _ for - ("from", "batch_size")."""
    return opt.name.replace("-", "_")


# The REPL's view of the command table (calccli.app.table): ``at x=1`` or
# ``--at x=1``. Kinds: "point" (repeatable), "text" (one value), "flag" (no value).
P, T, F = "point", "text", "flag"
SPECS: dict[str, dict[str, str]] = {
    c.name: {_keyword(o): (P if o.repeatable else F if o.kind == FLAG else T) for o in c.options}
    for c in TABLE.values()}
COMMANDS = tuple(SPECS)
META = (":help", ":vars", ":mode", ":format", ":digits", ":color", ":del", ":quit")
KEYWORDS = tuple(sorted({k.replace("_", "-") for s in SPECS.values() for k in s}))

EXAMPLES = [
    ("NAME = EXPR", "A = [[2,1],[1,3]]", "bind a value (number, vector or matrix)"),
    ("f(x, …) = EXPR", "f(x) = sqrt(x^2+exp(x^2)) + cos(x^2+exp(x^2))",
     "define a function; it may call earlier functions"),
    ("EXPR", "f(1) + 2", "evaluate with the current bindings"),
    ("f'(X), f''(X)", "f'(1)", "derivatives of a one-variable function (f' also works inside expressions)"),
    ("eval EXPR [at P]", "eval x^2 + y at x=3, y=1", "the value, as calc eval shows it"),
    ("diff EXPR [at P] [wrt x] [order N] [mode M] [steps]", "diff f(x) at x=1",
     "the table of intermediate variables and the chain rule; symbolic without at"),
    ("grad EXPR at P", "grad x^T A x at x=[1,-1]", "gradient"),
    ("jacobian EXPR at P [mode auto|forward|reverse]", "jacobian [x y, x + y, sin(x)] at x=1, y=2",
     "Jacobian"),
    ("hessian EXPR at P", "hessian (x-1)^2 + 3(y+2)^2 at x=0, y=0",
     "Hessian, eigenvalues and the kind of point"),
    ("minimize EXPR from P [method M] [lr R] [steps N] [tol T]",
     "minimize (1-x)^2 + 100(y-x^2)^2 from x=-1.2, y=1", "iterative minimization"),
    ("check EXPR at P", "check x^x at 1.5", "forward, reverse and symbolic against finite differences"),
    ("graph EXPR", "graph f(x)", "the computational graph"),
    ("plot EXPR from A to B [order N]", "plot sin(x) from -4 to 4", "f and its derivatives"),
    ("fit MODEL data FILE target COL …", "fit w*x + b data examples/line.csv target y",
     "gradient-descent fit to a CSV file"),
    (":mode forward|reverse", ":mode forward", "default mode of diff, f' and jacobian"),
    (":format rich|plain|json|latex|html", ":format json", "output format"),
    (":digits N|off", ":digits 4", "round the numbers shown to N significant digits (as digits N on a line)"),
    (":color auto|always|never", ":color never", "colour of the output (as color M on a line)"),
    (":vars", ":vars", "bindings and functions"),
    (":del NAME …", ":del A f", "forget bindings or functions"),
    (":help", ":help", "this list"),
    (":quit", ":quit", "leave (also Ctrl-D)"),
]


def help_entries(topic: str | None = None) -> list[tuple[str, str, str]]:
    """(syntax, example, what it does) of every statement, or of those whose syntax starts with ``topic``."""
    return [e for e in EXAMPLES if topic is None or e[0].lstrip(":").startswith(topic.lstrip(":"))]


def help_data(topic: str | None = None) -> dict:
    """:help as one JSON object: {"help": [{"statement", "does", "example"}, …]}."""
    return {"help": [{"statement": syntax, "does": what, "example": example}
                     for syntax, example, what in help_entries(topic)]}


def help_text(topic: str | None = None) -> str:
    """Every statement with an example (or those whose syntax starts with ``topic``)."""
    entries = help_entries(topic)
    if not entries:
        return f"no statement starts with '{topic}': :help lists them all"
    lines = [] if topic else ["Statements, one a line ('#' starts a comment):", ""]
    for syntax, example, what in entries:
        lines += [f"  {syntax}", f"      {what}", f"      calc> {example}"]
    if not topic:
        lines += ["", "Options read like the CLI's: 'at x=1' or '--at x=1'; points may use bound names.",
                  "A bound name is a constant unless the statement names it in at, from or wrt.",
                  "Tab completes names and commands; Ctrl-C cancels the line; history is kept",
                  "in $XDG_STATE_HOME/calc/history (or ~/.local/state/calc/history)."]
    return "\n".join(lines)


@dataclass
class Outcome:
    """What one statement produced. ``status`` is its exit status."""
    result: object = None          # a result object, rendered by calccli.output.render
    value: bool = False            # ``result`` is a bare value: a REPL shows just the value
    fmt: str | None = None         # the format asked for by the statement (``format json``)
    text: str | None = None        # text to show (help, :vars)
    note: str | None = None        # a confirmation, worth showing only interactively
    data: dict | None = None       # the text or the note as one JSON object, for :format json
    display: dict = field(default_factory=dict)   # digits, standalone, color asked for by the statement
    error: CalcError | None = None
    quit: bool = False

    @property
    def status(self) -> int:
        if self.error is not None:
            return self.error.exit_code
        return getattr(self.result, "exit_code", 0) if self.result is not None else 0


@dataclass
class Binding:
    name: str
    value: object                  # float or numpy array
    literal: str                   # the value in calc's syntax (reads back exactly)


# Distinct nodes in one expression with its functions expanded. A composition can double
# them at each definition (f_k = f_{k-1}∘f_{k-1}: 2^(k-1)+1 nodes). A node takes about
# 200 bytes with its share of the intern table and each pass over the DAG (substitute,
# tape, evaluate, reverse) about 5 µs a node, so at this size a statement takes a few
# seconds and a session of such definitions a few hundred MB; the CLI's longest input
# (1,000,000 characters) makes DAGs of this order too.
MAX_NODES = 250_000
# A result shows an expression that calls user functions as its expansion up to this many
# characters, else as written (writing out a deep nest costs time quadratic in its depth).
SHOWN_EXPANSION = 20_000


@dataclass
class Function:
    name: str
    params: tuple[str, ...]
    body: Node
    nodes: int = field(init=False)             # distinct nodes of ``body``

    def __post_init__(self):
        self.nodes = expr.size(self.body)

    def expand(self, args: tuple[Node, ...]) -> Node:
        """The body with ``args`` for the parameters, as a DAG (never written out); a
        TooLarge error when the result could exceed MAX_NODES."""
        if len(args) != len(self.params):
            n = len(self.params)
            raise ParseError(f"{self.name}({', '.join(self.params)}) takes {n} argument"
                             f"{'s' if n != 1 else ''}, got {len(args)}")
        mapping = {expr.var(p): a for p, a in zip(self.params, args) if expr.var(p) is not a}
        if not mapping:                         # f(x) inside a definition in x: the body itself
            return self.body
        bound = self.nodes + sum(expr.size(a) for a in mapping.values())
        if bound > MAX_NODES:
            from calccli.symbolic.differentiate import TooLarge
            raise TooLarge(f"this call of {self.signature()} would make an expression of up to {bound:,} "
                           f"distinct nodes, more than calc computes with in a few seconds and a few "
                           f"hundred MB ({MAX_NODES:,})")
        return substitute(self.body, mapping)

    def signature(self) -> str:
        return f"{self.name}({', '.join(self.params)})"


def substitute(root: Node, mapping: dict[Node, Node]) -> Node:
    """``root`` with the nodes in ``mapping`` replaced (simultaneously), rebuilt bottom-up."""
    from calccli.engine.tape import topo_order
    done: dict[Node, Node] = {}
    for n in topo_order(root, stop=mapping):
        if n in mapping:
            done[n] = mapping[n]
        elif not n.args:
            done[n] = n
        else:
            done[n] = expr.make(n.op, tuple(done[a] for a in n.args), n.value)
    return done[root]


def written_length(root: Node) -> float:
    """Roughly how long ``root`` is written out, counted on the DAG with memoisation, in
    floating point: a DAG of n nodes can write out to 2^n characters, an integer that
    would take memory quadratic in n and be too long even to print (inf past 1e308)."""
    from calccli.engine.tape import topo_order
    length: dict[Node, float] = {}
    for n in topo_order(root):
        if not n.args:
            length[n] = len(str(n.value)) + 1.0
        else:
            total = float(len(n.op))
            for a in n.args:
                total += length[a]
            length[n] = total
    return length[root]


def _about(n: float) -> str:
    if n < 1e15:
        return f"about {n:,.0f}"
    return f"about {n:.1e}" if n < float("inf") else "more than 1e308"


def shown_text(node: Node, limit: int = 2000) -> str:
    """``node`` in calc's syntax, or a note of its size when that would be long."""
    from calccli.engine.printer import to_text
    n = written_length(node)
    if n <= limit:
        return to_text(node)
    from calccli.engine.expr import size
    return f"… ({_about(n)} characters written out; {size(node):,} distinct nodes)"


def literal(v) -> str:
    """A value in calc's own syntax: 2, 0.1, [1, 2], [[1, 2], [3, 4]] (exact round trip)."""
    if hasattr(v, "tolist"):
        v = v.tolist()
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(literal(x) for x in v) + "]"   # depth ≤ 2: vectors and matrices
    return fmt_number(float(v))


def value_lines(v) -> list[str]:
    """A value as the REPL shows it: a number, [1, 2], or a bracketed matrix."""
    if isinstance(v, (int, float)):
        return [fmt_number(v)]
    from calccli.render.doc import matrix_lines
    rows = v.tolist() if hasattr(v, "tolist") else v
    if rows and isinstance(rows[0], list):
        return matrix_lines([[fmt_number(x) for x in r] for r in rows])
    return [literal(rows)]


def strip_comment(line: str) -> str:
    """'#' starts a comment ('#' is not part of the expression language)."""
    k = line.find("#")
    return line if k < 0 else line[:k]


class _Scope:
    """The parser's view of the user's functions, with f', f'' … made on demand."""

    def __init__(self, session: "Session"):
        self.session = session
        self.used = False

    def __contains__(self, name: str) -> bool:
        return name.rstrip(PRIME) in self.session.functions

    def __getitem__(self, name: str):
        base = name.rstrip(PRIME)
        order = len(name) - len(base)
        if base not in self.session.functions:
            raise KeyError(name)

        def expand(args):
            self.used = True
            s = self.session
            fn = s.derivative_function(base, order) if order else s.functions[base]
            return fn.expand(args)
        return expand

    def __bool__(self) -> bool:
        return bool(self.session.functions)


@dataclass
class _Command:
    name: str
    expr: str                      # the expression text (quotes removed)
    offset: int                    # where it starts in the statement
    options: dict = field(default_factory=dict)
    places: dict = field(default_factory=dict)   # option -> offset of its value in the statement


class Session:
    """The REPL's state. ``execute(line)`` runs one statement."""

    def __init__(self, mode: str | None = None, fmt: str | None = None):
        self.bindings: dict[str, Binding] = {}
        self.functions: dict[str, Function] = {}
        self.mode = mode               # None: each command's default (reverse; jacobian auto)
        self.fmt = fmt                 # None: the caller's default
        self.digits: int | None = None  # :digits N (None: every digit)
        self.color: str | None = None   # :color (None: the caller's default)
        self._derived: dict[tuple, Function] = {}

    # ---- names -------------------------------------------------------------

    def names(self) -> list[str]:
        """Defined names, for completion."""
        return sorted(self.bindings) + sorted(self.functions)

    def derivative_function(self, name: str, order: int) -> Function:
        fn = self.functions[name]
        if len(fn.params) != 1:
            raise UsageError(f"{name}{chr(39) * order} needs a function of one variable; "
                             f"{fn.signature()} has {len(fn.params)}: use grad or diff … wrt")
        key = (name, id(fn), order)
        d = self._derived.get(key)
        if d is None:
            from calccli.symbolic.differentiate import derivative
            body = derivative(fn.body, fn.params[0], order)[-1]
            d = self._derived[key] = Function(name + "'" * order, fn.params, body)
        return d

    def _check_new_name(self, name: str, pos: int, line: str, what: str) -> None:
        from calccli.engine.primitives import ALIASES, PRIMS
        bad = None
        if name in ("pi", "π", "e"):
            bad = f"'{name}' is a constant and cannot be redefined"
        elif name in PRIMS or name in ALIASES:
            bad = f"'{name}' is a built-in function and cannot be redefined"
        elif name in COMMANDS:
            bad = f"'{name}' is a command; choose another name for the {what}"
        elif PRIME in name:
            bad = "a name cannot contain ' (f' is the derivative of f)"
        if bad:
            raise UsageError(bad, source=line, pos=pos, end=pos + len(name))

    # ---- parsing with user functions ---------------------------------------

    def expand(self, text: str):
        """Parse ``text`` with the user's functions: (Parsed, whether a function was expanded)."""
        from calccli.language.parse import parse
        mangled = re.sub(r"(\w+)('+)", _prime_names, text)
        scope = _Scope(self)
        try:
            parsed = parse(mangled, functions=scope)
        except CalcError as e:
            raise _unmangle(e) from None
        self._check_function_names(parsed)
        return parsed, scope.used

    @staticmethod
    def engine_text(parsed, text: str, expanded: bool, pointwise: bool = True) -> str:
        """The text a command receives: ``text`` itself, or, when it calls user functions,
        their expansion as a DAG (a :class:`ParsedText`: never read back, which for a deep
        nest takes the parser minutes and gigabytes) shown as the expansion written out,
        or as ``text`` when that would be too long (it may be exponentially long; computing
        at a point is linear in the distinct nodes). Without a point the answer is a
        formula, which could not be written out either when the expansion cannot."""
        if not expanded:
            return text
        from calccli.language.parse import MAX_INPUT, ParsedText
        from calccli.engine.printer import to_text
        n = written_length(parsed.node)
        if n <= SHOWN_EXPANSION:               # the result shows the expansion, as calc diff would
            return ParsedText(to_text(parsed.node), parsed)
        if pointwise:
            return ParsedText(text, parsed)
        from calccli.symbolic.differentiate import TooLarge
        raise TooLarge(f"with its functions written out, this expression is {_about(n)} characters long "
                       f"({expr.size(parsed.node):,} distinct nodes), more than a formula calc writes "
                       f"({MAX_INPUT:,}): give a point (at x=…) to compute it there")

    def _check_function_names(self, parsed) -> None:
        from calccli.engine.expr import free_vars
        for name in free_vars(parsed.node):
            base = name.rstrip(PRIME)
            if base in self.functions:
                span = parsed.span(expr.var(name))
                fn = self.functions[base]
                primes = "'" * (len(name) - len(base))
                raise UsageError(f"'{base}{primes}' is a function: write {base}{primes}"
                                 f"({', '.join(fn.params)})",
                                 source=parsed.text, pos=span[0] if span else None,
                                 end=span[1] if span else None)

    def _lets(self, node: Node, exclude=()) -> list[str]:
        from calccli.engine.expr import free_vars
        skip = set(exclude)
        return [f"{n}={self.bindings[n].literal}" for n in free_vars(node)
                if n in self.bindings and n not in skip]

    def _env(self) -> dict:
        return {n: b.value for n, b in self.bindings.items()}

    def _require_bound(self, parsed) -> None:
        from calccli.engine.expr import free_vars
        for name in free_vars(parsed.node):
            if name not in self.bindings:
                span = parsed.span(expr.var(name))
                raise UsageError(f"'{name}' has no value: bind it ({name} = 1) or write eval … at {name}=1",
                                 source=parsed.text, pos=span[0] if span else None,
                                 end=span[1] if span else None)

    def constant(self, text: str):
        """The value of an expression that may use bindings and functions (and no other names)."""
        from calccli.engine.evaluate import value_of
        parsed, _ = self.expand(text)
        self._require_bound(parsed)
        return value_of(parsed.node, self._env())

    # ---- statements ----------------------------------------------------------

    def execute(self, line: str) -> Outcome:
        """Run one statement; never raises (errors are in ``Outcome.error``)."""
        from calccli.app.output import guarded
        text = strip_comment(line).rstrip()
        if not text.strip():
            return Outcome()
        run = text
        pasted = re.match(r"\s*calc\s+(?=(\w+)(?:\s|$))", text)     # a CLI line pasted as it is
        if pasted and pasted.group(1) in SPECS and "calc" not in self.bindings:
            run = " " * pasted.end() + text[pasted.end():]       # same columns for carets
        try:
            return guarded(lambda: self._execute(run))
        except CalcError as e:
            if e.source == run:
                e.source = text
            return Outcome(error=_unmangle(e))

    def _execute(self, line: str) -> Outcome:
        stripped = line.strip()
        if stripped.startswith(":"):
            return self._meta(stripped)
        word = re.match(r"\s*([A-Za-z]+)(?=\s|\(|\[|$)(?!\s*=)", line)
        if word and word.group(1) in SPECS:
            return self._command(line, word.group(1), word.end())
        m = _PRIME_CALL.match(line)
        if m and m.group(1) in self.functions and _closes_at_end(line, m.end() - 1):
            return self._prime_call(line, m)
        m = _DEF_FUNC.match(line)
        if m:
            return self._define(line, m)
        m = _DEF_NAME.match(line)
        if m:
            return self._bind(line, m)
        return self._evaluate(line)

    def _evaluate(self, line: str) -> Outcome:
        """An expression alone: evaluated on its DAG (a composition of functions may be a
        small DAG whose text would be huge)."""
        from calccli.explain.records import EvalResult
        value = self.constant(line)
        return Outcome(result=EvalResult(line.strip(), value, {}), value=True)

    def _bind(self, line: str, m) -> Outcome:
        name, start = m.group(1), m.end()
        self._check_new_name(name, m.start(1), line, "value")
        rhs = line[start:]
        if not rhs.strip():
            raise ParseError(f"expected an expression after '{name} ='", source=line, pos=len(line) - 1)
        try:
            value = self.constant(rhs)
        except CalcError as e:
            raise _shift(e, rhs, line, start)
        self.functions.pop(name, None)
        self.bindings[name] = Binding(name, value, literal(value))
        shown = value_lines(value)
        return Outcome(note=f"{name} = {shown[0]}" if len(shown) == 1 else
                       "\n".join([f"{name} ="] + shown), data={"bound": name, "value": _json_value(value)})

    def _define(self, line: str, m) -> Outcome:
        name, plist, start = m.group(1), m.group(2), m.end()
        self._check_new_name(name, m.start(1), line, "function")
        params: list[str] = []
        off = m.start(2)
        for piece in plist.split(","):
            pm = _PARAM.match(piece)
            if not pm:
                raise ParseError("parameters are names separated by commas: f(x, y) = …",
                                 source=line, pos=off, end=off + max(len(piece), 1))
            p = pm.group(1)
            if p in params:
                raise UsageError(f"the parameter '{p}' appears twice", source=line, pos=off + pm.start(1))
            if p in ("pi", "π", "e"):
                raise UsageError(f"'{p}' is a constant, not a parameter", source=line, pos=off + pm.start(1))
            params.append(p)
            off += len(piece) + 1
        body_text = line[start:]
        if not body_text.strip():
            raise ParseError(f"expected an expression after '{name}(…) ='", source=line, pos=len(line) - 1)
        try:
            parsed, _ = self.expand(body_text)
        except CalcError as e:
            raise _shift(e, body_text, line, start)
        fn = Function(name, tuple(params), parsed.node)
        self.bindings.pop(name, None)
        self.functions[name] = fn
        shown = shown_text(fn.body)
        return Outcome(note=f"{fn.signature()} = {shown}", data={"defined": _function_data(fn, shown)})

    def _prime_call(self, line: str, m) -> Outcome:
        """``f'(1)``: the derivative of a defined function, as ``calc diff`` computes it."""
        from calccli.app.wiring import diff_compute
        from calccli.render.json import to_obj
        from calccli.explain.records import EvalResult
        name, order = m.group(1), len(m.group(2))
        fn = self.functions[name]
        if len(fn.params) != 1:
            raise UsageError(f"{name}{m.group(2)} needs a function of one variable; "
                             f"{fn.signature()} has {len(fn.params)}: use grad or diff … wrt",
                             source=line, pos=m.start(1), end=m.end(2))
        arg_start = m.end()
        arg_text = line[arg_start:line.rstrip().rindex(")")]
        try:
            value = self.constant(arg_text)
        except CalcError as e:
            raise _shift(e, arg_text, line, arg_start)
        x = fn.params[0]
        from calccli.language.parse import Parsed
        body = self.engine_text(Parsed(fn.signature(), fn.body, []), fn.signature(), True)
        mode = self.mode if self.mode in MODES else "reverse"
        compute = diff_compute([f"{x}={literal(value)}"], self._lets(fn.body, [x]), x, mode, str(order), False,
                               explain=False)
        res = compute(body)
        derivative = to_obj(res)["derivative"]
        shown = line.strip()
        return Outcome(result=EvalResult(shown, derivative, {}), value=True)

    # ---- commands ----------------------------------------------------------

    def _command(self, line: str, name: str, start: int) -> Outcome:
        from calccli.engine.expr import free_vars
        cmd = split_command(line, name, start)
        o = cmd.options
        if not cmd.expr.strip():
            raise UsageError(f"{name} needs an expression: {_example(name)}",
                             source=line, pos=len(line.rstrip()))
        try:
            parsed, expanded = self.expand(cmd.expr)
        except CalcError as e:
            raise _shift(e, cmd.expr, line, cmd.offset)
        pointwise = name in ("eval", "check", "minimize", "plot") or bool(o.get("at"))
        etext = self.engine_text(parsed, cmd.expr, expanded, pointwise)
        spec = TABLE[name]
        # option values may use bindings and functions: hand the engine their values
        values = {}
        for opt in spec.options:
            kw = _keyword(opt)
            if kw not in o:
                continue
            if opt.kind == POINT:
                o[kw] = [self._point(v, line, cmd.places[kw][k]) for k, v in enumerate(o[kw])]
            elif opt.kind == SCALAR:
                o[kw] = self._scalar_text(o[kw], line, cmd.places[kw])
            try:                         # the table's checks and messages, placed in the line
                values[opt.key] = opt.convert(o[kw])
            except CalcError as e:
                pos = cmd.places.get(kw) if opt.kind != POINT else None
                raise e.at(line, pos, None if pos is None else pos + len(str(o[kw]))) from None
        wrt = o.get("wrt")
        variables = set(_point_names(o.get("at")) + _point_names(o.get("from")))
        if wrt:
            variables |= {w.strip() for w in wrt.split(",")}
        user_lets = o.get("let") or []
        variables |= set(_point_names(user_lets))
        free = free_vars(parsed.node)
        if name != "eval" and len(free) == 1 and free[0] in self.bindings and not (
                wrt or _point_names(o.get("at")) or _point_names(o.get("from"))):
            variables.add(free[0])   # x = 3; diff x^2 at 1: the statement's variable is x
        if spec.option("let"):
            values["let"] = self._lets(parsed.node, variables) + user_lets
        mode = spec.option("mode")
        if "mode" not in values and mode and self.mode in mode.choices:
            values["mode"] = self.mode
        if name == "graph" and "format" not in values:
            values["format"] = "json" if self.fmt == "json" else "tree"
        try:
            compute, out_fmt = build(name, values, _example(name))
        except CalcError as e:
            raise e.at(line, len(line.rstrip())) from None
        result = _anchored(lambda: compute(etext), etext, line, cmd.offset if etext == cmd.expr else None,
                           dict(_option_texts(o, cmd.places)))
        display = {k: values[k] for k in ("digits", "standalone", "color") if values.get(k) is not None}
        return Outcome(result=result, fmt=out_fmt, display=display)

    def _point(self, text: str, line: str, pos: int) -> str:
        """A point (x=1, y=a+1) with values that use bindings or functions replaced by literals."""
        from calccli.language.points import _NAME as BIND, split_top_level
        pieces = []
        changed = False
        for piece, start in split_top_level(text):
            m = BIND.match(piece)
            head, value = (piece[:m.end()], piece[m.end():]) if m else ("", piece)
            if self._uses_session(value):
                try:
                    v = self.constant(value)
                except CalcError as e:
                    raise _shift(e, value, line, pos + start + len(head))
                piece, changed = head + literal(v), True
            pieces.append(piece)
        return ",".join(pieces) if changed else text

    def _scalar_text(self, text: str, line: str, pos: int) -> str:
        if not self._uses_session(text):
            return text
        try:
            return literal(self.constant(text))
        except CalcError as e:
            raise _shift(e, text, line, pos)

    def _uses_session(self, text: str) -> bool:
        """Does a value's text mention a bound name or a user function?"""
        words = set(re.findall(_NAME, text))
        return bool(words & (set(self.bindings) | set(self.functions)))

    # ---- : commands ----------------------------------------------------------

    def _meta(self, line: str) -> Outcome:
        parts = line.split()
        cmd, args = parts[0], parts[1:]
        if cmd in (":quit", ":q", ":exit"):
            return Outcome(quit=True)
        if cmd in (":help", ":h", ":?"):
            topic = args[0] if args else None
            return Outcome(text=help_text(topic), data=help_data(topic))
        if cmd == ":vars":
            return Outcome(text=self.vars_text(), data=self.vars_data())
        if cmd == ":mode":
            if not args:
                return Outcome(text=f"mode: {self.mode or 'default (diff reverse, jacobian auto)'}",
                               data={"mode": self.mode})
            if args[0] not in MODES + ("auto", "default"):
                raise UsageError(f"unknown mode '{args[0]}': use forward or reverse", source=line,
                                 pos=line.index(args[0], len(cmd)))
            self.mode = None if args[0] in ("auto", "default") else args[0]
            return Outcome(note=f"mode: {self.mode or 'default'}", data={"mode": self.mode})
        if cmd == ":format":
            if not args:
                return Outcome(text=f"format: {self.fmt or 'default'}", data={"format": self.fmt})
            if args[0] not in FORMATS:
                raise UsageError(f"unknown format '{args[0]}': use one of {', '.join(FORMATS)}",
                                 source=line, pos=line.index(args[0], len(cmd)))
            self.fmt = args[0]
            return Outcome(note=f"format: {self.fmt}", data={"format": self.fmt})
        if cmd in (":digits", ":color"):
            return self._display_default(line, cmd, args)
        if cmd == ":del":
            for a in args:
                if a not in self.bindings and a not in self.functions:
                    raise UsageError(f"'{a}' is not defined", source=line, pos=line.index(a, len(cmd)))
                self.bindings.pop(a, None)
                self.functions.pop(a, None)
            return Outcome(note="deleted " + ", ".join(args) if args else None, data={"deleted": args})
        raise UsageError(f"unknown command '{cmd}': try :help", source=line, pos=0, end=len(cmd))

    def _display_default(self, line: str, cmd: str, args: list[str]) -> Outcome:
        """:digits N|off and :color M: the session's defaults, checked as the CLI checks them."""
        from calccli.app.table import COLOR, DIGITS
        key = cmd[1:]
        if not args:
            now = getattr(self, key)
            return Outcome(text=f"{key}: {now if now is not None else 'default'}", data={key: now})
        opt = DIGITS if key == "digits" else COLOR
        value = None if args[0] in ("off", "default") or (key == "color" and args[0] == "auto") else args[0]
        try:
            value = opt.convert(value)
        except CalcError as e:
            pos = line.index(args[0], len(cmd))
            raise e.at(line, pos, pos + len(args[0])) from None
        setattr(self, key, value)
        return Outcome(note=f"{key}: {value if value is not None else 'default'}", data={key: value})

    def vars_data(self) -> dict:
        """:vars as one JSON object: {"vars": {"bindings": {name: value}, "functions": [...]}}."""
        return {"vars": {"bindings": {b.name: _json_value(b.value) for b in self.bindings.values()},
                         "functions": [_function_data(fn) for fn in self.functions.values()]}}

    def vars_text(self) -> str:
        lines = []
        for b in self.bindings.values():
            shown = value_lines(b.value)
            if len(shown) == 1:
                lines.append(f"{b.name} = {shown[0]}")
            else:
                lines.append(f"{b.name} =")
                lines.extend("  " + s for s in shown)
        for fn in self.functions.values():
            lines.append(f"{fn.signature()} = {shown_text(fn.body)}")
        return "\n".join(lines) if lines else "(nothing defined yet)"


# ---- helpers -------------------------------------------------------------------


def _json_value(v):
    """A bound value for JSON: a number, or nested lists of numbers."""
    return v.tolist() if hasattr(v, "tolist") else float(v)


def _function_data(fn: Function, text: str | None = None) -> dict:
    """A function for JSON (``text``: its shown_text); the body is null when too long to write out."""
    text = shown_text(fn.body) if text is None else text
    return {"function": fn.signature(), "body": None if text.startswith("… (") else text,
            "nodes": fn.nodes}


def _closes_at_end(line: str, open_pos: int) -> bool:
    """Does the '(' at ``open_pos`` close at the very end of the statement?"""
    depth = 0
    end = len(line.rstrip())
    for i in range(open_pos, end):
        ch = line[i]
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
            if depth == 0:
                return i == end - 1
    return False


def split_command(line: str, name: str, start: int) -> _Command:
    """``diff EXPR at x=1 wrt x`` → the expression and the options (outside brackets)."""
    spec = SPECS[name]
    marks = []                                 # (position, end of keyword, option name)
    depth, quote = 0, None
    i = start
    while i < len(line):
        ch = line[i]
        if quote:
            if ch == quote:
                quote = None
        elif ch == '"':
            quote = ch
        elif ch in "([":
            depth += 1
        elif ch in ")]":
            depth = max(depth - 1, 0)
        elif depth == 0 and i > start and line[i - 1].isspace():
            m = _KEYWORD.match(line, i)
            if m:
                key = m.group(2).replace("-", "_")
                eq = line[m.end():m.end() + 1] == "="
                if key in spec and (not eq or m.group(1)):
                    marks.append((i, m.end() + eq, key))
                    i = m.end() + eq
                    continue
        i += 1
    cmd = _Command(name, "", start)
    ends = [p for p, _, _ in marks] + [len(line)]
    raw = line[start:ends[0]]
    lead = len(raw) - len(raw.lstrip())
    body = raw.strip()
    offset = start + lead
    if len(body) >= 2 and body[0] == body[-1] and body[0] in "\"'":
        body, offset = body[1:-1], offset + 1
    cmd.expr, cmd.offset = body, offset
    for k, (pos, vstart, key) in enumerate(marks):
        raw = line[vstart:ends[k + 1]]
        value = raw.strip()
        vpos = vstart + (len(raw) - len(raw.lstrip()))
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value, vpos = value[1:-1], vpos + 1
        kind = spec[key]
        if kind == F:
            if value:
                raise UsageError(f"'{key}' takes no value", source=line, pos=vpos, end=vpos + len(value))
            cmd.options[key] = True
        elif not value:
            raise UsageError(f"'{key.replace('_', '-')}' needs a value", source=line, pos=pos,
                             end=vstart)
        elif kind == P:
            cmd.options.setdefault(key, []).append(value)
            cmd.places.setdefault(key, []).append(vpos)
        else:
            if key in cmd.options:
                raise UsageError(f"'{key}' is given twice", source=line, pos=pos, end=vstart)
            cmd.options[key] = value
            cmd.places[key] = vpos
    return cmd


def _option_texts(options: dict, places: dict):
    for key, v in options.items():
        if isinstance(v, list):
            for k, item in enumerate(v):
                if k < len(places.get(key, [])):
                    yield item, places[key][k]
        elif isinstance(v, str):
            yield v, places.get(key)


def _point_names(points) -> list[str]:
    from calccli.language.points import _NAME as BIND, split_top_level
    names = []
    for p in points or []:
        for piece, _ in split_top_level(p):
            m = BIND.match(piece)
            if m:
                names.append(m.group(1))
    return names


def _example(name: str) -> str:
    for syntax, example, _ in EXAMPLES:
        if syntax.startswith(name + " "):
            return example
    return name + " EXPR"


def _prime_names(m) -> str:
    """f' → fʹ (a name character, so f' parses as the name of a function); 2' stays."""
    word, primes = m.group(1), m.group(2)
    if re.fullmatch(r"[\d.]*", word):
        return m.group()
    return word + PRIME * len(primes)


def _unmangle(e: CalcError) -> CalcError:
    if PRIME in e.message:
        e.message = e.message.replace(PRIME, "'")
        e.args = (e.message,)
    if e.source and PRIME in e.source:
        e.source = e.source.replace(PRIME, "'")
    return e


def _shift(e: CalcError, fragment: str, line: str, offset: int) -> CalcError:
    """An error placed in ``fragment`` (a part of ``line`` at ``offset``), placed in ``line``."""
    e = _unmangle(e)
    if e.source == fragment and e.pos is not None:
        e.source, e.pos = line, e.pos + offset
        if e.end is not None:
            e.end += offset
    return e


def _anchored(compute, etext: str, line: str, offset: int | None, fragments: dict | None = None):
    """Run ``compute``; an error placed in the expression or an option is placed in ``line``."""
    from calccli.app.output import guarded
    try:
        return guarded(compute)
    except CalcError as e:
        if offset is not None and e.source == etext:
            raise _shift(e, etext, line, offset)
        for text, pos in (fragments or {}).items():
            if pos is not None and e.source == text:
                raise _shift(e, text, line, pos)
        raise _unmangle(e)
