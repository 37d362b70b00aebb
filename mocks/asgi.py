"""The ASGI adapter `MockApp`: ASGI requests in, pipeline responses out.

`MockApp.answer` is the one dispatch rule (console, admin API, the API) for both lanes of the
sandbox's protocol: this ASGI one, and the direct lane (`mocks.direct_lane`) that reads common
requests without ASGI. No behaviour lives here. Admin requests go to the admin table
(`mocks.admin.table`); the route modules register there when `mocks.app` imports them.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Iterable
from urllib.parse import parse_qs, quote

from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from mocks import admin_gate
from mocks.admin import table as admin
from mocks.console.assets import console_asset, is_console_asset
from mocks.engine import Api
from mocks.media import MAX_ADMIN_BODY_BYTES, MAX_BODY_BYTES, too_large
from mocks.types import MockError, MockRequest, MockResponse

ADMIN_PREFIX = "/__mock/"
# The ASGI scope extension through which the sandbox's HTTP protocol (mocks/protocol.py) lets the
# adapter cut a connection: {"abort": callable}. Servers without it get ConnectionDropped raised.
CONNECTION_EXTENSION = "mocks.connection"
HTTP_1 = ("1.1", "1.0")  # the versions whose requests announce a body in their headers or have none


class MockApp:
    def __init__(self, api: Api, listener: str, *, admin: bool = True, admin_token: str | None = None,
                 served_on_socket: bool = False) -> None:
        self.api = api
        self.listener = listener
        self.admin_enabled = admin and listener == api.primary_listener
        self.admin_token = admin_token
        self.served_on_socket = served_on_socket  # a browser can reach it: the gate checks Host names too

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        try:
            request = await self._read(scope, receive)
            if request is None:
                return  # the client left (or was timed out) before its body arrived: never act on part of it
            response = await self.answer(request)
        except asyncio.CancelledError:
            await send_response(self.shutting_down(_headers(scope).get("accept")), scope, receive, send)
            raise
        if response.drop:
            _cut(scope)
            return
        await send_response(response, scope, receive, send)

    async def answer(self, request: MockRequest) -> MockResponse:
        """The response to a whole request, whichever lane read it (ASGI here, or the sandbox's own
        protocol's direct lane, `mocks.direct_lane`): the console, the admin API or the API itself."""
        if self.admin_enabled and request.path.startswith(ADMIN_PREFIX):  # the console's files are under it too
            if is_console_asset(request):
                response = console_asset(request)  # the page asks for the admin token itself
            else:
                response = await self._admin(request)
        else:
            response = await self.api.handle(request)
        if request.oversized and not response.drop:
            # the rest of the body was never read: this connection cannot carry another request
            response.headers.append(("Connection", "close"))
        return response

    def shutting_down(self, accept: str | None) -> MockResponse:
        """The server is shutting down and a request's grace period is over: the API's own 503, then close."""
        response = self.api.errors.response(MockError("unavailable", "the sandbox is shutting down"), accept=accept)
        response.headers.append(("Connection", "close"))
        return response

    def body_cap(self, path: str) -> int:
        """The most body bytes read for a request to `path`: a snapshot restore is one large admin body."""
        return MAX_ADMIN_BODY_BYTES if self.admin_enabled and path.startswith(ADMIN_PREFIX) else MAX_BODY_BYTES

    async def _read(self, scope: Scope, receive: Receive) -> MockRequest | None:
        headers = _headers(scope)
        read = await _body(scope, headers, receive, self.body_cap(scope["path"]))
        if read is None:
            return None
        body, oversized = read
        query = scope.get("query_string", b"")
        return MockRequest(
            method=scope["method"],
            # the raw path keeps %2F inside a segment; the router decodes each segment exactly once
            path=scope["raw_path"].decode("latin-1") if scope.get("raw_path") else _quote(scope["path"]),
            query=query_of(query),
            headers=headers,
            body=body,
            oversized=oversized,
            listener=self.listener,
            client=(scope.get("client") or ("", 0))[0] or "",
            scheme=scope.get("scheme", "http"),
        )

    async def _admin(self, request: MockRequest) -> MockResponse:
        if request.oversized:
            return admin.json_response(413, {"error": too_large(request.oversized, MAX_ADMIN_BODY_BYTES)})
        refused = admin_gate.refusal(request, token=self.admin_token, served_on_socket=self.served_on_socket)
        if refused is not None:
            return admin.json_response(refused[0], {"error": refused[1]})
        return await admin.handle(self.api, self.listener, request)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await self.api.start()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.api.stop()
                await send({"type": "lifespan.shutdown.complete"})
                return


def _quote(path: str) -> str:
    return quote(path, safe="/:@!$&'()*+,;=-._~")


def _headers(scope: Scope) -> dict[str, str]:
    return header_map(scope.get("headers", ()))


def header_map(raw: Iterable[tuple[bytes, bytes]]) -> dict[str, str]:
    """A request's headers by lower-cased name; a repeated header's values joined with ", "."""
    out: dict[str, str] = {}
    for raw_name, raw_value in raw:
        name = raw_name.decode("latin-1").lower()
        value = raw_value.decode("latin-1")
        out[name] = f"{out[name]}, {value}" if name in out else value
    return out


def query_of(raw: bytes) -> dict[str, list[str]]:
    return parse_qs(raw.decode("latin-1"), keep_blank_values=True) if raw else {}


async def _body(scope: Scope, headers: dict[str, str], receive: Receive, cap: int) -> tuple[bytes, int] | None:
    """(body, 0), or (the prefix read, its size so far) once it passes `cap`: reading stops there.

    None when the connection ends before the body does. An HTTP/1 request that announces no body
    (neither Content-Length nor Transfer-Encoding) has none: nothing is awaited for it, so no
    `100 Continue` is sent either. (HTTP/2 frames bodies without either header: read as sent.)
    """
    length = headers.get("content-length")
    if length is None and "transfer-encoding" not in headers and scope.get("http_version", "1.1") in HTTP_1:
        return b"", 0
    announced = int(length) if length is not None and length.isdigit() else 0  # the server refused bad values
    if announced > cap:
        return b"", announced  # refused before a byte of it is read
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk = message.get("body", b"")
        chunks.append(chunk)
        size += len(chunk)
        if size > cap:
            return b"".join(chunks)[:cap], size
        if not message.get("more_body"):
            break
    return b"".join(chunks), 0


async def send_response(response: MockResponse, scope: Scope, receive: Receive, send: Send) -> None:
    if response.stream is not None:
        reply = StreamingResponse(response.stream, status_code=response.status, media_type=response.media_type)
        reply.raw_headers.extend((k.lower().encode("latin-1"), str(v).encode("latin-1")) for k, v in response.headers)
        await reply(scope, receive, send)
        return
    headers = [(header_name(k), str(v).encode("latin-1")) for k, v in response.headers]
    headers.append((b"content-length", str(len(response.body)).encode()))
    if response.media_type:
        headers.append((b"content-type", header_value(response.media_type)))
    await send({"type": "http.response.start", "status": response.status, "headers": headers})
    await send({"type": "http.response.body", "body": response.body if scope["method"] != "HEAD" else b""})


@functools.lru_cache(maxsize=1024)
def header_name(name: str) -> bytes:
    """A response header's name as written: the contract's, the limiter's and the sandbox's own names
    repeat on every response, so each is lowered and encoded once."""
    return name.lower().encode("latin-1")


@functools.lru_cache(maxsize=256)
def header_value(media_type: str) -> bytes:
    return media_type.encode()


def _cut(scope: Scope) -> None:
    """An injected drop: close the connection without a byte of a response, as a network failure does."""
    abort = ((scope.get("extensions") or {}).get(CONNECTION_EXTENSION) or {}).get("abort")
    if abort is None:  # in process (httpx's ASGITransport): the client gets a transport error instead
        from mocks.types import ConnectionDropped  # made on first use (it is an httpx error)

        raise ConnectionDropped()
    abort()
