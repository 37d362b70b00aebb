"""The in-memory store's steering state and history: limit settings, faults, journal, events, deliveries.

A mixin of `MemoryStore` (same lock, same `reset`). Entries and events stay the objects the engine
made (turned into JSON only when read), so the request path does no serializing.
"""

from __future__ import annotations

import itertools
import threading
from collections import deque
from collections.abc import Mapping, Sequence
from typing import Any

from mocks.state.changes import FaultList, FaultState, LimitSetting, LimitSettings, Strike, strike_one
from mocks.state.protocol import Glance, SandboxState
from mocks.state.queue import Delivery, DeliveryLog


class MemorySteering:
    _lock: threading.RLock

    def _init_steering(self) -> None:
        """What survives `reset`: the limits' baseline, the id and sequence counters."""
        self._limit_baseline: dict[str, LimitSetting] = {}
        self._limits = LimitSettings()
        self._fault_ids = itertools.count(1)
        self._journal_seq = itertools.count(1)
        self._journal: deque[Any] = deque(maxlen=2000)
        self._events: deque[tuple[int, Any]] = deque(maxlen=500)  # (number, event)
        self._published = 0  # events ever published: the followers' cursor, never reset
        self._event_arrived = threading.Condition(self._lock)
        self._deliveries = DeliveryLog()

    def _reset_steering(self) -> None:
        self._faults: dict[int, list[Any]] = {}  # id -> [spec, seen, fired], in the order they were added
        self._fault_version = getattr(self, "_fault_version", 0) + 1
        self._fault_list: FaultList | None = FaultList(self._fault_version)
        self._journal.clear()
        self._events.clear()
        self._deliveries.clear()
        if self._limits.settings != self._limit_baseline:
            self._limits = LimitSettings.of(self._limits.version + 1, dict(self._limit_baseline))

    def glance(self, clock: SandboxState) -> Glance:
        return Glance(clock.clock_state(), self._limits, self.faults())

    # limit settings ------------------------------------------------------------------------------
    def limit_settings(self) -> LimitSettings:
        return self._limits

    def declare_limits(self, defaults: Mapping[str, LimitSetting]) -> LimitSettings:
        """Settings (and baseline) for the policies not known yet; known ones keep theirs."""
        with self._lock:
            new = {name: s for name, s in defaults.items() if name not in self._limits.settings}
            if new:
                self._limit_baseline.update(new)
                self._limits = LimitSettings.of(self._limits.version + 1, {**self._limits.settings, **new})
            return self._limits

    def set_limits(self, changes: Mapping[str, LimitSetting], *, baseline: bool = False) -> LimitSettings:
        """Change some policies' settings; with `baseline`, what `restore_limits` and `reset` go back to."""
        with self._lock:
            if changes:
                self._limits = LimitSettings.of(self._limits.version + 1, {**self._limits.settings, **changes})
            if baseline:
                self._limit_baseline = dict(self._limits.settings)
            return self._limits

    def restore_limits(self) -> LimitSettings:
        with self._lock:
            if self._limits.settings != self._limit_baseline:
                self._limits = LimitSettings.of(self._limits.version + 1, dict(self._limit_baseline))
            return self._limits

    # faults --------------------------------------------------------------------------------------
    def add_fault(self, spec: Mapping[str, Any], *, seen: int = 0, fired: int = 0) -> int:
        with self._lock:
            fault_id = next(self._fault_ids)
            self._faults[fault_id] = [dict(spec), seen, fired]
            self._faults_changed()
            return fault_id

    def faults(self) -> FaultList:
        faults = self._fault_list
        if faults is None:
            with self._lock:
                faults = self._fault_list = FaultList(self._fault_version, tuple(
                    FaultState(fid, spec, seen, fired) for fid, (spec, seen, fired) in self._faults.items()))
        return faults

    def clear_faults(self, fault_id: int | None = None) -> int:
        with self._lock:
            if fault_id is None:
                cleared = len(self._faults)
                self._faults.clear()
            else:
                cleared = int(self._faults.pop(fault_id, None) is not None)
            if cleared:
                self._faults_changed()
            return cleared

    def set_fault_counts(self, fault_id: int, seen: int, fired: int) -> bool:
        """A restored snapshot's counters (False: no such fault)."""
        with self._lock:
            row = self._faults.get(fault_id)
            if row is None:
                return False
            row[1], row[2] = seen, fired
            self._fault_list = None
            return True

    def strike(self, candidates: Sequence[int]) -> Strike | None:
        """One request matched these faults (in order): the first that fires, its counters moved."""
        with self._lock:
            for fault_id in candidates:
                row = self._faults.get(fault_id)
                if row is None:
                    continue
                seen, fired, now = strike_one(row[0], row[1], row[2])
                if seen != row[1] or fired != row[2]:
                    row[1], row[2] = seen, fired
                    self._fault_list = None
                if now:
                    return Strike(fault_id, seen, fired)
            return None

    def _faults_changed(self) -> None:
        self._fault_version += 1
        self._fault_list = None if self._faults else FaultList(self._fault_version)

    # journal -------------------------------------------------------------------------------------
    def journal_append(self, entry: Any, keep: int) -> int:
        """Append `entry` (its `seq` set), keeping at most the last `keep` entries; the entry's seq."""
        with self._lock:
            if self._journal.maxlen != keep:
                self._journal = deque(self._journal, maxlen=keep)
            entry.seq = seq = next(self._journal_seq)
            self._journal.append(entry)
            return seq

    def journal_read(self, *, since: int = 0, limit: int | None = None, operation: str | None = None,
                     status: int | None = None, principal: str | None = None) -> list[Any]:
        with self._lock:
            chosen = [e for e in self._journal
                      if e.seq > since
                      and (operation is None or e.operation == operation)
                      and (status is None or e.status == status)
                      and (principal is None or e.principal == principal)]
        return chosen[-limit:] if limit else chosen

    def journal_clear(self) -> None:
        with self._lock:
            self._journal.clear()

    def journal_forget(self, seq: int) -> None:
        with self._lock:
            self._journal = deque((e for e in self._journal if e.seq != seq), maxlen=self._journal.maxlen)

    # events --------------------------------------------------------------------------------------
    def publish(self, event: Any, keep: int) -> None:
        """Keep `event` in the history of the last `keep` events."""
        with self._lock:
            if self._events.maxlen != keep:
                self._events = deque(self._events, maxlen=keep)
            self._published += 1
            self._events.append((self._published, event))
            self._event_arrived.notify_all()

    def events(self) -> list[Any]:
        with self._lock:
            return [event for _, event in self._events]

    def events_cursor(self) -> str:
        with self._lock:
            return str(self._published)

    def events_after(self, cursor: str, wait: float) -> tuple[str, list[Any]]:
        """Events published after `cursor`, waiting up to `wait` seconds for one (blocks this thread)."""
        after = int(cursor)
        with self._event_arrived:
            self._event_arrived.wait_for(lambda: self._published > after, timeout=wait)
            return str(self._published), [event for number, event in self._events if number > after]

    def clear_events(self) -> None:
        with self._lock:
            self._events.clear()

    # deliveries: a queue with leases (the log does the work; in one process a lease is simply held)
    def enqueue_delivery(self, delivery: Delivery, capacity: int) -> None:
        with self._lock:
            self._deliveries.capacity = capacity
            self._deliveries.add(delivery)

    def lease_due(self, now: float, worker: str, lease: float, limit: int) -> list[Delivery]:
        with self._lock:
            return self._deliveries.lease_due(now, worker, lease, limit)

    def finish_attempt(self, delivery_id: str, worker: str, attempt: dict[str, Any], outcome: str,
                       next_at: float | None = None) -> bool:
        with self._lock:
            return self._deliveries.finish_attempt(delivery_id, worker, attempt, outcome, next_at)

    def release_lease(self, delivery_id: str, worker: str) -> None:
        with self._lock:
            self._deliveries.release_lease(delivery_id, worker)

    def next_due(self) -> float | None:
        return self._deliveries.next_due()

    def next_lease_end(self) -> float | None:
        return self._deliveries.next_lease_end()

    def deliveries(self) -> list[Delivery]:
        with self._lock:
            return list(self._deliveries.kept())

    def delivery_counts(self) -> dict[str, int]:
        with self._lock:
            return dict(self._deliveries.counts)

    def clear_deliveries(self) -> None:
        with self._lock:
            self._deliveries.clear()
