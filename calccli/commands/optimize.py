"""``calc minimize``: iterative minimization (section 6 of the notes).

θ̂ = argmin J(θ), found by repeating (1) choose a step Δθ that lowers J,
(2) θ ← θ + Δθ. J, ∇J (one reverse pass) and the Hessian (forward-over-reverse)
all come from :class:`calccli.objective.Objective`; nothing here differentiates.

Methods
- ``gd``        Δθ = −lr·∇J (fixed learning rate)
- ``momentum``  heavy ball: v ← βv − lr·∇J, Δθ = v (β = 0.9)
- ``adam``      Adam (β₁ = 0.9, β₂ = 0.999, ε = 1e-8) with bias correction
- ``newton``    Δθ = −α·H⁻¹∇J with the AD Hessian; when H is not positive
                definite its eigenvalues are replaced by max(|λ|, δ) so the step
                still goes downhill; α from a backtracking (Armijo) line search
- ``bfgs``      quasi-Newton (inverse-Hessian update) with a strong-Wolfe line search
- ``trust``     trust-region Newton (as SciPy's trust-exact): the quadratic model
                with the AD Hessian minimized exactly inside a ball of radius Δ
                (eigen-decomposition), Δ grown or shrunk by how well the model
                predicted J; from a start point it stays in the basin it starts in
- ``auto``      ``trust`` for up to 50 variables (Hessians are cheap there), else
                ``bfgs``; it switches to ``bfgs`` if the Hessian does not exist at an iterate.

Verdicts tell the truth: a stationary point that is a maximum or a saddle is
not a success; a run that heads to −∞ (or stops at a flat inflection such as
x³ at 0) is probed along its flat directions and reported "unbounded below
along …"; a run that can no longer lower J because float64 cannot resolve the
change is stopped and reported with the accuracy float64 allows there. The kept
history is thinned (every other row) beyond HISTORY_MAX rows.

numpy is imported only by the methods that need linear algebra and for the
final classification of the point.
"""
from __future__ import annotations

import math
import os
import sys
import time
from dataclasses import dataclass, field

from calccli.display import RichDisplay

from calccli.errors import CalcError, DomainError, UsageError
from calccli.numfmt import fmt_number

METHODS = ("auto", "gd", "momentum", "adam", "newton", "bfgs", "trust")
FIRST_ORDER = ("gd", "momentum", "adam")
DEFAULT_LR = {"gd": 0.01, "momentum": 0.01, "adam": 0.01}
DEFAULT_STEPS = {"gd": 10000, "momentum": 10000, "adam": 10000, "newton": 500, "bfgs": 1000, "trust": 1000,
                 "auto": 1000}
DESCRIPTION = {
    "gd": "gradient descent, fixed learning rate",
    "momentum": "gradient descent with momentum (β = 0.9)",
    "adam": "Adam (β₁ = 0.9, β₂ = 0.999)",
    "newton": "Newton (AD Hessian, line search)",
    "bfgs": "BFGS (quasi-Newton, Wolfe line search)",
    "trust": "trust-region Newton (AD Hessian, exact subproblem)",
}
HISTORY_MAX = 4096     # kept rows; beyond, every other row is dropped (first and last kept)
EPS = 2.220446049250313e-16
MAX_RADIUS = 1e10      # the trust region may grow this far (so a run to −∞ shows itself)
AUTO_NEWTON_MAX_VARS = 50
DIVERGED = 1e12        # J above J₀ + 1e12·max(1, |J₀|): the iteration is running away
BETA = 0.9
ADAM_B1, ADAM_B2, ADAM_EPS = 0.9, 0.999, 1e-8


# --------------------------------------------------------------------------- progress

