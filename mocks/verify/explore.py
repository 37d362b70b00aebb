"""The search: a fault-free probe run, then Hypothesis draws schedules and shrinks the first failure.

It speaks only in typed events (`Started`, `ProbeDone`, `ExampleDone`, `Finished`); how they are
shown (progress lines, a summary table, JUnit XML, a pytest failure) is up to the handlers.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis import seed as hypothesis_seed

from mocks.verify.facts import ApiFacts
from mocks.verify.properties import PROPERTIES, Violation, judge
from mocks.verify.runner import Run, Runner
from mocks.verify.schedules import Plan, Schedule, schedules

SHRINK_SECONDS = 60.0


@dataclass(slots=True)
class Verdict:
    run: Run
    violations: list[Violation]

    @property
    def failed(self) -> bool:
        return bool(self.violations)


@dataclass(slots=True)
class Started:
    api: str
    client: str
    examples: int
    seed: int
    timeout: float
    urls: dict[str, str]


@dataclass(slots=True)
class ProbeDone:
    verdict: Verdict
    plan: Plan | None


@dataclass(slots=True)
class ExampleDone:
    number: int
    phase: str  # "generate" or "shrink"
    verdict: Verdict


@dataclass(slots=True)
class Outcome:
    api: str
    client: str
    seed: int
    examples: int
    facts: ApiFacts
    probe: Verdict | None = None
    plan: Plan | None = None
    runs: int = 0
    shrink_runs: int = 0
    elapsed: float = 0.0
    tally: dict[str, list[int]] = field(default_factory=lambda: {p.name: [0, 0] for p in PROPERTIES})
    failure: Verdict | None = None
    scenario: Any = None  # the Path of the written scenario file
    error: str | None = None

    @property
    def passed(self) -> bool:
        return self.failure is None and self.error is None

    def count(self, verdict: Verdict) -> None:
        broken = {v.property for v in verdict.violations}
        for name, counts in self.tally.items():
            counts[0] += 1
            counts[1] += name in broken


@dataclass(slots=True)
class Finished:
    outcome: Outcome


Emit = Callable[[Any], None]


class _Failed(Exception):
    def __init__(self, verdict: Verdict) -> None:
        super().__init__("a property of the client broke")
        self.verdict = verdict


def explore(runner: Runner, facts: ApiFacts, *, client: str, examples: int, seed: int | None, emit: Emit,
            shrink_seconds: float = SHRINK_SECONDS, max_faults: int = 3) -> Outcome:
    seed = random.randrange(2**32) if seed is None else seed
    outcome = Outcome(facts.name, client, seed, examples, facts)
    begun = time.monotonic()
    emit(Started(facts.name, client, examples, seed, runner.timeout, dict(runner.urls)))

    def verdict_of(schedule: Schedule) -> Verdict:
        run = runner.run(schedule)
        verdict = Verdict(run, judge(run, facts))
        outcome.runs += 1
        outcome.count(verdict)
        return verdict

    probe = outcome.probe = verdict_of(Schedule())
    plan = outcome.plan = Plan.build(facts, probe.run.calls) if probe.run.calls else None
    emit(ProbeDone(probe, plan))
    if probe.failed:
        outcome.failure = probe
    elif plan is None:
        outcome.error = ("the client made no request to the sandbox: it should read MOCKS_BASE_URL (and the "
                         "other MOCKS_* variables) from its environment")
    else:
        outcome.failure = _search(runner, plan, outcome, verdict_of, emit, examples, seed, shrink_seconds, max_faults)
    outcome.elapsed = time.monotonic() - begun
    return outcome


def _search(runner, plan: Plan, outcome: Outcome, verdict_of, emit: Emit, examples: int, seed: int,
            shrink_seconds: float, max_faults: int) -> Verdict | None:
    memo: dict[Schedule, Verdict] = {Schedule(): outcome.probe}
    failing: list[Verdict] = []
    deadline = [float("inf")]
    number = [0]

    @settings(max_examples=examples, deadline=None, database=None, phases=(Phase.generate, Phase.shrink),
              suppress_health_check=list(HealthCheck), verbosity=Verbosity.quiet, report_multiple_bugs=False,
              print_blob=False)
    @given(schedules(plan, max_faults))
    def example(schedule: Schedule) -> None:
        verdict = memo.get(schedule)
        if verdict is None:
            if failing and time.monotonic() > deadline[0]:
                return  # out of shrinking time: leave the smallest failure found so far
            phase = "shrink" if failing else "generate"
            verdict = memo[schedule] = verdict_of(schedule)
            number[0] += 1
            outcome.shrink_runs += phase == "shrink"
            emit(ExampleDone(number[0], phase, verdict))
        if verdict.failed:
            if not failing:
                deadline[0] = time.monotonic() + shrink_seconds
            failing.append(verdict)
            raise _Failed(verdict)

    try:
        hypothesis_seed(seed)(example)()
    except _Failed as failed:
        found = failed.verdict
    except Exception:  # Hypothesis reports flakiness as its own errors: keep our smallest
        if not failing:
            raise
        found = min(failing, key=lambda v: (len(v.run.schedule), v.run.elapsed))
    else:
        return None
    return _drop_unneeded(found, memo, verdict_of, emit, number, outcome)


def _drop_unneeded(found: Verdict, memo: dict[Schedule, Verdict], verdict_of, emit: Emit, number: list[int],
                   outcome: Outcome) -> Verdict:
    """A last, cheap pass when shrinking ran out of time: leave out each fault that is not needed."""
    changed = True
    while changed and len(found.run.schedule) > 1:
        changed = False
        for smaller in _one_less(found.run.schedule):
            verdict = memo.get(smaller)
            if verdict is None:
                verdict = memo[smaller] = verdict_of(smaller)
                number[0] += 1
                outcome.shrink_runs += 1
                emit(ExampleDone(number[0], "shrink", verdict))
            if verdict.failed:
                found, changed = verdict, True
                break
    return found


def _one_less(schedule: Schedule) -> list[Schedule]:
    smaller = [Schedule(schedule.faults, None)] if schedule.throttle else []
    return smaller + [Schedule(schedule.faults[:i] + schedule.faults[i + 1:], schedule.throttle)
                      for i in range(len(schedule.faults))]
