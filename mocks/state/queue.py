"""The delivery queue's memory side: every outgoing webhook delivery and its attempts, bounded in entries.

A long-running sandbox sends without end, so the log keeps at most `capacity` deliveries. When it is
full, the oldest *completed* delivery (delivered or failed) leaves first; a pending one is evicted only
when every kept delivery is still pending. What left is still counted, so `/__mock/deliveries` can say
how many were ever queued, delivered, failed and evicted.

It is also the queue the delivery worker takes work from: `lease_due` hands each due attempt to
exactly one worker, `finish_attempt` records it (False: the delivery left the log meanwhile, or the
lease is another worker's), `release_lease` gives an attempt back unstarted. In one process a lease
is held until it is finished or released; a shared store gives it an expiry in real time.
"""

from __future__ import annotations

import heapq
import itertools
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

DEFAULT_CAPACITY = 1000  # deliveries kept; each holds its body and at most max-attempts attempts


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
        self._due: list[tuple[float, int, str]] = []  # (due on the mock clock, tiebreak, id): a heap
        self._tiebreak = itertools.count()
        self._leases: dict[str, str] = {}  # delivery id -> the worker attempting it
        self._kept: OrderedDict[str, Delivery] = OrderedDict()
        self._completed: OrderedDict[str, None] = OrderedDict()  # kept deliveries that are done, oldest first
        self.counts = {"queued": 0, "delivered": 0, "failed": 0, "evicted": 0, "evicted_pending": 0}

    def add(self, delivery: Delivery) -> None:
        self._kept[delivery.id] = delivery
        self.counts["queued"] += 1
        self._push(delivery)
        while len(self._kept) > self.capacity:
            self._evict()

    enqueue = add

    def _push(self, delivery: Delivery) -> None:
        heapq.heappush(self._due, (delivery.next_at, next(self._tiebreak), delivery.id))

    # the queue -------------------------------------------------------------------------------------
    def lease_due(self, now: float, worker: str, lease: float, limit: int) -> list[Delivery]:
        """Up to `limit` deliveries due by `now`, each now leased to `worker` (`lease`: seconds of real
        time a shared store lets it hold them; here a lease is held until finished or released)."""
        leased: list[Delivery] = []
        while self._due and self._due[0][0] <= now and len(leased) < limit:
            due_at, _, delivery_id = heapq.heappop(self._due)
            delivery = self._kept.get(delivery_id)
            if (delivery is not None and delivery.pending and delivery.next_at == due_at
                    and delivery_id not in self._leases):
                self._leases[delivery_id] = worker
                leased.append(delivery)
        return leased

    def finish_attempt(self, delivery_id: str, worker: str, attempt: dict[str, Any], outcome: str,
                       next_at: float | None = None) -> bool:
        """Record one attempt: `outcome` is delivered, failed, or retry (due again at `next_at`)."""
        if self._leases.get(delivery_id) != worker:
            return False
        del self._leases[delivery_id]
        delivery = self._kept.get(delivery_id)
        if delivery is None or not delivery.pending:
            return False  # evicted or cleared while its attempt was under way
        delivery.attempts.append(attempt)
        if outcome == "retry" and next_at is not None:
            delivery.next_at = next_at
            self._push(delivery)
        else:
            self.finished(delivery, outcome)
        return True

    def release_lease(self, delivery_id: str, worker: str) -> None:
        """`worker` gives the attempt back unstarted (it stopped): due again at its time."""
        if self._leases.get(delivery_id) == worker:
            del self._leases[delivery_id]
            delivery = self._kept.get(delivery_id)
            if delivery is not None and delivery.pending:
                self._push(delivery)

    def next_due(self) -> float | None:
        """When the earliest attempt free to lease is due (None: none queued; a leased one is not in the heap)."""
        return self._due[0][0] if self._due else None

    def next_lease_end(self) -> float | None:
        """Seconds until the earliest lease ends: never here, where a lease is held until finished or released."""
        return None

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

    def kept(self) -> list[Delivery]:
        return list(self._kept.values())

    def describe(self) -> list[dict[str, Any]]:
        return [d.describe() for d in self._kept.values()]

    def summary(self) -> dict[str, Any]:
        c = self.counts
        pending = c["queued"] - c["delivered"] - c["failed"] - c["evicted_pending"]
        return {**self.counts, "pending": pending, "kept": len(self._kept), "capacity": self.capacity}
