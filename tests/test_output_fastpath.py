"""``write`` in JSON mode: text the stream encodes goes out unchanged (the fast
path), and what it cannot encode, or a lone surrogate, becomes \\u escapes, as
the escaping loop gives them."""
import io
import json
import math
import re

import pytest

from calccli.app.output import _json_escape, write


def _written(text, encoding):
    raw = io.BytesIO()
    stream = io.TextIOWrapper(raw, encoding=encoding, errors="strict", newline="")
    write(text, json_mode=True, stream=stream)
    stream.flush()
    return raw.getvalue().decode(encoding)


def _escaped_everywhere(text, encoding):
    from calccli.render.json import line_safe
    return re.sub(r"[^\x00-\x7f]", lambda m: _json_escape(m, encoding), line_safe(text))


@pytest.mark.parametrize("encoding", ["utf-8", "ascii", "latin-1", "cp1252"])
@pytest.mark.parametrize("text", [
    '{"a": "plain"}', '{"a": "∂b/∂a = 2·x"}', '{"a": "é ü"}', '{"a": "x\u0085y\u2028z\u2029"}',
    '{"a": "\udcff bad byte"}', '{"a": "𝑥 astral"}',
])
def test_same_as_escaping_every_character(text, encoding):
    out = _written(text, encoding)
    assert out == _escaped_everywhere(text, encoding)
    json.loads(out)
    assert "\u0085" not in out and "\u2028" not in out


def test_plain_batch_builds_no_trace_and_json_keeps_it(cli, monkeypatch):
    """The trace and the steps are made when a renderer asks: batch mode's plain line
    (f and f') never does, JSON always does (the contract's trace and steps)."""
    from calccli.explain import steps

    lines = "sin(x)*x\nexp(x^2)\n"
    real = steps.trace_rows
    calls = []
    monkeypatch.setattr(steps, "trace_rows", lambda *a: calls.append(a) or real(*a))
    code, out, _ = cli("diff", "-", "--at", "x=1.3", "--format", "plain", input=lines)
    assert code == 0 and not calls
    x = 1.3
    want = [(math.sin(x) * x, math.cos(x) * x + math.sin(x)), (math.exp(x * x), 2 * x * math.exp(x * x))]
    got = [tuple(map(float, line.split("\t"))) for line in out.splitlines()]
    assert len(got) == 2 and all(math.isclose(g, w, rel_tol=1e-15) for gw, ww in zip(got, want)
                                 for g, w in zip(gw, ww))
    code, out, _ = cli("diff", "-", "--at", "x=1.3", "--format", "json", input=lines)
    assert code == 0 and len(calls) == 2
    first = json.loads(out.splitlines()[0])
    assert [t["definition"] for t in first["trace"]] == ["sin(x)", "a x"]
    assert first["steps"][-1]["value"] == first["derivative"] == got[0][1]


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_plain_and_json_batch_lines_agree(cli, mode):
    """The plain line (no trace built) and the JSON line (trace and steps built) carry the
    same f and f' for every line, errors included, in both modes."""
    import random
    from exprgen import random_expr
    rng = random.Random(11)
    lines = [random_expr(rng, depth=rng.randint(1, 5))[0] for _ in range(150)] + ["log(x - 5)", "sqrt(x - 1.3)"]
    args = ["diff", "-", "--at", "x=1.3", "--mode", mode]
    code_p, plain, _ = cli(*args, "--format", "plain", input="\n".join(lines) + "\n")
    code_j, js, _ = cli(*args, "--format", "json", input="\n".join(lines) + "\n")
    assert code_p == code_j == 1
    for line, p, j in zip(lines, plain.splitlines(), js.splitlines(), strict=True):
        d = json.loads(j)
        if "error" in d:
            assert p.startswith("error\t") and p[6:] == d["error"]["message"]
        else:
            assert p == f"{d['value']!r}\t{d['derivative']!r}".replace(".0\t", "\t") or \
                [float(v) for v in p.split("\t")] == [d["value"], d["derivative"]]
            assert bool(d["steps"]) == bool(re.search(r"\bx\b", line)) and "trace" in d


def test_json_writes_negative_zero_as_zero_on_every_path(cli):
    """-0.0 is written 0.0 (jq would print -0), whether or not the line also needs cleaning."""
    _, out, _ = cli("diff", "-x^2", "--at", "0", "--format", "json")
    d = json.loads(out)
    assert "-0.0" not in out and d["value"] == d["derivative"] == 0.0 and math.copysign(1, d["value"]) == 1
    _, out, _ = cli("diff", "x^2", "--at", "-0.05", "--format", "json")
    assert json.loads(out)["point"] == {"x": -0.05} and json.loads(out)["derivative"] == -0.1
