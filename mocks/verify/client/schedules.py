"""Fault schedules: what can go wrong for a client, drawn from the contract by Hypothesis.

A schedule is a short list of faults (and at most one tightened rate limit). Each fault names an
operation the client was seen to call, lets `after` of its calls through, then strikes `times`
times (or every time). The kinds are ordered mildest first, so that Hypothesis shrinks a failing
schedule towards fewer and milder faults on earlier calls.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st

from mocks.verify.client.facts import ApiFacts, Facts, FactSet
from mocks.verify.client.traffic import Call

# kind -> (weight when drawing, permanent: strikes every time)
KINDS: dict[str, tuple[int, bool]] = {
    "latency": (1, False),
    "server_error": (3, False),
    "rate_limited": (1, False),
    "drop_before": (2, False),
    "commit_then_drop": (3, False),
    "expire_token": (2, False),
    "conflict": (1, False),
    "decline": (1, True),
    "outage": (1, True),
    "exhausted": (1, True),
}
REFUSALS = frozenset({"conflict", "decline", "outage", "exhausted"})  # after these a client may give up
EXHAUSTED_WAIT = 3600
THROTTLES = ("5/s", "3/s")
RETRY_AFTERS = (0, 1, 2)  # Retry-After variants: at once, small, large (within any sensible budget)


@dataclass(frozen=True, slots=True)
class ScheduledFault:
    kind: str
    operation: str
    after: int = 0
    times: int | None = 1  # None: every time
    code: str | None = None
    retry_after: int | None = None
    latency: float = 0.0
    api: str = ""  # the API whose operation it strikes ("" for the only one)

    def spec(self) -> dict[str, Any]:
        """The fault rule for the engine (`Api.add_fault`, the admin API, scenario files)."""
        spec: dict[str, Any] = {"operation": self.operation}
        if self.after:
            spec["after"] = self.after
        if self.times is not None:
            spec["times"] = self.times
        if self.kind == "latency":
            spec["latency"] = self.latency
        elif self.kind == "drop_before":
            spec["drop"] = "before"
        elif self.kind == "commit_then_drop":
            spec["drop"] = "after"
        elif self.kind == "expire_token":
            spec["expire_credentials"] = True
        else:
            spec["respond"] = self.code
        if self.retry_after is not None:
            spec["retry_after"] = self.retry_after
        return spec

    @property
    def permanent(self) -> bool:
        return self.times is None

    def describe(self, facts: Facts) -> str:
        """One line in plain words: where, when, what."""
        several = isinstance(facts, FactSet) and len(facts) > 1
        facts = facts.for_api(self.api)
        op = facts.operations.get(self.operation)
        target = (f"{facts.name} " if several else "") + (op.label() if op else self.operation)
        first = self.after + 1
        when = {None: f"every call from call {first} on" if self.after else "every call",
                1: f"call {first}", 2: f"calls {first} and {first + 1}"}.get(self.times, f"{self.times} calls")
        status = facts.codes.get(self.code or "", "")
        wait = f" with Retry-After: {self.retry_after}" if self.retry_after is not None else ""
        what = {
            "latency": f"delayed {self.latency:g} s",
            "server_error": f"answered {status} {self.code}{wait}",
            "rate_limited": f"answered {status} {self.code}{wait}",
            "drop_before": "the connection drops before the server acts (nothing happens)",
            "commit_then_drop": "carried out, but the connection drops before the answer (committed, response lost)",
            "expire_token": "the token it presents is revoked (as if expired) and it is answered 401",
            "conflict": f"answered {status} {self.code}",
            "decline": f"declined: {status} {self.code}",
            "outage": f"answered {status} {self.code}{wait} (an outage)",
            "exhausted": f"answered {status} {self.code}{wait} (quota exhausted)",
        }[self.kind]
        return f"{target}, {when}: {what}"

    def brief(self, facts: Facts | None = None) -> str:
        """The fault whole, in a few words: kind, status and code, Retry-After, where, when."""
        status = facts.for_api(self.api).codes.get(self.code or "", "") if facts is not None else ""
        parts = [self.kind, str(status), self.code or ""]
        if self.retry_after is not None:
            parts.append(f"Retry-After {self.retry_after}")
        if self.kind == "latency":
            parts.append(f"{self.latency:g}s")
        where = (f"{self.api}." if facts is not None and isinstance(facts, FactSet) and len(facts) > 1 else "")
        when = (f"+{self.after}" if self.after else "") + ("" if self.times == 1 else
                                                            " always" if self.times is None else f" x{self.times}")
        return " ".join(p for p in parts if p) + f" @{where}{self.operation}{when}"

    def variant(self) -> tuple[str, str, str, str | None, int | None]:
        """What the coverage summary counts: (API, operation, kind, code, Retry-After)."""
        return self.api, self.operation, self.kind, self.code, self.retry_after


@dataclass(frozen=True, slots=True)
class Schedule:
    faults: tuple[ScheduledFault, ...] = ()
    throttle: str | None = None  # every windowed rate limit tightened to this rate, e.g. "3/2s"

    def __len__(self) -> int:
        return len(self.faults) + (self.throttle is not None)

    def specs(self) -> list[dict[str, Any]]:
        return [fault.spec() for fault in self.faults]

    def limits(self) -> list[dict[str, Any]]:
        return [{"rate": self.throttle}] if self.throttle else []

    def describe(self, facts: Facts) -> list[str]:
        lines = [fault.describe(facts) for fault in self.faults]
        if self.throttle:
            count, _, window = self.throttle.partition("/")
            lines.append(f"every rate limit is tightened to {count} requests per {window}")
        return lines or ["no faults"]

    def short(self, facts: Facts | None = None) -> str:
        parts = [f.brief(facts) for f in self.faults]
        if self.throttle:
            parts.append(f"throttle {self.throttle}")
        return ", ".join(parts) or "no faults"


@dataclass(slots=True)
class Plan:
    """The faults that make sense for this API and this client (from its first, fault-free run)."""

    facts: ApiFacts
    operations: list[str]
    counts: Counter = field(default_factory=Counter)
    token_operations: list[str] = field(default_factory=list)

    @classmethod
    def build(cls, facts: ApiFacts, probe: list[Call]) -> Plan:
        seen = [c.operation for c in probe if c.operation in facts.operations]
        operations = list(dict.fromkeys(seen)) or list(facts.operations)
        used_issued = any(c.operation in facts.issuing and c.ok for c in probe)
        tokens = [c.operation for c in probe if used_issued and c.operation in facts.operations
                  and facts.operations[c.operation].issued and facts.presented_token(c.headers)]
        return cls(facts, operations, Counter(seen), list(dict.fromkeys(tokens)))

    def targets(self, kind: str) -> list[str]:
        facts, ops = self.facts, self.operations
        if kind == "commit_then_drop":
            return [op for op in ops if facts.operations[op].is_write]
        if kind == "expire_token":
            return self.token_operations
        if kind in ("conflict", "decline"):
            return [op for op in ops if facts.operations[op].is_write and self.codes(kind, op)]
        if kind in ("server_error", "outage"):
            return [op for op in ops if self.codes(kind, op)]
        if kind in ("rate_limited", "exhausted"):
            return [op for op in ops if op not in facts.issuing] or ops
        return ops

    def codes(self, kind: str, operation: str) -> list[str]:
        facts = self.facts
        if kind == "server_error":
            return facts.codes_with({500, 502, 503, 504}, operation) or facts.codes_with({500, 503})
        if kind == "outage":
            return facts.codes_with({500}, operation)[:1] or facts.codes_with({500})[:1]
        if kind == "conflict":
            return facts.codes_with({409}, operation)
        if kind == "decline":
            return facts.codes_with({402, 422}, operation)
        if kind == "rate_limited":
            short = [p["error"] for p in facts.policies if p["window"] <= 60 or p["algorithm"] == "concurrency"]
            return list(dict.fromkeys(short)) or facts.codes_with({429})[:1]
        if kind == "exhausted":
            long = [p["error"] for p in facts.policies if p["window"] >= 3600 and p["algorithm"] != "concurrency"]
            return long[:1] or facts.codes_with({429})[:1]
        return []

    def kinds(self) -> list[str]:
        return [kind for kind in KINDS if self.targets(kind)]

    def variants(self, kind: str, operation: str) -> list[ScheduledFault]:
        """Every declared variant of one fault kind on one operation, striking its first call."""
        times: int | None = None if KINDS[kind][1] else 1
        api = self.facts.name
        if kind == "latency":
            return [ScheduledFault(kind, operation, latency=0.5, api=api)]
        if kind == "exhausted":
            return [ScheduledFault(kind, operation, 0, times, code, EXHAUSTED_WAIT, api=api)
                    for code in self.codes(kind, operation)]
        codes = self.codes(kind, operation) or [None]
        out = []
        for code in codes:
            status = self.facts.codes.get(code or "", 0)
            waits = RETRY_AFTERS if kind == "rate_limited" or (kind == "server_error" and status in (429, 503)) \
                else (None,)
            out += [ScheduledFault(kind, operation, 0, times, code, wait, api=api) for wait in waits]
        return out


def coverage(plans: Plan | Sequence[Plan]) -> list[Schedule]:
    """The deterministic first phase: one-fault schedules in which each fault kind strikes each
    operation the client called at least once, and each declared variant of the kind (each code;
    Retry-After 0, small and large) shows up at least once, spread over those operations.

    The kinds (of every API) take turns, so a bug that one kind reveals shows up early."""
    rounds = [_kind_coverage(plan, kind) for plan in ([plans] if isinstance(plans, Plan) else plans)
              for kind in plan.kinds()]
    return [Schedule((fault,)) for turn in itertools.zip_longest(*rounds) for fault in turn if fault]


def _kind_coverage(plan: Plan, kind: str) -> list[ScheduledFault]:
    targets = plan.targets(kind)
    pending = set(targets)
    shown: set[tuple] = set()
    wanted = {f.variant()[2:] for op in targets for f in plan.variants(kind, op)}
    out = []
    while pending or wanted - shown:
        progress = False
        for operation in targets:
            choices = plan.variants(kind, operation)
            fault = next((f for f in choices if f.variant()[2:] not in shown), None)
            if fault is None and operation in pending:
                fault = choices[0]
            if fault is None:
                continue
            out.append(fault)
            shown.add(fault.variant()[2:])
            pending.discard(operation)
            progress = True
        if not progress:
            break
    return out


def schedules(plans: Plan | Sequence[Plan], max_faults: int = 3) -> st.SearchStrategy[Schedule]:
    """Schedules of up to `max_faults` faults across every API, plus sometimes a tightened rate limit."""
    plans = [plans] if isinstance(plans, Plan) else list(plans)
    choices = [(plan, kind) for plan in plans for kind in plan.kinds()]
    if not choices:
        return st.just(Schedule())
    # Slot 0 is "no fault": Hypothesis first tries each list element at its simplest, which then
    # means deleting that fault, and a schedule that loses a fault is the same value as one without.
    weighted = [None] + [choice for choice in choices for _ in range(KINDS[choice[1]][0])]
    faults = st.lists(_fault(weighted), max_size=max_faults).map(lambda f: tuple(x for x in f if x))
    throttle = st.sampled_from((None, None, None, None, None, *THROTTLES))
    return st.builds(Schedule, faults=faults, throttle=throttle)


def _fault(weighted: list[tuple[Plan, str] | None]) -> st.SearchStrategy[ScheduledFault | None]:
    @st.composite
    def draw(draw) -> ScheduledFault | None:
        choice = weighted[draw(st.integers(0, len(weighted) - 1))]
        if choice is None:
            return None
        plan, kind = choice
        operation = draw(st.sampled_from(plan.targets(kind)))
        seen = plan.counts.get(operation, 1)
        after = draw(st.integers(0, max(0, min(seen - 1, 3))))
        codes = plan.codes(kind, operation)
        code = draw(st.sampled_from(codes)) if codes else None
        status = plan.facts.codes.get(code or "", 0)
        times: int | None = None if KINDS[kind][1] else 1
        retry_after = None
        latency = 0.0
        if kind == "server_error":
            times = draw(st.integers(1, 2))
            retry_after = draw(st.sampled_from(RETRY_AFTERS)) if status in (429, 503) else None
        elif kind == "rate_limited":
            retry_after = draw(st.sampled_from(RETRY_AFTERS))
        elif kind == "exhausted":
            retry_after = EXHAUSTED_WAIT
        elif kind == "latency":
            latency = draw(st.sampled_from((0.2, 0.5)))
        return ScheduledFault(kind, operation, after, times, code, retry_after, latency, plan.facts.name)

    return draw()
