"""What a well-behaved client does, as checks over one run: journal, final state, exit status, time.

Each property is a small function registered in `PROPERTIES`; it returns messages a person can
act on, and `judge` turns them into typed `Violation`s carrying the property's title.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field

from mocks.types import MockRequest
from mocks.verify.client.effects import created_copies, effect_present
from mocks.verify.client.facts import ApiFacts, Facts
from mocks.verify.client.runner import Run
from mocks.verify.client.schedules import REFUSALS
from mocks.verify.client.traffic import Call, Logical, logical_requests, retry_chains

RETRY_LIMIT = 8  # attempts of one request in a row, all but the last failing
HOT_GAP = 0.05  # seconds: a retry sooner than this after a failure did not back off
HOT_RUN = 3  # that many hot retries in a row make a hot loop
WAIT_TOLERANCE = 0.05  # seconds of measurement slack when checking Retry-After
REFUSED = frozenset({400, 402, 403, 409, 415, 422})  # answers after which a client may give up
MAX_REPORTED = 3
OUTLAST = 3  # failures of one request in a row that a client is expected to outlast
MAX_REQUESTS = 1000  # the journal keeps 2000 exchanges


@dataclass(frozen=True, slots=True)
class Violation:
    property: str
    title: str
    message: str
    api: str = ""  # set when the client talks to several APIs

    def __str__(self) -> str:
        return f"{self.title}: {self.message}"


@dataclass(slots=True)
class Evidence:
    """One run, read once: the calls, grouped into logical requests, and the contract's facts."""

    run: Run
    facts: ApiFacts
    calls: list[Call] = field(default_factory=list)
    logicals: list[Logical] = field(default_factory=list)
    expected: list[str] = field(default_factory=list)  # broken expectations of the user (--expect)
    elsewhere: list[Evidence] = field(default_factory=list)  # the other APIs' parts of the same run

    @classmethod
    def of(cls, run: Run, facts: ApiFacts, expected: list[str] | None = None) -> Evidence:
        return cls(run, facts, run.calls, logical_requests(run.calls, facts.idempotency_header), expected or [])

    def attempt(self, call: Call) -> str:
        """Which attempt a call was: "attempt 2 of 3 of createOrder (POST /v1/orders)"."""
        for group in self.logicals:
            if call in group.calls:
                return f"attempt {group.calls.index(call) + 1} of {len(group.calls)} of {group.label()}"
        return call.label()

    def code(self, call: Call) -> str | None:
        return self.facts.error_code(call.status, call.response_body)

    def writes(self) -> list[Logical]:
        ops = self.facts.operations
        return [g for g in self.logicals if g.operation in ops and ops[g.operation].is_write]

    def fired(self) -> list[str]:
        """Kinds of the scheduled faults that struck at least once."""
        return [fault.kind for fault, state in zip(self.run.schedule.faults, self.run.fired) if state.get("fired")]


@dataclass(frozen=True, slots=True)
class Property:
    name: str
    title: str
    check: Callable[[Evidence], list[str]]


PROPERTIES: list[Property] = []


def register(name: str, title: str):
    def add(check: Callable[[Evidence], list[str]]) -> Callable[[Evidence], list[str]]:
        PROPERTIES.append(Property(name, title, check))
        return check
    return add


def judge(run: Run, facts: Facts, expected: list[str] | None = None) -> list[Violation]:
    """Every property, over each API's part of the run (`expected`: broken user expectations)."""
    names = run.apis or ("",)
    out: dict[tuple[str, str], Violation] = {}  # never the same line twice
    evidences = [Evidence.of(run.view(name) if name else run, facts.for_api(name), expected if index == 0 else None)
                 for index, name in enumerate(names)]
    for name, evidence in zip(names, evidences):
        evidence.elsewhere = [other for other in evidences if other is not evidence]
        for prop in PROPERTIES:
            tag = name if len(names) > 1 and prop.name != "meets-expectations" else ""  # those span every API
            messages = list(dict.fromkeys(prop.check(evidence)))[:MAX_REPORTED]
            out.update({(prop.name, m): Violation(prop.name, prop.title, m, tag) for m in messages
                        if (prop.name, m) not in out})
    return list(out.values())


