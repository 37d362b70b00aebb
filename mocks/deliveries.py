"""The delivery log: every outgoing webhook delivery and its attempts, bounded in entries.

A long-running sandbox sends without end, so the log keeps at most `capacity` deliveries. When it is
full, the oldest *completed* delivery (delivered or failed) leaves first; a pending one is evicted only
when every kept delivery is still pending. What left is still counted, so `/__mock/deliveries` can say
how many were ever queued, delivered, failed and evicted.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

DEFAULT_CAPACITY = 1000  # deliveries kept; each holds its body and at most max-attempts attempts


@dataclass(slots=True)
class RetryPolicy:
    max_attempts: int = 8
    initial: float = 1.0
    multiplier: float = 2.0
    max_interval: float = 600.0

    @classmethod
    def declare(cls, spec: dict[str, Any] | None) -> RetryPolicy:
        spec = spec or {}
        return cls(int(spec.get("max-attempts", 8)), float(spec.get("initial-interval", 1)),
                   float(spec.get("multiplier", 2)), float(spec.get("max-interval", 600)))

    def delay(self, attempt: int) -> float:
        """Wait after the `attempt`-th failure (1-based)."""
        return min(self.initial * self.multiplier ** (attempt - 1), self.max_interval)

    @property
    def horizon(self) -> float:
        return sum(self.delay(n) for n in range(1, self.max_attempts))


@dataclass(slots=True)
class Delivery:
    id: str
    url: str
    body: bytes
    headers: dict[str, str]
    created_at: float
    next_at: float
    event_id: str | None = None
    event_type: str | None = None
    source: str = ""
    state: str = "pending"  # pending | delivered | failed
    attempts: list[dict[str, Any]] = field(default_factory=list)

    @property
    def pending(self) -> bool:
        return self.state == "pending"

    def describe(self) -> dict[str, Any]:
        return {"id": self.id, "url": self.url, "state": self.state, "event_id": self.event_id,
                "event_type": self.event_type, "source": self.source, "created_at": self.created_at,
                "next_attempt_at": self.next_at if self.pending else None,
                "attempts": self.attempts, "headers": self.headers,
                "body": self.body.decode("utf-8", "replace")}


class DeliveryLog:
    """Deliveries in the order they were queued, at most `capacity` of them, with lifetime counts."""

    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        if capacity < 1:
            raise ValueError("the delivery log must keep at least one delivery")
        self.capacity = capacity
        self.clear()

    def clear(self) -> None:
        self._kept: OrderedDict[str, Delivery] = OrderedDict()
        self._completed: OrderedDict[str, None] = OrderedDict()  # kept deliveries that are done, oldest first
        self.counts = {"queued": 0, "delivered": 0, "failed": 0, "evicted": 0, "evicted_pending": 0}

    def add(self, delivery: Delivery) -> None:
        self._kept[delivery.id] = delivery
        self.counts["queued"] += 1
        while len(self._kept) > self.capacity:
            self._evict()

    def _evict(self) -> None:
        if self._completed:
            key, _ = self._completed.popitem(last=False)
            del self._kept[key]
        else:
            _, oldest = self._kept.popitem(last=False)
            oldest.state = "evicted"  # it will not be attempted again
            self.counts["evicted_pending"] += 1
        self.counts["evicted"] += 1

    def finished(self, delivery: Delivery, state: str) -> None:
        """`delivery` is done (delivered or failed): counted, and first in line to leave the log."""
        if not self.holds(delivery):
            return  # evicted or cleared while its attempt was under way: no longer this log's to count
        delivery.state = state
        self.counts[state] += 1
        self._completed[delivery.id] = None

    def holds(self, delivery: Delivery) -> bool:
        return self._kept.get(delivery.id) is delivery

    def __len__(self) -> int:
        return len(self._kept)

    def describe(self) -> list[dict[str, Any]]:
        return [d.describe() for d in self._kept.values()]

    def summary(self) -> dict[str, Any]:
        c = self.counts
        pending = c["queued"] - c["delivered"] - c["failed"] - c["evicted_pending"]
        return {**self.counts, "pending": pending, "kept": len(self._kept), "capacity": self.capacity}
