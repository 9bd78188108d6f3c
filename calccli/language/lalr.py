"""LALR parsing of grammar/calc.lark without Lark at run time.

Lark builds the tables (``plan_from_lark``); calc keeps them as plain data in
``lalr_plan.py`` (written by ``python -m calccli.language.lalr``, checked against
the grammar by the tests and at run time), the way Lark's own standalone
generator does, so that a start-up does not import Lark (~40 ms). ``Driver`` runs
the plan with one regex lexer in Lark's terminal order and calls the
transformer's rules during the shift/reduce loop, so no parse tree is built. On
anything unsure it raises ``Fallback`` and the caller runs Lark itself, so errors
are reported exactly as Lark finds them.
"""

from __future__ import annotations

import re
import sys
from itertools import chain

_END = (None,)


class Fallback(Exception):
    """This input needs Lark's own parser (an error to report, most likely)."""


class Tok:
    """A kept token: what the transformer reads of Lark's Token."""
    __slots__ = ("type", "value", "start_pos", "end_pos")

    def __init__(self, kind, value, start, end):
        self.type, self.value, self.start_pos, self.end_pos = kind, value, start, end


class _Inline(list):
    """The children of a rule Lark inlines into its parent (``("," expr)*``)."""


def plan_from_lark(lark) -> dict:
    """The lexer and the table of a Lark LALR parser (built with the transformer
    whose rules the plan names) as plain data: ints, strings, lists and dicts."""
    import functools
    from lark.lexer import PatternStr
    from lark.parse_tree_builder import ChildFilterLALR, ChildFilterLALR_NoPlaceholders, ExpandSingleChild
    from lark.parsers.lalr_analysis import Shift
    from lark.tree import Tree

    conf = lark.lexer_conf
    parser = lark.parser.parser.parser
    table = parser.parse_table
    transformer = lark.options.transformer
    # Lark's lexer order (priority, then longest first); a string terminal that a
    # regex terminal also matches (T, a NAME) is not in the regex but recognised
    # from the regex terminal's value where the parser state accepts it, as Lark's
    # contextual lexer does.
    terms = sorted(conf.terminals, key=lambda t: (-t.priority, -t.pattern.max_width,
                                                  -len(t.pattern.value), t.name))
    unless: dict[str, dict[str, str]] = {}
    lexed = []
    for t in terms:
        if isinstance(t.pattern, PatternStr):
            hosts = [r for r in terms if not isinstance(r.pattern, PatternStr) and r.priority == t.priority
                     and re.fullmatch(r.pattern.to_regexp(), t.pattern.value)]
            if hosts and t.pattern.flags <= hosts[0].pattern.flags:
                for r in hosts:
                    unless.setdefault(str(r.name), {})[str(t.pattern.value)] = str(t.name)
                continue
        lexed.append(t)
    regex, names = lexer_regex([(str(t.name), t.pattern.to_regexp()) for t in lexed],
                               {str(name) for name in conf.ignore})

    def action(rule, cb):
        """How a reduction by ``rule`` builds its value: [mode, rule name, [[child, expand, nones]…], nones after]."""
        ex = rule.expansion
        if rule.options.expand1 and not rule.alias and len(ex) == 1 and not ex[0].is_term:
            return ["up", None, [], 0]          # the one child passes up unchanged
        wrapped = isinstance(cb, ExpandSingleChild)
        if wrapped:
            cb = cb.node_builder
        include, after = [[i, False, 0] for i in range(len(ex))], 0
        if type(cb) in (ChildFilterLALR, ChildFilterLALR_NoPlaceholders):
            include = [[e[0], bool(e[1]), e[2] if len(e) > 2 else 0] for e in cb.to_include]
            after = getattr(cb, "append_none", None) or 0
            cb = cb.node_builder
        if isinstance(cb, ExpandSingleChild):
            wrapped, cb = True, cb.node_builder
        name = str(rule.alias or rule.options.template_source or rule.origin.name)   # a str, not a Lark Token
        if getattr(cb, "__self__", None) is transformer and getattr(transformer, name, None) == cb:
            mode = "call"
        elif isinstance(cb, functools.partial) and cb.func is Tree:
            mode = "inline"
        else:
            raise NotImplementedError(f"rule {rule}: callback {cb!r}")
        if wrapped:   # ExpandSingleChild: one child (always, here) is the value itself
            if len(include) != 1 or include[0][1:] != [False, 0] or after:
                raise NotImplementedError(f"rule {rule}: a ?rule with several children")
            return ["pick", None, include, 0]
        return [mode, name, include, after]

    rules: dict = {}
    plan_rules = []
    gotos: dict = {}
    for state, acts in table.states.items():
        for sym, (act, arg) in acts.items():
            if act is Shift and not sym.isupper() and sym != "$END":
                gotos.setdefault(str(sym), {})[state] = arg
    states = {}
    kept = set()   # terminals some rule keeps (NAME, NUMBER, …): only these become Toks
    for state, acts in table.states.items():
        row = {}
        for sym, (act, arg) in acts.items():
            sym = str(sym)
            if act is Shift:
                row[sym] = [1, arg]
                continue
            if id(arg) not in rules:
                rules[id(arg)] = len(plan_rules)
                plan_rules.append([len(arg.expansion), *action(arg, parser.callbacks[arg]),
                                   gotos[str(arg.origin.name)]])
                kept.update(str(x.name) for x in arg.expansion if x.is_term and not x.filter_out)
            row[sym] = [0, rules[id(arg)]]
        states[state] = row
    plan = dict(regex=regex, names=names, ignore=sorted(map(str, conf.ignore)), unless=unless, kept=sorted(kept),
                start=table.start_states["start"], end=table.end_states["start"], rules=plan_rules,
                states=states)
    return _canonical(plan, {str(t.name): str(t.pattern.value) for t in conf.terminals if t.name.startswith("__")})


