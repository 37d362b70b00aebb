"""Each client property on hand-written journals: what it accepts, what it reports."""

from __future__ import annotations

import json

import pytest

from mocks.registry import load_api
from mocks.verify.client.facts import ApiFacts
from mocks.verify.client.properties import PROPERTIES, judge
from mocks.verify.client.runner import HANG_MARGIN, Run, hang_wait
from mocks.verify.client.schedules import Schedule, ScheduledFault
from mocks.verify.client.traffic import calls_of, logical_requests

ORDER = {"customer": "c1000000-0000-4000-8000-000000000001", "currency": "nzd",
         "line_items": [{"description": "Beans", "quantity": 1, "unit_amount": 100}]}
PAY = {"card": {"number": "4242424242424242", "exp_month": 12, "exp_year": 2034, "cvc": "123"}}
ORDER_ID = "a1000000-0000-4000-8000-000000000009"
NO_FAULTS = Schedule()


@pytest.fixture(scope="module")
def istockist():
    return ApiFacts.of(load_api("istockist"))


@pytest.fixture(scope="module")
def plggr():
    return ApiFacts.of(load_api("plggr"))


def entry(seq, at, method, path, operation, status, *, body=None, headers=None, answer=None, fault=None,
          dropped=False, took=0.001, said=""):
    return {"seq": seq, "time": at + took, "duration_ms": took * 1000, "method": method, "path": path, "query": {},
            "listener": "api", "operation": operation, "principal": "kauri-roasters",
            "request_headers": {"content-type": "application/json", **(headers or {})},
            "request_body": json.dumps(body) if body is not None else "", "status": None if dropped else status,
            "dropped": dropped, "response_headers": answer or {}, "response_body": said, "fault": fault}


def run_of(entries, *, exit_code=0, schedule=NO_FAULTS, fired=(), before=None, after=None, timed_out=False):
    return Run(schedule=schedule, calls=calls_of(entries), exit_code=exit_code, elapsed=1.0, budget=10.0,
               timed_out=timed_out, before=before or {}, after=after or {}, fired=list(fired))


def broken(run, facts):
    return {v.property for v in judge(run, facts)}


def test_every_property_is_registered_once_with_a_title():
    names = [p.name for p in PROPERTIES]
    assert len(names) == len(set(names)) == 12
    assert all(p.title for p in PROPERTIES)


def test_a_clean_run_breaks_nothing(istockist):
    run = run_of([entry(1, 0.0, "GET", "/v1/customers", "listCustomers", 200)])
    assert judge(run, istockist) == []


def test_waits_as_told(istockist):
    told = entry(1, 0.0, "GET", "/v1/products", "listProducts", 429, answer={"Retry-After": "2"})
    early = run_of([told, entry(2, 0.5, "GET", "/v1/products", "listProducts", 200)])
    patient = run_of([told, entry(2, 2.1, "GET", "/v1/products", "listProducts", 200)])
    assert "waits-as-told" in broken(early, istockist)
    assert "waits-as-told" not in broken(patient, istockist)
    [violation] = [v for v in judge(early, istockist) if v.property == "waits-as-told"]
    assert "asking to wait 2 s" in violation.message


def test_retries_are_bounded(istockist):
    failures = [entry(i, i * 0.2, "GET", "/v1/products", "listProducts", 503) for i in range(1, 11)]
    assert "bounded-retries" in broken(run_of(failures, exit_code=1), istockist)
    assert "bounded-retries" not in broken(run_of(failures[:5], exit_code=1), istockist)


def test_a_hot_loop_is_reported(istockist):
    failures = [entry(i, i * 0.01, "GET", "/v1/products", "listProducts", 500) for i in range(1, 6)]
    messages = [v.message for v in judge(run_of(failures, exit_code=1), istockist) if v.property == "bounded-retries"]
    assert messages and "hot loop" in messages[0]


