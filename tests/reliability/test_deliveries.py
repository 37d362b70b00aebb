"""Webhook delivery under slow, broken and busy receivers, over real HTTP to `mocks serve` (issue 9, items 5, 13).

Receivers are small `http.server`s on loopback ports in threads. A slow receiver holds each request at
a gate that the test opens; waits are bounded, and what is asserted is order and outcome, never time.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

DOC_SITE = "00000000-0000-0000-0000-000000000000"
HARBOUR_SITE = "5a000000-0000-4000-8000-000000000001"  # seen by the documentation and courier applications
DOC_APP = "00000000-0000-0000-0000-000000000000"
COURIER_APP = "a1000000-0000-4000-8000-000000000002"
KONDUCTER = ["konducter", "--port", "konducter=0", "--port", "konducter.local=0"]


class Receiver:
    """Records every POST's event; a gated receiver holds each request until `release()` (at most 20 s)."""

    def __init__(self, *, gated: bool = False) -> None:
        self.events: list[dict] = []
        self.waiting = 0  # requests held at the gate right now
        self._gate = threading.Event()
        if not gated:
            self._gate.set()
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver._lock:
                    receiver.waiting += 1
                receiver._gate.wait(20)
                with receiver._lock:
                    receiver.waiting -= 1
                    receiver.events.append(json.loads(body))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/hook"

    def refs(self) -> list[str]:
        with self._lock:
            return [e["data"]["externalId"] for e in self.events]

    def release(self) -> None:
        self._gate.set()

    def stop(self) -> None:
        self._gate.set()
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def receivers() -> Iterator[Callable[..., Receiver]]:
    made: list[Receiver] = []

    def make(**options) -> Receiver:
        made.append(Receiver(**options))
        return made[-1]

    yield make
    for receiver in made:
        receiver.stop()


def wait_until(condition: Callable[[], object], what: str, timeout: float = 15.0) -> object:
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.02)
    return value


def unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Konducter:
    def __init__(self, served) -> None:
        self.cloud = served.client("konducter", "cloud")
        self.local = served.client("konducter", "local")
        self.admin = httpx.Client(base_url=served.urls[("konducter", "cloud")] + "/__mock", timeout=10)
        self.headers = {app: served.credential("konducter", principal)[0]
                        for app, principal in ((DOC_APP, "documentation-public"), (COURIER_APP, "courier-public"))}

    def subscribe(self, application: str, url: str) -> None:
        response = self.cloud.put(f"/applications/{application}/subscription", headers=self.headers[application],
                                  json={"handlerUrl": url, "eventTriggers": ["order.created"]})
        assert response.status_code == 200, response.text

    def create_order(self, ref: str, site: str = HARBOUR_SITE) -> None:
        response = self.cloud.post(f"/sites/{site}/orders", headers=self.headers[DOC_APP], json={
            "externalId": ref, "channel": "inStore", "items": [{"name": "Fries", "quantity": 1}]})
        assert response.status_code == 201, response.text

    def deliveries(self) -> dict:
        response = self.admin.get("/deliveries")
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture
def konducter(serve) -> Iterator[Konducter]:
    handle = Konducter(serve(*KONDUCTER))
    yield handle
    for client in (handle.cloud, handle.local, handle.admin):
        client.close()


def test_a_slow_receiver_holds_only_its_own_deliveries(konducter, receivers):
    slow, fast = receivers(gated=True), receivers()
    konducter.subscribe(DOC_APP, slow.url)
    konducter.subscribe(COURIER_APP, fast.url)
    for n in range(6):  # more than one slow lane can hold at once: the slow receiver's queue backs up
        konducter.create_order(f"R{n}")
        wait_until(lambda n=n: f"R{n}" in fast.refs(), f"the fast receiver's delivery of R{n}")
    assert slow.waiting >= 1 and slow.refs() == []  # every fast delivery arrived while the slow one was held
    slow.release()
    wait_until(lambda: sorted(slow.refs()) == [f"R{n}" for n in range(6)], "the slow receiver's six deliveries")
    counts = wait_until(lambda: (c := konducter.deliveries()["counts"])["delivered"] == 12 and c, "12 delivered")
    assert counts["failed"] == 0 and counts["pending"] == 0


def test_a_url_httpx_cannot_send_fails_its_own_attempts_and_every_other_delivery_arrives(konducter, receivers):
    good = receivers()
    # it passes the contract's URL pattern, but httpx raises InvalidURL (not an HTTPError) when sending it
    konducter.subscribe(DOC_APP, "http://999.1.1.1/hook")
    konducter.subscribe(COURIER_APP, good.url)
    konducter.create_order("FIRST")
    wait_until(lambda: "FIRST" in good.refs(), "the good receiver's first delivery")

    def bad_attempts() -> list[dict]:
        return [a for d in konducter.deliveries()["deliveries"] if "999.1.1.1" in d["url"] for a in d["attempts"]]

    first = wait_until(bad_attempts, "the bad URL's first attempt")[0]
    assert first["number"] == 1 and "status" not in first and first["error"]
    konducter.create_order("SECOND")  # the worker survived the bad attempt: later deliveries still go out
    wait_until(lambda: "SECOND" in good.refs(), "the good receiver's second delivery")
    konducter.admin.post("/clock", json={"advance": 1})  # the first retry is due 1 s (mock clock) later
    wait_until(lambda: len(bad_attempts()) >= 3, "the bad URL's retries, on the declared backoff")
    bad = [d for d in konducter.deliveries()["deliveries"] if "999.1.1.1" in d["url"]]
    assert all(d["state"] == "pending" and d["next_attempt_at"] is not None for d in bad)


def test_the_delivery_log_stays_bounded_and_keeps_counting(konducter, receivers):
    live, dead = receivers(), f"http://127.0.0.1:{unused_port()}/hook"
    konducter.subscribe(DOC_APP, live.url)
    konducter.subscribe(COURIER_APP, dead)  # nothing listens there: those deliveries stay pending
    assert konducter.admin.post("/clock", json={"freeze": True}).status_code == 200  # ... and retries wait
    batches, size = 7, 100  # two deliveries per order: 1,400 queued through a log of 1,000
    for batch in range(batches):
        for n in range(size):  # the local view is not rate limited; courier's site is Harbour Street
            response = konducter.local.post("/orders", headers=konducter.headers[COURIER_APP], json={
                "externalId": f"B{batch}-{n}", "channel": "kiosk", "items": [{"name": "Fries", "quantity": 1}]})
            assert response.status_code == 201, response.text
        wait_until(lambda b=batch: len(live.refs()) == (b + 1) * size, f"batch {batch} at the live receiver")
    body = konducter.deliveries()
    counts, kept = body["counts"], body["deliveries"]
    assert counts["capacity"] == 1000 and counts["kept"] == len(kept) == 1000
    assert counts["queued"] == 1400 and counts["delivered"] == 700 and counts["evicted"] == 400
    # completed deliveries leave first: every pending one is still kept, and still counted as pending
    assert counts["evicted_pending"] == 0 and counts["pending"] == 700
    assert sum(d["state"] == "pending" for d in kept) == 700
    assert all(d["state"] == "pending" for d in kept if d["url"] == dead)
