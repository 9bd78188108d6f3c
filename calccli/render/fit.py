"""How ``calc fit`` results look: the setup, the loss per epoch as a table and
a plotext curve, the fitted parameters; --compare side by side (commands/fit.py)."""
from __future__ import annotations

import shutil

from calccli.commands.fit import CompareResult, FitResult, Run, flat
from calccli.commands.optimize import shown_rows
from calccli.numfmt import fmt_number, short_number
from calccli.render.doc import Block, Doc, Lines, Table as DocTable
from calccli.render.html import formulas_html, to_html
from calccli.render.json import json_obj
from calccli.render.latex import expr_latex, name, number, text, to_latex
from calccli.render.views import to_doc


def describe(run: Run) -> str:
    """The mode and sample order of a run, in words."""
    how = {"batch": "batch (one update per epoch, gradient averaged over all samples)",
           "online": "online (one update per sample)",
           "minibatch": f"mini-batch (one update per batch of {run.batch_size} samples)"}[run.mode]
    order = {"fixed": "fixed order (as in the file)",
             "shuffle": f"shuffled every epoch (seed {run.seed})",
             "sample": f"sampled with replacement (seed {run.seed})"}[run.order]
    return f"{how} · {order}"


def _param_words(names, theta) -> str:
    """w (a vector of length 4), b"""
    from calccli.engine.primitives import shape_of, shape_words
    return ", ".join(n if isinstance(v, float | int) else f"{n} ({shape_words(shape_of(v))})"
                     for n, v in zip(names, theta))


def _params_text(names, theta, short=False) -> str:
    f = short_number if short else fmt_number
    return ", ".join(f"{n} = {f(v)}" for n, v in zip(*flat(names, theta)))


def _epoch_table(run: Run):
    rows_all = [(0, run.init, run.initial_loss)] + [(e, th, run.history[e - 1])
                                                    for e, th in sorted(run.snapshots.items())]
    idx = shown_rows(len(rows_all), False, target=10)
    rows = [[str(rows_all[i][0])] + [short_number(v) for v in flat(run.params, rows_all[i][1])[1]]
            + [short_number(rows_all[i][2])] for i in idx]
    return DocTable("Progress per epoch" + ("" if len(idx) == len(rows_all) else f" ({len(idx)} of {len(rows_all)} rows)"),
                    ["epoch"] + flat(run.params, run.init)[0] + ["J(θ)"], rows)


def plot_lines(curves: list[tuple[str, list[float]]], title: str) -> list[str]:
    """Loss curves drawn by plotext, as plain text lines (no colours)."""
    width = max(50, min(100, shutil.get_terminal_size((80, 24)).columns - 4))
    height = 16
    curves = [(lab, ys) for lab, ys in curves if ys]
    if not curves:
        return ["(no epoch finished: nothing to plot)"]
    vals = [v for _, ys in curves for v in ys]
    log = all(v > 0 for v in vals) and max(vals) / min(vals) > 100
    import contextlib
    import io
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            picture = _plotext(curves, title + (" (log scale)" if log else ""), width, height, log)
    except Exception as e:  # noqa: BLE001 - a plotting failure must not lose the result
        return [f"(the plot could not be drawn: {type(e).__name__}: {e})"]
    return [line.rstrip() for line in picture.rstrip("\n").split("\n")]


MARKERS = ("*", "+", "o")


def _ticks(n: int) -> list[int]:
    """Whole-number epoch ticks 0 … n: a 1-2-5 step, at most about 8 of them."""
    step = 1
    while n / step > 8:
        for m in (2, 5, 10):
            if n / (step * m) <= 8 or m == 10:
                step *= m
                break
    t = list(range(0, n + 1, step))
    if t[-1] != n:
        if n - t[-1] < step / 2:
            t.pop()
        t.append(n)
    return t


