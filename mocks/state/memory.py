"""The in-memory store: plain dicts behind a lock, one per sandbox process.

Steering state (limit settings, faults) and history (journal, events, deliveries) are in
`mocks.state.memory_steering`; this module keeps records, keyed values and rate budgets.
"""

from __future__ import annotations

import copy
import threading
from collections import deque
from collections.abc import Mapping, Sequence
from typing import Any

from mocks.state.changes import Change, Updated
from mocks.state.memory_steering import MemorySteering
from mocks.state.ordered import OrderedIndex, Slice
from mocks.state.protocol import Hit, Outcome, Record

_EPSILON = 1e-6  # seconds: below the clock's meaningful resolution, above float noise
# A table whose keys come from client input (rate-limit keys from path or header values, idempotency
# keys, issued tokens) is swept once it has doubled since its last sweep, and never below this many keys: each sweep
# walks the table once, so a key costs O(1) sweeping over its life, and the table holds at most twice
# what is live.
_SWEEP_FLOOR = 1024


class MemoryStore(MemorySteering):
    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._order = OrderedIndex()
        self._init_steering()
        self.reset()

    def reset(self) -> None:
        """This API's namespace back to empty: records, values, budgets, faults, journal, events,
        deliveries; limit settings go back to their baseline. Declared field indexes stay."""
        with self._lock:
            self._reset_steering()
            self._collections: dict[str, dict[str, Record]] = {}
            self._indexes: dict[tuple[str, str], dict[str, str]] = {}
            self._unique: dict[tuple[str, str], dict[str, str]] = {}  # (collection, key) -> its unique values
            self._order.clear()
            self._sequences: dict[str, int] = {}
            self._values: dict[str, dict[str, tuple[Any, float | None]]] = {}
            self._logs: dict[str, deque[float]] = {}
            self._windows: dict[str, tuple[float, int]] = {}
            self._in_flight: dict[str, int] = {}
            # rate-limit key -> the mock time after which its window holds no admission (at the latest)
            self._rate_ends: dict[str, float] = {}
            self._sweep_rates_above = _SWEEP_FLOOR
            self._sweep_values_above: dict[str, int] = {}  # per space
            self._seeded = False

    def claim_seeding(self) -> bool:
        with self._lock:
            first, self._seeded = not self._seeded, True
            return first

    # resources ---------------------------------------------------------------------------
    def insert(self, collection: str, key: str, record: Record, index: dict[str, str]) -> None:
        with self._lock:
            self._collections.setdefault(collection, {})[key] = record
            for field, value in index.items():
                self._indexes.setdefault((collection, field), {})[value] = key
            self._unique[(collection, key)] = dict(index)
            self._order.place(collection, key, record)

    def get(self, collection: str, key: str) -> Record | None:
        return self._collections.get(collection, {}).get(key)

    def get_many(self, collection: str, keys: Sequence[str]) -> list[Record | None]:
        found = self._collections.get(collection, {})
        return [found.get(key) for key in keys]

    def find(self, collection: str, field: str, value: str) -> Record | None:
        key = self._indexes.get((collection, field), {}).get(value)
        return None if key is None else self.get(collection, key)

    def update(self, collection: str, key: str, change: Change) -> Updated | None:
        """Merge `change.merge` into the record's data unless its guard refuses; None: no such record."""
        with self._lock:
            items = self._collections.get(collection, {})
            current = items.get(key)
            if current is None:
                return None
            guard = change.guard
            if guard is not None and current["data"].get(guard.field) not in guard.one_of:
                return Updated(current, current, False)
            after = copy.deepcopy(current)
            after["data"].update(change.merge)
            items[key] = after
            self._order.place(collection, key, after)
            return Updated(after, current, True)

    def put_first(self, collection: str, where: Slice, key: str, record: Record, index: dict[str, str]) -> Record:
        """Insert `record` unless the slice already holds one; the record that is there afterwards."""
        with self._lock:
            first = self.page(collection, where, limit=1)
            if first:
                found = self.get(collection, first[0][1])
                if found is not None:
                    return found
            self.insert(collection, key, record, index)
            return record

    def delete(self, collection: str, key: str) -> Record | None:
        with self._lock:
            record = self._collections.get(collection, {}).pop(key, None)
            if record is not None:
                for field, value in self._unique.pop((collection, key), {}).items():
                    index = self._indexes.get((collection, field), {})
                    if index.get(value) == key:
                        del index[value]
                self._order.remove(collection, key)
            return record

    def scan(self, collection: str) -> list[Record]:
        with self._lock:
            return list(self._collections.get(collection, {}).values())

    # ordered reads ---------------------------------------------------------------------------
    def index_field(self, collection: str, field: str) -> None:
        with self._lock:
            self._order.declare(collection, field, self._collections.get(collection, {}))

    def position(self, collection: str, key: str) -> int | None:
        with self._lock:
            return self._order.position(collection, key)

    def count(self, collection: str, where: Slice) -> int:
        with self._lock:
            return self._order.count(collection, where)

    def page(self, collection: str, where: Slice, *, after: int | None = None, offset: int = 0, limit: int,
             descending: bool = False) -> list[tuple[int, str]]:
        with self._lock:
            return self._order.page(collection, where, after=after, offset=offset, limit=limit,
                                    descending=descending)

    def next_sequence(self, name: str, start: int) -> int:
        with self._lock:
            value = self._sequences.get(name, start - 1) + 1
            self._sequences[name] = value
            return value

    # keyed values --------------------------------------------------------------------------
    def put_if_absent(self, space: str, key: str, value: Any, expires_at: float | None, now: float) -> Any:
        """Store `value` unless a live value is there; return the live value (None if stored)."""
        with self._lock:
            bucket = self._values.setdefault(space, {})
            current = bucket.get(key)
            if current is not None and (current[1] is None or current[1] > now):
                return current[0]
            bucket[key] = (value, expires_at)
            self._sweep_values(space, bucket, now)
            return None

    def _sweep_values(self, space: str, bucket: dict[str, tuple[Any, float | None]], now: float) -> None:
        """Forget a space's expired values once it has doubled since its last sweep."""
        if len(bucket) > self._sweep_values_above.get(space, _SWEEP_FLOOR):
            for stale in [k for k, (_, ends) in bucket.items() if ends is not None and ends <= now]:
                del bucket[stale]
            self._sweep_values_above[space] = max(_SWEEP_FLOOR, 2 * len(bucket))

    def read(self, space: str, key: str, now: float) -> Any:
        current = self._values.get(space, {}).get(key)
        if current is None or (current[1] is not None and current[1] <= now):
            return None
        return current[0]

    def complete(self, space: str, key: str, expect: Mapping[str, Any], value: Any,
                 expires_at: float | None) -> bool:
        """Compare-and-set: replace the stored value only if it still has every field of `expect`."""
        with self._lock:
            current = self._values.get(space, {}).get(key)
            if current is None or not isinstance(current[0], dict) or \
                    any(current[0].get(name) != wanted for name, wanted in expect.items()):
                return False
            self._values[space][key] = (value, expires_at)
            return True

    def write(self, space: str, key: str, value: Any, expires_at: float | None, now: float | None = None) -> None:
        with self._lock:
            bucket = self._values.setdefault(space, {})
            bucket[key] = (value, expires_at)
            if now is not None:
                self._sweep_values(space, bucket, now)

    def remove(self, space: str, key: str) -> None:
        with self._lock:
            self._values.get(space, {}).pop(key, None)

    # rate limiting ---------------------------------------------------------------------------
    def admit(self, hits: list[Hit]) -> tuple[bool, list[Outcome]]:
        """Count one request against every budget, or against none if any budget is spent."""
        with self._lock:
            if len(self._logs) + len(self._windows) > self._sweep_rates_above:
                self._sweep_rates(hits[0].now)
            if len(hits) == 1:  # one policy, as most operations have: counted in one pass
                outcome = self._count(hits[0], take=True)
                return outcome.admitted, [outcome]
            outcomes = [self._count(hit, take=False) for hit in hits]
            if not all(o.admitted for o in outcomes):
                return False, outcomes
            return True, [self._count(hit, take=True) for hit in hits]

    def _sweep_rates(self, now: float) -> None:
        """Forget the windows that hold no admission any more: a key comes back empty, as it was."""
        ends = self._rate_ends
        for key in [k for k, log in self._logs.items() if not log or ends.get(k, now + 1) <= now]:
            del self._logs[key]
            ends.pop(key, None)
        for key in [k for k in self._windows if ends.get(k, now + 1) <= now]:
            del self._windows[key]
            ends.pop(key, None)
        self._sweep_rates_above = max(_SWEEP_FLOOR, 2 * (len(self._logs) + len(self._windows)))

    def _count(self, hit: Hit, *, take: bool) -> Outcome:
        """The budget as `hit` finds it; with `take`, and room left, the request counted in it too."""
        if hit.algorithm == "concurrency":
            used = self._in_flight.get(hit.key, 0)
            if not take or used >= hit.limit:
                return Outcome(used < hit.limit, used, None)
            self._in_flight[hit.key] = used + 1
            return Outcome(True, used + 1, None)
        if hit.algorithm == "fixed":
            start = hit.now - (hit.now % hit.window)
            begun, used = self._windows.get(hit.key, (start, 0))
            used = used if begun == start else 0
            if take and used < hit.limit:
                used += 1
                self._windows[hit.key] = (start, used)
                self._rate_ends[hit.key] = start + hit.window
                return Outcome(True, used, start + hit.window)
            return Outcome(used < hit.limit, used, start + hit.window)
        log = self._logs.get(hit.key)
        if log is None:  # not setdefault: that would make a deque for every admission
            log = self._logs[hit.key] = deque()
        expired = hit.now - hit.window + _EPSILON  # 2.3 - 2 is 0.2999…: an admission at 0.3 has left
        while log and log[0] <= expired:
            log.popleft()
        used = len(log)
        if take and used < hit.limit:
            log.append(hit.now)
            self._rate_ends[hit.key] = hit.now + hit.window
            return Outcome(True, used + 1, log[0] + hit.window)
        return Outcome(used < hit.limit, used, (log[0] if log else hit.now) + hit.window)

    def release(self, key: str) -> None:
        with self._lock:
            held = self._in_flight.get(key, 0) - 1
            if held > 0:
                self._in_flight[key] = held
            else:  # an idle key is not kept: its budget is full again
                self._in_flight.pop(key, None)

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {name: [copy.deepcopy(r) for r in items.values()] for name, items in self._collections.items()}

    # snapshots: what a snapshot needs beyond the calls above (sequences, keyed values, rate budgets) -----
    def sequences(self) -> dict[str, int]:
        with self._lock:
            return dict(self._sequences)

    def set_sequence(self, name: str, value: int) -> None:
        with self._lock:
            self._sequences[name] = value

    def values(self, space: str) -> list[tuple[str, Any, float | None]]:
        with self._lock:
            return [(key, copy.deepcopy(value), expires) for key, (value, expires) in self._values.get(space, {}).items()]

    def rate_usage(self) -> dict[str, Any]:
        with self._lock:
            return {"sliding": {key: list(log) for key, log in self._logs.items()},
                    "fixed": {key: list(window) for key, window in self._windows.items()},
                    "in_flight": dict(self._in_flight)}

    def restore_rate_usage(self, usage: dict[str, Any]) -> None:
        """Budgets as `rate_usage` gave them; requests in flight then are not in flight now."""
        with self._lock:
            self._logs = {key: deque(times) for key, times in usage.get("sliding", {}).items()}
            self._windows = {key: (float(start), int(used)) for key, (start, used) in usage.get("fixed", {}).items()}
            self._rate_ends = {}  # a restored window is kept until its key is counted again
