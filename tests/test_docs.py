"""The documentation holds: README length, links, no paths outside the repository, real output.

Every fenced block in README.md and docs/*.md whose first line starts with `$ ` is a
transcript: its commands are run (`calc` is this checkout's `python -m calccli`, `python` the
interpreter running the tests)
and their output must be what the block shows, up to runs of blanks (a line `…` stands
for any number of lines). The seed example in the README is compared character for character.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
# The manual's pages whose transcripts and links this file holds to account (a page that
# another change adds joins the list when it is checked here).
MANUAL = ["index", "notes", "language", "derivatives", "multivariable", "symbolic", "graph-and-plot",
          "optimization", "fitting", "repl", "output", "edge-cases", "performance", "architecture",
          "python-api", "exports", "numerics"]
DOCS = [ROOT / "docs" / f"{name}.md" for name in MANUAL]
PAGES = [README, *DOCS]
SEED_COMMAND = 'calc diff "sqrt(x^2+exp(x^2))+cos(x^2+exp(x^2))" --at 1.0'
ELLIPSIS = "…"


# ---------------------------------------------------------------------------
# Markdown: fenced blocks and links
# ---------------------------------------------------------------------------

def fenced_blocks(text: str) -> list[tuple[int, list[str]]]:
    """(line number of the opening fence, the block's lines) for every ``` block."""
    blocks, current, start = [], None, 0
    for n, line in enumerate(text.splitlines(), 1):
        if line.startswith("```"):
            if current is None:
                current, start = [], n
            else:
                blocks.append((start, current))
                current = None
        elif current is not None:
            current.append(line)
    assert current is None, f"unclosed code fence opened at line {start}"
    return blocks


def transcript_blocks(path: Path) -> list[tuple[int, list[str]]]:
    return [(n, lines) for n, lines in fenced_blocks(path.read_text(encoding="utf-8"))
            if lines and lines[0].startswith("$ ")]


def _outside_code(text: str) -> str:
    """The text with fenced blocks and inline code removed (links inside code are not links)."""
    text = re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)
    return re.sub(r"`[^`\n]*`", "", text)


def links(path: Path) -> list[str]:
    return re.findall(r"\]\(([^)\s]+)\)", _outside_code(path.read_text(encoding="utf-8")))


def slug(heading: str) -> str:
    """GitHub's anchor for a heading (MkDocs' differs only in ways our headings avoid)."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    text = re.sub(r"^```.*?^```", "", path.read_text(encoding="utf-8"), flags=re.S | re.M)
    return {slug(m) for m in re.findall(r"^#+\s+(.*)$", text, flags=re.M)}


# ---------------------------------------------------------------------------
# Running a transcript
# ---------------------------------------------------------------------------

def commands_of(lines: list[str]) -> list[tuple[str, list[str]]]:
    """Split a transcript into (command, expected output lines); `\\` continues a command."""
    out: list[tuple[str, list[str]]] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if not line.startswith("$ "):
            out[-1][1].append(line)
            i += 1
            continue
        cmd = line[2:]
        while cmd.endswith("\\") and i + 1 < len(lines):
            i += 1
            cmd = cmd + "\n" + lines[i]
        out.append((cmd, []))
        i += 1
    return out


def normal(lines: list[str]) -> list[str]:
    """Runs of blanks are one blank; trailing blanks and blank lines at either end go."""
    res = [re.sub(r"[ \t]+", " ", ln).rstrip() for ln in lines]
    while res and not res[0]:
        res.pop(0)
    while res and not res[-1]:
        res.pop()
    return res


def matches(expected: list[str], actual: list[str]) -> bool:
    """Line-by-line equality where an expected line `…` matches any run of lines."""
    if not expected:
        return not actual
    head, rest = expected[0], expected[1:]
    if head == ELLIPSIS:
        return any(matches(rest, actual[k:]) for k in range(len(actual) + 1))
    return bool(actual) and actual[0] == head and matches(rest, actual[1:])


def run_transcript(commands: list[str], workdir: Path) -> list[list[str]]:
    """Run the commands in one bash, in order (variables carry over); each one's stdout+stderr."""
    marker = "@@calc-docs-command@@"
    script = ['calc() { "$CALC_PYTHON" -m calccli "$@"; }', 'python() { "$CALC_PYTHON" "$@"; }',
              'cd "$CALC_WORKDIR"']
    for cmd in commands:  # the marker keeps $? for a following `echo $?`
        script += [f"status=$?; echo '{marker}'; (exit $status)", "{ " + cmd + "\n} 2>&1"]
    env = {**os.environ, "CALC_PYTHON": sys.executable, "CALC_WORKDIR": str(workdir),
           "PYTHONPATH": str(ROOT), "NO_COLOR": "1", "COLUMNS": "80", "TERM": "dumb"}
    env.pop("FORCE_COLOR", None)
    proc = subprocess.run(["bash", "-c", "\n".join(script)], capture_output=True, text=True,
                          env=env, stdin=subprocess.DEVNULL, timeout=600)
    chunks = proc.stdout.split(marker + "\n")[1:]
    assert len(chunks) == len(commands), proc.stderr
    return [c.split("\n") for c in chunks]


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    """A scratch directory in which `examples/` is the repository's (commands may write files)."""
    d = tmp_path_factory.mktemp("docs")
    (d / "examples").symlink_to(ROOT / "examples")
    return d


def _transcripts():
    return [pytest.param(path, n, lines, id=f"{path.name}:{n}")
            for path in PAGES for n, lines in transcript_blocks(path)]


