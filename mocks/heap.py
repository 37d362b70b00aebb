"""The garbage collector, set for a long-running server once everything is loaded.

Start-up leaves ~100,000 long-lived objects (contracts, compiled validators, fixtures) that every
full collection would walk again; freezing them moves them out of the collector's sight for good
(they live as long as the process anyway). Under POST load the state grows, and CPython runs a
full collection each time the tracked heap has grown by a quarter: a pause of 100 ms and more
once a few hundred thousand objects are stored, which set POST p99. A full collection is
attempted only after 100 young-generation ones instead of 10, so they come ten times less often;
almost all of a request's garbage is freed by reference counting, not by the collector.
"""

from __future__ import annotations

import gc

YOUNG, MIDDLE, FULL_AFTER_MIDDLE = 700, 10, 100  # CPython's defaults are 700, 10, 10


def settle_after_start_up() -> None:
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG, MIDDLE, FULL_AFTER_MIDDLE)
