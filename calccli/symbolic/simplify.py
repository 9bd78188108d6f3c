"""Bounded simplification of expression DAGs (symbolic derivatives, mostly).

One pass over the DAG in topological order (no recursion on depth): every node
is turned into a *form* built from its arguments' forms, and the root's form is
turned back into a node (“materialized”) at the end. Two forms do the algebra:

- ``Sum(const, terms)``  = const + Σ coef·term, terms keyed by interned node,
- ``Prod(coef, factors)`` = coef · Π base^exponent, exponents exact rationals
  or (canonical) nodes,

with exact rational coefficients (``fractions.Fraction``; a number written as
``0.1`` is the decimal 1/10). So like terms and like factors collect by
dictionary lookup, ``x - x`` and ``x/x`` cancel, numbers fold exactly,
``x·x = x^2``, ``exp(a)·exp(b) = exp(a + b)``.

Rewrites applied (each valid wherever the input is defined; some, like x/x → 1,
extend the domain, as every CAS does):
constant folding; 0 and 1 as neutral/absorbing elements; like terms and like
factors; (x^a)^b → x^(ab) for integer b (or a non-integer number a, where x ≥ 0
is already required); exp(log(u)) → u and log(exp(u)) → u; sqrt(u)·sqrt(u) → u;
signs pulled out of products and of odd/even functions (sin(-u) → -sin(u),
cos(-u) → cos(u)); a common factor of every term of a sum taken out when that
prints shorter (x^x + x^x log(x) → x^x (log(x) + 1)), also of the terms as
written before products of sums were multiplied out (x^6 (x - 2)^3 (11x - 14));
and, each only when it prints shorter: a fraction cleared from a denominator
(1/(9/x^2 + 1) → x^2/(x^2 + 9)), a product of sums multiplied out,
tan(u)^2 + 1 as a factor → 1/cos(u)^2. A part with no value anywhere (1/0,
log(0)) absorbs what it is in, except a zero factor. Nothing is expanded, so
the work per node is bounded by the sizes of its arguments' forms: the whole
pass terminates on every input, and running it again changes nothing.
"""
from __future__ import annotations

import math
from fractions import Fraction

from calccli.engine import expr
from calccli.engine.expr import Node, make
from calccli.engine.gcpause import collector_paused
from calccli.engine.primitives import PRIMS
from calccli.engine.printer import TEXTS as _TEXTS, printed
from calccli.engine.tape import topo_order
from calccli.errors import OverflowErr

_QT = (int, Fraction)


def Q(a, b=None):
    """An exact rational: an ``int`` when it is whole (the fast common case), else a Fraction."""
    if b is None:
        if type(a) is int:
            return a
        q = Fraction(a)
    else:
        q = Fraction(a, b)
    return q.numerator if q.denominator == 1 else q


def _qdiv(a, b):
    """a / b exactly (never a float)."""
    if type(a) is int and type(b) is int:
        if b and not a % b:
            return a // b
        q = Fraction(a, b)
    else:
        q = Fraction(a) / b
    return q.numerator if q.denominator == 1 else q


MAX_DEPTH = 3          # nesting of factored sums inside factored sums
MAX_COLLECT = 64       # sums with more terms are not searched for common factors
EXPAND = 16            # a product of sums is multiplied out inside a sum up to this many terms
WORK_PER_NODE = 100    # a simplification doing more work than this per input node (plus WORK_BASE)
WORK_BASE = 100_000    # gives up: the input is returned as it is (bounded time on towers x^x^…^x)
E = expr.const("e")
UNDEFINED = make("div", (expr.ONE, expr.ZERO))   # 1/0: a part with no value anywhere (absorbs the rest)
_MAX_BITS = 2000       # larger exact numbers are rounded to floats
# per interned node, shared by all simplifications (nodes are immutable, so these never go stale):
_COST: dict = {}       # estimated printed length
_LENGTHS: dict = {}    # printed length
# (and _TEXTS, printer.TEXTS: printed text and precedence, printer.printed's memo)
_CACHE_MAX = 200_000   # entries; then the caches start again
_ODD = frozenset({"sin", "tan", "asin", "atan", "sinh", "tanh"})
_EVEN = frozenset({"cos", "cosh", "abs"})


# ---------------------------------------------------------------- numbers

def to_q(v: float) -> Fraction:
    """The rational a float stands for: its shortest decimal (0.1 is 1/10)."""
    if v == v and abs(v) != math.inf:
        if v == int(v) and abs(v) < 2 ** 53:
            return int(v)
        return Q(repr(float(v)))
    return 0


_FMAX = Q(1.7976931348623157e308)
_HALF = Q(1, 2)


def _bounded(q: Fraction) -> Fraction:
    if type(q) is int:
        if q.bit_length() <= 1000:
            return q
    elif q.denominator == 1:
        q = q.numerator
        if q.bit_length() <= 1000:
            return q
    if q.numerator.bit_length() > 1000 and abs(q) > _FMAX:
        raise OverflowErr("a constant in the result overflows float64 (about 1.8e308)")
    if q.numerator.bit_length() > _MAX_BITS or q.denominator.bit_length() > _MAX_BITS:
        try:
            f = float(q)
        except OverflowError:
            f = math.inf
        if not math.isfinite(f):
            raise OverflowErr("a constant in the result overflows float64 (about 1.8e308)")
        return Q(f)
    return q


def _qpow(q: Fraction, n: int) -> Fraction | None:
    """q**n exactly, when that stays a reasonable size; None otherwise."""
    if q == 0 and n < 0:
        return None
    bits = max(q.numerator.bit_length(), q.denominator.bit_length())
    if bits * abs(n) > 4 * _MAX_BITS:
        return None
    return _bounded(Fraction(q) ** n if n < 0 else q ** n)


def _iroot(n: int, k: int) -> int | None:
    if n < 0:
        return None
    r = round(n ** (1.0 / k)) if n < 2 ** 1000 else None
    if r is None:
        return None
    for c in (r - 1, r, r + 1):
        if c >= 0 and c ** k == n:
            return c
    return None


def _qroot(q: Fraction, e: Fraction) -> Fraction | None:
    """q**e for a non-integer rational e when the result is rational (4^(1/2) = 2)."""
    if q < 0 or e.denominator > 64:
        return None
    a, b = _iroot(q.numerator, e.denominator), _iroot(q.denominator, e.denominator)
    if a is None or b is None:
        return None
    return _qpow(Q(a, b), e.numerator)


