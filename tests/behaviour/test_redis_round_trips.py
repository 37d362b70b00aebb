"""What one request costs in Redis commands: each round trip added to the request path fails here.

A `mocks serve` of its own on a `redis-server` of its own (nothing else talks to it), observed with
MONITOR: the commands the sandbox sends between two markers the test sends around one request.
Commands a Lua script runs inside Redis are not round trips and are not counted.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Callable, Iterator

import httpx
import pytest
import redis
from rediskit import MISSING, namespace, redis_server

AUTH = ("ik_test_kauri_main", "is_test_kauri_main_secret")

# What the sandbox sends for one request (each pipeline is one round trip):
# GET by id: the glance (HMGET clock, HGET limits version, GET faults version: one pipeline), EVALSHA
# admit, HGET record, EVALSHA journal = 6 commands in 4 round trips.
GET_BY_ID = 6
NOT_FOUND = 6  # the same: the record's HGET finds nothing
CREATE = 6  # the glance (3), admit, insert, journal
IDEMPOTENT_CREATE = 8  # ... and the key's reservation and its completion, one script each
LIST_PAGE = 9  # the glance (3), admit, the scopes' sizes (2 ZCARD), one page of positions, its records, journal


@pytest.fixture(scope="module")
def own_redis() -> Iterator[str]:
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip(MISSING)
    with redis_server(binary) as url:
        yield url


@pytest.fixture
def sandbox(serve, own_redis) -> Iterator[tuple[httpx.Client, Callable]]:
    served = serve("istockist", "--port", "istockist=0", "--store", own_redis, "--namespace", namespace(),
                   "--limit", "istockist=100000/s")  # the limiter runs on every request and never refuses
    marker = redis.Redis.from_url(own_redis, decode_responses=True)
    monitor = redis.Redis.from_url(own_redis, decode_responses=True, socket_timeout=10).monitor()  # never a hang
    with monitor, httpx.Client(base_url=served.urls[("istockist", "api")], auth=AUTH, timeout=10) as client:
        marker_port = str(marker.client_info()["addr"].rsplit(":", 1)[1])

        def sent(call: Callable[[], httpx.Response]) -> list[str]:
            """The commands the sandbox sent while `call` ran."""
            token = uuid.uuid4().hex
            marker.echo(f"start-{token}")
            call()
            marker.echo(f"end-{token}")
            seen: list[dict] = []
            while (command := monitor.next_command())["command"] != f"ECHO end-{token}":
                seen.append(command)
            start = next(n for n, c in enumerate(seen) if c["command"] == f"ECHO start-{token}")
            mine = [c for c in seen[start + 1:] if c["client_port"] != marker_port]
            return [_short(c["command"]) for c in mine if c["client_type"] != "lua"]

        yield client, sent
    marker.close()


def _short(command: str) -> str:
    """A command with its first key, without its values (a journal entry is kilobytes)."""
    return " ".join(command.split(" ")[:2])[:120]


def fewest(sent: Callable, call: Callable[[], httpx.Response], tries: int = 3) -> list[str]:
    """The commands of the cheapest of `tries` identical requests (a background tick, e.g. the delivery
    worker's, may fall into one of them; a request that costs more every time does not hide)."""
    return min((sent(call) for _ in range(tries)), key=len)


def test_a_get_by_id_costs_at_most_four_round_trips(sandbox) -> None:
    client, sent = sandbox
    created = client.post("/v1/customers", json={"name": "Round Trip Deli"})
    assert created.status_code == 200, created.text
    path = f"/v1/customers/{created.json()['id']}"
    assert client.get(path).status_code == 200
    commands = fewest(sent, lambda: client.get(path))
    assert len(commands) <= GET_BY_ID, commands
    assert sum(c.startswith(("EVALSHA", "EVAL ")) for c in commands) == 2, commands  # admission, journal


def test_a_page_costs_the_same_round_trips_whatever_its_size(sandbox) -> None:
    client, sent = sandbox
    for n in range(30):
        assert client.post("/v1/customers", json={"name": f"Page Deli {n}"}).status_code == 200
    small = fewest(sent, lambda: client.get("/v1/customers", params={"limit": 3}))
    large = fewest(sent, lambda: client.get("/v1/customers", params={"limit": 25}))
    assert len(small) == len(large) <= LIST_PAGE, (small, large)
    assert sum(c.startswith("HMGET") for c in large) == 2, large  # the clock's, and the page's records at once


def test_a_missing_record_a_create_and_an_idempotent_create_stay_within_their_bounds(sandbox) -> None:
    client, sent = sandbox
    missing = fewest(sent, lambda: client.get("/v1/customers/00000000-0000-4000-8000-000000000000"))
    assert len(missing) <= NOT_FOUND, missing
    created = fewest(sent, lambda: client.post("/v1/customers", json={"name": "Another Deli"}))
    assert len(created) <= CREATE, created

    def idempotent() -> httpx.Response:
        answer = client.post("/v1/customers", json={"name": "Once Deli"}, headers={"Idempotency-Key": str(uuid.uuid4())})
        assert answer.status_code == 200, answer.text
        return answer

    once = fewest(sent, idempotent)
    assert len(once) <= IDEMPOTENT_CREATE, once


def test_a_limit_changed_through_the_admin_api_is_read_once_then_cached(sandbox) -> None:
    client, sent = sandbox
    path = "/v1/customers/00000000-0000-4000-8000-000000000000"

    def change_then_get() -> None:
        assert client.post("/__mock/limits", json={"policy": "account-per-second", "rate": "7/s"}).status_code == 200
        client.get(path)

    reads = [c for c in sent(change_then_get) if c.startswith("HGETALL") and c.endswith(":lim:settings")]
    assert reads  # the new settings are read (by the change itself or by the next request); later GETs keep them
    assert client.get(path).headers["X-RateLimit-Limit"] == "7"
    assert len(fewest(sent, lambda: client.get(path))) <= NOT_FOUND