def test_one_idempotency_key_across_retries(istockist):
    def attempt(seq, key, **kw):
        return entry(seq, seq * 0.3, "POST", "/v1/orders", "createOrder", kw.pop("status", 200), body=ORDER,
                     headers={"idempotency-key": key} if key else {}, **kw)

    changed = run_of([attempt(1, "k1", dropped=True), attempt(2, "k2")])
    kept = run_of([attempt(1, "k1", dropped=True), attempt(2, "k1", answer={"Idempotent-Replayed": "true"})])
    keyless = run_of([attempt(1, None, status=503), attempt(2, None)])
    assert "idempotency-key-kept" in broken(changed, istockist)
    assert "idempotency-key-kept" not in broken(kept, istockist)
    assert "idempotency-key-kept" in broken(keyless, istockist)


def test_a_lost_create_sent_again_is_a_duplicate(istockist):
    lost = entry(1, 0.0, "POST", "/v1/orders", "createOrder", None, body=ORDER, dropped=True,
                 fault={"id": 1, "drop": "after"})
    again = entry(2, 0.3, "POST", "/v1/orders", "createOrder", 200, body=ORDER)
    assert "no-duplicate-effects" in broken(run_of([lost, again]), istockist)
    assert "no-duplicate-effects" not in broken(run_of([again]), istockist)


def test_reauthenticates_and_never_resends_a_rejected_token(plggr):
    def hub(seq, token, status):
        return entry(seq, seq * 0.1, "GET", "/companies", "listCompanies", status,
                     headers={"authorization": f"Bearer {token}"})

    token = entry(1, 0.0, "POST", "/oauth/token", "getToken", 200, body={"client_id": "a"})
    renewed = run_of([token, hub(2, "A", 401), {**token, "seq": 3, "time": 0.5}, hub(4, "B", 200)])
    resent = run_of([token, hub(2, "A", 401), hub(3, "A", 401)], exit_code=1)
    assert "reauthenticates" not in broken(renewed, plggr)
    messages = [v.message for v in judge(resent, plggr) if v.property == "reauthenticates"]
    assert any("same token" in m for m in messages) and any("never asked for a new token" in m for m in messages)


def test_requests_must_conform_to_the_contract(istockist):
    bad = entry(1, 0.0, "POST", "/v1/orders", "createOrder", 400, body={**ORDER, "currency": 5})
    unknown = entry(2, 0.1, "GET", "/v1/nowhere", None, 404)
    messages = [v.message for v in judge(run_of([bad, unknown], exit_code=1), istockist)
                if v.property == "conforms-to-contract"]
    assert len(messages) == 2 and "currency" in messages[0] and "not an operation" in messages[1]


def test_exit_zero_needs_the_work_done(istockist):
    declined = entry(1, 0.0, "POST", f"/v1/orders/{ORDER_ID}/pay", "payOrder", 402, body=PAY)
    state = {"order": [{"scope": "x", "group": None, "data": {"id": ORDER_ID, "status": "open"}}]}
    paid = {"order": [{"scope": "x", "group": None, "data": {"id": ORDER_ID, "status": "paid"}}]}
    assert "truthful-exit" in broken(run_of([declined], after=state), istockist)
    assert "truthful-exit" not in broken(run_of([declined], exit_code=1, after=state), istockist)
    assert "truthful-exit" not in broken(run_of([declined], after=paid), istockist)  # paid by other means


def test_giving_up_on_temporary_faults(istockist):
    fault = ScheduledFault("server_error", "listProducts", code="unavailable", retry_after=1)
    schedule = Schedule((fault,))
    gave_up = run_of([entry(1, 0.0, "GET", "/v1/products", "listProducts", 503, fault={"id": 1})], exit_code=1,
                     schedule=schedule, fired=[{"id": 1, "fired": 1}])
    assert "survives-temporary-faults" in broken(gave_up, istockist)
    declined = Schedule((ScheduledFault("decline", "payOrder", times=None, code="card_declined"),))
    refused = run_of([entry(1, 0.0, "POST", f"/v1/orders/{ORDER_ID}/pay", "payOrder", 402, body=PAY)], exit_code=1,
                     schedule=declined, fired=[{"id": 1, "fired": 1}])
    assert "survives-temporary-faults" not in broken(refused, istockist)
    [alone] = [v.message for v in judge(run_of([entry(1, 0.0, "GET", "/v1/products", "listProducts", 200)],
                                                exit_code=3), istockist)]
    assert "no fault injected at all" in alone


