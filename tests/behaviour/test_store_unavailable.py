"""A Redis store that cannot serve for a while (down, out of memory, read-only): 503 with Retry-After, never a 500.

Real `mocks serve` processes over real sockets, each on a `redis-server` of the test's own (never the
machine's, never a fake), which the test stops, fills or turns into a replica.
"""

from __future__ import annotations

import json
import queue
import shutil
import subprocess
import threading
import time
from collections import Counter

import httpx
import pytest
import redis
from rediskit import MISSING, answers, free_port, redis_server

AUTH = ("ik_test_kauri_main", "is_test_kauri_main_secret")
STORE_UNAVAILABLE = "the sandbox's store is unavailable; retry shortly"


def _binary() -> str:
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip(MISSING)
    return binary


def _istockist(serve, url: str) -> httpx.Client:
    served = serve("istockist", "--port", "istockist=0", "--store", url)
    return httpx.Client(base_url=served.urls[("istockist", "api")], auth=AUTH, timeout=15)


def _unavailable(response: httpx.Response) -> None:
    """The API's own 503 (iStockist's error envelope) with Retry-After."""
    assert response.status_code == 503, response.text
    assert response.json()["error"]["code"] == "unavailable"
    assert int(response.headers["Retry-After"]) >= 1


def _admin_unavailable(response: httpx.Response) -> None:
    """The admin API's own 503: `{"error": ...}` with Retry-After."""
    assert response.status_code == 503, response.text
    assert response.json() == {"error": STORE_UNAVAILABLE}
    assert int(response.headers["Retry-After"]) >= 1


ADMIN_CALLS = [  # one of each kind: reads, writes, downloads
    ("GET", "/__mock/state", None), ("GET", "/__mock/journal", None),
    ("GET", "/__mock/clock", None), ("POST", "/__mock/clock", {"advance": 5}), ("GET", "/__mock/faults", None),
    ("POST", "/__mock/faults", {"operation": "listProducts", "respond": 500}), ("GET", "/__mock/limits", None),
    ("POST", "/__mock/reset", {}), ("GET", "/__mock/snapshot", None), ("GET", "/__mock/journal.har", None),
    ("GET", "/__mock/events", None), ("GET", "/__mock/deliveries", None),
]


# ------------------------------------------------------------------ Redis goes away, and comes back
def _redis(binary: str, port: int, folder: str) -> subprocess.Popen:
    """A redis-server of this test's own (append-only file, fsync always: a restart keeps what was acknowledged)."""
    process = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "yes",
                                "--appendfsync", "always", "--dir", folder],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while not answers(f"redis://127.0.0.1:{port}/0"):
        assert process.poll() is None and time.monotonic() < deadline, "redis-server did not start"
        time.sleep(0.05)
    return process


def _follow_journal(url: str, since: int) -> queue.Queue:
    """The journal stream's entries as they come, from a thread; None once the stream ends."""
    entries: queue.Queue = queue.Queue()

    def read() -> None:
        try:
            with httpx.stream("GET", f"{url}/__mock/journal/stream", params={"since": since},
                              timeout=httpx.Timeout(10, read=60)) as stream:
                for line in stream.iter_lines():
                    if line.startswith("data: "):
                        entries.put(json.loads(line.removeprefix("data: ")))
        except httpx.HTTPError:
            pass  # the stream broke off: the None below says so
        finally:
            entries.put(None)

    threading.Thread(target=read, daemon=True).start()
    return entries


def _stop(process: subprocess.Popen) -> None:
    process.terminate()
    process.wait(10)


def test_redis_unavailable_answers_503_with_retry_after_and_recovers_by_itself(serve, tmp_path) -> None:
    binary = _binary()
    port = free_port()
    redis_server = _redis(binary, port, str(tmp_path))
    try:
        client = _istockist(serve, f"redis://127.0.0.1:{port}/0")
        kept = client.post("/v1/customers", json={"name": "Acknowledged Deli"})
        assert kept.status_code == 200
        followed = _follow_journal(str(client.base_url).rstrip("/"), client.get("/__mock/journal").json()["entries"][-1]["seq"])
        _stop(redis_server)
        for path in ("/v1/products", f"/v1/customers/{kept.json()['id']}"):
            started = time.monotonic()
            down = client.get(path)
            assert time.monotonic() - started < 5  # never a hang
            _unavailable(down)
        _unavailable(client.post("/v1/customers", json={"name": "Lost Deli"}))
        for method, path, body in ADMIN_CALLS:
            started = time.monotonic()
            _admin_unavailable(client.request(method, path, json=body))
            assert time.monotonic() - started < 5, path  # never a hang
        for path in ("/__mock/info", "/__mock/console"):  # what needs no store still answers (which process, forms)
            assert client.get(path).status_code == 200
        redis_server = _redis(binary, port, str(tmp_path))
        deadline = time.monotonic() + 10
        while (back := client.get(f"/v1/customers/{kept.json()['id']}")).status_code == 503:
            assert time.monotonic() < deadline, "no recovery within 10 s of Redis' return"
            time.sleep(0.2)
        assert back.status_code == 200 and back.json()["name"] == "Acknowledged Deli"  # nothing acknowledged lost
        assert client.get("/v1/products").status_code == 200
        while (entry := followed.get(timeout=10)) is not None and entry["operation"] != "listProducts":
            pass  # the stream stayed open through the outage and carries on
        assert entry is not None and entry["status"] == 200, "the journal stream ended with the outage"
        assert client.get("/__mock/clock").status_code == 200  # the admin API recovered by itself too
        assert client.post("/__mock/faults", json={"operation": "listProducts", "respond": 500}).status_code == 201
        client.close()
    finally:
        if redis_server.poll() is None:
            _stop(redis_server)


