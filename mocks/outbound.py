"""Outbound requests (webhook deliveries) never reach the sandbox's own listeners.

A contract request stores a URL (a Konducter handler, a Lagerkoll webhook) and the sandbox later
POSTs to it. Pointed at the sandbox itself, that would let any API client drive the admin API.
The guard works at connect time, inside httpcore: the host is resolved once, every address it
resolves to is checked, and the connection goes to the checked address (no resolve-then-connect
race; TLS still sends the host name as SNI, since httpcore takes it from the URL).
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import socket
import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import httpcore

if TYPE_CHECKING:
    import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_listening_ports: dict[int, int] = {}  # port -> how many of this process's listeners bound it
_lock = threading.Lock()


class OutboundRefused(httpcore.ConnectError):
    """A send the guard refused; httpx reports it as a ConnectError carrying this message."""


def register_listeners(ports: Iterable[int]) -> None:
    """Called by the server once it has bound its sockets (the in-process path binds none)."""
    with _lock:
        for port in ports:
            _listening_ports[port] = _listening_ports.get(port, 0) + 1


def unregister_listeners(ports: Iterable[int]) -> None:
    with _lock:
        for port in ports:
            left = _listening_ports.get(port, 0) - 1
            if left > 0:
                _listening_ports[port] = left
            else:
                _listening_ports.pop(port, None)


def listening_ports() -> frozenset[int]:
    with _lock:
        return frozenset(_listening_ports)


def refusal(address: IPAddress, port: int) -> str | None:
    """Why a connection to address:port would reach one of the sandbox's listeners (None: it would not)."""
    if not 1 <= port <= 65535:
        return f"port {port} is outside 1-65535"
    if port not in listening_ports():
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address.is_loopback or address.is_unspecified or _is_local(address):
        return f"{address} port {port} is one of the sandbox's own listeners"
    return None


def _is_local(address: IPAddress) -> bool:
    """An address of this machine: only a local address can be bound (Linux, macOS, Windows alike)."""
    family = socket.AF_INET6 if address.version == 6 else socket.AF_INET
    with contextlib.closing(socket.socket(family, socket.SOCK_STREAM)) as probe:
        try:
            probe.bind((str(address), 0))
        except OSError:
            return False
    return True


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
    import httpx  # lazily, as mocks.webhooks does: serving without deliveries never needs it

    transport = httpx.AsyncHTTPTransport(trust_env=False)
    pool = getattr(transport, "_pool", None)
    if not isinstance(pool, httpcore.AsyncConnectionPool) or not hasattr(pool, "_network_backend"):
        raise RuntimeError("this httpx/httpcore version hides the connection pool's network backend; "
                           "outbound requests cannot be guarded")  # fail loudly rather than unguarded
    pool._network_backend = GuardedBackend()  # httpx has no public hook for the backend
    return transport
