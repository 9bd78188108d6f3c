"""Where an expression came from: the latest parses by root node, so that later
stages (shape checking of vectors and matrices) can point a caret into the text
a tape came from. The parser registers each parse; the engine only looks up."""
from __future__ import annotations

_RECENT: dict = {}    # root node -> its parse (text and spans)
_RECENT_MAX = 64


def remember(root, parsed) -> None:
    _RECENT.pop(root, None)
    _RECENT[root] = parsed
    if len(_RECENT) > _RECENT_MAX:
        del _RECENT[next(iter(_RECENT))]


def source_of(root):
    """The most recent parse whose result is ``root`` (its text and spans), if any."""
    return _RECENT.get(root)
