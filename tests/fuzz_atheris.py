"""Coverage-guided fuzzing of calc with atheris (libFuzzer), for occasional long runs.

    pip install atheris
    python tests/fuzz_atheris.py -max_total_time=600            # ten minutes
    python tests/fuzz_atheris.py -runs=200000 -dict=tests/calc.dict   # with a token dictionary, if you make one
    python tests/fuzz_atheris.py crash-<hash>                   # replay a crash file
    CALC_ATHERIS_COLLECT=findings.txt python tests/fuzz_atheris.py -max_total_time=600
                        # keep going: write each distinct failure (type and place) with its input

Each input picks a command, an expression and some options, and runs the
library the way the CLI does: parse, resolve --at/--let/--wrt, compute, render
in every format. Any exception that is not a ``calccli.errors.CalcError`` (or is
calc's "internal" kind) is a crash: libFuzzer stops, prints the traceback and
writes the input to ``crash-…`` in the current directory.

Not collected by pytest (the file name does not start with ``test_``); the CI
fuzzing is tests/test_fuzz.py (hypothesis).
"""
from __future__ import annotations

import base64
import io
import os
import sys
import traceback
from pathlib import Path

import atheris

with atheris.instrument_imports(include=["calccli"]):
    import importlib
    import pkgutil

    import calccli
    for _m in pkgutil.walk_packages(calccli.__path__, "calccli."):  # the lazily imported ones too
        if _m.name not in ("calccli.__main__", "calccli.app.repl"):
            importlib.import_module(_m.name)
    from calccli.app import wiring as C
    from calccli.errors import CalcError
    from calccli.app.output import render
    from calccli.language.parse import parse
    from calccli.language.points import constant_value, resolve
    from calccli.render import rich as rich_render
    from calccli.render.views import to_doc

AT = ["1", "0", "-1", "x=1", "x=1,y=2", "x=[1,2]", "A=[[1,2],[3,4]]", "x=pi/2", "x=1e308", "x=1e-320",
      "x=0,y=0", "y=2", ""]
COMMANDS = ["parse", "constant", "eval", "diff", "diff-forward", "diff-order", "diff-symbolic", "grad",
            "jacobian", "hessian", "check", "graph", "plot", "minimize"]


def _compute(cmd, fdp):
    at = [AT[fdp.ConsumeIntInRange(0, len(AT) - 1)]] if fdp.ConsumeBool() else \
        [fdp.ConsumeUnicodeNoSurrogates(fdp.ConsumeIntInRange(0, 20))]
    let = [fdp.ConsumeUnicodeNoSurrogates(fdp.ConsumeIntInRange(0, 12))] if fdp.ConsumeBool() else None
    wrt = fdp.PickValueInList([None, "x", "y", "x,y", "z", ""])
    if cmd == "eval":
        return C.eval_compute(at, let)
    if cmd == "diff":
        return C.diff_compute(at, let, wrt, "reverse", "1", fdp.ConsumeBool())
    if cmd == "diff-forward":
        return C.diff_compute(at, let, wrt, "forward", "1", False)
    if cmd == "diff-order":
        return C.diff_compute(at, let, wrt, fdp.PickValueInList(["forward", "reverse"]),
                              str(fdp.ConsumeIntInRange(1, 5)), False)
    if cmd == "diff-symbolic":
        return C.diff_compute(None, let, wrt, "reverse", str(fdp.ConsumeIntInRange(1, 3)), False)
    if cmd == "grad":
        return C.grad_compute(at, let, wrt, fdp.ConsumeBool())
    if cmd == "jacobian":
        return C.jacobian_compute(at, let, wrt, fdp.PickValueInList(["auto", "forward", "reverse"]))
    if cmd == "hessian":
        return C.hessian_compute(at, let, wrt)
    if cmd == "check":
        return C.check_compute(at, let, wrt, 1e-6)
    if cmd == "graph":
        return C.graph_compute(let, fdp.PickValueInList(["tree", "dot", "json"]))[0]
    if cmd == "plot":
        return C.plot_compute("-1", "1", fdp.ConsumeIntInRange(0, 3), None, let, wrt, 40, 10)
    return C.minimize_compute(at, let, wrt, fdp.PickValueInList(["auto", "gd", "adam", "newton", "bfgs"]),
                              None, 30, 1e-8, False)


def _check(exc: CalcError):
    if exc.kind == "internal":
        raise AssertionError(f"calc reported an internal error: {exc.message}")
    exc.caret_lines()
    exc.to_json()


COLLECT = os.environ.get("CALC_ATHERIS_COLLECT")  # a file: record distinct failures there and go on
_seen: set = set()


def TestOneInput(data: bytes):
    if not COLLECT:
        return _one(data)
    try:
        _one(data)
    except Exception as exc:  # noqa: BLE001 - collecting
        frames = [f for f in traceback.extract_tb(exc.__traceback__) if "calccli" in f.filename]
        where = f"{Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else "?"
        key = (type(exc).__name__, where)
        if key not in _seen:
            _seen.add(key)
            with open(COLLECT, "a", encoding="utf-8") as f:
                f.write(f"{key[0]} at {where}: {str(exc)[:200]!r}\n    input (base64): "
                        f"{base64.b64encode(data).decode()}\n")
            print(f"NEW FAILURE {key}", file=sys.stderr)


def _one(data: bytes):
    fdp = atheris.FuzzedDataProvider(data)
    cmd = COMMANDS[fdp.ConsumeIntInRange(0, len(COMMANDS) - 1)]
    compute = None
    try:
        if cmd not in ("parse", "constant"):
            compute = _compute(cmd, fdp)
    except CalcError as e:
        _check(e)
        return
    text = fdp.ConsumeUnicode(fdp.remaining_bytes())  # may hold surrogates, like undecodable argv bytes
    try:
        if cmd == "parse":
            p = parse(text)
            resolve(p.node, ["x=1,y=2"], None, None, need_point=False, parsed=p)
            return
        if cmd == "constant":
            constant_value(text)
            return
        result = compute(text)
    except CalcError as e:
        _check(e)
        return
    except ModuleNotFoundError as e:  # a command still being written
        if (e.name or "").startswith("calccli."):
            return
        raise
    for fmt in ("plain", "json", "latex"):
        try:
            render(result, fmt)
        except CalcError as e:
            _check(e)
    from rich.console import Console
    try:
        rich_render.render(to_doc(result), Console(file=io.StringIO(), width=100))
    except CalcError as e:  # a result may refuse to render (too large to print)
        _check(e)


def main():
    # a hang or a memory blow-up is a bug too: libFuzzer's -timeout and -rss_limit_mb catch them
    args = list(sys.argv)
    if not any(a.startswith("-timeout=") for a in args):
        args.append("-timeout=60")
    if not any(a.startswith("-rss_limit_mb=") for a in args):
        args.append("-rss_limit_mb=2048")
    atheris.Setup(args, TestOneInput)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
