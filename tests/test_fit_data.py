"""calc fit's data reading: streamed in blocks, bounded memory, strict CSV numbers,
standard input, named pipes, constants' names as columns."""
import csv
import io
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from calccli.commands import fit_data
from calccli.commands.fit import fit_model, read_table
from calccli.commands.fit_data import DataError

ROOT = Path(__file__).resolve().parent.parent
LINE = str(ROOT / "examples" / "line.csv")


def calc(*args, stdin=None, limit_mb=None, setup="", timeout=120, input_bytes=None):
    """calc in a fresh process (optionally with its address space limited to ``limit_mb``
    above what a small fit needs, and with module constants changed first by ``setup``)."""
    code = ("import sys, resource\n"
            + (f"resource.setrlimit(resource.RLIMIT_AS, ({limit_mb} << 20, {limit_mb} << 20))\n" if limit_mb else "")
            + setup + "\nfrom calccli.app.cli import main\nmain(sys.argv[1:])\n")
    env = dict(os.environ, PYTHONPATH=str(ROOT), OPENBLAS_NUM_THREADS="1", CALC_NO_PROGRESS="1")
    return subprocess.run([sys.executable, "-c", code, *args], stdin=stdin, input=input_bytes, capture_output=True,
                          timeout=timeout, env=env, cwd=str(ROOT))


def baseline_mb() -> int:
    """The address space a small fit takes in this environment (numpy, rich, plotext loaded)."""
    code = ("from calccli.app.cli import main\nimport sys\ntry:\n    main(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
            "print(open('/proc/self/status').read().split('VmPeak:')[1].split()[0], file=sys.stderr)")
    env = dict(os.environ, PYTHONPATH=str(ROOT), OPENBLAS_NUM_THREADS="1")
    r = subprocess.run([sys.executable, "-c", code, "fit", "w*x + b", "--data", LINE, "--target", "y",
                        "--epochs", "2", "--format", "plain"], capture_output=True, text=True, env=env, cwd=str(ROOT))
    return int(r.stderr.split()[-1]) // 1024


linux = pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="address-space limits as on Linux")


# ---------------------------------------------------------------- what a number is

@pytest.mark.parametrize("cell,needle", [
    ("1_000", "line 3, column 'x': '1_000' is not a CSV number (no '_' digit separators: write 1000)"),
    ("١", "line 3, column 'x': '١' is not a number"),
    ("0x10", "'0x10' is not a number"),
    ("1e999", "'1e999' is beyond float64"),
    ("inf", "'inf' is not a finite number"),
    ("-nan", "'-nan' is not a finite number"),
    ("1 2", "'1 2' is not a number"),
])
def test_cells_that_python_float_might_take_are_not_csv_numbers(cli, tmp_path, cell, needle):
    p = tmp_path / "d.csv"
    p.write_text(f"x,y\n1,2\n{cell},4\n5,6\n", encoding="utf-8")
    code, out, err = cli("fit", "w*x + b", "--data", str(p), "--target", "y")
    assert code == 2 and out == "" and needle in err


@pytest.mark.parametrize("cell,value", [("1.5", 1.5), (" +2 ", 2.0), (".5", 0.5), ("5.", 5.0), ("-1e-3", -1e-3),
                                        ('"7"', 7.0), ("1E2", 100.0)])
def test_plain_numbers_are_read(tmp_path, cell, value):
    p = tmp_path / "d.csv"
    p.write_text(f"x,y\n{cell},1\n")
    _, cols, _, n = read_table(str(p))
    assert n == 1 and cols["x"][0] == value


# ---------------------------------------------------------------- blocks: fast and exact paths agree

def reference(text: str, names):
    """Columns and row lines by the standard library's csv module over the whole text."""
    rows = list(csv.reader(io.StringIO(text, newline="")))
    header_at = next(k for k, r in enumerate(rows) if any(c.strip() for c in r))
    header = [c.strip() for c in rows[header_at]]
    reader = csv.reader(io.StringIO(text, newline=""))
    out, lines = {c: [] for c in names}, []
    for k, r in enumerate(reader):
        if k <= header_at or not any(c.strip() for c in r):
            continue
        for c in names:
            out[c].append(float(r[header.index(c)]))
        lines.append(reader.line_num)
    return out, lines


@pytest.mark.parametrize("block", [16, 37, 64, 1 << 22])
@pytest.mark.parametrize("seed", range(6))
def test_streamed_blocks_read_what_the_csv_module_reads(tmp_path, monkeypatch, block, seed):
    rng = random.Random(seed)
    lines = ["name,x,y"]
    for i in range(120):
        kind = rng.random()
        x, y = rng.choice(["1", "-2.5", "3e2", ".25", " 4 "]), repr(rng.uniform(-9, 9))
        if kind < 0.1:
            lines.append("")                                        # a blank line
        elif kind < 0.2:
            lines.append(f'"multi\nline, ""quoted"" name",{x},{y}')  # a quoted cell over two lines
        elif kind < 0.3:
            lines.append(f'"a, b",{x},"{y}"')
        else:
            lines.append(f"p{i},{x},{y}")
    text = "\r\n".join(lines) if seed % 2 else "\n".join(lines) + "\n"
    p = tmp_path / "d.csv"
    p.write_bytes(text.encode())
    monkeypatch.setattr(fit_data, "BLOCK_BYTES", block)
    table = fit_data.open_table(str(p))
    cols, lines_of, n = table.read(["x", "y"])
    want, want_lines = reference(text, ["x", "y"])
    assert n == len(want["x"]) and list(cols["x"]) == want["x"] and list(cols["y"]) == want["y"]
    assert [lines_of(i) for i in range(n)] == want_lines