def runaway(calls: list[Call]) -> str | None:
    """While a client runs: a reason to stop it now (it is retrying far past any sensible bound)."""
    if len(calls) > MAX_REQUESTS:
        return f"stopped after {len(calls)} requests, far more than any run needs"
    for group in logical_requests(calls):
        for chain in retry_chains(group):
            if len(chain) > RETRY_LIMIT + 4 and not chain[-1].ok:
                return (f"stopped after {len(chain)} attempts in a row of {group.label()}, "
                        f"none succeeding (last: {chain[-1].outcome})")
    return None


# the properties ------------------------------------------------------------------------------------

@register("works-without-faults", "does its job when nothing goes wrong")
def works_without_faults(ev: Evidence) -> list[str]:
    code = ev.run.exit_code
    if code in (0, None) or any(len(e.run.schedule) for e in (ev, *ev.elsewhere)):
        return []
    return [(f"the client exited {code} in a run with no fault injected at all: it cannot do its job even when "
             f"nothing goes wrong, so no fault schedule was tried. Check that it uses MOCKS_BASE_URL and the "
             f"sandbox credentials, and that its requests are answered 2xx (see its output below).")]


@register("finishes-in-time", "ends within the time budget")
def finishes_in_time(ev: Evidence) -> list[str]:
    if not ev.run.timed_out:
        return []
    last = ev.calls[-1].label() if ev.calls else "no request at all"
    return [(f"the client was still running after {ev.run.budget:g} s (the time budget, --timeout) and was "
             f"stopped; its last request was {last}. Bound the time spent retrying and waiting, and give up "
             f"with a non-zero exit status when the budget (MOCKS_TIMEOUT) runs out.")]


@register("waits-as-told", "waits as told (Retry-After, rate-limit reset)")
def waits_as_told(ev: Evidence) -> list[str]:
    out = []
    for index, told in enumerate(ev.calls):
        wait = told.wait_asked()
        if not wait:
            continue
        for later in ev.calls[index + 1:]:
            if later.arrived < told.answered or later.operation in ev.facts.issuing:
                continue
            if told.status == 503 and later.operation != told.operation:
                continue
            gap = later.arrived - told.answered
            if gap < wait - WAIT_TOLERANCE:
                out.append(f"{later.label()} ({ev.attempt(later)}) was sent {gap:.2f} s after {told.label()} "
                           f"({ev.attempt(told)}) answered {told.status} "
                           f"asking to wait {wait:g} s. Wait at least as long as Retry-After (or the rate-limit "
                           f"reset header) says before the next request.")
            break
    return out


@register("bounded-retries", "retries are bounded and back off")
def bounded_retries(ev: Evidence) -> list[str]:
    out = [(f"the verifier {ev.run.stopped}: the client retries without bound. Give up after a few attempts "
            f"(e.g. 5) with a non-zero exit status.")] if ev.run.stopped else []
    for group in ev.logicals:
        for chain in retry_chains(group):
            if len(chain) > RETRY_LIMIT and not ev.run.stopped:
                outcomes = ", ".join(c.outcome for c in chain[:4])
                out.append(f"{group.label()} was attempted {len(chain)} times in a row without success "
                           f"({outcomes}, ...). Bound the retries (e.g. 5 attempts), whatever the answer, then "
                           f"give up.")
            hot = 0
            for previous, retry in itertools.pairwise(chain):
                told = previous.wait_asked() is not None  # "Retry-After: 0" allows an immediate retry
                hot = hot + 1 if retry.arrived - previous.answered < HOT_GAP and not told else 0
                if hot >= HOT_RUN:
                    out.append(f"{group.label()} was retried {hot} times in a row within {HOT_GAP * 1000:.0f} ms "
                               f"of each failure ({previous.outcome}, up to {ev.attempt(retry)}): a hot loop. Back off between retries "
                               f"(e.g. exponentially: 0.1 s, 0.2 s, 0.4 s, ...).")
                    break
    return out