# ---------------------------------------------------------------- the lexer's regex
# One alternation of the terminals, first match wins, as Lark's order has it. Two
# rewrites make it faster and cannot change a token (checked here, at plan time):
# - a terminal is tried before terminals ahead of it in Lark's order only when no two
#   of them can start with the same character: then at most one of them matches at any
#   place, so which is tried first does not matter;
# - ignored text (spaces) of the form [class]+, a class no terminal starts with, is
#   folded into the next token's match, instead of being a match of its own.
_COMMON = ("LPAR", "RPAR", "PLUS", "MINUS", "POW", "STAR", "SLASH")   # most of any expression


class _Unsure(Exception):
    """A construct the first-character analysis does not know: keep the terminal where it is."""


def _sre():
    try:
        from re import _constants as constants, _parser as parser
    except ImportError:   # Python 3.10
        import sre_constants as constants
        import sre_parse as parser
    return constants, parser


_CATEGORIES = {"CATEGORY_DIGIT": r"\d", "CATEGORY_NOT_DIGIT": r"\D", "CATEGORY_WORD": r"\w",
               "CATEGORY_NOT_WORD": r"\W", "CATEGORY_SPACE": r"\s", "CATEGORY_NOT_SPACE": r"\S"}


def _charset(items, c):
    """A character class: a frozenset of its characters, or a predicate for an open one."""
    chars, classes, negate = set(), [], False
    for op, av in items:
        if op is c.NEGATE:
            negate = True
        elif op is c.LITERAL:
            chars.add(chr(av))
        elif op is c.RANGE and av[1] - av[0] <= 256:
            chars.update(map(chr, range(av[0], av[1] + 1)))
        elif op is c.CATEGORY and getattr(av, "name", str(av)) in _CATEGORIES:
            classes.append(_CATEGORIES[getattr(av, "name", str(av))])
        else:
            raise _Unsure
    if not negate and not classes:
        return frozenset(chars)
    cls = re.compile("|".join(classes)) if classes else None

    def test(ch: str) -> bool:
        return (ch in chars or (cls is not None and cls.fullmatch(ch) is not None)) != negate
    return test


