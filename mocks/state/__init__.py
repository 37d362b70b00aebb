"""State stores: everything the mock remembers, behind one small protocol.

`open_store` and `open_sandbox_state` are the one place a store is chosen: `memory` (the default,
one process) or a Redis URL (`redis://`, `rediss://`, `valkey://`), shared by every process pointed at
the same Redis and namespace. `redis` is imported only when a Redis URL is given.
"""

from __future__ import annotations

import logging
import sys
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

from mocks.state.memory import MemoryStore
from mocks.state.ordered import Slice
from mocks.state.protocol import Record, Store

__all__ = ["DEFAULT_CONCURRENCY_LEASE", "DEFAULT_NAMESPACE", "STORE_RETRY_AFTER", "Dropped", "MemoryStore", "Record",
           "Slice", "Store", "StoreUnavailable", "check_store", "drop_namespace", "open_sandbox_state", "open_store",
           "store_down", "store_url", "supported_redis"]

DEFAULT_NAMESPACE = "mocks"
# seconds a concurrency slot outlives a process killed while holding it (`mocks serve --concurrency-lease`)
DEFAULT_CONCURRENCY_LEASE = 30.0
STORE_RETRY_AFTER = "1"  # seconds: a store that went away is usually back (or failed over) within seconds
log = logging.getLogger("mocks")
_SCHEMES = ("redis", "rediss", "valkey", "valkeys")


class StoreUnavailable(OSError):
    """The shared store did not answer (Redis down or unreachable): the request is answered 503."""


def store_down(exc: BaseException) -> bool:
    """Whether `exc` says the shared store cannot serve now, for a while (never true of the memory store).

    Transient, all of them, so the caller answers 503 with Retry-After rather than 500: Redis did not
    answer in time (connection or timeout; `BusyLoadingError`, still loading its data, is a
    ConnectionError), is out of memory under `noeviction` (`OutOfMemoryError`), or is a replica
    after a failover (`ReadOnlyError`). Redis refused the whole command in each case: nothing of it
    was written.
    """
    if isinstance(exc, StoreUnavailable):
        return True
    redis = sys.modules.get("redis")  # loaded only when a Redis store was opened
    return redis is not None and isinstance(
        exc, redis.ConnectionError | redis.TimeoutError | redis.exceptions.OutOfMemoryError | redis.exceptions.ReadOnlyError)


class Dropped:
    """Writes of a request that has already acted (its journal entry, its events and their deliveries,
    its concurrency slot's release, its idempotency key's completion) that the store refused.

    An unavailable store then costs that write, counted here (per process) and logged, never the
    answer: a 503 would tell the client that a change which was made was not.
    """

    def __init__(self) -> None:
        self.count = 0

    def unless_store_down(self, what: str) -> _UnlessStoreDown:
        """A `with` block whose store-down error is counted and logged instead of raised."""
        return _UnlessStoreDown(self, what)

    def absorbs(self, exc: BaseException, what: str) -> bool:
        """Whether `exc` says the store is down: then the write of `what` is dropped, counted and logged.
        For an `except` block on a path every request takes (`try` costs nothing until it raises)."""
        if not isinstance(exc, Exception) or not store_down(exc):
            return False
        self.count += 1
        log.warning("%s dropped: the store is unavailable (%s)", what, exc)
        return True


class _UnlessStoreDown:
    # a class, not @contextmanager: a generator-based manager costs a generator and two frames more
    __slots__ = ("dropped", "what")

    def __init__(self, dropped: Dropped, what: str) -> None:
        self.dropped, self.what = dropped, what

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> bool:
        return exc is not None and self.dropped.absorbs(exc, self.what)


def store_url(kind: str) -> str:
    """`kind` checked and normalised: "memory", or a redis:// / rediss:// URL (valkey:// is the same protocol)."""
    if kind == "memory":
        return kind
    parts = urlsplit(kind)
    if parts.scheme not in _SCHEMES or not parts.hostname:
        raise ValueError(f"unknown store '{kind}' (use memory, redis://HOST:PORT/DB, rediss://… or valkey://…)")
    try:
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        raise ValueError(f"store '{kind}': the port is not a number") from None
    path = parts.path.strip("/")
    if path and not path.isdigit():
        raise ValueError(f"store '{kind}': the database is a number (redis://HOST:PORT/0), not '{path}'")
    scheme = {"valkey": "redis", "valkeys": "rediss"}.get(parts.scheme, parts.scheme)
    return parts._replace(scheme=scheme).geturl()


def open_store(kind: str = "memory", *, namespace: str = DEFAULT_NAMESPACE, api: str = "",
               concurrency_lease: float = DEFAULT_CONCURRENCY_LEASE) -> Store:
    """The store of one API. `concurrency_lease`: a shared store's; in memory a slot dies with its process."""
    url = store_url(kind)
    if url == "memory":
        return MemoryStore()
    from mocks.state.redis import RedisStore

    return RedisStore(_client(url), namespace, api, concurrency_lease=concurrency_lease)


def open_sandbox_state(kind: str = "memory", *, namespace: str = DEFAULT_NAMESPACE) -> Any:
    """The sandbox's clock state: None (the clock's own, in this process) for memory, else `RedisClockState`."""
    url = store_url(kind)
    if url == "memory":
        return None
    from mocks.state.redis_clock import RedisClockState

    return RedisClockState(_client(url), namespace)


def check_store(kind: str) -> None:
    """Raise StoreUnavailable unless the store answers now (start-up: a sandbox never starts half-connected),
    ValueError if it is older than Redis 7."""
    url = store_url(kind)
    if url == "memory":
        return
    import redis

    try:
        version = _client(url).info("server").get("redis_version", "")
    except redis.RedisError as exc:
        raise StoreUnavailable(f"the store {url} does not answer: {exc}") from None
    if not supported_redis(version):
        raise ValueError(f"the store {url} is Redis {version}: the sandbox needs Redis 7 or later (Valkey 7.2 or later)")


def supported_redis(version: str) -> bool:
    """Redis 7 and later run scripts flagged to go on when memory is full (`allow-oom`), which the store uses."""
    major = version.split(".", 1)[0]
    return major.isdigit() and int(major) >= 7


def drop_namespace(kind: str, namespace: str) -> int:
    """Delete every key of `namespace` in the store `kind` (all its APIs and its clock); the number deleted.

    Only that namespace's keys are scanned for (`{namespace:api}…` and `{namespace}:clock`), and they are
    deleted one hash tag at a time, so each UNLINK stays in one Redis Cluster slot. The memory store keeps
    nothing between processes: nothing to drop.
    """
    url = store_url(kind)
    if url == "memory":
        return 0
    from mocks.state.redis_client import escape

    tag = "".join(f"\\{c}" if c in "*?[]\\" else c for c in escape(namespace))
    by_tag: dict[str, list[str]] = {}
    client = _client(url)
    for key in client.scan_iter(match="{" + tag + "[:}]*", count=1000):
        by_tag.setdefault(key[1:key.index("}")], []).append(key)
    for keys in by_tag.values():
        for start in range(0, len(keys), 500):
            client.unlink(*keys[start:start + 500])
    return sum(len(keys) for keys in by_tag.values())


_clients: dict[str, Any] = {}


def _client(url: str) -> Any:
    """One client (one connection pool) per URL in this process, shared by every API and the clock."""
    if url not in _clients:
        from mocks.state.redis import connect

        _clients[url] = connect(url)
    return _clients[url]
