"""Outgoing webhooks, one delivery engine for Konducter and Lagerkoll, observed by a real receiver.

The receiver is a small `http.server` on a loopback port in a thread. Deliveries are real HTTP POSTs
made by the mock; retries are due on the mock clock, which these tests freeze and advance through the
admin API, then watch the receiver and `/__mock/deliveries` with a bounded wait.

Here `konducter` and `lagerkoll` are served on real ports (as `mock_server` does, one sandbox for the
module, reset before each test): their delivery worker starts and stops with the server. (The
in-process handles leave the worker task pending when they close; see
`test_closing_an_in_process_handle_stops_its_delivery_worker_cleanly`.)
"""

from __future__ import annotations

import asyncio
import gc
import hashlib
import hmac
import json
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import jsonschema_rs
import pytest

from mocks.control import Admin, conformance_hook
from mocks.pytest_plugin import MockHandle, Namespaces, in_process
from mocks.server import Sandbox

DOC_SITE = "00000000-0000-0000-0000-000000000000"
HARBOUR_SITE = "5a000000-0000-4000-8000-000000000001"
NORTHWIND_SITE = "5a000000-0000-4000-8000-000000000002"
DOC_APP = "00000000-0000-0000-0000-000000000000"
NORTHWIND_APP = "a1000000-0000-4000-8000-000000000001"
COURIER_APP = "a1000000-0000-4000-8000-000000000002"
DOC_BRAND = "00000000-0000-0000-0000-000000000000"
HARBOUR_BRAND = "b1000000-0000-4000-8000-000000000001"
SECRETS = {DOC_APP: "12345", NORTHWIND_APP: "nw-sandbox-access-secret-0001",
           COURIER_APP: "courier-sandbox-access-secret-0001"}
ALL_EVENTS = ["order.created", "order.updated", "order.statusChanged", "order.cancelled"]
ENVELOPE = {"eventId", "eventType", "timestamp", "applicationId", "brandId", "siteId", "data"}
KONDUCTER_RETRY = [1, 2, 4, 8, 16, 32, 64]      # seconds after the 1st..7th failure, 8 attempts in all
LAGERKOLL_RETRY = [2, 4, 8, 16]                 # 5 attempts


# ------------------------------------------------------------------------------- the receiver

@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self):
        return json.loads(self.body)


@dataclass
class WebhookReceiver:
    """A real HTTP endpoint on 127.0.0.1: records every POST; answers `fail_with` for the first `failures`."""

    port: int
    failures: int = 0
    fail_with: int = 500
    received: list[Received] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/konducter"

    def start(self) -> WebhookReceiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver._lock:
                    receiver.received.append(Received(self.path, {k.lower(): v for k, v in self.headers.items()},
                                                      body))
                    failing = receiver.failures > 0
                    receiver.failures -= failing
                self.send_response(receiver.fail_with if failing else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        ThreadingHTTPServer.allow_reuse_address = True
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, args=(0.02,), name="webhook-receiver",
                         daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def of_type(self, event_type: str) -> list[Received]:
        return [r for r in self.received if r.json().get("eventType") == event_type]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(condition: Callable[[], object], timeout: float = 5.0, what: str = "condition") -> object:
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.02)


def stays_false(condition: Callable[[], object], seconds: float = 0.3) -> bool:
    """True when `condition` never became true for `seconds` (the delivery worker looks every 20 ms)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return False
        time.sleep(0.02)
    return True


@pytest.fixture
def receivers() -> Iterator[Callable[..., WebhookReceiver]]:
    made: list[WebhookReceiver] = []

    def make(port: int | None = None, *, start: bool = True, **options) -> WebhookReceiver:
        receiver = WebhookReceiver(port or free_port(), **options)
        made.append(receiver)
        return receiver.start() if start else receiver

    yield make
    for receiver in made:
        receiver.stop()


@pytest.fixture
def receiver(receivers) -> WebhookReceiver:
    return receivers()


@pytest.fixture(scope="module")
def live_sandbox(mocks_store) -> Iterator[Sandbox]:
    """Konducter (cloud + local) and Lagerkoll on real loopback ports, shared by this module's tests."""
    namespaces = Namespaces(mocks_store)
    sandbox = Sandbox.create(["konducter", "lagerkoll"], store=mocks_store, namespace=namespaces.new(), ports={
        "konducter": 0, "konducter.local": 0, "lagerkoll": 0})
    sandbox.start()
    yield sandbox
    sandbox.shutdown()
    namespaces.drop()


