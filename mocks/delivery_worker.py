"""The delivery worker: sends due webhook deliveries, each receiver in its own lane.

- **Per receiver.** Every receiver (scheme, host and port of the URL) has a lane of at most
  `LANE_WIDTH` attempts in flight; a slow receiver fills only its own lane, never another's.
- **Sleeps until due.** Due times are on the mock clock; the worker sleeps until the earliest one and is
  woken early when a delivery is queued or the mock clock moves (frozen, set, advanced, reset).
- **Never dies of one delivery.** Any error of an attempt is that attempt's failure, recorded and
  retried by the policy; should the scheduler itself fail, the crash is logged and it starts again.
- **Takes work from the store's queue.** Due attempts are leased (`lease_due`), so two workers serving
  one sandbox never make the same attempt; each is recorded with `finish_attempt`, and one stopped
  before it started is given back (`release_lease`).
- **Never outlives its lease.** An attempt gives up at its lease's end (a shared store then lets another
  process take the delivery over, so a longer attempt could be made twice); one still waiting for its
  lane then is given back unstarted. Each look leases under a name of its own, so a late answer to an
  earlier lease can never record over a later one.
- **Notices a lease that ran out.** It sleeps at most until the earliest lease held anywhere ends, and
  never longer than one lease, so a delivery whose process died is taken over promptly.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from mocks.deliveries import Delivery, RetryPolicy
from mocks.ids import random_hex
from mocks.state import store_down

if TYPE_CHECKING:
    import httpx

    from mocks.clock import Clock

log = logging.getLogger("mocks.webhooks")
LANE_WIDTH = 4  # attempts in flight per receiver
MAX_SLEEP = 30.0  # seconds: a safety net only; every change that can make a delivery due wakes the worker
RESTART_PAUSE = 0.1  # seconds before a crashed scheduler starts again, so a persistent fault cannot spin
STORE_DOWN_PAUSE = 1.0  # seconds between looks while the shared store does not answer
LEASE = 300.0  # seconds of real time a shared store lets one worker hold an attempt (mocks serve --delivery-lease)
FINISH_TIME = 0.25  # seconds kept at a lease's end to record the attempt while the lease still holds
BATCH = 1000  # attempts leased at one look


def receiver_of(url: str) -> str:
    """The lane a URL's deliveries wait in: its origin (or the raw text, for a URL that does not parse)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    return f"{parts.scheme}://{parts.netloc}".lower()


