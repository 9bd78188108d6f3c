"""A lean loop over the Lark LALR tables and callbacks of grammar/calc.lark: one regex lexer
in Lark's terminal order, shift/reduce without Lark's per-token bookkeeping; on anything
unsure (``Fallback``) the caller runs Lark itself, so errors are exactly Lark's."""

from __future__ import annotations

import re


class Fallback(Exception):
    """This input needs Lark's own parser (an error to report, most likely)."""


class Driver:
    def __init__(self, lark):
        from lark.lexer import PatternStr, Token
        from lark.parsers.lalr_analysis import Shift

        self._token = Token
        conf = lark.lexer_conf
        frontend = lark.parser
        parser = frontend.parser.parser
        table = parser.parse_table
        self._start = table.start_states["start"]
        self._end = table.end_states["start"]
        # Lark's lexer order (priority, then longest first); a string terminal that a
        # regex terminal also matches (T, a NAME) is not in the regex but recognised
        # from the regex terminal's value where the parser state accepts it, as Lark's
        # contextual lexer does.
        terms = sorted(conf.terminals, key=lambda t: (-t.priority, -t.pattern.max_width,
                                                      -len(t.pattern.value), t.name))
        self._unless: dict[str, dict[str, str]] = {}
        lexed = []
        for t in terms:
            if isinstance(t.pattern, PatternStr):
                hosts = [r for r in terms if not isinstance(r.pattern, PatternStr) and r.priority == t.priority
                         and re.fullmatch(r.pattern.to_regexp(), t.pattern.value)]
                if hosts and t.pattern.flags <= hosts[0].pattern.flags:
                    for r in hosts:
                        self._unless.setdefault(r.name, {})[t.pattern.value] = t.name
                    continue
            lexed.append(t)
        self._regex = re.compile("|".join(f"(?P<t{k}>{t.pattern.to_regexp()})" for k, t in enumerate(lexed)))
        # group number of each terminal's (outer) group -> its name
        self._names = {self._regex.groupindex[f"t{k}"]: t.name for k, t in enumerate(lexed)}
        self._ignore = set(conf.ignore)
        # The table with rules unpacked once: shift -> (True, state),
        # reduce -> (False, (length, callback, goto by state)); callback None for
        # a ?rule with one nonterminal (Lark passes its child up unchanged).
        callbacks = parser.callbacks
        gotos: dict = {}
        rules: dict = {}
        kept = set()  # terminals some rule keeps (NAME, NUMBER, …): only these become Tokens
        for state, acts in table.states.items():
            for sym, (action, arg) in acts.items():
                if action is Shift and not sym.isupper() and sym != "$END":
                    gotos.setdefault(sym, {})[state] = arg
        self._states = {}
        for state, acts in table.states.items():
            row = {}
            for sym, (action, arg) in acts.items():
                if action is Shift:
                    row[sym] = (True, arg)
                else:
                    key = id(arg)
                    if key not in rules:
                        ex = arg.expansion
                        same = arg.options.expand1 and not arg.alias and len(ex) == 1 and not ex[0].is_term
                        rules[key] = (len(ex), None if same else callbacks[arg], gotos[arg.origin.name])
                        kept.update(x.name for x in ex if x.is_term and not x.filter_out)
                    row[sym] = (False, rules[key])
            self._states[state] = row
        self._kept = kept
        self._chains: dict = {}  # (state below, state, token) -> the state after pass-up reductions

    def _tokens(self, text: str):
        """(type, value, start, end) per token, then the end marker; Fallback on a gap."""
        names, ignore, unless = self._names, self._ignore, self._unless
        pos = 0
        out = []
        for m in self._regex.finditer(text):
            s = m.start()
            if s != pos:
                raise Fallback
            pos = m.end()
            kind = names[m.lastindex]
            if kind in ignore:
                continue
            out.append((kind, m.group(), s, pos))
        if pos != len(text):
            raise Fallback
        return out

    def _chain(self, below, top, kind):
        """The state after every pass-up reduction that ``kind`` triggers on ``top``."""
        states = self._states
        while True:
            act = states[top].get(kind)
            if act is None or act[0] or act[1][1] is not None:
                return top
            top = act[1][2][below]

    def parse(self, text: str):
        Token = self._token
        states, unless, kept, chains = self._states, self._unless, self._kept, self._chains
        end_state = self._end
        stack = [self._start]
        values: list = []
        toks = self._tokens(text)
        last = len(text)
        toks.append(("$END", "", last, last))
        for kind, value, s, e in toks:
            if kind in unless:  # NAME "T" is the T of x^T where the state (as lexed) takes T
                alt = unless[kind].get(value)
                if alt is not None and alt in states[stack[-1]]:
                    kind = alt
            while True:
                acts = states[stack[-1]]
                act = acts.get(kind)
                if act is None:
                    raise Fallback
                shift, arg = act
                if shift:
                    stack.append(arg)
                    values.append(Token(kind, value, s, None, None, None, None, e) if kind in kept else None)
                    break
                size, callback, goto = arg
                if callback is None:  # one child, passed up as it is: x is a postfix, a power, …
                    key = (stack[-2], stack[-1], kind)
                    top = chains.get(key)
                    if top is None:
                        top = chains[key] = self._chain(*key)
                    stack[-1] = top
                else:
                    if size:
                        children = values[-size:]
                        del stack[-size:]
                        del values[-size:]
                    else:
                        children = []
                    values.append(callback(children))
                    stack.append(goto[stack[-1]])
                if kind == "$END" and stack[-1] == end_state:
                    return values[-1]
        raise Fallback  # pragma: no cover - the table always ends in the end state
