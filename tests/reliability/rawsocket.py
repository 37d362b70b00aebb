"""Raw HTTP/1.1 over a socket, for inputs httpx cannot express (half a request line, a NUL in a
header, a body announced but never sent) and for observing exactly what a server writes."""

from __future__ import annotations

import json
import socket
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit


@dataclass
class Reply:
    """What came back on one connection before it ended."""

    raw: bytes
    ended: str  # "eof" (orderly close), "reset" (RST) or "open" (still open at the deadline)
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    def json(self) -> object:
        return json.loads(self.body)


def address(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname or "127.0.0.1", parts.port or 80


def connect(url: str, timeout: float = 10.0) -> socket.socket:
    sock = socket.create_connection(address(url), timeout=timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def request_bytes(method: str, path: str, headers: dict[str, str], body: bytes = b"", *, host: str = "localhost",
                  content_length: int | None = None) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    if body or content_length is not None:
        lines.append(f"Content-Length: {len(body) if content_length is None else content_length}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def read_reply(sock: socket.socket, timeout: float = 10.0) -> Reply:
    """Read until the server closes (or resets) the connection, or until `timeout` passes."""
    chunks, ended = [], "open"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            break
        except ConnectionResetError:
            ended = "reset"
            break
        if not chunk:
            ended = "eof"
            break
        chunks.append(chunk)
    return parse(b"".join(chunks), ended)


def read_response(sock: socket.socket, timeout: float = 10.0) -> Reply:
    """Read one complete response (by its Content-Length), leaving the connection as it is."""
    data, deadline = b"", time.monotonic() + timeout
    while time.monotonic() < deadline:
        _head, sep, rest = data.partition(b"\r\n\r\n")
        if sep:
            reply = parse(data, "open")
            if len(rest) >= int(reply.headers.get("content-length", "0")):
                return reply
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            chunk = sock.recv(65536)
        except (TimeoutError, ConnectionResetError):
            break
        if not chunk:
            return parse(data, "eof")
        data += chunk
    return parse(data, "open")


def parse(raw: bytes, ended: str) -> Reply:
    reply = Reply(raw, ended)
    head, sep, body = raw.partition(b"\r\n\r\n")
    if not sep:
        return reply
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    reply.status = int(status_line.split()[1])
    for line in header_lines:
        name, _, value = line.partition(":")
        reply.headers[name.strip().lower()] = value.strip()
    reply.body = body[:int(reply.headers["content-length"])] if "content-length" in reply.headers else body
    return reply


def send_and_read(url: str, data: bytes, timeout: float = 10.0) -> Reply:
    with connect(url, timeout) as sock:
        sock.sendall(data)
        return read_reply(sock, timeout)
