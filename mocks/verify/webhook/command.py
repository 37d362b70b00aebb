"""`mocks verify-webhook-handler`: does a client's webhook handler survive what senders really do?

Events shaped as the contract's webhooks (see `webhook_events`) are POSTed to the handler along
Hypothesis-generated delivery schedules (see `webhook_schedule`): retries, duplicates, events out
of order and deliveries with bad signatures. After every delivery three properties are checked:

- acknowledges every good delivery with 2xx (duplicates, retries and late events included);
- rejects every bad signature with 4xx, and never applies such a delivery;
- applies each event exactly once, observed through the handler's state endpoint.

The state endpoint (`--state-url`) is the contract between the two: `GET` answers
`200 {"applied": [ENTRY, ...]}`, one entry per event the handler applied, in application order,
where ENTRY is the event id (Konducter: `eventId`, also sent as X-Konducter-Event-Id) or the
delivered JSON body (Konducter: matched by its `eventId`; Lagerkoll, whose callbacks carry no id:
the callback payload, matched as a JSON value). It must reflect a delivery by the time the
delivery is acknowledged. Entries naming events this run did not send are ignored, so the
handler is never reset: every schedule uses fresh event ids. Without --state-url only the
acknowledgements are checked.

A failing schedule is shrunk by Hypothesis to a minimal one and printed in plain words, with a
curl command per delivery to replay it by hand.
"""

from __future__ import annotations

import argparse
import random
import shlex
import sys
import time
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis.errors import Flaky

from mocks.fixtures import load_fixtures
from mocks.registry import load_contract
from mocks.verify.junit import write_suite
from mocks.verify.webhook.events import DUPLICATE, Event, EventSource, Request
from mocks.verify.webhook.schedule import Step, complete, describe, is_bad, schedules

ACKNOWLEDGES = "acknowledges every good delivery with 2xx"
REJECTS = "rejects every bad signature with 4xx and does not apply it"
ONCE = "applies each event exactly once"


@dataclass
class HandlerOptions:
    api: str
    url: str
    state_url: str | None = None
    secret: str | None = None
    events: int = 5
    examples: int = 10
    seed: int | None = None
    timeout: float = 10.0


@dataclass
class Problem:
    property: str
    text: str


@dataclass
class Delivery:
    number: int
    step: Step
    text: str
    request: Request
    status: int | None = None
    error: str | None = None
    problems: list[Problem] = field(default_factory=list)


@dataclass
class Outcome:
    """One schedule as it was delivered, up to the first delivery that broke a property."""

    events: list[Event]
    deliveries: list[Delivery]

    @property
    def problems(self) -> list[Problem]:
        return [p for d in self.deliveries for p in d.problems]


class PropertyBroken(AssertionError):
    def __init__(self, outcome: Outcome) -> None:
        super().__init__("; ".join(p.text for p in outcome.problems))
        self.outcome = outcome


