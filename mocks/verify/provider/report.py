"""What a verify-provider run found: collected from Schemathesis' engine events, rendered for people and CI.

`ReportBuilder.handle` consumes the typed events of `schemathesis.engine` (one place that knows
their shapes); `ProviderReport` is plain data with a text rendering and a JUnit XML writer.
"""

from __future__ import annotations

import textwrap
import xml.etree.ElementTree as ET
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from schemathesis.engine import Status, events
from schemathesis.engine.run import PhaseName

from mocks.verify import junit
from mocks.verify.report import Progress, no_progress

TESTING_PHASES = {PhaseName.EXAMPLES, PhaseName.COVERAGE, PhaseName.FUZZING, PhaseName.STATEFUL_TESTING}


@dataclass
class ProviderStep:
    """One request of a multi-request reproduction (stateful failures)."""

    operation: str
    curl: str


@dataclass
class Finding:
    check: str  # the Schemathesis check that failed, e.g. response_schema_conformance
    code: str  # Schemathesis' stable failure code, e.g. ST101
    title: str
    message: str
    operation: str  # "GET /companies/{companyId}"
    phase: str
    curl: str
    steps: list[ProviderStep] = field(default_factory=list)
    status: int | None = None


@dataclass
class ErrorReport:
    operation: str
    title: str
    message: str
    curl: str | None = None
    count: int = 1


