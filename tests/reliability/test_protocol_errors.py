"""Errors the HTTP server produces itself are in the API's own format (issue 9, item 14): a request it
cannot parse, headers over the cap, and requests still in flight when the sandbox shuts down."""

from __future__ import annotations

import signal
import threading

import httpx
import pytest
from rawsocket import connect, read_reply, request_bytes, send_and_read
from reliabilitykit import headers_for, serving, steering
from servekit import start_serve

NUL_IN_HEADER = b"GET /v1/products HTTP/1.1\r\nHost: localhost\r\nX-Probe: a\x00b\r\n\r\n"
MALFORMED_LINE = b"GET\x01/v1 products\r\n\r\n"
HUGE_HEADER = b"GET /v1/products HTTP/1.1\r\nHost: localhost\r\nX-Big: " + b"a" * (1 << 20) + b"\r\n\r\n"


@pytest.fixture(scope="module")
def served():
    yield from serving()


@pytest.mark.parametrize("raw", [NUL_IN_HEADER, MALFORMED_LINE], ids=["nul-in-header", "malformed-request-line"])
def test_an_unparseable_request_is_the_apis_400(served, raw):
    istockist = send_and_read(served.urls[("istockist", "api")], raw)
    assert istockist.status == 400 and istockist.headers["content-type"] == "application/json"
    error = istockist.json()["error"]
    assert error["type"] == "invalid_request_error" and error["message"].startswith("malformed HTTP request")

    lagerkoll = send_and_read(served.urls[("lagerkoll", "api")], raw)
    assert lagerkoll.status == 400 and lagerkoll.json()["errorCode"] == 900101

    konducter = send_and_read(served.urls[("konducter", "cloud")], raw)  # its errors carry no body
    assert konducter.status == 400 and konducter.body == b"" and konducter.headers["content-length"] == "0"


def test_a_1_mb_header_is_the_apis_400(served):
    reply = send_and_read(served.urls[("plggr", "api")], HUGE_HEADER)
    assert reply.status == 400
    assert b"larger than 65536 bytes" in reply.body


def test_the_server_keeps_answering_after_protocol_errors(served):
    for raw in (NUL_IN_HEADER, MALFORMED_LINE, HUGE_HEADER):
        send_and_read(served.urls[("istockist", "api")], raw)
    with served.client("istockist") as client:
        assert client.get("/v1/products", headers=headers_for(served, "istockist")).status_code == 200


def test_a_request_in_flight_at_shutdown_gets_the_apis_503():
    served = start_serve("istockist", "--port", "istockist=0")
    try:
        steer = steering(served, "istockist")
        fault = steer.add_fault(operation="listProducts", latency=30)
        outcome: dict[str, httpx.Response | Exception] = {}

        def call() -> None:
            try:
                with served.client("istockist", checked=False) as client:
                    outcome["response"] = client.get("/v1/products", headers=headers_for(served, "istockist"),
                                                     timeout=20)
            except httpx.HTTPError as exc:  # recorded for the assertion below
                outcome["response"] = exc

        caller = threading.Thread(target=call)
        caller.start()
        steer.wait_until_fired(fault["id"], timeout=10)  # the request is inside the pipeline now
        steer.http.close()
        served.process.send_signal(signal.SIGTERM)
        caller.join(timeout=20)
        served.process.wait(timeout=20)
    finally:
        if served.process.poll() is None:
            served.process.kill()
    response = outcome["response"]
    assert isinstance(response, httpx.Response), f"no answer: {response!r}"
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "unavailable"
    assert response.json()["error"]["message"] == "the sandbox is shutting down"


def test_a_body_still_arriving_at_shutdown_gets_the_apis_503():
    served = start_serve("istockist", "--port", "istockist=0")
    try:
        headers = {**headers_for(served, "istockist"), "Content-Type": "application/json"}
        with connect(served.urls[("istockist", "api")]) as sock:
            sock.sendall(request_bytes("POST", "/v1/products", headers, b'{"name": "Half', content_length=500))
            sock.sendall(b" a body")  # the server has the headers and part of the body when it is told to stop
            threading.Event().wait(0.3)
            served.process.send_signal(signal.SIGTERM)
            reply = read_reply(sock, timeout=20)
        served.process.wait(timeout=20)
    finally:
        if served.process.poll() is None:
            served.process.kill()
    assert reply.status == 503
    assert reply.json()["error"]["message"] == "the sandbox is shutting down"