def _plotext(curves, title, width, height, log) -> str:
    import plotext as plt
    n = max(len(ys) for _, ys in curves) - 1     # the curves start at epoch 0
    if hasattr(plt, "build") and hasattr(plt, "plotsize"):  # plotext 5.x
        plt.clf()
        plt.plotsize(width, height)
        plt.theme("clear")
        for k, (lab, ys) in enumerate(curves):
            plt.plot(list(range(len(ys))), ys, label=lab if len(curves) > 1 else None,
                     marker=MARKERS[k % len(MARKERS)])
        if log:
            plt.yscale("log")
        plt.xticks(_ticks(n))
        plt.xlabel("epoch")
        plt.title(title)
        out = plt.build()
        return plt.uncolorize(out) if hasattr(plt, "uncolorize") else out
    fig = plt.figure                                       # plotext 6.x
    fig.clear()
    fig.plot_size(width, height)
    for k, (lab, ys) in enumerate(curves):
        s = fig.signal(list(range(len(ys))), ys, marker=MARKERS[k % len(MARKERS)])
        if len(curves) > 1:
            s.label(lab)
        s.lines()
        fig.draw(s)
    if len(curves) > 1:  # the curves fall from the top left: the legend goes top right
        fig.legend(x=width - 9, y=0, ha="right", va="top")
    if log:
        fig.ruler("y").scale("log")
    fig.ruler("x").ticks(_ticks(n), [str(t) for t in _ticks(n)])
    fig.label("epoch", axis="x")
    fig.title(title)
    picture = fig.build().string(colorless=True)
    fig.clear()
    return picture


def setup_lines(res) -> list[str]:
    s, r = res.setup, res.run
    lines = [f"data: {s.path}, {s.nrows} rows; columns used: {', '.join(s.data_columns)}",
             f"parameters θ: {_param_words(s.params, r.init)}  (start: {_params_text(s.params, r.init, short=True)})",
             f"loss per sample: {s.loss_text};  J(θ) = mean over the {s.nrows} samples",
             f"mode: {describe(r)}",
             (f"{len(r.history)} of {r.epochs} epochs" if len(r.history) < r.epochs else
              f"{r.epochs} epoch{'s' if r.epochs != 1 else ''}")
             + f" · {r.updates} update{'s' if r.updates != 1 else ''} "
             f"· learning rate {fmt_number(r.lr)}"]
    if s.seed_note:
        lines.append(s.seed_note)
    return lines


@to_doc.register(FitResult)
def fit_doc(res) -> Doc:
    s, r = res.setup, res.run
    blocks = [Lines("Setup", setup_lines(res)), _epoch_table(r),
              Block("", plot_lines([(r.mode, [r.initial_loss] + r.history)], "loss J(θ) per epoch"))]
    done = [f"J(θ) went from {short_number(r.initial_loss)} (start) to {short_number(r.loss)} after {len(r.history)} "
           f"epoch{'s' if len(r.history) != 1 else ''}"]
    if r.reason:
        done.append(f"STOPPED: {r.reason}")
    blocks.append(Lines("Result", done))
    title = f"fit {s.target} ≈ {s.model}"
    summary = [(n, fmt_number(v)) for n, v in zip(*flat(s.params, r.theta))] + [("loss", fmt_number(r.loss))]
    return Doc(title, blocks, summary)


@to_latex.register(FitResult)
def fit_latex(res) -> str:
    s, r = res.setup, res.run
    ps = ", \\quad ".join(f"{name(n)} = {number(v)}" for n, v in zip(*flat(s.params, r.theta)))
    return (f"\\hat y = {expr_latex(s.model)}\n\n"
            f"{ps}, \\quad J(\\theta) = {number(r.loss)} \\quad {text(f'({r.mode}, {len(r.history)} epochs)')}\n")


@json_obj.register(FitResult)
def fit_obj(res) -> dict:
    s, r = res.setup, res.run
    return {
        "model": s.model, "params": dict(zip(*flat(s.params, r.theta))), "loss": r.loss, "history": r.history,
        "mode": r.mode, "order": r.order, "epochs": r.epochs,
        "lr": r.lr, "batch_size": r.batch_size, "seed": r.seed, "updates": r.updates,
        "initial_loss": r.initial_loss, "init": dict(zip(*flat(s.params, r.init))),
        "target": s.target, "data": s.path, "rows": s.nrows, "loss_expression": s.loss_text,
        "diverged": r.diverged, "completed": not r.reason, "reason": r.reason or None,
    }


