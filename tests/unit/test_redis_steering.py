"""mocks/state/redis_steering.py and redis_clock.py beyond what both stores hold (test_store_operations.py):
the fault draw computed alike in Python and Lua, exact counts across processes, one clock for every
process, deliveries taken over when a killed worker's lease expires, namespaces apart.
Against a real Redis (tests/rediskit.py), never a fake."""

from __future__ import annotations

import random
import subprocess
import sys
import textwrap
import time

import pytest
from rediskit import namespace

from mocks.clock import Clock, ClockMove, ClockState
from mocks.state.changes import LimitSetting, draw
from mocks.state.queue import Delivery
from mocks.state.redis import RedisStore
from mocks.state.redis_clock import RedisClockState
from mocks.state.redis_steering_scripts import DRAW
from mocks.types import Event


@pytest.fixture
def stores(redis_url):
    """Factory: `stores(ns)` -> a RedisStore of namespace `ns` with its own client (as another process has)."""
    made: list[RedisStore] = []

    def make(ns: str, api: str = "istockist") -> RedisStore:
        made.append(RedisStore(redis_url, ns, api))
        return made[-1]

    yield make
    for store in made:
        store.reset()


def test_a_glance_sees_what_another_process_changed_and_reads_a_shared_clock_with_the_rest(stores):
    ns = namespace()
    mine, theirs = stores(ns), stores(ns)
    clock = RedisClockState(mine.client, ns)  # on the store's own client: read in the glance's one round trip
    mine.declare_limits({"rpm": LimitSetting(5, 60.0)})
    assert mine.glance(clock).limits.get("rpm").limit == 5 and not mine.glance(clock).faults

    theirs.set_limits({"rpm": LimitSetting(9, 60.0)})
    fault = theirs.add_fault({"times": 1})
    RedisClockState(theirs.client, ns).move_clock(ClockMove("freeze", 1_900_000_000.0), time.time())
    seen = mine.glance(clock)
    assert seen.limits.get("rpm").limit == 9 and [f.id for f in seen.faults] == [fault]
    assert seen.clock.frozen_at == 1_900_000_000.0

    theirs.clear_faults()
    theirs.reset()
    assert not mine.glance(clock).faults


def test_python_and_lua_draw_alike(stores):
    store = stores(namespace())
    script = store.client.register_script(DRAW + "local out = {}\n"
                                          "for i = 1, #ARGV do out[i] = hash32(ARGV[i]) end\nreturn out")
    rng = random.Random(12)
    seeds = [None, 0, 42, -7, 2**40, "seed", "ünï", 0.25] + [rng.randrange(2**32) for _ in range(200)]
    inputs = [(seed, rng.randrange(1, 10**6)) for seed in seeds for _ in range(50)]
    texts = [f"{seed}:{seen}" for seed, seen in inputs]
    hashes = []
    for start in range(0, len(texts), 1000):
        hashes += script(keys=[], args=texts[start:start + 1000])
    assert len(hashes) == len(inputs) >= 10_000
    assert [h / 2**32 for h in hashes] == [draw(seed, seen) for seed, seen in inputs]


def test_a_probability_fault_strikes_on_the_same_draws_as_in_memory(stores):
    store = stores(namespace())
    fault = store.add_fault({"probability": 0.3, "draw_seed": "s-1"})
    pattern = [store.strike([fault]) is not None for _ in range(300)]
    assert pattern == [draw("s-1", n) < 0.3 for n in range(1, 301)]


STRIKER = textwrap.dedent("""
    import sys, time
    from mocks.state.redis import RedisStore
    store = RedisStore(sys.argv[1], sys.argv[2], "istockist")
    fault, start = int(sys.argv[3]), float(sys.argv[4])
    time.sleep(max(0.0, start - time.time()))
    print(sum(store.strike([fault]) is not None for _ in range(20)))
""")


def test_times_3_strikes_exactly_3_times_across_two_racing_processes(stores, redis_url):
    ns = namespace()
    fault = stores(ns).add_fault({"times": 3})
    start = time.time() + 1.5
    racers = [subprocess.Popen([sys.executable, "-c", STRIKER, redis_url, ns, str(fault), str(start)],
                               stdout=subprocess.PIPE, text=True) for _ in range(2)]
    struck = [int(racer.communicate(timeout=60)[0]) for racer in racers]
    assert sum(struck) == 3
    (state,) = stores(ns).faults()
    assert (state.seen, state.fired) == (3, 3)


