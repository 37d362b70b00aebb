"""A synchronous httpx transport that runs an ASGI app in-process, on an event loop of its own."""

from __future__ import annotations

import asyncio
import threading

import httpx

from mocks.types import ConnectionDropped


class InProcessTransport(httpx.BaseTransport):
    def __init__(self, app) -> None:
        self._app = app
        self._inner = httpx.ASGITransport(app=app)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="mocks-in-process", daemon=True)
        self._thread.start()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        future = asyncio.run_coroutine_threadsafe(self._send(request), self._loop)
        return future.result()

    async def _send(self, request: httpx.Request) -> httpx.Response:
        try:
            response = await self._inner.handle_async_request(request)
            body = await response.aread()
        except ConnectionDropped as exc:
            raise httpx.RemoteProtocolError(str(exc) or "connection dropped", request=request) from None
        return httpx.Response(response.status_code, headers=response.headers, content=body, request=request)

    def close(self) -> None:
        api = getattr(self._app, "api", None)
        if api is not None and self._loop.is_running():
            # background work (webhook delivery) started on this loop ends with it
            asyncio.run_coroutine_threadsafe(api.stop(), self._loop).result(timeout=10)
        if self._loop.is_running():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=5)
        self._loop.close()


def in_process_client(app, *, base_url: str = "http://mock.test", **options) -> httpx.Client:
    return httpx.Client(transport=InProcessTransport(app), base_url=base_url, **options)