@dataclass
class ProviderReport:
    api: str
    base_url: str
    seed: int | None
    phases: tuple[str, ...]
    tested: list[str]
    skipped: dict[str, str]  # operation -> why Schemathesis skipped it
    elsewhere: dict[str, str]  # operation id -> server the contract names for it
    cases: dict[str, int]  # phase -> test cases generated
    findings: list[Finding]
    errors: list[ErrorReport]
    refused: list[str]  # operations that answered every valid request with 401/403
    stop_reason: str
    running_time: float

    @property
    def refused_everything(self) -> bool:
        """Every tested operation refused every request: the credentials are wrong, nothing was really tested."""
        return bool(self.tested) and set(self.tested) <= set(self.refused)

    @property
    def passed(self) -> bool:
        return not self.findings and not self.errors and bool(self.tested) and not self.refused_everything \
            and self.stop_reason in ("completed", "max_time")

    @property
    def warnings(self) -> list[str]:
        if not self.refused or self.refused_everything:
            return []
        more = len(self.refused) - 5
        shown = ", ".join(self.refused[:5]) + (f" and {more} more" if more > 0 else "")
        return [(f"every valid request to {shown} was refused (401/403): check that the credentials may use "
                f"{'them' if len(self.refused) > 1 else 'it'}, and pin tenant parameters (ids of what the "
                "credentials may see) in schemathesis.toml ([parameters])")]

    def by_check(self) -> dict[str, list[Finding]]:
        grouped: dict[str, list[Finding]] = defaultdict(list)
        for finding in self.findings:
            grouped[finding.check].append(finding)
        return dict(sorted(grouped.items()))

    def render(self) -> str:
        lines = [f"verify-provider {self.api} at {self.base_url}",
                 (f"  seed {self.seed} (repeat with --seed {self.seed}), phases {','.join(self.phases)}, "
                 f"{self.running_time:.1f}s"), ""]
        not_tested = len(self.elsewhere) + len(self.skipped)
        lines.append(f"Operations: {len(self.tested)} tested, {not_tested} not tested")
        for op, url in sorted(self.elsewhere.items()):
            lines.append(f"  not tested: {op}: the contract serves it at {url}, not at the base URL")
        for op, why in sorted(self.skipped.items()):
            lines.append(f"  not tested: {op}: {why}")
        total = sum(self.cases.values())
        per_phase = ", ".join(f"{phase} {count}" for phase, count in self.cases.items())
        lines.append(f"Test cases: {total} ({per_phase})" if per_phase else "Test cases: 0")
        for warning in self.warnings:
            lines.append(f"Warning: {warning}")
        lines.append("")
        grouped = self.by_check()
        if grouped:
            lines += ["Credentials in the curl commands below are shown as [Filtered].", ""]
        for check, findings in grouped.items():
            lines.append(f"[{check}] {len(findings)} failure{'s' if len(findings) != 1 else ''}")
            for n, finding in enumerate(findings, 1):
                status = f" (answered {finding.status})" if finding.status is not None else ""
                lines.append(f"  {n}. {finding.operation}: {finding.title}{status}  [{finding.code}, {finding.phase}]")
                if finding.message:
                    lines.append(textwrap.indent(_clip(finding.message), "       "))
                if finding.steps:
                    lines.append("     Reproduce (in order):")
                    for i, step in enumerate(finding.steps, 1):
                        lines.append(f"       {i}) {step.curl}")
                else:
                    lines.append(f"     Reproduce: {finding.curl}")
            lines.append("")
        for error in self.errors:
            times = f" ({error.count} times)" if error.count > 1 else ""
            lines.append(f"[error] {error.operation}: {error.title}{times}")
            lines.append(textwrap.indent(_clip(error.message), "       "))
            if error.curl:
                lines.append(f"     Reproduce: {error.curl}")
            lines.append("")
        if self.passed:
            lines.append(f"PASSED: {self.base_url} conforms to contracts/{self.api}.yaml in everything tested.")
        else:
            why = []
            if grouped:
                why.append(f"{len(self.findings)} failure{'s' if len(self.findings) != 1 else ''} "
                           f"from {len(grouped)} check{'s' if len(grouped) != 1 else ''}")
            if self.errors:
                count = sum(e.count for e in self.errors)
                why.append(f"{count} error{'s' if count != 1 else ''}")
            if not self.tested:
                why.append("no operation could be tested")
            if self.refused_everything:
                why.append("the provider refused every request with 401/403: check the credentials "
                           "(--header, --basic, --bearer)")
            if self.stop_reason not in ("completed", "max_time"):
                why.append(f"the run stopped early ({self.stop_reason.replace('_', ' ')})")
            lines.append(f"FAILED: {'; '.join(why)}.")
        return "\n".join(lines)

    def junit(self) -> ET.Element:
        suite = junit.suite(f"verify-provider {self.api}", seconds=self.running_time)
        classname = f"verify-provider.{self.api}"
        findings: dict[str, list[Finding]] = defaultdict(list)
        for finding in self.findings:
            findings[finding.operation].append(finding)
        errors: dict[str, list[ErrorReport]] = defaultdict(list)
        for error in self.errors:
            errors[error.operation].append(error)
        names = sorted(set(self.tested) | set(findings) | set(errors))
        for name in names:
            case = junit.case(suite, classname, name)
            for finding in findings.get(name, []):
                text = f"{finding.check}: {finding.message}\n\nReproduce: " + (
                    "\n".join(s.curl for s in finding.steps) if finding.steps else finding.curl)
                junit.failure(case, f"{finding.check}: {finding.title}", text, kind=finding.check)
            for error in errors.get(name, []):
                junit.error(case, error.title, error.message)
        for name, why in sorted(self.skipped.items()) + sorted(
                (op, f"served at {url}") for op, url in self.elsewhere.items()):
            junit.skipped(junit.case(suite, classname, name), why)
        return suite

