"""Reading ``calc fit``'s data: a CSV file (``-``: standard input) with a header row,
streamed in blocks into float64 columns, about 8 bytes a cell whatever the file's
size; every problem is a :class:`DataError` naming the file, the line and the column."""
from __future__ import annotations

import math
import os
import re
import stat
import sys
from array import array
from dataclasses import dataclass, field

from calccli.errors import UsageError

MAX_FILE_BYTES = 200 * 1024 * 1024   # the most calc reads
MAX_LINE_BYTES = 1 << 20             # a row of numbers is never longer; refused before it is all read
BLOCK_BYTES = 1 << 22                # read and parsed at a time
WAIT_SECONDS = 60.0                  # a named pipe without a writer: how long calc waits for one
NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")   # a CSV number, ASCII only


class DataError(UsageError):
    """The data file cannot be used (missing, unreadable, not a CSV table of numbers)."""
    kind = "data"


def _clip(text: str, n: int = 40) -> str:
    return text if len(text) <= n else text[:n] + "…"


def say(message: str) -> None:
    try:
        sys.stderr.write(f"calc: {message}\n")
        sys.stderr.flush()
    except (OSError, ValueError, AttributeError):
        pass


# --------------------------------------------------------------------------- opening

def _open(path: str):
    """(binary file, size in bytes or None) for ``path``; ``-`` is standard input."""
    if path == "-":
        stdin = getattr(sys.stdin, "buffer", None)
        if stdin is None or sys.stdin.closed:   # an I/O fault, as for every command reading '-': status 74
            from calccli.errors import read_fault
            raise read_fault()
        try:
            if os.isatty(stdin.fileno()):
                say("reading the CSV from standard input (end it with Ctrl-D)")
        except (OSError, ValueError):
            pass
        return stdin, None
    try:
        st = os.stat(path)
        if stat.S_ISDIR(st.st_mode):
            raise DataError(f"--data {path}: is a directory, not a CSV file")
        if stat.S_ISREG(st.st_mode) and st.st_size > MAX_FILE_BYTES:
            raise DataError(f"--data {path}: the file is {st.st_size:,} bytes; calc reads at most {MAX_FILE_BYTES:,}")
        if stat.S_ISFIFO(st.st_mode):
            return _open_fifo(path), None
        return open(path, "rb"), (st.st_size if stat.S_ISREG(st.st_mode) else None)
    except FileNotFoundError:
        raise DataError(f"--data {path}: no such file") from None
    except PermissionError:
        raise DataError(f"--data {path}: permission denied (the file cannot be read)") from None
    except IsADirectoryError:
        raise DataError(f"--data {path}: is a directory, not a CSV file") from None
    except OSError as e:
        raise DataError(f"--data {path}: cannot be read ({e.strerror or e})") from None


def _open_fifo(path: str):
    """A named pipe, opened without blocking; calc says that it waits for a writer
    and gives up after WAIT_SECONDS (Ctrl-C stops it sooner)."""
    import select
    import time
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        poller = select.poll()
        poller.register(fd, select.POLLIN | select.POLLHUP)
        start, said = time.monotonic(), False
        while not poller.poll(200):
            waited = time.monotonic() - start
            if waited >= WAIT_SECONDS:
                raise DataError(f"--data {path}: a named pipe, and no data came in {WAIT_SECONDS:g} s; "
                                "start the program that writes to it, or give a file")
            if not said and waited >= 0.5:
                say(f"--data {path} is a named pipe: waiting for data (up to {WAIT_SECONDS:g} s; Ctrl-C stops)")
                said = True
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


# --------------------------------------------------------------------------- blocks of whole lines

