import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SEED = "sqrt(x^2+exp(x^2))+cos(x^2+exp(x^2))"


@pytest.fixture
def cli():
    """Run the CLI in-process: cli(args..., input=None) -> (exit_code, stdout, stderr)."""
    from typer.testing import CliRunner
    from calccli.app.cli import app

    def run(*args, input=None, env=None):
        runner = CliRunner()
        r = runner.invoke(app, list(args), input=input, env=env)
        out = r.stdout
        err = r.stderr if hasattr(r, "stderr") else ""
        assert r.exception is None or isinstance(r.exception, SystemExit), repr(r.exception)
        return r.exit_code, out, err
    return run
