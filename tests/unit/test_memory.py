"""The store contract (mocks/state/protocol.py): records, keyed values with expiry, all-or-nothing
admission and ordered reads. Every test runs against each store: `memory`, and `redis` against a real
Redis (tests/rediskit.py; skipped, saying why, when there is none)."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rediskit import namespace

from mocks.state import Slice
from mocks.state.changes import Change, Guard
from mocks.state.memory import MemoryStore
from mocks.state.protocol import Hit, Record

STORES = ["memory", "redis"]


@pytest.fixture(params=STORES)
def new_store(request) -> Iterator:
    """Factory: a new, empty store of the kind the test runs with (each Redis one in its own namespace)."""
    url = request.getfixturevalue("redis_url") if request.param == "redis" else None
    made = []

    def make():
        if url is None:
            return MemoryStore()
        from mocks.state.redis import RedisStore

        made.append(RedisStore(url, namespace(), "test"))
        return made[-1]

    yield make
    for store in made:
        store.reset()


@pytest.fixture
def eager_switching() -> Iterator[None]:
    """Switch threads every microsecond so an unlocked read-modify-write really interleaves."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(before)


def record(**data) -> Record:
    return {"scope": "t1", "group": None, "data": data}


def test_insert_get_find_scan(new_store):
    store = new_store()
    store.insert("orders", "o1", record(id="o1", number="1001"), {"number": "1001"})
    store.insert("orders", "o2", record(id="o2", number="1002"), {"number": "1002"})

    assert store.get("orders", "o1")["data"]["id"] == "o1"
    assert store.find("orders", "number", "1002")["data"]["id"] == "o2"
    assert store.find("orders", "number", "9999") is None
    assert store.find("orders", "email", "x") is None
    assert store.get("orders", "nope") is None
    assert store.get("customers", "o1") is None
    assert sorted(r["data"]["id"] for r in store.scan("orders")) == ["o1", "o2"]
    assert store.scan("customers") == []


def test_update_applies_the_change_and_returns_the_new_record(new_store):
    store = new_store()
    store.insert("orders", "o1", record(id="o1", status="open"), {})

    close = Change({"status": "closed"})

    updated = store.update("orders", "o1", close)
    assert updated.record["data"]["status"] == "closed"
    assert store.get("orders", "o1")["data"]["status"] == "closed"
    assert store.update("orders", "missing", close) is None


def test_update_that_its_guard_refuses_leaves_the_record_untouched(new_store):
    store = new_store()
    store.insert("orders", "o1", record(id="o1", status="open", lines=[1]), {})

    refused = store.update("orders", "o1", Change({"status": "closed", "lines": [1, 2]},
                                                  Guard("status", frozenset({"paid"}))))
    assert refused is not None and not refused.applied
    assert store.get("orders", "o1")["data"] == {"id": "o1", "status": "open", "lines": [1]}