def test_a_clock_moved_through_one_process_is_read_by_another(redis_url):
    ns = namespace()
    one, other = RedisClockState(redis_url, ns), RedisClockState(redis_url, ns)
    try:
        a = Clock(source=lambda: 1000.0, state=one)
        b = Clock(source=lambda: 1000.0, state=other)
        a.freeze(at=1_800_000_000.0)
        assert b.frozen and b.now() == 1_800_000_000.0
        b.advance(30)
        assert a.now() == 1_800_000_030.0
        assert other.move_clock(ClockMove("unfreeze"), real_now=2000.0) == ClockState(1_800_000_030.0 - 2000.0)
        assert RedisClockState(redis_url, namespace()).clock_state() == ClockState()  # another sandbox
    finally:
        one.reset()


WORKER = textwrap.dedent("""
    import sys, time
    from mocks.state.redis import RedisStore
    store = RedisStore(sys.argv[1], sys.argv[2], "istockist")
    print([d.id for d in store.lease_due(10.0, "killed", 0.5, 10)], flush=True)
    time.sleep(60)
""")


def test_a_delivery_leased_by_a_killed_worker_is_taken_over_when_its_lease_expires(stores, redis_url):
    ns = namespace()
    survivor = stores(ns)
    survivor.enqueue_delivery(Delivery("d1", "http://r.test/", b"\x00{}", {"a": "b"}, 1.0, 5.0), capacity=10)
    worker = subprocess.Popen([sys.executable, "-c", WORKER, redis_url, ns], stdout=subprocess.PIPE, text=True)
    try:
        assert worker.stdout.readline().strip() == "['d1']"
    finally:
        worker.kill()
        worker.wait()
    assert survivor.lease_due(10.0, "survivor", 30.0, 10) == []  # the dead worker's lease still runs
    assert survivor.next_due() is None and 0 < survivor.next_lease_end() <= 0.5  # look when it ends, not before
    time.sleep(0.6)
    assert (survivor.next_due(), survivor.next_lease_end()) == (5.0, None)  # free to take over
    (taken,) = survivor.lease_due(10.0, "survivor", 30.0, 10)
    assert (taken.id, taken.body, taken.headers, taken.next_at) == ("d1", b"\x00{}", {"a": "b"}, 5.0)
    assert not survivor.finish_attempt("d1", "killed", {"number": 1}, "delivered")  # its lease was lost
    assert survivor.finish_attempt("d1", "survivor", {"number": 1}, "delivered")
    assert survivor.delivery_counts()["delivered"] == 1
    assert [(d.state, d.attempts) for d in survivor.deliveries()] == [("delivered", [{"number": 1}])]


def test_two_namespaces_stay_apart_through_every_operation_and_reset(stores):
    a, b = stores(namespace()), stores(namespace())
    for store in (a, b):
        store.set_limits({"rpm": LimitSetting(5, 60.0)}, baseline=True)
        store.add_fault({"times": 1})
        store.publish(Event("order.created", "order", {"n": 1}, None, None, 0.0), keep=10)
        store.enqueue_delivery(Delivery("d", "http://r.test/", b"", {}, 0.0, 0.0), capacity=10)
    a.set_limits({"rpm": LimitSetting(1, 1.0)})
    a.reset()
    assert a.limit_settings().get("rpm") == LimitSetting(5, 60.0)
    assert (len(a.faults()), a.events(), a.deliveries()) == (0, [], [])
    assert (len(b.faults()), [e.data for e in b.events()], len(b.deliveries())) == (1, [{"n": 1}], 1)
    assert b.strike([b.faults().items[0].id]) is not None


def test_deliveries_beyond_capacity_evict_the_oldest_completed_first(stores):
    store = stores(namespace())
    for name in ("a", "b", "c"):
        store.enqueue_delivery(Delivery(name, "http://r.test/", b"", {}, 0.0, 1.0), capacity=2)
    assert [d.id for d in store.deliveries()] == ["b", "c"]  # none completed: the oldest pending left
    for d in store.lease_due(1.0, "w", 30.0, 10):
        store.finish_attempt(d.id, "w", {}, "failed" if d.id == "c" else "retry", next_at=2.0)
    store.enqueue_delivery(Delivery("d", "http://r.test/", b"", {}, 0.0, 1.0), capacity=2)
    assert [d.id for d in store.deliveries()] == ["b", "d"]
    counts = store.delivery_counts()
    assert (counts["queued"], counts["failed"], counts["evicted"], counts["evicted_pending"]) == (4, 1, 2, 1)