def _starts(seq, c):
    """(classes, nullable): one of the classes holds the first character of any match of the
    parsed ``seq`` that is not empty; nullable when the match can be empty. Lookaheads are
    skipped, which can only widen the classes."""
    out = []
    for op, av in seq:
        if op in (c.AT, c.ASSERT, c.ASSERT_NOT):
            continue
        if op is c.LITERAL:
            first, nullable = [frozenset(chr(av))], False
        elif op is c.IN:
            first, nullable = [_charset(av, c)], False
        elif op is c.SUBPATTERN and not av[1]:          # (no inline flags such as (?i:…))
            first, nullable = _starts(av[-1], c)
        elif op is c.BRANCH:
            each = [_starts(s, c) for s in av[1]]
            first, nullable = [x for f, _ in each for x in f], any(n for _, n in each)
        elif op in (c.MAX_REPEAT, c.MIN_REPEAT):
            first, nullable = _starts(av[2], c)
            nullable = nullable or av[0] == 0
        else:
            raise _Unsure
        out += first
        if not nullable:
            return out, False
    return out, True


def first_chars(regex: str):
    """The classes the first character of a match of ``regex`` belongs to, or None if a
    match can be empty or the regex is beyond this analysis."""
    c, parser = _sre()
    parsed = parser.parse(regex)
    if getattr(getattr(parsed, "state", None), "flags", re.IGNORECASE) & (re.IGNORECASE | re.VERBOSE):
        return None   # a flag for the whole regex ((?i) at its start) changes what a literal matches
    try:
        classes, nullable = _starts(parsed, c)
    except _Unsure:
        return None
    return None if nullable else classes


def may_start_alike(a, b) -> bool:
    """Whether matches of two terminals (their first_chars) can start with the same character.
    Two open classes (say \\w and \\d) are taken to meet."""
    if a is None or b is None:
        return True
    sa = frozenset().union(*(x for x in a if isinstance(x, frozenset)))
    sb = frozenset().union(*(x for x in b if isinstance(x, frozenset)))
    pa = [x for x in a if not isinstance(x, frozenset)]
    pb = [x for x in b if not isinstance(x, frozenset)]
    return bool(sa & sb or (pa and pb) or any(p(ch) for p in pa for ch in sb) or any(p(ch) for p in pb for ch in sa))


def _one_class_repeated(regex: str) -> bool:
    c, parser = _sre()
    seq = list(parser.parse(regex))
    return (len(seq) == 1 and seq[0][0] is c.MAX_REPEAT and seq[0][1][0] == 1
            and len(seq[0][1][2]) == 1 and seq[0][1][2][0][0] in (c.IN, c.LITERAL))


def lexer_regex(terminals: list[tuple[str, str]], ignore: set[str]) -> tuple[str, dict[int, str]]:
    """The lexer's regex for ``terminals`` ((name, regex) in Lark's order) and its group
    number -> terminal name, reordered and folded as the comment above says."""
    pattern = dict(terminals)
    first = {name: first_chars(rx) for name, rx in terminals}
    names = list(pattern)

    def ready(name, placed):   # every terminal ahead of it that could start alike is placed
        ahead = names[:names.index(name)]
        return all(t in placed or not may_start_alike(first[t], first[name]) for t in ahead)
    order: list[str] = []
    for name in _COMMON:
        if name in first and name not in ignore and ready(name, order):
            order.append(name)
    order += [n for n in names if n not in order]
    fold = [n for n in ignore if n in first]
    folded = (len(fold) == 1 and _one_class_repeated(pattern[fold[0]])
              and not any(may_start_alike(first[fold[0]], first[n]) for n in names if n != fold[0]))
    kinds = [n for n in order if not (folded and n == fold[0])]
    regex = "|".join(f"(?P<t{k}>{pattern[n]})" for k, n in enumerate(kinds))
    if folded:   # spaces, then a token; or spaces alone (at the end, or before a character no token takes)
        regex = f"(?:{pattern[fold[0]]})?(?:{regex})|(?P<t{len(kinds)}>{pattern[fold[0]]})"
        kinds.append(fold[0])
    groups = re.compile(regex).groupindex
    return regex, {groups[f"t{k}"]: n for k, n in enumerate(kinds)}


