"""The store's declared operations: no callables cross the boundary, and each transition is exact."""

from __future__ import annotations

import inspect
import threading
import typing
from collections.abc import Callable, Iterator

import pytest
from rediskit import namespace

from mocks.clock import Clock, ClockMove, ClockRangeError, ClockState, LocalClockState
from mocks.deliveries import Delivery
from mocks.state import Slice
from mocks.state.changes import Change, Guard, LimitSetting, draw
from mocks.state.memory import MemoryStore
from mocks.state.protocol import Hit, SandboxState, Store
from mocks.types import Event


@pytest.fixture(params=["memory", "redis"])
def store(request) -> Iterator:
    """An empty store of each kind (a Redis one in its own namespace, on a real Redis: tests/rediskit.py)."""
    if request.param == "memory":
        yield MemoryStore()
        return
    from mocks.state.redis import RedisStore

    made = RedisStore(request.getfixturevalue("redis_url"), namespace(), "test")
    yield made
    made.reset()


def record(scope: str | None = "t1", **data) -> dict:
    return {"scope": scope, "group": None, "data": data}


@pytest.mark.parametrize("protocol", [Store, SandboxState])
def test_no_store_operation_takes_a_callable(protocol):
    for name, method in inspect.getmembers(protocol, inspect.isfunction):
        hints = typing.get_type_hints(method)
        for parameter, hint in hints.items():
            text = repr(hint)
            assert "Callable" not in text and hint is not Callable, f"{protocol.__name__}.{name}({parameter})"


def test_every_protocol_operation_is_implemented_by_the_memory_store():
    missing = [name for name, _ in inspect.getmembers(Store, inspect.isfunction)
               if not name.startswith("_") and not hasattr(MemoryStore, name)]
    assert missing == []


# records ----------------------------------------------------------------------------------------
def test_update_merges_and_returns_before_and_after(store):
    store.insert("orders", "o1", record(id="o1", status="open", note="x"), {})
    updated = store.update("orders", "o1", Change({"status": "paid"}))
    assert updated.applied
    assert updated.before["data"] == {"id": "o1", "status": "open", "note": "x"}
    assert updated.record["data"] == {"id": "o1", "status": "paid", "note": "x"}


def test_a_guard_refuses_a_stale_transition_and_says_what_is_stored(store):
    store.insert("orders", "o1", record(id="o1", status="open"), {})
    ship_from_paid = Change({"status": "shipped"}, Guard("status", frozenset({"paid"})))

    refused = store.update("orders", "o1", ship_from_paid)
    assert not refused.applied and refused.record["data"]["status"] == "open"
    assert store.get("orders", "o1")["data"]["status"] == "open"

    store.update("orders", "o1", Change({"status": "paid"}, Guard("status", frozenset({"open"}))))
    assert store.update("orders", "o1", ship_from_paid).applied
    assert not store.update("orders", "o1", ship_from_paid).applied  # the same change again is now stale


def test_put_first_inserts_once_per_slice(store):
    first = store.put_first("limits", Slice("t1"), "l1", record(id="l1"), {})
    again = store.put_first("limits", Slice("t1"), "l2", record(id="l2"), {})
    other = store.put_first("limits", Slice("t2"), "l3", record("t2", id="l3"), {})
    assert first["data"]["id"] == again["data"]["id"] == "l1"
    assert other["data"]["id"] == "l3"
    assert store.get("limits", "l2") is None


# keyed values -----------------------------------------------------------------------------------
def test_complete_is_a_compare_and_set_on_the_stored_fields(store):
    store.put_if_absent("idem", "k", {"state": "running", "fingerprint": "a"}, 100.0, 0.0)
    done = {"state": "done", "fingerprint": "a", "response": 1}
    assert not store.complete("idem", "k", {"state": "running", "fingerprint": "b"}, done, 100.0)
    assert store.complete("idem", "k", {"state": "running", "fingerprint": "a"}, done, 100.0)
    assert store.read("idem", "k", 1.0) == done
    assert not store.complete("idem", "k", {"state": "running", "fingerprint": "a"}, {"state": "x"}, 100.0)
    assert not store.complete("idem", "missing", {"state": "running"}, done, 100.0)


