"""GET /__mock/journal/stream: new journal entries as server-sent events, as they are recorded."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from mocks.admin.table import AdminError, query, route
from mocks.journal import Journal
from mocks.state import STORE_RETRY_AFTER, store_down
from mocks.types import MockRequest, MockResponse

if TYPE_CHECKING:
    from mocks.engine import Api

POLL = 0.2  # seconds between looks at the journal: cheap (it is a bounded ring) and quick enough to watch
HEARTBEAT = 15.0  # seconds of silence before a comment line keeps proxies from closing the stream


@route("GET", "/journal/stream")
def journal_stream(api: Api, listener: str, request: MockRequest, params: dict[str, str]) -> MockResponse:
    """Entries after `since` (or the `Last-Event-ID` a reconnecting EventSource sends), then each new one."""
    since = request.header("last-event-id") or query(request, "since") or "0"
    if not since.isdigit():
        raise AdminError(400, "'since' must be a whole number (a journal sequence number)")
    return MockResponse(200, media_type="text/event-stream",
                        headers=[("Cache-Control", "no-cache"), ("X-Accel-Buffering", "no")],
                        stream=_events(api.journal, int(since)))


async def _events(journal: Journal, since: int) -> AsyncIterator[bytes]:
    yield b"retry: 1000\n\n"
    quiet = 0.0
    while True:
        try:
            entries = journal.entries(since=since)
        except Exception as exc:
            if not store_down(exc):
                raise
            # the stream stays open (heartbeats go on) and carries on from `since` once the store is back
            entries = []
            await asyncio.sleep(float(STORE_RETRY_AFTER))
        for entry in entries:
            since = entry["seq"]
            yield f"id: {since}\nevent: exchange\ndata: {json.dumps(entry)}\n\n".encode()
        if entries:
            quiet = 0.0
        elif quiet >= HEARTBEAT:
            quiet = 0.0
            yield b": still here\n\n"
        await asyncio.sleep(POLL)
        quiet += POLL
