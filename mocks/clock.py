"""One clock for everything time-based: real time by default, frozen, set or advanced on demand."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from datetime import UTC, datetime

# The moments a timestamp can be written for (ISO years 1970-9999): a clock outside them could not
# answer a single request, so it refuses to go there.
EARLIEST = 0.0
LATEST = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC).timestamp()
RANGE = "between 0 (1970-01-01) and 253402300799 (9999-12-31T23:59:59Z)"


class ClockRangeError(ValueError):
    """A moment the clock cannot be set to."""


class Clock:
    def __init__(self, *, source=time.time) -> None:
        self._source = source
        self._offset = 0.0
        self._frozen_at: float | None = None
        self.listeners: list[Callable[[], None]] = []  # told after every move (e.g. to wake the delivery worker)

    def _moved(self) -> None:
        for listener in self.listeners:
            listener()

    def now(self) -> float:
        if self._frozen_at is not None:
            return self._frozen_at
        return self._source() + self._offset

    @property
    def frozen(self) -> bool:
        return self._frozen_at is not None

    def freeze(self, at: float | None = None) -> None:
        self._frozen_at = self.now() if at is None else at
        self._moved()

    def unfreeze(self) -> None:
        if self._frozen_at is not None:
            self._offset = self._frozen_at - self._source()
            self._frozen_at = None
            self._moved()

    @staticmethod
    def check(at: float) -> None:
        if not (math.isfinite(at) and EARLIEST <= at <= LATEST):
            raise ClockRangeError(f"the clock can be set to unix seconds {RANGE}, not {at}")

    def set(self, at: float) -> None:
        self.check(at)
        if self._frozen_at is not None:
            self._frozen_at = at
        else:
            self._offset = at - self._source()
        self._moved()

    def advance(self, seconds: float) -> None:
        if not (math.isfinite(seconds) and seconds >= 0):
            raise ClockRangeError(f"the clock advances by a finite number of seconds >= 0, not {seconds}")
        self.set(self.now() + seconds)

    def reset(self) -> None:
        self._offset = 0.0
        self._frozen_at = None
        self._moved()

    def iso(self) -> str:
        return iso_timestamp(self.now())

    def describe(self) -> dict:
        return {"now": self.now(), "iso": self.iso(), "frozen": self.frozen}


def iso_timestamp(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
