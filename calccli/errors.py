"""calc's own error types. Every failure a user can cause is one of these.

Each error knows its exit status (see the contract: 1 = the mathematics failed,
2 = the input was not understood) and, where it has one, the place in the input
(0-based offset into ``source``) so that renderers can draw a caret under it.
"""
from __future__ import annotations

import errno
import os


class CalcError(Exception):
    kind = "error"
    exit_code = 2

    def __init__(self, message: str, *, source: str | None = None,
                 pos: int | None = None, end: int | None = None, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.source = source
        self.pos = pos
        self.end = end
        self.hint = hint

    def at(self, source: str, pos: int | None, end: int | None = None) -> "CalcError":
        """Attach a place in the input unless one is already known."""
        if self.source is None:
            self.source, self.pos, self.end = source, pos, end
        return self

    @property
    def column(self) -> int | None:
        return None if self.pos is None else self.pos + 1

    def caret_lines(self) -> list[str]:
        """The input line and a caret under the offending place (or nothing)."""
        if self.source is None or self.pos is None:
            return []
        src = self.source
        if "\n" in src or len(src) > 200:  # show a window around the place
            start = max(0, min(self.pos - 60, len(src) - 120))
            window = src[start:start + 120].replace("\n", " ")
            prefix = "…" if start > 0 else ""
            col = self.pos - start + len(prefix)
            src = prefix + window
        else:
            col = self.pos
        width = max(1, min((self.end or self.pos + 1) - self.pos, len(src) - col))
        return ["  " + src, "  " + " " * col + "^" * width]

    def to_json(self) -> dict:
        return {"error": {"kind": self.kind, "message": self.message, "column": self.column}}


class ParseError(CalcError):
    kind = "parse"


class ShapeError(CalcError):
    """Type or shape mismatch, found before any evaluation."""
    kind = "type"


class UsageError(CalcError):
    kind = "usage"


class DomainError(CalcError):
    """The input was understood but a value is outside a function's domain."""
    kind = "domain"
    exit_code = 1


class NotDifferentiable(DomainError):
    kind = "not-differentiable"


class OverflowErr(DomainError):
    kind = "overflow"


class NoConvergence(CalcError):
    kind = "convergence"
    exit_code = 1


# The standard streams' faults (raised by calccli.app.streams and by readers of '-').
EX_IOERR = 74           # sysexits.h: an error while doing I/O


class StreamFault(BaseException):
    """Standard input or output failed. A BaseException, like KeyboardInterrupt: it ends
    the run wherever it happens, and no ``except Exception`` turns it into an internal error."""

    def __init__(self, action: str, stream: str, err: OSError | None = None):
        self.errno = err.errno if err is not None and err.errno else errno.EBADF   # no stream: closed
        self.reason = (err.strerror if err is not None and err.strerror else None) or os.strerror(self.errno)
        super().__init__(f"calc: cannot {action} {stream}: {self.reason}")

    @property
    def broken_pipe(self) -> bool:
        return self.errno == errno.EPIPE


def read_fault(err: OSError | None = None) -> StreamFault:
    return StreamFault("read", "standard input", err)
