"""Show a verification: progress lines while it runs, a summary at the end, JUnit XML for CI (`ClientReport`).

Each output is a handler of the events `explore` emits; `explain` puts a failure in plain words
(which faults, in which order, what the client did, which property broke).
"""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
from typing import TextIO

from mocks.verify import junit
from mocks.verify.client.explore import ExampleDone, Exploration, Finished, ProbeDone, Started, Verdict
from mocks.verify.client.facts import Facts
from mocks.verify.client.properties import PROPERTIES, Violation
from mocks.verify.client.schedules import KINDS
from mocks.verify.report import progress_to

TRANSCRIPT_HEAD, TRANSCRIPT_TAIL = 30, 10


class ClientProgress:
    """The run's events as progress lines (the header always, run lines unless `quiet`), then the summary.

    `summary=False` leaves the summary to the command's `finish` (`ClientReport.render`).
    """

    def __init__(self, stream: TextIO | None = None, *, quiet: bool = False, summary: bool = True) -> None:
        self.stream = stream or sys.stdout
        self.quiet, self.summary = quiet, summary
        self._line = progress_to(self.stream)
        self.facts: Facts | None = None

    def __call__(self, event: object) -> None:
        if isinstance(event, Started):
            self.facts = event.facts
            self._line(f"mocks verify-client {event.api}: up to {event.examples} fault schedules, seed {event.seed}, "
                       f"time budget {event.timeout:g} s per run")
            self._line(f"  client:  {event.client}")
            self._line(f"  sandbox: {', '.join(f'{k} {v}' for k, v in event.urls.items())}")
        elif isinstance(event, ProbeDone):
            self._progress("probe", event.verdict)
            for plan in [] if self.quiet else event.plan or []:
                several = f"{plan.facts.name} " if len(event.plan) > 1 else ""
                self._line(f"  {several}operations seen: {', '.join(plan.operations)}")
                self._line(f"  {several}fault kinds drawn from the contract: {', '.join(plan.kinds())}")
        elif isinstance(event, ExampleDone):
            label = {"shrink": "shrink", "coverage": "cover"}.get(event.phase, "example")
            self._progress(f"{label} {event.number:>3}", event.verdict)
        elif isinstance(event, Finished) and self.summary:
            self._line(summary(event.outcome))

    def _progress(self, label: str, verdict: Verdict) -> None:
        if self.quiet:
            return
        run = verdict.run
        status = "FAIL" if verdict.failed else "ok"
        code = "-" if run.exit_code is None else run.exit_code
        line = (f"  {label:<11} {status:<4} {run.elapsed:6.2f}s  exit {code!s:<3} {len(run.calls):>4} requests  "
                f"{run.schedule.short(self.facts)}")
        if verdict.failed:
            line += "  -> " + "; ".join(dict.fromkeys(v.title for v in verdict.violations))
        self._line(line)


def summary(outcome: Exploration) -> str:
    lines = ["", f"{'property':<62} {'runs':>5} {'failed':>7}"]
    for prop in PROPERTIES:
        checked, failed = outcome.tally[prop.name]
        lines.append(f"{prop.title:<62} {checked:>5} {failed:>7}")
    lines.append("")
    verdict = ("PASSED" if outcome.passed else "ERROR" if outcome.error else "FAILED")
    lines.append(f"{verdict}: {outcome.api}, {outcome.runs} runs ({outcome.coverage_runs} covering each declared "
                 f"fault, {outcome.shrink_runs} while shrinking) in {outcome.elapsed:.1f} s, seed {outcome.seed}")
    lines += exercised(outcome)
    if outcome.error:
        lines.append(f"  {outcome.error}")
    if outcome.failure is not None:
        lines += ["", explain(outcome.failure, outcome.facts, outcome.original)]
        if outcome.scenario is not None:
            lines += ["", "Replay it by hand (QA):",
                      f"  mocks serve {outcome.api} --scenario {outcome.scenario}",
                      *[f"  eval \"$(python -m mocks.verify.client.environment {name})\"   # in a second shell"
                        for name in outcome.api.split()[:1]],
                      f"  {outcome.client}",
                      f"  mocks scenarios --check {outcome.scenario}   # shows each fault striking as recorded"]
        expect = "".join(f" --expect {source}" for source in dict.fromkeys(e.source for e in outcome.expectations)
                         if source)
        lines += ["Reproduce this search:", (f"  mocks verify-client {outcome.api} --seed {outcome.seed} "
                                             f"--examples {outcome.examples}{expect} -- {outcome.client}")]
    return "\n".join(lines)


def exercised(outcome: Exploration) -> list[str]:
    """Which (operation, fault) pairs struck at least once, by operation."""
    by_operation: dict[str, list[str]] = {}
    several = len(outcome.api.split()) > 1
    for (api, operation, kind, code, wait), runs in sorted(outcome.exercised.items(), key=str):
        status = outcome.facts.for_api(api).codes.get(code or "", "")
        fault = " ".join(str(p) for p in (kind, status, code) if p) + (f" Retry-After {wait}" if wait is not None
                                                                        else "")
        by_operation.setdefault(f"{api}." * several + operation, []).append(fault + (f" x{runs}" if runs > 1 else ""))
    if not by_operation:
        return []
    return ["Faults exercised (operation: faults that struck it):"] + [
        f"  {operation}: {', '.join(faults)}" for operation, faults in by_operation.items()]


