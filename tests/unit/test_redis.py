"""mocks/state/redis.py beyond the contract both stores hold (test_memory.py): one state across
processes, namespaces apart, exact admission under a race, leases of dead processes, the key layout.
Against a real Redis (tests/rediskit.py), never a fake."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import pytest
import redis
from rediskit import namespace

from mocks.state import Slice
from mocks.state.changes import Change, Guard, Updated
from mocks.state.protocol import Hit
from mocks.state.redis import RedisStore


def record(scope: str | None = "t1", **data) -> dict:
    return {"scope": scope, "group": None, "data": data}


@pytest.fixture
def stores(redis_url):
    """Factory: `stores(ns)` -> a RedisStore of namespace `ns` with its own client (as another process has)."""
    made: list[RedisStore] = []

    def make(ns: str, api: str = "istockist", **options) -> RedisStore:
        made.append(RedisStore(redis_url, ns, api, **options))
        return made[-1]

    yield make
    for store in made:
        store.reset()


def test_two_stores_of_one_namespace_see_one_state_and_another_namespace_sees_nothing(stores):
    ns = namespace()
    first, second, elsewhere, other_api = stores(ns), stores(ns), stores(namespace()), stores(ns, "quire")
    first.index_field("orders", "status")
    second.index_field("orders", "status")
    first.insert("orders", "o1", record(id="o1", status="new"), {"number": "1001"})
    second.insert("orders", "o2", record(id="o2", status="new"), {"number": "1002"})
    first.put_if_absent("idem", "k", "first", None, now=0.0)

    assert second.get("orders", "o1")["data"]["id"] == "o1"
    assert first.find("orders", "number", "1002")["data"]["id"] == "o2"
    assert [key for _, key in second.page("orders", Slice.everywhere("status", "new"), limit=5)] == ["o1", "o2"]
    assert second.put_if_absent("idem", "k", "second", None, now=0.0) == "first"
    assert [first.next_sequence("n", 1), second.next_sequence("n", 1)] == [1, 2]
    for apart in (elsewhere, other_api):
        assert apart.get("orders", "o1") is None and apart.snapshot() == {} and apart.read("idem", "k", 0.0) is None
        assert apart.count("orders", Slice.everywhere()) == 0
        apart.insert("orders", "o9", record(id="o9"), {})
        apart.reset()

    assert second.count("orders", Slice.everywhere()) == 2  # the other namespace's reset left this one
    second.reset()
    assert first.get("orders", "o1") is None and first.snapshot() == {}


def test_a_record_keeps_its_slices_short_and_one_kept_with_full_slice_keys_still_moves_and_goes(stores):
    store = stores(namespace())
    store.index_field("orders", "status")
    store.insert("orders", "o1", record(id="o1", status="new"), {})
    kept = json.loads(store.client.hget(store._key("mem", "orders"), "o1"))
    assert kept and all(part.startswith("[") for part in kept)  # each slice's own part, not its whole key
    assert not store.client.hexists(store._key("keyidx", "orders"), "o1")  # no unique fields: nothing kept

    full = [store._slice_key("orders", where) for where in (Slice.everywhere(), Slice("t1"),
            Slice.everywhere("status", "new"), Slice("t1", False, "status", "new"))]
    store.client.hset(store._key("mem", "orders"), "o1", json.dumps(full))  # as an earlier version kept it
    store.update("orders", "o1", Change({"status": "paid"}))
    assert store.count("orders", Slice.everywhere("status", "new")) == 0
    assert store.count("orders", Slice.everywhere("status", "paid")) == 1
    store.client.hset(store._key("mem", "orders"), "o1", json.dumps(full[:2]))
    store.delete("orders", "o1")
    assert store.count("orders", Slice.everywhere()) == store.count("orders", Slice("t1")) == 0


def test_every_key_carries_the_namespace_and_api_hash_tag_whatever_the_names(stores, redis_url):
    store = stores("team{a}:x", "api*")
    store.insert("or{ders}", "k}{", record(id="x"), {"f{": "v}"})
    store.admit([Hit("p{x}", "sliding", 5, 60.0, 1.0), Hit("c", "concurrency", 1, 0.0, 1.0)])
    store.put_if_absent("sp{a}ce", "k", 1, None, 0.0)
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    names = [name for name in client.scan_iter(count=1000) if name.startswith("{team%7Ba%7D%3Ax:api*}:")]
    assert len(names) >= 10
    assert all(name.count("{") == 1 and name.count("}") == 1 for name in names)
    assert store.find("or{ders}", "f{", "v}")["data"]["id"] == "x"
    assert store.rate_usage()["in_flight"] == {"c": 1} and list(store.rate_usage()["sliding"]) == ["p{x}"]
    store.reset()
    assert not [name for name in client.scan_iter(count=1000) if name.startswith("{team%7Ba%7D%3Ax:api*}:")]


def test_rate_usage_restores_into_another_store(stores):
    source, target = stores(namespace()), stores(namespace())
    for now in (1.0, 2.5):
        source.admit([Hit("minute", "sliding", 5, 60.0, now), Hit("day", "fixed", 9, 86400.0, now)])
    usage = source.rate_usage()
    assert usage["sliding"] == {"minute": [1.0, 2.5]} and usage["fixed"] == {"day": [0.0, 2]}
    target.restore_rate_usage(usage)
    assert target.rate_usage() == usage
    assert target.admit([Hit("minute", "sliding", 5, 60.0, 3.0)]) == (True, [(True, 3, 61.0)])


RACER = textwrap.dedent("""
    import sys, threading, time
    from mocks.state.protocol import Hit
    from mocks.state.redis import RedisStore
    url, ns, hits, start = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    store = RedisStore(url, ns, "istockist")
    admitted = []
    def hit():
        ok, _ = store.admit([Hit("per-minute", "sliding", 50, 60.0, 100.0), Hit("burst", "fixed", 1000, 60.0, 100.0)])
        admitted.append(ok)
    threads = [threading.Thread(target=hit) for _ in range(hits)]
    time.sleep(max(0.0, start - time.time()))
    for t in threads: t.start()
    for t in threads: t.join()
    print(sum(admitted))