def live_handle(sandbox: Sandbox, name: str) -> Iterator[MockHandle]:
    """What `mock_server(name)` gives, on the shared sandbox, after a reset through the admin API."""
    api = sandbox.apis[name]
    base = api.base_urls[api.primary_listener]
    handle = MockHandle(name, api, base, httpx.Client(base_url=base, timeout=10, event_hooks={
        "response": [conformance_hook(name)]}), Admin(httpx.Client(base_url=base, timeout=10)), dict(api.base_urls))
    handle.admin.reset()
    handle.admin.clock(reset=True)
    yield handle
    handle.close()


EVENT_VALIDATORS: dict[str, jsonschema_rs.Draft202012Validator] = {}   # event type -> its contract schema


@pytest.fixture(scope="module", autouse=True)
def _event_schemas_from_the_served_contract(live_sandbox) -> None:
    """The request body each `webhooks:` entry of Konducter's contract declares, from /__mock/openapi.json."""
    api = live_sandbox.apis["konducter"]
    document = httpx.get(api.base_urls[api.primary_listener] + "/__mock/openapi.json", timeout=10).json()
    for name, webhook in document["webhooks"].items():
        event_type = webhook["post"]["x-mock-event"]
        EVENT_VALIDATORS[event_type] = jsonschema_rs.Draft202012Validator({
            "components": document["components"], "webhooks": document["webhooks"],
            "$ref": f"#/webhooks/{name}/post/requestBody/content/application~1json/schema"}, validate_formats=True)


@pytest.fixture
def konducter(live_sandbox) -> Iterator[MockHandle]:
    """Konducter on real ports, fresh state and a real-time clock."""
    yield from live_handle(live_sandbox, "konducter")


@pytest.fixture
def lagerkoll(live_sandbox) -> Iterator[MockHandle]:
    """Lagerkoll on a real port, fresh state and a real-time clock."""
    yield from live_handle(live_sandbox, "lagerkoll")


# ------------------------------------------------------------------------------- helpers

def subscribe(konducter, url: str | None, triggers=ALL_EVENTS, principal: str = "documentation-public",
              application: str = DOC_APP) -> None:
    response = konducter.client.put(f"/applications/{application}/subscription",
                                    json={"handlerUrl": url, "eventTriggers": list(triggers)},
                                    headers=konducter.auth_headers(principal))
    assert response.status_code == 200, response.text


def create_order(konducter, site: str = DOC_SITE, principal: str = "documentation-public", ref: str = "POS-1") -> dict:
    response = konducter.client.post(f"/sites/{site}/orders", headers=konducter.auth_headers(principal), json={
        "externalId": ref, "channel": "inStore", "items": [{"name": "Classic Burger", "quantity": 1}]})
    assert response.status_code == 201, response.text
    return response.json()


def set_status(konducter, order: dict, status: str, principal: str = "documentation-public") -> dict:
    response = konducter.client.patch(f"/sites/{order['siteId']}/orders/{order['id']}", json={"status": status},
                                      headers=konducter.auth_headers(principal))
    assert response.status_code == 200, response.text
    return response.json()


