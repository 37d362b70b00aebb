"""Outbound requests (webhook deliveries) never reach the sandbox's own listeners.

A contract request stores a URL (a Konducter handler, a Lagerkoll webhook) and the sandbox later
POSTs to it. Pointed at the sandbox itself, that would let any API client drive the admin API.
The guard works at connect time, inside httpcore (`mocks.outbound_transport`): the host is resolved once, every address it
resolves to is checked, and the connection goes to the checked address (no resolve-then-connect
race; TLS still sends the host name as SNI, since httpcore takes it from the URL).
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import threading
from collections.abc import Iterable

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_listening_ports: dict[int, int] = {}  # port -> how many of this process's listeners bound it
_lock = threading.Lock()


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