@to_doc.register(CompareResult)
def compare_doc(res) -> Doc:
    s = res.setup
    r0 = res.runs[0]
    setup = [f"data: {s.path}, {s.nrows} rows; columns used: {', '.join(s.data_columns)}",
             f"parameters θ: {_param_words(s.params, r0.init)}  (start: {_params_text(s.params, r0.init, short=True)})",
             f"loss per sample: {s.loss_text};  J(θ) = mean over the {s.nrows} samples",
             f"each mode: {r0.epochs} epochs · learning rate {fmt_number(r0.lr)} · order {r0.order}"
             + (f" (seed {r0.seed})" if r0.order != "fixed" else "")]
    if s.seed_note:
        setup.append(s.seed_note)
    rows = []
    for r in res.runs:
        label = r.mode + (f" ({r.batch_size})" if r.mode == "minibatch" else "")
        stopped = any(x.reason for x in res.runs)
        rows.append([label, str(r.updates), short_number(r.history[0]) if r.history else "—", short_number(r.loss)]
                    + [short_number(v) for v in flat(s.params, r.theta)[1]]
                    + ([("diverged" if r.diverged else "stopped") if r.reason else ""] if stopped else []))
    cols = ["mode", "updates", "J after epoch 1", f"J after {r0.epochs}"] + flat(s.params, r0.init)[0] \
        + (["note"] if any(x.reason for x in res.runs) else [])
    blocks = [Lines("Setup", setup),
              DocTable("Final losses (same epochs, same learning rate)", cols, rows),
              Block("", plot_lines([(r.mode, [r.initial_loss] + r.history) for r in res.runs],
                               "loss J(θ) per epoch"))]
    notes = ["batch: one careful step per epoch; online: one step per sample (fast, noisy);",
             "mini-batch: in between — an average over a few samples per step."]
    for r in res.runs:
        if r.reason:
            notes.append(f"{r.mode}: {r.reason}")
    blocks.append(Lines("Reading the curves", notes))
    b = res.best()
    summary = [("lowest loss", f"{b.mode}: {fmt_number(b.loss)}")]
    return Doc(f"fit {s.target} ≈ {s.model}    batch vs online vs mini-batch", blocks, summary)


@to_latex.register(CompareResult)
def compare_latex(res) -> str:
    rows = " \\\\\n".join(f"{text(r.mode)} & {r.updates} & {number(r.loss)}" for r in res.runs)
    return ("\\begin{array}{lrr}\n" + text("mode") + " & " + text("updates") + " & J(\\theta) \\\\\n"
            "\\hline\n" + rows + "\n\\end{array}\n")


@json_obj.register(CompareResult)
def compare_obj(res) -> dict:
    s, b = res.setup, res.best()
    runs = {r.mode: {"params": dict(zip(*flat(s.params, r.theta))), "loss": r.loss, "history": r.history,
                     "updates": r.updates, "batch_size": r.batch_size, "diverged": r.diverged,
                     "reason": r.reason or None} for r in res.runs}
    return {"model": s.model, "params": dict(zip(*flat(s.params, b.theta))), "loss": b.loss, "history": b.history,
            "mode": "compare", "best": b.mode, "order": b.order, "epochs": b.epochs, "lr": b.lr,
            "seed": b.seed, "target": s.target, "data": s.path, "rows": s.nrows,
            "loss_expression": s.loss_text, "runs": runs}


@to_html.register(FitResult)
def fitresult_html(r, page) -> str:
    """The formulas, then the table of the run and its loss curve."""
    return formulas_html(r, page, ("Progress per epoch",), pictures=True)


@to_html.register(CompareResult)
def compare_html(r, page) -> str:
    """The table of final losses (a formula), then the curves."""
    return formulas_html(r, page, pictures=True)
