"""A Lagerkoll callback handler that gets it right: a small Starlette app.

    uvicorn --app-dir examples/webhook_handlers lagerkoll_handler:app --port 9001
    mocks verify-webhook-handler lagerkoll --url http://127.0.0.1:9001/callbacks/lagerkoll \\
        --state-url http://127.0.0.1:9001/state

A Lagerkoll callback is the executed webhook's JSON payload, `{type, action, <ids>, storeId,
storeGroupId, timestamp}`, unsigned and without an event id: the payload itself is the event's
identity. So this handler

- answers 400 to a body that is not a JSON object, and 200 to every callback otherwise;
- applies each payload once (compared as a JSON value, so a re-serialized duplicate is still
  recognised) and acknowledges repeats without applying them;
- takes callbacks in any order (an `updated` before its `created` is recorded, not refused);
- reports at `GET /state` `{"applied": [payload, ...]}`, the payloads it applied, in order.
"""

from __future__ import annotations

import json
import threading
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


class CallbackLog:
    def __init__(self) -> None:
        self.applied: list[dict[str, Any]] = []
        self.keys: set[str] = set()
        self.lock = threading.Lock()

    def key(self, payload: dict[str, Any]) -> str:
        return json.dumps(payload, sort_keys=True, separators=(",", ":"))

    def receive(self, body: bytes) -> tuple[int, dict[str, Any]]:
        try:
            payload = json.loads(body)
        except ValueError:
            return 400, {"error": "body is not JSON"}
        if not isinstance(payload, dict):
            return 400, {"error": "body is not a JSON object"}
        with self.lock:
            key = self.key(payload)
            if key in self.keys:
                return 200, {"status": "duplicate, already applied"}
            self.keys.add(key)
            self.applied.append(payload)
        return 200, {"status": "applied"}


def create_app(log: CallbackLog | None = None) -> Starlette:
    log = log or CallbackLog()

    async def callback(request: Request) -> JSONResponse:
        status, answer = log.receive(await request.body())
        return JSONResponse(answer, status_code=status)

    async def state(request: Request) -> JSONResponse:
        return JSONResponse({"applied": log.applied})

    return Starlette(routes=[Route("/callbacks/lagerkoll", callback, methods=["POST"]),
                             Route("/state", state, methods=["GET"])])


app = create_app()