def _canonical(plan: dict, anonymous: dict) -> dict:
    """The same plan with names and numbers that do not depend on the order Lark built
    it in (which follows object identities): anonymous terminals named by their text,
    states numbered breadth-first from the start (symbols in sorted order), rules by
    first use. Regenerating the plan then changes only what the grammar changed."""
    label = {name: f"__{text!r}" for name, text in anonymous.items()}

    def rename(sym):
        return label.get(sym, sym)
    rows = {s: {rename(sym): act for sym, act in row.items()} for s, row in plan["states"].items()}
    order = {plan["start"]: 0}
    queue = [plan["start"]]
    for s in queue:                      # the queue grows while it is walked
        for sym in sorted(rows[s]):
            shift, arg = rows[s][sym]
            if shift and arg not in order:
                order[arg] = len(order)
                queue.append(arg)
    for s in rows:                       # (none: every state is reached from the start)
        order.setdefault(s, len(order))
    used: dict[int, int] = {}
    for s in sorted(rows, key=order.__getitem__):
        for sym in sorted(rows[s]):
            shift, arg = rows[s][sym]
            if not shift:
                used.setdefault(arg, len(used))
    rules = []
    for r in sorted(used, key=used.__getitem__):
        *how, goto = plan["rules"][r]
        rules.append([*how, {order[k]: order[v] for k, v in sorted(goto.items(), key=lambda kv: order[kv[0]])}])
    states = {order[s]: {sym: [shift, order[arg] if shift else used[arg]] for sym, (shift, arg) in sorted(row.items())}
              for s, row in sorted(rows.items(), key=lambda kv: order[kv[0]])}
    return dict(regex=plan["regex"], names={k: rename(v) for k, v in plan["names"].items()},
                ignore=sorted(rename(x) for x in plan["ignore"]),
                unless={rename(h): {v: rename(t) for v, t in m.items()} for h, m in plan["unless"].items()},
                kept=sorted(rename(x) for x in plan["kept"]), start=0, end=order[plan["end"]],
                rules=rules, states=states)


def _reducer(mode, name, include, after, builder):
    """The function from a reduction's children to its value."""
    if mode == "pick":
        i = include[0][0]
        return lambda c: c[i]
    fn = getattr(builder, name) if mode == "call" else _Inline
    if getattr(fn, "ends_only", False):     # reads its first and last child only: no filtering needed
        return fn
    if not after and all(not ex and not nones for _, ex, nones in include):
        idx = [i for i, _, _ in include]
        if idx == list(range(len(idx))):
            return fn                           # every child, in order
        step = idx[1] - idx[0] if len(idx) > 1 else 1
        if step > 0 and idx == list(range(idx[0], idx[-1] + 1, step)):   # a + b's a and b: every other child
            picked = slice(idx[0], idx[-1] + 1, step)
            return lambda c: fn(c[picked])
        return lambda c: fn([c[i] for i in idx])

    def reduce(c):
        out = []
        for i, ex, nones in include:
            out += [None] * nones
            if ex:
                out += c[i]
            else:
                out.append(c[i])
        return fn(out + [None] * after)
    return reduce


