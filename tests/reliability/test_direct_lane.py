"""The sandbox's protocol answers a common request itself (mocks/direct_lane.py) and leaves the rest
(chunked bodies, 100-continue, streams) to uvicorn's ASGI lane. A client must not be able to tell
which lane answered: the same request sent both ways gets the same bytes back."""

from __future__ import annotations

import base64
import re
import socket
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rawsocket import Reply, connect, parse, read_reply, read_response, request_bytes

from mocks import direct_lane
from mocks.server import Sandbox

UUID = re.compile(rb"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
FROZEN_AT = 1_800_000_000.0
MISSING = "c9999999-0000-4000-8000-000000000001"
DATE = re.compile(rb"\r\ndate: [^\r]*")


@pytest.fixture(scope="module")
def sandbox():
    served = Sandbox.create(["istockist"], ports={"istockist": 0}).start()
    fresh(served)
    yield served
    served.shutdown()


@pytest.fixture(scope="module")
def authorization(sandbox) -> str:
    credential = sandbox.apis["istockist"].fixtures.credentials[0]
    return "Basic " + base64.b64encode(str(credential.schemes["BasicAuth"]).encode()).decode()


@pytest.fixture
def lanes_used(monkeypatch) -> list[str]:
    """Which lane wrote each response: the direct lane's writer, counted."""
    used: list[str] = []
    finish = direct_lane.DirectLane._finish

    def counted(self, cycle, response):
        used.append("direct")
        return finish(self, cycle, response)

    monkeypatch.setattr(direct_lane.DirectLane, "_finish", counted)
    return used


def read_responses(sock: socket.socket, *methods: str) -> list[Reply]:
    """The responses to requests pipelined with these methods, each cut at its Content-Length (none for HEAD)."""
    data, replies = b"", []
    count = len(methods)
    sock.settimeout(10)
    while len(replies) < count:
        head = methods[len(replies)] == "HEAD"
        top, sep, rest = data.partition(b"\r\n\r\n")
        if sep:
            reply = parse(top + sep, "open")
            length = 0 if head else int(reply.headers.get("content-length", "0"))
            if len(rest) >= length:
                replies.append(parse(top + sep + rest[:length], "open"))
                data = rest[length:]
                continue
        chunk = sock.recv(65536)
        assert chunk, f"the connection ended after {len(replies)} of {count} responses"
        data += chunk
    return replies


def fresh(sandbox: Sandbox) -> None:
    """The sandbox as it starts, every time: the two lanes must see the same state."""
    api = sandbox.apis["istockist"]
    api.reset()
    api.configure_limit(None, enabled=False)  # remaining-request counters differ from one request to the next
    api.clock.freeze(at=FROZEN_AT)  # so would timestamps of created records


def url_of(sandbox: Sandbox) -> str:
    return sandbox.listeners[0].url


def chunked(method: str, path: str, headers: dict[str, str], body: bytes) -> bytes:
    """The same request with its body in chunks: the direct lane leaves it to ASGI."""
    head = [f"{method} {path} HTTP/1.1", "Host: localhost", "Transfer-Encoding: chunked"]
    head += [f"{name}: {value}" for name, value in headers.items()]
    chunks = (b"%x\r\n%s\r\n" % (len(body), body) if body else b"") + b"0\r\n\r\n"
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + chunks


def exchange(sandbox: Sandbox, raw: bytes) -> bytes:
    with connect(url_of(sandbox)) as sock:
        sock.sendall(raw)
        [reply] = read_responses(sock, raw.split(b" ", 1)[0].decode())
    # what may differ between two answers to one request: the date and the ids of created records
    return UUID.sub(b"<id>", DATE.sub(b"", reply.raw))


SEGMENT = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1, max_size=8).map(
    lambda s: "".join(c if c.isascii() and c.isalnum() else "%" + "%".join(f"{b:02X}" for b in c.encode())
                      for c in s))