class DeliveryWorker:
    def __init__(self, deliveries: Any, clock: Clock, retry: RetryPolicy,
                 client: Callable[[], httpx.AsyncClient], *, lease: float = LEASE) -> None:
        self.log = deliveries  # the queue: a DeliveryLog, or the store's (deliveries.StoredDeliveries)
        self.clock = clock
        self.retry = retry
        self.lease = lease
        self.name = f"worker-{random_hex(6)}"  # whose leases these are
        self._looks = itertools.count()  # each look leases under its own holder name
        self._client = client
        self._http: httpx.AsyncClient | None = None  # made at the first attempt: a sandbox that never delivers never imports httpx
        self._lanes: dict[str, tuple[asyncio.Semaphore, int]] = {}  # receiver -> (lane, attempts using it)
        self._attempts: set[asyncio.Task] = set()
        self._task: asyncio.Task | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self.crashes = 0
        self.store_unreachable = False  # the last look found the shared store not answering (said once per outage)
        clock.listeners.append(self.poke)  # a moved clock can make a retry due

    # scheduling ----------------------------------------------------------------------------------
    def schedule(self, delivery: Delivery | None = None) -> None:
        """`delivery` was queued (or something else became due): make sure the worker looks."""
        self.ensure_running()
        self.poke()

    def clear(self) -> None:
        """The queue was cleared: attempts in flight finish, but their deliveries are no longer kept."""

    def poke(self) -> None:
        """Wake the worker to look at the due times again; safe from any thread."""
        loop, wake = self._loop, self._wake
        if loop is None or wake is None or loop.is_closed():
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            wake.set()
        else:
            with contextlib.suppress(RuntimeError):  # the loop closed in between
                loop.call_soon_threadsafe(wake.set)

    # running -------------------------------------------------------------------------------------
    def ensure_running(self) -> None:
        if self._task is not None and not self._task.done():
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # no loop yet: the server's start-up starts the worker
        self._loop, self._wake = loop, asyncio.Event()
        self._task = loop.create_task(self._supervise())

    async def stop(self) -> None:
        tasks = [*self._attempts, *([self._task] if self._task is not None else [])]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._task = None

    async def _supervise(self) -> None:
        try:
            while True:
                try:
                    await self._run()
                except Exception as exc:
                    if store_down(exc):  # it comes back by itself: look again, without a traceback each time
                        if not self.store_unreachable:
                            log.warning("the webhook delivery worker cannot reach the store (%s); "
                                        "looking again every %g s", exc, STORE_DOWN_PAUSE)
                        self.store_unreachable = True
                        await asyncio.sleep(STORE_DOWN_PAUSE)
                        continue
                    self.crashes += 1
                    log.exception("the webhook delivery worker crashed; starting it again")
                    await asyncio.sleep(RESTART_PAUSE)
        finally:
            http, self._http = self._http, None
            if http is not None:
                await http.aclose()

    async def _run(self) -> None:
        assert self._wake is not None
        loop = asyncio.get_running_loop()
        while True:
            self._wake.clear()  # before looking: a poke while we look makes the wait below return at once
            now = self.clock.now()
            holder = f"{self.name}/{next(self._looks)}"
            # the lease starts on the store's clock during the call, so this end is at or before the store's
            ends = loop.time() + self.lease - min(FINISH_TIME, self.lease / 4)
            for delivery in self.log.lease_due(now, holder, self.lease, BATCH):
                self._start(delivery, holder, ends)
            if self.store_unreachable:
                self.store_unreachable = False
                log.warning("the webhook delivery worker reaches the store again")
            await self._sleep(now)

    async def _sleep(self, now: float) -> None:
        assert self._wake is not None
        # a lease taken by another process after this look ends within one lease from now: look by then
        wait = min(MAX_SLEEP, self.lease)
        due = self.log.next_due()
        if due is not None and not self.clock.frozen:  # a frozen clock moves only by an admin call, which pokes
            wait = min(max(due - now, 0.0), wait)
        lease_end = self.log.next_lease_end()
        if lease_end is not None:
            wait = min(lease_end, wait)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), wait)

    def _start(self, delivery: Delivery, holder: str, ends: float) -> None:
        task = asyncio.get_running_loop().create_task(self._in_lane(delivery, holder, ends))
        self._attempts.add(task)
        task.add_done_callback(self._attempts.discard)

    async def _in_lane(self, delivery: Delivery, holder: str, ends: float) -> None:
        receiver = receiver_of(delivery.url)
        lane, users = self._lanes.get(receiver) or (asyncio.Semaphore(LANE_WIDTH), 0)
        self._lanes[receiver] = (lane, users + 1)
        try:
            try:
                async with asyncio.timeout_at(ends):
                    await lane.acquire()
            except TimeoutError:  # its lease ran out while it waited: unstarted, due again for any worker
                self.log.release_lease(delivery.id, holder)
                return
            try:
                await self._attempt(delivery, holder, ends)
            finally:
                lane.release()
        except asyncio.CancelledError:  # stopped: the delivery is due again when a worker next runs
            self.log.release_lease(delivery.id, holder)
            raise
        finally:
            lane, users = self._lanes[receiver]
            if users <= 1:
                del self._lanes[receiver]
            else:
                self._lanes[receiver] = (lane, users - 1)

    async def _attempt(self, delivery: Delivery, holder: str, ends: float) -> None:
        attempt: dict = {"at": self.clock.now(), "number": len(delivery.attempts) + 1}
        try:
            async with asyncio.timeout_at(ends):
                response = await self._http_client().post(delivery.url, content=delivery.body,
                                                          headers=delivery.headers)
            attempt["status"] = response.status_code
            ok = 200 <= response.status_code < 300
        except TimeoutError:
            attempt["error"] = f"TimeoutError: no answer before the attempt's lease ended ({self.lease:g} s)"
            ok = False
        except Exception as exc:  # noqa: BLE001 - any error of one attempt (OverflowError for port 99999, ...) is its failure
            attempt["error"] = f"{type(exc).__name__}: {exc}"
            ok = False
        number = attempt["number"]
        if ok:
            self.log.finish_attempt(delivery.id, holder, attempt, "delivered")
        elif number >= self.retry.max_attempts:
            self.log.finish_attempt(delivery.id, holder, attempt, "failed")
        elif self.log.finish_attempt(delivery.id, holder, attempt, "retry",
                                     self.clock.now() + self.retry.delay(number)):
            self.poke()  # a new due time: the scheduler looks again

    def _http_client(self) -> httpx.AsyncClient:
        if self._http is None:
            self._http = self._client()
        return self._http
