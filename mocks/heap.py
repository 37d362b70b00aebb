"""The garbage collector, set for a long-running server once everything is loaded.

Start-up leaves ~100,000 long-lived objects (contracts, compiled validators, fixtures) that every
full collection would walk again. Under POST load the state grows, and CPython runs a full
collection each time the tracked heap has grown by a quarter, walking all of it: a pause of 300 ms
and more once a few hundred thousand records are stored, which set POST p99. Even its young
collections walk the journal's last entries each time (thousands of objects, ~5 ms).

So the collector only ever walks what is new: the start-up heap is frozen, and so is whatever
survives any collection (a `gc.callbacks` hook). A collection then walks the objects made since
the previous one (a fraction of a millisecond), however large the state and the journal. Records
and journal entries hold no cycles: they die by reference counting, frozen or not. What freezing
costs is cyclic garbage that was alive at a collection and dies later (a closed connection's
objects may be some): a thorough collection thaws and walks everything once the sandbox has
served no request for a second (`collect_when_idle`), and, under load that never pauses, every
`THOROUGH_EVERY` collections (tens of minutes at full load).
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Callable
from typing import Any

THOROUGH_EVERY = 1 << 16
IDLE_SECONDS = 1.0


class _SurvivorFreezer:
    """A `gc.callbacks` hook: after any collection, freeze its survivors; before every
    `THOROUGH_EVERY`-th, thaw them so that it walks (and frees) everything."""

    def __init__(self) -> None:
        self.frozen_since_thorough = 0

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
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
    if _freezer not in gc.callbacks:
        gc.callbacks.append(_freezer)


def thorough_collection() -> None:
    """Walk every object once, frozen ones included (and free the cyclic garbage among them)."""
    gc.unfreeze()
    gc.collect()  # the hook freezes what survives it
    _freezer.frozen_since_thorough = 0  # nothing frozen since that walked everything: an idle sandbox rests


async def collect_when_idle(requests_served: Callable[[], int], idle: float = IDLE_SECONDS) -> None:
    """Run forever: a thorough collection when no request was served for `idle` seconds and a
    collection froze survivors since the last thorough one."""
    served = requests_served()
    while True:
        await asyncio.sleep(idle)
        now_served = requests_served()
        if now_served == served and _freezer.frozen_since_thorough:
            thorough_collection()
        served = now_served
