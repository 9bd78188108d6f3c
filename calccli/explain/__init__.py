"""Trace rows and chain-rule steps recorded from a pass over the tape."""
