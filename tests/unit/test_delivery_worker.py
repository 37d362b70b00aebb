"""mocks/delivery_worker.py: an attempt's error is its own failure; a crashed scheduler starts again."""

from __future__ import annotations

import asyncio
import logging

import httpx

from mocks.clock import Clock
from mocks.deliveries import Delivery, DeliveryLog, RetryPolicy
from mocks.delivery_worker import DeliveryWorker, receiver_of
from mocks.state import StoreUnavailable


class FailingOnceClock(Clock):
    """A frozen clock whose first reading raises, as a defect in the scheduler would."""

    def __init__(self) -> None:
        super().__init__()
        self.freeze(1000.0)
        self.failures = 1

    def now(self) -> float:
        if self.failures:
            self.failures -= 1
            raise RuntimeError("a defect")
        return super().now()


async def until(condition, what: str) -> None:
    for _ in range(500):  # at most ~5 s
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what}")


def delivery(url: str) -> Delivery:
    return Delivery(url, url, b"{}", {}, 1000.0, 1000.0)


def test_a_crashed_scheduler_is_logged_and_started_again_and_every_attempt_error_is_recorded(caplog):
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.host == "broken.test":
            raise OverflowError("port must be 0-65535")
        return httpx.Response(200)

    async def scenario() -> tuple[DeliveryLog, DeliveryWorker]:
        deliveries = DeliveryLog()
        clock = FailingOnceClock()
        worker = DeliveryWorker(deliveries, clock, RetryPolicy(max_attempts=2, initial=5),
                                lambda: httpx.AsyncClient(transport=httpx.MockTransport(answer)))
        for url in ("http://broken.test/hook", "http://fine.test/hook"):
            deliveries.add(made := delivery(url))
            worker.schedule(made)
        await until(lambda: deliveries.counts["delivered"] == 1 and len(deliveries.describe()[0]["attempts"]) == 1,
                    "the first attempts")
        clock.advance(5)  # the broken delivery's retry is due: the moved clock wakes the worker
        await until(lambda: deliveries.counts["failed"] == 1, "the broken delivery to run out of attempts")
        await worker.stop()
        return deliveries, worker

    with caplog.at_level(logging.ERROR, logger="mocks.webhooks"):
        deliveries, worker = asyncio.run(scenario())
    assert worker.crashes == 1 and "crashed" in caplog.text
    broken, fine = deliveries.describe()
    assert [a["error"] for a in broken["attempts"]] == ["OverflowError: port must be 0-65535"] * 2
    assert broken["state"] == "failed" and fine["state"] == "delivered"


def test_receivers_are_told_apart_by_origin():
    assert receiver_of("http://A.test:81/x") == receiver_of("http://a.test:81/y") != receiver_of("http://a.test:82/x")
    assert receiver_of("http://[::1/") == "http://[::1/"  # does not parse: its own lane


class UnreachableAtFirst(DeliveryLog):
    """A queue whose store does not answer for its first `outage` looks, as a Redis that is restarting."""

    def __init__(self, outage: int) -> None:
        super().__init__()
        self.outage = outage

    def lease_due(self, now, worker, lease, limit):
        if self.outage:
            self.outage -= 1
            raise StoreUnavailable("connection refused")
        return super().lease_due(now, worker, lease, limit)


def test_a_store_that_does_not_answer_is_waited_for_said_once_and_deliveries_resume(caplog, monkeypatch):
    monkeypatch.setattr("mocks.delivery_worker.STORE_DOWN_PAUSE", 0.01)

    async def scenario() -> tuple[DeliveryLog, DeliveryWorker]:
        deliveries = UnreachableAtFirst(outage=3)
        clock = Clock()
        clock.freeze(1000.0)
        worker = DeliveryWorker(deliveries, clock, RetryPolicy(),
                                lambda: httpx.AsyncClient(transport=httpx.MockTransport(lambda _: httpx.Response(200))))
        deliveries.add(made := delivery("http://fine.test/hook"))
        worker.schedule(made)
        await until(lambda: deliveries.counts["delivered"] == 1, "the delivery once the store answers")
        await worker.stop()
        return deliveries, worker

    with caplog.at_level(logging.WARNING, logger="mocks.webhooks"):
        deliveries, worker = asyncio.run(scenario())
    assert worker.crashes == 0 and deliveries.outage == 0  # waited for, not a crash
    said = [r.getMessage() for r in caplog.records]
    assert len([m for m in said if "cannot reach the store" in m]) == 1, said  # once per outage, not once per look
    assert any("reaches the store again" in m for m in said)