@register("idempotency-key-kept", "one idempotency key per logical write, across its retries")
def idempotency_key_kept(ev: Evidence) -> list[str]:
    header = ev.facts.idempotency_header
    if not header:
        return []
    out = []
    for group in ev.writes():
        if group.method not in ev.facts.idempotency_methods or len(group.calls) < 2:
            continue
        keys = [c.headers.get(header.lower()) for c in group.calls]
        distinct = list(dict.fromkeys(keys))
        if len(distinct) > 1:
            shown = " -> ".join(k if k is not None else "(none)" for k in distinct[:4])
            out.append(f"the attempts of {group.label()} carried different {header} values ({shown}). Choose "
                       f"one key per logical write and send the same key with every retry of it, so that the "
                       f"API can recognise a retry of a write it has already done.")
        elif distinct == [None] and any(c.transient_failure for c in group.calls[:-1]):
            failed = next(c for c in group.calls if c.transient_failure)
            out.append(f"{group.label()} was retried after {failed.outcome} without an {header} header. "
                       f"Send one key per logical write, the same on every retry, so a retry of a write that "
                       f"went through is not done twice.")
    return out


@register("idempotency-body-kept", "a retried write keeps its body under one idempotency key")
def idempotency_body_kept(ev: Evidence) -> list[str]:
    header = ev.facts.idempotency_header
    if not header:
        return []
    out = []
    for group in ev.writes():
        first_body: dict[str, Call] = {}
        for call in group.calls:
            key = call.headers.get(header.lower())
            if key is None:
                continue
            earlier = first_body.setdefault(key, call)
            refused = ev.code(call) == ev.facts.idempotency_mismatch and ev.facts.idempotency_mismatch
            if earlier.body != call.body or refused:
                what = f"answered 409 {ev.facts.idempotency_mismatch}" if refused else "with a different body"
                out.append(f"{call.label()} ({ev.attempt(call)}) reused {header} {key[:12]} of "
                           f"{ev.attempt(earlier)} {what}. A retry must resend the very same body under its key; "
                           f"a changed request is a new write and needs a new key.")
                break
    return out


@register("no-duplicate-effects", "no duplicate effect in the final state")
def no_duplicate_effects(ev: Evidence) -> list[str]:
    out = []
    for group in ev.writes():
        op = ev.facts.operations[group.operation]
        if not op.creates:
            continue
        committed = [c for c in group.calls if (c.ok and not c.replayed) or c.committed_then_dropped]
        if len(committed) < 2:
            continue
        copies = created_copies(group, ev.facts, ev.run.before, ev.run.after)
        left = f"; {copies} of them are in the final state" if copies is not None else ""
        out.append(f"{group.label()} took effect {len(committed)} times from one logical request "
                   f"({', '.join(c.outcome for c in group.calls)}): {len(committed)} {op.resource}s were "
                   f"created{left}. Before repeating a write whose answer was lost, make the retry safe: send an "
                   f"idempotency key if the API supports one, otherwise look up whether the first attempt went "
                   f"through (e.g. by your own reference) and only then send it again.")
    return out


@register("reauthenticates", "re-authenticates; never resends a rejected token")
def reauthenticates(ev: Evidence) -> list[str]:
    facts = ev.facts
    if not facts.issued_schemes:
        return []
    resent: str | None = None
    abandoned: str | None = None
    rejected: dict[tuple[str, ...], Call] = {}
    for index, call in enumerate(ev.calls):
        token = facts.presented_token(call.headers)
        if token is not None and token in rejected and resent is None:
            resent = (f"{call.label()} ({ev.attempt(call)}) presented the same token that {rejected[token].label()} had been refused "
                      f"with (401). A rejected token stays rejected: fetch a new one "
                      f"({', '.join(sorted(facts.issuing))}) and use that.")
        if call.status == 401 and token is not None and call.operation not in facts.issuing:
            first_rejection = not rejected
            rejected.setdefault(token, call)
            # A client may stop after a fresh token is refused too; it must try once.
            if first_rejection and not any(c.operation in facts.issuing for c in ev.calls[index + 1:]):
                abandoned = (f"{call.label()} was refused with 401 (token expired or revoked) and the client never "
                             f"asked for a new token afterwards ({', '.join(sorted(facts.issuing))}). "
                             f"Re-authenticate once and retry the request.")
    return [m for m in (abandoned, resent) if m]


