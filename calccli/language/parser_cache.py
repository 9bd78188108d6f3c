"""The Lark parser tables, cached on disk as JSON in a directory only this user can write.

Nothing is unpickled: the cache holds Lark's serialized tables as plain JSON,
so even a planted file can at worst make calc rebuild the tables. It is read
and written only through file descriptors whose owner and mode are checked after
opening (O_NOFOLLOW, relative to the opened directory), so a symlink swapped in
between check and use is refused. A relative $XDG_CACHE_HOME is ignored (XDG).
"""
from __future__ import annotations

import hashlib
import json
import os
import stat
import sys

MAX_BYTES = 4 << 20     # a cache file larger than this is not ours
_NEEDED = ("O_NOFOLLOW", "O_DIRECTORY")


def cache_dir() -> str | None:
    """$XDG_CACHE_HOME/calccli (absolute only), else ~/.cache/calccli; None if no home is known."""
    base = os.environ.get("XDG_CACHE_HOME") or ""
    if not os.path.isabs(base):
        home = os.path.expanduser("~")
        if not os.path.isabs(home):
            return None
        base = os.path.join(home, ".cache")
    return os.path.join(base, "calccli")


def _supported() -> bool:
    return (all(hasattr(os, n) for n in _NEEDED) and hasattr(os, "getuid")
            and os.open in os.supports_dir_fd and os.rename in os.supports_dir_fd)


def _private(st: os.stat_result, kind) -> bool:
    """Owned by this user, of ``kind`` (stat.S_ISDIR / S_ISREG), writable by nobody else."""
    return kind(st.st_mode) and st.st_uid == os.getuid() and not st.st_mode & 0o022


def _open_dir(d: str) -> int | None:
    """A descriptor of the private directory ``d`` (made if missing), or None."""
    try:
        os.makedirs(d, mode=0o700, exist_ok=True)
        fd = os.open(d, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return None
    try:
        if _private(os.fstat(fd), stat.S_ISDIR):
            return fd
    except OSError:
        pass
    os.close(fd)
    return None


def _read(dfd: int, name: str) -> bytes | None:
    flags = os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(name, flags, dir_fd=dfd)
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if not _private(st, stat.S_ISREG) or st.st_nlink != 1 or st.st_size > MAX_BYTES:
            return None
        chunks, total = [], 0
        while total <= MAX_BYTES:
            b = os.read(fd, 1 << 16)
            if not b:
                return b"".join(chunks)
            chunks.append(b)
            total += len(b)
        return None
    except OSError:
        return None
    finally:
        os.close(fd)


def _write(dfd: int, name: str, data: bytes) -> None:
    tmp = f".{name}.{os.getpid()}.tmp"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0),
                     0o600, dir_fd=dfd)
    except OSError:
        return
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, name, src_dir_fd=dfd, dst_dir_fd=dfd)   # atomic; replaces a planted link itself
    except OSError:
        try:
            os.unlink(tmp, dir_fd=dfd)
        except OSError:
            pass


def cache_key(grammar_text: str, options: dict) -> str:
    import lark
    ident = json.dumps([grammar_text, lark.__version__, sorted(options.items()), sys.version_info[:2]])
    return hashlib.sha256(ident.encode("utf-8", "surrogatepass")).hexdigest()


def cache_file(grammar_text: str, options: dict) -> str | None:
    """Where the tables for ``grammar_text`` are cached, or None without a private directory."""
    d = cache_dir() if _supported() else None
    dfd = _open_dir(d) if d else None
    if dfd is None:
        return None
    os.close(dfd)
    return os.path.join(d, f"lalr-{cache_key(grammar_text, options)[:24]}.json")


def load_parser(grammar_text: str, options: dict, runtime: dict):
    """A Lark parser for ``grammar_text`` built with ``options`` (grammar options) and
    ``runtime`` (options allowed when loading, such as the transformer), from the cache
    when a valid one is there; the cache is written when it was not."""
    from lark import Lark
    key = cache_key(grammar_text, options)
    name = f"lalr-{key[:24]}.json"
    d = cache_dir() if _supported() else None
    dfd = _open_dir(d) if d else None
    try:
        if dfd is not None:
            raw = _read(dfd, name)
            if raw is not None:
                try:
                    doc = _decode(json.loads(raw))
                    if doc.get("key") == key:
                        return Lark._load_from_dict(doc["data"], doc["memo"], **runtime)
                except Exception:   # noqa: BLE001 - anything wrong with the file: rebuild it
                    pass
        parser = Lark(grammar_text, **options, **runtime)
        if dfd is not None:
            _write(dfd, name, _serialized(parser, key, runtime))
        return parser
    finally:
        if dfd is not None:
            os.close(dfd)


def _serialized(parser, key: str, runtime: dict) -> bytes:
    from lark.grammar import Rule
    from lark.lexer import TerminalDef
    data, memo = parser.memo_serialize([TerminalDef, Rule])
    data["options"] = {k: v for k, v in data["options"].items() if k not in runtime}
    return json.dumps(_encode({"key": key, "data": data, "memo": memo}), separators=(",", ":")).encode()


# Lark's tables have dicts with int keys (states, token numbers), which JSON objects
# cannot hold: such a dict is written as {"\u0000pairs": [[key, value], …]}.
_PAIRS = "\x00pairs"


def _encode(o):
    if isinstance(o, dict):
        if all(isinstance(k, str) for k in o):
            return {k: _encode(v) for k, v in o.items()}
        return {_PAIRS: [[_encode(k), _encode(v)] for k, v in o.items()]}
    if isinstance(o, (list, tuple)):
        return [_encode(x) for x in o]
    return o


def _decode(o):
    if isinstance(o, dict):
        if len(o) == 1 and _PAIRS in o:
            return {_decode(k): _decode(v) for k, v in o[_PAIRS]}
        return {k: _decode(v) for k, v in o.items()}
    if isinstance(o, list):
        return [_decode(x) for x in o]
    return o