def explain(verdict: Verdict, facts: Facts, original: list[Violation] | None = None) -> str:
    """A failure in plain words (`original`: what the first failing run broke, before shrinking)."""
    run = verdict.run
    size = len(run.schedule)
    lines = [f"Minimal fault schedule ({size} fault{'s' * (size != 1)}){':' if size else ' - it fails with no fault'}"]
    lines += [f"  {i}. {text}" for i, text in enumerate(run.schedule.describe(facts), 1) if size]
    ending = ("was stopped: " + run.stopped if run.stopped else
              "was stopped early, its outcome known: " + run.decided if run.decided else
              "was taken to hang, " + run.hung if run.hung else
              f"was stopped after {run.budget:g} s (time budget)" if run.timed_out else
              f"exited {run.exit_code}")
    lines += ["", f"What the client did ({len(run.calls)} requests; it {ending} after {run.elapsed:.2f} s):"]
    lines += transcript(verdict, facts)
    lines += ["", "Which property broke:"]
    lines += [f"  x {f'[{v.api}] ' if v.api else ''}{v.title}: {v.message}" for v in verdict.violations]
    first = list(dict.fromkeys(v.title for v in original or []))
    if first and first != list(dict.fromkeys(v.title for v in verdict.violations)):
        lines += ["", (f"The first failing run (before shrinking) broke: {'; '.join(first)}. The schedule above "
                       f"was shrunk keeping the first of them broken.")]
    output = [line for line in run.output.strip().splitlines() if line.strip()][-12:]
    if output:
        lines += ["", "Client output (last lines):"] + [f"  | {line}" for line in output]
    return "\n".join(lines)


def transcript(verdict: Verdict, facts: Facts) -> list[str]:
    run = verdict.run
    if not run.calls:
        return ["  (no request)"]
    start = run.calls[0].arrived
    numbers = {(state.get("api", ""), state.get("id")): index for index, state in enumerate(run.fired, 1)}
    rows = []
    for number, call in enumerate(run.calls, 1):
        own = facts.for_api(call.api)
        header = (own.idempotency_header or "").lower()
        answer = call.outcome
        if call.status and call.status >= 400 and call.response_headers.get("retry-after"):
            answer += f" (Retry-After: {call.response_headers['retry-after']})"
        extra = []
        if header and call.headers.get(header):
            extra.append(f"{own.idempotency_header}: {call.headers[header][:12]}")
        if call.fault:
            index = numbers.get((call.api, call.fault.get("id"))) or numbers.get(("", call.fault.get("id")))
            extra.append(f"fault {index}" if index else "fault")
        note = f"  [{', '.join(extra)}]" if extra else ""
        where = f"{call.api} " if run.apis and len(run.apis) > 1 else ""
        rows.append(f"  {number:>3} +{call.arrived - start:7.3f}s  {where}{call.label()} -> {answer}{note}")
    if len(rows) > TRANSCRIPT_HEAD + TRANSCRIPT_TAIL:
        skipped = len(rows) - TRANSCRIPT_HEAD - TRANSCRIPT_TAIL
        rows = rows[:TRANSCRIPT_HEAD] + [f"  ... {skipped} more ..."] + rows[-TRANSCRIPT_TAIL:]
    return rows


class ClientReport:
    """An exploration as the verifiers' shared report: the summary, and one JUnit test case per property."""

    def __init__(self, outcome: Exploration) -> None:
        self.outcome = outcome

    @property
    def passed(self) -> bool:
        return self.outcome.passed

    def render(self) -> str:
        return summary(self.outcome)

    def junit(self) -> ET.Element:
        outcome = self.outcome
        broken = {v.property for v in outcome.failure.violations} if outcome.failure else set()
        suite = junit.suite(f"verify-client {outcome.api}", seconds=outcome.elapsed, properties={
            "api": outcome.api, "client": outcome.client, "seed": outcome.seed, "runs": outcome.runs,
            "shrink_runs": outcome.shrink_runs, "fault_kinds": ",".join(KINDS), "scenario": outcome.scenario or ""})
        for prop in PROPERTIES:
            case = junit.case(suite, f"verify-client.{outcome.api}", prop.title)
            case.set("time", "0")
            if prop.name in broken:
                messages = [v.message for v in outcome.failure.violations if v.property == prop.name]
                junit.failure(case, messages[0][:500], explain(outcome.failure, outcome.facts, outcome.original),
                              kind=prop.name)
            elif outcome.error:
                junit.error(case, outcome.error)
        ET.SubElement(suite, "system-out").text = summary(outcome)
        return suite