@register("conforms-to-contract", "every request conforms to the contract")
def conforms_to_contract(ev: Evidence) -> list[str]:
    api = ev.facts.api
    out = []
    for call in ev.calls:
        if call.operation is None:
            if call.status in (404, 405):
                out.append(f"{call.label()} is not an operation of the contract (answered {call.status}).")
            continue
        compiled = api.operations[call.operation]
        router = api.routers.get(call.listener) or api.routers[api.primary_listener]
        match = router.match(call.method, call.path)
        query: dict[str, list[str]] = {}
        for name, value in call.query:
            query.setdefault(name, []).append(value)
        request = MockRequest(call.method, call.path, query, call.headers, call.body.encode(), call.listener)
        _, problems = compiled.validator.parameters_of(request, match.params if match else {})
        if not call.body.endswith("…"):  # the journal keeps the first 4 KiB of a body
            problems += compiled.validator.body_of(request)[2]
        if problems:
            shown = "; ".join(f"{p.message}" + (f" (at {p.field})" if p.field else "") for p in problems[:3])
            out.append(f"{call.label()} ({ev.attempt(call)}) does not match the contract of {call.operation}: {shown}. "
                       f"Send what the contract declares, on every attempt.")
    return out


@register("truthful-exit", "exit status tells the truth")
def truthful_exit(ev: Evidence) -> list[str]:
    if ev.run.exit_code != 0:
        return []
    out = []
    for group in ev.writes():
        if (group.succeeded or any(c.committed_then_dropped for c in group.calls)
                or effect_present(group, ev.facts, ev.run.before, ev.run.after)):
            continue  # answered 2xx, carried out with its answer lost, or visible in the final state
        out.append(f"the client exited 0, but {group.label()} never succeeded (last answer: {group.last.outcome}) "
                   f"and its effect is not in the final state. Exit non-zero when the work could not be done.")
    return out


@register("survives-temporary-faults", "does not give up on temporary faults")
def survives_temporary_faults(ev: Evidence) -> list[str]:
    code = ev.run.exit_code
    if code in (0, None):
        return []
    fired = ev.fired()
    every = (ev, *ev.elsewhere)  # the exit status is the whole client's: a refusal by any API excuses it
    if any(set(e.fired()) & REFUSALS or any(_refused(call, e) for call in e.calls) for e in every):
        return []
    if not fired and any(e.fired() or len(e.run.schedule) for e in ev.elsewhere):
        return []  # judged where the faults struck
    longest = max((sum(c.transient_failure for c in chain) for e in every for g in e.logicals
                   for chain in retry_chains(g)), default=0)
    if longest > OUTLAST:
        return []  # a bounded retry policy may run out on this many failures in a row
    busy = ev.facts.idempotency_in_flight
    waiting = next((c for c in ev.calls if busy and c.status == 409 and ev.code(c) == busy), None)
    if waiting is not None:
        return [(f"the client exited {code} after {waiting.label()} ({ev.attempt(waiting)}) was answered 409 {busy}: "
                 f"the first attempt under that key was still running. That is temporary: wait a moment and retry "
                 f"with the same key.")]
    if not fired and not ev.run.schedule.throttle:
        if not len(ev.run.schedule):
            return []  # the fault-free run: see works-without-faults
        return [(f"the client exited {code} although none of the scheduled faults struck. Check that it uses "
                 f"MOCKS_BASE_URL and the sandbox credentials (see its output below).")]
    hint = next((f" Note: {g.label()} was carried out although its answer was lost, so its retry was answered "
                 f"{g.last.status}; read that as success (or look the result up)." for g in ev.writes()
                 if any(c.committed_then_dropped for c in g.calls) and not g.last.ok and g.last.status), "")
    return [(f"the client exited {code} although every fault it met was temporary "
             f"({', '.join(fired) or 'throttle'}): waiting and retrying would have got the work done. Retry dropped "
             f"connections, 5xx, 429 and expired tokens a bounded number of times before giving up.{hint}")]


def _refused(call: Call, ev: Evidence) -> bool:
    if call.status == 409 and ev.code(call) in ev.facts.idempotency_codes:
        return False  # in flight: retry it with the same key; key reused: the client's own bug
    if call.status in REFUSED:
        return True
    if call.status == 401:
        token = ev.facts.presented_token(call.headers)
        if token is None:
            return True  # a static credential refused: nothing to renew
        earlier = {ev.facts.presented_token(c.headers) for c in ev.calls if c.status == 401 and c.seq < call.seq}
        if earlier - {None, token}:
            return True  # a renewed token refused as well: the credentials themselves may be wrong
    wait = call.wait_asked()
    return call.status == 429 and wait is not None and wait > ev.run.budget


@register("meets-expectations", "the run leaves what you expect (--expect)")
def meets_expectations(ev: Evidence) -> list[str]:
    return ev.expected
