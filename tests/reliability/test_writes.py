"""What the sandbox writes, as the client's socket sees it: a small response arrives as one TCP
segment (status line, headers and body in one write), and a request without a body is answered
at once, without an interim `100 Continue` (issue 13)."""

from __future__ import annotations

import socket
import struct

import pytest
from rawsocket import connect, read_reply, read_response, request_bytes
from reliabilitykit import headers_for, serving

DEADLINE = 10.0
# struct tcp_info (linux/tcp.h): tcpi_data_segs_in, the segments that carried data to this socket
DATA_SEGS_IN_OFFSET = 152


@pytest.fixture(scope="module")
def served():
    yield from serving()


def _istockist(served) -> str:
    return served.urls[("istockist", "api")]


def _data_segments_in(sock: socket.socket) -> int:
    info = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 256)
    if len(info) < DATA_SEGS_IN_OFFSET + 4:
        pytest.skip("this kernel's tcp_info has no data segment count (Linux 4.6+)")
    return struct.unpack_from("I", info, DATA_SEGS_IN_OFFSET)[0]


@pytest.mark.skipif(not hasattr(socket, "TCP_INFO"), reason="TCP_INFO is Linux's")
@pytest.mark.parametrize("path, status", [("/v1/products", 200), ("/v1/no-such-thing", 404)])
def test_each_small_response_arrives_as_one_segment(served, path, status):
    ask = request_bytes("GET", path, headers_for(served, "istockist"))
    with connect(_istockist(served)) as sock:
        for _ in range(3):  # every request of a kept-alive connection, not just the first
            before = _data_segments_in(sock)
            sock.sendall(ask)
            reply = read_response(sock, timeout=DEADLINE)
            assert reply.status == status
            assert _data_segments_in(sock) - before == 1, "the response came in more than one segment"


def test_a_request_without_a_body_gets_no_interim_continue(served):
    """Expect: 100-continue on a GET: there is no body to wait for, so the first line is the answer."""
    headers = {**headers_for(served, "istockist"), "Expect": "100-continue"}
    with connect(_istockist(served)) as sock:
        sock.sendall(request_bytes("GET", "/v1/products", headers))
        reply = read_response(sock, timeout=DEADLINE)
    assert reply.raw.startswith(b"HTTP/1.1 200 "), reply.raw[:40]


def test_a_request_with_a_body_still_gets_its_continue(served):
    headers = {**headers_for(served, "istockist"), "Expect": "100-continue", "Content-Type": "application/json",
               "Content-Length": "20"}
    with connect(_istockist(served)) as sock:
        sock.sendall(request_bytes("POST", "/v1/customers", headers))
        interim = read_reply(sock, timeout=1.0)
        assert interim.raw.startswith(b"HTTP/1.1 100 Continue\r\n\r\n")
        sock.sendall(b'{"name": "Expected"}')
        final = read_response(sock, timeout=DEADLINE)
    assert final.status == 200 and final.json()["name"] == "Expected"
