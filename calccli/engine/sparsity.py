"""Hessian sparsity: which second derivatives can be nonzero, and a colouring of
the variables so that one forward-over-reverse pass with a few tangents gives
them all (compressed Hessians, as in Gebremedhin, Manne and Pothen, "What color
is your Jacobian?", SIAM Review 2005, with direct recovery).

A node's dependency set is a bit mask over the variables' positions (Python
ints: a union is one C-level OR). A row φ(a₁, …, aₘ) contributes deps(aₖ) ×
deps(aₗ) for every pair whose mixed partial ∂²φ/∂aₖ∂aₗ can be nonzero. Which
pairs those are comes from the table's own partial rules, classified once by
``rule_kind``: a constant partial (x + y, 3·x) adds nothing, a partial that is
one argument (∂(x·y)/∂x = y) adds that one pair, any other adds all pairs. The
pattern is therefore a superset of the true nonzeros, which is all that
recovery needs.
"""
from __future__ import annotations

from calccli.engine.reverse import _CONST, _PICK, _reverse_program

# When the arguments of one nonlinear row depend on this many variables, the
# Hessian has a dense block at least as wide: the plain n-tangent pass is the better buy.
DENSE_BLOCK = 48


def compression(tape, idx: list[int | None]) -> tuple[list[int] | None, list[int] | None]:
    """(pattern, colours) for the variables ``idx`` of ``tape``, or (None, None)
    when the Hessian is too dense to gain; structural, so cached with the tape."""
    key = ("hessian-colors", tuple(idx))
    got = tape.cache.get(key)
    if got is None:
        pattern = hessian_pattern(tape, idx)
        got = tape.cache[key] = (pattern, None if pattern is None else distance2_colors(pattern))
    return got


def hessian_pattern(tape, idx: list[int | None], limit: int = DENSE_BLOCK) -> list[int] | None:
    """Per variable position i (as in ``idx``, tape indices of the variables), a
    bit mask of the positions j where H[i][j] may be nonzero; None when a
    nonlinear row's arguments depend on ``limit`` variables or more (a dense
    block that wide makes the plain pass the better buy); linear rows such as
    a long sum may depend on any number. Read off the reverse program, which
    has classified every partial already and which the Hessian's pass uses."""
    deps = [0] * len(tape.nodes)
    for pos, t in enumerate(idx):
        if t is not None:
            deps[t] |= 1 << pos
    _, rows = _reverse_program(tape, [t for t in idx if t is not None])   # as the pass asks for it
    pattern = [0] * len(idx)
    for i, a, b, uses, _ in reversed(rows):          # first row first
        if b >= 0:
            d = deps[a] | deps[b]
        elif b == -1:
            d = deps[a]
        else:
            d = 0
            for j in a:
                d |= deps[j]
        deps[i] = d
        for _, j, kind, payload in uses:
            if kind == _CONST:
                continue
            other = deps[payload] if kind == _PICK and payload != i else d
            if other:
                mine = deps[j]
                if other.bit_count() >= limit or mine.bit_count() >= limit:
                    return None
                _cross(pattern, mine, other)
                _cross(pattern, other, mine)
    return pattern


def bits(mask: int):
    """The positions of the set bits of ``mask``, lowest first."""
    while mask:
        low = mask & -mask
        yield low.bit_length() - 1
        mask ^= low


def _cross(pattern: list[int], rows: int, cols: int) -> None:
    """pattern[i] |= cols for every bit i of rows."""
    for i in bits(rows):
        pattern[i] |= cols


def distance2_colors(pattern: list[int]) -> list[int]:
    """A colour per variable such that any two variables sharing a row of the
    pattern differ (greedy distance-2 colouring, in order). Seeding variable j
    with the unit vector of its colour c(j) then makes (H·S)[i][c(j)] = H[i][j]
    for every possible nonzero, since no other column of that colour can be
    nonzero in row i."""
    members: list[int] = []          # per colour, a bit mask of its variables
    colors = []
    for j, row in enumerate(pattern):
        near = row | (1 << j)
        for i in bits(row):
            near |= pattern[i]
        for c, m in enumerate(members):
            if not m & near:
                members[c] |= 1 << j
                colors.append(c)
                break
        else:
            colors.append(len(members))
            members.append(1 << j)
    return colors


def recover(compressed: list[float], row: int, colors: list[int]) -> list[float]:
    """Row i of H from row i of H·S (S: the colour seeds) and the pattern's row i:
    entry j is the tangent of j's colour where the pattern allows a nonzero, else
    an exact zero."""
    out = [0.0] * len(colors)
    for j in bits(row):
        out[j] = compressed[colors[j]]
    return out