# limit settings ---------------------------------------------------------------------------------
def test_limit_settings_are_versioned_and_restore_to_their_baseline(store):
    declared = store.declare_limits({"rpm": LimitSetting(5, 60.0)})
    assert declared.get("rpm") == LimitSetting(5, 60.0, True)
    assert store.declare_limits({"rpm": LimitSetting(9, 1.0)}).get("rpm").limit == 5  # known: kept

    changed = store.set_limits({"rpm": LimitSetting(1, 60.0, False)})
    assert changed.version > declared.version and changed.get("rpm").enabled is False
    assert store.restore_limits().get("rpm") == LimitSetting(5, 60.0, True)

    store.set_limits({"rpm": LimitSetting(2, 10.0)}, baseline=True)
    store.set_limits({"rpm": LimitSetting(3, 10.0)})
    store.reset()
    assert store.limit_settings().get("rpm") == LimitSetting(2, 10.0, True)


# what a request reads first ------------------------------------------------------------------------
def test_a_glance_reads_the_clock_limits_and_faults_and_follows_every_change(store):
    clock = LocalClockState()
    clock.move_clock(ClockMove("freeze", 1000.0), 0.0)
    store.declare_limits({"rpm": LimitSetting(5, 60.0)})
    first = store.glance(clock)
    assert first.clock == ClockState(0.0, 1000.0)
    assert first.limits.get("rpm") == LimitSetting(5, 60.0) and not first.faults

    fault = store.add_fault({"times": 1})
    store.set_limits({"rpm": LimitSetting(7, 60.0)})
    clock.move_clock(ClockMove("advance", 5.0), 0.0)
    second = store.glance(clock)
    assert second.clock.frozen_at == 1005.0 and second.limits.get("rpm").limit == 7
    assert [f.id for f in second.faults] == [fault]
    assert store.glance(clock) == second  # nothing moved: the same reading

    store.clear_faults()
    store.restore_limits()
    third = store.glance(clock)
    assert not third.faults and third.limits.get("rpm").limit == 5


# faults -----------------------------------------------------------------------------------------
def strikes(store: MemoryStore, fault_id: int, requests: int) -> list[bool]:
    return [store.strike([fault_id]) is not None for _ in range(requests)]


def test_strike_honours_times_exactly(store):
    fault = store.add_fault({"times": 3, "after": 0, "probability": 1.0})
    assert strikes(store, fault, 6) == [True] * 3 + [False] * 3
    (state,) = store.faults()
    assert (state.seen, state.fired) == (3, 3)  # an exhausted fault no longer counts what it sees


def test_strike_honours_after_exactly_and_counts_each_request_once(store):
    fault = store.add_fault({"times": 2, "after": 3})
    assert strikes(store, fault, 7) == [False, False, False, True, True, False, False]
    (state,) = store.faults()
    assert (state.seen, state.fired) == (5, 2)


def test_strike_fires_the_first_candidate_that_fires(store):
    late = store.add_fault({"after": 1})
    always = store.add_fault({})
    assert store.strike([late, always]).id == always
    assert store.strike([late, always]).id == late
    assert store.strike([]) is None and store.strike([999]) is None


def test_the_probability_draw_depends_only_on_seed_and_count(store):
    fault = store.add_fault({"probability": 0.5, "draw_seed": 42})
    pattern = strikes(store, fault, 200)
    assert pattern == [draw(42, n) < 0.5 for n in range(1, 201)]
    assert 60 < sum(pattern) < 140
    assert [draw(7, n) < 0.5 for n in range(1, 11)] != [draw(42, n) < 0.5 for n in range(1, 11)]


def test_fault_list_version_changes_on_add_and_clear_not_on_strike(store):
    assert not store.faults()
    one = store.add_fault({})
    version = store.faults().version
    store.strike([one])
    assert store.faults().version == version and store.faults().items[0].fired == 1
    assert store.set_fault_counts(one, 5, 4) and store.faults().items[0].fired == 4
    assert store.clear_faults(one) == 1 and store.clear_faults(one) == 0
    assert store.faults().version > version and not store.faults()


# history ----------------------------------------------------------------------------------------
class Entry:
    def __init__(self, operation: str, status: int) -> None:
        self.operation, self.status, self.principal, self.seq = operation, status, None, 0

    def describe(self) -> dict:
        return {"seq": self.seq, "operation": self.operation, "status": self.status, "principal": self.principal}


KEYED_BY_CLIENTS = 2100  # enough keys for either store to forget its older ones (memory: 1,024 and doubling)


