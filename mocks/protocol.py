"""The sandbox's HTTP connection guard: uvicorn's protocol with deadlines, caps and the API's own error pages.

uvicorn times out idle keep-alive connections, but not a client that never finishes its request
headers (slowloris) or its body, and it does not cap connections. This subclass of uvicorn's
protocol (httptools' when installed, else h11's) does, and renders the errors it produces itself
(malformed requests, headers too large, timeouts, too many connections) through the API's error
catalog. It also offers the ASGI adapter a way to cut a connection without sending a byte
(the `mocks.connection` scope extension), which is how an injected drop looks like the network.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import weakref
from http import HTTPStatus
from typing import Any

from mocks.asgi import CONNECTION_EXTENSION
from mocks.connection_limits import ConnectionLimits
from mocks.errors import ErrorCatalog
from mocks.joined_writes import JoinedWrites
from mocks.types import MockError, MockResponse

try:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol as _UvicornProtocol

    from mocks.direct_lane import DirectLane

    _LANES: tuple[type, ...] = (DirectLane,)  # common requests answered without ASGI (see mocks/direct_lane.py)
except ImportError:  # httptools is optional: uvicorn then speaks HTTP/1.1 through h11 (imported only then)
    from uvicorn.protocols.http.h11_impl import H11Protocol as _UvicornProtocol

    _LANES = ()


class _Guard:
    """Mixed into uvicorn's protocol classes; set `limits` and `errors` on a subclass per listener."""

    limits: ConnectionLimits
    errors: ErrorCatalog

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.app = self._offer_abort(self.app)
        # One timer per connection, not one per request: a deadline is a time and a phase; the timer,
        # when it fires early (the deadline moved on), is armed again for what is due then.
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = 0.0
        self._deadline_at: float | None = None
        self._deadline_phase = "headers"
        self._awaiting_headers = False
        self._header_bytes = 0

    # connection lifecycle --------------------------------------------------------------------
    def connection_made(self, transport: asyncio.Transport) -> None:
        super().connection_made(JoinedWrites(transport, self.loop))  # type: ignore[arg-type]
        if len(self.connections) > self.limits.max_connections:
            self._refuse(MockError("unavailable", f"more than {self.limits.max_connections} open connections "
                                   "to this listener; try again shortly", headers=[("Retry-After", "1")]))
            return
        self._await_headers()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_deadline()
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        super().connection_lost(exc)
        # The transport refers to this protocol and this protocol (and its flow control) to the
        # transport: cut that cycle, or each closed connection waits for the collector (which, once
        # the heap is frozen, `mocks/heap.py`, is the next thorough collection). A request still
        # running writes to a closed stand-in, as it would to the closed transport.
        self.transport.detach()

    def on_response_complete(self) -> None:
        self.transport.flush()  # the status line, headers and body leave as one write
        super().on_response_complete()

    def data_received(self, data: bytes) -> None:
        if not self._awaiting_headers and (self.cycle is None or self.cycle.response_complete):
            self._await_headers()  # the first byte of the next request on a kept-alive connection
        cycle = self.cycle
        if self._awaiting_headers:
            self._header_bytes += len(data)
        super().data_received(data)
        if self.transport.is_closing():
            return
        if self._awaiting_headers:
            if self.cycle is not cycle:
                self._headers_done()
            elif self._header_bytes > self.limits.max_header_bytes:
                self._refuse(MockError("invalid_request", self._too_large()))
                return
        if self.cycle is not None and not self.cycle.more_body and not self._awaiting_headers:
            if self.cycle.response_complete:
                self._await_next_request()  # answered already (the direct lane): idle until the next one
            else:
                self._cancel_deadline()  # the whole request is in; the response is the app's business now

    def send_400_response(self, msg: str) -> None:
        """uvicorn calls this for a request it cannot parse (a NUL in a header, a malformed request line)."""
        too_large = self._awaiting_headers and self._header_bytes > self.limits.max_header_bytes
        self._refuse(MockError("invalid_request", self._too_large() if too_large else f"malformed HTTP request: {msg}"))

    def _too_large(self) -> str:
        return f"the request line and headers are larger than {self.limits.max_header_bytes} bytes"

    # deadlines -------------------------------------------------------------------------------
    def _await_headers(self) -> None:
        self._awaiting_headers, self._header_bytes = True, 0
        self._set_deadline(self.limits.header_timeout, "headers")

    def _headers_done(self) -> None:
        self._awaiting_headers = False
        self._cancel_deadline()
        if self.cycle.more_body:
            self._set_deadline(self.limits.body_timeout, "body")

    def _await_next_request(self) -> None:
        """A kept-alive connection idle after a response: closed quietly after the keep-alive timeout."""
        self._set_deadline(self.limits.keep_alive, "idle")

    def _set_deadline(self, seconds: float, phase: str) -> None:
        self._deadline_at, self._deadline_phase = self.loop.time() + seconds, phase
        if self._timer is None or self._timer_at > self._deadline_at:
            self._arm(self._deadline_at)

    def _arm(self, when: float) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer_at, self._timer = when, self.loop.call_at(when, self._on_timer)

    def _cancel_deadline(self) -> None:
        self._deadline_at = None  # the timer stays armed: when it fires with nothing due, it stops

    def _on_timer(self) -> None:
        self._timer = None
        if self._deadline_at is None:
            return
        if self.loop.time() < self._deadline_at:
            self._arm(self._deadline_at)
            return
        self._deadline_at = None
        self._timed_out(self._deadline_phase)

    def _timed_out(self, phase: str) -> None:
        if phase == "idle":
            self.transport.close()
            return
        if not self._awaiting_headers and self.cycle is not None and self.cycle.response_started:
            self.transport.close()  # the app answered without reading the whole body: nothing left to say
            return
        message = (f"request headers did not arrive within {self.limits.header_timeout:g} s" if phase == "headers"
                   else f"the request body did not arrive within {self.limits.body_timeout:g} s")
        self._refuse(MockError(self._code_for(HTTPStatus.REQUEST_TIMEOUT), message))

    # answers the server gives itself ------------------------------------------------------------
    def _refuse(self, error: MockError) -> None:
        """Answer in the API's own error format and close: nothing more is read from this connection."""
        self._cancel_deadline()
        self._awaiting_headers = False
        if not self.transport.is_closing():
            self.transport.write(raw_response(self.errors.response(error)))
            self.transport.close()
        if self.cycle is not None:
            self.cycle.disconnected = True  # an application still reading this request sees a disconnect

    def _code_for(self, status: int) -> str:
        try:
            return self.errors.code_for(status)
        except KeyError:
            return "invalid_request"

    def _offer_abort(self, app: Any) -> Any:
        # weakly, as everything here: this protocol holds the wrapped app, so a strong reference
        # would make every connection a reference cycle, garbage only the collector can free
        connection = weakref.ref(self)

        async def with_abort(scope: Any, receive: Any, send: Any) -> None:
            cycle = getattr(send, "__self__", None)  # uvicorn's RequestResponseCycle of this request
            # the cycle holds this scope: a strong reference would make every request a cycle too
            request_cycle = weakref.ref(cycle) if cycle is not None else lambda: None
            scope.setdefault("extensions", {})[CONNECTION_EXTENSION] = {"abort": lambda: _abort(request_cycle())}
            await app(scope, receive, send)

        def _abort(cycle: Any) -> None:
            protocol = connection()
            if protocol is not None:
                protocol._abort(cycle)

        return with_abort

    def _abort(self, cycle: Any) -> None:
        """Reset the connection (RST): no status line, no byte of a response."""
        if cycle is not None:
            cycle.disconnected = True  # so uvicorn does not answer the unanswered request itself
        self._cancel_deadline()
        sock = self.transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError, AttributeError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.transport.abort()


def raw_response(response: MockResponse) -> bytes:
    """An HTTP/1.1 response, written straight to a transport, that closes its connection."""
    try:
        reason = HTTPStatus(response.status).phrase
    except ValueError:  # a status the contract declares but HTTP names no phrase for
        reason = ""
    lines = [f"HTTP/1.1 {response.status} {reason}"]
    lines += [f"{name}: {value}" for name, value in response.headers]
    if response.media_type:
        lines.append(f"content-type: {response.media_type}")
    lines += [f"content-length: {len(response.body)}", "connection: close"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + response.body


def guarded_protocol(limits: ConnectionLimits, errors: ErrorCatalog) -> type[asyncio.Protocol]:
    """The protocol class for one listener, for `uvicorn.Config(http=...)`."""
    return type(f"Guarded{_UvicornProtocol.__name__}", (_Guard, *_LANES, _UvicornProtocol),
                {"limits": limits, "errors": errors})
