"""The garbage collector, set for a long-running server once everything is loaded.

Start-up leaves ~100,000 long-lived objects (contracts, compiled validators, fixtures) that every
full collection would walk again; freezing them moves them out of the collector's sight for good.
Under POST load the state grows, and CPython runs a full collection each time the tracked heap
has grown by a quarter, walking all of it: a pause of 100 ms and more once a few hundred thousand
records are stored, which set POST p99.

So what survives a full collection is frozen as well, and a full collection follows every
middle-generation one: each walks only what arrived since the last, a pause no longer than a
middle-generation collection's, however large the state has grown. What freezing costs is
cyclic garbage among frozen objects (records hold no cycles and die by reference counting; a
closed connection's objects may): a thorough collection thaws and walks everything once the
sandbox has been idle for a second (`collect_when_idle`), and, under load that never pauses,
every `THOROUGH_EVERY` full collections.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Callable
from typing import Any

YOUNG, MIDDLE, FULL_AFTER_MIDDLE = 700, 10, 1  # CPython's defaults are 700, 10, 10
THOROUGH_EVERY = 4096
IDLE_SECONDS = 1.0


class _SurvivorFreezer:
    """A `gc.callbacks` hook: after a full collection, freeze its survivors; before every
    `THOROUGH_EVERY`-th, thaw them so that one walks (and frees) everything."""

    def __init__(self) -> None:
        self.frozen_since_thorough = 0

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if info["generation"] != 2:
            return
        if phase == "start":
            if self.frozen_since_thorough >= THOROUGH_EVERY:
                gc.unfreeze()
                self.frozen_since_thorough = 0
        else:
            gc.freeze()
            self.frozen_since_thorough += 1


_freezer = _SurvivorFreezer()


def settle_after_start_up() -> None:
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG, MIDDLE, FULL_AFTER_MIDDLE)
    if _freezer not in gc.callbacks:
        gc.callbacks.append(_freezer)


def thorough_collection() -> None:
    """Walk every object once, frozen ones included (and free the cyclic garbage among them)."""
    gc.unfreeze()
    _freezer.frozen_since_thorough = 0
    gc.collect()  # the hook freezes what survives it


async def collect_when_idle(requests_served: Callable[[], int], idle: float = IDLE_SECONDS) -> None:
    """Run forever: a thorough collection when no request was served for `idle` seconds and a full
    collection froze survivors since the last thorough one."""
    served = requests_served()
    while True:
        await asyncio.sleep(idle)
        now_served = requests_served()
        if now_served == served and _freezer.frozen_since_thorough:
            thorough_collection()
        served = now_served
