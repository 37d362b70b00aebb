"""The Redis store's steering state and history: limit settings, faults, journal, events, deliveries.

A mixin of `RedisStore` (as `MemorySteering` is of `MemoryStore`): every transition is one Lua
script of `mocks.state.redis_steering_scripts`. Everything is kept as JSON, never pickled (a shared
Redis must not be able to make the sandbox run code): a journal entry as its described form (what
`GET /__mock/journal` serves), with its filter fields beside it so reading filters without decoding;
an event as its fields; a delivery with its body in base64. What survives `reset`, as in memory: the limits' baseline, the fault and
journal numbers.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from typing import Any

import redis

from mocks.state import redis_steering_scripts as lua
from mocks.state.changes import FaultList, FaultState, LimitSetting, LimitSettings, Strike
from mocks.state.protocol import Glance, SandboxState
from mocks.state.queue import Delivery
from mocks.state.redis_clock import FIELDS, RedisClockState, clock_state_of
from mocks.types import Event

COUNTS = ("queued", "delivered", "failed", "evicted", "evicted_pending")
_DELIVERY_KEYS = ("dlv", "dlv:state", "dlv:next", "dlv:attempts", "dlv:due", "dlv:lease", "dlv:owner",
                  "dlv:order", "dlv:done", "dlv:counts", "dlv:serial")
FOLLOW_BATCH = 500  # events one follow call returns at most
KEPT_BY_RESET = ("lim:settings", "lim:baseline", "faults:next", "faults:version", "journal:seq")


def _setting(text: str) -> LimitSetting:
    limit, window, enabled = json.loads(text)
    return LimitSetting(limit, window, enabled)


def _settings(found: list[str]) -> LimitSettings:
    pairs = dict(zip(found[::2], found[1::2], strict=True))
    version = int(pairs.pop("_version", 0))
    return LimitSettings.of(version, {name: _setting(text) for name, text in sorted(pairs.items())})


def _setting_args(changes: Mapping[str, LimitSetting]) -> list[str]:
    return [part for name, s in changes.items()
            for part in (name, json.dumps([int(s.limit), float(s.window), bool(s.enabled)]))]


def _delivery(static: str, next_at: str, attempts: str, state: str = "pending") -> Delivery:
    fields = json.loads(static)
    fields["body"] = base64.b64decode(fields["body"])
    return Delivery(**fields, next_at=float(next_at), state=state, attempts=json.loads(f"[{attempts}]"))


class RedisSteering:
    client: redis.Redis

    def _key(self, *parts: str) -> str:
        raise NotImplementedError

    def _k(self, name: str) -> str:
        """The key of `name` ("faults:count") in this namespace and API."""
        return self._key(*name.split(":"))

    def _init_steering(self) -> None:
        register = self.client.register_script
        self._declare_limits, self._set_limits = register(lua.DECLARE_LIMITS), register(lua.SET_LIMITS)
        self._restore_limits, self._add_fault = register(lua.RESTORE_LIMITS), register(lua.ADD_FAULT)
        self._clear_faults, self._set_counts = register(lua.CLEAR_FAULTS), register(lua.SET_FAULT_COUNTS)
        self._strike, self._journal_append = register(lua.STRIKE), register(lua.JOURNAL_APPEND)
        self._enqueue, self._lease_due = register(lua.ENQUEUE), register(lua.LEASE_DUE)
        self._finish, self._release_lease = register(lua.FINISH_ATTEMPT), register(lua.RELEASE_LEASE)
        self._next_due, self._next_lease_end = register(lua.NEXT_DUE), register(lua.NEXT_LEASE_END)
        self._read_together = register(lua.READ_TOGETHER)
        self._known_limits: LimitSettings | None = None  # the last settings and fault list read, kept by
        self._known_faults: FaultList | None = None  # version: a request reads only the versions

    def _read(self, *reads: tuple[str, str]) -> list[Any]:
        """(kind, key) reads at one instant: a string, a list, or a dict (hgetall) each."""
        found = self._read_together(keys=[key for _, key in reads], args=[kind for kind, _ in reads])
        return [dict(zip(value[::2], value[1::2], strict=True)) if kind == "hgetall" else value
                for (kind, _), value in zip(reads, found, strict=True)]

    def _reset_steering(self) -> None:
        """After `reset` removed the namespace's other keys: limits to their baseline, faults versioned."""
        self.restore_limits()
        self.client.eval("if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('INCR', KEYS[1]) end",
                         1, self._k("faults:version"))  # a fault list read before the reset is stale

    # what a request reads first: one round trip -------------------------------------------------------
    def glance(self, clock: SandboxState) -> Glance:
        """The versions of the limit settings and of the faults, and the clock when it lives on this client's
        Redis, in one pipeline; the settings or the fault list are read again only when their version moved
        (every change of them moves it, in the same script)."""
        shared_clock = isinstance(clock, RedisClockState) and clock.client is self.client
        with self.client.pipeline(transaction=False) as pipe:
            pipe.hget(self._k("lim:settings"), "_version")
            pipe.get(self._k("faults:version"))
            if shared_clock:
                pipe.hmget(clock.key, *FIELDS)
            found = pipe.execute()
        state = clock_state_of(found[2]) if shared_clock else clock.clock_state()
        limits, faults = self._known_limits, self._known_faults
        if limits is None or limits.version != int(found[0] or 0):
            limits = self.limit_settings()
        if faults is None or faults.version != int(found[1] or 0):
            faults = self.faults()
        return Glance(state, limits, faults)

    # limit settings ------------------------------------------------------------------------------
    def _limit_keys(self) -> list[str]:
        return [self._k("lim:settings"), self._k("lim:baseline")]

    def limit_settings(self) -> LimitSettings:
        found = self.client.hgetall(self._k("lim:settings"))
        self._known_limits = settings = _settings([part for pair in found.items() for part in pair])
        return settings

    def declare_limits(self, defaults: Mapping[str, LimitSetting]) -> LimitSettings:
        """Settings (and baseline) for the policies not known yet; known ones keep theirs."""
        return _settings(self._declare_limits(keys=self._limit_keys(), args=_setting_args(defaults)))

    def set_limits(self, changes: Mapping[str, LimitSetting], *, baseline: bool = False) -> LimitSettings:
        args = ["1" if baseline else "0", *_setting_args(changes)]
        return _settings(self._set_limits(keys=self._limit_keys(), args=args))

    def restore_limits(self) -> LimitSettings:
        return _settings(self._restore_limits(keys=self._limit_keys(), args=[]))

    # faults --------------------------------------------------------------------------------------
    def _fault_keys(self) -> list[str]:
        return [self._k(name) for name in ("faults", "faults:order", "faults:count", "faults:next",
                                             "faults:version")]

    def add_fault(self, spec: Mapping[str, Any], *, seen: int = 0, fired: int = 0) -> int:
        entry = json.dumps([dict(spec), str(spec.get("draw_seed"))])  # the seed as Python spells it: one draw
        return int(self._add_fault(keys=self._fault_keys(), args=[entry, seen, fired]))

    def faults(self) -> FaultList:
        faults, order, counts, _, version = self._fault_keys()
        found_version, ids, specs, numbers = self._read(("get", version), ("zrange", order), ("hgetall", faults),
                                                        ("hgetall", counts))
        items = tuple(FaultState(int(fid), json.loads(specs[fid])[0], int(numbers.get(f"{fid}:seen", 0)),
                                 int(numbers.get(f"{fid}:fired", 0))) for fid in ids if fid in specs)
        self._known_faults = found = FaultList(int(found_version or 0), items)
        return found

    def clear_faults(self, fault_id: int | None = None) -> int:
        return int(self._clear_faults(keys=self._fault_keys(), args=["" if fault_id is None else fault_id]))

    def set_fault_counts(self, fault_id: int, seen: int, fired: int) -> bool:
        return bool(self._set_counts(keys=self._fault_keys(), args=[fault_id, seen, fired]))

    def strike(self, candidates: Sequence[int]) -> Strike | None:
        """The first of `candidates` that fires, its counters moved: one script across every process."""
        if not candidates:
            return None
        found = self._strike(keys=self._fault_keys(), args=list(candidates))
        return None if found is None else Strike(*(int(n) for n in found))

    # journal -------------------------------------------------------------------------------------
    def journal_append(self, entry: Any, keep: int) -> int:
        """Append `entry` (its `seq` set), keeping at most the last `keep` entries; the entry's seq."""
        status, principal = getattr(entry, "status", None), getattr(entry, "principal", None)
        keys = [self._k("journal"), self._k("journal:seq")]
        args = [keep, getattr(entry, "operation", None) or "", "" if status is None else status,
                principal or "", json.dumps(entry.describe())]
        entry.seq = seq = int(self._journal_append(keys=keys, args=args))
        return seq

    def journal_read(self, *, since: int = 0, limit: int | None = None, operation: str | None = None,
                     status: int | None = None, principal: str | None = None) -> list[Any]:
        raw = self._raw()
        found = raw.xrange(self._k("journal"), min=f"{since + 1}", max="+")
        chosen = [(stream_id, fields) for stream_id, fields in found
                  if (operation is None or fields[b"op"].decode() == operation)
                  and (status is None or fields[b"status"].decode() == str(status))
                  and (principal is None or fields[b"principal"].decode() == principal)]
        entries = []
        for stream_id, fields in chosen[-limit:] if limit else chosen:
            entries.append(StoredEntry(int(stream_id.split(b"-")[0]), json.loads(fields[b"e"])))
        return entries

    def journal_clear(self) -> None:
        self.client.delete(self._k("journal"))

    def journal_forget(self, seq: int) -> None:
        self.client.xdel(self._k("journal"), f"{seq}-1")

    def _raw(self) -> redis.Redis:
        """A client to the same server that leaves values as bytes."""
        raw = getattr(self, "_raw_client", None)
        if raw is None:
            pool = self.client.connection_pool
            kwargs = dict(pool.connection_kwargs, decode_responses=False)
            raw = self._raw_client = redis.Redis(
                connection_pool=redis.ConnectionPool(connection_class=pool.connection_class, **kwargs))
        return raw

    # events --------------------------------------------------------------------------------------
    def publish(self, event: Any, keep: int) -> None:
        self.client.xadd(self._k("events"), {"e": json.dumps(event.describe())}, maxlen=keep, approximate=False)

    def events(self) -> list[Any]:
        return [Event(**json.loads(fields[b"e"])) for _, fields in self._raw().xrange(self._k("events"))]

    def clear_events(self) -> None:
        self.client.delete(self._k("events"))

    def events_cursor(self) -> str:
        newest = self.client.xrevrange(self._k("events"), count=1)
        return newest[0][0] if newest else "0-0"

    def events_after(self, cursor: str, wait: float) -> tuple[str, list[Any]]:
        """XREAD BLOCK from `cursor` (a stream id): this thread waits up to `wait` seconds (at most 1)."""
        # BLOCK 0 would wait for ever; over the client's 2 s socket timeout, a quiet stream would read as Redis down
        block = max(1, int(min(wait, 1.0) * 1000))
        found = self._raw().xread({self._k("events"): cursor}, count=FOLLOW_BATCH, block=block)
        entries = found[0][1] if found else []
        if not entries:
            return cursor, []
        return entries[-1][0].decode(), [Event(**json.loads(fields[b"e"])) for _, fields in entries]

    # deliveries: a queue with leases that expire in real time (Redis' clock) ---------------------------
    def _delivery_keys(self) -> list[str]:
        return [self._k(name) for name in _DELIVERY_KEYS]

    def enqueue_delivery(self, delivery: Delivery, capacity: int) -> None:
        static = json.dumps({"id": delivery.id, "url": delivery.url, "headers": delivery.headers,
                             "body": base64.b64encode(delivery.body).decode(), "created_at": delivery.created_at,
                             "event_id": delivery.event_id, "event_type": delivery.event_type,
                             "source": delivery.source})
        self._enqueue(keys=self._delivery_keys(), args=[delivery.id, static, repr(float(delivery.next_at)), capacity])

    def lease_due(self, now: float, worker: str, lease: float, limit: int) -> list[Delivery]:
        """Up to `limit` due deliveries, each leased to `worker` for `lease` seconds of real time."""
        found = self._lease_due(keys=self._delivery_keys(),
                                args=[repr(float(now)), worker, int(lease * 1000), limit])
        return [_delivery(*found[n:n + 3]) for n in range(0, len(found), 3)]

    def finish_attempt(self, delivery_id: str, worker: str, attempt: dict[str, Any], outcome: str,
                       next_at: float | None = None) -> bool:
        args = [delivery_id, worker, json.dumps(attempt), outcome, "" if next_at is None else repr(float(next_at))]
        return bool(self._finish(keys=self._delivery_keys(), args=args))

    def release_lease(self, delivery_id: str, worker: str) -> None:
        self._release_lease(keys=self._delivery_keys(), args=[delivery_id, worker])

    def next_due(self) -> float | None:
        """The due time of the earliest delivery no live lease holds (one a lease holds is still in `dlv:due`)."""
        found = self._next_due(keys=[self._k("dlv:due"), self._k("dlv:lease")], args=[])
        return None if found is None else float(found)

    def next_lease_end(self) -> float | None:
        found = self._next_lease_end(keys=[self._k("dlv:lease")], args=[])
        return None if found is None else int(found) / 1000

    def deliveries(self) -> list[Delivery]:
        static, state, next_at, attempts, *_ = self._delivery_keys()
        ids, statics, states, nexts, tried = self._read(("zrange", self._k("dlv:order")), *(
            ("hgetall", name) for name in (static, state, next_at, attempts)))
        return [_delivery(statics[i], nexts[i], tried[i], states[i]) for i in ids if i in statics]

    def delivery_counts(self) -> dict[str, int]:
        found = self.client.hgetall(self._k("dlv:counts"))
        return {name: int(found.get(name, 0)) for name in COUNTS}

    def clear_deliveries(self) -> None:
        self.client.delete(*self._delivery_keys())


class StoredEntry:
    """A journal entry read back from Redis: its described form, numbered by the stream."""

    __slots__ = ("_described", "seq")
    request = None  # the request object stays with the process that served it

    def __init__(self, seq: int, described: dict[str, Any]) -> None:
        self.seq, self._described = seq, described

    @property
    def operation(self) -> str | None:
        return self._described.get("operation")

    @property
    def status(self) -> int | None:
        return self._described.get("status")

    @property
    def principal(self) -> str | None:
        return self._described.get("principal")

    def describe(self) -> dict[str, Any]:
        return {**self._described, "seq": self.seq}
