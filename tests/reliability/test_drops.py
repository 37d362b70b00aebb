"""An injected drop sends no byte of a response: over a real socket the connection just ends (reset),
in process the client gets a transport error, never a response (issue 9, item 15)."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from rawsocket import connect, read_reply, request_bytes
from reliabilitykit import admin, headers_for, serving

from mocks.app import MockApp
from mocks.registry import load_api

PRODUCT = b'{"name": "Drop probe", "unit_amount": 100, "currency": "nzd"}'


@pytest.fixture(scope="module")
def served():
    yield from serving()


def _add_drop(served, when: str, operation: str = "createProduct") -> None:
    with admin(served, "istockist") as http:
        http.delete("/faults")
        assert http.post("/faults", json={"operation": operation, "drop": when, "times": 1}).status_code == 201


def _products_named(served, name: str) -> int:
    with served.client("istockist") as client:
        listed = client.get("/v1/products", params={"limit": 100}, headers=headers_for(served, "istockist"))
        return sum(1 for product in listed.json()["data"] if product["name"] == name)


@pytest.mark.parametrize("when", ["before", "after"])
def test_a_drop_sends_no_byte_over_a_raw_socket(served, when):
    _add_drop(served, when)
    before = _products_named(served, "Drop probe")
    headers = {**headers_for(served, "istockist"), "Content-Type": "application/json"}
    with connect(served.urls[("istockist", "api")]) as sock:
        sock.sendall(request_bytes("POST", "/v1/products", headers, PRODUCT))
        reply = read_reply(sock, timeout=10)
    assert reply.raw == b"", f"a dropped connection sent {reply.raw[:80]!r}"
    assert reply.ended in ("reset", "eof")
    # before: nothing happened; after: committed, response lost
    assert _products_named(served, "Drop probe") == before + (when == "after")
    with admin(served, "istockist") as http:
        entry = http.get("/journal", params={"operation": "createProduct"}).json()["entries"][-1]
    assert entry["dropped"] is True and entry["status"] is None


@pytest.mark.parametrize("when", ["before", "after"])
def test_a_drop_is_a_transport_error_for_httpx_on_a_real_port(served, when):
    _add_drop(served, when, "listProducts")
    with served.client("istockist") as client, pytest.raises(httpx.TransportError):
        client.get("/v1/products", headers=headers_for(served, "istockist"))
    with served.client("istockist") as client:  # the next request is answered as usual
        assert client.get("/v1/products", headers=headers_for(served, "istockist")).status_code == 200


def test_a_kept_alive_connection_is_not_answered_after_a_drop(served):
    """The drop strikes the second request on one connection: nothing of it reaches the client."""
    with admin(served, "istockist") as http:
        http.delete("/faults")
        http.post("/faults", json={"operation": "listProducts", "drop": "before", "after": 1, "times": 1})
    listing = request_bytes("GET", "/v1/products", headers_for(served, "istockist"))
    with connect(served.urls[("istockist", "api")]) as sock:
        sock.sendall(listing)
        first = read_reply(sock, timeout=2)  # answered; the connection stays open
        assert first.status == 200 and first.ended == "open"
        sock.sendall(listing)
        second = read_reply(sock, timeout=10)
    assert second.raw == b"" and second.ended in ("reset", "eof")


def test_in_process_a_drop_is_a_transport_error_through_the_pytest_plugin(mock_api):
    shop = mock_api("istockist")
    shop.admin.add_fault(operation="listProducts", drop="before", times=1)
    with pytest.raises(httpx.RemoteProtocolError):
        shop.client.get("/v1/products", headers=shop.auth_headers())
    assert shop.client.get("/v1/products", headers=shop.auth_headers()).status_code == 200


def test_in_process_a_drop_is_a_transport_error_on_httpx_asgi_transport():
    api = load_api("istockist")
    api.add_fault({"operation": "listProducts", "drop": "after", "times": 1})
    from mocks.control import auth_headers

    async def call() -> None:
        transport = httpx.ASGITransport(app=MockApp(api, api.primary_listener))
        async with httpx.AsyncClient(transport=transport, base_url="http://istockist") as client:
            with pytest.raises(httpx.TransportError):
                await client.get("/v1/products", headers=auth_headers(api))
            assert (await client.get("/v1/products", headers=auth_headers(api))).status_code == 200

    asyncio.run(call())