_QTEXT: dict = {}


def qtext(q: Fraction) -> str:
    """How a rational is written: the shorter of a decimal and p/q (ties: p/q, so 2/5, not 0.4)."""
    got = _QTEXT.get(q)
    if got is None:
        if len(_QTEXT) > 10_000:
            _QTEXT.clear()
        got = _QTEXT[q] = _qtext(q)
    return got


def _qtext(q: Fraction) -> str:
    f = float(q)
    dec = repr(f) if Q(repr(f)) == q else None
    if dec is not None and dec.endswith(".0"):
        dec = dec[:-2]
    frac = str(q) if q.denominator <= 10 ** 6 else None
    if dec is not None and (frac is None or len(dec) < len(frac)):
        return dec
    return frac or repr(f)


_QNODE: dict = {}


def qnode(q: Fraction) -> Node:
    """A number node; rationals that are not short decimals become p/q nodes."""
    got = _QNODE.get(q)
    if got is None:
        if len(_QNODE) > 10_000:
            _QNODE.clear()
        t = qtext(q)
        got = _QNODE[q] = (make("div", (expr.num(q.numerator), expr.num(q.denominator))) if "/" in t
                           else expr.num(float(q)))
    return got


# ---------------------------------------------------------------- forms

class Sum:
    __slots__ = ("const", "terms", "node", "owned", "raw")

    def __init__(self, const: Fraction, terms: dict, raw=None):
        self.const, self.terms, self.node = const, terms, None
        self.owned = False    # True: made by add, terms shared with no other form (may be reused)
        self.raw = raw        # (const, terms) before products of sums were multiplied out, or None


class Prod:
    __slots__ = ("coef", "factors", "node", "owned")

    def __init__(self, coef: Fraction, factors: dict):
        self.coef, self.factors, self.node = coef, factors, None
        self.owned = False    # True: made by mul, factors shared with no other form (may be reused)


def _number(q: Fraction) -> Prod:
    return Prod(_bounded(q), {})


