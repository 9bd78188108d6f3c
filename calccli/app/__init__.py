"""Front ends: the Typer CLI, batch I/O and output, the REPL and its session."""