class ReportBuilder:
    """Turns the engine's event stream into a `ProviderReport`."""

    def __init__(self, *, api: str, base_url: str, seed: int | None, phases: tuple[str, ...],
                 elsewhere: dict[str, str], progress: Progress = no_progress) -> None:
        self.api, self.base_url, self.seed, self.phases = api, base_url, seed, phases
        self.elsewhere = elsewhere
        self.progress = progress
        self.tested: set[str] = set()
        self.skipped: dict[str, str] = {}
        self.cases: Counter[str] = Counter()
        self.statuses: dict[str, Counter[int]] = defaultdict(Counter)  # of valid (positive) requests
        self.findings: dict[tuple[str, Any], tuple[Finding, bool]] = {}
        self.errors: list[ErrorReport] = []
        self.stop_reason = "error"
        self.running_time = 0.0

    def handle(self, event: events.EngineEvent) -> None:
        if isinstance(event, events.ScenarioFinished):
            self._scenario(event)
        elif isinstance(event, events.PhaseFinished) and event.phase.name in TESTING_PHASES:
            if event.status != Status.SKIP:
                self.progress(f"  {event.phase.name.value}: {self.cases.get(event.phase.name.value, 0)} test cases, "
                              f"{self._failure_count()} failures so far")
        elif isinstance(event, events.PhaseFinished) and event.phase.name == PhaseName.PROBING:
            self._probe(event)
        elif isinstance(event, events.NonFatalError):
            self._error(ErrorReport(event.label, event.info.title, event.info.message or str(event.value),
                                    event.info.code_sample))
        elif isinstance(event, events.FatalError):
            self._error(ErrorReport("(run)", type(event.exception).__name__, str(event.exception)))
        elif isinstance(event, events.EngineFinished):
            self.stop_reason = event.stop_reason.value
            self.running_time = event.running_time
            for failure in event.failures or []:
                self._add(Finding("after_run", failure.code, failure.title, failure.message,
                                  failure.operation or "(run)", "after run", ""), final=True, key=failure)

    def fail_to_start(self, why: str) -> None:
        self._error(ErrorReport("(run)", "The provider is not reachable", why))
        self.stop_reason = "server_unavailable"

    def _error(self, error: ErrorReport) -> None:
        """One entry per operation and kind of error: a provider that went away is one problem, not a thousand."""
        for known in self.errors:
            if (known.operation, known.title, known.message) == (error.operation, error.title, error.message):
                known.count += 1
                return
        self.errors.append(error)

    def _probe(self, event: events.PhaseFinished) -> None:
        payload = event.payload
        error = getattr(payload, "err", None)
        if callable(error):
            problem = error()
            if problem is not None:
                self._error(ErrorReport("(run)", "The provider could not be probed", str(problem)))

    def _scenario(self, event: events.ScenarioFinished) -> None:
        if event.phase not in TESTING_PHASES:
            return
        label = event.label or "(stateful)"
        if event.status == Status.SKIP:
            if event.phase != PhaseName.STATEFUL_TESTING and label not in self.tested:
                self.skipped.setdefault(label, event.skip_reason or "skipped")
            return
        recorder = event.recorder
        self.cases[event.phase.value] += len(recorder.cases)
        for case_id, node in recorder.cases.items():
            operation = node.value.operation.label
            self.tested.add(operation)
            self.skipped.pop(operation, None)
            response = recorder.find_response(case_id=case_id)
            meta = node.value.meta
            if response is not None and (meta is None or meta.generation.mode.is_positive):
                self.statuses[operation][response.status_code] += 1
        for case_id, checks in recorder.checks.items():
            for check in checks:
                info = check.failure_info
                if check.status != Status.FAILURE or info is None:
                    continue
                failure = info.failure
                response = recorder.find_response(case_id=failure.case_id or case_id)
                finding = Finding(
                    check=check.name, code=failure.code, title=failure.title, message=failure.message,
                    operation=failure.operation or label, phase=event.phase.value, curl=info.code_sample,
                    steps=[ProviderStep(s.operation, s.curl) for s in info.steps] if len(info.steps) > 1 else [],
                    status=response.status_code if response is not None else None,
                )
                self._add(finding, final=event.is_final, key=failure)

    def _add(self, finding: Finding, *, final: bool, key: Any) -> None:
        """One finding per check and distinct failure; the shrunk (final) reproduction wins."""
        slot = (finding.check, key)
        known = self.findings.get(slot)
        if known is None or (final and not known[1]):
            self.findings[slot] = (finding, final)

    def _failure_count(self) -> int:
        return len(self.findings)

    def _refused(self) -> list[str]:
        return sorted(op for op, statuses in self.statuses.items() if statuses and set(statuses) <= {401, 403})

    def report(self) -> ProviderReport:
        findings = sorted((f for f, _ in self.findings.values()), key=lambda f: (f.check, f.operation, f.title))
        return ProviderReport(
            api=self.api, base_url=self.base_url, seed=self.seed, phases=self.phases,
            tested=sorted(self.tested), skipped=dict(self.skipped), elsewhere=dict(self.elsewhere),
            cases=dict(self.cases), findings=findings, errors=list(self.errors), refused=self._refused(),
            stop_reason=self.stop_reason, running_time=self.running_time,
        )


def _clip(text: str, limit: int = 1500) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[:limit] + f"\n... ({len(text) - limit} more characters)"
