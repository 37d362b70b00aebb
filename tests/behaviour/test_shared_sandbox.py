"""`mocks serve --store redis://…`: several processes on one Redis and namespace are one sandbox (issue 12).

Real processes over real sockets on a real Redis (`redis_url`: see tests/rediskit.py), never a fake.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
import redis
from leasekit import hold_a_slot, refused_then_admitted
from rediskit import free_port, namespace
from servekit import start_serve


@pytest.mark.parametrize(("store", "says"), [
    ("http://127.0.0.1:6379", "unknown store"),
    ("redis://127.0.0.1:6379/zero", "the database is a number"),
    ("redis://127.0.0.1:{free}/0", "does not answer"),
])
def test_a_bad_store_url_or_an_unreachable_redis_exits_2_at_start_up(store: str, says: str) -> None:
    served = start_serve("istockist", "--port", "istockist=0", "--store", store.format(free=free_port()),
                         expect_table=False)
    assert served.process.wait(timeout=30) == 2
    deadline = time.monotonic() + 5
    while not served.stderr and time.monotonic() < deadline:  # the reader thread collects it
        time.sleep(0.05)
    assert any(says in line for line in served.stderr), served.stderr


# ------------------------------------------------------------------ two processes, one sandbox
AUTH = ("ik_test_kauri_main", "is_test_kauri_main_secret")


def _pair(serve, redis_url: str, namespace: str) -> tuple[httpx.Client, httpx.Client]:
    """Two `mocks serve istockist` processes on one Redis and namespace, and a client of each."""
    clients = []
    for _ in range(2):
        served = serve("istockist", "--port", "istockist=0", "--store", redis_url, "--namespace", namespace)
        clients.append(httpx.Client(base_url=served.urls[("istockist", "api")], auth=AUTH, timeout=10))
    return clients[0], clients[1]


@pytest.fixture
def pair(serve, redis_url) -> Iterator[tuple[httpx.Client, httpx.Client]]:
    one, two = _pair(serve, redis_url, namespace())
    yield one, two
    one.close()
    two.close()


def test_a_customer_created_through_one_is_read_through_the_other(pair) -> None:
    one, two = pair
    created = one.post("/v1/customers", json={"name": "Shared Deli"})
    assert created.status_code == 200, created.text
    read = two.get(f"/v1/customers/{created.json()['id']}")
    assert read.status_code == 200 and read.json()["name"] == "Shared Deli"
    assert created.json()["id"] in [c["id"] for c in two.get("/v1/customers", params={"limit": 100}).json()["data"]]


def test_the_journal_and_the_event_history_are_shared_and_kept_as_json(pair, redis_url) -> None:
    one, two = pair
    created = one.post("/v1/customers", json={"name": "Journal Deli"})
    assert created.status_code == 200, created.text
    entries = two.get("/__mock/journal", params={"operation": "createCustomer"}).json()["entries"]
    assert [(e["status"], e["request_body_bytes"]) for e in entries] == [(200, len(created.request.content))]
    assert '"Journal Deli"' in entries[0]["request_body"]
    raw = redis.Redis.from_url(redis_url)
    stored = [v for key in raw.scan_iter(match="*journal*") if raw.type(key) == b"stream"
              for _, fields in raw.xrange(key) for v in fields.values()]
    assert stored and all(not v.startswith(b"\x80") for v in stored)  # no pickle protocol header: JSON only


def test_a_fault_with_times_3_strikes_exactly_3_times_across_both(pair) -> None:
    one, two = pair
    added = one.post("/__mock/faults", json={"operation": "listProducts", "respond": 503, "times": 3})
    assert added.status_code == 201, added.text
    statuses = [(one if i % 2 else two).get("/v1/products").status_code for i in range(12)]
    assert statuses.count(503) == 3 and statuses.count(200) == 9, statuses


def test_a_clock_frozen_and_set_through_one_is_read_by_the_other(pair) -> None:
    one, two = pair
    assert one.post("/__mock/clock", json={"freeze": True}).status_code == 200
    assert one.post("/__mock/clock", json={"set": 1_900_000_000}).status_code == 200
    seen = two.get("/__mock/clock").json()
    assert seen["frozen"] is True and seen["now"] == 1_900_000_000
    created = two.post("/v1/customers", json={"name": "Frozen Deli"}).json()
    assert created["created"] == 1_900_000_000
    one.post("/__mock/clock", json={"advance": 60})
    assert two.get("/__mock/clock").json()["now"] == 1_900_000_060


def test_a_limit_of_50_per_minute_admits_exactly_50_of_300_concurrent_requests_over_both(pair) -> None:
    one, two = pair
    assert one.post("/__mock/limits", json={"policy": "account-per-second", "rate": "50/min"}).status_code == 200

    def call(i: int) -> int:
        return (one if i % 2 else two).get("/v1/products").status_code

    with ThreadPoolExecutor(max_workers=30) as pool:
        statuses = list(pool.map(call, range(300)))
    assert statuses.count(200) == 50 and statuses.count(429) == 250, Counter(statuses)


def test_a_policy_enabled_through_one_holds_at_once_in_the_other_that_had_disabled_it(pair) -> None:
    one, two = pair
    assert one.post("/__mock/limits", json={"policy": "account-per-second", "rate": "2/min"}).status_code == 200
    assert two.post("/__mock/limits", json={"policy": "account-per-second", "enabled": False}).status_code == 200
    assert [two.get("/v1/products").status_code for _ in range(3)] == [200] * 3  # off, for both
    assert one.post("/__mock/limits", json={"policy": "account-per-second", "enabled": True}).status_code == 200
    assert [two.get("/v1/products").status_code for _ in range(3)] == [200, 200, 429]


def test_a_process_joining_a_sandbox_in_use_leaves_its_state_alone(serve, redis_url) -> None:
    """Only the first process (or a reset) seeds the fixtures: a later one must not bring deleted records back."""
    shared = namespace()
    first = serve("istockist", "--port", "istockist=0", "--store", redis_url, "--namespace", shared)
    with httpx.Client(base_url=first.urls[("istockist", "api")], auth=AUTH, timeout=10) as one:
        assert one.get("/v1/customers").json()["data"], "the first process seeds the fixtures"
        emptied = one.post("/__mock/reset", params={"seed": "false"}, json={})
        assert emptied.status_code == 200, emptied.text
        created = one.post("/v1/customers", json={"name": "Only Deli"}).json()
        joined = serve("istockist", "--port", "istockist=0", "--store", redis_url, "--namespace", shared)
        with httpx.Client(base_url=joined.urls[("istockist", "api")], auth=AUTH, timeout=10) as two:
            assert [c["id"] for c in two.get("/v1/customers").json()["data"]] == [created["id"]]
        assert [c["id"] for c in one.get("/v1/customers").json()["data"]] == [created["id"]]


def test_a_reset_of_one_namespace_leaves_another_untouched(serve, redis_url) -> None:
    mine, mine_too = _pair(serve, redis_url, namespace())
    theirs, theirs_too = _pair(serve, redis_url, namespace())
    kept = theirs.post("/v1/customers", json={"name": "Their Deli"}).json()["id"]
    gone = mine.post("/v1/customers", json={"name": "My Deli"}).json()["id"]
    theirs.post("/__mock/clock", json={"freeze": True, "set": 1_900_000_000})
    assert mine.post("/__mock/reset", json={}).status_code == 200
    assert mine_too.get(f"/v1/customers/{gone}").status_code == 404  # reset for both processes of mine
    assert theirs_too.get(f"/v1/customers/{kept}").status_code == 200
    assert theirs_too.get("/__mock/clock").json()["now"] == 1_900_000_000
    for client in (mine, mine_too, theirs, theirs_too):
        client.close()


def test_50_racing_posts_with_one_idempotency_key_over_both_make_one_order(pair) -> None:
    one, two = pair
    off = one.post("/__mock/limits", json={"policy": "account-per-second", "enabled": False})  # the race, not 429s
    assert off.status_code == 200, off.text
    marker = f"race-{uuid.uuid4()}"
    order = {"customer": "c1000000-0000-4000-8000-000000000001", "currency": "nzd", "notes": marker,
             "line_items": [{"product": "d1000000-0000-4000-8000-000000000001", "quantity": 2, "unit_amount": 3200}]}
    key = {"Idempotency-Key": str(uuid.uuid4())}
    start = threading.Barrier(50)

    def post(i: int) -> httpx.Response:
        start.wait()
        return (one if i % 2 else two).post("/v1/orders", json=order, headers=key)

    with ThreadPoolExecutor(max_workers=50) as pool:
        answers = list(pool.map(post, range(50)))
    assert {a.status_code for a in answers} <= {200, 409}, Counter(a.status_code for a in answers)
    made = [a for a in answers if a.status_code == 200]
    assert len({a.json()["id"] for a in made}) == 1  # every 200 is the one order
    assert [a.headers.get("idempotent-replayed") for a in made].count(None) == 1  # the original; the rest replayed
    assert all(a.json()["error"]["code"] == "idempotency_in_flight" for a in answers if a.status_code == 409)
    orders = [o for o in two.get("/__mock/state").json()["order"] if o.get("notes") == marker]
    assert [o["id"] for o in orders] == [made[0].json()["id"]]
    for client in (one, two):
        replay = client.post("/v1/orders", json=order, headers=key)
        assert replay.status_code == 200 and replay.json()["id"] == orders[0]["id"]
        other = client.post("/v1/orders", json={**order, "notes": "another order"}, headers=key)
        assert other.status_code == 409 and other.json()["error"]["code"] == "idempotency_key_reused"


# ------------------------------------------------------------------ a process killed holding a concurrency slot
def test_a_slot_held_by_a_killed_process_is_freed_after_the_concurrency_lease(serve, redis_url) -> None:
    shared, lease = namespace(), 5.0
    a, b = (serve("plggr", "--port", "plggr=0", "--store", redis_url, "--namespace", shared,
                  "--concurrency-lease", str(lease), "--limit", "plggr.concurrent-requests=1") for _ in range(2))
    with httpx.Client(base_url=a.urls[("plggr", "api")], timeout=10) as one, \
            httpx.Client(base_url=b.urls[("plggr", "api")], timeout=10) as two:
        held = hold_a_slot(one, one)
        a.process.kill()
        refused_then_admitted(two, lease)
        held.join(10)
