"""One clock for everything time-based: real time by default, frozen, set or advanced on demand.

The clock's state (an offset from real time, or the moment it is frozen at) is the sandbox's: every
API's `Clock` reads it from one `SandboxState` and moves it by a named `ClockMove`, which a shared
state applies atomically (an advance reads and writes in one step).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

# The moments a timestamp can be written for (ISO years 1970-9999): a clock outside them could not
# answer a single request, so it refuses to go there.
EARLIEST = 0.0
LATEST = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC).timestamp()
RANGE = "between 0 (1970-01-01) and 253402300799 (9999-12-31T23:59:59Z)"


class ClockRangeError(ValueError):
    """A moment the clock cannot be set to."""


@dataclass(frozen=True, slots=True)
class ClockState:
    offset: float = 0.0  # seconds added to real time
    frozen_at: float | None = None


@dataclass(frozen=True, slots=True)
class ClockMove:
    kind: str  # freeze | unfreeze | set | advance | reset
    value: float | None = None  # freeze: at (None: now); set: at; advance: seconds


def check(at: float) -> None:
    if not (math.isfinite(at) and EARLIEST <= at <= LATEST):
        raise ClockRangeError(f"the clock can be set to unix seconds {RANGE}, not {at}")


def moved(state: ClockState, move: ClockMove, real_now: float) -> ClockState:
    """`state` after `move`, with real time at `real_now` (pure: every store applies it the same)."""
    now = state.frozen_at if state.frozen_at is not None else real_now + state.offset
    if move.kind == "freeze":
        return ClockState(state.offset, now if move.value is None else move.value)
    if move.kind == "unfreeze":
        return state if state.frozen_at is None else ClockState(state.frozen_at - real_now, None)
    if move.kind == "reset":
        return ClockState()
    if move.kind == "advance":
        seconds = move.value
        if seconds is None or not (math.isfinite(seconds) and seconds >= 0):
            raise ClockRangeError(f"the clock advances by a finite number of seconds >= 0, not {seconds}")
        at = now + seconds
    elif move.kind == "set" and move.value is not None:
        at = move.value
    else:
        raise ValueError(f"unknown clock move {move!r}")
    check(at)
    return ClockState(state.offset, at) if state.frozen_at is not None else ClockState(at - real_now, None)


class LocalClockState:
    """The sandbox state of one process (the in-memory `SandboxState`)."""

    def __init__(self) -> None:
        self._state = ClockState()
        self._lock = threading.Lock()

    def clock_state(self) -> ClockState:
        return self._state

    def move_clock(self, move: ClockMove, real_now: float) -> ClockState:
        with self._lock:
            self._state = moved(self._state, move, real_now)
            return self._state


class Clock:
    """A view of the sandbox's clock state; `listeners` are told (in this process) after every move."""

    def __init__(self, *, source=time.time, state: Any = None) -> None:
        self._source = source
        self.state = state if state is not None else LocalClockState()
        self._read = self.state.clock_state
        self.listeners: list[Callable[[], None]] = []  # told after every move (e.g. to wake the delivery worker)

    def _move(self, kind: str, value: float | None = None) -> None:
        before = self.state.clock_state()
        after = self.state.move_clock(ClockMove(kind, value), self._source())
        if after != before or kind != "unfreeze":
            for listener in self.listeners:
                listener()

    def now(self) -> float:
        return self.now_of(self._read())

    def now_of(self, state: ClockState) -> float:
        """Now, by a state read before (a request reads the clock's state once, with everything else)."""
        if state.frozen_at is not None:
            return state.frozen_at
        return self._source() + state.offset

    @property
    def frozen(self) -> bool:
        return self.state.clock_state().frozen_at is not None

    def freeze(self, at: float | None = None) -> None:
        self._move("freeze", at)

    def unfreeze(self) -> None:
        self._move("unfreeze")

    check = staticmethod(check)

    def set(self, at: float) -> None:
        self._move("set", at)

    def advance(self, seconds: float) -> None:
        self._move("advance", seconds)

    def reset(self) -> None:
        self._move("reset")

    def iso(self) -> str:
        return iso_timestamp(self.now())

    def describe(self) -> dict:
        return {"now": self.now(), "iso": self.iso(), "frozen": self.frozen}


def iso_timestamp(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
