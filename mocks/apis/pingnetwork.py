"""Ping Network: zones with optional node counts, per-customer limit singletons, the session event stream."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

from mocks.clock import iso_timestamp
from mocks.exchange import Exchange, Result
from mocks.listing import records_in_scope
from mocks.state import Slice
from mocks.state.changes import Change
from mocks.types import MockResponse

KEEP_ALIVE_SECONDS = 15.0
_LIVE = {"created": "session_start", "updated": "session_heartbeat", "deleted": "session_end"}


async def list_zones(exchange: Exchange, _: Any) -> Result:
    resource = exchange.runtime.resources["zone"]
    zones = sorted((resource.public(r) for r in records_in_scope(exchange.runtime.store, "zone", exchange.scope)),
                   key=lambda zone: zone.get("code", ""))
    with_counts = bool(exchange.query.get("include_node_count"))
    data = [{k: v for k, v in zone.items() if k != "id" and (with_counts or k != "node_count")} for zone in zones]
    return Result(200, {"data": data})


async def customer_limits(exchange: Exchange, _: Any) -> Result:
    """One limits object per customer, created from the plan's defaults on first use."""
    runtime, method = exchange.runtime, exchange.request.method
    resource = runtime.resources[exchange.operation.action["resource"]]
    record = next(iter(records_in_scope(runtime.store, resource.name, exchange.scope)), None)
    if record is None:  # first use: created unless another request (or process) created it meanwhile
        fresh = resource.new_record({}, exchange.scope, None, runtime.store, exchange.now)
        record = runtime.store.put_first(resource.name, Slice(exchange.scope), resource.key(fresh["data"]), fresh, {})
    key = resource.key(record["data"])
    if method in ("PATCH", "DELETE"):
        changes = dict(exchange.body or {}) if method == "PATCH" else dict(resource.defaults)
        updated = runtime.store.update(resource.name, key, Change({**changes, **resource.stamps(exchange.now,
                                                                                               created=False)}))
        record = updated.record if updated is not None else record
    return Result(200, resource.public(record))


async def session_events(exchange: Exchange, _: Any) -> Result:
    """Server-sent events: a snapshot of the caller's sessions, then (for EventSource clients) live changes
    made through any process serving the sandbox, until the client leaves or the store stops answering."""
    runtime, scope = exchange.runtime, exchange.scope
    resource = runtime.resources["session"]
    follow = "text/event-stream" in (exchange.request.header("accept") or "")
    queue = runtime.events.subscribe() if follow else None  # before the snapshot: no change falls between
    try:
        sessions = sorted((resource.public(r) for r in records_in_scope(runtime.store, "session", scope)),
                          key=lambda s: (s.get("created_at", ""), s.get("id", "")))
    except BaseException:
        if queue is not None:
            runtime.events.unsubscribe(queue)
        raise
    in_snapshot = {session["id"] for session in sessions}

    async def frames() -> AsyncIterator[bytes]:
        sequence = 0

        def frame(kind: str, data: dict[str, Any]) -> bytes:
            nonlocal sequence
            sequence += 1
            return f"event: {kind}\nid: {sequence}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()

        try:
            yield b"retry: 5000\n\n"
            for session in sessions:
                yield frame("session_start", _start(session))
                if session.get("state") == "ended":
                    yield frame("session_end", _progress(session, "session_end", session.get("updated_at")))
                elif session.get("status") == "connected":
                    yield frame("session_heartbeat", _progress(session, "session_heartbeat",
                                                               iso_timestamp(runtime.clock.now())))
            while queue is not None:
                try:
                    event = await asyncio.wait_for(queue.get(), KEEP_ALIVE_SECONDS)
                except TimeoutError:
                    yield b": keep-alive\n\n"
                    continue
                if event is None:
                    return  # the store stopped answering: end the stream cleanly; EventSource reconnects
                kind = _LIVE.get(event.type.rsplit(".", 1)[-1])
                if event.resource != "session" or event.scope != scope or kind is None:
                    continue
                if kind == "session_start" and event.data.get("id") in in_snapshot:
                    continue  # created as this stream opened: the snapshot has announced it
                if kind == "session_start":
                    yield frame(kind, _start(event.data))
                else:
                    yield frame(kind, _progress(event.data, kind, iso_timestamp(event.timestamp)))
        finally:
            if queue is not None:
                runtime.events.unsubscribe(queue)

    response = MockResponse(200, media_type="text/event-stream", stream=frames(),
                            headers=[("Cache-Control", "no-cache")])
    return Result(200, raw=response)


def _start(session: dict[str, Any]) -> dict[str, Any]:
    return {"type": "session_start", "session_id": session["id"], "client_id": session["client_id"],
            "zone": session.get("zone"), "connection_type": session.get("connection_type"),
            "timestamp": session.get("created_at")}


def _progress(session: dict[str, Any], kind: str, timestamp: Any) -> dict[str, Any]:
    return {"type": kind, "session_id": session["id"], "client_id": session["client_id"],
            "status": session.get("status"), "duration": session.get("duration", 0),
            "uploaded_bytes": session.get("uploaded_bytes", 0),
            "downloaded_bytes": session.get("downloaded_bytes", 0), "timestamp": timestamp}