def _blocks(f, path: str):
    """(text, number of its first line, bytes read so far) per block of whole lines
    (a quoted cell's lines stay together); refuses a line longer than MAX_LINE_BYTES
    as soon as it is seen, and a stream longer than MAX_FILE_BYTES."""
    carry, total, used, line, first = b"", 0, 0, 1, True
    while True:
        try:
            chunk = f.read(BLOCK_BYTES)
        except OSError as e:
            raise DataError(f"--data {path}: cannot be read ({e.strerror or e})") from None
        if chunk:
            total += len(chunk)
            if total > MAX_FILE_BYTES:
                raise DataError(f"--data {path}: more than {MAX_FILE_BYTES:,} bytes; calc reads at most "
                                f"{MAX_FILE_BYTES:,}")
            if b"\x00" in chunk:
                raise DataError(f"--data {path}: this is a binary file, not a CSV text file")
        buf = carry + chunk if carry else chunk
        cut = _cut(buf) if chunk else len(buf)
        body, carry = buf[:cut], buf[cut:]
        if len(carry) > MAX_LINE_BYTES:
            at = line + body.count(b"\n")
            raise DataError(f"--data {path}, line {at}: longer than {MAX_LINE_BYTES:,} bytes (a row of numbers, "
                            "or a quoted cell, is never this long); calc stopped reading there")
        if body:
            try:
                text = body.decode("utf-8-sig" if first else "utf-8")
            except UnicodeDecodeError as e:
                raise DataError(f"--data {path}: not a UTF-8 text file (undecodable byte at offset "
                                f"{used + e.start})") from None
            first = False
            yield text, line, total
            line += body.count(b"\n")
            used += len(body)
        if not chunk:
            return


def _cut(buf: bytes) -> int:
    """Where the whole lines of ``buf`` end, outside any quoted cell (an even number of
    quote characters before it: CSV doubles a quote inside a quoted cell)."""
    cut = buf.rfind(b"\n") + 1
    if b'"' not in buf:
        return cut
    odd = buf.count(b'"', 0, cut) % 2
    while odd and cut:                   # step back over the line that opens the unclosed cell
        q = buf.rfind(b'"', 0, cut)
        new = buf.rfind(b"\n", 0, q) + 1
        odd ^= buf.count(b'"', new, cut) % 2
        cut = new
    return cut


# --------------------------------------------------------------------------- the table

@dataclass
class Lines:
    """The file line of each data row, kept as the rows where the numbering jumps."""
    starts: list = field(default_factory=list)     # (row, line) where line(row) stops being line(row - 1) + 1

    def add(self, row: int, line: int) -> None:
        if not self.starts or self.starts[-1][1] + row - self.starts[-1][0] != line:
            self.starts.append((row, line))

    def __call__(self, row: int) -> int:
        import bisect
        k = bisect.bisect_right(self.starts, (row, math.inf)) - 1
        r, line = self.starts[k]
        return line + row - r


@dataclass
class Table:
    """The header of a CSV source; :meth:`read` streams the rest once."""
    path: str
    columns: list[str]
    source: object = None          # the open binary file
    blocks: object = None          # the remaining blocks of lines
    head: tuple | None = None      # the rest of the header's block: (text, its first line)
    size: int | None = None        # bytes, when known (a regular file)

    def read(self, names: list[str], progress=None):
        """(the named columns as array('d'), the file line of each row, the row count).
        Every row is checked for its number of cells, only the named columns for numbers."""
        want = [self.columns.index(c) for c in names]
        cols = {c: array("d") for c in names}
        lines = Lines()
        n = 0
        try:
            if self.head is not None:
                n = self._block(*self.head, want, names, cols, lines, n)
            for text, line, done in self.blocks:
                n = self._block(text, line, want, names, cols, lines, n)
                if progress is not None:
                    progress(done, self.size)
        except MemoryError:
            raise DataError(f"--data {self.path}: not enough memory for {n:,} rows × {len(names)} columns "
                            "(calc keeps 8 bytes a number)") from None
        finally:
            self.close()
        if n == 0:
            raise DataError(f"--data {self.path}: the file has a header ({', '.join(self.columns)}) "
                            "but no data rows")
        return cols, lines, n

    def close(self) -> None:
        if self.source is not None and self.source is not getattr(sys.stdin, "buffer", None):
            self.source.close()
        self.source = None

    def _block(self, text, line, want, names, cols, lines, n) -> int:
        m = _fast_block(text, len(self.columns), want)
        if m is None:
            return self._slow_block(text, line, want, names, cols, lines, n)
        lines.add(n, line)
        for k, c in enumerate(names):
            cols[c].frombytes(m[:, k].tobytes())
        return n + m.shape[0]

    def _slow_block(self, text, line, want, names, cols, lines, n) -> int:
        import csv
        import io
        reader = csv.reader(io.StringIO(text, newline=""))
        ncol, path = len(self.columns), self.path
        try:
            for r in reader:
                if not any(c.strip() for c in r):
                    continue
                at = line - 1 + reader.line_num
                if len(r) != ncol:
                    raise DataError(f"--data {path}, line {at}: {len(r)} value{'s' if len(r) != 1 else ''} "
                                    f"but the header has {ncol} columns")
                for c, k in zip(names, want):
                    cols[c].append(cell_number(r[k], path, at, c))
                lines.add(n, at)
                n += 1
        except csv.Error as e:
            raise DataError(f"--data {path}: not a valid CSV file ({e})") from None
        return n


