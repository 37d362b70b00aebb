"""mocks/ratelimit.py: rates parse; limits hold over arbitrary request timings on a virtual clock.

The properties drive a Limiter built from a tiny inline contract with explicit `now` values.
Times are multiples of 1/8 s so the arithmetic is exact and a failure is a logic error;
one property repeats the Retry-After check on decimal times, where float noise lives.
Times are generated as gaps, so they stay sorted and shrink to short lists like [0.0, 0.0, 1.0].
"""

from __future__ import annotations

import math
import sys
import threading
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from mocks.contract import Contract
from mocks.ratelimit import Limiter, Policy, parse_rate
from mocks.state.memory import MemoryStore
from mocks.state.protocol import Hit
from mocks.types import MockError

HEADERS = {"limit": "X-RateLimit-Limit", "remaining": "X-RateLimit-Remaining", "reset": "X-RateLimit-Reset"}
CONTEXT = {"principal": {"id": "p1"}}


@pytest.mark.parametrize(
    ("text", "expected"),
    [("5/min", (5, 60.0)), ("100/10s", (100, 10.0)), ("3", (3, None)), ("2/hour", (2, 3600.0)),
     ("1/d", (1, 86400.0)), (" 7 / 2 m ", (7, 120.0)), ("10/second", (10, 1.0)), ("4/s", (4, 1.0))],
)
def test_parse_rate(text, expected):
    assert parse_rate(text) == expected


@pytest.mark.parametrize("text", ["", "five/min", "5/fortnight", "-1/min", "5 per min", "/min", "1.5/min"])
def test_parse_rate_rejects_bad_input(text):
    with pytest.raises(ValueError, match="is not a rate"):
        parse_rate(text)


@pytest.mark.parametrize("text", ["5/0s", "5/0min"])
def test_parse_rate_rejects_an_empty_window(text):
    with pytest.raises(ValueError):
        parse_rate(text)


def limiter(limit: int, window: float, algorithm: str = "sliding", **extra: Any) -> tuple[Limiter, Policy]:
    contract = Contract({
        "x-mock-api": {"name": "unit"},
        "paths": {"/items": {"get": {"operationId": "list", "tags": ["Items"], "responses": {"200": {}}}},
                  "/other": {"get": {"operationId": "other", "responses": {"200": {}}}}},
        "x-mock-rate-limits": [{"name": "rpm", "algorithm": algorithm, "limit": limit, "window": window,
                                "key": ["{principal.id}"], "headers": HEADERS, **extra}],
    })
    lim = Limiter(contract, MemoryStore())
    return lim, lim.policies[0]


def attempt(lim: Limiter, policy: Policy, now: float) -> tuple[bool, dict[str, str], MockError | None]:
    try:
        headers, _ = lim.check([policy], CONTEXT, now, "anon")
    except MockError as error:
        return False, dict(error.headers), error
    return True, dict(headers), None


def test_check_reports_limit_remaining_and_reset_headers():
    lim, policy = limiter(2, 60)
    assert attempt(lim, policy, 0.0)[1] == {"X-RateLimit-Limit": "2", "X-RateLimit-Remaining": "1",
                                            "X-RateLimit-Reset": "60"}
    assert attempt(lim, policy, 10.0)[1]["X-RateLimit-Remaining"] == "0"
    admitted, headers, error = attempt(lim, policy, 15.5)
    assert not admitted
    assert error.code == "rate_limited"
    assert headers == {"X-RateLimit-Limit": "2", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "45",
                       "Retry-After": "45"}


def test_check_names_the_policys_error_and_can_omit_retry_after():
    lim, policy = limiter(1, 60, error="quota_exceeded", **{"retry-after": False})
    attempt(lim, policy, 0.0)
    admitted, headers, error = attempt(lim, policy, 1.0)
    assert not admitted
    assert error.code == "quota_exceeded"
    assert "Retry-After" not in headers


def test_keys_come_from_the_template_or_fall_back():
    lim, policy = limiter(1, 60)
    lim.check([policy], {"principal": {"id": "a"}}, 0.0, "anon")
    lim.check([policy], {"principal": {"id": "b"}}, 0.0, "anon")  # another principal, another budget
    lim.check([policy], {}, 0.0, "10.0.0.1")  # no principal: the fallback key
    with pytest.raises(MockError):
        lim.check([policy], {}, 0.0, "10.0.0.1")


KEY_PARTS = st.one_of(st.none(), st.just(""), st.text(max_size=4), st.integers(-3, 3), st.booleans())


