"""`mocks.state` chooses the store from `--store`: memory, or a Redis URL (valkey:// is the same protocol)."""

from __future__ import annotations

import pytest
from rediskit import free_port

from mocks.state import (
    MemoryStore,
    StoreUnavailable,
    check_store,
    open_sandbox_state,
    open_store,
    store_down,
    store_url,
    supported_redis,
)


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