def cell_number(cell: str, path: str, line: int, column: str) -> float:
    """A cell as a float: an ASCII decimal number, nothing else that Python's float() takes."""
    text = cell.strip()
    where = f"--data {path}, line {line}, column '{column}'"
    if NUMBER.fullmatch(text):
        v = float(text)
        if math.isfinite(v):
            return v
        raise DataError(f"{where}: '{_clip(text)}' is beyond float64 (not a finite number)")
    if not text:
        raise DataError(f"{where}: the cell is empty")
    low = text.lower().lstrip("+-")
    if low in ("nan", "inf", "infinity"):
        raise DataError(f"{where}: '{_clip(text)}' is not a finite number")
    if "_" in text:
        raise DataError(f"{where}: '{_clip(text)}' is not a CSV number (no '_' digit separators: write "
                        f"{_clip(text.replace('_', ''))})")
    raise DataError(f"{where}: '{_clip(text)}' is not a number")


_PLAIN = re.compile(r"[^0-9eE+\-.,\n\r\t ]")


def _fast_block(text: str, ncol: int, want: list[int]):
    """The wanted columns of a block as an m×k float64 matrix when the block is only
    rows of ncol plain numbers, one row a line (then numpy parses it, in C); None
    sends the block to the exact path (quotes, names, blank lines, bad cells)."""
    if _PLAIN.search(text) is not None:
        return None
    import io
    import numpy as np
    rows = text.count("\n") + (not text.endswith("\n"))
    try:
        m = np.loadtxt(io.StringIO(text), delimiter=",", comments=None, ndmin=2, dtype=float)
    except ValueError:
        return None
    if m.shape != (rows, ncol):
        return None
    m = m[:, want]
    return m if np.isfinite(m).all() else None


def open_table(path: str) -> Table:
    """Open the CSV source and read its header row (the first line that is not blank)."""
    if path is None or not str(path).strip():
        raise DataError("--data needs a file name (or - for standard input)")
    f, size = _open(path)
    blocks = _blocks(f, path)
    try:
        return _header_of(path, f, blocks, size)
    except BaseException:
        if f is not getattr(sys.stdin, "buffer", None):
            f.close()
        raise


def _header_of(path, f, blocks, size) -> Table:
    import csv
    import io
    for text, line, _ in blocks:
        reader = csv.reader(io.StringIO(text, newline=""))
        try:
            for header in reader:
                if any(c.strip() for c in header):
                    break
            else:
                continue
        except csv.Error as e:
            raise DataError(f"--data {path}: not a valid CSV file ({e})") from None
        hline = line - 1 + reader.line_num
        rest = text.split("\n", reader.line_num)[-1] if text.count("\n") >= reader.line_num else ""
        columns = _header(path, header)
        return Table(path, columns, f, blocks, (rest, hline + 1) if rest.strip() else None, size)
    raise DataError(f"--data {path}: the file is empty (expected a header row such as x,y and data rows)")


def _header(path: str, header: list[str]) -> list[str]:
    columns = [c.strip() for c in header]
    if all(NUMBER.fullmatch(c) or _is_float(c) for c in columns if c):
        raise DataError(f"--data {path}: no header row: the first line ({_clip(','.join(header))}) holds numbers; "
                        "the first line must name the columns, e.g. x,y")
    for k, c in enumerate(columns):
        if not c:
            raise DataError(f"--data {path}: column {k + 1} of the header has no name")
    seen = set()
    for c in columns:
        if c in seen:
            raise DataError(f"--data {path}: the header names the column '{c}' twice")
        seen.add(c)
    return columns


def _is_float(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False
