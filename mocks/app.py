"""The ASGI adapter: Starlette requests in, pipeline responses out. No behaviour lives here."""

from __future__ import annotations

from urllib.parse import parse_qs, quote

from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from mocks import admin, admin_gate
from mocks.console.assets import console_asset, is_console_asset
from mocks.engine import Api
from mocks.types import ConnectionDropped, MockRequest, MockResponse

ADMIN_PREFIX = "/__mock/"


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
        mock_request = MockRequest(
            method=scope["method"],
            # the raw path keeps %2F inside a segment; the router decodes each segment exactly once
            path=scope["raw_path"].decode("latin-1") if scope.get("raw_path") else _quote(scope["path"]),
            query=parse_qs(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True),
            headers=_headers(scope),
            body=await _body(receive),
            listener=self.listener,
            client=(scope.get("client") or ("", 0))[0] or "",
            scheme=scope.get("scheme", "http"),
        )
        if self.admin_enabled and is_console_asset(mock_request):
            response = console_asset(mock_request)  # the page asks for the admin token itself
        elif self.admin_enabled and mock_request.path.startswith(ADMIN_PREFIX):
            response = await self._admin(mock_request)
        else:
            try:
                response = await self.api.handle(mock_request)
            except ConnectionDropped:
                await _drop(send)
                return
        await _send(response, scope, receive, send)

    async def _admin(self, request: MockRequest) -> MockResponse:
        refused = admin_gate.refusal(request, token=self.admin_token, served_on_socket=self.served_on_socket)
        if refused is not None:
            return admin.json_response(refused[0], {"error": refused[1]})
        return await admin.handle(self, request)

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
    out: dict[str, str] = {}
    for raw_name, raw_value in scope.get("headers", ()):
        name = raw_name.decode("latin-1").lower()
        value = raw_value.decode("latin-1")
        out[name] = f"{out[name]}, {value}" if name in out else value
    return out


async def _body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    return b"".join(chunks)


async def _send(response: MockResponse, scope: Scope, receive: Receive, send: Send) -> None:
    if response.stream is not None:
        reply = StreamingResponse(response.stream, status_code=response.status, media_type=response.media_type)
        reply.raw_headers.extend((k.lower().encode("latin-1"), str(v).encode("latin-1")) for k, v in response.headers)
        await reply(scope, receive, send)
        return
    headers = [(k.lower().encode("latin-1"), str(v).encode("latin-1")) for k, v in response.headers]
    headers.append((b"content-length", str(len(response.body)).encode()))
    if response.media_type:
        headers.append((b"content-type", response.media_type.encode()))
    await send({"type": "http.response.start", "status": response.status, "headers": headers})
    await send({"type": "http.response.body", "body": response.body if scope["method"] != "HEAD" else b""})


async def _drop(send: Send) -> None:
    """Cut the connection mid-response: the client sees a broken connection and no answer."""
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-length", b"1048576"), (b"content-type", b"application/json")]})
    raise ConnectionDropped("connection dropped by an injected fault")