@pytest.mark.parametrize("seed", range(4))
def test_numpy_blocks_equal_the_exact_path(tmp_path, monkeypatch, seed):
    rng = random.Random(seed)
    text = "a,b,c\n" + "".join(f"{rng.uniform(-1e6, 1e6)!r},{rng.randint(-99, 99)},{rng.gauss(0, 1e-200)!r}\n"
                               for _ in range(3000))
    p = tmp_path / "d.csv"
    p.write_text(text)
    monkeypatch.setattr(fit_data, "BLOCK_BYTES", 4096)
    fast = read_table(str(p))
    monkeypatch.setattr(fit_data, "_fast_block", lambda *a: None)
    exact = read_table(str(p))
    assert all(list(fast[1][c]) == list(exact[1][c]) for c in "abc") and fast[3] == exact[3] == 3000
    assert [fast[2](i) for i in range(3000)] == [exact[2](i) for i in range(3000)] == list(range(2, 3002))


def test_error_lines_count_blank_lines_and_quoted_newlines(cli, tmp_path):
    p = tmp_path / "d.csv"
    p.write_text('name,x,y\n"two\nlines",1,2\n\nq,3,abc\n')
    code, _, err = cli("fit", "w*x + b", "--data", str(p), "--target", "y")
    assert code == 2 and "line 5, column 'y': 'abc' is not a number" in err


def test_undecodable_byte_offset(tmp_path, monkeypatch):
    monkeypatch.setattr(fit_data, "BLOCK_BYTES", 8)
    p = tmp_path / "d.csv"
    p.write_bytes(b"x,y\n1,2\n3,4\n5,caf\xe9\n")
    with pytest.raises(DataError, match="undecodable byte at offset 17"):
        read_table(str(p))


# ---------------------------------------------------------------- bounded memory