@dataclass
class HandlerReport:
    options: HandlerOptions
    seed: int
    signed: bool
    signature_header: str | None
    schedules: int = 0
    deliveries: Counter[str] = field(default_factory=Counter)
    failure: Outcome | None = None
    flaky: bool = False
    error: str | None = None
    notes: list[str] = field(default_factory=list)
    running_time: float = 0.0

    @property
    def passed(self) -> bool:
        return self.failure is None and self.error is None

    def properties(self) -> list[tuple[str, str]]:
        """(property, PASS | FAIL | SKIP: why) for each property."""
        broken = {p.property for p in self.failure.problems} if self.failure else set()
        out = []
        for name in (ACKNOWLEDGES, REJECTS, ONCE):
            if name == REJECTS and not self.signed:
                out.append((name, "SKIP: the contract declares no signature for these webhooks"))
            elif name == ONCE and not self.options.state_url:
                out.append((name, "SKIP: no --state-url to observe what the handler applied"))
            elif self.error is not None:
                out.append((name, "NOT RUN"))
            else:
                out.append((name, "FAIL" if name in broken else "PASS"))
        return out

    def render(self) -> str:
        o = self.options
        lines = [f"verify-webhook-handler {o.api} -> {o.url}",
                 (f"  state: {o.state_url or '(none)'}; seed {self.seed}; up to {o.examples} schedules of "
                 f"{o.events} events; {self.running_time:.1f}s"), ""]
        lines += [f"Note: {note}" for note in self.notes]
        if self.error is not None:
            lines += [f"ERROR: {self.error}", "", "FAILED: the handler could not be verified"]
            return "\n".join(lines)
        if self.failure is not None:
            lines += self._render_failure()
        else:
            d = self.deliveries
            lines.append(f"{self.schedules} delivery schedules, {sum(d.values())} deliveries: {d['first']} first "
                         f"deliveries, {d['retry']} retries, {d['duplicate']} duplicates, {d['bad']} with a bad "
                         f"signature; {d['out of order']} out of order.")
        lines.append("")
        for name, verdict in self.properties():
            lines.append(f"  {verdict.split(':')[0]:<4} {name}{verdict[4:] if ':' in verdict else ''}")
        lines.append("")
        broken = ", ".join(name for name, verdict in self.properties() if verdict == "FAIL")
        lines.append("PASSED" if self.passed else f"FAILED: {broken}")
        return "\n".join(lines)

    def _render_failure(self) -> list[str]:
        outcome = self.failure
        assert outcome is not None
        o = self.options
        lines = [("The handler behaved differently when the same schedule was replayed (flaky); "
                  "the last failing run:" if self.flaky else
                  f"After trying {self.schedules} delivery schedules (shrinking included), Hypothesis reduced a "
                  "failing one to this minimal schedule:"), ""]
        for delivery in outcome.deliveries:
            lines.append(f"  {delivery.number}. {delivery.text}")
            answer = f"answered {delivery.status}" if delivery.status is not None else f"no answer: {delivery.error}"
            lines.append(f"       -> {answer}")
            for problem in delivery.problems:
                lines.append(f"       BROKEN ({problem.property}): {problem.text}")
        lines += ["", "Reproduce by hand (the ids of the last run):"]
        for delivery in outcome.deliveries:
            lines.append(f"  {delivery.number}. {curl(o.url, delivery.request)}")
        if o.state_url:
            lines.append(f"  then: curl -sS {shlex.quote(o.state_url)}")
        rerun = f"mocks verify-webhook-handler {o.api} --url {shlex.quote(o.url)}"
        rerun += f" --state-url {shlex.quote(o.state_url)}" if o.state_url else ""
        rerun += " --secret ..." if o.secret is not None else ""
        lines += ["", f"Repeat this run: {rerun} --events {o.events} --examples {o.examples} --seed {self.seed}"]
        return lines

    def write_junit(self, path: str | Path) -> None:
        suite = ET.Element("testsuite", name=f"verify-webhook-handler {self.options.api}",
                           time=f"{self.running_time:.3f}")
        for name, verdict in self.properties():
            case = ET.SubElement(suite, "testcase", classname=f"verify-webhook-handler.{self.options.api}",
                                 name=name)
            if verdict == "FAIL":
                ET.SubElement(case, "failure", message=name).text = self.render()
            elif verdict == "NOT RUN":
                ET.SubElement(case, "error", message=self.error or "not run").text = self.error
            elif verdict.startswith("SKIP"):
                ET.SubElement(case, "skipped", message=verdict[6:])
        write_suite(suite, path)


def run_cli(args: argparse.Namespace) -> int:
    if args.events < 1 or args.examples < 1:
        raise ValueError("--events and --examples must be at least 1")
    options = HandlerOptions(api=args.api, url=args.url, state_url=args.state_url, secret=args.secret,
                             events=args.events, examples=args.examples, seed=args.seed)
    report = verify_webhook_handler(options, progress=lambda line: print(line, file=sys.stderr, flush=True))
    print(report.render())
    if args.junit:
        report.write_junit(args.junit)
    return 0 if report.passed else 1


def verify_webhook_handler(options: HandlerOptions, *, progress: Callable[[str], None] | None = None) -> HandlerReport:
    source = EventSource(load_contract(options.api), load_fixtures(options.api), options.secret)
    seed = options.seed if options.seed is not None else random.SystemRandom().getrandbits(32)
    report = HandlerReport(options, seed, source.signed, source.signature_header)
    if options.secret is not None and not source.signed:
        report.notes.append(f"{options.api} webhooks are not signed (the contract declares no signature): "
                            "--secret is not used")
    started = time.perf_counter()
    with httpx.Client(timeout=options.timeout) as client:
        report.error = preflight(client, options)
        if report.error is None:
            _explore(Runner(options, source, client, report, progress or (lambda line: None)), report)
    report.running_time = time.perf_counter() - started
    return report


def preflight(client: httpx.Client, options: HandlerOptions) -> str | None:
    """Why the run cannot start, or None: the handler answers, the state endpoint keeps the contract."""
    try:
        client.get(options.url)  # any answer will do, 405 included
    except httpx.TransportError as exc:
        return f"cannot reach the handler at {options.url}: {type(exc).__name__}: {exc}"
    if options.state_url:
        try:
            applied_entries(client, options.state_url)
        except StateError as exc:
            return str(exc)
    return None


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


