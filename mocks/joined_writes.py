"""One write per response: the connection's transport as uvicorn's HTTP protocol sees it.

uvicorn writes a response's status line and headers, then its body, as two writes; with
TCP_NODELAY (which the sandbox sets, or small responses wait ~40 ms for an ACK) each write is a
system call and a TCP segment of its own. `JoinedWrites` holds what the protocol writes until the
response is complete (`flush`, which the sandbox's protocol calls then) or, at the latest, until
the event loop's next turn, so a streamed response (an event stream) is never held back longer
than the step of the task that wrote it.
"""

from __future__ import annotations

import asyncio
from typing import Any


class JoinedWrites:
    __slots__ = ("_loop", "_pending", "_transport")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._pending: list[bytes] = []

    def write(self, data: bytes) -> None:
        if not self._pending:
            self._loop.call_soon(self.flush)
        self._pending.append(data)

    def flush(self) -> None:
        if not self._pending:
            return
        data = b"".join(self._pending) if len(self._pending) > 1 else self._pending[0]
        self._pending.clear()
        if not self._transport.is_closing():
            self._transport.write(data)

    def write_whole(self, data: bytes) -> None:
        """A whole response (the direct lane's): it leaves at once, after anything held before it."""
        self.flush()
        if not self._transport.is_closing():
            self._transport.write(data)

    def detach(self) -> None:
        """After the connection is lost: let go of the transport (which refers to the protocol that
        holds this), leaving a closed stand-in for whatever still writes."""
        self._pending.clear()
        self._transport = _CLOSED  # type: ignore[assignment]

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def abort(self) -> None:
        self._pending.clear()  # a reset sends nothing, not even what was written before it
        self._transport.abort()

    def is_closing(self) -> bool:
        return self._transport.is_closing()

    def __getattr__(self, name: str) -> Any:  # everything else (pause_reading, get_extra_info, ...) as it is
        return getattr(self._transport, name)


class _ClosedTransport:
    """What a connection's writes go to once it is lost: closed, and nothing leaves."""

    def write(self, data: bytes) -> None:
        pass

    def close(self) -> None:
        pass

    def abort(self) -> None:
        pass

    def is_closing(self) -> bool:
        return True

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return default

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass

    def set_protocol(self, protocol: Any) -> None:
        pass


_CLOSED = _ClosedTransport()
