"""Vectors and matrices (numpy). Placeholder until array support lands."""
from .errors import ShapeError


def prepare(tape, env):
    raise ShapeError("vectors and matrices are not supported yet")
