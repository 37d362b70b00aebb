"""The sandbox's event loop: uvloop where it is installed, else the standard asyncio loop.

uvloop roughly doubles what one uvicorn process answers per second; it is a dependency
only where it builds (CPython off Windows), so the fallback keeps the sandbox running elsewhere.
"""

from __future__ import annotations

import asyncio


def new_event_loop() -> asyncio.AbstractEventLoop:
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()