@linux
def test_a_huge_cell_is_refused_before_it_is_read(tmp_path):
    """A 150 MB cell, fed through a pipe: calc stops after a few MB, in bounded memory."""
    limit = baseline_mb() + 120
    proc = subprocess.Popen([sys.executable, "-c", "import sys, resource\n"
                             f"resource.setrlimit(resource.RLIMIT_AS, ({limit} << 20, {limit} << 20))\n"
                             "from calccli.app.cli import main\nmain(sys.argv[1:])",
                             "fit", "w*x + b", "--data", "-", "--target", "y"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=str(ROOT),
                            env=dict(os.environ, PYTHONPATH=str(ROOT), OPENBLAS_NUM_THREADS="1"))
    sent = 0

    def feed():
        nonlocal sent
        try:
            proc.stdin.write(b"x,y\n1,")
            block = b"9" * (1 << 20)
            for _ in range(150):
                proc.stdin.write(block)
                sent += len(block)
            proc.stdin.close()
        except (BrokenPipeError, OSError):
            pass
    t = threading.Thread(target=feed)
    t.start()
    out, err = proc.communicate(timeout=120)
    t.join()
    assert proc.returncode == 2 and out == b""
    assert b"line 2: longer than 1,048,576 bytes" in err and b"Traceback" not in err
    assert sent < 40 << 20                      # it stopped reading long before the cell's end


@linux
def test_a_large_csv_is_read_in_bounded_memory(tmp_path):
    """1.3 million rows, 12 MB: the columns take 8 bytes a number; the old reader needed ~25× the file."""
    p = tmp_path / "big.csv"
    p.write_bytes(b"x,y\n" + b"0.5,2.0\n-1,-1.0\n" * 650_000)
    r = calc("fit", "w*x + b", "--data", str(p), "--target", "y", "--epochs", "40", "--lr", "0.5",
             "--format", "json", limit_mb=baseline_mb() + 150)
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    assert d["rows"] == 1_300_000
    assert d["params"]["w"] == pytest.approx(2, abs=1e-6) and d["params"]["b"] == pytest.approx(1, abs=1e-6)


def test_the_size_limit_is_named_for_a_stream(tmp_path):
    setup = "import calccli.commands.fit_data as d; d.MAX_FILE_BYTES = 1 << 20"
    r = calc("fit", "w*x + b", "--data", "-", "--target", "y", setup=setup,
             input_bytes=b"x,y\n" + b"1,2\n" * 300_000)
    assert r.returncode == 2 and b"more than 1,048,576 bytes; calc reads at most 1,048,576" in r.stderr
    p = tmp_path / "big.csv"
    p.write_bytes(b"x,y\n" + b"1,2\n" * 300_000)
    r = calc("fit", "w*x + b", "--data", str(p), "--target", "y", setup=setup)
    assert r.returncode == 2 and b"the file is 1,200,004 bytes; calc reads at most 1,048,576" in r.stderr


# ---------------------------------------------------------------- standard input and named pipes

def test_data_from_standard_input_equals_the_file():
    args = ["fit", "w*x + b", "--target", "y", "--epochs", "20", "--format", "json"]
    from_file = calc(*args, "--data", LINE)
    with open(LINE, "rb") as f:
        from_stdin = calc(*args, "--data", "-", stdin=f)
    assert from_stdin.returncode == 0 and from_file.returncode == 0
    a, b = json.loads(from_file.stdout), json.loads(from_stdin.stdout)
    assert a["params"] == b["params"] and a["history"] == b["history"] and b["data"] == "-"


def test_data_from_a_closed_standard_input():
    r = calc("fit", "w*x + b", "--data", "-", "--target", "y", stdin=subprocess.DEVNULL)
    assert r.returncode == 2 and b"the file is empty" in r.stderr


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes")
def test_a_named_pipe_without_a_writer_times_out_and_says_so(tmp_path):
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    r = calc("fit", "w*x + b", "--data", str(fifo), "--target", "y",
             setup="import calccli.commands.fit_data as d; d.WAIT_SECONDS = 1.5", timeout=60)
    assert r.returncode == 2
    assert b"is a named pipe: waiting for data" in r.stderr and b"no data came in 1.5 s" in r.stderr


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes")
def test_a_named_pipe_is_read_when_its_writer_comes(tmp_path):
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    env = dict(os.environ, PYTHONPATH=str(ROOT), OPENBLAS_NUM_THREADS="1")
    proc = subprocess.Popen([sys.executable, "-m", "calccli", "fit", "w*x + b", "--data", str(fifo), "--target", "y",
                             "--epochs", "20", "--format", "json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=env, cwd=str(ROOT))
    time.sleep(1.0)
    with open(fifo, "wb") as w:
        w.write(Path(LINE).read_bytes())
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert json.loads(out)["params"] == json.loads(calc("fit", "w*x + b", "--data", LINE, "--target", "y",
                                                        "--epochs", "20", "--format", "json").stdout)["params"]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes")
def test_ctrl_c_while_waiting_is_a_clean_exit_130(tmp_path):
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    env = dict(os.environ, PYTHONPATH=str(ROOT), OPENBLAS_NUM_THREADS="1")
    proc = subprocess.Popen([sys.executable, "-m", "calccli", "fit", "w*x + b", "--data", str(fifo), "--target", "y"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=str(ROOT))
    err = b""
    deadline = time.monotonic() + 60
    os.set_blocking(proc.stderr.fileno(), False)
    while b"waiting" not in err and time.monotonic() < deadline:
        time.sleep(0.1)
        err += proc.stderr.read() or b""
    proc.send_signal(signal.SIGINT)
    os.set_blocking(proc.stderr.fileno(), True)
    out, rest = proc.communicate(timeout=60)
    err += rest or b""
    assert proc.returncode == 130 and out == b""
    assert b"interrupted" in err and b"Traceback" not in err


def test_ctrl_c_during_training_is_a_clean_exit_130(tmp_path):
    p = tmp_path / "d.csv"
    p.write_text("x,y\n" + "".join(f"{i / 100},{i / 50}\n" for i in range(2000)))
    env = dict(os.environ, PYTHONPATH=str(ROOT), OPENBLAS_NUM_THREADS="1")
    proc = subprocess.Popen([sys.executable, "-m", "calccli", "fit", "w*x + b", "--data", str(p), "--target", "y",
                             "--mode", "online", "--epochs", "100000", "--lr", "0.001"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=str(ROOT))
    time.sleep(3)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and out == b""
    assert b"interrupted" in err and b"Traceback" not in err


# ---------------------------------------------------------------- columns named like constants

def test_a_column_named_e_is_the_column(cli, tmp_path):
    rows = [(i / 10, 3 * i / 10 + 1) for i in range(30)]
    as_e = tmp_path / "e.csv"
    as_e.write_text("e,y\n" + "".join(f"{a},{b}\n" for a, b in rows))
    as_z = tmp_path / "z.csv"
    as_z.write_text("z,y\n" + "".join(f"{a},{b}\n" for a, b in rows))
    code, out, err = cli("fit", "w*e + b", "--data", str(as_e), "--target", "y", "--epochs", "50", "--format", "json")
    assert code == 0 and "note: 'e' is the column e of" in err and "not the constant e = 2.71828" in err
    _, ref, _ = cli("fit", "w*z + b", "--data", str(as_z), "--target", "y", "--epochs", "50", "--format", "json")
    assert json.loads(out)["params"] == json.loads(ref)["params"]
    # pi as a column, in the loss too; and a constant that is not a column stays the constant
    code, out, err = cli("fit", "w*z + b + 0*pi", "--data", str(as_z), "--target", "y", "--epochs", "5")
    assert code == 0 and "note" not in err


def test_a_model_with_the_constant_and_no_such_column_is_unchanged():
    r = fit_model("w*x + b*e", LINE, "y", epochs=3)
    assert r.setup.params == ["w", "b"]