class Simplifier:
    """State of one simplification: decompositions of the nodes it made."""

    def __init__(self):
        self.sum_of: dict[Node, tuple] = {}
        self.prod_of: dict[Node, tuple] = {}
        self.by_content: dict[tuple, Node] = {}
        if len(_TEXTS) > _CACHE_MAX or len(_COST) > _CACHE_MAX:
            _TEXTS.clear()
            _COST.clear()
            _LENGTHS.clear()
        self.cost, self.lengths, self.texts = _COST, _LENGTHS, _TEXTS
        self.overs: dict[Node, object] = {}  # sum node → its common-denominator form (over_of)
        self.expanding = False                # inside _multiplied_out
        self.work = 0     # terms and factors handled (the budget of simplify())
        self.numbers: dict[Node, Node] = {}   # stand-in variable → the number it holds

    # ---- decompositions ------------------------------------------------
    def number_of(self, f) -> Fraction | None:
        """The exact value of a form that is a plain number, else None."""
        if isinstance(f, Prod):
            return f.coef if not f.factors or f.coef == 0 else None
        if isinstance(f, Sum):
            return f.const if not f.terms else None
        if f.op == "num":
            return to_q(f.value)
        if f.op == "div" and f.args[0].op == "num" and f.args[1].op == "num" and f.args[1].value != 0:
            a, b = f.args
            if a.value == int(a.value) and b.value == int(b.value):
                return Q(int(a.value), int(b.value))
        return None

    def as_sum(self, f) -> tuple[Fraction, dict]:
        if isinstance(f, Sum):
            return f.const, f.terms
        q = self.number_of(f) if not isinstance(f, Node) or f.op == "num" or f.op == "div" else None
        if q is not None:
            return q, {}
        if isinstance(f, Node):
            got = self.sum_of.get(f)
            if got is not None:
                return got
            c, fac = self.as_prod(f)
        else:
            c, fac = f.coef, f.factors
        expanded = self._expand(c, fac)
        if expanded is not None:
            return expanded
        return self._single_term(c, fac)

    def _single_term(self, c, fac):
        mono = self._prod_node(1, fac, False) if fac else expr.ONE   # a term's key: never cleared
        return 0, {mono: c}

    def _expand(self, c, fac):
        """c·M·(a + b)^n inside a sum, multiplied out one level when that gives at
        most EXPAND terms (so like terms can meet: exp(x)(s + c) + exp(x)(c - s))."""
        sums = []
        count = 1
        sum_of = self.sum_of
        for base, e in fac.items():
            if base in sum_of and isinstance(e, _QT) and e.denominator == 1 and e >= 1:
                k0, t0 = self.sum_of[base]
                count *= (len(t0) + (k0 != 0)) ** int(e)
                if count > EXPAND:
                    return None
                sums.append((base, int(e)))
        if not sums:
            return None
        rest = {b: e for b, e in fac.items() if all(b is not sb for sb, _ in sums)}
        acc = [Prod(c, rest)]
        for base, e in sums:
            k0, t0 = self.sum_of[base]
            parts = [Prod(k0, {})] if k0 != 0 else []
            for m, v in t0.items():
                mc, mf = self.as_prod(m)
                parts.append(Prod(v if mc == 1 else v * mc, dict(mf)))
            for _ in range(e):
                acc = [self.mul(a, b) for a in acc for b in parts]
        const, terms = 0, {}
        for f in acc:
            if isinstance(f, Sum):
                const += f.const
                t = f.terms
            elif not f.factors or f.coef == 0:
                const += f.coef
                continue
            else:
                _, t = self._single_term(f.coef, f.factors)
            for m, v in t.items():
                v = terms.get(m, 0) + v
                if v == 0:
                    terms.pop(m, None)
                else:
                    terms[m] = v
        return _bounded(const), terms

    def as_prod(self, f) -> tuple[Fraction, dict]:
        if isinstance(f, Prod):
            return f.coef, f.factors
        if isinstance(f, Node):
            if f.op == "num" or f.op == "div":
                q = self.number_of(f)
                if q is not None:
                    return q, {}
            got = self.prod_of.get(f)
            if got is not None:
                return got
            if f is E:
                return 1, {E: 1}
            return 1, {f: 1}
        if not f.terms:   # a Sum
            return f.const, {}
        if f.const == 0 and len(f.terms) == 1:
            (mono, c), = f.terms.items()
            mc, mf = self.as_prod(mono)
            return _bounded(c * mc), mf
        if self._negative_sum(f.const, f.terms):
            c, fac = self.as_prod(self.materialize(Sum(-f.const, {k: -v for k, v in f.terms.items()})))
            return -c, fac
        return self.as_prod(self.materialize(f))

    @staticmethod
    def _negative_sum(const, terms) -> bool:
        return bool(terms) and const <= 0 and all(c < 0 for c in terms.values())

    def is_negative(self, f) -> bool:
        q = self.number_of(f)
        if q is not None:
            return q < 0
        if isinstance(f, Sum):
            return self._negative_sum(f.const, f.terms)
        c, _ = self.as_prod(f)
        return c < 0

    def negate(self, f):
        if isinstance(f, Sum):
            raw = f.raw and (-f.raw[0], {k: -v for k, v in f.raw[1].items()})
            return Sum(-f.const, {k: -v for k, v in f.terms.items()}, raw)
        c, fac = self.as_prod(f)
        return self.unit_sum(Prod(-c, fac))

    # ---- exponents (exact rationals or canonical nodes) -----------------
    def exp_form(self, e):
        return _number(e) if isinstance(e, _QT) else e

    def exp_value(self, f):
        """A form used as an exponent: a rational, or its node."""
        q = self.number_of(f)
        if q is not None:
            return q
        if isinstance(f, Prod):   # one node per value: -(x^3 + 1)x and -x^4 - x are the same exponent
            k, t = self.as_sum(f)
            return self.materialize(Sum(k, t))
        return self.materialize(f)

    def exp_add(self, a, b):
        if isinstance(a, _QT) and isinstance(b, _QT):
            return _bounded(a + b)
        return self.exp_value(self.add(self.exp_form(a), self.exp_form(b)))

    def exp_scale(self, a, k: Fraction):
        if isinstance(a, _QT):
            return _bounded(a * k)
        return self.exp_value(self.mul(self.exp_form(a), _number(k)))

    # ---- algebra on forms ----------------------------------------------
    def _sum_parts(self, f):
        """as_sum(f) and the terms before multiplying out (None when the same)."""
        if isinstance(f, Sum):
            return f.const, f.terms, f.raw
        if isinstance(f, Node) and f in self.sum_of:
            k, t = self.sum_of[f]
            return k, t, None
        k, t = self.as_sum(f)
        if len(t) < 2:
            return k, t, None
        c, fac = self.as_prod(f)
        return k, t, self._single_term(c, fac)

    @staticmethod
    def _merge(ra, rb, sign):
        """Terms ra ± rb (dictionaries of monomial → coefficient, plus a constant)."""
        k, t = ra[0] + (rb[0] if sign > 0 else -rb[0]), dict(ra[1])
        for m, v in rb[1].items():
            v = t.get(m, 0) + (v if sign > 0 else -v)
            if v == 0:
                t.pop(m, None)
            else:
                t[m] = v
        return (k, t) if len(t) <= MAX_COLLECT else None

    def add(self, a, b, sign: int = 1, reuse: bool = False) -> Sum:
        """a ± b (``reuse``: the caller needs ``a`` no more, as in mul)."""
        ca, ta, ra = self._sum_parts(a)
        cb, tb, rb = self._sum_parts(b)
        raw = None
        if ra is not None or rb is not None:   # the terms as written, for factoring: (x - 2)^3 (11x - 14)
            raw = self._merge(ra or (ca, ta), rb or (cb, tb), sign)
        steal = reuse and isinstance(a, Sum) and a.owned and a is not b
        terms = ta if steal else dict(ta)
        self.work += len(tb) + (0 if steal else len(ta))
        if steal:
            a.owned, a.terms = False, {}
        for k, v in tb.items():
            v = terms.get(k, 0) + (v if sign > 0 else -v)
            if v == 0:
                terms.pop(k, None)
            else:
                terms[k] = _bounded(v)
        out = Sum(_bounded(ca + cb if sign > 0 else ca - cb), terms, raw)
        out.owned = True
        return out

    def mul(self, a, b, inverse: bool = False, reuse: bool = False):
        """a·b (a/b when ``inverse``). ``reuse``: the caller needs ``a`` no more, so
        an owned product's factor dict is extended in place instead of copied
        (a chain x1·x2·…·xn stays linear)."""
        ca, fa = self.as_prod(a)
        cb, fb = self.as_prod(b)
        if inverse:
            if cb == 0:
                return None
            cb = _qdiv(1, cb)
        coef = _bounded(ca * cb)
        if coef == 0:
            return _number(0)
        steal = reuse and isinstance(a, Prod) and a.owned and a is not b
        factors = fa if steal else dict(fa)
        self.work += len(fb) + (0 if steal else len(fa))
        if steal:
            a.owned, a.factors = False, {}
        for base, e in fb.items():
            if inverse:
                e = _bounded(-e) if isinstance(e, _QT) else self.exp_scale(e, -1)
            old = factors.get(base)
            if isinstance(e, _QT) and (old is None or isinstance(old, _QT)):   # the common case
                if old is not None:
                    e = _bounded(old + e)
                if e == 0:
                    factors.pop(base, None)
                else:
                    factors[base] = e
                continue
            if old is not None and self._terms(old) + self._terms(e) > EXPAND:
                # x^a·x^b with long exponent sums stays two factors: exponents do not grow level
                # by level (in a tower x^x^…^x each would be as long as its depth)
                whole = self._factor_node(base, factors.pop(base))
                factors[whole] = self.exp_add(factors[whole], 1) if whole in factors else 1
                old = None
            e = e if old is None else self.exp_add(old, e)
            if isinstance(e, _QT) and e == 0:
                factors.pop(base, None)
            else:
                factors[base] = e
        out = Prod(coef, factors)
        out.owned = True
        out = self._rejoin(out, fb)
        # a's own factors are already folded (it came from mul): only b's can fold now
        return self.unit_sum(self.fold(out, fb if steal else None))

    def _rejoin(self, out: Prod, bases) -> Prod:
        """A product kept whole under a root, sqrt(x^2) = (x^2)^(1/2), is its factors again
        at a whole exponent: sqrt(x^2)^2 = sqrt(x^2)·sqrt(x^2) = x·x, which cancels against x^2."""
        factors, prods = out.factors, self.prod_of
        hits = None
        for b in bases:   # (most bases are their own decomposition: nothing to rejoin)
            got = prods.get(b)
            if got is not None and b not in got[1]:
                e = factors.get(b)
                if isinstance(e, _QT) and e.denominator == 1 and all(isinstance(x, _QT) for x in got[1].values()):
                    hits = [b] if hits is None else hits + [b]
        if hits is None:
            return out
        for b in hits:
            n = int(factors[b])
            c, fac = prods[b]
            cn = _qpow(c, n)
            if cn is None:
                continue
            rest = Prod(out.coef, {k: e for k, e in factors.items() if k is not b})
            out = self.mul(rest, Prod(cn, {k: _bounded(e * n) for k, e in fac.items()}))
            if not isinstance(out, Prod):
                return out
            factors = out.factors
        return out

    def _terms(self, e) -> int:
        """The number of terms of an exponent (1 for a rational or a single term)."""
        got = None if isinstance(e, _QT) else self.sum_of.get(e)
        return 1 if got is None else len(got[1]) + (got[0] != 0)

    def unit_sum(self, f):
        """±(a + b) as a product is the sum ±a ± b (one form for both spellings)."""
        if isinstance(f, Prod) and abs(f.coef) == 1 and len(f.factors) == 1:
            (base, e), = f.factors.items()
            if isinstance(e, _QT) and e == 1 and base in self.sum_of:
                k, t = self.sum_of[base]
                return Sum(k * f.coef, {m: v * f.coef for m, v in t.items()})
        return f

    def fold(self, f, bases=None):
        """Tidy a product's factors (only ``bases`` and their partners are looked at
        when given): numbers to integer powers join the coefficient (sqrt(2)^4 = 4)
        and other powers of a number keep an exponent in (0, 1) (2^(-3/2) = 2^(1/2)/4);
        a product raised to an integer is multiplied in ((2x)^1 = 2x);
        sin(u)/cos(u) = tan(u), sinh(u)/cosh(u) = tanh(u)."""
        if not isinstance(f, Prod):
            return f
        fac = f.factors
        if bases is None:
            items = list(fac.items())
        else:
            look = list(bases)
            look += [make(_PARTNER[b.op], b.args) for b in bases if b.op in _PARTNER]
            items = [(b, fac[b]) for b in look if b in fac]
        for base, e in items:
            if base not in fac or fac[base] is not e and fac[base] != e:
                continue
            if not isinstance(e, _QT):
                continue
            if base.op == "num":
                n = math.floor(e)
                v = _qpow(to_q(base.value), n) if n else 1
                if v is not None:
                    f.coef = _bounded(f.coef * v)
                    if e == n:
                        del fac[base]
                    else:
                        fac[base] = e - n
            elif e.denominator == 1 and base in self.prod_of:
                c, bf = self.prod_of[base]
                if bf.get(base) is None and (c != 1 or len(bf) > 1):
                    cn = _qpow(c, int(e))
                    if cn is not None:
                        del fac[base]
                        f.coef = _bounded(f.coef * cn)
                        for b, be in bf.items():
                            new = self.exp_scale(be, e)
                            old = fac.get(b)
                            new = new if old is None else self.exp_add(old, new)
                            if isinstance(new, _QT) and new == 0:
                                fac.pop(b, None)
                            else:
                                fac[b] = new
            elif base.op in _QUOTIENT and e > 0:
                other = make(_QUOTIENT[base.op], base.args)
                oe = fac.get(other)
                if oe is not None and isinstance(oe, _QT) and oe < 0:
                    k = min(e, -oe)
                    t = make(_RATIO[base.op], base.args)
                    for b, ne in ((base, e - k), (other, oe + k), (t, fac.get(t, 0) + k)):
                        if ne == 0:
                            fac.pop(b, None)
                        else:
                            fac[b] = ne
        if f.coef == 0:
            f.factors = {}
        return f

    def power(self, a, b):
        """a^b, or None when no rewrite applies (the caller keeps pow(a, b))."""
        r = self._power(a, b)
        return self.fold(r) if isinstance(r, Prod) else r

    def _power(self, a, b):
        bq = self.number_of(b)
        c, fac = self.as_prod(a)
        if bq is not None:
            if bq == 0:
                return _number(1)
            if bq == 1:
                return a
            if bq.denominator == 1:
                n = int(bq)
                cn = _qpow(c, n)
                if cn is None:
                    if c == 0:
                        return UNDEFINED
                    if fac:   # a large number to a power: keep it as a factor
                        return self.mul(Prod(1, {self.materialize(_number(c)): bq}),
                                        Prod(1, {k: self.exp_scale(e, bq) for k, e in fac.items()}))
                    return Prod(1, {self.materialize(_number(c)): bq})
                return self._rejoin(Prod(cn, {k: self.exp_scale(e, bq) for k, e in fac.items()}), fac)
            # non-integer exponent
            if not fac:
                if c < 0:
                    return None
                r = _qroot(c, bq)
                return _number(r) if r is not None else self._rational_power(c, bq)
            if len(fac) == 1 and c > 0:
                (base, e), = fac.items()
                if base is E or (isinstance(e, _QT) and (e == 1 or e.denominator != 1)):
                    cr = _qroot(c, bq) if c != 1 else 1
                    if cr is not None:
                        return Prod(cr, {base: self.exp_scale(e, bq)})
                    # (c u)^q = c^q u^q for c > 0 where u^q needs u ≥ 0: sqrt(2x) = sqrt(2) sqrt(x)
                    return self.mul(self._rational_power(c, bq), Prod(1, {base: self.exp_scale(e, bq)}))
            return Prod(1, {self.materialize(a): bq})
        bn = self.materialize(b)
        if c == 1 and len(fac) == 1 and E in fac:   # exp(w)^b = exp(w b)
            return Prod(1, {E: self.exp_value(self.mul(self.exp_form(fac[E]), b))})
        return Prod(1, {self.materialize(a): bn})

    def _rational_power(self, c: Fraction, e: Fraction) -> Prod:
        """c^e for a rational c > 0 as powers of integers, (1/5)^(1/2) = 5^(1/2)/5, a square
        factor taken out, 8^(1/2) = 2·2^(1/2) (a number too large for that stays whole)."""
        if max(c.numerator, c.denominator) >= 2 ** 53:
            return Prod(1, {self.materialize(_number(c)): e})
        coef, fac = 1, {}
        for n, sign in ((c.numerator, 1), (c.denominator, -1)):
            k = e.denominator
            out = 1
            d = 2
            while n > 1 and d ** k <= n and d <= 1000:
                while n % d ** k == 0:
                    n //= d ** k
                    out *= d
                d += 1
            coef *= _qpow(Q(out), e.numerator * sign)
            if n != 1:
                fac[expr.num(n)] = e * sign
        return self.fold(Prod(coef, fac))

    def call(self, op: str, a):
        """op(a) with exact special values, sign rules and exp/log pairs."""
        if op == "sqrt":
            return self.power(a, _number(_HALF)) or self.atom(op, a)
        if op == "exp":
            return self.exp(a)
        q = self.number_of(a)
        if q is not None:
            v = _SPECIAL.get((op, q))
            if v is not None:
                return _number(v)
            if op == "abs":
                return _number(abs(q))
            if op == "log" and q == 0:
                return UNDEFINED
        if op == "log":
            c, fac = self.as_prod(a)
            if c == 1 and len(fac) == 1 and E in fac:
                return self.exp_form(fac[E])
        if isinstance(a, Node) and a.op == _INVERSE.get(op):   # tan(atan(u)) = u
            return a.args[0]
        if op in _ODD and self.is_negative(a):
            return self.negate(self.call(op, self.negate(a)))
        if op in _EVEN and self.is_negative(a):
            a = self.negate(a)
        if op in ("sin", "cos") and self.materialize(a).op == "atan":
            u = self.materialize(a).args[0]   # cos(atan(u)) = 1/sqrt(u^2 + 1), sin(atan(u)) = u cos(atan(u))
            r = self.power(self.add(self.power(u, _number(2)), _number(1)), _number(Q(-1, 2)))
            return r if op == "cos" else self.mul(u, r)
        if op == "abs":
            c, fac = self.as_prod(a)
            if not fac:
                return _number(abs(c))
            inner = self.materialize(Prod(1, fac))
            if inner.op == "abs":
                return Prod(abs(c), {inner: 1})
            return Prod(abs(c), {make("abs", (inner,)): 1})
        return self.atom(op, a)

    def exp(self, a):
        const, terms = self.as_sum(a)
        rest: dict = {}
        out = Prod(1, {})
        for mono, c in terms.items():
            if mono.op == "log":       # exp(c·log(v)) = v^c: log already needs v > 0
                out = self.mul(out, self.power(mono.args[0], _number(c)) or
                               Prod(1, {mono.args[0]: c}))
            else:
                rest[mono] = c
        w = Sum(const, rest)
        wq = self.number_of(w)
        if wq is not None and wq == 0:
            return out
        return self.mul(out, Prod(1, {E: self.exp_value(w)}))

    def atom_node(self, op, a) -> Node:
        return make(op, (self.materialize(a),))

    def atom(self, op, a) -> Node:
        return self.atom_node(op, a)

    # ---- back to nodes ---------------------------------------------------
    def node_cost(self, n: Node) -> int:
        """The length of ``n`` printed (an estimate), cached, without recursion."""
        cost = self.cost
        got = cost.get(n)
        if got is not None:
            return got
        if all(a in cost for a in n.args):
            got = cost[n] = (sum(cost[a] for a in n.args) + (len(n.op) + 2 if n.op not in _INFIX else 3)
                             if n.args else len(str(n.value)) if n.op != "vector" else 2)
            return got
        for m in topo_order(n, stop=cost):
            if m in cost:
                continue
            if not m.args:
                cost[m] = len(str(m.value)) if m.op != "vector" else 2
            else:
                cost[m] = sum(cost[a] for a in m.args) + (len(m.op) + 2 if m.op not in _INFIX else 3)
        return cost[n]

    def materialize(self, f) -> Node:
        if isinstance(f, Node):
            return f
        if f.node is not None:
            return f.node
        if isinstance(f, Sum):
            n = self._sum_node(f.const, f.terms, raw=f.raw)
        else:
            n = self._prod_node(f.coef, f.factors)
        f.node = n
        return n

    def _factor_node(self, base: Node, e) -> Node:
        if base is E:
            return E if (isinstance(e, _QT) and e == 1) else make("exp", (qnode(e) if isinstance(e, _QT) else e,))
        if type(e) is int:
            return base if e == 1 else make("pow", (base, qnode(e)))
        if isinstance(e, Fraction):   # (not compared with ==: that is Fraction's Python code)
            if e.numerator == 1 and e.denominator <= 2:
                return base if e.denominator == 1 else make("sqrt", (base,))
            return make("pow", (base, qnode(e)))
        return make("pow", (base, e))

    def _prod_node(self, coef: Fraction, factors: dict, clear: bool = True) -> Node:
        """A product's node (``clear``: a fraction in a denominator may be cleared; not
        for the terms of a sum, which stay alike so that they can share factors)."""
        if coef == 0:
            return expr.ZERO
        if not factors:
            return qnode(coef)
        key = ("P", coef, frozenset(factors.items()), clear)
        got = self.by_content.get(key)
        if got is not None:
            return got
        self.work += len(factors)
        items = list(factors.items())
        if len(items) > 1:
            items.sort(key=_item_rank)
        top, bottom = [], []
        for base, e in items:
            if e == 1 and base is not E:
                top.append(base)
            elif isinstance(e, _QT) and e < 0:
                bottom.append(self._factor_node(base, -e))
            else:
                top.append(self._factor_node(base, e))
        mag = abs(coef)
        if type(mag) is int:
            p, q = mag, 1
        elif "/" in qtext(mag) or bottom and mag.denominator <= 10 ** 6:   # a quotient anyway: 1/(10x), not 0.1/x
            p, q = mag.numerator, mag.denominator
        else:
            p, q = mag, 1
        if p != 1:
            top.insert(0, qnode(p))
        if q != 1:
            bottom.insert(0, expr.num(q))
        if coef < 0:
            if top and top[0].op == "num":
                top[0] = expr.num(-top[0].value)
            elif top and top[0] in self.sum_of and top[0] in factors and isinstance(factors[top[0]], _QT) \
                    and factors[top[0]] == 1:   # -(a - b)(…) is written (b - a)(…)
                k, t = self.sum_of[top[0]]
                top[0] = self._sum_node(-k, {m: -v for m, v in t.items()}, MAX_DEPTH)
            elif top:
                top[0] = make("neg", (top[0],))
            else:
                top = [expr.num(-1)]
        node = top[0] if top else expr.ONE
        for m in top[1:]:
            node = make("mul", (node, m))
        if bottom:
            node = make("div", (node, _chain("mul", bottom)))
        if clear:
            for alt in (self._cleared(coef, factors), self._multiplied_out(coef, factors),
                        self._secant(coef, factors)):
                if alt is not None and self._length(alt) < self._length(node):
                    node = alt
        self.by_content[key] = node
        if node not in self.prod_of:
            self.prod_of[node] = (coef, dict(factors))
        return node

    def _secant(self, coef, factors) -> Node | None:
        """tan(u)^2 + 1 as a factor written 1/cos(u)^2: 3x^2/cos(x^3)^2."""
        new = None
        for base, e in factors.items():
            got = self.sum_of.get(base)
            if got is None or got[0] != 1 or len(got[1]) != 1 or not isinstance(e, _QT):
                continue
            (t, c), = got[1].items()
            if c == 1 and t.op == "pow" and t.args[0].op == "tan" and t.args[1] is expr.TWO:
                new = dict(factors) if new is None else new
                del new[base]
                cos = make("cos", t.args[0].args)
                new[cos] = new.get(cos, 0) - 2 * e
                if new[cos] == 0:
                    del new[cos]
        return None if new is None else self.materialize(self.fold(Prod(coef, new)))

    def _multiplied_out(self, coef, factors) -> Node | None:
        """A product of sums multiplied out, 2x(x - 2)(x + 2) = 2x^3 - 8x (up to EXPAND terms;
        not inside another multiplying out; one sum only when terms cancel)."""
        if self.expanding:
            return None
        out = self._expand(coef, factors)
        if out is None:
            return None
        sums = [(b, e) for b, e in factors.items() if isinstance(e, _QT) and e >= 1 and e.denominator == 1 and b in self.sum_of]
        if len(sums) == 1 and sums[0][1] == 1 and len(out[1]) + (out[0] != 0) >= self._terms(sums[0][0]):
            return None   # one sum times the rest stays so unless terms cancel: sigmoid(x)(1 - sigmoid(x))
        self.expanding = True
        try:
            return self._sum_node(*out)
        finally:
            self.expanding = False

    def _cleared(self, coef, factors) -> Node | None:
        """The product with a fraction cleared from a denominator, 1/(A/D + B) = D/(A + B D)
        (one sum per level; printed only when shorter)."""
        for base, e in factors.items():
            if not (isinstance(e, _QT) and e < 0 and e.denominator == 1 and base in self.sum_of):
                continue
            over = self.over_of(base)
            if over is None or not over[1]:
                continue
            k, t, den = over
            rest = dict(factors)
            del rest[base]
            f = self.mul(Prod(coef, rest), self.power(Sum(k, t), _number(e)))
            f = self.mul(f, Prod(1, {b: -be * e for b, be in den.items()}))
            return self.materialize(f)
        return None

    def _term_node(self, mono: Node, c: Fraction) -> Node:
        mc, mf = self.as_prod(mono)
        return self._prod_node(_bounded(c * mc), mf, False)

    def _sum_node(self, const: Fraction, terms: dict, depth: int = 0, raw=None) -> Node:
        if not terms:
            return qnode(const)
        if const == 0 and len(terms) == 1:
            (mono, c), = terms.items()
            return self._term_node(mono, c)
        key = ("S", const, frozenset(terms.items()))
        got = self.by_content.get(key)
        if got is not None:
            return got
        self.work += len(terms)
        plain = best = self._plain_sum(const, terms)
        fact = None
        if depth < MAX_DEPTH:
            expanding, self.expanding = self.expanding, True   # the candidates are not multiplied out again
            try:
                fact = self._factored(const, terms, depth)
                cands = [fact, self._collected(const, terms, depth), self._together(const, terms, depth)]
                if raw is not None and raw[1] != terms:   # factors of the terms as written: x^3(5 - x)(10 - 3x)
                    cands += [self._factored(raw[0], raw[1], depth), self._plain_sum(raw[0], raw[1])]
            finally:
                self.expanding = expanding
            length = self._length
            for cand in cands:
                if cand is not None and cand is not best and length(cand) < length(best):
                    best = cand
        if best is plain:   # printed as a sum; as a factor, its content and sign come out: 2x + 2 = 2(x + 1)
            self.prod_of.setdefault(plain, self.prod_of.get(fact) if fact is not None and fact in self.prod_of
                                    else (1, {plain: 1}))
        self.by_content[key] = best
        if best not in self.sum_of:
            self.sum_of[best] = (const, dict(terms))
        return best

    def _length(self, node: Node) -> int:
        """Printed length (exact when small, an estimate otherwise)."""
        got = self.lengths.get(node)
        if got is not None:
            return got
        texts = self.texts
        args = node.args
        if args:   # its parts are printed already (the common case: a candidate made of known parts)
            n = 0
            for a in args:
                t = texts.get(a)
                if t is None:
                    break
                n += len(t[0])
            else:
                if n <= 4000:
                    got = self.lengths[node] = len(printed(node, texts))
                    return got
        # one walk for both node_cost and printing: the parts not costed or not printed yet
        # (tape.topo_order's walk with its stop test inline: this is the simplifier's hot path)
        cost = self.cost
        order, seen, stack = [], set(), [node]
        push, pop, emit, done = stack.append, stack.pop, order.append, seen.add
        while stack:
            n = stack[-1]
            if n in seen:
                pop()
                continue
            pending = False
            args = n.args
            if args and (n not in cost or n not in texts):
                for a in reversed(args):
                    if a not in seen:
                        push(a)
                        pending = True
            if not pending:
                pop()
                done(n)
                emit(n)
        for m in order:
            if m not in cost:
                args = m.args
                if args:
                    c = 3 if m.op in _INFIX else len(m.op) + 2
                    for a in args:
                        c += cost[a]
                    cost[m] = c
                else:
                    cost[m] = len(str(m.value)) if m.op != "vector" else 2
        c = cost[node]
        if c <= 4000:
            for m in order:
                if m not in texts:
                    printed(m, texts)   # its parts are printed already
            c = len(texts[node][0])
            self.work += c // 8
        got = self.lengths[node] = c
        return got

    def _collected(self, const, terms, depth) -> Node | None:
        """Group terms that share a factor: a·X + b·X + c → (a + b)·X + c, greedily,
        the factor that saves the most characters first (bounded: each round
        removes at least one term)."""
        if not 2 <= len(terms) <= MAX_COLLECT:
            return None
        seen, shared = set(), False
        for m in terms:
            for base in self.as_prod(m)[1]:
                if base in seen:
                    shared = True
                    break
                seen.add(base)
            if shared:
                break
        if not shared:   # no factor in two terms: nothing to group
            return None
        items = []
        for m, c in terms.items():
            mc, mf = self.as_prod(m)
            items.append((_bounded(c * mc), dict(mf)))
        changed = False
        while len(items) > 1:
            occ: dict = {}
            for idx, (_, f) in enumerate(items):
                for base in f:
                    occ.setdefault(base, []).append(idx)
            best = None
            for base, idxs in occ.items():
                if len(idxs) < 2:
                    continue
                es = [items[i][1][base] for i in idxs]
                if all(isinstance(e, _QT) and e > 0 for e in es):
                    ec = min(es)
                elif all(isinstance(e, _QT) and e < 0 for e in es):
                    ec = max(es)
                elif not isinstance(es[0], _QT) and all(e is es[0] for e in es):
                    ec = es[0]
                else:
                    continue
                shown = self._factor_node(base, abs(ec) if isinstance(ec, _QT) else ec)
                saving = (len(idxs) - 1) * self.node_cost(shown)
                if best is None or saving > best[0]:
                    best = (saving, base, ec, idxs)
            if best is None or best[0] < 3:
                break
            _, base, ec, idxs = best
            ic, it = 0, {}
            for i in idxs:
                c, f = items[i]
                f = dict(f)
                rem = f[base] - ec if isinstance(ec, _QT) else 0
                if rem == 0:
                    del f[base]
                else:
                    f[base] = rem
                if not f:
                    ic += c
                    continue
                (m, v), = self._single_term(c, f)[1].items()
                v = it.get(m, 0) + v
                if v == 0:
                    it.pop(m, None)
                else:
                    it[m] = v
            new = self.mul(Prod(1, {base: ec}), self._sum_node(_bounded(ic), it, depth + 1))
            keep = set(idxs)
            items = [t for k, t in enumerate(items) if k not in keep]
            if new.coef != 0:
                items.append((new.coef, dict(new.factors)))
            changed = True
        if not changed:
            return None
        out: dict = {}
        k0 = const
        for c, f in items:
            if not f:
                k0 += c
                continue
            (m, v), = self._single_term(c, f)[1].items()
            out[m] = out.get(m, 0) + v
        out = {m: v for m, v in out.items() if v != 0}
        if not out:
            return qnode(k0)
        return self._plain_sum(_bounded(k0), out)

    def _over(self, const, terms):
        """A sum over its common denominator: (numerator's const and terms, D) with
        sum = numerator / Π b^k for (b, k) in D, the numerator multiplied out one
        level (so (x + 1) - (x - 1) meets and is 2); None without denominators."""
        if len(terms) > MAX_COLLECT:
            return None
        den: dict = {}
        for m in terms:
            for b, e in self.as_prod(m)[1].items():
                if isinstance(e, _QT) and e < 0 and -e > den.get(b, 0):
                    den[b] = -e
        if not den:
            return None
        k, t = self.as_sum(self.mul(_number(const), Prod(1, dict(den))))
        t = dict(t)
        for m, c in terms.items():   # Σ term·D, summed as add would, without its terms as written
            mc, mf = self.as_prod(m)
            kb, tb = self.as_sum(self.mul(Prod(_bounded(c * mc), dict(mf)), Prod(1, dict(den))))
            self.work += len(tb) + len(t)
            for b, v in tb.items():
                v = t.get(b, 0) + v
                if v == 0:
                    t.pop(b, None)
                else:
                    t[b] = _bounded(v)
            k = _bounded(k + kb)
        if len(t) > MAX_COLLECT:
            return None
        return k, t, den

    def over_of(self, base: Node):
        """:meth:`_over` of a sum node, cached."""
        got = self.overs.get(base, False)
        if got is False:
            k, t = self.sum_of[base]
            got = self.overs[base] = self._over(k, t)
        return got

    def _together(self, const, terms, depth) -> Node | None:
        """The terms over their common denominator, A/D + B/D² → (A D + B)/D²."""
        over = self._over(const, terms)
        if over is None:
            return None
        k, t, den = over
        if not t:
            nc, nf = k, {}
        elif k == 0 and len(t) == 1:
            nc, nf = self.as_prod(Sum(k, t))
        else:
            nn = self._sum_node(k, t, depth + 1)
            nc, nf = self.prod_of.get(nn) or (1, {nn: 1})
        if nc == 0:
            return expr.ZERO
        out = self.mul(Prod(nc, dict(nf)), Prod(1, dict(den)), inverse=True)
        return self.materialize(out) if isinstance(out, Prod) else None

    def _plain_sum(self, const, terms) -> Node:
        """The terms written one after another: a + b - c (no factoring)."""
        if True:
            items = list(terms.items())
            if const != 0:
                items.append((None, const))
            if items[0][1] < 0:  # lead with a positive term: 1 - x, not -x + 1
                k = next((k for k, (_, c) in enumerate(items) if c > 0), 0)
                items.insert(0, items.pop(k))
            parts = []
            for mono, c in items:
                parts.append((c, qnode(abs(c)) if mono is None else self._term_node(mono, abs(c))))
            c0, n0 = parts[0]
            if c0 < 0:
                n0 = qnode(c0) if items[0][0] is None else self._term_node(items[0][0], c0)
            node = n0
            for c, n in parts[1:]:
                node = make("add" if c > 0 else "sub", (node, n))
        return node

    def _factored(self, const, terms, depth: int = 0) -> Node | None:
        """c·X·A + c·X·B → c·X·(A + B): a factor of every term (and the integer content) taken out."""
        decomp = [(self.as_prod(m), c) for m, c in terms.items()]
        first = decomp[0][0][1] if const == 0 else {}
        common = {}
        for base, e in first.items():
            es = [f.get(base) for (_, f), _ in decomp]
            if any(x is None for x in es):
                continue
            if all(isinstance(x, _QT) and x > 0 for x in es):
                common[base] = min(es)
            elif all(isinstance(x, _QT) and x < 0 for x in es):   # a common denominator: A/D + B/D = (A + B)/D
                common[base] = max(es)
            elif not isinstance(e, _QT) and all(x is es[0] for x in es):
                common[base] = e
        coefs = [c * mc for (mc, _), c in decomp] + ([const] if const != 0 else [])
        g = math.gcd(*coefs) if all(type(q) is int for q in coefs) else \
            math.gcd(*(q.numerator for q in coefs)) if all(q.denominator == 1 for q in coefs) else 1
        if not common and g == 1:
            return None
        inner: dict = {}
        k0 = _qdiv(const, g)
        for ((mc, mf), c) in decomp:
            rest = {}
            for base, e in mf.items():
                if base in common:
                    e2 = e if not isinstance(e, _QT) or not isinstance(common[base], _QT) else e - common[base]
                    if isinstance(e2, _QT) and e2 == 0 or e2 is common[base] and not isinstance(e2, _QT):
                        continue
                    rest[base] = e2
                else:
                    rest[base] = e
            k1, t1 = self.as_sum(Prod(_qdiv(c * mc, g), rest))
            k0 = _bounded(k0 + k1)
            for m, v in t1.items():
                inner[m] = _bounded(inner.get(m, 0) + v)
        inner = {m: c for m, c in inner.items() if c != 0}
        if self._negative_sum(k0, inner):
            sign, k0, inner = -1, -k0, {m: -c for m, c in inner.items()}
        else:
            sign = 1
        if len(inner) + (k0 != 0) < 2:
            return None
        return self.materialize(self.mul(Prod(sign * g, dict(common)), self._sum_node(k0, inner, depth + 1)))

    # ---- one node of the input -----------------------------------------
    def step(self, n: Node, args: list, reuse: bool = False):
        """The form of ``n`` from its arguments' forms (``reuse``: args[0] is needed no more)."""
        op = n.op
        if UNDEFINED in args:   # (forms compare by identity)   # calc evaluates every argument: x·(1/0) has no value either
            zero = [self.number_of(a) == 0 for a in args]
            if op == "mul" and any(zero) or op == "div" and zero[0]:
                return _number(0)   # but a zero factor wins, as it does for 0·x: d/dx sqrt(x - x) = 0
            return UNDEFINED
        if op == "num":
            return _number(to_q(n.value))
        if op == "var":
            held = self.numbers.get(n)
            return n if held is None else _number(to_q(held.value))
        if op == "const":
            return Prod(1, {E: 1}) if n is E else n
        if op == "add":
            return self.add(args[0], args[1], reuse=reuse)
        if op == "sub":
            return self.add(args[0], args[1], -1, reuse=reuse)
        if op == "neg":
            return self.negate(args[0])
        if op == "mul":
            return self.mul(args[0], args[1], reuse=reuse)
        if op == "div":
            r = self.mul(args[0], args[1], inverse=True, reuse=reuse)
            return r if r is not None else UNDEFINED
        if op == "pow":
            r = self.power(args[0], args[1])
            return r if r is not None else make("pow", tuple(self.materialize(a) for a in args))
        p = PRIMS.get(op)
        if p is not None and p.arity == 1 and not p.array and len(args) == 1:
            return self.call(op, args[0])
        return make(op, tuple(self.materialize(a) for a in args), n.value)


