"""Fault schedules come from the contract, install through the engine, and read in plain words."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings

from mocks.registry import API_NAMES, load_api
from mocks.verify.client.environment import FRIENDLY, client_environment
from mocks.verify.client.facts import ApiFacts
from mocks.verify.client.schedules import (
    KINDS,
    RETRY_AFTERS,
    Plan,
    Schedule,
    ScheduledFault,
    coverage,
    schedules,
)
from mocks.verify.client.traffic import Call


def probe_calling(facts: ApiFacts, *operations: str) -> list[Call]:
    calls = []
    for seq, op in enumerate(operations or list(facts.operations), 1):
        headers = {"authorization": "Bearer t"} if facts.operations[op].issued else {}
        calls.append(Call(seq, seq, seq, facts.operations[op].method, facts.operations[op].path, (), op, "p", "",
                          headers, "", 200, False, {}, "", None))
    return calls


@pytest.fixture(scope="module", params=API_NAMES)
def facts(request):
    return ApiFacts.of(load_api(request.param))


def test_every_drawn_schedule_installs_in_the_engine(facts):
    plan = Plan.build(facts, probe_calling(facts))
    api = load_api(facts.name)

    @settings(max_examples=60, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(schedules(plan))
    def check(schedule: Schedule):
        assert len(schedule.faults) <= 3
        api.reset()
        for spec in schedule.specs():
            api.add_fault(spec)
        for line in schedule.describe(facts):
            assert line and "None" not in line
        if schedule.throttle:
            api.configure_limit(schedule.throttle)

    check()


def test_kinds_follow_the_contract():
    istockist = ApiFacts.of(load_api("istockist"))
    plan = Plan.build(istockist, probe_calling(istockist, "listProducts", "createOrder", "payOrder"))
    assert plan.targets("decline") == ["payOrder"]
    assert plan.codes("decline", "payOrder")[0] == "card_declined"
    assert plan.targets("commit_then_drop") == ["createOrder", "payOrder"]
    assert "expire_token" not in plan.kinds()  # static API keys: nothing to renew

    plggr = ApiFacts.of(load_api("plggr"))
    plan = Plan.build(plggr, probe_calling(plggr, "getToken", "listProducts", "createProduct"))
    assert plan.targets("expire_token") == ["listProducts", "createProduct"]
    assert plan.codes("exhausted", "listProducts") == ["quota_exceeded"]
    assert "decline" not in plan.kinds()

    konducter = ApiFacts.of(load_api("konducter"))
    plan = Plan.build(konducter, probe_calling(konducter, "listOrders", "updateOrder"))
    assert plan.targets("conflict") == ["updateOrder"]
    assert plan.operations == ["listOrders", "updateOrder"]


def test_a_fault_becomes_an_engine_rule_and_a_sentence():
    facts = ApiFacts.of(load_api("istockist"))
    lost = ScheduledFault("commit_then_drop", "createOrder", after=1)
    assert lost.spec() == {"operation": "createOrder", "after": 1, "times": 1, "drop": "after"}
    assert lost.describe(facts) == ("createOrder (POST /v1/orders), call 2: carried out, but the connection drops "
                                    "before the answer (committed, response lost)")
    declined = ScheduledFault("decline", "payOrder", times=None, code="card_declined")
    assert declined.spec() == {"operation": "payOrder", "respond": "card_declined"}
    assert declined.describe(facts).endswith("every call: declined: 402 card_declined")
    assert Schedule((), "3/s").describe(facts) == ["every rate limit is tightened to 3 requests per s"]
    assert next(iter(KINDS)) == "latency"


@pytest.mark.parametrize("name", API_NAMES)
def test_the_environment_contract(name):
    api = load_api(name)
    urls = {listener: f"http://127.0.0.1:{9000 + i}" for i, listener in enumerate(api.contract.listeners)}
    env = client_environment(api, urls, 12)
    assert env["MOCKS_API"] == name
    assert env["MOCKS_BASE_URL"] == urls[api.primary_listener]
    assert env["MOCKS_TIMEOUT"] == "12"
    for listener, url in urls.items():
        assert env[f"MOCKS_{listener.upper()}_URL"] == url
    credentials = json.loads(env["MOCKS_CREDENTIALS"])
    assert credentials["principal"] == env["MOCKS_PRINCIPAL"] == api.fixtures.credentials[0].principal.id
    assert json.loads(env["MOCKS_AUTH_HEADERS"]) == credentials["headers"]
    assert set(FRIENDLY[name]) <= set(env), f"missing {set(FRIENDLY[name]) - set(env)}"


def test_the_coverage_phase_strikes_every_called_operation_with_every_kind_and_variant():
    istockist = ApiFacts.of(load_api("istockist"))
    plan = Plan.build(istockist, probe_calling(istockist, "listCustomers", "listProducts", "createOrder", "payOrder"))
    faults = [schedule.faults[0] for schedule in coverage(plan)]
    assert all(len(schedule.faults) == 1 for schedule in coverage(plan))
    for kind in plan.kinds():
        for operation in plan.targets(kind):
            assert any(f.kind == kind and f.operation == operation for f in faults), (kind, operation)
            wanted = {(v.code, v.retry_after) for v in plan.variants(kind, operation)}
            shown = {(f.code, f.retry_after) for f in faults if f.kind == kind}
            assert wanted <= shown, (kind, wanted - shown)
    declines = {f.code for f in faults if f.kind == "decline"}
    assert {"card_declined", "insufficient_funds", "processing_error"} <= declines
    waits = {f.retry_after for f in faults if f.kind == "server_error" and f.code == "unavailable"}
    assert waits == set(RETRY_AFTERS)
    line = next(f for f in faults if f.kind == "server_error" and f.retry_after == 0).brief(istockist)
    assert line.startswith("server_error 503 unavailable Retry-After 0 @")
