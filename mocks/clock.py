"""One clock for everything time-based: real time by default, frozen, set or advanced on demand."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime


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

    def set(self, at: float) -> None:
        if self._frozen_at is not None:
            self._frozen_at = at
        else:
            self._offset = at - self._source()
        self._moved()

    def advance(self, seconds: float) -> None:
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
