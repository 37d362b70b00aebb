"""Webhook deliveries: the retry policy, and the API's deliveries as a view over its store's queue.

The queue itself (a bounded log with lifetime counts, due times and leases) is a store operation
set; its in-memory side is `mocks.state.queue.DeliveryLog`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mocks.state.queue import DEFAULT_CAPACITY, Delivery, DeliveryLog

if TYPE_CHECKING:
    from mocks.state.protocol import Store

__all__ = ["DEFAULT_CAPACITY", "Delivery", "DeliveryLog", "RetryPolicy", "StoredDeliveries"]


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


class StoredDeliveries:
    """One API's deliveries, through its store's queue operations (what the dispatcher and worker use)."""

    def __init__(self, store: Store, capacity: int = DEFAULT_CAPACITY) -> None:
        self.store = store
        self.capacity = capacity

    def add(self, delivery: Delivery) -> None:
        self.store.enqueue_delivery(delivery, self.capacity)

    def lease_due(self, now: float, worker: str, lease: float, limit: int) -> Sequence[Delivery]:
        return self.store.lease_due(now, worker, lease, limit)

    def finish_attempt(self, delivery_id: str, worker: str, attempt: dict[str, Any], outcome: str,
                       next_at: float | None = None) -> bool:
        return self.store.finish_attempt(delivery_id, worker, attempt, outcome, next_at)

    def release_lease(self, delivery_id: str, worker: str) -> None:
        self.store.release_lease(delivery_id, worker)

    def next_due(self) -> float | None:
        return self.store.next_due()

    def next_lease_end(self) -> float | None:
        return self.store.next_lease_end()

    @property
    def counts(self) -> dict[str, int]:
        return self.store.delivery_counts()

    def describe(self) -> list[dict[str, Any]]:
        return [d.describe() for d in self.store.deliveries()]

    def summary(self) -> dict[str, Any]:
        c = self.store.delivery_counts()
        pending = c["queued"] - c["delivered"] - c["failed"] - c["evicted_pending"]
        return {**c, "pending": pending, "kept": len(self.store.deliveries()), "capacity": self.capacity}

    def clear(self) -> None:
        self.store.clear_deliveries()
