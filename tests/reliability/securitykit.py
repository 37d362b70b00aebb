"""Helpers for the security tests of tests/reliability: a real `mocks serve` driven as a client would.

Credentials come from the table `mocks serve` prints; webhooks are registered and executed through
Lagerkoll's and Konducter's own endpoints, and their delivery attempts read from `/__mock/deliveries`.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from servekit import Served, end, start_serve

JSON = {"Content-Type": "application/json"}
KONDUCTER_APP = "00000000-0000-0000-0000-000000000000"


def lagerkoll_headers(served: Served, principal: str = "key-store-1001") -> dict[str, str]:
    pairs, scopes = served.credential("lagerkoll", principal)
    return {"api_key": pairs["ApiKey"], "store": scopes[0]}


def konducter_headers(served: Served, principal: str = "documentation-public") -> dict[str, str]:
    pairs, _ = served.credential("konducter", principal)
    return {"AccessKey": pairs["AccessKey"], "AccessSecret": pairs["AccessSecret"]}


def istockist_headers(served: Served, principal: str = "kauri-roasters") -> dict[str, str]:
    pairs, _ = served.credential("istockist", principal)
    return {"Authorization": "Basic " + base64.b64encode(pairs["BasicAuth"].encode()).decode()}


def register_lagerkoll_webhook(served: Served, url: str) -> httpx.Response:
    with served.client("lagerkoll", checked=False) as client:
        return client.post("/v1/webhooks/", headers=lagerkoll_headers(served),
                           json={"featureId": "articles", "featureMethod": "created", "url": url})


def execute_lagerkoll_webhook(served: Served, guid: str, payload: dict) -> str:
    """Execute the webhook; the id of the delivery the sandbox queued."""
    with served.client("lagerkoll") as client:
        response = client.post(f"/v1/webhooks/{guid}", headers=lagerkoll_headers(served), json=payload)
    assert response.is_success, response.text
    return response.json()["deliveryId"]


def first_attempt(served: Served, api: str, delivery_id: str, timeout: float = 10.0) -> dict:
    """The first delivery attempt of a delivery, once the sandbox has made it (bounded wait)."""
    deadline = time.monotonic() + timeout
    with httpx.Client(base_url=served.admin_links[api].removesuffix("/__mock/info"), timeout=5) as admin:
        while time.monotonic() < deadline:
            for delivery in admin.get("/__mock/deliveries").json()["deliveries"]:
                if delivery["id"] == delivery_id and delivery["attempts"]:
                    return delivery["attempts"][0]
            time.sleep(0.05)
    raise AssertionError(f"delivery {delivery_id} made no attempt within {timeout} s")


def admin_client(served: Served, api: str) -> httpx.Client:
    return httpx.Client(base_url=served.admin_links[api].removesuffix("/__mock/info"), timeout=10)


@contextmanager
def receiver() -> Iterator[tuple[str, list[bytes]]]:
    """A user's own webhook handler on 127.0.0.1 (a free port): its URL and the bodies it received."""
    received: list[bytes] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hooks", received
    finally:
        server.shutdown()
        server.server_close()


def json_of(response: httpx.Response) -> dict:
    try:
        return response.json()
    except json.JSONDecodeError as exc:
        raise AssertionError(f"{response.status_code} is not JSON: {response.text!r}") from exc


@pytest.fixture(scope="module", name="istockist_sandbox")
def istockist_sandbox_fixture() -> Iterator[Served]:
    """`mocks serve istockist` on a free port, shared by one test module."""
    served = start_serve("istockist", "--port", "istockist=0", "--limit", "istockist=100000/s")
    yield served
    end(served)


@pytest.fixture(name="istockist_admin")
def istockist_admin_fixture(istockist_sandbox) -> Iterator[httpx.Client]:
    """An admin client of that sandbox; state, faults, limits and clock are put back after each test."""
    with admin_client(istockist_sandbox, "istockist") as client:
        yield client
        client.post("/__mock/reset", headers=JSON)
        client.post("/__mock/clock", json={"reset": True})