def test_running_out_of_time(istockist):
    run = run_of([entry(1, 0.0, "GET", "/v1/products", "listProducts", 200)], exit_code=None, timed_out=True)
    assert broken(run, istockist) == {"finishes-in-time"}


def test_a_shrink_step_takes_a_client_to_hang_only_past_every_wait_it_was_asked_for():
    waits = Schedule((ScheduledFault("server_error", "listProducts", code="unavailable", retry_after=2),
                      ScheduledFault("latency", "listCustomers", latency=0.5)))
    assert hang_wait(NO_FAULTS, [], 10) == HANG_MARGIN
    assert hang_wait(waits, [], 10) == 2 + HANG_MARGIN
    assert hang_wait(waits, [], 2.5) == 2.5  # bounded by the budget: no cut
    throttled = calls_of([entry(1, 0.0, "GET", "/v1/products", "listProducts", 429, answer={"Retry-After": "4"})])
    assert hang_wait(NO_FAULTS, throttled, 10) == 4 + HANG_MARGIN  # an answer's wait counts too
    dated = calls_of([entry(1, 0.0, "GET", "/v1/products", "listProducts", 503,
                            answer={"Retry-After": "Fri, 04 Dec 2026 17:00:00 GMT"})])
    assert hang_wait(NO_FAULTS, dated, 10) == 10  # a wait it cannot read: never guessed


def test_attempts_group_into_logical_requests():
    calls = calls_of([
        entry(1, 0.0, "POST", "/v1/orders", "createOrder", 503, body=ORDER, headers={"idempotency-key": "k"}),
        entry(2, 0.1, "POST", "/v1/orders", "createOrder", 200, body={**ORDER, "notes": "x"},
              headers={"idempotency-key": "k"}),
        entry(3, 0.2, "POST", "/v1/orders", "createOrder", 200, body={**ORDER, "notes": "y"}),
        entry(4, 0.3, "GET", "/v1/products", "listProducts", 200),
    ])
    groups = logical_requests(calls, "Idempotency-Key")
    assert [len(g.calls) for g in groups] == [2, 1, 1]


def test_409s_are_told_apart_by_their_declared_code(istockist):
    def create(seq, status, code=None, notes="x", key="k1"):
        said = json.dumps({"error": {"type": "idempotency_error", "code": code}}) if code else ""
        return entry(seq, seq * 0.5, "POST", "/v1/orders", "createOrder", status, body={**ORDER, "notes": notes},
                     headers={"idempotency-key": key}, said=said)

    busy = run_of([create(1, 409, "idempotency_in_flight")], exit_code=1)
    assert "survives-temporary-faults" in broken(busy, istockist)  # transient: retry with the same key
    [message] = [v.message for v in judge(busy, istockist) if v.property == "survives-temporary-faults"]
    assert "idempotency_in_flight" in message and "same key" in message

    reused = run_of([create(1, 503), create(2, 409, "idempotency_key_reused", notes="y")], exit_code=1)
    assert "idempotency-body-kept" in broken(reused, istockist)  # the client's own bug, not a refusal
    assert "survives-temporary-faults" not in broken(run_of([create(1, 409, "conflict")], exit_code=1), istockist)


def test_a_violation_names_its_attempt_and_is_never_repeated(istockist):
    told = entry(1, 0.0, "GET", "/v1/products", "listProducts", 429, answer={"Retry-After": "2"})
    early = [entry(i, 0.1 * i, "GET", "/v1/products", "listProducts", 429, answer={"Retry-After": "2"})
             for i in range(2, 5)]
    messages = [v.message for v in judge(run_of([told, *early], exit_code=1), istockist)
                if v.property == "waits-as-told"]
    assert messages and len(messages) == len(set(messages))
    assert "(attempt 2 of 4 of listProducts" in messages[0]