class ProgressBar:
    """A Rich progress bar on stderr, only on a terminal and only for long runs.

    It appears once the run has taken ``delay`` seconds, is redrawn at most ten
    times a second and disappears when the run ends (``transient``), so it never
    mixes with the result on stdout.
    """

    def __init__(self, total: int, label: str, delay: float = 0.4):
        self.total, self.label, self.delay = total, label, delay
        self.enabled = sys.stderr is not None and sys.stderr.isatty() and not os.environ.get("CALC_NO_PROGRESS")
        self.t0 = time.monotonic()
        self.last = 0.0
        self.bar = None

    def __enter__(self):
        return self

    def update(self, done: int, info: str = "") -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self.last < 0.1:
            return
        self.last = now
        if self.bar is None:
            if now - self.t0 < self.delay:
                return
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
            self.bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                TimeElapsedColumn(), TextColumn("{task.fields[info]}"),
                                console=Console(stderr=True), transient=True)
            self.bar.start()
            self.task = self.bar.add_task(self.label, total=self.total, info="")
        self.bar.update(self.task, completed=done, info=info)

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.stop()
        return False


# --------------------------------------------------------------------------- results

@dataclass
class Iterate:
    k: int
    theta: list[float]
    J: float
    gnorm: float
    step: float | None = None      # ‖Δθ‖ of the step that led here
    alpha: float | None = None     # line-search step length (newton, bfgs)
    note: str = ""                 # "H modified", "bfgs" …


def _norm(v) -> float:
    """The 2-norm, scaled so that large components do not overflow."""
    m = max((abs(float(x)) for x in v), default=0.0)
    if m == 0.0 or not math.isfinite(m):
        return m
    return m * math.sqrt(sum((float(x) / m) ** 2 for x in v))


def classify(eigenvalues: list[float], gnorm: float = 0.0) -> str:
    """minimum, maximum, saddle or degenerate, from the Hessian's eigenvalues.

    An iterate is only near a stationary point, so eigenvalues below
    10·√‖∇J‖ (and below 1e-10 of the largest) count as zero: at x = 3e-5 on
    J = x³ the Hessian is 1.8e-4 > 0, yet the point is an inflection, not a minimum.
    """
    if not eigenvalues:
        return "degenerate"
    scale = max(1.0, max(abs(v) for v in eigenvalues))
    eps = max(1e-10 * scale, 10 * math.sqrt(gnorm) if math.isfinite(gnorm) else 0.0)
    if all(v > eps for v in eigenvalues):
        return "minimum"
    if all(v < -eps for v in eigenvalues):
        return "maximum"
    if any(v > eps for v in eigenvalues) and any(v < -eps for v in eigenvalues):
        return "saddle"
    return "degenerate"


KIND_TEXT = {"minimum": "local minimum", "maximum": "local maximum", "saddle": "saddle point",
             "degenerate": "degenerate (a zero eigenvalue: the Hessian cannot tell)"}


def shown_rows(n: int, trace: bool, target: int = 20) -> list[int]:
    """Indices of the iterations to show: all with --trace or when few, else the
    first and the last and every k-th between (k a 1-2-5 round number)."""
    if trace or n <= target + 5:
        return list(range(n))
    raw = (n - 1) / target
    k = 1
    while True:
        for m in (1, 2, 5):
            if k * m >= raw:
                k *= m
                break
        else:
            k *= 10
            continue
        break
    idx = list(range(0, n - 1, k))
    return idx + [n - 1]


@dataclass
class MinimizeResult(RichDisplay):
    expression: str
    method: str                    # the method that ran (auto resolves to newton or bfgs)
    requested: str                 # what the user asked for
    wrt: list[str]
    start: list[float]
    history: list[Iterate]
    converged: bool
    reason: str
    tol: float
    steps: int
    lr: float | None = None
    eigenvalues: list[float] | None = None
    hessian: list[list[float]] | None = None
    classification: str | None = None
    trace: bool = False
    notes: list[str] = field(default_factory=list)
    diverged: bool = False

    @property
    def last(self) -> Iterate:
        return self.history[-1]

    @property
    def iterations(self) -> int:
        return self.last.k

    @property
    def exit_code(self) -> int:
        return 0 if self.converged else 1

    def argmin(self) -> dict:
        return dict(zip(self.wrt, self.last.theta))


