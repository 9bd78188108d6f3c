"""Pausing Python's cyclic garbage collector around sweeps that allocate many objects.

A sweep over a large tape makes hundreds of thousands of tuples, series or
closures at once; the collector's default thresholds then rescan the growing
heap again and again, which makes a linear sweep cost grow faster than its
size (Taylor mode on a 4,000-level tower: 3.6× slower with collection on).
Cyclic garbage made meanwhile is collected after the sweep.
"""
from __future__ import annotations

import gc
from contextlib import ContextDecorator


class collector_paused(ContextDecorator):
    """Disable the cyclic collector inside the block (if ``when`` and it is enabled).

    ``lasting``: what the block makes lives on and has no cycles (interned
    nodes, a tape, the programs cached on it), so it is moved out of the
    collector's sight (``gc.freeze``) instead of being scanned by the next
    collections, one of which would otherwise come at once and walk every object
    just made (a tenth of a 128k-node gradient's time). Objects are still freed
    by reference counting; only cyclic garbage that exists at that moment would
    be kept, and these blocks make none.
    A class rather than a generator: it is entered once per command on hot paths."""

    def __init__(self, when: bool = True, lasting: bool = False):
        self.when, self.lasting = when, lasting
        self.paused = False

    def _recreate_cm(self):   # as a decorator: a fresh one per call (calls may nest)
        return collector_paused(self.when, self.lasting)

    def __enter__(self):
        self.paused = self.when and gc.isenabled()
        if self.paused:
            gc.disable()
        return self

    def __exit__(self, *exc) -> bool:
        if self.paused:
            if self.lasting:
                gc.freeze()
            gc.enable()
        return False
