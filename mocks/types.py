"""The vocabulary every stage of the pipeline speaks: requests, responses, principals."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mocks.ids import uuid4_text

Json = Any
Headers = list[tuple[str, str]]


@dataclass(slots=True)
class MockRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # names lower-cased; repeated headers joined with ", "
    body: bytes = b""
    listener: str = ""
    client: str = ""
    scheme: str = "http"
    oversized: int = 0  # bytes of a body refused at the cap (so far); `body` then holds only a prefix

    def header(self, name: str, default: str | None = None) -> str | None:
        return self.headers.get(name.lower(), default)


@dataclass(slots=True)
class MockResponse:
    status: int
    body: bytes = b""
    media_type: str | None = None
    headers: Headers = field(default_factory=list)
    drop: bool = False  # cut the connection instead of answering (an injected network fault)
    stream: Any = None  # an async iterator of bytes for streaming responses (server-sent events)

    @classmethod
    def dropped(cls) -> MockResponse:
        """What the pipeline returns for an injected drop; only the ASGI adapter acts on it (it cuts the connection)."""
        return cls(0, drop=True)

    def add_header(self, name: str, value: object) -> None:
        self.headers.append((name, str(value)))

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        for key, value in self.headers:
            if key.lower() == lowered:
                return value
        return None


@dataclass(slots=True, frozen=True)
class Principal:
    """Who is calling, and which tenant scopes they may use (the first is their default)."""

    id: str
    scopes: tuple[str, ...]
    attributes: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)

    @property
    def default_scope(self) -> str | None:
        return self.scopes[0] if self.scopes else None


class MockError(Exception):
    """Raised by any stage: becomes the API's own error response for the named code."""

    def __init__(self, code: str, message: str | None = None, field: str | None = None,
                 headers: Headers | None = None) -> None:
        super().__init__(message or code)
        self.code = code
        self.message = message
        self.field = field
        self.headers = headers or []


@dataclass(slots=True)
class Event:
    """A resource event: what webhooks deliver and event streams carry (kept in the store's history)."""

    type: str
    resource: str
    data: dict[str, Any]
    scope: str | None
    principal: str | None
    timestamp: float
    id: str = field(default_factory=uuid4_text)

    def describe(self) -> dict[str, Any]:
        return {"id": self.id, "type": self.type, "resource": self.resource, "scope": self.scope,
                "principal": self.principal, "timestamp": self.timestamp, "data": self.data}


def _connection_dropped() -> type[Exception]:
    import httpx

    class ConnectionDropped(httpx.RemoteProtocolError):
        """Raised by the ASGI adapter for a drop where it has no connection to cut (in process).

        An httpx transport error, so a client on httpx's ASGITransport sees what a cut socket gives.
        """

        def __init__(self, message: str = "connection dropped by an injected fault") -> None:
            super().__init__(message)

    ConnectionDropped.__module__, ConnectionDropped.__qualname__ = __name__, "ConnectionDropped"
    return ConnectionDropped


def __getattr__(name: str) -> Any:
    # ConnectionDropped is made on first use: its base is an httpx error, and importing httpx would cost
    # every served sandbox ~60 ms of start-up and ~8 MB (httpx pulls in click and rich); only in-process
    # callers (httpx's ASGITransport, mocks.inprocess) ever meet it
    if name == "ConnectionDropped":
        globals()[name] = made = _connection_dropped()
        return made
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
