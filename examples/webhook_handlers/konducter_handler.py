"""A Konducter webhook handler that gets it right: a small Starlette app.

    uvicorn --app-dir examples/webhook_handlers konducter_handler:app --port 9000
    mocks verify-webhook-handler konducter --url http://127.0.0.1:9000/webhooks/konducter \\
        --state-url http://127.0.0.1:9000/state

- verifies `X-Konducter-Signature` (`sha256=` + HMAC-SHA256 of the raw body, keyed with the
  application's AccessSecret) before trusting anything, and answers 401 when it does not match;
- applies each event once: a delivery whose `eventId` was already applied is acknowledged (200)
  and dropped, whether it is a byte-identical retry or a re-sent duplicate;
- takes events in any order: an update may arrive before the create of its order, and an older
  version of an order never overwrites a newer one (`updatedAt` decides);
- reports what it applied at `GET /state` as `{"applied": [eventId, ...]}` (the contract
  between a handler and `mocks verify-webhook-handler`), plus the orders it holds.

The buggy variants beside this file subclass `OrderBook` and break one of these.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import threading
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

SECRET = os.environ.get("KONDUCTER_ACCESS_SECRET", "12345")  # the sandbox's documentation AccessSecret


class OrderBook:
    """The handler's state: the orders, and the events applied to them in order."""

    def __init__(self, secret: str) -> None:
        self.secret = secret.encode()
        self.orders: dict[str, dict[str, Any]] = {}
        self.applied: list[str] = []
        self.lock = threading.Lock()

    def verify(self, body: bytes, signature: str | None) -> bool:
        expected = "sha256=" + hmac.new(self.secret, body, hashlib.sha256).hexdigest()
        return signature is not None and hmac.compare_digest(signature, expected)

    def is_new(self, event: dict[str, Any], body: bytes) -> bool:
        return event["eventId"] not in self.applied

    def apply(self, event: dict[str, Any]) -> None:
        order = event["data"]
        current = self.orders.get(order["id"])
        if current is None or current["updatedAt"] <= order["updatedAt"]:
            self.orders[order["id"]] = order
        self.applied.append(event["eventId"])

    def receive(self, body: bytes, signature: str | None) -> tuple[int, dict[str, Any]]:
        if not self.verify(body, signature):
            return 401, {"error": "bad signature"}
        try:
            event = json.loads(body)
        except ValueError:
            return 400, {"error": "body is not JSON"}
        with self.lock:
            if not self.is_new(event, body):
                return 200, {"status": "duplicate, already applied"}
            self.apply(event)
        return 200, {"status": "applied"}


def create_app(book: OrderBook | None = None) -> Starlette:
    book = book or OrderBook(SECRET)

    async def webhook(request: Request) -> JSONResponse:
        status, answer = book.receive(await request.body(), request.headers.get("x-konducter-signature"))
        return JSONResponse(answer, status_code=status)

    async def state(request: Request) -> JSONResponse:
        return JSONResponse({"applied": book.applied, "orders": book.orders})

    app = Starlette(routes=[Route("/webhooks/konducter", webhook, methods=["POST"]),
                            Route("/state", state, methods=["GET"])])
    app.state.book = book
    return app


app = create_app()
