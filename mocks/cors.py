"""CORS as the contract declares it (`x-mock-cors`): the preflight answer and the headers on every answer."""

from __future__ import annotations

from typing import Any

from mocks.types import MockRequest, MockResponse

_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


class Cors:
    def __init__(self, spec: dict[str, Any] | None) -> None:
        self.spec = spec

    def preflight(self, request: MockRequest) -> MockResponse | None:
        """The answer to a preflight request, or None when `request` is not one (or CORS is off)."""
        if not self.spec or request.method != "OPTIONS" or not request.header("access-control-request-method"):
            return None
        response = MockResponse(204)
        response.add_header("Access-Control-Allow-Methods", ", ".join(self.spec.get("allow-methods", _METHODS)))
        response.add_header("Access-Control-Allow-Headers", ", ".join(self.spec.get("allow-headers", [])))
        response.add_header("Access-Control-Max-Age", self.spec.get("max-age", 600))
        return response

    def finish(self, request: MockRequest, response: MockResponse) -> None:
        if not self.spec:
            return
        origin = request.headers.get("origin")  # every answer asks: the stored (lower-cased) name, no call
        if not origin:
            return
        allowed = self.spec.get("allow-origins", ["*"])
        if "*" in allowed or origin in allowed:
            response.add_header("Access-Control-Allow-Origin", "*" if "*" in allowed else origin)
            response.add_header("Vary", "Origin")
            if self.spec.get("expose-headers"):
                response.add_header("Access-Control-Expose-Headers", ", ".join(self.spec["expose-headers"]))