def test_rate_windows_that_have_passed_are_forgotten_and_live_ones_still_count(store):
    """Rate-limit keys come from client input (a path or header value): a key whose window has passed
    is forgotten once enough others arrive, and forgetting never changes an admission."""
    store.admit([Hit("held", "sliding", 1, 10.0, 15.0)])  # its window runs to 25
    store.admit([Hit("held-fixed", "fixed", 1, 10.0, 15.0)])  # window [10, 20)
    for n in range(KEYED_BY_CLIENTS):
        store.admit([Hit(f"old-{n}", "sliding" if n % 2 else "fixed", 5, 10.0, 0.0)])
    for n in range(KEYED_BY_CLIENTS):
        store.admit([Hit(f"new-{n}", "sliding" if n % 2 else "fixed", 5, 10.0, 20.0)])
    usage = store.rate_usage()
    kept = {*usage["sliding"], *usage["fixed"]}
    assert not {k for k in kept if k.startswith("old-")}
    assert len({k for k in kept if k.startswith("new-")}) == KEYED_BY_CLIENTS
    assert "held" in kept  # still inside its window: counted, and it still refuses a second request
    admitted, (outcome,) = store.admit([Hit("held", "sliding", 1, 10.0, 20.0)])
    assert not admitted and outcome.used == 1
    admitted, _ = store.admit([Hit("held-fixed", "fixed", 1, 10.0, 20.0)])
    assert admitted  # a new fixed window began at 20: the old one was rightly gone


def test_a_released_concurrency_key_is_not_kept(store):
    admitted, _ = store.admit([Hit("slot", "concurrency", 2, 0.0, 0.0)])
    assert admitted and store.rate_usage()["in_flight"] == {"slot": 1}
    store.release("slot")
    assert store.rate_usage()["in_flight"] == {}


def test_expired_idempotency_keys_are_forgotten_once_enough_others_arrive(store):
    for n in range(KEYED_BY_CLIENTS):
        assert store.put_if_absent("idempotency", f"old-{n}", {"n": n}, expires_at=10.0, now=0.0) is None
    store.put_if_absent("idempotency", "forever", {"kept": True}, expires_at=None, now=0.0)
    store.put_if_absent("idempotency", "extended", {"n": -1}, expires_at=10.0, now=0.0)
    assert store.complete("idempotency", "extended", {"n": -1}, {"n": -2}, 1000.0)  # now lives to 1000
    for n in range(KEYED_BY_CLIENTS):
        store.put_if_absent("idempotency", f"new-{n}", {"n": n}, expires_at=100.0, now=20.0)
    kept = {key for key, _, _ in store.values("idempotency")}
    assert not {k for k in kept if k.startswith("old-")}
    assert {"forever", "extended"} <= kept and len(kept) == KEYED_BY_CLIENTS + 2
    assert store.read("idempotency", "extended", 20.0) == {"n": -2}


def test_expired_issued_tokens_are_forgotten_once_enough_others_are_issued(store):
    for n in range(KEYED_BY_CLIENTS):
        store.write("issued", f"old-{n}", "p1", expires_at=10.0, now=0.0)
    store.write("issued", "restored", "p1", expires_at=10.0)  # no clock reading (a snapshot's restore)
    for n in range(KEYED_BY_CLIENTS):
        store.write("issued", f"new-{n}", "p1", expires_at=100.0, now=20.0)
    kept = {key for key, _, _ in store.values("issued")}
    assert not {k for k in kept if k.startswith("old-") or k == "restored"}  # a restored one expires alike
    assert len({k for k in kept if k.startswith("new-")}) == KEYED_BY_CLIENTS
    assert store.read("issued", "new-0", 20.0) == "p1"


def test_the_journal_is_bounded_numbered_and_filtered(store):
    for n in range(5):
        store.journal_append(Entry("op" if n % 2 else "other", 200 + n), keep=3)
    kept = store.journal_read()
    assert [e.seq for e in kept] == [3, 4, 5]
    assert [e.seq for e in store.journal_read(operation="op")] == [4]
    assert [e.seq for e in store.journal_read(since=3, limit=1)] == [5]
    store.journal_clear()
    assert store.journal_read() == []
    assert store.journal_append(Entry("op", 200), keep=3) == 6  # numbers keep counting after a clear


def test_one_journal_entry_can_be_forgotten_by_its_number(store):
    for n in range(3):
        store.journal_append(Entry("op", 200 + n), keep=10)
    store.journal_forget(2)
    assert [e.seq for e in store.journal_read()] == [1, 3]
    store.journal_forget(99)  # an entry already gone: nothing happens
    assert [e.seq for e in store.journal_read()] == [1, 3]


def test_events_keep_a_bounded_history_until_reset(store):
    for n in range(4):
        store.publish(Event("order.created", "order", {"n": n}, "site-1", None, float(n), id=f"e{n}"), keep=2)
    assert [(e.id, e.data) for e in store.events()] == [("e2", {"n": 2}), ("e3", {"n": 3})]
    store.reset()
    assert store.events() == []


