"""The guard's side inside httpcore: a network backend that connects only to checked addresses.

Apart from `mocks.outbound` (the sandbox's own ports and the refusal rule) because it needs
httpcore and httpx, which a sandbox that never delivers a webhook never imports: `mocks serve`
starts ~40 ms sooner. `guarded_transport` is imported when the first delivery client is made.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import socket
from typing import Any

import httpcore
import httpx

from mocks.outbound import IPAddress, refusal


class OutboundRefused(httpcore.ConnectError):
    """A send the guard refused; httpx reports it as a ConnectError carrying this message."""


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network backend, resolving each host once and connecting only to checked addresses."""

    def __init__(self, inner: httpcore.AsyncNetworkBackend | None = None) -> None:
        self.inner = inner or httpcore.AnyIOBackend()

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                          local_address: str | None = None, socket_options: Any = None) -> httpcore.AsyncNetworkStream:
        if not 1 <= port <= 65535:
            raise OutboundRefused(f"refused {host}:{port}: port {port} is outside 1-65535")
        addresses = await _resolve(host, port, timeout)
        for address in addresses:
            reason = refusal(address, port)
            if reason is not None:
                raise OutboundRefused(f"refused {host}:{port}: {reason}; outbound requests never reach the sandbox")
        error: Exception | None = None
        for address in addresses:
            try:
                return await self.inner.connect_tcp(str(address), port, timeout, local_address, socket_options)
            except httpcore.ConnectError as exc:
                error = exc
        raise error or httpcore.ConnectError(f"{host} resolved to no address")

    async def connect_unix_socket(self, path: str, timeout: float | None = None,
                                  socket_options: Any = None) -> httpcore.AsyncNetworkStream:
        raise OutboundRefused("outbound requests go over TCP only")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


async def _resolve(host: str, port: int, timeout: float | None) -> list[IPAddress]:
    literal = host.strip("[]")
    with contextlib.suppress(ValueError):
        return [ipaddress.ip_address(literal)]
    try:
        # getaddrinfo also reads the spellings inet_aton accepts: 2130706433, 0x7f000001, 127.1
        found = await asyncio.wait_for(
            asyncio.get_running_loop().getaddrinfo(literal, port, type=socket.SOCK_STREAM), timeout)
    except (OSError, UnicodeError, TimeoutError) as exc:
        raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from None
    addresses: list[IPAddress] = []
    for *_, sockaddr in found:
        address = ipaddress.ip_address(str(sockaddr[0]).partition("%")[0])
        if address not in addresses:
            addresses.append(address)
    return addresses


def guarded_transport() -> httpx.AsyncHTTPTransport:
    """The transport every outbound request of the sandbox goes through."""
    transport = httpx.AsyncHTTPTransport(trust_env=False)
    pool = getattr(transport, "_pool", None)
    if not isinstance(pool, httpcore.AsyncConnectionPool) or not hasattr(pool, "_network_backend"):
        raise RuntimeError("this httpx/httpcore version hides the connection pool's network backend; "
                           "outbound requests cannot be guarded")  # fail loudly rather than unguarded
    pool._network_backend = GuardedBackend()  # httpx has no public hook for the backend
    return transport
