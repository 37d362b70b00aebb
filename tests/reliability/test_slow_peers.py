"""Clients that never finish a request are timed out, idle kept-alive connections closed, and the open
connections of a listener capped; none of them keeps another client waiting (issue 9, item 12)."""

from __future__ import annotations

import subprocess
import time

import httpx
import pytest
from rawsocket import connect, read_reply, read_response, request_bytes
from reliabilitykit import headers_for, serving
from servekit import COMMAND, ROOT

DEADLINE = 10.0  # every wait below is bounded by this; the sandbox's own deadlines are 1 s


@pytest.fixture(scope="module")
def served():
    yield from serving("--header-timeout", "1", "--body-timeout", "1", "--keep-alive", "1")


@pytest.fixture(scope="module")
def capped():
    yield from serving("--max-connections", "5")


def _istockist(served) -> str:
    return served.urls[("istockist", "api")]


def test_half_a_request_line_is_answered_and_closed(served):
    with connect(_istockist(served)) as sock:
        sock.sendall(b"GET /v1/prod")
        reply = read_reply(sock, timeout=DEADLINE)
    assert reply.ended in ("eof", "reset"), "the connection stayed open"
    assert reply.status == 400
    assert reply.json()["error"]["message"] == "request headers did not arrive within 1 s"


def test_headers_trickling_in_are_timed_out_as_a_whole(served):
    """One header at a time, each well within a second of the last: the deadline is for all of them."""
    with connect(_istockist(served)) as sock:
        sock.sendall(b"GET /v1/products HTTP/1.1\r\nHost: localhost\r\n")
        closed, started = None, time.monotonic()
        while closed is None and time.monotonic() - started < DEADLINE:
            try:
                sock.sendall(b"X-Slow: 1\r\n")
            except OSError:
                break
            reply = read_reply(sock, timeout=0.3)
            if reply.ended != "open" or reply.raw:
                closed = reply
        assert closed is not None and closed.status == 400
        assert "did not arrive within 1 s" in closed.json()["error"]["message"]


def test_a_slow_body_is_timed_out_and_nothing_is_stored(served):
    headers = {**headers_for(served, "istockist"), "Content-Type": "application/json"}
    with connect(_istockist(served)) as sock:
        sock.sendall(request_bytes("POST", "/v1/products", headers, b'{"name": "Slow body"', content_length=200))
        reply = read_reply(sock, timeout=DEADLINE)
    assert reply.status == 400 and reply.ended in ("eof", "reset")
    assert reply.json()["error"]["message"] == "the request body did not arrive within 1 s"
    with served.client("istockist") as client:
        listed = client.get("/v1/products", params={"limit": 100}, headers=headers_for(served, "istockist"))
        assert "Slow body" not in listed.text


def test_an_idle_kept_alive_connection_is_closed(served):
    with connect(_istockist(served)) as sock:
        sock.sendall(request_bytes("GET", "/v1/products", headers_for(served, "istockist")))
        assert read_response(sock, timeout=DEADLINE).status == 200
        after = read_reply(sock, timeout=DEADLINE)  # then say nothing
    assert after.ended == "eof" and after.raw == b""


def test_a_kept_alive_connection_serves_a_prompt_second_request(served):
    listing = request_bytes("GET", "/v1/products", headers_for(served, "istockist"))
    with connect(_istockist(served)) as sock:
        for _ in range(3):
            sock.sendall(listing)
            assert read_response(sock, timeout=DEADLINE).status == 200


@pytest.mark.parametrize("stall, message", [
    (b"GET /v1/products HTTP/1.1\r\nHost: localhost\r\n", "request headers did not arrive within 1 s"),
    (None, "the request body did not arrive within 1 s"),
])
def test_a_request_that_stalls_after_prompt_ones_is_still_timed_out(served, stall, message):
    """The connection's one deadline timer moves with each request: it still fires for a later one."""
    headers = headers_for(served, "istockist")
    stall = stall or request_bytes("POST", "/v1/products", {**headers, "Content-Type": "application/json"},
                                   b'{"name": "Stalled"', content_length=200)
    with connect(_istockist(served)) as sock:
        for _ in range(2):
            sock.sendall(request_bytes("GET", "/v1/products", headers))
            assert read_response(sock, timeout=DEADLINE).status == 200
            time.sleep(0.3)  # within the 1 s keep-alive, so the next request starts a new header deadline
        sock.sendall(stall)
        reply = read_reply(sock, timeout=DEADLINE)
    assert reply.status == 400 and reply.ended in ("eof", "reset")
    assert reply.json()["error"]["message"] == message


def test_many_slow_clients_do_not_delay_a_prompt_one(served):
    url = _istockist(served)
    slow = [connect(url) for _ in range(50)]
    try:
        for sock in slow:
            sock.sendall(b"GET /v1/products HTTP/1.1\r\nHost: loc")
        with served.client("istockist") as client:
            assert client.get("/v1/products", headers=headers_for(served, "istockist")).status_code == 200
        ended = [read_reply(sock, timeout=DEADLINE).ended for sock in slow]
        assert set(ended) <= {"eof", "reset"}, "slow connections stayed open"
    finally:
        for sock in slow:
            sock.close()


def test_connections_over_the_cap_get_the_apis_503(capped):
    url = _istockist(capped)
    held = [connect(url) for _ in range(5)]
    try:
        for sock in held:  # make sure the server has accepted each before the next one knocks
            sock.sendall(b"GET /v1/products HTTP/1.1\r\n")
        time.sleep(0.2)
        with connect(url) as extra:
            refused = read_reply(extra, timeout=DEADLINE)
        assert refused.status == 503 and refused.ended in ("eof", "reset")
        assert refused.headers["retry-after"] == "1"
        assert refused.json()["error"]["code"] == "unavailable"
    finally:
        for sock in held:
            sock.close()
    with capped.client("istockist") as client:  # room again once they are gone
        answered = None
        for _ in range(50):
            try:
                answered = client.get("/v1/products", headers=headers_for(capped, "istockist"))
                break
            except httpx.TransportError:
                time.sleep(0.1)
        assert answered is not None and answered.status_code == 200


@pytest.mark.parametrize("option, value", [("--header-timeout", "0"), ("--body-timeout", "-1"),
                                           ("--keep-alive", "soon"), ("--max-connections", "2.5")])
def test_serve_refuses_a_deadline_or_cap_that_is_not_positive(option, value):
    done = subprocess.run([*COMMAND, "serve", "istockist", option, value], cwd=ROOT, capture_output=True,
                          text=True, timeout=60, check=False)
    assert done.returncode == 2
    assert option in done.stderr and value in done.stderr