class Driver:
    def __init__(self, plan: dict, builder):
        self._start, self._end = plan["start"], plan["end"]
        self._regex = re.compile(plan["regex"] + "|((?s:.))")   # the last group: a gap
        self._gap = self._regex.groups
        names = {int(k): v for k, v in plan["names"].items()}
        # per regex group: None (ignored), False (the gap), or (terminal, kept as a Tok, its "unless" words)
        self._info = [False] * (self._gap + 1)
        for k, v in names.items():
            self._info[k] = None if v in plan["ignore"] else (v, v in plan["kept"], plan["unless"].get(v))
        # shift -> (True, state); reduce -> (False, (length, value builder, goto by state)),
        # the builder None for a ?rule's one child passed up unchanged.
        rules = [(size, None if mode == "up" else _reducer(mode, name, include, after, builder),
                  {int(k): v for k, v in goto.items()})
                 for size, mode, name, include, after, goto in plan["rules"]]
        table = {int(state): {sym: (True, arg) if shift else (False, rules[arg])
                              for sym, (shift, arg) in row.items()}
                 for state, row in plan["states"].items()}
        self._states = [table.get(k, {}) for k in range(max(table) + 1)]   # by state number
        self._chains: dict = {}  # (state below, state, token) -> the state after pass-up reductions

    def _chain(self, below, top, kind):
        """The state after every pass-up reduction that ``kind`` triggers on ``top``."""
        states = self._states
        while True:
            act = states[top].get(kind)
            if act is None or act[0] or act[1][1] is not None:
                return top
            top = act[1][2][below]

    def parse(self, text: str):
        states, chains, info = self._states, self._chains, self._info
        top = self._start          # the state on top of the stack (stack[-1])
        stack = [top]
        values: list = []
        push, push_value = stack.append, values.append
        kind = None
        # The lexer's matches are consumed as they come, then one end marker (None).
        # A missing action (a KeyError) is an error for Lark to report, or the end.
        try:
            for m in chain(self._regex.finditer(text), _END):
                if m is None:
                    kind, tok = "$END", None
                else:
                    g = m.lastindex    # the terminal's group: its text is the token (spaces before it are not)
                    lexed = info[g]
                    if not lexed:
                        if lexed is None:   # ignored (spaces)
                            continue
                        raise Fallback      # a gap (no terminal matches): Lark reports it
                    kind, keep, alts = lexed
                    if keep:
                        value = m.group(g)
                        if alts is not None:   # NAME "T" is the T of x^T where the state (as lexed) takes T
                            alt = alts.get(value)
                            if alt is not None and alt in states[top]:
                                kind = alt
                        s, e = m.span(g)
                        tok = Tok(kind, value, s, e)
                    else:
                        tok = None
                while True:
                    shift, arg = states[top][kind]
                    if shift:
                        top = arg
                        push(top)
                        push_value(tok)
                        break
                    size, build, goto = arg
                    if build is None:  # one child, passed up as it is: x is a postfix, a power, …
                        key = (stack[-2], top, kind)
                        try:
                            top = chains[key]
                        except KeyError:
                            top = chains[key] = self._chain(*key)
                        stack[-1] = top
                    elif size == 1:    # NUMBER, NAME, …: the top replaced in place
                        values[-1] = build(values[-1:])
                        stack[-1] = top = goto[stack[-2]]
                    else:
                        if size:
                            children = values[-size:]
                            del stack[-size:]
                            del values[-size:]
                        else:
                            children = []
                        push_value(build(children))
                        top = goto[stack[-1]]
                        push(top)
        except KeyError:
            if kind == "$END" and top == self._end:
                return values[-1]
        raise Fallback


def write_plan(path) -> None:
    """Regenerate ``lalr_plan.py`` from grammar/calc.lark (after editing the grammar)."""
    import pprint
    from calccli.language import parse
    plan = plan_from_lark(parse.lark_parser())
    text = parse.grammar_path().read_text(encoding="utf-8")
    with open(path, "w", encoding="utf-8") as f:
        f.write('"""Generated by ``python -m calccli.language.lalr`` from grammar/calc.lark: do not edit."""\n'
                "# fmt: off\n# ruff: noqa\n")
        f.write(f"GRAMMAR = {text!r}\n\nPLAN = {pprint.pformat(plan, width=110, compact=True)}\n")


if __name__ == "__main__":
    from pathlib import Path
    write_plan(Path(__file__).with_name("lalr_plan.py"))
    print("wrote", Path(__file__).with_name("lalr_plan.py"), file=sys.stderr)
