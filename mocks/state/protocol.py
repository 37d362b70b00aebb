"""The store protocol: every read-modify-write is one atomic operation of the store.

That is what lets a shared backend keep rate limits, idempotency and lifecycles exact when
several workers serve one sandbox. Every piece of state two processes serving one sandbox must
agree on goes through it: records, keyed values, rate budgets and limit settings, faults and
their counters, the journal, events. Operations take data (declared changes, `mocks.state.changes`),
never a Python callable, so a network store can run each as one script or transaction. The
protocol is synchronous; the clock's state is the sandbox's (`SandboxState`), not one API's.

Lists read through ordered indexes so that a page costs O(log n + page), never the collection:
every record has a *position* (its creation order, kept across updates) and belongs to the
`Slice`s of every scope, of its own scope, and of each `index_field` value (every scope | its
scope). A shared store maps each slice to a sorted set scored by position (Redis: one ZSET per
collection + slice, kept in the same MULTI/EXEC or Lua script as the record's write; `count` is
ZCARD, `page` is ZRANGEBYSCORE/ZREVRANGEBYSCORE with LIMIT offset count, `position` a hash field).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple, Protocol, TypedDict

from mocks.clock import ClockMove, ClockState
from mocks.state.changes import Change, FaultList, LimitSetting, LimitSettings, Strike, Updated
from mocks.state.ordered import Slice
from mocks.state.queue import Delivery


class Hit(NamedTuple):
    """One request against one budget: `sliding` and `fixed` windows, or `concurrency`."""

    key: str
    algorithm: str
    limit: int
    window: float
    now: float


class Outcome(NamedTuple):
    admitted: bool
    used: int  # requests counted in the window (or in flight), this one included when admitted
    reset_at: float | None  # when the window next frees a slot


class Glance(NamedTuple):
    """What every request reads before it acts, read at once: the sandbox clock's state and this API's
    versioned steering state (limit settings, faults; a fault's counts here may be older than `strike`'s)."""

    clock: ClockState
    limits: LimitSettings
    faults: FaultList


class Record(TypedDict):
    scope: str | None
    group: Any
    data: dict[str, Any]


class Store(Protocol):
    # resources
    def insert(self, collection: str, key: str, record: Record, index: dict[str, str]) -> None: ...
    def get(self, collection: str, key: str) -> Record | None: ...
    def get_many(self, collection: str, keys: Sequence[str]) -> list[Record | None]:
        """The records of `keys` in their order (None where there is none): one read, one round trip."""

    def find(self, collection: str, field: str, value: str) -> Record | None: ...
    def update(self, collection: str, key: str, change: Change) -> Updated | None:
        """Merge `change` into the record's data unless its guard refuses (None: no such record)."""

    def put_first(self, collection: str, where: Slice, key: str, record: Record, index: dict[str, str]) -> Record:
        """Insert `record` unless `where` already holds a record; the one there afterwards (singletons)."""

    def delete(self, collection: str, key: str) -> Record | None: ...
    def scan(self, collection: str) -> list[Record]: ...
    def next_sequence(self, name: str, start: int) -> int: ...

    # ordered reads (lists, /__mock/state)
    def index_field(self, collection: str, field: str) -> None:
        """Keep `collection` ordered by the text of `field` too (declared once; survives `reset`)."""

    def position(self, collection: str, key: str) -> int | None:
        """The record's place in creation order (None: no such record)."""

    def count(self, collection: str, where: Slice) -> int: ...

    def page(self, collection: str, where: Slice, *, after: int | None = None, offset: int = 0, limit: int,
             descending: bool = False) -> list[tuple[int, str]]:
        """Up to `limit` (position, key) pairs of the slice in order (newest first if `descending`),
        strictly after position `after` in that direction, skipping `offset` of them first."""

    # keyed values with expiry (issued credentials, idempotency keys)
    def put_if_absent(self, space: str, key: str, value: Any, expires_at: float | None, now: float) -> Any: ...
    def read(self, space: str, key: str, now: float) -> Any: ...
    def complete(self, space: str, key: str, expect: Mapping[str, Any], value: Any,
                 expires_at: float | None) -> bool:
        """Compare-and-set: replace the value only if it still holds every field of `expect`."""

    def write(self, space: str, key: str, value: Any, expires_at: float | None, now: float | None = None) -> None:
        """Store `value`; with `now` (a key a client made, such as an issued token), expired keys of the
        space may be forgotten too."""
    def remove(self, space: str, key: str) -> None: ...

    # rate limiting
    def admit(self, hits: list[Hit]) -> tuple[bool, list[Outcome]]: ...
    def release(self, key: str) -> None: ...

    def glance(self, clock: SandboxState) -> Glance:
        """The clock's state (of `clock`, the sandbox's), the limit settings and the faults, as one read:
        a shared store reads them in one round trip and keeps the versioned parts until their version moves."""

    # rate-limit settings: the contract's policies are declared; their settings are state
    def limit_settings(self) -> LimitSettings: ...
    def declare_limits(self, defaults: Mapping[str, LimitSetting]) -> LimitSettings:
        """Settings and baseline for policies not known yet (the first process to start declares)."""

    def set_limits(self, changes: Mapping[str, LimitSetting], *, baseline: bool = False) -> LimitSettings: ...
    def restore_limits(self) -> LimitSettings: ...

    # faults: specs with their counters; `strike` is their one transition
    def add_fault(self, spec: Mapping[str, Any], *, seen: int = 0, fired: int = 0) -> int: ...
    def faults(self) -> FaultList: ...
    def clear_faults(self, fault_id: int | None = None) -> int: ...
    def set_fault_counts(self, fault_id: int, seen: int, fired: int) -> bool: ...
    def strike(self, candidates: Sequence[int]) -> Strike | None:
        """Walk `candidates` in order: skip one whose `times` is reached; count it seen; skip it while
        `seen <= after` or when `draw(seed, seen) >= probability`; else count it fired and return it."""

    # history: entries and events are kept as objects here; a shared store keeps them serialized
    def journal_append(self, entry: Any, keep: int) -> int: ...
    def journal_read(self, *, since: int = 0, limit: int | None = None, operation: str | None = None,
                     status: int | None = None, principal: str | None = None) -> list[Any]: ...
    def journal_clear(self) -> None: ...
    def journal_forget(self, seq: int) -> None: ...
    def publish(self, event: Any, keep: int) -> None: ...
    def events(self) -> list[Any]: ...
    def clear_events(self) -> None: ...
    def events_cursor(self) -> str:
        """Where the event history ends now: `events_after` from it returns only events published later."""

    def events_after(self, cursor: str, wait: float) -> tuple[str, list[Any]]:
        """Events published after `cursor`, oldest first, with the cursor to pass next; waits up to `wait`
        seconds for the first. It blocks the calling thread (run it off the event loop): following the
        events of every process (Redis: XREAD BLOCK on the events stream)."""


    # deliveries: a queue with leases, so that each attempt is made by exactly one worker
    def enqueue_delivery(self, delivery: Delivery, capacity: int) -> None: ...
    def lease_due(self, now: float, worker: str, lease: float, limit: int) -> list[Delivery]: ...
    def finish_attempt(self, delivery_id: str, worker: str, attempt: dict[str, Any], outcome: str,
                       next_at: float | None = None) -> bool:
        """Record an attempt: delivered, failed or retry at `next_at` (False: the lease was lost)."""

    def release_lease(self, delivery_id: str, worker: str) -> None: ...
    def next_due(self) -> float | None:
        """When the earliest attempt free to lease is due, on the mock clock (None: none is)."""

    def next_lease_end(self) -> float | None:
        """Seconds of real time until the earliest lease held on a pending delivery ends (None: none held,
        or leases never end, as in one process): when a worker must look to take a delivery over."""

    def deliveries(self) -> list[Delivery]: ...
    def delivery_counts(self) -> dict[str, int]: ...
    def clear_deliveries(self) -> None: ...

    def reset(self) -> None:
        """This API's namespace: records, values, budgets, faults, journal, events, deliveries; limits
        to their baseline."""

    def claim_seeding(self) -> bool:
        """True for the first caller since the namespace was made or reset (it seeds the fixtures); False
        for a process joining a sandbox in use, whose state it must leave as it is."""

    def snapshot(self) -> dict[str, Any]: ...

    # snapshots (mocks/snapshot.py): what the calls above cannot list or set
    def sequences(self) -> dict[str, int]: ...
    def set_sequence(self, name: str, value: int) -> None: ...
    def values(self, space: str) -> list[tuple[str, Any, float | None]]: ...
    def rate_usage(self) -> dict[str, Any]: ...  # {"sliding": {key: [times]}, "fixed": {key: [start, used]}, ...}
    def restore_rate_usage(self, usage: dict[str, Any]) -> None: ...


class SandboxState(Protocol):
    """What the APIs of one sandbox share: the mock clock."""

    def clock_state(self) -> ClockState: ...
    def move_clock(self, move: ClockMove, real_now: float) -> ClockState: ...