def test_concurrent_updates_lose_nothing(new_store, eager_switching):
    store = new_store()
    store.insert("counters", "c", record(n=0), {})
    barrier = threading.Barrier(16)

    def bump() -> None:
        barrier.wait()
        for _ in range(50):  # compare-and-set: read, then write n + 1 only if n is still what was read
            while True:
                n = store.get("counters", "c")["data"]["n"]
                if store.update("counters", "c", Change({"n": n + 1}, Guard("n", frozenset({n})))).applied:
                    break

    threads = [threading.Thread(target=bump) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert store.get("counters", "c")["data"]["n"] == 16 * 50


def test_delete_removes_the_record_and_its_index_entries(new_store):
    store = new_store()
    store.insert("orders", "o1", record(id="o1"), {"number": "1001", "email": "a@x"})
    store.insert("orders", "o2", record(id="o2"), {"number": "1002"})

    assert store.delete("orders", "o1")["data"]["id"] == "o1"
    assert store.get("orders", "o1") is None
    assert store.find("orders", "number", "1001") is None
    assert store.find("orders", "email", "a@x") is None
    assert store.find("orders", "number", "1002")["data"]["id"] == "o2"
    assert store.delete("orders", "o1") is None
    store.insert("orders", "o1", record(id="o1-again"), {})  # the key is reused without the old index
    assert store.find("orders", "number", "1001") is None


def test_sequences_start_where_told_and_count_up(new_store):
    store = new_store()
    assert [store.next_sequence("orders", 1000) for _ in range(3)] == [1000, 1001, 1002]
    assert store.next_sequence("invoices", 1) == 1


def test_snapshot_is_a_copy_and_reset_empties(new_store):
    store = new_store()
    store.insert("orders", "o1", record(id="o1"), {"number": "1"})
    snapshot = store.snapshot()
    snapshot["orders"][0]["data"]["id"] = "changed"
    assert store.get("orders", "o1")["data"]["id"] == "o1"
    store.reset()
    assert store.snapshot() == {}
    assert store.find("orders", "number", "1") is None


def test_put_if_absent_keeps_the_live_value(new_store):
    store = new_store()
    assert store.put_if_absent("idem", "k", "first", expires_at=100.0, now=0.0) is None
    assert store.put_if_absent("idem", "k", "second", expires_at=200.0, now=50.0) == "first"
    assert store.read("idem", "k", now=99.9) == "first"


def test_put_if_absent_replaces_an_expired_value(new_store):
    store = new_store()
    store.put_if_absent("idem", "k", "first", expires_at=100.0, now=0.0)
    assert store.read("idem", "k", now=100.0) is None  # expiry is exclusive
    assert store.put_if_absent("idem", "k", "second", expires_at=200.0, now=100.0) is None
    assert store.read("idem", "k", now=150.0) == "second"


def test_values_without_expiry_live_forever_and_can_be_removed(new_store):
    store = new_store()
    store.put_if_absent("tokens", "t", {"sub": "p"}, expires_at=None, now=0.0)
    assert store.put_if_absent("tokens", "t", "other", expires_at=None, now=1e12) == {"sub": "p"}
    store.remove("tokens", "t")
    assert store.read("tokens", "t", now=0.0) is None
    store.write("tokens", "t", "w", expires_at=5.0)
    assert store.read("tokens", "t", now=4.0) == "w"
    assert store.read("other-space", "t", now=4.0) is None


class YieldingKey(str):
    """A key whose hashing lets other threads run: between a store's read and its write."""

    def __hash__(self) -> int:
        time.sleep(0)
        return str.__hash__(self)


def test_put_if_absent_admits_exactly_one_writer(new_store, eager_switching):
    store = new_store()
    keys, writers = 200, 12
    barrier = threading.Barrier(writers)
    results: list[tuple[int, int, object]] = []

    def claim(writer: int) -> None:
        barrier.wait()
        for key in range(keys):  # every writer races for every key
            results.append((key, writer, store.put_if_absent("idem", YieldingKey(key), writer, None, now=0.0)))

    threads = [threading.Thread(target=claim, args=(n,)) for n in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for key in range(keys):
        claims = [(writer, seen) for k, writer, seen in results if k == key]
        winners = [writer for writer, seen in claims if seen is None]
        assert len(winners) == 1, f"key {key} stored by writers {winners}"
        assert all(seen == winners[0] for _, seen in claims if seen is not None)
        assert store.read("idem", str(key), now=0.0) == winners[0]


def sliding(key: str, limit: int, now: float, window: float = 10.0) -> Hit:
    return Hit(key, "sliding", limit, window, now)


def test_sliding_admission_counts_and_reports_reset(new_store):
    store = new_store()
    assert store.admit([sliding("k", 2, 1.0)]) == (True, [(True, 1, 11.0)])
    assert store.admit([sliding("k", 2, 3.0)]) == (True, [(True, 2, 11.0)])
    admitted, [outcome] = store.admit([sliding("k", 2, 5.0)])
    assert not admitted
    assert outcome == (False, 2, 11.0)
    # the oldest admission leaves at exactly 1 + 10
    assert store.admit([sliding("k", 2, 11.0)]) == (True, [(True, 2, 13.0)])


def test_admit_is_all_or_nothing_over_several_hits(new_store):
    store = new_store()
    store.admit([sliding("per-minute", 5, 0.0), sliding("quota", 1, 0.0)])

    admitted, outcomes = store.admit([sliding("per-minute", 5, 1.0), sliding("quota", 1, 1.0)])
    assert not admitted
    assert [o.admitted for o in outcomes] == [True, False]
    # the rejected request consumed nothing from the first budget: 4 more still fit
    for now in (2.0, 3.0, 4.0, 5.0):
        admitted, outcomes = store.admit([sliding("per-minute", 5, now)])
        assert admitted
    assert outcomes[0].used == 5
    assert not store.admit([sliding("per-minute", 5, 6.0)])[0]


def test_rejected_concurrency_slot_is_not_taken_when_another_budget_refuses(new_store):
    store = new_store()
    store.admit([sliding("rate", 1, 0.0)])
    admitted, _ = store.admit([Hit("slots", "concurrency", 1, 0.0, 0.5), sliding("rate", 1, 0.5)])
    assert not admitted
    assert store.admit([Hit("slots", "concurrency", 1, 0.0, 0.6)])[0]


def test_fixed_windows_reset_at_the_boundary(new_store):
    store = new_store()

    def fixed(now: float) -> list[Hit]:
        return [Hit("day", "fixed", 2, 10.0, now)]

    assert store.admit(fixed(10.0)) == (True, [(True, 1, 20.0)])
    assert store.admit(fixed(19.999))[0]
    assert store.admit(fixed(19.999)) == (False, [(False, 2, 20.0)])
    assert store.admit(fixed(20.0)) == (True, [(True, 1, 30.0)])
    assert store.admit(fixed(35.0)) == (True, [(True, 1, 40.0)])  # a skipped window does not carry over


def test_concurrency_acquire_and_release(new_store):
    store = new_store()

    def slot() -> list[Hit]:
        return [Hit("c", "concurrency", 2, 0.0, 0.0)]

    assert store.admit(slot()) == (True, [(True, 1, None)])
    assert store.admit(slot()) == (True, [(True, 2, None)])
    assert store.admit(slot()) == (False, [(False, 2, None)])
    store.release("c")
    assert store.admit(slot())[0]
    store.release("c")
    store.release("c")
    store.release("c")  # releasing more than taken never goes negative
    assert store.admit(slot())[0] and store.admit(slot())[0] and not store.admit(slot())[0]


def test_keys_are_independent(new_store):
    store = new_store()
    assert store.admit([sliding("a", 1, 0.0)])[0]
    assert store.admit([sliding("b", 1, 0.0)])[0]
    assert not store.admit([sliding("a", 1, 0.0)])[0]


# ordered reads ---------------------------------------------------------------------------------
def scoped(scope: str | None, **data) -> Record:
    return {"scope": scope, "group": None, "data": data}


def keys_of(store: MemoryStore, where: Slice, *, limit: int, descending: bool = False) -> list[str]:
    """Every key of a slice, read page by page with the last position as the cursor."""
    found, after = [], None
    while chunk := store.page("orders", where, after=after, limit=limit, descending=descending):
        found += [key for _, key in chunk]
        after = chunk[-1][0]
    return found


def test_slices_keep_creation_order_per_scope_and_field_value(new_store):
    store = new_store()
    store.index_field("orders", "status")
    for n, (scope, status) in enumerate([("a", "new"), ("b", "new"), ("a", "paid"), (None, "new"), ("a", "new")]):
        store.insert("orders", f"o{n}", scoped(scope, status=status), {})
    assert keys_of(store, Slice.everywhere(), limit=2) == ["o0", "o1", "o2", "o3", "o4"]
    assert keys_of(store, Slice("a"), limit=1, descending=True) == ["o4", "o2", "o0"]
    assert keys_of(store, Slice(None), limit=5) == ["o3"]
    assert keys_of(store, Slice("a").where("status", "new"), limit=5) == ["o0", "o4"]
    assert keys_of(store, Slice.everywhere("status", "new"), limit=3) == ["o0", "o1", "o3", "o4"]
    assert store.count("orders", Slice("a")) == 3 and store.count("orders", Slice("zzz")) == 0
    assert [k for _, k in store.page("orders", Slice.everywhere(), offset=3, limit=5)] == ["o3", "o4"]
    assert [k for _, k in store.page("orders", Slice.everywhere(), offset=1, limit=2, descending=True)] == ["o3", "o2"]


def test_an_update_moves_a_record_between_field_slices_and_keeps_its_position(new_store):
    store = new_store()
    store.index_field("orders", "status")
    for n in range(3):
        store.insert("orders", f"o{n}", scoped("a", status="new"), {})

    store.update("orders", "o1", Change({"status": "paid"}))
    assert keys_of(store, Slice("a").where("status", "new"), limit=5) == ["o0", "o2"]
    assert keys_of(store, Slice("a").where("status", "paid"), limit=5) == ["o1"]
    assert keys_of(store, Slice("a"), limit=5) == ["o0", "o1", "o2"]
    assert store.position("orders", "o1") == 1 and store.position("orders", "nope") is None


def test_a_field_indexed_after_records_exist_indexes_them_and_survives_a_reset(new_store):
    store = new_store()
    store.insert("orders", "o0", scoped("a", status="new"), {})
    store.index_field("orders", "status")
    assert keys_of(store, Slice.everywhere("status", "new"), limit=5) == ["o0"]
    store.reset()
    store.insert("orders", "o9", scoped("a", status="new"), {})
    assert keys_of(store, Slice.everywhere("status", "new"), limit=5) == ["o9"]


STEPS = st.lists(st.one_of(
    st.tuples(st.just("create"), st.sampled_from(["a", "b", None]), st.sampled_from(["new", "paid"])),
    st.tuples(st.just("delete"), st.integers(0, 60), st.none()),
    st.tuples(st.just("pay"), st.integers(0, 60), st.none()),
), max_size=60)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=STEPS, limit=st.integers(1, 7), descending=st.booleans())
def test_paging_any_slice_after_any_creates_and_deletes_yields_each_record_once_in_order(new_store, steps, limit, descending):
    store, model = new_store(), {}  # model: key -> (scope, status), in creation order
    store.index_field("orders", "status")
    created = 0
    for kind, argument, status in steps:
        if kind == "create":
            key = f"o{created}"
            created += 1
            store.insert("orders", key, scoped(argument, status=status), {})
            model[key] = (argument, status)
        elif model:
            key = list(model)[argument % len(model)]
            if kind == "delete":
                store.delete("orders", key)
                del model[key]
            else:
                store.update("orders", key, Change({"status": "paid"}))
                model[key] = (model[key][0], "paid")
    for where, wanted in [(Slice.everywhere(), lambda s, v: True), (Slice("a"), lambda s, v: s == "a"),
                          (Slice(None), lambda s, v: s is None),
                          (Slice("b").where("status", "paid"), lambda s, v: s == "b" and v == "paid"),
                          (Slice.everywhere("status", "new"), lambda s, v: v == "new")]:
        expected = [key for key, (scope, status) in model.items() if wanted(scope, status)]
        expected = expected[::-1] if descending else expected
        assert keys_of(store, where, limit=limit, descending=descending) == expected
        assert store.count("orders", where) == len(expected)
        offset = min(limit, len(expected))
        assert [k for _, k in store.page("orders", where, offset=offset, limit=limit,
                                         descending=descending)] == expected[offset:offset + limit]


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(size=st.integers(0, 30), limit=st.integers(1, 5), deletions=st.lists(st.integers(0, 29), max_size=15),
       additions=st.integers(0, 5))
def test_records_that_stay_are_paged_exactly_once_while_others_come_and_go(new_store, size, limit, deletions, additions):
    store = new_store()
    for n in range(size):
        store.insert("orders", f"o{n}", scoped("a"), {})
    seen, after, removed, step = [], None, set(), 0
    while chunk := store.page("orders", Slice("a"), after=after, limit=limit):
        seen += [key for _, key in chunk]
        after = chunk[-1][0]
        if step < len(deletions):  # between two pages: delete one record, create another
            victim = f"o{deletions[step]}"
            if store.delete("orders", victim) is not None:
                removed.add(victim)
            if step < additions:
                store.insert("orders", f"new{step}", scoped("a"), {})
            step += 1
    stayed = [f"o{n}" for n in range(size) if f"o{n}" not in removed]
    assert len(seen) == len(set(seen))  # nothing twice
    assert [k for k in seen if k in stayed] == stayed  # everything that stayed, in order
    assert [k for k in seen if k.startswith("new")] == [f"new{n}" for n in range(min(additions, step))]


def test_seeding_is_claimed_once_per_namespace_until_a_reset(new_store):
    store = new_store()
    assert store.claim_seeding() is True
    assert store.claim_seeding() is False  # a second process joining the same sandbox
    store.reset()
    assert store.claim_seeding() is True


def test_records_of_one_scope_share_their_slices_in_the_memory_store():
    """Each stored record lives as long as the sandbox: its slice memberships must not add a Slice
    object per record for the garbage collector to walk, only references to shared ones."""
    store = MemoryStore()
    store.index_field("orders", "status")
    for n in range(200):
        store.insert("orders", f"o{n}", {"scope": "acct_1", "data": {"status": "open" if n % 2 else "paid"}}, {})
    memberships = [store._order._memberships[("orders", f"o{n}")] for n in range(200)]
    assert len({id(where) for slices in memberships for where in slices}) == 6  # 2 + 2 per status value
    assert store.count("orders", Slice("acct_1").where("status", "open")) == 100