@given(parts=st.one_of(KEY_PARTS, st.lists(KEY_PARTS, max_size=3)))
def test_a_key_joins_its_parts_and_falls_back_only_when_every_part_is_missing_or_empty(parts):
    lim, policy = limiter(1, 60)
    policy.key = lambda context: parts
    listed = parts if isinstance(parts, list) else [parts]
    if all(part is None or part == "" for part in listed):
        expected = ["10.0.0.1"]
    else:
        expected = ["" if part is None else str(part) for part in listed]
    assert lim._key(policy, {}, "10.0.0.1") == "rpm|" + "|".join(expected)


def test_policies_apply_by_tag_or_operation_and_can_be_disabled():
    lim, policy = limiter(1, 60, **{"applies-to": {"tags": ["Items"]}})
    assert lim.for_operation("list") == [policy]
    assert lim.for_operation("other") == []
    policy.enabled = False
    assert lim.for_operation("list") == [policy]  # declared; `check` reads whether it is enabled
    for _ in range(3):
        assert lim.check(lim.for_operation("list"), {"principal": {"id": "a"}}, 0.0, "anon") == ([], [])
    policy.enabled = True
    lim.check([policy], {"principal": {"id": "a"}}, 0.0, "anon")
    with pytest.raises(MockError):
        lim.check([policy], {"principal": {"id": "a"}}, 0.0, "anon")


def test_configure_changes_limit_and_window():
    lim, policy = limiter(1, 60)
    lim.configure("3/10s")
    assert (policy.limit, policy.window) == (3, 10.0)
    lim.configure("7", "rpm")
    assert (policy.limit, policy.window) == (7, 10.0)
    with pytest.raises(KeyError):
        lim.configure("1/min", "nope")


def test_concurrency_policy_returns_keys_to_release():
    lim, policy = limiter(1, 1, algorithm="concurrency")
    _, release = lim.check([policy], CONTEXT, 0.0, "anon")
    assert release == ["rpm|p1"]
    with pytest.raises(MockError):
        lim.check([policy], CONTEXT, 0.0, "anon")
    lim.release(release)
    lim.check([policy], CONTEXT, 0.0, "anon")


# properties ---------------------------------------------------------------------------------------
# This repository's pytest loads schemathesis's plugin, which blanks Hypothesis's "Failing test
# case" printout; so every assertion message carries the (shrunk) inputs itself.

EIGHTHS = st.integers(min_value=0, max_value=24).map(lambda n: n / 8)
TENTHS = st.integers(min_value=0, max_value=30).map(lambda n: n / 10)
WINDOWS = st.sampled_from([1.0, 2.0, 3.0, 10.0, 0.5, 2.5])
LIMITS = st.integers(min_value=1, max_value=4)


def timeline(gaps: list[float]) -> list[float]:
    """Sorted request times from gaps between them (so shrinking keeps them sorted)."""
    times, now = [], 0.0
    for gap in gaps:
        now += gap
        times.append(now)
    return times


TIMES = st.lists(EIGHTHS, min_size=1, max_size=30).map(timeline)


def run(limit: int, window: float, times: list[float], algorithm: str = "sliding"):
    lim, policy = limiter(limit, window, algorithm)
    return [(now, *attempt(lim, policy, now)) for now in times]


def in_window(admitted: list[float], now: float, window: float) -> int:
    return sum(1 for a in admitted if now - window < a <= now)


@settings(max_examples=200, deadline=None)
@given(limit=LIMITS, window=WINDOWS, times=TIMES)
def test_sliding_never_admits_more_than_limit_in_any_window(limit, window, times):
    admitted = [now for now, ok, _, _ in run(limit, window, times) if ok]
    for end in admitted:
        count = in_window(admitted, end, window)
        assert count <= limit, f"{count} admitted in ({end - window}, {end}]; {limit=} {window=} {times=}"


@settings(max_examples=200, deadline=None)
@given(limit=LIMITS, window=WINDOWS, times=TIMES)
def test_sliding_admits_whenever_there_is_room_and_remaining_is_exact(limit, window, times):
    admitted: list[float] = []
    for now, ok, headers, _ in run(limit, window, times):
        case = f"at {now}: {limit=} {window=} {times=} admitted before={admitted}"
        assert ok == (in_window(admitted, now, window) < limit), case
        if ok:
            admitted.append(now)
        assert int(headers["X-RateLimit-Remaining"]) == limit - in_window(admitted, now, window), case


