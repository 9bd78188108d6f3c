"""The built wheel carries the grammar and works in a fresh virtual environment."""
import os
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

from conftest import ROOT, SEED


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("wheel")
    r = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                        "-w", str(out), str(ROOT)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-2000:]
    wheels = list(out.glob("calccli-*.whl"))
    assert len(wheels) == 1
    return wheels[0]


def test_grammar_is_inside_the_wheel(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    assert "calccli/grammar/calc.lark" in names
    assert "calccli/app/cli.py" in names


def test_wheel_installs_and_runs_in_a_fresh_venv(wheel, tmp_path):
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    py = env_dir / "bin" / "python"
    site = subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    # Dependencies come from this environment (no network needed); calc itself from the wheel.
    deps = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    Path(site, "outer_deps.pth").write_text("\n".join(sorted(deps)) + "\n")
    r = subprocess.run([str(py), "-m", "pip", "install", "--no-deps", "--no-index", str(wheel)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-2000:]
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH",)}
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")
    calc = env_dir / "bin" / "calc"
    r = subprocess.run([str(calc), "diff", SEED, "--at", "1.0", "--format", "plain"],
                       capture_output=True, text=True, cwd=tmp_path, env=env)
    assert r.returncode == 0, r.stderr
    assert "f'(1) = 5.983082595908695" in r.stdout
    where = subprocess.run([str(py), "-c", "import calccli.language.parse as p; print(p.grammar_path())"],
                           capture_output=True, text=True, cwd=tmp_path, env=env).stdout
    assert str(env_dir) in where  # the grammar was found inside the installed package
    r = subprocess.run([str(py), "-m", "calccli", "eval", "2^3^2"], capture_output=True, text=True,
                       cwd=tmp_path, env=env)
    assert r.stdout.strip().endswith("512")
