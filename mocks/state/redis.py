"""The Redis store: the store protocol over one Redis, so several processes can share one sandbox.

Served by `mocks serve --store redis://…` (chosen in `mocks.state.open_store`). It holds the same
contract as `MemoryStore` (`tests/unit/test_memory.py` and `test_store_operations.py` run against both): resources with
their ordered indexes, sequences, keyed values with expiry on the mock clock, and rate-limit
admission here; limit settings, faults, the journal, events and deliveries in the mixin
`mocks.state.redis_steering`; the sandbox's clock is `mocks.state.redis_clock.RedisClockState`.

Every read-modify-write is one Lua script (`mocks.state.redis_scripts`) or a WATCHed MULTI/EXEC,
never a read then a write. Every key of one namespace and API carries the hash tag
`{namespace:api}` (one Redis Cluster slot, so multi-key scripts are allowed); `reset` removes
those keys only. Expiry is data compared with the mock clock, never a Redis TTL: the mock clock
may move backwards. A concurrency slot is a lease in a sorted set scored by its expiry on Redis'
own clock: a process that dies holding one frees it after `concurrency_lease` seconds.

The client is redis-py's synchronous one (the store protocol is synchronous) with short socket
timeouts; `redis` is imported by the `mocks.state.redis*` modules only, so serving with the memory store
never loads it.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import redis

from mocks.state import DEFAULT_CONCURRENCY_LEASE
from mocks.state import redis_scripts as lua
from mocks.state.changes import Change, Updated
from mocks.state.ordered import Slice, indexed_value
from mocks.state.protocol import Hit, Outcome, Record
from mocks.state.redis_client import RETRIES, connect, escape, float_text
from mocks.state.redis_steering import KEPT_BY_RESET, RedisSteering

__all__ = ["RedisStore", "connect", "escape"]

_EPSILON = 1e-6  # as MemoryStore: an admission exactly one window old has left
# expired rate windows, idempotency keys or tokens that each admission or new key forgets: more than
# one, so that forgetting outpaces the keys clients make
SWEEP_EACH = 4


class RedisStore(RedisSteering):
    def __init__(self, client: redis.Redis | str, namespace: str, api: str, *,
                 concurrency_lease: float = DEFAULT_CONCURRENCY_LEASE) -> None:
        self.client = connect(client) if isinstance(client, str) else client
        self.namespace, self.api, self.concurrency_lease = namespace, api, concurrency_lease
        self.prefix = "{" + escape(namespace) + ":" + escape(api) + "}:"
        self._fields: dict[str, set[str]] = {}  # collection -> indexed fields (declared by each process)
        self._leases: dict[str, list[str]] = {}  # rate-limit key -> concurrency leases this process holds
        self._lock = threading.Lock()
        register = self.client.register_script
        self._insert, self._place, self._delete = register(lua.INSERT), register(lua.PLACE), register(lua.DELETE)
        self._find, self._put_if_absent = register(lua.FIND), register(lua.PUT_IF_ABSENT)
        self._write_expiring = register(lua.WRITE_EXPIRING)
        self._admit, self._put_first = register(lua.ADMIT), register(lua.PUT_FIRST)
        self._complete = register(lua.COMPLETE)
        self._init_steering()

    # keys ----------------------------------------------------------------------------------
    def _key(self, *parts: str) -> str:
        return self.prefix + ":".join(escape(part) for part in parts)

    def _slice_base(self, collection: str) -> str:
        return self._key("slice", collection, "")

    def _slice_key(self, collection: str, where: Slice) -> str:
        return self._slice_base(collection) + escape(json.dumps(list(where)))

    def _place_keys(self, collection: str) -> list[str]:
        return [self._key("pos", collection), self._key("next", collection), self._key("mem", collection),
                self._key("colls")]

    def _slices_of(self, collection: str, record: Record) -> str:
        """The slices, as `OrderedIndex` slices a record (every scope, its scope, each field value): the
        collection's slice base, then each slice key's own part (the scripts' `slice_name`)."""
        scope = record["scope"]
        found = [Slice.everywhere(), Slice(scope)]
        for field in sorted(self._fields.get(collection, ())):
            value = indexed_value(record["data"].get(field))
            found += [Slice.everywhere(field, value), Slice(scope, False, field, value)]
        return json.dumps([self._slice_base(collection), *(escape(json.dumps(list(where))) for where in found)])

    # resources -----------------------------------------------------------------------------
    def insert(self, collection: str, key: str, record: Record, index: dict[str, str]) -> None:
        keys, args = self._insert_call(collection, key, record, index)
        self._insert(keys=keys, args=args)

    def _insert_call(self, collection: str, key: str, record: Record, index: dict[str, str]) -> tuple[list, list]:
        uniq = {self._key("uniq", collection, field): value for field, value in index.items()}
        pairs = [part for name, value in uniq.items() for part in (value, name)]
        return ([*self._place_keys(collection), self._key("rec", collection), self._key("keyidx", collection)],
                [key, collection, self._slices_of(collection, record), json.dumps(record), json.dumps(uniq), *pairs])

    def get(self, collection: str, key: str) -> Record | None:
        found = self.client.hget(self._key("rec", collection), key)
        return None if found is None else json.loads(found)

    def get_many(self, collection: str, keys: Sequence[str]) -> list[Record | None]:
        if not keys:
            return []
        return [None if found is None else json.loads(found) for found in self.client.hmget(self._key("rec", collection), keys)]

    def find(self, collection: str, field: str, value: str) -> Record | None:
        found = self._find(keys=[self._key("uniq", collection, field), self._key("rec", collection)], args=[value])
        return None if found is None else json.loads(found)

    def update(self, collection: str, key: str, change: Change) -> Updated | None:
        """Merge `change` into the record's data unless its guard refuses (WATCH, MULTI/EXEC); None: no record."""
        guard = change.guard

        def merged(current: Record) -> tuple[Record | None, Record]:
            if guard is not None and current["data"].get(guard.field) not in guard.one_of:
                return None, current
            return {**current, "data": {**current["data"], **change.merge}}, current

        found = self._rewrite(collection, key, merged)
        if found is None:
            return None
        after, before = found
        return Updated(before, before, False) if after is None else Updated(after, before, True)

    def _rewrite(self, collection: str, key: str, change: Callable[[Record], tuple[Record | None, Any]]) -> Any:
        """Read the record, write what `change` makes of it (None: nothing): (written, other) or None."""
        records = self._key("rec", collection)

        def body(pipe: Any) -> Any:
            current = pipe.hget(records, key)
            if current is None:
                return None
            updated, other = change(json.loads(current))
            if updated is not None:
                pipe.multi()
                self._place(keys=[*self._place_keys(collection), records],
                            args=[key, collection, self._slices_of(collection, updated), json.dumps(updated)],
                            client=pipe)
            return updated, other

        return self._transaction(records, body)

    def _transaction(self, watched: str, body: Callable[[Any], Any]) -> Any:
        """Run `body` on a pipeline WATCHing `watched`: it reads, then queues its writes after
        `pipe.multi()` (or writes nothing); run again if another writer changed `watched` before EXEC."""
        for _ in range(RETRIES):
            with self.client.pipeline(transaction=True) as pipe:
                try:
                    pipe.watch(watched)
                    result = body(pipe)
                    if pipe.explicit_transaction:
                        pipe.execute()
                    return result
                except redis.WatchError:
                    continue
        raise RuntimeError(f"a write to {watched} lost {RETRIES} races in a row")

    def put_first(self, collection: str, where: Slice, key: str, record: Record, index: dict[str, str]) -> Record:
        """Insert `record` unless `where` already holds a record; the record there afterwards (singletons)."""
        keys, args = self._insert_call(collection, key, record, index)
        found = self._put_first(keys=[*keys, self._slice_key(collection, where)], args=args)
        return record if found is None else json.loads(found)

    def delete(self, collection: str, key: str) -> Record | None:
        found = self._delete(keys=[self._key("pos", collection), self._key("mem", collection),
                                   self._key("rec", collection), self._key("keyidx", collection)],
                             args=[key, self._slice_base(collection)])
        return None if found is None else json.loads(found)

    def scan(self, collection: str) -> list[Record]:
        return [json.loads(r) for r in self.client.hvals(self._key("rec", collection))]

    def next_sequence(self, name: str, start: int) -> int:
        with self.client.pipeline(transaction=True) as pipe:
            pipe.hsetnx(self._key("seq"), name, start - 1)
            pipe.hincrby(self._key("seq"), name, 1)
            return int(pipe.execute()[1])

    # ordered reads ---------------------------------------------------------------------------
    def index_field(self, collection: str, field: str) -> None:
        with self._lock:
            if field in self._fields.setdefault(collection, set()):
                return
            self._fields[collection].add(field)
        records = self._key("rec", collection)
        try:
            for key, stored in self.client.hscan_iter(records):  # records that exist already join the new slices
                self._place(keys=[*self._place_keys(collection), records],
                            args=[key, collection, self._slices_of(collection, json.loads(stored)), ""])
        except BaseException:
            with self._lock:  # not indexed after all (Redis went away): the next call places them again
                self._fields[collection].discard(field)
            raise

    def position(self, collection: str, key: str) -> int | None:
        found = self.client.hget(self._key("pos", collection), key)
        return None if found is None else int(found)

    def count(self, collection: str, where: Slice) -> int:
        return self.client.zcard(self._slice_key(collection, where))

    def page(self, collection: str, where: Slice, *, after: int | None = None, offset: int = 0, limit: int,
             descending: bool = False) -> list[tuple[int, str]]:
        if limit <= 0:
            return []
        name = self._slice_key(collection, where)
        if descending:
            top = "+inf" if after is None else f"({after}"
            found = self.client.zrevrangebyscore(name, top, "-inf", start=offset, num=limit, withscores=True)
        else:
            bottom = "-inf" if after is None else f"({after}"
            found = self.client.zrangebyscore(name, bottom, "+inf", start=offset, num=limit, withscores=True)
        return [(int(score), key) for key, score in found]

    # keyed values ----------------------------------------------------------------------------
    def put_if_absent(self, space: str, key: str, value: Any, expires_at: float | None, now: float) -> Any:
        """Store `value` unless a live value is there; return the live value (None if stored)."""
        found = self._put_if_absent(keys=self._expiring_keys(space),
                                    args=self._expiring_args(key, value, expires_at, now))
        return None if found is None else json.loads(found)[0]

    def _expiring_keys(self, space: str) -> list[str]:
        return [self._key("val", space), self._key("val-ends", space)]

    @staticmethod
    def _expiring_args(key: str, value: Any, expires_at: float | None, now: float) -> list[Any]:
        return [key, json.dumps([value, expires_at]), float_text(now),
                "" if expires_at is None else float_text(expires_at), SWEEP_EACH]

    def read(self, space: str, key: str, now: float) -> Any:
        found = self.client.hget(self._key("val", space), key)
        if found is None:
            return None
        value, expires_at = json.loads(found)
        return None if expires_at is not None and expires_at <= now else value

    def complete(self, space: str, key: str, expect: Mapping[str, Any], value: Any, expires_at: float | None) -> bool:
        """Compare-and-set (one script): replace the value only if it still holds every (scalar) field of `expect`."""
        stored = json.dumps([value, expires_at])
        return bool(self._complete(keys=[self._key("val", space)], args=[key, json.dumps(dict(expect)), stored]))

    def write(self, space: str, key: str, value: Any, expires_at: float | None, now: float | None = None) -> None:
        if now is None:  # a value restored from a snapshot: its expiry indexed, for later writes to sweep
            values, ends = self._expiring_keys(space)
            with self.client.pipeline(transaction=True) as pipe:
                pipe.hset(values, key, json.dumps([value, expires_at]))
                if expires_at is not None:
                    pipe.zadd(ends, {key: expires_at})
                pipe.execute()
            return
        self._write_expiring(keys=self._expiring_keys(space), args=self._expiring_args(key, value, expires_at, now))

    def remove(self, space: str, key: str) -> None:
        self.client.hdel(self._key("val", space), key)

    # rate limiting ---------------------------------------------------------------------------
    def _limit_key(self, hit: Hit) -> str:
        kind = {"concurrency": "conc", "fixed": "fixed"}.get(hit.algorithm, "slide")
        return self._key("lim", kind, hit.key)

    def admit(self, hits: list[Hit]) -> tuple[bool, list[Outcome]]:
        """Count one request against every budget, or against none if any budget is spent: one script."""
        args: list[Any] = [int(self.concurrency_lease * 1000), SWEEP_EACH]
        for hit in hits:
            if hit.algorithm == "fixed":
                start = hit.now - (hit.now % hit.window)
                marker, ends = float_text(start), float_text(start + hit.window)
            elif hit.algorithm == "concurrency":
                marker = ends = ""
            else:
                marker, ends = float_text(hit.now - hit.window + _EPSILON), float_text(hit.now + hit.window)
            args += [hit.algorithm, hit.limit, marker, float_text(hit.now), ends]
        found = self._admit(keys=[self._key("lim", "ids"), self._key("lim", "ends"),
                                  *(self._limit_key(hit) for hit in hits)], args=args)
        admitted, outcomes = bool(found[0]), []
        for n, hit in enumerate(hits):
            used, base = int(found[1 + 2 * n]), found[2 + 2 * n]
            if hit.algorithm == "concurrency":
                reset_at = None
                if admitted:
                    with self._lock:
                        self._leases.setdefault(hit.key, []).append(base)
            elif hit.algorithm == "fixed":
                reset_at = hit.now - (hit.now % hit.window) + hit.window
            else:
                reset_at = (float(base) if base else hit.now) + hit.window
            outcomes.append(Outcome(admitted or used < hit.limit, used, reset_at))
        return admitted, outcomes

    def release(self, key: str) -> None:
        """Give back one concurrency slot this process holds for `key` (none held: nothing happens)."""
        with self._lock:
            held = self._leases.get(key)
            lease = held.pop() if held else None
        if lease is not None:
            self.client.zrem(self._key("lim", "conc", key), lease)

    def reset(self) -> None:
        """This namespace and API back to empty (records, values, budgets, faults, journal, events,
        deliveries; limit settings to their baseline), and nothing else. The baseline and the fault and
        journal numbers stay, as in memory."""
        pattern = "".join(f"\\{c}" if c in "*?[]\\" else c for c in self.prefix) + "*"
        kept = {self._k(name) for name in KEPT_BY_RESET}
        batch: list[str] = []
        for name in self.client.scan_iter(match=pattern, count=1000):
            if name in kept:
                continue
            batch.append(name)
            if len(batch) >= 500:
                self.client.unlink(*batch)
                batch = []
        if batch:
            self.client.unlink(*batch)
        self._reset_steering()
        with self._lock:
            self._leases.clear()

    def claim_seeding(self) -> bool:
        # SET NX: exactly one process since the last reset gets True; reset deletes the marker
        return bool(self.client.set(self._k("seeded"), 1, nx=True))

    def snapshot(self) -> dict[str, Any]:
        names = sorted(self.client.smembers(self._key("colls")))
        return {name: self.scan(name) for name in names}

    # snapshots: what a snapshot needs beyond the calls above -------------------------------------
    def sequences(self) -> dict[str, int]:
        return {name: int(value) for name, value in self.client.hgetall(self._key("seq")).items()}

    def set_sequence(self, name: str, value: int) -> None:
        self.client.hset(self._key("seq"), name, value)

    def values(self, space: str) -> list[tuple[str, Any, float | None]]:
        found = self.client.hgetall(self._key("val", space))
        return [(key, *json.loads(entry)) for key, entry in found.items()]

    def _usage_keys(self, kind: str) -> dict[str, str]:
        """Rate-limit key -> Redis key, for every budget of one kind (`slide`, `fixed`, `conc`)."""
        start = self._key("lim", kind, "")
        pattern = "".join(f"\\{c}" if c in "*?[]\\" else c for c in start) + "*"
        return {_unescape(name[len(start):]): name for name in self.client.scan_iter(match=pattern, count=1000)}

    def rate_usage(self) -> dict[str, Any]:
        sliding = {key: [score for _, score in self.client.zrange(name, 0, -1, withscores=True)]
                   for key, name in self._usage_keys("slide").items()}
        fixed = {key: [float(w["start"]), int(w["used"])]
                 for key, name in self._usage_keys("fixed").items() if (w := self.client.hgetall(name))}
        in_flight = {key: self.client.zcard(name) for key, name in self._usage_keys("conc").items()}
        return {"sliding": sliding, "fixed": fixed, "in_flight": in_flight}

    def restore_rate_usage(self, usage: dict[str, Any]) -> None:
        """Budgets as `rate_usage` gave them; requests in flight then are not in flight now."""
        with self.client.pipeline(transaction=True) as pipe:
            for name in [*self._usage_keys("slide").values(), *self._usage_keys("fixed").values()]:
                pipe.unlink(name)
            for n, (key, times) in enumerate(usage.get("sliding", {}).items()):
                if times:
                    pipe.zadd(self._key("lim", "slide", key), {f"{float_text(t)}#r{n}.{i}": t for i, t in enumerate(times)})
            for key, (start, used) in usage.get("fixed", {}).items():
                pipe.hset(self._key("lim", "fixed", key), mapping={"start": float_text(start), "used": int(used)})
            pipe.execute()


def _unescape(part: str) -> str:
    return part.replace("%3A", ":").replace("%7D", "}").replace("%7B", "{").replace("%25", "%")