""")


def test_300_hits_racing_from_several_processes_admit_exactly_50(stores, redis_url):
    ns = namespace()
    stores(ns)  # reset after the test
    start = time.time() + 2.0  # every process starts hitting at once
    racers = [subprocess.Popen([sys.executable, "-c", RACER, redis_url, ns, "60", str(start)],
                               stdout=subprocess.PIPE, text=True) for _ in range(5)]
    admitted = [int(racer.communicate(timeout=60)[0]) for racer in racers]
    assert all(racer.returncode == 0 for racer in racers)
    assert sum(admitted) == 50
    usage = stores(ns).rate_usage()
    assert len(usage["sliding"]["per-minute"]) == 50
    assert usage["fixed"]["burst"][1] == 50  # the refused 250 counted against no budget


HOLDER = textwrap.dedent("""
    import sys, time
    from mocks.state.protocol import Hit
    from mocks.state.redis import RedisStore
    store = RedisStore(sys.argv[1], sys.argv[2], "istockist", concurrency_lease=float(sys.argv[3]))
    print(store.admit([Hit("slots", "concurrency", 1, 0.0, 0.0)])[0], flush=True)
    time.sleep(60)
""")


def test_a_killed_holders_concurrency_slot_is_released_after_its_lease(stores, redis_url):
    ns = namespace()
    store = stores(ns, concurrency_lease=30.0)
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, redis_url, ns, "1.0"], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "True"
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait(10)
        assert store.admit([Hit("slots", "concurrency", 1, 0.0, 0.0)]) == (False, [(False, 1, None)])
        time.sleep(1.2)
        assert store.admit([Hit("slots", "concurrency", 1, 0.0, 0.0)]) == (True, [(True, 1, None)])
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()
        holder.stdout.close()


def test_a_slot_released_by_one_process_is_not_taken_from_another(stores):
    ns = namespace()
    first, second = stores(ns), stores(ns)
    assert first.admit([Hit("slots", "concurrency", 1, 0.0, 0.0)])[0]
    second.release("slots")  # holds none: nothing happens
    assert not second.admit([Hit("slots", "concurrency", 1, 0.0, 0.0)])[0]
    first.release("slots")
    assert second.admit([Hit("slots", "concurrency", 1, 0.0, 0.0)])[0]


def test_an_update_against_a_concurrent_writer_retries_and_loses_nothing(stores):
    ns = namespace()
    first, second = stores(ns), stores(ns)
    first.insert("counters", "c", record(n=0), {})

    def bump_and_interfere(current):
        if current["data"]["n"] == 0:  # another process writes between this one's read and write
            second.update("counters", "c", Change({"n": 10}))
        return {**current, "data": {"n": current["data"]["n"] + 1}}, None

    # _rewrite is the WATCH/MULTI/EXEC loop under every declared update: a lost race is retried on the new value
    assert first._rewrite("counters", "c", bump_and_interfere)[0]["data"]["n"] == 11
    assert second.get("counters", "c")["data"]["n"] == 11


# the state boundary's operations (issue 11) that take plain data: put_first, complete, declared updates
def test_a_declared_update_merges_unless_its_guard_refuses(stores):
    store = stores(namespace())
    store.index_field("orders", "status")
    store.insert("orders", "o1", record(id="o1", status="open", lines=[1], total=0.1), {})

    refused = store.update("orders", "o1", Change({"status": "closed", "lines": [1, 2]},
                                                  Guard("status", frozenset({"paid"}))))
    assert refused == Updated(*(record(id="o1", status="open", lines=[1], total=0.1),) * 2, False)
    updated = store.update("orders", "o1", Change({"status": "paid", "note": []},
                                                  Guard("status", frozenset({"open", "new"}))))
    after, before, applied = updated.record, updated.before, updated.applied
    assert applied and before["data"]["status"] == "open"
    assert store.get("orders", "o1") == after == record(id="o1", status="paid", lines=[1], total=0.1, note=[])
    assert [k for _, k in store.page("orders", Slice("t1").where("status", "paid"), limit=5)] == ["o1"]
    assert store.count("orders", Slice("t1").where("status", "open")) == 0
    assert store.update("orders", "nope", Change({"status": "paid"})) is None


def test_racing_declared_updates_through_one_guard_apply_once(stores):
    ns = namespace()
    store = stores(ns)
    store.insert("orders", "o1", record(id="o1", status="open"), {})
    racers = [stores(ns) for _ in range(8)]
    results: list[bool] = []

    def close(racer: RedisStore) -> None:
        results.append(racer.update("orders", "o1", Change({"status": "closed"},
                                                          Guard("status", frozenset({"open"})))).applied)

    threads = [threading.Thread(target=close, args=(racer,)) for racer in racers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [False] * 7 + [True]


def test_put_first_keeps_the_first_record_of_a_slice_under_a_race(stores):
    ns = namespace()
    racers = [stores(ns) for _ in range(10)]
    kept: list[dict] = []

    def put(n: int) -> None:
        kept.append(racers[n].put_first("carts", Slice("t1"), f"c{n}", record(id=f"c{n}"), {"owner": "p1"}))

    threads = [threading.Thread(target=put, args=(n,)) for n in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({r["data"]["id"] for r in kept}) == 1
    assert racers[0].count("carts", Slice("t1")) == 1
    assert racers[0].find("carts", "owner", "p1") == kept[0]
    assert racers[0].put_first("carts", Slice("t2"), "c9", record("t2", id="c9"), {}) == record("t2", id="c9")


def test_complete_replaces_a_value_only_while_it_holds_what_is_expected(stores):
    store = stores(namespace())
    store.put_if_absent("idem", "k", {"state": "running", "fingerprint": "f1"}, 100.0, now=0.0)
    assert not store.complete("idem", "k", {"state": "running", "fingerprint": "f2"}, {"state": "done"}, 100.0)
    assert not store.complete("idem", "missing", {"state": "running"}, {"state": "done"}, 100.0)
    assert store.complete("idem", "k", {"state": "running", "fingerprint": "f1"}, {"state": "done"}, 200.0)
    assert store.read("idem", "k", now=150.0) == {"state": "done"}
    assert not store.complete("idem", "k", {"state": "running"}, {"state": "again"}, 200.0)


def test_the_store_reads_replies_with_hiredis_where_it_is_installed(stores):
    """Every round trip of the shared store pays the reply's parse: redis-py's own parser in Python
    unless hiredis is there (`pip install '.[redis]'` brings it on CPython)."""
    pytest.importorskip("hiredis")
    pool = stores(namespace()).client.connection_pool
    # a connection as the store's pool makes one (its parser is chosen when made), built the same way
    # on every redis-py the extra allows: get_connection's arguments changed in 5.3
    connection = pool.connection_class(**pool.connection_kwargs)
    assert type(connection._parser).__name__ == "_HiredisParser"
