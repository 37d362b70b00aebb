"""The console's static files, shipped as package data and served with a strict Content-Security-Policy.

They hold no secrets, so a browser may load them without the admin token; every call the page then
makes to the admin API carries the token.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

from mocks.types import MockRequest, MockResponse

PREFIX = "/__mock/ui"
_TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
          ".css": "text/css; charset=utf-8", ".png": "image/png", ".svg": "image/svg+xml"}
_SECURITY_HEADERS = [
    ("Content-Security-Policy",
     ("default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
      "form-action 'self'")),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("Cache-Control", "no-cache"),
]


def is_console_asset(request: MockRequest) -> bool:
    path = request.path.split("?", 1)[0]
    return request.method in ("GET", "HEAD") and (path == PREFIX or path.startswith(PREFIX + "/"))


def console_asset(request: MockRequest) -> MockResponse:
    path = request.path.split("?", 1)[0]
    if path == PREFIX:
        return MockResponse(308, headers=[("Location", PREFIX + "/"), *_SECURITY_HEADERS])
    name = path.removeprefix(PREFIX + "/") or "index.html"
    body = _read(name)
    if body is None:
        return MockResponse(404, b"no such console file\n", "text/plain; charset=utf-8", list(_SECURITY_HEADERS))
    return MockResponse(200, body, _TYPES[name[name.rindex("."):]], list(_SECURITY_HEADERS))


@cache
def _read(name: str) -> bytes | None:
    """Only plain file names with a known type: no folders, so no way out of the static folder."""
    if "/" in name or "\\" in name or name.startswith(".") or "." not in name \
            or name[name.rindex("."):] not in _TYPES:
        return None
    file = resources.files("mocks.console").joinpath("static", name)
    return file.read_bytes() if file.is_file() else None
