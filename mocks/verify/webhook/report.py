"""What a webhook-handler run found: deliveries sent, properties broken, the report and its JUnit suite."""

from __future__ import annotations

import shlex
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass, field

from mocks.verify import junit
from mocks.verify.webhook.events import Request, SampleEvent
from mocks.verify.webhook.options import HandlerOptions
from mocks.verify.webhook.schedule import DeliveryStep

ACKNOWLEDGES = "acknowledges every good delivery with 2xx"
REJECTS = "rejects every bad signature with 4xx and does not apply it"
ONCE = "applies each event exactly once"


@dataclass
class HandlerProblem:
    property: str
    text: str


@dataclass
class SentDelivery:
    number: int
    step: DeliveryStep
    text: str
    request: Request
    status: int | None = None
    error: str | None = None
    problems: list[HandlerProblem] = field(default_factory=list)


@dataclass
class ScheduleRun:
    """One schedule as it was delivered, up to the first delivery that broke a property."""

    events: list[SampleEvent]
    deliveries: list[SentDelivery]

    @property
    def problems(self) -> list[HandlerProblem]:
        return [p for d in self.deliveries for p in d.problems]


class PropertyBroken(AssertionError):
    def __init__(self, outcome: ScheduleRun) -> None:
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
    failure: ScheduleRun | None = None
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

    def junit(self) -> ET.Element:
        suite = junit.suite(f"verify-webhook-handler {self.options.api}", seconds=self.running_time)
        for name, verdict in self.properties():
            case = junit.case(suite, f"verify-webhook-handler.{self.options.api}", name)
            if verdict == "FAIL":
                junit.failure(case, name, self.render())
            elif verdict == "NOT RUN":
                junit.error(case, self.error or "not run", self.error)
            elif verdict.startswith("SKIP"):
                junit.skipped(case, verdict[6:])
        return suite

def curl(url: str, request: Request) -> str:
    parts = ["curl", "-sS", "-i", "-X", "POST", url]
    for name, value in request.headers.items():
        parts += ["-H", f"{name}: {value}"]
    parts += ["--data-binary", request.body.decode("utf-8")]
    return " ".join(shlex.quote(p) for p in parts)