_INFIX = frozenset({"add", "sub", "mul", "div", "pow", "neg"})

_QUOTIENT = {"sin": "cos", "sinh": "cosh"}
_PARTNER = {"sin": "sin", "cos": "sin", "sinh": "sinh", "cosh": "sinh"}   # where a quotient is looked for
_RATIO = {"sin": "tan", "sinh": "tanh"}
_INVERSE = {"tan": "atan", "sin": "asin", "cos": "acos", "sinh": "asinh", "tanh": "atanh"}

_SPECIAL = {
    ("sin", 0): 0, ("cos", 0): 1, ("tan", 0): 0, ("asin", 0): 0,
    ("acos", 1): 0, ("atan", 0): 0, ("sinh", 0): 0, ("cosh", 0): 1,
    ("tanh", 0): 0, ("log", 1): 0, ("sigmoid", 0): Q(1, 2),
}


def _item_rank(item) -> tuple:
    """Where a (base, exponent) factor goes in a printed product: numbers, constants,
    variables, other factors, sums."""
    base = item[0]
    op = base.op
    if op == "num":
        return (0, "")
    if op == "const" and base is not E:
        return (1, base.value)
    if op == "var":
        return (2, base.value)
    if op in ("add", "sub") or (op == "neg" and base.args[0].op in ("add", "sub")):
        return (4, "")
    return (3, "")


