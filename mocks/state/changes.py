"""Declared changes: what a store operation is asked to do, as data a shared store can apply atomically.

No Python callable crosses the store boundary: a record update is a merge with an optional
compare-and-set guard, a fault's counters move by one named transition (`strike`), limit settings
are a versioned mapping, the clock moves by a named `ClockMove` (in `mocks.clock`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from mocks.state.ordered import Slice

__all__ = ["Change", "FaultList", "FaultState", "Guard", "LimitSetting", "LimitSettings",
           "Slice", "Strike", "Updated", "draw"]


@dataclass(frozen=True, slots=True)
class Guard:
    """Compare-and-set: apply the change only if `data[field]`, as stored now, is one of `one_of`."""

    field: str
    one_of: frozenset[Any]


@dataclass(frozen=True, slots=True)
class Change:
    merge: Mapping[str, Any]  # a shallow `data.update(merge)`; values are JSON
    guard: Guard | None = None


@dataclass(frozen=True, slots=True)
class Updated:
    record: Any  # the record after the change (or as it is, when the guard refused)
    before: Any  # the record before
    applied: bool


@dataclass(frozen=True, slots=True)
class LimitSetting:
    limit: int
    window: float
    enabled: bool = True


@dataclass(frozen=True, slots=True)
class LimitSettings:
    """Every policy's current setting; `version` changes whenever one does."""

    version: int = 0
    settings: Mapping[str, LimitSetting] = field(default_factory=dict)
    some_disabled: bool = False  # kept with the settings: the limiter's per-request fast path

    @classmethod
    def of(cls, version: int, settings: Mapping[str, LimitSetting]) -> LimitSettings:
        return cls(version, settings, not all(s.enabled for s in settings.values()))

    def get(self, name: str) -> LimitSetting | None:
        return self.settings.get(name)


@dataclass(frozen=True, slots=True)
class FaultState:
    id: int
    spec: Mapping[str, Any]  # the parsed fault's fields (times, after, probability, seed, ...)
    seen: int = 0
    fired: int = 0


@dataclass(frozen=True, slots=True)
class FaultList:
    """The installed faults in the order they were added; `version` changes when one is added or cleared."""

    version: int = 0
    items: tuple[FaultState, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.items)

    def __iter__(self) -> Iterator[FaultState]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)


@dataclass(frozen=True, slots=True)
class Strike:
    """A fault fired: its id and its counters after this request."""

    id: int
    seen: int
    fired: int


def draw(seed: Any, seen: int) -> float:
    """The `seen`-th probability draw of a fault seeded `seed`, in [0, 1): the same in every process.

    FNV-1a over "seed:seen", then murmur3's fmix32 finalizer (FNV-1a alone barely moves its high bits
    between "42:1" and "42:2"). A Lua script computes the same with 32-bit arithmetic.
    """
    h = 0x811C9DC5
    for byte in f"{seed}:{seen}".encode():
        h = ((h ^ byte) * 0x01000193) & 0xFFFFFFFF
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & 0xFFFFFFFF
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & 0xFFFFFFFF
    h ^= h >> 16
    return h / 2**32


def strike_one(spec: Mapping[str, Any], seen: int, fired: int) -> tuple[int, int, bool]:
    """The fault counters' one transition for a matching request: (seen, fired, fired now?)."""
    times = spec.get("times")
    if times is not None and fired >= times:
        return seen, fired, False
    seen += 1
    if seen <= spec.get("after", 0):
        return seen, fired, False
    probability = spec.get("probability", 1.0)
    if probability < 1.0 and draw(spec.get("draw_seed"), seen) >= probability:
        return seen, fired, False
    return seen, fired + 1, True