@pytest.mark.parametrize("path, line, lines", _transcripts())
def test_shown_output_is_real(path, line, lines, workdir):
    if any("| jq" in cmd for cmd, _ in commands_of(lines)) and shutil.which("jq") is None:
        pytest.skip("jq is not installed")
    if any("--output" in cmd for cmd, _ in commands_of(lines)):
        from calccli.commands import graphviz
        if graphviz.libraries() is None:
            pytest.skip("Graphviz is not installed (graph --output)")
    cmds = commands_of(lines)
    actual = run_transcript([c for c, _ in cmds], workdir)
    for (cmd, expected), got in zip(cmds, actual):
        assert matches(normal(expected), normal(got)), (
            f"{path.name}, block at line {line}: `{cmd}` printed\n" + "\n".join(got))


# ---------------------------------------------------------------------------
# The README as a front page
# ---------------------------------------------------------------------------

def test_readme_fits_on_a_few_screens():
    assert len(README.read_text(encoding="utf-8").splitlines()) <= 400


def test_readme_seed_example_is_exact_to_the_last_digit(workdir):
    blocks = [lines for _, lines in transcript_blocks(README) if lines[0] == "$ " + SEED_COMMAND]
    assert blocks, "the README shows the seed example"
    (cmd, expected), *_ = commands_of(blocks[0])
    got = run_transcript([cmd], workdir)[0]
    strip = lambda ls: [ln.rstrip() for ln in ls if ln.strip()]  # noqa: E731
    assert strip(expected) == strip(got)
    assert "f(1) = 1.0900122119747424" in expected and "f'(1) = 5.983082595908695" in expected


def test_readme_setup_commands_are_the_documented_ones():
    text = README.read_text(encoding="utf-8")
    assert ("pip install . && " + SEED_COMMAND) in text
    assert 'pip install -e ".[test]" && python -m pytest' in text
    ci_script = ROOT / ".ci" / "run"
    if not ci_script.exists():
        pytest.skip("not a checkout of the repository (an sdist has no .ci/)")
    ci = ci_script.read_text(encoding="utf-8")
    assert re.search(r"^python -m pytest\s*$", ci, flags=re.M), "CI runs the README's test command"


# ---------------------------------------------------------------------------
# Links and the repository standing alone
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("path", PAGES, ids=lambda p: p.name)
def test_every_relative_link_resolves(path):
    for link in links(path):
        if re.match(r"[a-z]+:", link):
            continue  # http:, https:, mailto:
        target, _, anchor = link.partition("#")
        dest = (path.parent / target).resolve() if target else path
        assert dest.exists(), f"{path.name}: link {link!r} points at nothing"
        if anchor and dest.suffix == ".md":
            assert anchor in anchors(dest), f"{path.name}: link {link!r}: no such heading"


def test_mkdocs_nav_lists_every_page_and_the_index_links_them():
    cfg = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    listed = set(re.findall(r":\s*([\w./-]+\.md)\s*$", cfg, flags=re.M))
    assert {p.name for p in DOCS} <= listed, "a page of the manual is missing from mkdocs.yml's nav"
    assert all((ROOT / "docs" / name).exists() for name in listed), "mkdocs.yml's nav names a missing page"
    linked = set(links(ROOT / "docs" / "index.md"))
    assert {p.name for p in DOCS} - {"index.md"} <= linked, "docs/index.md does not link every page"


def repository_files() -> list[Path]:
    try:
        names = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT,
                               capture_output=True, text=True, check=True).stdout.split("\n")
        files = [ROOT / n for n in names if n]
    except (OSError, subprocess.CalledProcessError):
        skip = {".git", ".venv", "node_modules", "__pycache__", ".hypothesis", ".pytest_cache", "site"}
        files = [p for p in ROOT.rglob("*") if not skip & set(p.relative_to(ROOT).parts)]
    return [f for f in files if f.is_file()]


def test_nothing_points_outside_the_repository():
    outside = [".." + "/shared", "/" + "work/"]
    offenders = []
    for f in repository_files():
        try:
            text = f.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        offenders += [f"{f.relative_to(ROOT)}: {word}" for word in outside if word in text]
    assert not offenders, offenders


# ---------------------------------------------------------------------------
# python tests/test_docs.py FILE.md …  rewrites each transcript's output from real runs
# ---------------------------------------------------------------------------

def regenerate(path: Path, workdir: Path) -> int:
    """Replace the output of every transcript in PATH by what its commands print now.

    Blocks that elide lines with `…` are only checked; returns how many of those differ."""
    lines = path.read_text(encoding="utf-8").split("\n")
    stale = 0
    for start, block in reversed(transcript_blocks(path)):
        cmds = commands_of(block)
        got = run_transcript([c for c, _ in cmds], workdir)
        if any(ELLIPSIS in exp for _, exp in cmds):
            bad = [c for (c, exp), g in zip(cmds, got) if not matches(normal(exp), normal(g))]
            stale += len(bad)
            for c in bad:
                print(f"{path.name}:{start}: elided block differs: {c}")
            continue
        new: list[str] = []
        for (cmd, _), out in zip(cmds, got):
            new += ["$ " + cmd.split("\n")[0], *cmd.split("\n")[1:]]
            out = [ln.rstrip() for ln in out]
            while out and not out[-1]:
                out.pop()
            new += out
        lines[start:start + len(block)] = new
    path.write_text("\n".join(lines), encoding="utf-8")
    return stale


if __name__ == "__main__":
    import tempfile
    scratch = Path(tempfile.mkdtemp())
    (scratch / "examples").symlink_to(ROOT / "examples")
    sys.exit(sum(regenerate(Path(p), scratch) for p in sys.argv[1:]) > 0)