PATHS = st.one_of(
    st.sampled_from(["/v1/customers", "/v1/products", "/v1/orders", "/v1/customers/c1000000-0000-4000-8000-000000000001",
                     "/nowhere", "/v1/customers/", "/__mock/journal?limit=1"]),
    SEGMENT.map(lambda s: f"/v1/customers/{s}"),
    st.tuples(SEGMENT, SEGMENT).map(lambda p: f"/v1/products/{p[0]}?q={p[1]}&page=x"),
)
BODIES = st.one_of(
    st.just(b""),
    st.sampled_from([b'{"name": "Lanes Ltd"}', b'{"name": ""}', b"{", b"[]", b'{"name": "\xc3\xa9t\xc3\xa9"}',
                     b"<customer><name>x</name></customer>"]),
    st.binary(max_size=40),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(method=st.sampled_from(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]), path=PATHS, body=BODIES,
       accept=st.sampled_from([None, "application/json", "application/xml", "text/csv", "*/*"]),
       content_type=st.sampled_from([None, "application/json", "text/plain", "application/xml"]),
       authorized=st.booleans())
def test_both_lanes_answer_a_request_alike(sandbox, authorization, method, path, body, accept, content_type,
                                           authorized):
    headers = {"Accept": accept, "Content-Type": content_type, "Authorization": authorization if authorized else None,
               "Origin": "https://shop.example"}
    headers = {name: value for name, value in headers.items() if value is not None}
    fresh(sandbox)
    direct = exchange(sandbox, request_bytes(method, path, headers, body))
    fresh(sandbox)
    through_asgi = exchange(sandbox, chunked(method, path, headers, body))
    assert direct == through_asgi


def test_a_common_request_takes_the_direct_lane_and_a_chunked_one_does_not(sandbox, authorization, lanes_used):
    headers = {"Authorization": authorization}
    assert exchange(sandbox, request_bytes("GET", "/v1/customers", headers)).startswith(b"HTTP/1.1 200")
    assert lanes_used == ["direct"]
    assert exchange(sandbox, chunked("GET", "/v1/customers", headers, b"")).startswith(b"HTTP/1.1 200")
    assert lanes_used == ["direct"]


def test_a_request_that_waits_is_answered_before_the_one_pipelined_behind_it(sandbox, authorization, lanes_used):
    api = sandbox.apis["istockist"]
    fault = api.add_fault({"operation": "listCustomers", "latency": 0.3, "times": 1})
    try:
        headers = {"Authorization": authorization}
        with connect(url_of(sandbox)) as sock:
            started = time.monotonic()
            sock.sendall(request_bytes("GET", "/v1/customers?limit=1", headers)
                         + request_bytes("GET", f"/v1/customers/{MISSING}", headers))
            first, second = read_responses(sock, "GET", "GET")
            waited = time.monotonic() - started
    finally:
        api.faults.clear()
    assert fault.id
    assert (first.status, second.status) == (200, 404)
    assert waited >= 0.3
    assert lanes_used == ["direct"]  # the second waited for the first, so uvicorn's lane queued it


def test_head_answers_the_length_without_the_body(sandbox, authorization):
    headers = {"Authorization": authorization}
    with connect(url_of(sandbox)) as sock:
        sock.sendall(request_bytes("HEAD", "/v1/customers", headers) + request_bytes("GET", "/v1/customers", headers))
        head, get = read_responses(sock, "HEAD", "GET")
    assert head.status == 200 and int(head.headers["content-length"]) == len(get.body) > 0
    assert head.raw.endswith(b"\r\n\r\n")


def test_an_http_1_0_request_is_answered_and_its_connection_closed(sandbox, authorization):
    raw = request_bytes("GET", "/v1/customers", {"Authorization": authorization}).replace(b"HTTP/1.1", b"HTTP/1.0", 1)
    with connect(url_of(sandbox)) as sock:
        sock.sendall(raw)
        reply = read_reply(sock)
    assert reply.status == 200 and reply.ended == "eof"
    assert reply.headers["connection"] == "close"


def test_a_body_in_several_packets_is_read_whole(sandbox, authorization, lanes_used):
    body = b'{"name": "Slow Packets Ltd"}'
    raw = request_bytes("POST", "/v1/customers", {"Authorization": authorization, "Content-Type": "application/json"},
                        body)
    with connect(url_of(sandbox)) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for start in range(0, len(raw), 7):
            sock.sendall(raw[start:start + 7])
            time.sleep(0.002)
        reply = read_response(sock)
    assert reply.status == 200 and reply.json()["name"] == "Slow Packets Ltd"
    assert lanes_used == ["direct"]