def signature_of(body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def assert_signed_envelope(delivery: Received, application: str) -> dict:
    assert delivery.headers["content-type"].startswith("application/json")
    assert delivery.headers["x-konducter-signature"] == signature_of(delivery.body, SECRETS[application])
    envelope = delivery.json()
    assert set(envelope) == ENVELOPE
    problems = [e.message for e in EVENT_VALIDATORS[envelope["eventType"]].iter_errors(envelope)]
    assert problems == [], f"{envelope['eventType']} does not match the contract's webhook body: {problems}"
    assert delivery.headers["x-konducter-event-id"] == envelope["eventId"]
    assert envelope["applicationId"] == application
    assert envelope["siteId"] == envelope["data"]["siteId"]
    assert envelope["brandId"] == envelope["data"]["brandId"]
    assert envelope["timestamp"].endswith("Z") and "T" in envelope["timestamp"]
    return envelope


def deliveries(handle) -> list[dict]:
    return handle.admin.deliveries()


def only_delivery(handle) -> dict:
    found = deliveries(handle)
    assert len(found) == 1, found
    return found[0]


# ------------------------------------------------------------------------------- Konducter events

def test_order_events_reach_the_subscribed_handler_signed_and_enveloped(konducter, receiver):
    subscribe(konducter, receiver.url)
    order = create_order(konducter)
    set_status(konducter, order, "accepted")
    set_status(konducter, order, "cancelled")
    # created; accepted: updated + statusChanged; cancelled: updated + statusChanged + cancelled
    wait_until(lambda: len(receiver.received) >= 6, what="six deliveries")
    assert stays_false(lambda: len(receiver.received) > 6)
    envelopes = [assert_signed_envelope(r, DOC_APP) for r in receiver.received]
    assert sorted(e["eventType"] for e in envelopes) == sorted(
        ["order.created", "order.updated", "order.statusChanged", "order.updated", "order.statusChanged",
         "order.cancelled"])
    assert len({e["eventId"] for e in envelopes}) == 6
    assert all(e["data"]["id"] == order["id"] and e["siteId"] == DOC_SITE and e["brandId"] == DOC_BRAND
               for e in envelopes)
    assert {r.path for r in receiver.received} == {"/hooks/konducter"}
    created = receiver.of_type("order.created")[0].json()
    assert created["data"] == order
    assert sorted(r.json()["data"]["status"] for r in receiver.of_type("order.statusChanged")) == [
        "accepted", "cancelled"]
    cancelled = receiver.of_type("order.cancelled")
    assert len(cancelled) == 1 and cancelled[0].json()["data"]["status"] == "cancelled"
    assert all(d["state"] == "delivered" and len(d["attempts"]) == 1 for d in deliveries(konducter))


def test_only_the_subscribed_event_triggers_are_sent(konducter, receiver):
    subscribe(konducter, receiver.url, ["order.statusChanged"])
    order = create_order(konducter)
    set_status(konducter, order, "accepted")
    set_status(konducter, order, "inProgress")
    wait_until(lambda: len(receiver.received) >= 2, what="two statusChanged deliveries")
    assert stays_false(lambda: len(receiver.received) > 2)
    assert [r.json()["eventType"] for r in receiver.received] == ["order.statusChanged"] * 2
    assert sorted(r.json()["data"]["status"] for r in receiver.received) == ["accepted", "inProgress"]


def test_a_change_without_a_status_change_is_updated_but_not_status_changed(konducter, receiver):
    subscribe(konducter, receiver.url, ["order.updated", "order.statusChanged"])
    order = create_order(konducter)
    response = konducter.client.patch(f"/sites/{DOC_SITE}/orders/{order['id']}", json={"notes": "No sauce"},
                                      headers=konducter.auth_headers())
    assert response.status_code == 200
    wait_until(lambda: receiver.received, what="the update")
    assert stays_false(lambda: len(receiver.received) > 1)
    assert receiver.received[0].json()["eventType"] == "order.updated"
    assert receiver.received[0].json()["data"]["notes"] == "No sauce"


def test_a_refused_transition_sends_nothing(konducter, receiver):
    order = create_order(konducter)
    subscribe(konducter, receiver.url)
    refused = konducter.client.patch(f"/sites/{DOC_SITE}/orders/{order['id']}", json={"status": "completed"},
                                     headers=konducter.auth_headers())
    assert refused.status_code == 409
    assert stays_false(lambda: receiver.received)
    assert deliveries(konducter) == []


def test_orders_from_the_local_view_and_incoming_webhooks_are_announced_too(konducter, receiver):
    subscribe(konducter, receiver.url, ["order.created"])
    headers = konducter.auth_headers()
    body = {"externalId": "LOCAL-1", "channel": "kiosk", "items": [{"name": "Fries", "quantity": 1}]}
    with httpx.Client(base_url=konducter.listeners["local"], timeout=10,
                      event_hooks={"response": [conformance_hook("konducter")]}) as local:
        assert local.post("/orders", json=body, headers=headers).status_code == 201
    pushed = konducter.client.post(f"/webhooks/{DOC_APP}/brands/{HARBOUR_BRAND}/orders",
                                   json={**body, "externalId": "HOOK-1", "siteId": HARBOUR_SITE}, headers=headers)
    assert pushed.status_code == 201
    wait_until(lambda: len(receiver.received) >= 2, what="two order.created deliveries")
    by_ref = {r.json()["data"]["externalId"]: assert_signed_envelope(r, DOC_APP) for r in receiver.received}
    assert by_ref["LOCAL-1"]["siteId"] == DOC_SITE
    assert by_ref["HOOK-1"]["siteId"] == HARBOUR_SITE and by_ref["HOOK-1"]["brandId"] == HARBOUR_BRAND


def test_each_application_gets_only_its_sites_events_signed_with_its_own_secret(konducter, receivers):
    doc, courier, northwind = receivers(), receivers(), receivers()
    subscribe(konducter, doc.url, ["order.created"])
    subscribe(konducter, courier.url, ["order.created"], "courier-public", COURIER_APP)
    subscribe(konducter, northwind.url, ["order.created"], "northwind-private", NORTHWIND_APP)
    create_order(konducter, DOC_SITE, ref="DOC")
    create_order(konducter, HARBOUR_SITE, ref="HARBOUR")            # shared by documentation and courier
    create_order(konducter, NORTHWIND_SITE, "northwind-private", ref="NW")
    wait_until(lambda: len(doc.received) >= 2 and courier.received and northwind.received, what="deliveries")
    assert stays_false(lambda: len(doc.received) > 2 or len(courier.received) > 1 or len(northwind.received) > 1)
    assert sorted(assert_signed_envelope(r, DOC_APP)["data"]["externalId"] for r in doc.received) == ["DOC", "HARBOUR"]
    assert [assert_signed_envelope(r, COURIER_APP)["data"]["externalId"] for r in courier.received] == ["HARBOUR"]
    assert [assert_signed_envelope(r, NORTHWIND_APP)["data"]["externalId"] for r in northwind.received] == ["NW"]
    assert courier.received[0].headers["x-konducter-signature"] != signature_of(courier.received[0].body, "12345")


def test_a_null_handler_url_switches_delivery_off(konducter, receiver):
    subscribe(konducter, receiver.url, ["order.created"])
    create_order(konducter, ref="ON")
    wait_until(lambda: receiver.received, what="the first delivery")
    subscribe(konducter, None, ["order.created"])
    create_order(konducter, ref="OFF")
    assert stays_false(lambda: len(receiver.received) > 1)
    assert len(deliveries(konducter)) == 1


def test_a_signature_made_with_another_secret_would_not_verify(konducter, receiver):
    """The signature covers the exact body: one changed byte or another secret does not verify."""
    subscribe(konducter, receiver.url, ["order.created"])
    create_order(konducter)
    delivery = wait_until(lambda: receiver.received, what="a delivery")[0]
    assert delivery.headers["x-konducter-signature"] == signature_of(delivery.body, "12345")
    assert delivery.headers["x-konducter-signature"] != signature_of(delivery.body + b" ", "12345")
    assert delivery.headers["x-konducter-signature"] != signature_of(delivery.body, "nw-sandbox-access-secret-0001")


def test_an_in_process_mock_delivers_signed_events_too(mock_api, receiver):
    """The in-process fixtures run the delivery worker on their transport's loop."""
    api = mock_api("konducter")
    try:
        subscribe(api, receiver.url, ["order.created"])
        order = create_order(api)
        delivery = wait_until(lambda: receiver.received, what="an in-process delivery")[0]
        envelope = assert_signed_envelope(delivery, DOC_APP)
        assert envelope["eventType"] == "order.created" and envelope["data"]["id"] == order["id"]
        wait_until(lambda: deliveries(api) and deliveries(api)[0]["state"] == "delivered", what="the delivery log")
    finally:
        stop_in_process_delivery_worker(api)


def stop_in_process_delivery_worker(handle) -> None:
    """Work around the defect below: stop the worker on the loop it runs on before the handle closes."""
    loop = handle.client._transport._loop
    asyncio.run_coroutine_threadsafe(handle.api.stop(), loop).result(timeout=5)


def deliver_once_in_process_and_close(receiver: WebhookReceiver, store: str, namespace: str) -> None:
    handle = in_process("konducter", store=store, namespace=namespace)
    subscribe(handle, receiver.url, ["order.created"])
    create_order(handle)
    wait_until(lambda: deliveries(handle) and deliveries(handle)[0]["state"] == "delivered", what="a delivery")
    handle.close()


def test_closing_an_in_process_handle_stops_its_delivery_worker_cleanly(receiver, mocks_store, store_namespace):
    unraisable: list[str] = []
    previous = sys.unraisablehook
    sys.unraisablehook = lambda report: unraisable.append(f"{report.exc_type.__name__}: {report.exc_value}")
    try:
        deliver_once_in_process_and_close(receiver, mocks_store, store_namespace)
        gc.collect()
    finally:
        sys.unraisablehook = previous
    assert unraisable == []


# ------------------------------------------------------------------------------- Lagerkoll execute

def create_lagerkoll_webhook(lagerkoll, url: str, store: str = "key-store-1001") -> dict:
    response = lagerkoll.client.post("/v1/webhooks/", headers=lagerkoll.auth_headers(store), json={
        "featureId": "customerorders", "featureMethod": "created", "url": url})
    assert response.status_code == 200, response.text
    return response.json()


def test_executing_a_lagerkoll_webhook_posts_the_request_body_to_its_url(lagerkoll, receiver):
    webhook = create_lagerkoll_webhook(lagerkoll, receiver.url.replace("konducter", "lagerkoll"))
    payload = {"type": "customerorder", "action": "created", "orderId": 4711, "storeId": 1001,
               "nested": {"list": [1, 2, {"å": "ö"}]}}
    executed = lagerkoll.client.post(f"/v1/webhooks/{webhook['guid']}", json=payload,
                                     headers=lagerkoll.auth_headers("key-store-1001"))
    assert executed.status_code == 202
    result = executed.json()
    assert result["executed"] is True and result["guid"] == webhook["guid"] and result["webhookId"] == webhook["id"]
    delivery = wait_until(lambda: receiver.received, what="the execution")[0]
    assert delivery.path == "/hooks/lagerkoll"
    assert delivery.json() == payload
    assert delivery.headers["content-type"].startswith("application/json")
    wait_until(lambda: only_delivery(lagerkoll)["state"] == "delivered", what="the delivery log")
    logged = only_delivery(lagerkoll)
    assert logged["id"] == result["deliveryId"] and logged["url"] == webhook["url"]
    assert [a.get("status") for a in logged["attempts"]] == [200]
    assert json.loads(logged["body"]) == payload


def test_each_execution_is_its_own_delivery(lagerkoll, receiver):
    webhook = create_lagerkoll_webhook(lagerkoll, receiver.url)
    headers = lagerkoll.auth_headers("key-store-1001")
    ids = [lagerkoll.client.post(f"/v1/webhooks/{webhook['guid']}", json={"n": n}, headers=headers).json()["deliveryId"]
           for n in range(3)]
    wait_until(lambda: len(receiver.received) >= 3, what="three executions")
    assert sorted(r.json()["n"] for r in receiver.received) == [0, 1, 2]
    assert len(set(ids)) == 3 and {d["id"] for d in deliveries(lagerkoll)} == set(ids)


# ------------------------------------------------------------------------------- outages and retries

def logged_attempts(handle, count: int) -> dict:
    """Wait until the only delivery's log shows `count` attempts. The log, not the receiver, says when the
    next attempt is scheduled: the receiver sees a request before the mock has read its answer."""
    return wait_until(lambda: len(only_delivery(handle)["attempts"]) == count and only_delivery(handle),
                      what=f"attempt {count} in the delivery log")


def first_attempt_failed(handle) -> dict:
    def failed_once():
        found = deliveries(handle)
        return found if found and all(len(d["attempts"]) >= 1 for d in found) else None

    return wait_until(failed_once, what="the first attempt")


def test_a_receiver_that_refuses_connections_gets_the_event_once_it_is_back(konducter, receivers):
    konducter.admin.freeze()
    receiver = receivers(start=False)                      # nothing listens on its port yet
    subscribe(konducter, receiver.url, ["order.created"])
    order = create_order(konducter)
    delivery = first_attempt_failed(konducter)[0]
    assert delivery["state"] == "pending" and "error" in delivery["attempts"][0]
    first_at = delivery["attempts"][0]["at"]
    assert delivery["next_attempt_at"] == pytest.approx(first_at + 1)
    assert stays_false(lambda: len(deliveries(konducter)[0]["attempts"]) > 1)  # not due before the clock moves

    receiver.start()
    konducter.admin.advance(1)
    wait_until(lambda: receiver.received, what="the redelivery")
    wait_until(lambda: deliveries(konducter)[0]["state"] == "delivered", what="the delivered state")
    logged = deliveries(konducter)[0]
    assert [("error" in a, a.get("status")) for a in logged["attempts"]] == [(True, None), (False, 200)]
    assert logged["next_attempt_at"] is None
    assert len(receiver.received) == 1
    envelope = assert_signed_envelope(receiver.received[0], DOC_APP)
    assert envelope["eventId"] == delivery["event_id"] and envelope["data"]["id"] == order["id"]
    assert envelope["timestamp"] == order["createdAt"]     # stamped on the (frozen) mock clock


def test_a_receiver_answering_500_for_a_while_gets_the_same_event_with_backoff(konducter, receivers):
    konducter.admin.freeze()
    receiver = receivers(failures=3, fail_with=500)
    subscribe(konducter, receiver.url, ["order.created"])
    create_order(konducter)
    for attempt, wait in enumerate(KONDUCTER_RETRY[:3], start=1):
        logged_attempts(konducter, attempt)
        assert stays_false(lambda n=attempt: len(receiver.received) > n, 0.15)   # not before it is due
        konducter.admin.advance(wait)
    wait_until(lambda: deliveries(konducter)[0]["state"] == "delivered", what="delivery after three 500s")
    logged = deliveries(konducter)[0]
    assert [a["status"] for a in logged["attempts"]] == [500, 500, 500, 200]
    times = [a["at"] - logged["attempts"][0]["at"] for a in logged["attempts"]]
    assert times == pytest.approx([0, 1, 3, 7])
    assert len(receiver.received) == 4
    assert len({r.body for r in receiver.received}) == 1           # the same envelope every time
    assert len({r.headers["x-konducter-event-id"] for r in receiver.received}) == 1
    assert_signed_envelope(receiver.received[-1], DOC_APP)


def test_nothing_is_lost_while_the_receiver_is_down(konducter, receivers):
    konducter.admin.freeze()
    receiver = receivers(start=False)
    subscribe(konducter, receiver.url, ["order.created", "order.statusChanged"])
    orders = [create_order(konducter, ref=f"DOWN-{n}") for n in range(4)]
    set_status(konducter, orders[0], "accepted")
    wait_until(lambda: len(deliveries(konducter)) == 5 and all(d["attempts"] for d in deliveries(konducter)),
               what="five failed first attempts")
    konducter.admin.advance(1)                                     # second attempts, still down
    wait_until(lambda: all(len(d["attempts"]) == 2 for d in deliveries(konducter)), what="second attempts")
    receiver.start()
    konducter.admin.advance(2)
    wait_until(lambda: all(d["state"] == "delivered" for d in deliveries(konducter)), what="all delivered")
    assert sorted(r.json()["data"]["externalId"] for r in receiver.of_type("order.created")) == [
        "DOWN-0", "DOWN-1", "DOWN-2", "DOWN-3"]
    assert len(receiver.of_type("order.statusChanged")) == 1
    assert {r.json()["eventId"] for r in receiver.received} == {d["event_id"] for d in deliveries(konducter)}


def test_retries_are_bounded_and_the_log_shows_the_final_failure(konducter, receivers):
    konducter.admin.freeze()
    receiver = receivers(failures=10**6, fail_with=503)
    subscribe(konducter, receiver.url, ["order.created"])
    create_order(konducter)
    for attempt, wait in enumerate(KONDUCTER_RETRY, start=1):
        logged_attempts(konducter, attempt)
        konducter.admin.advance(wait)
    wait_until(lambda: deliveries(konducter)[0]["state"] == "failed", what="the failed state")
    konducter.admin.advance(3600)
    assert stays_false(lambda: len(receiver.received) > 8)
    logged = deliveries(konducter)[0]
    assert [a["status"] for a in logged["attempts"]] == [503] * 8 and logged["next_attempt_at"] is None
    info = konducter.admin.http.get("/__mock/deliveries").json()["retry"]
    assert info == {"max_attempts": 8, "horizon_seconds": sum(KONDUCTER_RETRY)}


def test_a_lagerkoll_receiver_that_is_down_gets_the_execution_when_it_is_back(lagerkoll, receivers):
    lagerkoll.admin.freeze()
    receiver = receivers(start=False)
    webhook = create_lagerkoll_webhook(lagerkoll, receiver.url)
    executed = lagerkoll.client.post(f"/v1/webhooks/{webhook['guid']}", json={"orderId": 1},
                                     headers=lagerkoll.auth_headers("key-store-1001"))
    assert executed.status_code == 202
    delivery = first_attempt_failed(lagerkoll)[0]
    assert delivery["next_attempt_at"] == pytest.approx(delivery["attempts"][0]["at"] + LAGERKOLL_RETRY[0])
    lagerkoll.admin.advance(1)                                       # not yet due
    assert stays_false(lambda: len(deliveries(lagerkoll)[0]["attempts"]) > 1)
    receiver.start()
    lagerkoll.admin.advance(1)
    wait_until(lambda: receiver.received, what="the redelivery")
    assert receiver.received[0].json() == {"orderId": 1}
    wait_until(lambda: deliveries(lagerkoll)[0]["state"] == "delivered", what="the delivered state")
    assert len(deliveries(lagerkoll)[0]["attempts"]) == 2
