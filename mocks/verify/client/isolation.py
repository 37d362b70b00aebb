"""Run isolation: every request is judged in the run that sent it, and in no other.

A `RunGate` stands in front of each API's pipeline (it wraps `Api.handle` before the sandbox
starts serving). It counts the requests in flight, and it is open only while a run is on:

- after the client exits, `drain()` waits (bounded) until the run's requests in flight have
  been answered and no new one arrived for a moment, so judging reads the run's whole journal
  and state (a request sent just before exit still counts, and so does its effect);
- then the gate closes: a request that reaches the sandbox after its run was judged (it sat in
  a socket buffer of a client that is gone) is refused by cutting its connection, before the
  pipeline, so it neither acts on the next run's state nor lands in its journal;
- a request still running when its run had to be left (the drain ran out of time) is forgotten
  from the journal when it ends, as it belongs to a run that was already judged;
- `idle_since()` tells how long the client has been silent (no request in flight), which is how a
  shrink step sees a hang without waiting out the time budget.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Awaitable, Callable

from mocks.types import MockRequest, MockResponse

DRAIN_SECONDS = 5.0  # longest wait for a run's requests in flight (latency faults are at most 0.5 s)
QUIET_SECONDS = 0.1  # no new arrival for this long: the client has nothing more on the way

Handle = Callable[[MockRequest], Awaitable[MockResponse]]


class RunGate:
    def __init__(self, api) -> None:
        self.api = api
        self._handle: Handle = api.handle
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._run = 0
        self._open = False
        self._in_flight = 0
        self._last_arrival = 0.0
        self._last_answer = 0.0
        self._opened = 0.0
        api.handle = self.handle  # the adapters call api.handle: every request passes here

    def open(self) -> None:
        """A new run starts: requests are let through and counted for it."""
        with self._lock:
            self._run += 1
            self._open = True
            self._opened = time.monotonic()

    def close(self) -> None:
        with self._lock:
            self._open = False

    def drain(self, limit: float = DRAIN_SECONDS) -> bool:
        """Wait until no request is in flight and none arrived for QUIET_SECONDS; False if `limit` ran out."""
        deadline = time.monotonic() + limit
        with self._lock:
            while True:
                now = time.monotonic()
                quiet_for = now - self._last_arrival
                if self._in_flight == 0 and quiet_for >= QUIET_SECONDS:
                    return True
                if now >= deadline:
                    return False
                wait = QUIET_SECONDS - quiet_for if self._in_flight == 0 else deadline - now
                self._idle.wait(max(0.005, min(wait, deadline - now)))

    @property
    def in_flight(self) -> int:
        with self._lock:
            return self._in_flight

    def idle_since(self) -> float | None:
        """When this run's last request was answered (monotonic): None while one is in flight, 0.0
        before the run's first request."""
        with self._lock:
            if self._in_flight:
                return None
            last = max(self._last_arrival, self._last_answer)
            return last if last >= self._opened else 0.0

    async def handle(self, request: MockRequest) -> MockResponse:
        with self._lock:
            if not self._open:
                return MockResponse.dropped()  # a request of a run that has ended: cut, never acted on
            run = self._run
            self._in_flight += 1
            self._last_arrival = time.monotonic()
        try:
            return await self._handle(request)
        finally:
            with self._lock:
                self._in_flight -= 1
                self._last_answer = time.monotonic()
                stale = run != self._run or not self._open
                self._idle.notify_all()
            if stale:
                self.api.journal.forget(request)
