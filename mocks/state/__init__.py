"""State stores: everything the mock remembers, behind one small protocol.

`open_store` and `open_sandbox_state` are the one place a store is chosen: `memory` (the default,
one process) or a Redis URL (`redis://`, `rediss://`, `valkey://`), shared by every process pointed at
the same Redis and namespace. `redis` is imported only when a Redis URL is given.
"""

from __future__ import annotations

import sys
from typing import Any
from urllib.parse import urlsplit

from mocks.state.memory import MemoryStore
from mocks.state.ordered import Slice
from mocks.state.protocol import Record, Store

__all__ = ["DEFAULT_NAMESPACE", "MemoryStore", "Record", "Slice", "Store", "StoreUnavailable", "check_store",
           "drop_namespace", "open_sandbox_state", "open_store", "store_down", "store_url"]

DEFAULT_NAMESPACE = "mocks"
_SCHEMES = ("redis", "rediss", "valkey", "valkeys")


class StoreUnavailable(OSError):
    """The shared store did not answer (Redis down or unreachable): the request is answered 503."""


def store_down(exc: BaseException) -> bool:
    """Whether `exc` says the shared store did not answer in time (never true of the memory store)."""
    if isinstance(exc, StoreUnavailable):
        return True
    redis = sys.modules.get("redis")  # loaded only when a Redis store was opened
    return redis is not None and isinstance(exc, redis.ConnectionError | redis.TimeoutError)


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


def open_store(kind: str = "memory", *, namespace: str = DEFAULT_NAMESPACE, api: str = "") -> Store:
    url = store_url(kind)
    if url == "memory":
        return MemoryStore()
    from mocks.state.redis import RedisStore

    return RedisStore(_client(url), namespace, api)


def open_sandbox_state(kind: str = "memory", *, namespace: str = DEFAULT_NAMESPACE) -> Any:
    """The sandbox's clock state: None (the clock's own, in this process) for memory, else `RedisClockState`."""
    url = store_url(kind)
    if url == "memory":
        return None
    from mocks.state.redis_clock import RedisClockState

    return RedisClockState(_client(url), namespace)


def check_store(kind: str) -> None:
    """Raise StoreUnavailable unless the store answers now (start-up: a sandbox never starts half-connected)."""
    url = store_url(kind)
    if url == "memory":
        return
    import redis

    try:
        _client(url).ping()
    except redis.RedisError as exc:
        raise StoreUnavailable(f"the store {url} does not answer: {exc}") from None


def drop_namespace(kind: str, namespace: str) -> int:
    """Delete every key of `namespace` in the store `kind` (all its APIs and its clock); the number deleted.

    Only that namespace's keys are scanned for (`{namespace:api}…` and `{namespace}:clock`), and they are
    deleted one hash tag at a time, so each UNLINK stays in one Redis Cluster slot. The memory store keeps
    nothing between processes: nothing to drop.
    """
    url = store_url(kind)
    if url == "memory":
        return 0
    from mocks.state.redis import escape

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
