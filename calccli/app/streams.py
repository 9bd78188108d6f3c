"""The standard streams when they fail: closed, full, unreadable, or a broken pipe.

The entry point runs calc inside :func:`guarded_streams`: a failed write or flush of
standard output (and a failed read of standard input) becomes a :class:`StreamFault`,
which ends calc in one way: silently by SIGPIPE for a broken pipe, as Unix tools do
(status 141 in a shell), otherwise one line on stderr and status 74 (EX_IOERR).
A failure to write standard error is ignored: there is nowhere left to say it.
"""
from __future__ import annotations

import os
import sys
from contextlib import contextmanager

from calccli.errors import EX_IOERR, StreamFault, read_fault  # noqa: F401 - the streams' faults live with the errors

EX_SIGPIPE = 128 + 13   # what a shell reports for a tool killed by SIGPIPE


def is_terminal(stream) -> bool:
    """Is ``stream`` a terminal? False for a closed (None) or unusable stream."""
    try:
        return bool(stream is not None and stream.isatty())
    except (OSError, ValueError, AttributeError):
        return False


class _Guarded:
    """A text stream whose write and flush failures end calc (stdout) or are ignored (stderr)."""

    def __init__(self, raw, name: str, fatal: bool):
        self._raw, self._name, self._fatal = raw, name, fatal

    def _failed(self, err: OSError | None):
        if self._fatal:
            raise StreamFault("write to", self._name, err) from None
        self._raw = None                    # stderr: stop trying

    def write(self, text):
        if self._raw is None:
            return self._failed(None) if self._fatal else len(text)
        try:
            return self._raw.write(text)
        except UnicodeError:                # the caller's business (output.write escapes)
            raise
        except (OSError, ValueError) as e:  # ValueError: the file was closed under us
            return self._failed(e if isinstance(e, OSError) else None)

    def flush(self):
        if self._raw is None:
            return None
        try:
            return self._raw.flush()
        except (OSError, ValueError) as e:
            return self._failed(e if isinstance(e, OSError) else None)

    def isatty(self) -> bool:
        return is_terminal(self._raw)

    @property
    def encoding(self) -> str:
        return getattr(self._raw, "encoding", None) or "utf-8"

    def __getattr__(self, name):
        if self._raw is None:
            raise AttributeError(name)
        return getattr(self._raw, name)


def _reserve_closed_descriptors() -> None:
    """A closed fd 0, 1 or 2 gets /dev/null, so that no file calc opens later takes its
    number (Python has already set the stream itself to None, which stays as it is)."""
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            try:
                got = os.open(os.devnull, os.O_RDONLY if fd == 0 else os.O_WRONLY)
                if got != fd:
                    os.dup2(got, fd)
                    os.close(got)
            except OSError:
                pass


def _silence_stdout(raw) -> None:
    """Point fd 1 at /dev/null, so that the buffered rest is dropped at exit instead of
    failing again (the Python documentation's advice for a broken pipe)."""
    try:
        fd = raw.fileno()
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, fd)
        os.close(null)
    except (OSError, ValueError, AttributeError):
        pass


def _end(fault: StreamFault, raw_stdout):
    _silence_stdout(raw_stdout)
    if fault.broken_pipe:
        import signal
        if hasattr(signal, "SIGPIPE"):
            try:
                sys.stderr.flush()
            except Exception:  # noqa: BLE001 - stderr is best effort
                pass
            signal.signal(signal.SIGPIPE, signal.SIG_DFL)
            os.kill(os.getpid(), signal.SIGPIPE)
        raise SystemExit(EX_SIGPIPE)
    sys.stderr.write(str(fault) + "\n")
    sys.stderr.flush()
    raise SystemExit(EX_IOERR)


@contextmanager
def guarded_streams():
    """Run the body with guarded standard streams; output is flushed at the end, and a
    StreamFault (there or in the body) ends calc with its status."""
    raw_out, raw_err = sys.stdout, sys.stderr
    if raw_out is None or raw_err is None or sys.stdin is None:
        _reserve_closed_descriptors()
    sys.stdout = _Guarded(raw_out, "standard output", fatal=True)
    sys.stderr = _Guarded(raw_err, "standard error", fatal=False)
    try:
        try:
            yield
        finally:
            sys.stdout.flush()              # a failure at exit is a failure too
    except StreamFault as fault:
        _end(fault, raw_out)
    finally:
        sys.stdout, sys.stderr = raw_out, raw_err
