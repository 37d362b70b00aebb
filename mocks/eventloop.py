"""The sandbox's event loop: uvloop where it is installed, else the standard asyncio loop.

uvloop roughly doubles what one uvicorn process answers per second; it is a dependency
only where it builds (CPython off Windows), so the fallback keeps the sandbox running elsewhere.
"""

from __future__ import annotations

import asyncio
import time


def new_event_loop() -> asyncio.AbstractEventLoop:
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


async def sleep_at_least(seconds: float) -> None:
    """Sleep no less than `seconds`: uvloop's millisecond timers may wake up to a millisecond early,
    and an injected latency promises the client at least the delay it names."""
    deadline = time.perf_counter() + seconds
    while (left := deadline - time.perf_counter()) > 0:
        await asyncio.sleep(left + 0.0005)
