"""The search: a fault-free probe run, a deterministic coverage phase, then Hypothesis.

The probe shows which operations the client calls (a client that fails it fails at once). The
coverage phase tries every declared fault kind on every called operation, each variant once, one
fault at a time. Then Hypothesis draws combinations; its first failure is shrunk towards the same
property it broke (a shrink step is cut short as soon as that property is seen broken, or as soon
as the client has been silent longer than any wait it was asked for: a hang; the shrunk schedule is
then confirmed by one run of the whole time budget, so the reported failure is never a guess).

It speaks only in typed events (`Started`, `ProbeDone`, `ExampleDone`, `Finished`); how they are
shown (progress lines, a summary table, JUnit XML, a pytest failure) is up to the handlers.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis import seed as hypothesis_seed

from mocks.verify.client.expectations import Expectation, broken_expectations
from mocks.verify.client.facts import Facts
from mocks.verify.client.properties import PROPERTIES, Violation, judge
from mocks.verify.client.runner import Run, SandboxRunner, Watch
from mocks.verify.client.schedules import Plan, Schedule, coverage, schedules

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
    facts: Facts | None = None


@dataclass(slots=True)
class ProbeDone:
    verdict: Verdict
    plan: list[Plan] | None


@dataclass(slots=True)
class ExampleDone:
    number: int
    phase: str  # "coverage", "generate" or "shrink"
    verdict: Verdict


@dataclass(slots=True)
class Exploration:
    api: str
    client: str
    seed: int
    examples: int
    facts: Facts
    probe: Verdict | None = None
    plan: list[Plan] | None = None  # one per API the client called
    runs: int = 0
    shrink_runs: int = 0
    shrink_waited: int = 0  # shrink runs (confirmation included) that waited out the whole time budget
    hangs_cut: int = 0  # shrink steps cut short as a hang
    elapsed: float = 0.0
    tally: dict[str, list[int]] = field(default_factory=lambda: {p.name: [0, 0] for p in PROPERTIES})
    failure: Verdict | None = None
    scenario: Any = None  # the Path of the written scenario file
    error: str | None = None
    coverage_runs: int = 0
    original: list[Violation] = field(default_factory=list)  # what the first failing run broke
    exercised: Counter = field(default_factory=Counter)  # (api, operation, kind, code, Retry-After) -> runs
    expectations: list[Expectation] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.failure is None and self.error is None

    def count(self, verdict: Verdict) -> None:
        broken = {v.property for v in verdict.violations}
        for name, counts in self.tally.items():
            counts[0] += 1
            counts[1] += name in broken
        run = verdict.run
        self.exercised.update(f.variant() for f, state in zip(run.schedule.faults, run.fired) if state.get("fired"))

    def shrunk(self, verdict: Verdict) -> None:
        """Count a shrink step (or the confirming run)."""
        self.shrink_runs += 1
        self.shrink_waited += verdict.run.timed_out and verdict.run.hung is None


@dataclass(slots=True)
class Finished:
    outcome: Exploration


Emit = Callable[[Any], None]


class _Failed(Exception):
    def __init__(self, verdict: Verdict) -> None:
        super().__init__("a property of the client broke")
        self.verdict = verdict


# properties that, once broken, stay broken however the run goes on: a run can stop there
DECIDED_EARLY = frozenset({"waits-as-told", "bounded-retries", "idempotency-key-kept", "idempotency-body-kept",
                           "conforms-to-contract"})


def explore(runner: SandboxRunner, facts: Facts, *, client: str, examples: int, seed: int | None, emit: Emit,
            shrink_seconds: float = SHRINK_SECONDS, max_faults: int = 3,
            expectations: Sequence[Expectation] = ()) -> Exploration:
    seed = random.randrange(2**32) if seed is None else seed
    outcome = Exploration(" ".join(runner.names), client, seed, examples, facts, expectations=list(expectations))
    begun = time.monotonic()
    emit(Started(outcome.api, client, examples, seed, runner.timeout, dict(runner.urls), facts))

    def verdict_of(schedule: Schedule, watch: Watch | None = None, cut_hangs: bool = False) -> Verdict:
        run = runner.run(schedule, watch, cut_hangs)
        verdict = Verdict(run, judge(run, facts, broken_expectations(expectations, run, facts)))
        outcome.runs += 1
        outcome.hangs_cut += run.hung is not None
        outcome.count(verdict)
        return verdict

    probe = outcome.probe = verdict_of(Schedule())
    views = {name: probe.run.view(name).calls for name in runner.names}
    plans = [Plan.build(facts.for_api(name), calls) for name, calls in views.items() if calls]
    outcome.plan = plans or None
    emit(ProbeDone(probe, outcome.plan))
    if probe.failed:
        outcome.failure = probe
    elif not plans:
        outcome.error = ("the client made no request to the sandbox: it should read MOCKS_BASE_URL (and the "
                         "other MOCKS_* variables) from its environment")
    else:
        memo: dict[Schedule, Verdict] = {Schedule(): probe}  # every schedule runs once, whichever phase drew it
        outcome.failure = (_cover(plans, outcome, verdict_of, emit, memo)
                           or _search(plans, outcome, verdict_of, emit, examples, seed, shrink_seconds, max_faults,
                                      memo))
    if outcome.failure is not None:
        outcome.original = outcome.original or outcome.failure.violations
    outcome.elapsed = time.monotonic() - begun
    return outcome


def _cover(plans: list[Plan], outcome: Exploration, verdict_of, emit: Emit, memo: dict[Schedule, Verdict]
           ) -> Verdict | None:
    """Each fault kind on each operation, each variant once: a one-fault failure is minimal already."""
    for number, schedule in enumerate(coverage(plans), 1):
        verdict = memo[schedule] = verdict_of(schedule)
        outcome.coverage_runs += 1
        emit(ExampleDone(number, "coverage", verdict))
        if verdict.failed:
            return verdict
    return None


def _search(plans: list[Plan], outcome: Exploration, verdict_of, emit: Emit, examples: int, seed: int,
            shrink_seconds: float, max_faults: int, memo: dict[Schedule, Verdict]) -> Verdict | None:
    failing: list[Verdict] = []
    target: list[str] = []  # the property the first failure broke: shrinking keeps to it
    deadline = [float("inf")]
    number = [0]

    def breaks_target(verdict: Verdict) -> bool:
        return any(v.property == target[0] for v in verdict.violations) if target else verdict.failed

    @settings(max_examples=examples, deadline=None, database=None, phases=(Phase.generate, Phase.shrink),
              suppress_health_check=list(HealthCheck), verbosity=Verbosity.quiet, report_multiple_bugs=False,
              print_blob=False)
    @given(schedules(plans, max_faults))
    def example(schedule: Schedule) -> None:
        verdict = memo.get(schedule)
        if verdict is None:
            if failing and time.monotonic() > deadline[0]:
                return  # out of shrinking time: leave the smallest failure found so far
            phase = "shrink" if failing else "generate"
            verdict = memo[schedule] = verdict_of(schedule, _watch(outcome.facts, target) if failing else None,
                                                  bool(failing) and _hang(target))
            number[0] += 1
            if failing:
                outcome.shrunk(verdict)
            emit(ExampleDone(number[0], phase, verdict))
        if verdict.failed and not failing:
            deadline[0] = time.monotonic() + shrink_seconds
            target.append(_target(verdict))
            outcome.original = verdict.violations
        if breaks_target(verdict):
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
    found = _drop_unneeded(found, memo, lambda s: verdict_of(s, _watch(outcome.facts, target), _hang(target)), emit, number,
                           outcome, breaks_target)
    return _confirm(found, failing, verdict_of, emit, number, outcome, breaks_target)


def _confirm(found: Verdict, failing: list[Verdict], verdict_of, emit: Emit, number: list[int],
             outcome: Exploration, breaks_target: Callable[[Verdict], bool]) -> Verdict:
    """A schedule whose step was cut as a hang runs once more with the whole time budget: the reported
    failure is what the client did, never a guess (if it does not fail so, the smallest confirmed one)."""
    if found.run.hung is None:
        return found
    verdict = verdict_of(found.run.schedule)
    number[0] += 1
    outcome.shrunk(verdict)
    emit(ExampleDone(number[0], "shrink", verdict))
    if breaks_target(verdict):
        return verdict
    confirmed = [v for v in failing if v.run.hung is None and breaks_target(v)]
    return min(confirmed, key=lambda v: (len(v.run.schedule), v.run.elapsed))


def _target(verdict: Verdict) -> str:
    """The property to shrink towards: one the failure broke, preferring one a run shows as soon as it breaks
    (a shrink step then stops there instead of waiting out a hang)."""
    broken = [v.property for v in verdict.violations]
    return next((name for name in broken if name in DECIDED_EARLY), broken[0])


def _hang(target: list[str]) -> bool:
    """Shrinking a pure hang: a step may end at the client's silence (`SandboxRunner.run(cut_hangs=)`).
    A cut step only ever counts as failing, and the result is confirmed; for any other property a cut
    would decide "passes" unconfirmed, so it is not used."""
    return bool(target) and target[0] == "finishes-in-time"


def _watch(facts: Facts, target: list[str]) -> Watch | None:
    """While a shrink step runs: stop it once the property being shrunk is seen broken (its outcome)."""
    if not target or target[0] not in DECIDED_EARLY:
        return None

    def decided(partial: Run) -> str | None:
        broken = [v for v in judge(partial, facts) if v.property == target[0]]
        return f"stopped once {broken[0].title!r} broke" if broken else None
    return decided


def _drop_unneeded(found: Verdict, memo: dict[Schedule, Verdict], verdict_of, emit: Emit, number: list[int],
                   outcome: Exploration, breaks_target: Callable[[Verdict], bool]) -> Verdict:
    """A last, cheap pass when shrinking ran out of time: leave out each fault that is not needed."""
    changed = True
    while changed and len(found.run.schedule) > 1:
        changed = False
        for smaller in _one_less(found.run.schedule):
            verdict = memo.get(smaller)
            if verdict is None:
                verdict = memo[smaller] = verdict_of(smaller)
                number[0] += 1
                outcome.shrunk(verdict)
                emit(ExampleDone(number[0], "shrink", verdict))
            if breaks_target(verdict):
                found, changed = verdict, True
                break
    return found


def _one_less(schedule: Schedule) -> list[Schedule]:
    smaller = [Schedule(schedule.faults, None)] if schedule.throttle else []
    return smaller + [Schedule(schedule.faults[:i] + schedule.faults[i + 1:], schedule.throttle)
                      for i in range(len(schedule.faults))]
