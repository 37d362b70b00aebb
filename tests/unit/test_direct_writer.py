"""The direct lane writes a response (mocks/direct_lane.py `encoded`) exactly as uvicorn's ASGI writer
does after `asgi.send_response`, and leaves to that writer every response it would refuse."""

from __future__ import annotations

import asyncio
import logging

from hypothesis import given, settings
from hypothesis import strategies as st
from uvicorn.protocols.http.httptools_impl import RequestResponseCycle

from mocks.asgi import send_response
from mocks.direct_lane import encoded
from mocks.types import MockResponse

DEFAULT_HEADERS = [(b"date", b"Sat, 05 Dec 2026 08:28:51 GMT"), (b"server", b"uvicorn")]


class _Transport:
    def __init__(self) -> None:
        self.written, self.closed = b"", False

    def write(self, data: bytes) -> None:
        self.written += data

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed


class _Flow:
    write_paused = False


def through_uvicorn(response: MockResponse, method: str, keep_alive: bool) -> tuple[bytes, bool] | None:
    """What uvicorn's writer sends for the response, and whether it keeps the connection; None if it refuses."""
    transport = _Transport()
    scope = {"type": "http", "method": method, "http_version": "1.1", "path": "/", "raw_path": b"/",
             "query_string": b"", "headers": [], "client": None, "server": None, "scheme": "http"}
    cycle = RequestResponseCycle(scope=scope, transport=transport, flow=_Flow(), logger=logging.getLogger("t"),
                                 access_logger=logging.getLogger("t"), access_log=False,
                                 default_headers=DEFAULT_HEADERS, message_event=asyncio.Event(),
                                 expect_100_continue=False, keep_alive=keep_alive, on_response=lambda: None)

    async def receive():
        return {"type": "http.disconnect"}

    try:
        asyncio.run(send_response(response, scope, receive, cycle.send))
    except (RuntimeError, UnicodeEncodeError, KeyError):  # a header or a status it refuses
        return None
    return transport.written, not transport.closed


NAMES = st.sampled_from(["Istockist-Version", "X-RateLimit-Remaining", "Retry-After", "Connection", "Location",
                         "Bad Name", "X-Ä", "X-€", "Set-Cookie"])
VALUES = st.one_of(st.sampled_from(["2021-03-15", "close", "keep-alive, Close", "a\tb", "a\r\nInjected: 1", "é",
                                    "€", "\x00", ""]),
                   st.integers(0, 10**9), st.text(max_size=12))
RESPONSES = st.builds(
    MockResponse,
    status=st.sampled_from([200, 201, 204, 304, 400, 402, 409, 429, 503, 599, 600, 99]),
    body=st.binary(max_size=30),
    media_type=st.sampled_from([None, "application/json", "application/xml; charset=utf-8", "text/é"]),
    headers=st.lists(st.tuples(NAMES, VALUES), max_size=4),
)


@settings(max_examples=300)
@given(response=RESPONSES, method=st.sampled_from(["GET", "HEAD", "POST"]), keep_alive=st.booleans())
def test_the_direct_writer_writes_what_uvicorn_writes_or_leaves_it_to_uvicorn(response, method, keep_alive):
    direct = encoded(response, method, keep_alive, DEFAULT_HEADERS)
    expected = through_uvicorn(response, method, keep_alive)
    # None: handed to uvicorn's writer, which then refuses it (and answers 500) as before
    assert direct == expected


def test_a_header_value_that_would_split_the_response_is_left_to_uvicorn():
    response = MockResponse(200, b"{}", "application/json", [("Location", "/a\r\nInjected: 1")])
    assert encoded(response, "GET", True, DEFAULT_HEADERS) is None
    assert through_uvicorn(response, "GET", True) is None


def test_connection_close_from_the_app_ends_the_connection_once():
    response = MockResponse(200, b"{}", "application/json", [("Connection", "close")])
    written, keeps = encoded(response, "GET", True, DEFAULT_HEADERS)
    assert not keeps and written.count(b"connection: close") == 1
