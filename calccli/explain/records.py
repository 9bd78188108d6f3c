"""Result objects: what a command computed, as data. Renderers turn them into output."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from calccli.display import RichDisplay

if TYPE_CHECKING:   # made by explain/steps.py, imported only when a result is explained
    from calccli.explain.steps import Step, TraceRow


@dataclass
class EvalResult(RichDisplay):
    expression: str
    value: object
    point: dict = field(default_factory=dict)


@dataclass
class DiffResult(RichDisplay):
    expression: str
    variable: str
    point: dict
    mode: str
    order: int
    value: float
    derivative: float
    output: str                       # the output's name in the trace (f)
    # () -> (trace, steps), called when a renderer first asks for them: printing the
    # rows costs more than the derivative itself, and the plain format shows neither.
    _explanation: Callable[[], tuple[list[TraceRow], list[Step]]] | None = field(
        default=None, repr=False, compare=False)   # (internal: not an attribute of the API's result)

    @cached_property
    def _explained(self) -> tuple[list[TraceRow], list[Step]]:
        return self._explanation() if self._explanation is not None else ([], [])

    @property
    def trace(self) -> list[TraceRow]:
        return self._explained[0]

    @property
    def steps(self) -> list[Step]:
        return self._explained[1]

    def __getstate__(self) -> dict:
        """Pickled (or deep-copied) with its trace and steps made: the closure does not pickle."""
        return {**self.__dict__, "_explained": self._explained, "_explanation": None}
