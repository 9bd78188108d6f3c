"""The engine: interned expression nodes, THE primitive table, operation namespaces,
the tape, and the interpreters that walk it once (evaluate, forward, reverse, Taylor)."""
