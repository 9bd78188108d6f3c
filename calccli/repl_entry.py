"""Plain ``calc`` with no arguments: the REPL (until it lands, the help)."""


def start_repl() -> int:
    from .cli import app
    app(args=["--help"], prog_name="calc")
    return 0
