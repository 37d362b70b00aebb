"""Webhook deliveries across processes (issue 12): each attempt leased to one process, taken over when
the process making it is killed, and never outliving its lease (`mocks serve --delivery-lease`).

Real `mocks serve` processes on one real Redis (`redis_url`: tests/rediskit.py), a real receiver on a
loopback port (not one of the sandbox's own, which the outbound guard refuses), SIGKILL for the process
whose attempt hangs. Which process makes an attempt is read from the kernel's socket table: the
receiver sees the attempt's source port, /proc says which process holds that socket.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
import redis
from rediskit import namespace
from servekit import Served

LAGERKOLL = {"api_key": "lk_sandbox_key_1001_7f3a9c21e5b84d06", "store": "1001"}
LEASE = "3"  # seconds: short enough to wait for, long enough to kill the process making the attempt first

pytestmark = pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="needs Linux' /proc socket table")


@dataclass
class HangingReceiver:
    """Records every POST with the sender's port; the first `hang` of them get no answer until released."""

    hang: int = 1
    senders: list[int] = field(default_factory=list)
    first: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks"

    def start(self) -> HangingReceiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.senders.append(self.client_address[1])
                receiver.first.set()
                if len(receiver.senders) <= receiver.hang:
                    receiver.release.wait(60)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True).start()
        return self

    def stop(self) -> None:
        self.release.set()
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[HangingReceiver]:
    made = HangingReceiver().start()
    yield made
    made.stop()


def sending_process(sender_port: int, receiver_port: int, pids: list[int]) -> int:
    """Which of `pids` holds the TCP connection from `sender_port` to `receiver_port` (Linux /proc)."""
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote = (int(address.split(":")[1], 16) for address in fields[1:3])
        if (local, remote) == (sender_port, receiver_port):
            inodes.add(f"socket:[{fields[9]}]")
    for pid in pids:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                if os.readlink(f"/proc/{pid}/fd/{fd}") in inodes:
                    return pid
            except OSError:
                continue  # closed meanwhile
    raise AssertionError(f"no process of {pids} holds the connection from port {sender_port}")


def wait_until(condition: Callable[[], object], timeout: float, what: str) -> object:
    event = threading.Event()
    for _ in range(int(timeout / 0.05)):
        if value := condition():
            return value
        event.wait(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def origin(served: Served) -> str:
    url = httpx.URL(served.urls[("lagerkoll", "api")])
    return f"{url.scheme}://{url.host}:{url.port}"


def execute_webhook(client: httpx.Client, url: str) -> str:
    created = client.post("/v1/webhooks/", headers=LAGERKOLL,
                          json={"featureId": "customerorders", "featureMethod": "created", "url": url})
    assert created.status_code == 200, created.text
    executed = client.post(f"/v1/webhooks/{created.json()['guid']}", headers=LAGERKOLL, json={"orderId": 4711})
    assert executed.status_code == 202, executed.text
    return executed.json()["deliveryId"]


def the_delivery(client: httpx.Client) -> tuple[dict, dict]:
    found = client.get("/__mock/deliveries").json()
    (delivery,) = found["deliveries"]
    return delivery, found["counts"]


def redis_calls(url: str) -> int:
    return sum(stats["calls"] for stats in redis.Redis.from_url(url).info("commandstats").values())


def test_a_delivery_whose_process_is_killed_mid_attempt_is_delivered_once_by_the_other(serve, redis_url, receiver):
    ns = namespace()
    served = [serve("lagerkoll", "--port", "lagerkoll=0", "--store", redis_url, "--namespace", ns,
                    "--delivery-lease", LEASE) for _ in range(2)]
    clients = {s.process.pid: httpx.Client(base_url=origin(s), timeout=10) for s in served}
    one = next(iter(clients.values()))
    delivery_id = execute_webhook(one, receiver.url)
    assert receiver.first.wait(15), "no attempt reached the receiver"

    pids = list(clients)
    hanging = sending_process(receiver.senders[0], receiver.server.server_address[1], pids)
    before = redis_calls(redis_url)
    threading.Event().wait(1.0)  # both processes idle while the attempt hangs: neither may spin on the store
    assert redis_calls(redis_url) - before < 60, "a process polls the store while an attempt is in flight"
    os.kill(hanging, signal.SIGKILL)
    (survivor,) = [client for pid, client in clients.items() if pid != hanging]

    delivered = wait_until(lambda: the_delivery(survivor)[0]["state"] == "delivered", 20,
                           "the other process to take the delivery over")
    assert delivered
    delivery, counts = the_delivery(survivor)
    assert delivery["id"] == delivery_id
    assert [a.get("status") for a in delivery["attempts"]] == [200]  # the killed attempt left no record
    assert (counts["delivered"], counts["failed"], counts["pending"]) == (1, 0, 0)
    assert len(receiver.senders) == 2  # the killed attempt, then the one that delivered
    threading.Event().wait(float(LEASE) + 1)  # a second lease: nothing may deliver it again
    assert len(receiver.senders) == 2 and the_delivery(survivor)[1]["delivered"] == 1


def test_every_worker_gives_an_attempt_up_at_the_end_of_its_lease(serve, redis_url, receiver):
    receiver.hang = 100  # no attempt is ever answered
    served = serve("lagerkoll", "--port", "lagerkoll=0", "--store", redis_url, "--namespace", namespace(),
                   "--workers", "2", "--delivery-lease", "1")
    client = httpx.Client(base_url=origin(served), timeout=10)
    execute_webhook(client, receiver.url)
    attempt = wait_until(lambda: (the_delivery(client)[0]["attempts"] or [None])[0], 15, "the first attempt's record")
    # 1 s, not the 5 s an attempt is otherwise given: the worker that made it was started with the lease
    assert attempt["error"] == "TimeoutError: no answer before the attempt's lease ended (1 s)", attempt


@pytest.mark.parametrize("value", ["0", "-1", "86401", "nan", "soon"])
def test_a_delivery_lease_out_of_range_exits_2_with_the_reason(serve, value):
    served = serve("lagerkoll", "--port", "lagerkoll=0", "--delivery-lease", value, expect_table=False)
    assert served.process.wait(timeout=30) == 2
    wait_until(lambda: served.stderr, 5, "the error on stderr")
    assert any("--delivery-lease" in line and f"'{value}'" in line for line in served.stderr), served.stderr
