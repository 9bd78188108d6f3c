"""No user text reaches eval, exec, pickle or a shell.

calc parses expressions with its own grammar and evaluates them with its own
interpreter; ``--at`` values are calc expressions too. These tests read the
package's source (the syntax tree, so comments, strings and method names such
as ``.eval`` or ``re.compile`` do not count) and fail on any way to run code
from text. A textual grep backs them up for the obvious spellings.
"""
from __future__ import annotations

import ast
import io
import re
import tokenize
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "calccli"
SOURCES = sorted(PACKAGE.rglob("*.py"))

BUILTINS = {"eval", "exec", "compile", "__import__", "execfile", "breakpoint"}
MODULES = {"pickle", "cPickle", "_pickle", "marshal", "shelve", "dill", "cloudpickle", "joblib", "code",
           "codeop", "pty"}
OS_CALLS = {"system", "popen", "execl", "execle", "execlp", "execlpe", "execv", "execve", "execvp", "execvpe",
            "spawnl", "spawnle", "spawnlp", "spawnlpe", "spawnv", "spawnve", "spawnvp", "spawnvpe", "startfile",
            "posix_spawn", "posix_spawnp"}


def _dotted(node) -> str:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
    return ".".join(reversed(parts))


def findings(text: str, label: str = "<text>") -> list[str]:
    """Every way the source ``text`` could run code from a string."""
    tree = ast.parse(text, filename=label)
    out = []
    for node in ast.walk(tree):
        where = f"{label}:{getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.Call):
            name = _dotted(node.func)
            if isinstance(node.func, ast.Name) and node.func.id in BUILTINS:
                out.append(f"{where}: call of the builtin {node.func.id}()")
            if name in {"builtins.eval", "builtins.exec", "builtins.compile", "builtins.__import__"}:
                out.append(f"{where}: {name}()")
            if name.startswith("os.") and name.split(".")[-1] in OS_CALLS:
                out.append(f"{where}: {name}() runs a command")
            if name.startswith("subprocess.") or name.startswith("asyncio.create_subprocess"):
                out.append(f"{where}: {name}() starts a process")
            if any(k.arg == "shell" and not (isinstance(k.value, ast.Constant) and k.value.value is False)
                   for k in node.keywords):
                out.append(f"{where}: shell= in a call of {name}()")
            if name in ("importlib.import_module", "import_module") and not (
                    node.args and isinstance(node.args[0], ast.Constant)):
                out.append(f"{where}: import_module() of a computed name")
            if name in ("yaml.load", "yaml.unsafe_load", "yaml.full_load"):
                out.append(f"{where}: {name}()")
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            mods = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            for m in mods:
                if m.split(".")[0] in MODULES | {"subprocess"}:
                    out.append(f"{where}: import {m}")
        elif isinstance(node, ast.Name) and node.id in BUILTINS and isinstance(node.ctx, ast.Load):
            # eval passed around as a value (f = eval) is as bad as calling it
            out.append(f"{where}: reference to the builtin {node.id}")
    return sorted(set(out))


def source(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def test_the_package_has_sources():
    assert len(SOURCES) > 15 and PACKAGE / "language" / "parse.py" in SOURCES


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_way_to_run_code_from_text(path):
    assert findings(source(path), str(path.relative_to(ROOT))) == []


def _code_only(text: str) -> str:
    """The source with comments and string literals blanked out (docstrings may mention eval)."""
    lines = text.splitlines(keepends=True)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))
    blank = {tokenize.COMMENT, tokenize.STRING} | {getattr(tokenize, "FSTRING_MIDDLE", -1)}
    chars = list(text)
    for tok in tokenize.generate_tokens(io.StringIO(text).readline):
        if tok.type in blank:
            a = offsets[tok.start[0] - 1] + tok.start[1]
            b = offsets[tok.end[0] - 1] + tok.end[1]
            chars[a:b] = [c if c == "\n" else " " for c in chars[a:b]]
    return "".join(chars)


