"""The direct lane: the sandbox's HTTP protocol answers a whole common request itself, without ASGI.

uvicorn hands every request to the application as an ASGI task: a scope, a cycle object, an event,
a task and two messages to send, about as much work again as the sandbox's own answer to a GET by
id. The sandbox's protocol (mocks/protocol.py, on httptools) therefore reads the common request
itself: a body announced by Content-Length within the cap (or none), no `Expect: 100-continue`, no
upgrade, nothing else in flight on the connection. It builds the `MockRequest`, asks
`MockApp.answer` (the one dispatch rule both lanes use) for the response and writes it as one
buffer, with the status lines, default headers and header checks uvicorn's own writer uses.

Everything else goes the ASGI way: chunked, oversized or `100-continue` bodies, a request
pipelined behind one still being answered, and any response this lane does not write (a stream,
a status or header uvicorn's writer must judge). So a client sees one behaviour on either lane.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import re
from collections.abc import Generator
from typing import Any
from urllib.parse import unquote

import httptools
from uvicorn.protocols.http.httptools_impl import (
    HEADER_RE,
    HEADER_VALUE_RE,
    STATUS_LINE,
    RequestResponseCycle,
)

from mocks.asgi import MockApp, header_map, header_name, header_value, query_of, send_response
from mocks.types import MockRequest, MockResponse

log = logging.getLogger("mocks")

NO_BODY = -1  # no Content-Length header (yet)
INTERNAL_ERROR = (b"HTTP/1.1 500 Internal Server Error\r\ncontent-type: text/plain; charset=utf-8\r\n"
                  b"content-length: 21\r\nconnection: close\r\n\r\nInternal Server Error")


class _NoWaiter:
    """uvicorn's protocol wakes a cycle's reader on new body bytes or a disconnect; this lane reads
    the body itself and waits for nothing."""

    __slots__ = ()

    def set(self) -> None:
        pass


class DirectCycle:
    """A request in flight on the direct lane, with what uvicorn's protocol and the guard read of a cycle."""

    __slots__ = (
        "body",
        "disconnected",
        "http_version",
        "keep_alive",
        "method",
        "more_body",
        "response_complete",
        "response_started",
        "url",
        "waiter",
    )
    message_event = _NoWaiter()

    def __init__(self, method: str, url: bytes, http_version: str, keep_alive: bool) -> None:
        self.method, self.url, self.http_version, self.keep_alive = method, url, http_version, keep_alive
        self.body = b""
        self.more_body = True
        self.response_started = self.response_complete = self.disconnected = False
        self.waiter: asyncio.Future[None] | None = None  # a shutdown waiting for the rest of the body


