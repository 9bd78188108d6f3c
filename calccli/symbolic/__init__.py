"""Symbolic differentiation (the engine's rules run on nodes) and the simplifier."""
