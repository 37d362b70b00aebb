"""One request on its way through the pipeline, and what an action answers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mocks.clock import iso_timestamp
from mocks.contract import Operation
from mocks.types import Headers, MockRequest, Principal

if TYPE_CHECKING:
    from mocks.runtime import Runtime


@dataclass(slots=True)
class Result:
    """An action's answer, before it is rendered in a media type."""

    status: int
    body: Any = None
    headers: Headers = field(default_factory=list)
    raw: Any = None  # a ready MockResponse (streams, replays) that skips rendering


@dataclass(slots=True)
class Exchange:
    runtime: Runtime
    request: MockRequest
    operation: Operation
    path: dict[str, Any]
    now: float
    principal: Principal | None = None
    query: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, Any] = field(default_factory=dict)
    body: Any = None
    media_type: str | None = None
    scope: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    _context: dict[str, Any] | None = None

    def context(self, **more: Any) -> dict[str, Any]:
        """What templates may read (built once per request; `more` adds action-specific names)."""
        if self._context is None:
            self._context = self._build_context()
        return {**self._context, **more} if more else self._context

    @property
    def principal_id(self) -> str | None:
        return self.principal.id if self.principal else None

    def forget_context(self) -> None:
        """Call after changing the principal, scope or body, so templates see the change."""
        self._context = None

    def _build_context(self) -> dict[str, Any]:
        principal = None
        if self.principal is not None:
            principal = {**self.principal.attributes, "id": self.principal.id, "scopes": list(self.principal.scopes)}
        return {
            "path": self.path,
            "query": self.query,
            "header": self.request.headers,
            "body": self.body if self.body is not None else {},
            "principal": principal or {},
            "scope": self.scope,
            "tenant": self.runtime.tenant_attributes(self.scope),
            "now": iso_timestamp(self.now),
            "now_unix": int(self.now),
            "url": self.request.path,
            **self.extra,
        }