class DirectLane:
    """Mixed into the sandbox's httptools protocol (before uvicorn's class) to answer common requests itself."""

    # the parts of uvicorn's HttpToolsProtocol (and of the guard) this lane uses
    parser: httptools.HttpRequestParser
    transport: Any
    cycle: Any
    headers: list[tuple[bytes, bytes]]
    url: bytes
    expect_100_continue: bool
    pipeline: Any
    limit_concurrency: int | None
    config: Any
    loop: asyncio.AbstractEventLoop

    def on_message_begin(self) -> None:
        # uvicorn's scope is made only for a request its lane takes (`_to_asgi_lane`)
        self.url, self.expect_100_continue, self.headers = b"", False, []
        self._announced: int | None = NO_BODY  # what Content-Length announced; None: not this lane's to read

    def on_header(self, name: bytes, value: bytes) -> None:
        """uvicorn's (lower-cased name, value without trailing whitespace, 100-continue noted), and
        how the body is announced, noted as it arrives."""
        name = name.lower()
        value = value.rstrip(b" \t")
        if name == b"expect" and value.lower() == b"100-continue":
            self.expect_100_continue = True
        elif name == b"content-length":
            self._announced = int(value) if value.isdigit() and self._announced == NO_BODY else None
        elif name == b"transfer-encoding":
            self._announced = None
        self.headers.append((name, value))

    def on_headers_complete(self) -> None:
        cycle = self.cycle
        if (self.expect_100_continue or self.pipeline or self.limit_concurrency is not None
                or (cycle is not None and not cycle.response_complete) or self.parser.should_upgrade()
                or not self._body_fits()):
            self._to_asgi_lane()
            return
        version = self.parser.get_http_version()
        self.cycle = DirectCycle(self.parser.get_method().decode("ascii"), self.url, version,
                                 version != "1.0" and self.parser.should_keep_alive())

    def _to_asgi_lane(self) -> None:
        url, headers, expect_100_continue = self.url, self.headers, self.expect_100_continue
        super().on_message_begin()  # type: ignore[misc]
        self.url, self.expect_100_continue = url, expect_100_continue
        self.headers = self.scope["headers"] = headers  # type: ignore[attr-defined]
        super().on_headers_complete()  # type: ignore[misc]

    def _body_fits(self) -> bool:
        """A body announced by one Content-Length within the cap, or none at all."""
        announced = self._announced
        if announced is None:
            return False
        return announced <= 0 or announced <= self.config.app.body_cap(httptools.parse_url(self.url).path.decode("latin-1"))

    def on_body(self, body: bytes) -> None:
        cycle = self.cycle
        if type(cycle) is DirectCycle:
            cycle.body += body  # within the announced (capped) length: read whole, never paused
        else:
            super().on_body(body)  # type: ignore[misc]

    def on_message_complete(self) -> None:
        cycle = self.cycle
        if type(cycle) is not DirectCycle:
            super().on_message_complete()  # type: ignore[misc]
            return
        if cycle.response_complete:
            return
        cycle.more_body = False
        if cycle.waiter is not None and not cycle.waiter.done():
            cycle.waiter.set_result(None)
        app: MockApp = self.config.app
        url = httptools.parse_url(cycle.url)
        # the raw path keeps %2F inside a segment (the router decodes each segment once); ASCII only,
        # as uvicorn's ASGI lane insists: a byte beyond it ends in the guard's 400 either way
        request = MockRequest(method=cycle.method, path=url.path.decode("ascii"), query=query_of(url.query or b""),
                              headers=header_map(self.headers), body=cycle.body, listener=app.listener,
                              client=(self.client or ("", 0))[0] or "",  # type: ignore[attr-defined]
                              scheme=self.scheme)  # type: ignore[attr-defined]
        answering = app.answer(request)
        try:
            waiting_on = answering.send(None)
        except StopIteration as answered:
            self._finish(cycle, answered.value)
            return
        except Exception:
            log.exception("exception while answering %s %s", request.method, request.path)
            self._write_internal_error(cycle)
            return
        # it waits (an injected latency, a webhook): the rest runs as a task uvicorn waits for at shutdown
        task = self.loop.create_task(self._answer_later(cycle, request, _Resumed(answering, waiting_on)))
        tasks = self.tasks  # type: ignore[attr-defined]
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    def shutdown(self) -> None:
        """uvicorn's graceful shutdown. A request whose body is still arriving gets the grace period
        to finish (it is then answered, and the connection closed); when the grace is over, the API's
        503, as the ASGI lane's reader gets."""
        cycle = self.cycle
        if type(cycle) is DirectCycle and cycle.more_body:
            cycle.keep_alive = False
            cycle.waiter = self.loop.create_future()
            task = self.loop.create_task(self._await_body_at_shutdown(cycle))
            tasks = self.tasks  # type: ignore[attr-defined]
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            return
        super().shutdown()  # type: ignore[misc]

    async def _await_body_at_shutdown(self, cycle: DirectCycle) -> None:
        try:
            await asyncio.shield(cycle.waiter)  # type: ignore[arg-type]
        except asyncio.CancelledError:
            if cycle.more_body:
                headers = header_map(self.headers)
                self._finish(cycle, self.config.app.shutting_down(headers.get("accept")))
            raise

    async def _answer_later(self, cycle: DirectCycle, request: MockRequest, answering: _Resumed) -> None:
        try:
            response = await answering
        except asyncio.CancelledError:
            # the server is shutting down and the grace period is over
            self._finish(cycle, self.config.app.shutting_down(request.header("accept")))
            raise
        except Exception:
            log.exception("exception while answering %s %s", request.method, request.path)
            self._write_internal_error(cycle)
            return
        self._finish(cycle, response)

    def connection_lost(self, exc: Exception | None) -> None:
        cycle = self.cycle
        if type(cycle) is DirectCycle and cycle.waiter is not None and not cycle.waiter.done():
            cycle.waiter.set_result(None)  # nothing more will arrive: a shutdown need not wait for it
        super().connection_lost(exc)  # type: ignore[misc]

    def on_response_complete(self) -> None:
        """uvicorn's, except that an idle kept-alive connection is timed by the guard's one deadline
        timer (`_await_next_request`) rather than by a timer made and cancelled per request."""
        self.server_state.total_requests += 1  # type: ignore[attr-defined]
        if self.transport.is_closing():
            return
        self.flow.resume_reading()  # type: ignore[attr-defined]
        if self.pipeline:
            cycle, app = self.pipeline.pop()
            self._start_asgi_task(cycle, app)  # type: ignore[attr-defined]
        else:
            self._await_next_request()  # type: ignore[attr-defined]

    def _finish(self, cycle: DirectCycle, response: MockResponse) -> None:
        if cycle.disconnected or self.transport.is_closing():
            return
        if response.drop:
            self._abort(cycle)  # type: ignore[attr-defined]
            return
        written = encoded(response, cycle.method, cycle.keep_alive, self.server_state.default_headers)  # type: ignore[attr-defined]
        if written is None:
            self._hand_to_uvicorn(cycle, response)
            return
        data, cycle.keep_alive = written
        cycle.response_started = cycle.response_complete = True
        self.transport.write_whole(data)
        if not cycle.keep_alive:
            self.transport.close()
        self.on_response_complete()  # type: ignore[attr-defined]

    def _hand_to_uvicorn(self, cycle: DirectCycle, response: MockResponse) -> None:
        """A response uvicorn's writer sends (a stream) or judges (a header it refuses): an ASGI cycle of
        its own for the request already read."""
        url = httptools.parse_url(cycle.url)
        scope = {"type": "http", "asgi": {"version": "3.0", "spec_version": "2.3"}, "http_version": cycle.http_version,
                 "server": self.server, "client": self.client, "scheme": self.scheme,  # type: ignore[attr-defined]
                 "method": cycle.method, "root_path": "", "path": unquote(url.path.decode("ascii")), "raw_path": url.path,
                 "query_string": url.query or b"", "headers": self.headers}
        asgi_cycle = RequestResponseCycle(
            scope=scope, transport=self.transport, flow=self.flow, logger=self.logger,  # type: ignore[attr-defined]
            access_logger=self.access_logger, access_log=self.access_log,  # type: ignore[attr-defined]
            default_headers=self.server_state.default_headers,  # type: ignore[attr-defined]
            message_event=asyncio.Event(), expect_100_continue=False, keep_alive=cycle.keep_alive,
            on_response=self.on_response_complete)  # type: ignore[attr-defined]
        asgi_cycle.more_body = False
        self.cycle = asgi_cycle

        async def send_it(scope: Any, receive: Any, send: Any) -> None:
            await send_response(response, scope, receive, send)

        self._start_asgi_task(asgi_cycle, send_it)  # type: ignore[attr-defined]

    def _write_internal_error(self, cycle: DirectCycle) -> None:
        """What uvicorn answers when its application raises (the pipeline itself never does)."""
        if cycle.disconnected or self.transport.is_closing():
            return
        cycle.response_started = cycle.response_complete = True
        self.transport.write_whole(INTERNAL_ERROR)
        self.transport.close()


