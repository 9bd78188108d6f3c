"""``write`` in JSON mode: text the stream encodes goes out unchanged (the fast
path), and what it cannot encode, or a lone surrogate, becomes \\u escapes, as
the escaping loop gives them."""
import io
import json
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