def _chain(op: str, nodes: list[Node]) -> Node:
    node = nodes[0]
    for m in nodes[1:]:
        node = make(op, (node, m))
    return node


def replace_leaves(node: Node, leaf) -> Node:
    """``node`` with every leaf n replaced by ``leaf(n)``, rebuilt without folding."""
    new: dict[Node, Node] = {}
    for n in topo_order(node):
        old = n.args
        if not old:
            new[n] = leaf(n)
        elif len(old) == 1:
            a = new[old[0]]
            new[n] = n if a is old[0] else expr.make(n.op, (a,), n.value)
        else:
            args = tuple([new[a] for a in old])
            new[n] = n if args == old else expr.make(n.op, args, n.value)   # (nodes compare by identity)
    return new[node]


def simplify(root: Node, numbers: dict[Node, Node] | None = None) -> Node:
    """The simplified equivalent of ``root`` (one bounded pass; idempotent).

    ``numbers`` maps stand-in variables to the number nodes they hold (as
    differentiate.hold_numbers makes them): they are read as those numbers.
    The cyclic collector is paused meanwhile: the pass makes many short-lived
    dicts and tuples but no reference cycles (refcounting frees them all), so
    each collection they would trigger rescans the heap for nothing, which in a
    process with a large heap (calc inside a SymPy session) costs a fifth of the time."""
    with collector_paused():
        return _simplify(root, numbers)


def _simplify(root: Node, numbers: dict[Node, Node] | None) -> Node:
    s = Simplifier()
    s.numbers = numbers or {}
    order = topo_order(root)
    left: dict[Node, int] = {}
    for n in order:
        for a in n.args:
            left[a] = left.get(a, 0) + 1
    forms: dict[Node, object] = {}
    budget = WORK_PER_NODE * len(order) + WORK_BASE
    step = s.step
    for n in order:
        if s.work > budget:
            return replace_leaves(root, lambda m: numbers.get(m, m)) if numbers else root
        nargs = n.args
        if not nargs:
            forms[n] = step(n, [])
            continue
        args = [forms[a] for a in nargs]
        f = forms[n] = step(n, args, left[nargs[0]] == 1)
        if (type(f) is Prod or type(f) is Sum) and f in args:
            f.owned = False       # now the form of two nodes
        for a in nargs:           # a form nobody needs any more is dropped (memory stays linear)
            k = left[a] - 1
            left[a] = k
            if k == 0:
                del forms[a]
    out = s.materialize(forms[root])
    s._length(out)   # printed into the shared memo when not too long: to_text(out) is then a lookup
    return out