@settings(max_examples=200, deadline=None)
@given(limit=LIMITS, window=WINDOWS, times=TIMES)
def test_sliding_reset_is_whole_seconds_until_the_oldest_admission_leaves(limit, window, times):
    admitted: list[float] = []
    for now, ok, headers, _ in run(limit, window, times):
        if ok:
            admitted.append(now)
        oldest = min(a for a in admitted if now - window < a <= now)
        expected = max(1, math.ceil(oldest + window - now))
        assert int(headers["X-RateLimit-Reset"]) == expected, f"at {now}: {limit=} {window=} {times=}"


def replay(limit: int, window: float, admitted: list[float]) -> tuple[Limiter, Policy]:
    """A fresh limiter holding exactly these admissions."""
    lim, policy = limiter(limit, window)
    for at in admitted:
        assert attempt(lim, policy, at)[0]
    return lim, policy


def check_retry_after(limit: int, window: float, times: list[float], step: float) -> None:
    admitted: list[float] = []
    for now, ok, _, error in run(limit, window, times):
        if ok:
            admitted.append(now)
            continue
        retry_after = int(dict(error.headers)["Retry-After"])
        reset_at = min(a for a in admitted if now - window < a <= now) + window
        case = f"429 at {now} with Retry-After {retry_after}: {limit=} {window=} {times=}"
        lim, policy = replay(limit, window, admitted)
        # not admitted just before the true reset moment, nor a whole second before Retry-After ...
        assert not attempt(lim, policy, reset_at - step)[0], f"admitted before {reset_at}; {case}"
        assert not attempt(lim, policy, max(now, now + retry_after - 1))[0], f"Retry-After too long; {case}"
        # ... and admitted at now + Retry-After
        assert attempt(lim, policy, now + retry_after)[0], f"still refused at {now + retry_after}; {case}"


@settings(max_examples=200, deadline=None)
@given(limit=LIMITS, window=WINDOWS, times=TIMES)
def test_retry_after_names_the_moment_a_request_is_admitted_again(limit, window, times):
    check_retry_after(limit, window, times, step=1 / 8)


@settings(max_examples=200, deadline=None)
@given(limit=LIMITS, window=st.sampled_from([1.0, 2.0, 60.0]), times=st.lists(TENTHS, min_size=1, max_size=30).map(timeline))
@example(limit=1, window=2.0, times=[0.3, 1.3])  # once 429 again at 2.3, since 2.3 - 2 < 0.3 in floats
def test_retry_after_holds_for_decimal_timings(limit, window, times):
    check_retry_after(limit, window, times, step=0.1)


@settings(max_examples=200, deadline=None)
@given(limit=LIMITS, window=st.sampled_from([1.0, 2.0, 3.0, 60.0, 0.5]), times=TIMES)
def test_fixed_window_never_admits_more_than_limit_per_calendar_window(limit, window, times):
    per_window: dict[int, int] = {}
    for now, ok, headers, _ in run(limit, window, times, "fixed"):
        calendar = math.floor(now / window)
        used = per_window.get(calendar, 0)
        case = f"at {now}: {limit=} {window=} {times=} per window={per_window}"
        assert ok == (used < limit), case
        per_window[calendar] = used + ok
        assert int(headers["X-RateLimit-Remaining"]) == limit - per_window[calendar], case
        assert int(headers["X-RateLimit-Reset"]) == max(1, math.ceil((calendar + 1) * window - now)), case
    assert all(count <= limit for count in per_window.values())


@pytest.mark.parametrize("algorithm", ["sliding", "fixed", "concurrency"])
def test_exact_admission_when_many_threads_admit_at_once(algorithm):
    # Every thread walks the same keys in the same order, so each key is contested by all of them.
    keys, limit, threads_count = 200, 2, 16
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads often so an unlocked check-then-take would interleave
    try:
        admitted = admit_from_threads(algorithm, threads_count, keys, limit)
    finally:
        sys.setswitchinterval(before)
    assert len(admitted) == keys * threads_count
    over = {key: n for key in range(keys) if (n := sum(ok for k, ok in admitted if k == key)) != limit}
    assert over == {}, f"keys admitted other than {limit} times: {over}"


def admit_from_threads(algorithm: str, threads_count: int, keys: int, limit: int) -> list[tuple[int, bool]]:
    store = MemoryStore()
    barrier = threading.Barrier(threads_count)
    results: list[tuple[int, bool]] = []

    def hit() -> None:
        barrier.wait()
        for key in range(keys):
            admitted, _ = store.admit([Hit(f"rpm|{key}", algorithm, limit, 60.0, 1.0)])
            results.append((key, admitted))

    threads = [threading.Thread(target=hit) for _ in range(threads_count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results