def event(n: int) -> Event:
    return Event("session.created", "session", {"n": n}, "t1", None, float(n), id=f"e{n}")


def test_a_follower_waits_for_events_published_after_its_cursor_and_across_a_reset(store):
    store.publish(event(0), keep=10)
    cursor = store.events_cursor()  # e0 is history: a follower hears only what comes later
    publisher = threading.Timer(0.2, lambda: [store.publish(event(n), keep=10) for n in (1, 2)])
    publisher.start()
    try:
        found: list[Event] = []
        while len(found) < 2:
            cursor, more = store.events_after(cursor, 5.0)  # blocks this thread until they come
            assert more, "the follow returned with nothing before the events were published"
            found += more
    finally:
        publisher.join()
    assert [e.id for e in found] == ["e1", "e2"] and found[0].data == {"n": 1}
    assert store.events_after(cursor, 0.05) == (cursor, [])  # nothing new: back with nothing once it waited
    store.reset()
    store.publish(event(3), keep=10)
    assert [e.id for e in store.events_after(cursor, 1.0)[1]] == ["e3"]  # a cursor from before a reset still follows


# the sandbox's clock ----------------------------------------------------------------------------
def test_clock_moves_are_named_and_atomic():
    state = LocalClockState()
    assert state.move_clock(ClockMove("set", 100.0), real_now=40.0) == ClockState(60.0, None)
    assert state.move_clock(ClockMove("advance", 5.0), real_now=40.0) == ClockState(65.0, None)
    assert state.move_clock(ClockMove("freeze"), real_now=41.0) == ClockState(65.0, 106.0)
    assert state.move_clock(ClockMove("unfreeze"), real_now=50.0) == ClockState(56.0, None)
    with pytest.raises(ClockRangeError):
        state.move_clock(ClockMove("advance", -1.0), real_now=50.0)
    assert state.move_clock(ClockMove("reset"), real_now=50.0) == ClockState()


def test_clocks_over_one_state_agree():
    shared = LocalClockState()
    a, b = Clock(source=lambda: 10.0, state=shared), Clock(source=lambda: 10.0, state=shared)
    a.freeze(at=500.0)
    assert b.now() == 500.0 and b.frozen
    b.advance(5)
    assert a.now() == 505.0


# deliveries: a queue with leases ------------------------------------------------------------------
def queued(store: MemoryStore, name: str, due: float) -> Delivery:
    delivery = Delivery(name, f"http://{name}.test/", b"{}", {}, 0.0, due)
    store.enqueue_delivery(delivery, capacity=10)
    return delivery


def test_each_due_attempt_is_leased_to_one_worker(store):
    queued(store, "a", 1.0), queued(store, "b", 5.0)
    assert store.next_due() == 1.0
    assert [d.id for d in store.lease_due(2.0, "w1", 30.0, 10)] == ["a"]
    assert store.next_due() == 5.0  # "a" is held: the next attempt free to lease is "b"'s
    lease_end = store.next_lease_end()  # a shared store's lease ends in real time; one process holds it
    assert lease_end is None if isinstance(store, MemoryStore) else 29.0 < lease_end <= 30.0
    assert store.lease_due(2.0, "w2", 30.0, 10) == []  # "a" is w1's; "b" is not due
    assert not store.finish_attempt("a", "w2", {"number": 1}, "delivered")  # not w2's lease
    assert store.finish_attempt("a", "w1", {"number": 1}, "retry", next_at=9.0)
    assert [d.id for d in store.lease_due(9.0, "w2", 30.0, 10)] == ["b", "a"]
    assert store.finish_attempt("a", "w2", {"number": 2}, "delivered")
    assert store.delivery_counts()["delivered"] == 1
    assert [(d.id, len(d.attempts)) for d in store.deliveries()] == [("a", 2), ("b", 0)]


def test_a_released_lease_makes_the_attempt_due_again_and_a_reset_empties_the_queue(store):
    queued(store, "a", 1.0)
    assert [d.id for d in store.lease_due(1.0, "w1", 30.0, 10)] == ["a"]
    store.release_lease("a", "w1")
    assert [d.id for d in store.lease_due(1.0, "w2", 30.0, 10)] == ["a"]
    store.reset()
    assert store.deliveries() == [] and store.next_due() is None
    assert not store.finish_attempt("a", "w2", {"number": 1}, "delivered")  # cleared meanwhile: nothing to record
