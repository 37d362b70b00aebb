"""Delivering schedules to the handler (Hypothesis draws them) and checking the properties after each delivery."""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

import httpx
from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis.errors import Flaky

from mocks.verify.report import Progress
from mocks.verify.webhook.events import DUPLICATE, EventSource, SampleEvent
from mocks.verify.webhook.options import HandlerOptions
from mocks.verify.webhook.report import (
    ACKNOWLEDGES,
    ONCE,
    REJECTS,
    HandlerProblem,
    HandlerReport,
    PropertyBroken,
    ScheduleRun,
    SentDelivery,
)
from mocks.verify.webhook.schedule import DeliveryStep, complete, describe, is_bad, schedules


class StateError(Exception):
    pass


def applied_entries(client: httpx.Client, state_url: str) -> list[Any]:
    # A server may close a kept-alive connection after a 500 from the handler; the GET is
    # idempotent, so one retry on a fresh connection tells a closed connection from a dead endpoint.
    for attempt in range(2):
        try:
            response = client.get(state_url)
            break
        except httpx.TransportError as exc:
            if attempt == 1:
                raise StateError(f"the state endpoint {state_url} did not answer: "
                                 f"{type(exc).__name__}: {exc}") from None
    try:
        state = response.json() if response.status_code == 200 else None
    except ValueError:
        state = None
    if not isinstance(state, dict) or not isinstance(state.get("applied"), list):
        raise StateError(f'the state endpoint {state_url} must answer GET with 200 {{"applied": [...]}} '
                         f"(the events applied, in order); it answered {response.status_code}: "
                         f"{response.text[:200]!r}")
    return state["applied"]


def explore(runner: DeliveryRunner, report: HandlerReport) -> None:
    options = runner.options
    check = settings(max_examples=options.examples, database=None, deadline=None, derandomize=False,
                     suppress_health_check=list(HealthCheck), report_multiple_bugs=False,
                     verbosity=Verbosity.quiet, phases=(Phase.explicit, Phase.generate, Phase.shrink))(
        given(schedules(options.events, runner.source.kinds))(runner.run))
    try:
        hypothesis_seed(report.seed)(check)()
    except PropertyBroken as exc:
        report.failure = exc.outcome
    except Flaky:
        report.failure, report.flaky = runner.last_failure, True
        if report.failure is None:
            report.error = "the handler behaved inconsistently (flaky) and no failing schedule could be kept"
    except StateError as exc:
        report.error = str(exc)


class DeliveryRunner:
    """Delivers one schedule and checks the properties after every delivery."""

    def __init__(self, options: HandlerOptions, source: EventSource, client: httpx.Client,
                 report: HandlerReport, progress: Progress) -> None:
        self.options, self.source, self.client, self.report = options, source, client, report
        self.progress = progress
        self.rng = random.Random(random.SystemRandom().getrandbits(64))  # ids only: fresh for every schedule
        self.last_failure: ScheduleRun | None = None

    def run(self, drawn: list[DeliveryStep]) -> None:
        self.report.schedules += 1
        if self.report.schedules % 10 == 0:
            self.progress(f"  {self.report.schedules} schedules delivered")
        events = self.source.events(self.options.events, self.rng)
        steps = complete(drawn, events)
        outcome = ScheduleRun(events, [])
        duplicates: Counter[int] = Counter()
        for number, step in enumerate(steps, 1):
            before = steps[:number - 1]
            text = describe(step, events, before, self.source.signature_header)
            request = self.source.render(events[step.event], step.kind, duplicates[step.event])
            duplicates[step.event] += step.kind == DUPLICATE
            delivery = SentDelivery(number, step, text, request)
            outcome.deliveries.append(delivery)
            self._send(delivery)
            self._count(step, before, events)
            delivery.problems += self._acknowledgement(delivery)
            if self.options.state_url and delivery.error is None:
                delivery.problems += self._state(events, steps[:number], outcome)
            if delivery.problems:
                self.last_failure = outcome
                raise PropertyBroken(outcome)

    def _send(self, delivery: SentDelivery) -> None:
        try:
            response = self.client.post(self.options.url, content=delivery.request.body,
                                        headers=delivery.request.headers)
            delivery.status = response.status_code
        except httpx.TransportError as exc:
            delivery.error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__

    def _count(self, step: DeliveryStep, before: list[DeliveryStep], events: list[SampleEvent]) -> None:
        tally = self.report.deliveries
        if is_bad(step.kind):
            tally["bad"] += 1
            return
        earlier = [s for s in before if s.event == step.event and s.good]
        tally["duplicate" if step.kind == DUPLICATE else "retry" if earlier else "first"] += 1
        delivered = {s.event for s in before if s.good}
        tally["out of order"] += any(p not in delivered for p in events[step.event].predecessors)

    def _acknowledgement(self, delivery: SentDelivery) -> list[HandlerProblem]:
        status, kind = delivery.status, delivery.step.kind
        if status is None:
            return [HandlerProblem(REJECTS if is_bad(kind) else ACKNOWLEDGES,
                            f"the handler did not answer ({delivery.error})")]
        if is_bad(kind):
            if 400 <= status < 500:
                return []
            why = ("a 5xx makes the sender retry a delivery that can never succeed" if status >= 500 else
                   "a delivery whose signature does not verify must not be acknowledged")
            return [HandlerProblem(REJECTS, f"answered {status} to a delivery with a bad signature: reject it with 4xx "
                                     f"(typically 401): {why}")]
        if 200 <= status < 300:
            return []
        good = "correctly signed delivery" if self.source.signed else "delivery"
        return [HandlerProblem(ACKNOWLEDGES, f"answered {status} to a good delivery: acknowledge every {good} with 2xx, "
                                      "including retries, duplicates and events that arrive out of order "
                                      f"(the sender retries anything else: {self.source.retry_text})")]

    def _state(self, events: list[SampleEvent], done: list[DeliveryStep], outcome: ScheduleRun) -> list[HandlerProblem]:
        entries = applied_entries(self.client, self.options.state_url or "")
        counts = Counter(self.source.key_of(entry) for entry in entries)
        acknowledged = {d.step.event for d in outcome.deliveries
                        if d.step.good and d.status is not None and 200 <= d.status < 300}
        tried = {s.event for s in done if s.good}
        identity = (f"by its event id ({self.source.event_id_header} / {self.source.id_field})"
                    if self.source.id_field else "by its payload")
        problems = []
        for event in events:
            count = counts.get(event.key, 0)
            if count > 1:
                problems.append(HandlerProblem(ONCE, f"{event.describe()} has been applied {count} times (expected once): "
                                              f"recognise a redelivery {identity}, acknowledge it and do not apply "
                                              "it again"))
            elif count == 1 and event.index not in tried:
                problems.append(HandlerProblem(REJECTS, f"{event.describe()} was applied although no delivery of it had a "
                                                 "valid signature"))
            elif count == 0 and event.index in acknowledged:
                problems.append(HandlerProblem(ONCE, f"{event.describe()} was acknowledged but is not in the state "
                                              "endpoint's applied list"))
        return problems