def encoded(response: MockResponse, method: str, keep_alive: bool,
            default_headers: list[tuple[bytes, bytes]]) -> tuple[bytes, bool] | None:
    """The response as one buffer and whether the connection stays open after it; None when uvicorn's
    writer must send it (a stream) or judge it (a status it has no line for, a header it refuses)."""
    status_line = STATUS_LINE.get(response.status)
    if status_line is None or response.stream is not None:
        return None
    lines, values, closes = [], [], False
    for name, value in response.headers:
        prefix = _header_prefix(name)
        if prefix is None:
            return None
        value = value if type(value) is str else str(value)
        if prefix == "connection: " and "close" in (token.strip().lower() for token in value.split(",")):
            closes = True
        lines += (prefix, value, "\r\n")
        values.append(value)
    lines += ("content-length: ", str(len(response.body)), "\r\n")
    if _REFUSED_VALUE.search("\t".join(values)):  # a tab is the one control character a value may hold
        return None
    try:
        head = "".join(lines).encode("latin-1")
    except UnicodeEncodeError:
        return None
    parts = [status_line, _default_block(default_headers), head]
    if response.media_type:
        media_type = header_value(response.media_type)  # UTF-8, as the ASGI lane sends it
        if HEADER_VALUE_RE.search(media_type):
            return None
        parts += (b"content-type: ", media_type, b"\r\n")
    if not keep_alive and not closes:
        parts.append(b"connection: close\r\n")
    parts.append(b"\r\n")
    if method != "HEAD":
        parts.append(response.body)
    return b"".join(parts), keep_alive and not closes


_REFUSED_VALUE = re.compile(HEADER_VALUE_RE.pattern.decode("latin-1"))  # uvicorn's check, on text


@functools.lru_cache(maxsize=1024)
def _header_prefix(name: str) -> str | None:
    """`name: ` as written (lower-cased); None for a name uvicorn's writer refuses. Names repeat on
    every response (the contract's, the limiter's, the sandbox's), so each is checked once."""
    try:
        if HEADER_RE.search(header_name(name)):
            return None
    except UnicodeEncodeError:
        return None
    return name.lower() + ": "


def _default_block(default_headers: list[tuple[bytes, bytes]],
                   _last: list[Any] = [None, b""]) -> bytes:  # noqa: B006  (the cache of one entry)
    """uvicorn's default headers (date, server) as written; it replaces the list when the second turns."""
    if _last[0] is not default_headers:
        _last[:] = [default_headers, b"".join(b"%s: %s\r\n" % pair for pair in default_headers)]
    return _last[1]


class _Resumed:
    """The rest of a coroutine that was started outside a task and is now waiting on `waiting_on`:
    awaited inside a task, it hands that wait to the task and carries the coroutine on from there."""

    __slots__ = ("_coroutine", "_waiting_on")

    def __init__(self, coroutine: Any, waiting_on: Any) -> None:
        self._coroutine, self._waiting_on = coroutine, waiting_on

    def __await__(self) -> Generator[Any, Any, Any]:
        waiting_on = self._waiting_on
        while True:
            try:
                sent = yield waiting_on
            except BaseException as exc:  # noqa: BLE001  (a cancellation goes into the coroutine, as in a task)
                try:
                    waiting_on = self._coroutine.throw(exc)
                except StopIteration as done:
                    return done.value
            else:
                try:
                    waiting_on = self._coroutine.send(sent)
                except StopIteration as done:
                    return done.value