# (?<![\w.]) keeps method calls such as sympy's expr.eval(…) or re.compile(…),
# and names such as literal_eval or _eval_rule, out of the match.
GREP = [
    (re.compile(r"(?<![\w.])eval\s*\("), "eval("),
    (re.compile(r"(?<![\w.])exec\s*\("), "exec("),
    (re.compile(r"(?<![\w.])compile\s*\("), "compile("),
    (re.compile(r"\bpickle\b|\bmarshal\b|\bshelve\b"), "pickle/marshal/shelve"),
    (re.compile(r"\bos\s*\.\s*(system|popen|exec\w*|spawn\w*)\b"), "os.system/popen/exec/spawn"),
    (re.compile(r"\bsubprocess\b"), "subprocess"),
    (re.compile(r"\bshell\s*=\s*True\b"), "shell=True"),
    (re.compile(r"__import__"), "__import__"),
]


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_grep_for_dangerous_calls(path):
    code = _code_only(source(path))
    hits = [what for rx, what in GREP if rx.search(code)]
    assert hits == [], f"{path.relative_to(ROOT)}: {hits}"


def test_the_checks_catch_what_they_should():
    bad = ("import os, pickle\nimport subprocess\n"
           "def f(text):\n"
           "    eval(text)\n    exec(text)\n    g = eval\n    os.system(text)\n"
           "    subprocess.run(text, shell=True)\n    __import__(text)\n    compile(text, 'f', 'exec')\n")
    found = "\n".join(findings(bad))
    for needle in ("builtin eval()", "builtin exec()", "reference to the builtin eval", "os.system()",
                   "shell=", "subprocess.run()", "import pickle", "import subprocess", "builtin __import__()",
                   "builtin compile()"):
        assert needle in found, needle
    code = _code_only(bad)
    assert all(rx.search(code) for rx, _ in GREP), [w for rx, w in GREP if not rx.search(code)]
    fine = ("import re\nx = re.compile('a')\ny = expr.eval(1)\nz = ast.literal_eval\n"
            "def _eval_rule(): pass\n"
            "# eval(text) in a comment\ns = 'exec(text) in a string'\n")
    assert findings(fine) == []
    assert not any(rx.search(_code_only(fine)) for rx, _ in GREP)


def test_at_values_are_calc_expressions_not_python():
    """What would run code in Python is a calc error (and nothing runs)."""
    from calccli.errors import CalcError
    from calccli.language.points import constant_value
    for text in ("__import__('os').system('touch /tmp/calc-pwned')", "open('/etc/passwd')",
                 "(lambda: 1)()", "1 if 1 else 2", "[x for x in ()]", "'a'", "exec('1')"):
        with pytest.raises(CalcError):
            constant_value(text)
    assert not Path("/tmp/calc-pwned").exists()


def test_the_parser_cache_is_never_in_a_shared_directory(monkeypatch, tmp_path):
    """The cache of Lark's tables must live in a directory only this user can write."""
    import tempfile

    from calccli.language import parse, parser_cache
    text = parse.grammar_path().read_text(encoding="utf-8")

    def cache_path():
        return parser_cache.cache_file(text, parse._OPTIONS)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    path = cache_path()
    assert path is not None and path.startswith(str(tmp_path / "cache"))
    monkeypatch.setenv("XDG_CACHE_HOME", "/proc/calc-cannot-make-this")  # no private directory: no cache
    assert cache_path() is None
    shared = tmp_path / "shared"
    (shared / "calccli").mkdir(parents=True)
    (shared / "calccli").chmod(0o777)  # writable by everyone: refused
    monkeypatch.setenv("XDG_CACHE_HOME", str(shared))
    assert cache_path() is None
    assert not any(str(p).startswith(tempfile.gettempdir() + "/calccli") for p in [cache_path()] if p)