def _explore(runner: Runner, report: HandlerReport) -> None:
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


class Runner:
    """Delivers one schedule and checks the properties after every delivery."""

    def __init__(self, options: HandlerOptions, source: EventSource, client: httpx.Client,
                 report: HandlerReport, progress: Callable[[str], None]) -> None:
        self.options, self.source, self.client, self.report = options, source, client, report
        self.progress = progress
        self.rng = random.Random(random.SystemRandom().getrandbits(64))  # ids only: fresh for every schedule
        self.last_failure: Outcome | None = None

    def run(self, drawn: list[Step]) -> None:
        self.report.schedules += 1
        if self.report.schedules % 10 == 0:
            self.progress(f"  {self.report.schedules} schedules delivered")
        events = self.source.events(self.options.events, self.rng)
        steps = complete(drawn, events)
        outcome = Outcome(events, [])
        duplicates: Counter[int] = Counter()
        for number, step in enumerate(steps, 1):
            before = steps[:number - 1]
            text = describe(step, events, before, self.source.signature_header)
            request = self.source.render(events[step.event], step.kind, duplicates[step.event])
            duplicates[step.event] += step.kind == DUPLICATE
            delivery = Delivery(number, step, text, request)
            outcome.deliveries.append(delivery)
            self._send(delivery)
            self._count(step, before, events)
            delivery.problems += self._acknowledgement(delivery)
            if self.options.state_url and delivery.error is None:
                delivery.problems += self._state(events, steps[:number], outcome)
            if delivery.problems:
                self.last_failure = outcome
                raise PropertyBroken(outcome)

    def _send(self, delivery: Delivery) -> None:
        try:
            response = self.client.post(self.options.url, content=delivery.request.body,
                                        headers=delivery.request.headers)
            delivery.status = response.status_code
        except httpx.TransportError as exc:
            delivery.error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__

    def _count(self, step: Step, before: list[Step], events: list[Event]) -> None:
        tally = self.report.deliveries
        if is_bad(step.kind):
            tally["bad"] += 1
            return
        earlier = [s for s in before if s.event == step.event and s.good]
        tally["duplicate" if step.kind == DUPLICATE else "retry" if earlier else "first"] += 1
        delivered = {s.event for s in before if s.good}
        tally["out of order"] += any(p not in delivered for p in events[step.event].predecessors)

    def _acknowledgement(self, delivery: Delivery) -> list[Problem]:
        status, kind = delivery.status, delivery.step.kind
        if status is None:
            return [Problem(REJECTS if is_bad(kind) else ACKNOWLEDGES,
                            f"the handler did not answer ({delivery.error})")]
        if is_bad(kind):
            if 400 <= status < 500:
                return []
            why = ("a 5xx makes the sender retry a delivery that can never succeed" if status >= 500 else
                   "a delivery whose signature does not verify must not be acknowledged")
            return [Problem(REJECTS, f"answered {status} to a delivery with a bad signature: reject it with 4xx "
                                     f"(typically 401): {why}")]
        if 200 <= status < 300:
            return []
        good = "correctly signed delivery" if self.source.signed else "delivery"
        return [Problem(ACKNOWLEDGES, f"answered {status} to a good delivery: acknowledge every {good} with 2xx, "
                                      "including retries, duplicates and events that arrive out of order "
                                      f"(the sender retries anything else: {self.source.retry_text})")]

    def _state(self, events: list[Event], done: list[Step], outcome: Outcome) -> list[Problem]:
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
                problems.append(Problem(ONCE, f"{event.describe()} has been applied {count} times (expected once): "
                                              f"recognise a redelivery {identity}, acknowledge it and do not apply "
                                              "it again"))
            elif count == 1 and event.index not in tried:
                problems.append(Problem(REJECTS, f"{event.describe()} was applied although no delivery of it had a "
                                                 "valid signature"))
            elif count == 0 and event.index in acknowledged:
                problems.append(Problem(ONCE, f"{event.describe()} was acknowledged but is not in the state "
                                              "endpoint's applied list"))
        return problems


def curl(url: str, request: Request) -> str:
    parts = ["curl", "-sS", "-i", "-X", "POST", url]
    for name, value in request.headers.items():
        parts += ["-H", f"{name}: {value}"]
    parts += ["--data-binary", request.body.decode("utf-8")]
    return " ".join(shlex.quote(p) for p in parts)
