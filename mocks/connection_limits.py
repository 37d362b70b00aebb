"""How long a client may take and how many may connect: the deadlines and caps of each listener."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ConnectionLimits:
    """Per-listener deadlines (seconds) and caps; `mocks serve` options set them."""

    header_timeout: float = 10.0  # from a connection's (or a kept-alive request's) first byte to its last header
    body_timeout: float = 30.0  # from the last header to the last byte of the body
    keep_alive: float = 5.0  # an idle kept-alive connection is closed after this
    max_connections: int = 256  # open connections per listener; more are answered 503 and closed
    max_header_bytes: int = 64 * 1024  # request line and headers together
