"""Record: a bounded journal of every exchange, for the admin API and client verification."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from mocks.state import Dropped
from mocks.types import MockRequest, MockResponse

if TYPE_CHECKING:
    from mocks.state.protocol import Store

# The journal keeps this much of each request and response body (and each body's full size), so
# its memory is bounded in bytes as well as in entries.
BODY_PREFIX_BYTES = 64 * 1024


@dataclass(slots=True)
class JournalEntry:
    """One exchange, kept as it happened; turned into JSON only when someone reads the journal."""

    time: float  # mock clock, when the answer was ready
    arrived: float  # mock clock, when the request reached the pipeline
    request: MockRequest
    response: MockResponse | None
    operation: str | None
    principal: str | None
    fault: Any
    duration: float
    seq: int = 0
    preferred: dict[str, Any] | None = None  # the response a Prefer header chose
    request_size: int = 0  # full body sizes in bytes; the entry keeps at most BODY_PREFIX_BYTES of each
    response_size: int = 0

    def keep_prefixes(self) -> None:
        """Drop all but the first BODY_PREFIX_BYTES of each body, remembering the full sizes."""
        self.request_size = self.request.oversized or len(self.request.body)
        if len(self.request.body) > BODY_PREFIX_BYTES:
            self.request = replace(self.request, body=self.request.body[:BODY_PREFIX_BYTES])
        if self.response is not None:
            self.response_size = len(self.response.body)
            if self.response_size > BODY_PREFIX_BYTES:
                self.response = replace(self.response, body=self.response.body[:BODY_PREFIX_BYTES])

    @property
    def status(self) -> int | None:
        return self.response.status if self.response is not None else None

    def describe(self) -> dict[str, Any]:
        request, response = self.request, self.response
        return {
            "seq": self.seq,
            "time": self.time,
            "arrived": self.arrived,
            "method": request.method,
            "scheme": request.scheme,
            "path": request.path,
            "query": request.query,
            "listener": request.listener,
            "operation": self.operation,
            "principal": self.principal,
            "request_headers": request.headers,
            "request_body": text_of(request.body, self.request_size),
            "request_body_bytes": self.request_size,
            "status": self.status,
            "dropped": response is None,
            "response_headers": dict(response.headers) if response else {},
            "response_media_type": response.media_type if response else None,
            "response_body": text_of(response.body, self.response_size) if response and response.body else "",
            "response_body_bytes": self.response_size,
            "fault": self.fault.describe() if self.fault else None,
            "preferred": self.preferred,
            "duration_ms": round(self.duration * 1000, 3),
        }


class Journal:
    """The API's journal: a view over the store, which keeps the last `size` entries."""

    def __init__(self, size: int = 2000, store: Store | None = None) -> None:
        if store is None:
            from mocks.state.memory import MemoryStore  # a journal of its own (unit tests, tools)

            store = MemoryStore()
        self.size = size
        self.store = store
        self.dropped = Dropped()  # entries of answered requests the store could not take (Redis down, full)

    def record(self, entry: JournalEntry) -> JournalEntry:
        entry.keep_prefixes()
        try:  # every request records one: no context manager to enter and leave
            self.store.journal_append(entry, self.size)
        except Exception as exc:
            if not self.dropped.absorbs(exc, "a journal entry"):
                raise
        return entry

    def forget(self, request: MockRequest) -> None:
        """Drop the entry of one exchange (client verification: a request of a run already judged)."""
        for entry in self.store.journal_read(since=0):
            if entry.request is request:
                self.store.journal_forget(entry.seq)

    def clear(self) -> None:
        self.store.journal_clear()

    def entries(self, *, operation: str | None = None, status: int | None = None, principal: str | None = None,
                since: int = 0, limit: int | None = None) -> list[dict[str, Any]]:
        chosen = self.store.journal_read(since=since, limit=limit, operation=operation, status=status,
                                         principal=principal)
        return [e.describe() for e in chosen]


def text_of(prefix: bytes, size: int) -> str:
    """A kept body prefix as text; "…" marks one that is shorter than the body was."""
    return prefix.decode("utf-8", "replace") + ("…" if size > len(prefix) else "")
