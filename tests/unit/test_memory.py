"""mocks/state/memory.py: records, keyed values with expiry, and all-or-nothing admission."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator

import pytest

from mocks.state.memory import MemoryStore
from mocks.state.protocol import Hit, Record


@pytest.fixture
def eager_switching() -> Iterator[None]:
    """Switch threads every microsecond so an unlocked read-modify-write really interleaves."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(before)


def record(**data) -> Record:
    return {"scope": "t1", "group": None, "data": data}


def test_insert_get_find_scan():
    store = MemoryStore()
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


def test_update_applies_the_change_and_returns_the_new_record():
    store = MemoryStore()
    store.insert("orders", "o1", record(id="o1", status="open"), {})

    def close(current: Record) -> Record:
        current["data"]["status"] = "closed"
        return current

    updated = store.update("orders", "o1", close)
    assert updated["data"]["status"] == "closed"
    assert store.get("orders", "o1")["data"]["status"] == "closed"
    assert store.update("orders", "missing", close) is None


def test_update_that_raises_leaves_the_record_untouched():
    store = MemoryStore()
    store.insert("orders", "o1", record(id="o1", status="open", lines=[1]), {})

    def half_done(current: Record) -> Record:
        current["data"]["status"] = "closed"
        current["data"]["lines"].append(2)
        raise ValueError("invalid transition")

    with pytest.raises(ValueError):
        store.update("orders", "o1", half_done)
    assert store.get("orders", "o1")["data"] == {"id": "o1", "status": "open", "lines": [1]}


def test_concurrent_updates_lose_nothing(eager_switching):
    store = MemoryStore()
    store.insert("counters", "c", record(n=0), {})
    barrier = threading.Barrier(16)

    def bump() -> None:
        barrier.wait()
        for _ in range(50):
            store.update("counters", "c", lambda r: {**r, "data": {"n": r["data"]["n"] + 1}})

    threads = [threading.Thread(target=bump) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert store.get("counters", "c")["data"]["n"] == 16 * 50


def test_delete_removes_the_record_and_its_index_entries():
    store = MemoryStore()
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


def test_sequences_start_where_told_and_count_up():
    store = MemoryStore()
    assert [store.next_sequence("orders", 1000) for _ in range(3)] == [1000, 1001, 1002]
    assert store.next_sequence("invoices", 1) == 1


def test_snapshot_is_a_copy_and_reset_empties():
    store = MemoryStore()
    store.insert("orders", "o1", record(id="o1"), {"number": "1"})
    snapshot = store.snapshot()
    snapshot["orders"][0]["data"]["id"] = "changed"
    assert store.get("orders", "o1")["data"]["id"] == "o1"
    store.reset()
    assert store.snapshot() == {}
    assert store.find("orders", "number", "1") is None


def test_put_if_absent_keeps_the_live_value():
    store = MemoryStore()
    assert store.put_if_absent("idem", "k", "first", expires_at=100.0, now=0.0) is None
    assert store.put_if_absent("idem", "k", "second", expires_at=200.0, now=50.0) == "first"
    assert store.read("idem", "k", now=99.9) == "first"


def test_put_if_absent_replaces_an_expired_value():
    store = MemoryStore()
    store.put_if_absent("idem", "k", "first", expires_at=100.0, now=0.0)
    assert store.read("idem", "k", now=100.0) is None  # expiry is exclusive
    assert store.put_if_absent("idem", "k", "second", expires_at=200.0, now=100.0) is None
    assert store.read("idem", "k", now=150.0) == "second"


def test_values_without_expiry_live_forever_and_can_be_removed():
    store = MemoryStore()
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


def test_put_if_absent_admits_exactly_one_writer(eager_switching):
    store = MemoryStore()
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


def test_sliding_admission_counts_and_reports_reset():
    store = MemoryStore()
    assert store.admit([sliding("k", 2, 1.0)]) == (True, [(True, 1, 11.0)])
    assert store.admit([sliding("k", 2, 3.0)]) == (True, [(True, 2, 11.0)])
    admitted, [outcome] = store.admit([sliding("k", 2, 5.0)])
    assert not admitted
    assert outcome == (False, 2, 11.0)
    # the oldest admission leaves at exactly 1 + 10
    assert store.admit([sliding("k", 2, 11.0)]) == (True, [(True, 2, 13.0)])


def test_admit_is_all_or_nothing_over_several_hits():
    store = MemoryStore()
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


def test_rejected_concurrency_slot_is_not_taken_when_another_budget_refuses():
    store = MemoryStore()
    store.admit([sliding("rate", 1, 0.0)])
    admitted, _ = store.admit([Hit("slots", "concurrency", 1, 0.0, 0.5), sliding("rate", 1, 0.5)])
    assert not admitted
    assert store.admit([Hit("slots", "concurrency", 1, 0.0, 0.6)])[0]


def test_fixed_windows_reset_at_the_boundary():
    store = MemoryStore()

    def fixed(now: float) -> list[Hit]:
        return [Hit("day", "fixed", 2, 10.0, now)]

    assert store.admit(fixed(10.0)) == (True, [(True, 1, 20.0)])
    assert store.admit(fixed(19.999))[0]
    assert store.admit(fixed(19.999)) == (False, [(False, 2, 20.0)])
    assert store.admit(fixed(20.0)) == (True, [(True, 1, 30.0)])
    assert store.admit(fixed(35.0)) == (True, [(True, 1, 40.0)])  # a skipped window does not carry over


def test_concurrency_acquire_and_release():
    store = MemoryStore()

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


def test_keys_are_independent():
    store = MemoryStore()
    assert store.admit([sliding("a", 1, 0.0)])[0]
    assert store.admit([sliding("b", 1, 0.0)])[0]
    assert not store.admit([sliding("a", 1, 0.0)])[0]
