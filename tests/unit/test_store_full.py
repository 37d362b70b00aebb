"""A full Redis (maxmemory under noeviction): what the store still does, and what the views drop and count.

A real `redis-server` of this module's own with a small `maxmemory`, never a fake and never the
session's shared one (filling that would break other tests).
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Iterator

import pytest
import redis
from rediskit import MISSING, redis_server

from mocks.events import EventBus
from mocks.journal import Journal, JournalEntry
from mocks.state import store_down
from mocks.state.protocol import Hit
from mocks.state.redis import RedisStore
from mocks.types import Event, MockRequest, MockResponse


@pytest.fixture
def full() -> Iterator[RedisStore]:
    """A store whose Redis is full, holding one idempotency key reserved before it filled up."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip(MISSING)
    with redis_server(binary, "--maxmemory-policy", "noeviction") as url:
        store = RedisStore(url, "full", "istockist")
        assert store.put_if_absent("idempotency", "k1", {"state": "running", "fingerprint": "f"}, None, 0.0) is None
        raw = redis.Redis.from_url(url)
        raw.config_set("maxmemory", raw.info("memory")["used_memory"] + 256 * 1024)
        with pytest.raises(redis.exceptions.OutOfMemoryError):
            for n in range(100_000):
                raw.set(f"ballast:{n}", "x" * 100)
        # well below what it now holds, so a few bytes Redis frees in the meantime (client buffers) cannot let
        # a small write through: every write that adds data is refused
        raw.config_set("maxmemory", raw.info("memory")["used_memory"] // 2)
        yield store


def test_writes_that_add_data_are_refused_as_the_store_being_down(full: RedisStore) -> None:
    with pytest.raises(redis.exceptions.OutOfMemoryError) as refused:
        full.put_if_absent("idempotency", "k2", {"state": "running", "fingerprint": "f"}, None, 0.0)
    assert store_down(refused.value)
    assert full.read("idempotency", "k2", 0.0) is None  # refused whole: nothing written


def test_admission_fault_reads_and_completing_a_key_still_work(full: RedisStore) -> None:
    admitted, _ = full.admit([Hit("acct", "sliding", 5, 1.0, 100.0), Hit("acct", "concurrency", 1, 0.0, 100.0)])
    assert admitted
    full.release("acct")
    assert full.faults().items == ()
    done = {"state": "done", "fingerprint": "f", "response": {"status": 200}}
    assert full.complete("idempotency", "k1", {"state": "running", "fingerprint": "f"}, done, None)
    assert full.read("idempotency", "k1", 0.0) == done
    assert not full.complete("idempotency", "k1", {"state": "running"}, done, None)  # still a compare-and-set


def test_a_journal_entry_and_an_event_the_store_refuses_are_dropped_and_counted(full: RedisStore) -> None:
    journal, events = Journal(store=full), EventBus(store=full)
    request = MockRequest("GET", "/v1/products", {}, {})
    journal.record(JournalEntry(time=1.0, arrived=1.0, request=request, response=MockResponse(200, b"{}"),
                                operation="listProducts", principal=None, fault=None, duration=0.001))

    async def follow_while_publishing() -> Event | None:
        heard = events.subscribe()  # a follower of this process (its reader needs a running loop)
        events.publish(Event("customer.created", "customer", {"id": "c1"}, None, None, 1.0))
        try:
            return heard.get_nowait()
        finally:
            await events.stop()

    got = asyncio.run(follow_while_publishing())
    assert journal.dropped.count == 1 and events.dropped.count == 1
    assert got is not None and got.type == "customer.created"  # this process's followers still hear it
