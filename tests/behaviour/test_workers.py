"""`mocks serve --workers N`: N processes serve the same ports as one sandbox, supervised by the parent (issue 12).

Real processes over real sockets on a real Redis (`redis_url`: see tests/rediskit.py). Which worker
answered is read from `GET /__mock/info` (`worker.pid`); a worker is made to take every new
connection by stopping the other one (SIGSTOP), since a stopped process accepts none.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import httpx
import pytest
from leasekit import hold_a_slot, refused_then_admitted
from rediskit import MISSING, answers, free_port, namespace
from servekit import ALL_PORTS_FREE, Served, end

AUTH = ("ik_test_kauri_main", "is_test_kauri_main_secret")
CLOSE = {"Connection": "close"}  # a new connection per request: the kernel hands each to either worker


def _worker_pid(url: str, **options) -> int:
    answer = httpx.get(f"{url}/__mock/info", headers=CLOSE, timeout=10, **options)
    assert answer.status_code == 200, answer.text
    return answer.json()["worker"]["pid"]


def _worker_pids(url: str, *, want: int = 2, tries: int = 200, **options) -> set[int]:
    seen: set[int] = set()
    for _ in range(tries):
        seen.add(_worker_pid(url, **options))
        if len(seen) == want:
            break
    return seen


def _wait_for(condition, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"{what} within {timeout:.0f} s"
        time.sleep(0.1)


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


@contextmanager
def _stopped(pid: int) -> Iterator[None]:
    """`pid` stopped (SIGSTOP): it accepts no connection until the block ends."""
    os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(pid, signal.SIGCONT)


@pytest.fixture
def two_workers(serve, redis_url) -> Served:
    return serve("istockist", "--port", "istockist=0", "--store", redis_url, "--namespace", namespace(),
                 "--workers", "2")


def test_workers_above_1_on_the_memory_store_are_refused_with_the_reason(serve) -> None:
    served = serve("istockist", "--port", "istockist=0", "--workers", "2", expect_table=False)
    assert served.process.wait(timeout=30) == 2
    _wait_for(lambda: served.stderr, "an error on stderr", timeout=5)
    assert "--workers 2 needs a shared store" in served.stderr[-1] and "--store redis://" in served.stderr[-1]


def test_two_workers_answer_from_two_processes_that_are_not_the_parent(two_workers) -> None:
    url = two_workers.urls[("istockist", "api")]
    pids = _worker_pids(url)
    assert len(pids) == 2, pids
    assert two_workers.process.pid not in pids


def test_a_customer_created_through_one_worker_is_read_through_the_other(two_workers) -> None:
    url = two_workers.urls[("istockist", "api")]
    first, second = sorted(_worker_pids(url))
    with _stopped(second):
        assert _worker_pid(url) == first
        created = httpx.post(f"{url}/v1/customers", json={"name": "Worker Deli"}, auth=AUTH, headers=CLOSE, timeout=10)
        assert created.status_code == 200, created.text
    with _stopped(first):
        assert _worker_pid(url) == second
        read = httpx.get(f"{url}/v1/customers/{created.json()['id']}", auth=AUTH, headers=CLOSE, timeout=10)
        assert read.status_code == 200 and read.json()["name"] == "Worker Deli"


def test_a_limit_of_50_per_minute_admits_exactly_50_of_300_concurrent_requests_through_one_port(two_workers) -> None:
    url = two_workers.urls[("istockist", "api")]
    assert len(_worker_pids(url)) == 2
    limited = httpx.post(f"{url}/__mock/limits", json={"policy": "account-per-second", "rate": "50/min"}, timeout=10)
    assert limited.status_code == 200, limited.text

    def call(_: int) -> int:
        return httpx.get(f"{url}/v1/products", auth=AUTH, headers=CLOSE, timeout=30).status_code

    with ThreadPoolExecutor(max_workers=30) as pool:
        statuses = list(pool.map(call, range(300)))
    assert statuses.count(200) == 50 and statuses.count(429) == 250, Counter(statuses)


def test_a_worker_killed_with_sigkill_is_replaced_and_the_sandbox_keeps_answering(two_workers) -> None:
    url = two_workers.urls[("istockist", "api")]
    before = _worker_pids(url)
    assert len(before) == 2
    victim, survivor = sorted(before)
    os.kill(victim, signal.SIGKILL)
    _wait_for(lambda: _gone(victim), "the killed worker is reaped")
    statuses = Counter()

    def replaced() -> bool:
        statuses[httpx.get(f"{url}/v1/products", auth=AUTH, headers=CLOSE, timeout=10).status_code] += 1
        return len(_worker_pids(url, tries=20) - {victim, survivor}) == 1

    _wait_for(replaced, "a new worker serves in the killed one's place")
    assert set(statuses) == {200}, statuses  # answering all along
    assert two_workers.process.poll() is None
    end(two_workers)  # servekit reads stderr whole, at the end
    said = f"worker {victim} was killed by SIGKILL; starting another in its place"
    _wait_for(lambda: any(said in line for line in two_workers.stderr), "the replacement logged", timeout=5)


def test_start_up_options_are_applied_once_a_replacement_worker_leaves_later_changes_alone(serve, redis_url) -> None:
    served = serve("istockist", "--port", "istockist=0", "--store", redis_url, "--namespace", namespace(),
                   "--workers", "2", "--limit", "istockist=2/min")
    url = served.urls[("istockist", "api")]
    changed = httpx.post(f"{url}/__mock/limits", json={"policy": "account-per-second", "rate": "3/min"}, timeout=10)
    assert changed.status_code == 200, changed.text
    victim = _worker_pid(url)
    os.kill(victim, signal.SIGKILL)
    _wait_for(lambda: len(_worker_pids(url, tries=20) - {victim}) == 2, "a new worker serves in the killed one's place")
    statuses = [httpx.get(f"{url}/v1/products", auth=AUTH, headers=CLOSE, timeout=10).status_code for _ in range(6)]
    assert statuses == [200, 200, 200, 429, 429, 429]  # neither --limit's 2/min again nor the contract's limit


def test_a_slot_held_by_a_killed_worker_is_freed_after_the_concurrency_lease(serve, redis_url) -> None:
    lease = 5.0
    served = serve("plggr", "--port", "plggr=0", "--store", redis_url, "--namespace", namespace(), "--workers", "2",
                   "--concurrency-lease", str(lease), "--limit", "plggr.concurrent-requests=1")
    url = served.urls[("plggr", "api")]
    holder, other = sorted(_worker_pids(url))
    with _stopped(other), httpx.Client(base_url=url, timeout=10) as into_holder:
        held = hold_a_slot(into_holder, into_holder)  # the holder takes every connection while the other is stopped
        os.kill(holder, signal.SIGKILL)
    with httpx.Client(base_url=url, headers=CLOSE, timeout=10) as client:  # the other worker, or the replacement
        refused_then_admitted(client, lease)
    held.join(10)


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_sigterm_or_ctrl_c_on_the_parent_stops_every_worker_and_the_parent_exits_0(two_workers, stop) -> None:
    url = two_workers.urls[("istockist", "api")]
    pids = _worker_pids(url)
    assert len(pids) == 2
    two_workers.process.send_signal(stop)
    assert two_workers.process.wait(timeout=30) == 0
    assert all(_gone(pid) for pid in pids)
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{url}/__mock/info", timeout=5)


def test_workers_whose_parent_is_killed_outright_stop_and_free_the_port(two_workers) -> None:
    url = two_workers.urls[("istockist", "api")]
    pids = _worker_pids(url)
    assert len(pids) == 2
    two_workers.process.kill()
    two_workers.process.wait(timeout=10)
    _wait_for(lambda: all(_gone(pid) for pid in pids), "the orphaned workers stop")
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{url}/__mock/info", timeout=5)


def test_all_five_apis_and_tls_are_served_by_every_worker(serve, redis_url, tmp_path) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-days", "1", "-subj", "/CN=localhost"], check=True, capture_output=True, timeout=60)
    served = serve(*ALL_PORTS_FREE, "--store", redis_url, "--namespace", namespace(), "--workers", "2",
                   "--tls", str(cert), str(key))
    assert len(served.urls) == 6 and all(not url.endswith(":0") for url in served.urls.values())
    assert served.urls[("istockist", "api")].startswith("https://")
    for api, admin in served.admin_links.items():
        base = admin.removesuffix("/__mock/info")
        assert len(_worker_pids(base, verify=False)) == 2, api
    openapi = httpx.get(served.urls[("lagerkoll", "api")] + "/__mock/openapi.json", timeout=10)
    assert openapi.status_code == 200
    assert served.urls[("lagerkoll", "api")] in [s["url"] for s in openapi.json()["servers"]]


def test_workers_that_keep_failing_to_start_make_the_parent_exit_1_with_the_reason(serve, tmp_path) -> None:
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip(MISSING)
    port = free_port()
    redis = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                              "--dir", str(tmp_path)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_for(lambda: answers(f"redis://127.0.0.1:{port}/0"), "redis-server answers", timeout=10)
        served = serve("istockist", "--port", "istockist=0", "--store", f"redis://127.0.0.1:{port}/0", "--workers", "2")
        victim = _worker_pid(served.urls[("istockist", "api")])
        redis.terminate()
        redis.wait(10)
        os.kill(victim, signal.SIGKILL)  # its replacements find no Redis
        assert served.process.wait(timeout=90) == 1
        _wait_for(lambda: any("workers keep failing to start" in line for line in served.stderr), "the reason",
                  timeout=5)
        assert any("could not start" in line for line in served.stderr), served.stderr
    finally:
        if redis.poll() is None:
            redis.terminate()
            redis.wait(10)