# ------------------------------------------------------------------ Redis is full (maxmemory, noeviction)
def _big_customer(n: int) -> dict:
    """About 25 KB: the most metadata iStockist takes (50 values of 500 characters)."""
    return {"name": f"Full Deli {n}", "metadata": {f"k{i}": f"{n}-{i}-".ljust(500, "x") for i in range(50)}}


def test_redis_out_of_memory_refuses_writes_with_503_serves_reads_and_recovers(serve) -> None:
    with redis_server(_binary(), "--maxmemory-policy", "noeviction") as url:
        client = _istockist(serve, url)
        raw = redis.Redis.from_url(url)
        # the fixtures are in; about 1 MB more and Redis is full
        raw.config_set("maxmemory", raw.info("memory")["used_memory"] + 1024 * 1024)
        statuses: Counter[int] = Counter()
        created = []
        for n in range(400):
            answer = client.post("/v1/customers", json=_big_customer(n))
            statuses[answer.status_code] += 1
            if answer.status_code == 200:
                created.append(answer.json()["id"])
            elif answer.status_code == 503:
                _unavailable(answer)
                refused = n
                break
        else:
            pytest.fail(f"never full: {statuses}")
        assert set(statuses) <= {200, 503} and created, statuses  # never a 500
        # reads work under OOM: the API's and the admin API's
        assert client.get(f"/v1/customers/{created[-1]}").status_code == 200
        assert client.get("/v1/products").status_code == 200
        listed = client.get("/v1/customers", params={"limit": 100})
        assert listed.status_code == 200, listed.text
        names = [c["name"] for c in listed.json()["data"]]
        assert f"Full Deli {refused}" not in names  # a refused write stored nothing
        journal = client.get("/__mock/journal")
        assert journal.status_code == 200 and journal.json()["dropped"] >= 1  # the reads' entries: dropped, counted
        _admin_unavailable(client.post("/__mock/faults", json={"operation": "listProducts", "respond": 500}))
        raw.config_set("maxmemory", 0)
        again = client.post("/v1/customers", json=_big_customer(refused))
        assert again.status_code == 200, again.text
        assert client.post("/__mock/faults", json={"operation": "listProducts", "respond": 500}).status_code == 201
        client.close()


# ------------------------------------------------------------------ Redis is a replica after a failover
def test_redis_turned_read_only_replica_answers_503_and_recovers_when_promoted(serve) -> None:
    binary = _binary()
    with redis_server(binary) as url, redis_server(binary) as other_url:
        client = _istockist(serve, url)
        kept = client.post("/v1/customers", json={"name": "Replicated Deli"})
        assert kept.status_code == 200
        mine, other = redis.Redis.from_url(url), redis.Redis.from_url(other_url)
        other.replicaof("127.0.0.1", mine.connection_pool.connection_kwargs["port"])
        _wait_in_sync(other)
        other.replicaof("NO", "ONE")  # the failover: the other is the master now, with everything
        mine.replicaof("127.0.0.1", other.connection_pool.connection_kwargs["port"])  # the sandbox's: its replica
        _wait_in_sync(mine)
        _unavailable(client.post("/v1/customers", json={"name": "Refused Deli"}))
        _unavailable(client.get(f"/v1/customers/{kept.json()['id']}"))  # its rate-limit budget cannot be counted
        _admin_unavailable(client.post("/__mock/clock", json={"advance": 5}))
        assert client.get("/__mock/faults").status_code == 200  # the admin API's reads need no write
        mine.replicaof("NO", "ONE")  # promoted back
        assert client.post("/v1/customers", json={"name": "Promoted Deli"}).status_code == 200
        names = [c["name"] for c in client.get("/v1/customers", params={"limit": 100}).json()["data"]]
        assert "Replicated Deli" in names and "Refused Deli" not in names
        client.close()


def _wait_in_sync(replica: redis.Redis) -> None:
    deadline = time.monotonic() + 10
    while replica.info("replication").get("master_link_status") != "up":
        assert time.monotonic() < deadline, "the replica did not sync within 10 s"
        time.sleep(0.05)
