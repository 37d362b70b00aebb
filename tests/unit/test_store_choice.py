"""`mocks.state` chooses the store from `--store`: memory, or a Redis URL (valkey:// is the same protocol)."""

from __future__ import annotations

import pytest
import redis
from rediskit import free_port

from mocks.state import (
    MemoryStore,
    StoreUnavailable,
    check_store,
    drop_namespace,
    open_sandbox_state,
    open_store,
    store_down,
    store_url,
    supported_redis,
)
from mocks.state.redis_client import escape


@pytest.mark.parametrize(("given", "url"), [
    ("memory", "memory"),
    ("redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0"),
    ("rediss://cache.example:6380/2", "rediss://cache.example:6380/2"),
    ("valkey://127.0.0.1:6379/1", "redis://127.0.0.1:6379/1"),
    ("valkeys://cache.example:6380", "rediss://cache.example:6380"),
])
def test_store_urls_are_checked_and_valkey_is_read_as_redis(given: str, url: str) -> None:
    assert store_url(given) == url


@pytest.mark.parametrize("given", ["sqlite://x", "redis://", "redis://h:port/0", "redis://h:1/db0", "memory://"])
def test_anything_else_is_refused_with_the_accepted_forms(given: str) -> None:
    with pytest.raises(ValueError, match="store"):
        store_url(given)


def test_memory_is_the_default_and_has_no_shared_clock_state() -> None:
    assert isinstance(open_store(), MemoryStore)
    assert open_sandbox_state() is None
    check_store("memory")  # nothing to reach


def test_a_redis_that_does_not_answer_is_unavailable_not_a_defect() -> None:
    url = f"redis://127.0.0.1:{free_port()}/0"
    with pytest.raises(StoreUnavailable, match="does not answer") as raised:
        check_store(url)
    assert store_down(raised.value)
    assert not store_down(ValueError("a defect"))


def test_one_namespace_and_api_per_store(redis_url: str) -> None:
    store = open_store(redis_url, namespace="team-a", api="istockist")
    assert store.prefix == "{team-a:istockist}:"
    assert open_sandbox_state(redis_url, namespace="team-a").key == "{team-a}:clock"


@pytest.mark.parametrize(("version", "supported"), [("7.0.15", True), ("7.2.4", True), ("8.0.0", True),
                                                    ("6.2.14", False), ("5.0.7", False), ("", False)])
def test_redis_7_or_later_is_required(version: str, supported: bool) -> None:
    assert supported_redis(version) is supported


def test_the_redis_of_the_tests_is_accepted(redis_url: str) -> None:
    check_store(redis_url)
@pytest.mark.parametrize("name", ["team", "te*m{a}:b?[c]\\"])
def test_drop_namespace_deletes_that_namespace_only_every_api_and_its_clock(redis_url: str, name: str) -> None:
    from mocks.clock import ClockMove

    def fill(namespace: str) -> None:
        for api in ("istockist", "plggr"):
            open_store(redis_url, namespace=namespace, api=api).next_sequence("orders", 1)
        open_sandbox_state(redis_url, namespace=namespace).move_clock(ClockMove("freeze"), 1000.0)

    for namespace in (name, name + "-b", "x" + name):
        fill(namespace)
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    before = set(client.keys())

    assert drop_namespace(redis_url, name) == 3
    gone = before - set(client.keys())
    assert {key[:key.index("}") + 1] for key in gone} == {
        "{" + escape(name) + ":istockist}", "{" + escape(name) + ":plggr}", "{" + escape(name) + "}"}
    assert drop_namespace(redis_url, name) == 0
    assert open_store(redis_url, namespace=name + "-b", api="plggr").sequences() == {"orders": 1}


def test_the_memory_store_has_no_namespace_to_drop() -> None:
    assert drop_namespace("memory", "anything") == 0