# --------------------------------------------------------------------------- methods

class _Stop(Exception):
    """A method cannot go on (divergence, a failed line search)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class _NoHessian(_Stop):
    """The Hessian does not exist at an iterate (auto switches to BFGS)."""


class _Stall(_Stop):
    """No step lowers J any more: the driver decides whether that is the attainable precision."""


def _first_order(obj, method: str, lr: float):
    """A step function for gd, momentum and adam: (θ, g, k) → (θ_new, J, g, α, note)."""
    n = len(obj.names)
    v = [0.0] * n
    m = [0.0] * n
    s = [0.0] * n

    def step(theta, J, g, k):
        if method == "gd":
            d = [-lr * gi for gi in g]
        elif method == "momentum":
            for i in range(n):
                v[i] = BETA * v[i] - lr * g[i]
            d = list(v)
        else:  # adam
            b1t, b2t = 1 - ADAM_B1 ** k, 1 - ADAM_B2 ** k
            d = []
            for i in range(n):
                m[i] = ADAM_B1 * m[i] + (1 - ADAM_B1) * g[i]
                s[i] = ADAM_B2 * s[i] + (1 - ADAM_B2) * g[i] * g[i]
                d.append(-lr * (m[i] / b1t) / (math.sqrt(s[i] / b2t) + ADAM_EPS))
        new = [t + di for t, di in zip(theta, d)]
        if not all(map(math.isfinite, new)):
            raise _Stop("θ overflowed float64: the iteration diverged")
        try:
            Jn, gn = obj.value_and_grad(new)
        except DomainError as e:
            raise _Stop(f"the step to iteration {k} failed: {e.message}") from None
        return new, Jn, gn, None, ""
    return step


def _safe_value(obj, theta) -> float:
    """J(θ), or +inf where J is undefined (a trial point outside the domain)."""
    try:
        return obj.value(theta)
    except DomainError:
        return math.inf


def _safe_value_grad(obj, theta):
    try:
        return obj.value_and_grad(theta)
    except DomainError:
        return math.inf, None


def _backtrack(obj, theta, J, g, p, c1=1e-4, max_halvings=60):
    """Armijo backtracking from α = 1: the first α with J(θ+αp) ≤ J + c1·α·∇J·p."""
    slope = sum(gi * pi for gi, pi in zip(g, p))
    alpha = 1.0
    for _ in range(max_halvings):
        trial = [t + alpha * pi for t, pi in zip(theta, p)]
        Jt = _safe_value(obj, trial)
        if Jt <= J + c1 * alpha * slope:
            return alpha, trial
        alpha *= 0.5
    return None, None


def _eigen_hessian(obj, theta, k):
    """Eigenvalues (ascending) and eigenvectors of the AD Hessian at θ, symmetrized."""
    import numpy as np
    try:
        _, _, H = obj.hessian(theta)
    except DomainError as e:
        raise _NoHessian(f"the Hessian does not exist at iteration {k - 1}: {e.message}") from None
    H = np.asarray(H, dtype=float)
    return np.linalg.eigh((H + H.T) / 2)


def _newton(obj):
    import numpy as np
    state = {"modified": 0}

    def step(theta, J, g, k):
        lam, V = _eigen_hessian(obj, theta, k)
        gv = np.asarray(g, dtype=float)
        delta = 1e-8 * max(1.0, float(np.max(np.abs(lam))))
        note = ""
        if lam.min() <= delta:
            # not positive definite: |λ| keeps the step a descent direction; a floor of
            # ‖∇J‖ keeps flat directions (λ ≈ 0) from asking for an enormous step
            lam = np.maximum(np.abs(lam), max(delta, float(np.linalg.norm(gv))))
            note = "H modified"
            state["modified"] += 1
        p = -(V @ ((V.T @ gv) / lam))
        if not note:
            # near the minimum the decrease J − J(θ+p) is below J's rounding error and Armijo
            # cannot see it: the full step is taken when J stays within rounding and ∇J shrinks
            full = [t + pi for t, pi in zip(theta, p.tolist())]
            Jf, gf = _safe_value_grad(obj, full)
            slope = float(gv @ p)
            if gf is not None and (Jf <= J + 1e-4 * slope or
                                   Jf <= J + 16 * EPS * abs(J) and _norm(gf) < 0.5 * _norm(g)):
                return full, Jf, gf, 1.0, ""
        alpha, trial = _backtrack(obj, theta, J, g, p.tolist())
        if note and alpha == 1.0:
            # the modified model says nothing about how far to go: expand while J keeps falling
            Jt = _safe_value(obj, trial)
            while alpha < 2.0 ** 30:
                further = [t + 2 * alpha * pi for t, pi in zip(theta, p.tolist())]
                Jf = _safe_value(obj, further)
                if not Jf < Jt:
                    break
                alpha, trial, Jt = 2 * alpha, further, Jf
        if alpha is None:  # fall back to steepest descent with a line search
            p = -gv / max(1.0, float(np.linalg.norm(gv)))
            alpha, trial = _backtrack(obj, theta, J, g, p.tolist())
            note = "gradient step"
            if alpha is None:
                raise _stuck(J, g)
        try:
            Jn, gn = obj.value_and_grad(trial)
        except DomainError as e:
            raise _Stop(f"the step to iteration {k} failed: {e.message}") from None
        return trial, Jn, gn, alpha, note
    step.state = state
    return step


def _stuck_reason(J, g) -> str:
    return (f"no step along the search direction lowers J = {fmt_number(J)} any further "
            f"(‖∇J‖ = {_norm(g):.3e}): the tolerance may be below what float64 can resolve here")


def _stuck(J, g) -> _Stall:
    return _Stall(_stuck_reason(J, g))


def _wolfe(obj, theta, J, g, p, alpha0=1.0, c1=1e-4, c2=0.9, max_iter=40):
    """A step length meeting the strong Wolfe conditions (Nocedal & Wright, Alg. 3.5/3.6).

    Trial points where J is undefined count as J = +inf (the step is shortened).
    Returns (α, θ_new, J_new, g_new) or None.
    """
    d0 = sum(gi * pi for gi, pi in zip(g, p))

    def phi(a):
        x = [t + a * pi for t, pi in zip(theta, p)]
        f, gr = _safe_value_grad(obj, x)
        d = math.nan if gr is None else sum(gi * pi for gi, pi in zip(gr, p))
        return f, d, x, gr

    def zoom(lo, hi):
        a_lo, f_lo, d_lo = lo[0], lo[1], lo[2]
        a_hi, f_hi = hi[0], hi[1]
        for _ in range(max_iter):
            width = a_hi - a_lo
            a = None
            if math.isfinite(f_hi) and math.isfinite(d_lo):
                # minimum of the quadratic through f_lo, d_lo, f_hi; kept inside the bracket
                den = 2 * (f_hi - f_lo - d_lo * width)
                if den > 0:
                    a = a_lo - d_lo * width * width / den
            lo_b, hi_b = sorted((a_lo + 0.1 * width, a_hi - 0.1 * width))
            if a is None or not (lo_b <= a <= hi_b):
                a = a_lo + 0.5 * width
            f, d, x, gr = phi(a)
            if f > J + c1 * a * d0 or f >= f_lo:
                a_hi, f_hi = a, f
            else:
                if abs(d) <= -c2 * d0:
                    return a, x, f, gr
                if d * (a_hi - a_lo) >= 0:
                    a_hi, f_hi = a_lo, f_lo
                a_lo, f_lo, d_lo = a, f, d
                best[0] = (a, x, f, gr)
            if abs(a_hi - a_lo) < 1e-16 * max(1.0, abs(a_lo)):
                break
        return best[0]

    best = [None]
    prev = (0.0, J, d0)
    a = alpha0
    for i in range(max_iter):
        f, d, x, gr = phi(a)
        if f > J + c1 * a * d0 or (i > 0 and f >= prev[1]) or not math.isfinite(f):
            return zoom(prev, (a, f))
        if abs(d) <= -c2 * d0:
            return a, x, f, gr
        best[0] = (a, x, f, gr)
        if d >= 0:
            return zoom((a, f, d), prev)
        prev = (a, f, d)
        a *= 2.0
    return best[0]


def _bfgs(obj):
    import numpy as np
    n = len(obj.names)
    state = {"Hinv": None}

    def step(theta, J, g, k):
        gv = np.asarray(g, dtype=float)
        Hinv = state["Hinv"]
        p = -(gv / max(1.0, float(np.linalg.norm(gv)))) if Hinv is None else -(Hinv @ gv)
        if float(p @ gv) >= 0:  # not a descent direction (rounding): restart
            state["Hinv"] = None
            p = -(gv / max(1.0, float(np.linalg.norm(gv))))
        found = _wolfe(obj, theta, J, g, p.tolist())
        if found is None:
            if state["Hinv"] is not None:  # restart from the gradient once
                state["Hinv"] = None
                p = -(gv / max(1.0, float(np.linalg.norm(gv))))
                found = _wolfe(obj, theta, J, g, p.tolist())
            if found is None:
                raise _stuck(J, g)
        alpha, new, Jn, gn = found
        s = np.asarray(new) - np.asarray(theta, dtype=float)
        y = np.asarray(gn, dtype=float) - gv
        sy = float(s @ y)
        if sy > 1e-12 * float(np.linalg.norm(s) * np.linalg.norm(y)):
            if state["Hinv"] is None:
                state["Hinv"] = np.eye(n) * (sy / float(y @ y))
            rho = 1.0 / sy
            I = np.eye(n)
            A = I - rho * np.outer(s, y)
            state["Hinv"] = A @ state["Hinv"] @ A.T + rho * np.outer(s, s)
        return new, Jn, gn, alpha, ""
    return step


def trust_step(lam, V, a, radius):
    """The exact minimizer p of m(p) = gᵀp + ½pᵀHp over ‖p‖ ≤ radius (Moré–Sorensen, with
    H = V diag(λ) Vᵀ, λ ascending, a = Vᵀg), and the decrease -m(p) it predicts."""
    import numpy as np
    lmin = float(lam[0])
    gn = float(np.linalg.norm(a))
    tiny = 1e-12 * max(1.0, float(np.max(np.abs(lam))))

    def p_of(sigma):
        return -(a / (lam + sigma))

    c = None
    if lmin > tiny:
        c = p_of(0.0)
        if np.linalg.norm(c) > radius:
            c = None
    if c is None:
        lo = max(0.0, -lmin)
        near = np.abs(lam - lmin) <= tiny
        if np.all(np.abs(a[near]) <= 1e-12 * max(gn, 1e-300)):
            # the hard case: no gradient along the lowest curvature
            rest = np.where(near, 0.0, -a / np.where(near, 1.0, lam - lmin))
            if np.linalg.norm(rest) <= radius:
                tau = math.sqrt(max(radius ** 2 - float(rest @ rest), 0.0))
                c = rest.copy()
                c[0] += tau
        if c is None:
            hi = lo + gn / radius + tiny + 1e-300
            while np.linalg.norm(p_of(hi)) > radius:
                hi = lo + 2 * (hi - lo)
            lo_s = lo + 1e-300
            for _ in range(200):           # bisection on ‖p(σ)‖ = radius (monotone in σ)
                mid = 0.5 * (lo_s + hi)
                if mid <= lo_s or mid >= hi:
                    break
                if np.linalg.norm(p_of(mid)) > radius:
                    lo_s = mid
                else:
                    hi = mid
            c = p_of(hi)
    pred = -(float(a @ c) + 0.5 * float(lam @ (c * c)))
    return V @ c, pred


def _trust(obj):
    import numpy as np
    state = {"radius": 1.0}

    def step(theta, J, g, k):
        lam, V = _eigen_hessian(obj, theta, k)
        a = V.T @ np.asarray(g, dtype=float)
        x = np.asarray(theta, dtype=float)
        floor = 4 * EPS * (1.0 + float(np.linalg.norm(x)))
        while True:
            radius = state["radius"]
            p, pred = trust_step(lam, V, a, radius)
            pn = float(np.linalg.norm(p))
            trial = (x + p).tolist()
            Jt, gt = _safe_value_grad(obj, trial)
            rho = (J - Jt) / pred if pred > 0 and math.isfinite(Jt) else -1.0
            if rho < 0.25:
                state["radius"] = 0.25 * min(radius, pn) if pn > 0 else 0.25 * radius
            elif rho > 0.75 and pn >= 0.99 * radius:
                state["radius"] = min(2 * radius, MAX_RADIUS)
            if rho > 0.1 and gt is not None:
                return trial, Jt, gt, radius, "" if lam[0] > 0 else "H indefinite"
            if pn <= floor or state["radius"] <= floor:
                raise _stuck(J, g)
    step.state = state
    return step


# --------------------------------------------------------------------------- verdicts

def gradient_noise(obj, theta, g) -> float:
    """How much ∇J moves when θ moves by a few units in the last place: below this
    ‖∇J‖ means nothing (the accuracy float64 allows at θ)."""
    worst = 0.0
    for sign in (1.0, -1.0):
        moved = [t + sign * 4 * EPS * max(abs(t), 1e-300) * (1 if i % 2 else -1) for i, t in enumerate(theta)]
        _, gm = _safe_value_grad(obj, moved)
        if gm is not None:
            worst = max(worst, _norm([a - b for a, b in zip(gm, g)]))
    return worst + 8 * EPS * _norm(g)


def _direction_text(names, d) -> str:
    big = [i for i, v in enumerate(d) if abs(v) > 1e-12]
    if len(big) == 1:
        i = big[0]
        return f"{names[i]} → {'+' if d[i] > 0 else '−'}∞"
    return "the direction (" + ", ".join(f"{v:.3g}" for v in d) + ")"


def unbounded_direction(obj, theta, J, directions) -> list[float] | None:
    """A unit direction d along which J(θ + t·d) keeps falling for t = 1, 10, …, 1e8
    (and ends far below J), or None."""
    scale = max(1.0, _norm(theta))
    for d in directions:
        n = _norm(d)
        if not n:
            continue
        d = [v / n for v in d]
        last = J
        for k in range(9):
            Jt = _safe_value(obj, [t + scale * 10.0 ** k * v for t, v in zip(theta, d)])
            if not Jt < last:
                break
            last = Jt
        else:
            if last < J - 1e4 * max(1.0, abs(J)):
                return d
    return None


def _flat_directions(res: MinimizeResult) -> list[list[float]]:
    """Eigenvectors of the Hessian whose eigenvalue counts as zero or negative, both signs."""
    import numpy as np
    H = np.asarray(res.hessian, dtype=float)
    lam, V = np.linalg.eigh((H + H.T) / 2)
    top = max(1.0, float(np.max(np.abs(lam))))
    eps = max(1e-10 * top, 10 * math.sqrt(res.last.gnorm))
    out = []
    for i, v in enumerate(lam):
        if v <= eps:
            out += [V[:, i].tolist(), (-V[:, i]).tolist()]
    return out


def _judge(obj, res: MinimizeResult) -> None:
    """The verdict: a maximum or saddle is no minimum; a flat point may be the way to −∞."""
    kind = res.classification
    d = None
    if kind in ("maximum", "saddle", "degenerate") and res.hessian is not None:
        d = unbounded_direction(obj, res.last.theta, res.last.J, _flat_directions(res))
    if d is not None:
        res.diverged = True
        res.reason = f"J is unbounded below along {_direction_text(res.wrt, d)}: it has no minimum"
        if kind == "degenerate":
            res.reason += " (the iterates stopped at a flat point, a zero eigenvalue of the Hessian)"
    if kind in ("maximum", "saddle") and (res.converged or d is not None):
        stationary = f"the gradient vanishes here, but this is a {KIND_TEXT[kind]}, not a minimum"
        res.reason = stationary if d is None else f"{stationary}; {res.reason}"
        res.notes.append("hint: start from another point (J decreases along the Hessian's "
                         "negative-curvature directions from here)")
    if d is not None or kind in ("maximum", "saddle"):
        res.converged = False


def _thin(history: list) -> None:
    """Drop every other row (first and last kept) so the kept history stays bounded."""
    if len(history) > HISTORY_MAX:
        history[1:-1] = history[2:-1:2]


# --------------------------------------------------------------------------- driver

def _check_options(method, lr, steps, tol):
    if method not in METHODS:
        raise UsageError(f"unknown method '{method}': use one of {', '.join(METHODS)}")
    if lr is not None and not (math.isfinite(lr) and lr > 0):
        raise UsageError(f"--lr must be a positive number, got {fmt_number(lr)}")
    if steps is not None and steps < 1:
        raise UsageError(f"--steps must be at least 1, got {steps}")
    if not (tol >= 0 and math.isfinite(tol)):
        raise UsageError(f"--tol must be a number ≥ 0, got {fmt_number(tol)}")


def _problem(text, start, let, wrt):
    from calccli.engine.objective import Objective
    from calccli.language.parse import parse
    from calccli.language.points import resolve
    node = parse(text).node
    try:
        problem = resolve(node, start, let, wrt)
    except UsageError as e:  # the --at rules, spoken as --from
        e.message = e.message.replace("--at", "--from")
        e.args = (e.message,)
        raise
    names = problem.wrt
    if not names:
        raise UsageError("nothing to minimize: --from binds none of the expression's variables")
    for n in names:  # a --wrt variable the expression does not use still needs a start, as one it uses
        if n not in problem.env:
            raise UsageError(f"--wrt {n}: give its value with --from {n}=…")
    obj = Objective(problem.node, problem.env, names)
    theta: list[float] = []
    for n in names:   # vector and matrix variables: their components, row-major (as Objective.names)
        v = problem.env[n]
        if isinstance(v, float | int):
            theta.append(float(v))
        else:
            import numpy as np
            theta.extend(float(x) for x in np.asarray(v, dtype=float).reshape(-1))
    return obj, theta, list(obj.names)


def _quiet_numpy(run: str):
    """Overflow inside numpy (a runaway iterate) is reported by calc, not as a warning."""
    import contextlib
    if run in FIRST_ORDER:
        return contextlib.nullcontext()
    import numpy as np
    return np.errstate(all="ignore")


def minimize_from(text, start, let=None, wrt=None, method="auto", lr=None, steps=None, tol=1e-8,
                  trace=False) -> MinimizeResult:
    method = (method or "auto").strip().lower()
    _check_options(method, lr, steps, tol)
    obj, theta, components = _problem(text, start, let, wrt)
    n = len(theta)
    run = method
    if method == "auto":
        run = "trust" if n <= AUTO_NEWTON_MAX_VARS else "bfgs"
    if run not in FIRST_ORDER and lr is not None:
        notes = [f"note: --lr is ignored by {run} (its line search chooses the step)"]
    else:
        notes = []
    lr_used = (lr if lr is not None else DEFAULT_LR[run]) if run in FIRST_ORDER else None
    cap = steps if steps is not None else DEFAULT_STEPS[method]

    J, g = obj.value_and_grad(theta)   # a failure at the start is an error, not a result
    history = [Iterate(0, list(theta), J, _norm(g))]
    step = _first_order(obj, run, lr_used) if run in FIRST_ORDER else \
        {"newton": _newton, "bfgs": _bfgs, "trust": _trust}[run](obj)
    stalled, idle = None, 0
    converged, diverged, reason = False, False, ""
    J0 = J
    with ProgressBar(cap, f"minimize ({run})") as bar, _quiet_numpy(run):
        k = 0
        while True:
            gn = history[-1].gnorm
            if gn <= tol:
                converged, reason = True, f"‖∇J‖ ≤ {fmt_number(tol)}"
                break
            if k >= cap:
                reason = (f"the tolerance ‖∇J‖ ≤ {fmt_number(tol)} was not met within {cap} steps"
                          + (" (raise --steps, or try --method auto)" if run in FIRST_ORDER else " (raise --steps)"))
                break
            k += 1
            try:
                new, J, g, alpha, note = step(theta, J, g, k)
            except _NoHessian as s:
                if method == "auto":
                    run, step = "bfgs", _bfgs(obj)
                    notes.append(f"note: switched to bfgs at iteration {k}: {s.reason}")
                    k -= 1
                    continue
                reason = s.reason
                break
            except _Stall as s:
                stalled = s.reason
                break
            except _Stop as s:
                reason = s.reason
                diverged = run in FIRST_ORDER
                break
            stepnorm = _norm([a - b for a, b in zip(new, theta)])
            idle = idle + 1 if stepnorm <= 4 * EPS * max(1.0, _norm(theta)) and J >= history[-1].J else 0
            theta = new
            history.append(Iterate(k, list(theta), J, _norm(g), stepnorm, alpha, note))
            _thin(history)
            if idle >= 5:        # five steps that moved θ by rounding only and did not lower J
                stalled = _stuck_reason(J, g)
                break
            if J > J0 + DIVERGED * max(1.0, abs(J0)):
                reason = f"the iteration diverged: J grew from {J0:.6g} to {J:.6g}"
                diverged = True
                break
            if J < J0 - DIVERGED * max(1.0, abs(J0)):
                d = [a - b for a, b in zip(theta, history[0].theta)]
                reason = (f"J fell from {J0:.6g} to {J:.6g} and keeps falling: the function looks "
                          f"unbounded below along {_direction_text(components, [v / (_norm(d) or 1) for v in d])}"
                          " (it has no minimum)")
                diverged = True
                break
            bar.update(k, f"J = {J:.6g}  ‖∇J‖ = {history[-1].gnorm:.2e}")
    if diverged and run in FIRST_ORDER:
        reason += f"; try a smaller --lr than {fmt_number(lr_used)}"
    modified = getattr(step, "state", {}).get("modified")
    if modified:
        notes.append(f"the Hessian was not positive definite at {modified} iterate{'s' if modified != 1 else ''}: "
                     "its eigenvalues λ were replaced by max(|λ|, ‖∇J‖) so that each step went downhill")
    if stalled is not None:
        last = history[-1]
        floor = gradient_noise(obj, last.theta, g)
        if last.gnorm <= max(tol, 1e3 * floor):
            converged = True
            reason = (f"converged to the accuracy float64 allows here: ‖∇J‖ = {last.gnorm:.1e} (tol "
                      f"{fmt_number(tol)} is below it: rounding alone moves ∇J by about {floor:.0e} at θ, "
                      "and no step lowers J any further)")
        else:
            reason = stalled
    res = MinimizeResult(text, run, method, components, history[0].theta, history, converged, reason,
                         tol, cap, lr_used, trace=trace, notes=notes, diverged=diverged)
    if not diverged:
        _classify(obj, res)
        _judge(obj, res)
    return res


def _classify(obj, res: MinimizeResult) -> None:
    try:
        _, _, H = obj.hessian(res.last.theta)
    except CalcError:
        res.classification = None
        return
    import numpy as np
    Hm = np.asarray(H, dtype=float)
    if not np.all(np.isfinite(Hm)):
        return
    ev = np.linalg.eigvalsh((Hm + Hm.T) / 2)
    res.hessian = [[float(v) for v in r] for r in H]
    res.eigenvalues = [float(v) for v in ev]
    res.classification = classify(res.eigenvalues, res.last.gnorm if res.converged else 0.0)
