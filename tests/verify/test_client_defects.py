"""One client per defect verify-client must catch (issue 10), each run as a user runs it: a forked
client function against a real sandbox port, judged by the properties."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import clientkit  # noqa: F401 - puts tests/verify/apps on sys.path
import defective_clients as clients
import httpx
import pytest
import yaml

from mocks.scenarios import load_scenario
from mocks.templates import compile_template
from mocks.verify.client import verify_function
from mocks.verify.client.command import failure_text
from mocks.verify.client.explore import DECIDED_EARLY
from mocks.verify.client.properties import runaway
from mocks.verify.client.runner import FunctionLauncher
from mocks.verify.client.runner import SandboxRunner as Runner
from mocks.verify.client.schedules import Schedule, ScheduledFault

MOCKS = str(Path(sys.executable).with_name("mocks"))


def broken(outcome) -> set[str]:
    return {v.property for v in outcome.failure.violations} if outcome.failure else set()


def test_a_request_left_in_flight_is_judged_in_its_own_run_and_never_in_the_next():
    slow_create = Schedule((ScheduledFault("latency", "createOrder", latency=1.0, api="istockist"),))
    with Runner("istockist", FunctionLauncher(clients.leaves_a_write_in_flight), 10, runaway) as runner:
        first = runner.run(slow_create)
        # judged only once the create the client left behind was answered: its call and its effect count
        assert [c.operation for c in first.calls] == ["createOrder"]
        assert len(first.after["istockist"]["order"]) == len(first.before["istockist"]["order"]) + 1

        with pytest.raises(httpx.TransportError):  # a request arriving between runs is refused, not acted on
            httpx.post(runner.urls["api"] + "/v1/orders", json=clients.ORDER_BODY, timeout=5)

        runner.launcher = FunctionLauncher(clients.lists_customers)
        second = runner.run(Schedule())
        assert [c.operation for c in second.calls] == ["listCustomers"]
        assert len(second.after["istockist"]["order"]) == len(second.before["istockist"]["order"])


def test_a_retry_that_changes_its_body_under_one_key_is_caught(tmp_path):
    outcome = verify_function("istockist", clients.changes_body_under_one_key, examples=1, timeout=10,
                              scenario_dir=tmp_path)
    assert "idempotency-body-kept" in broken(outcome)
    [message] = [v.message for v in outcome.failure.violations if v.property == "idempotency-body-kept"]
    assert "attempt 2 of 2 of createOrder" in message and "with a different body" in message


def test_every_repeated_attempt_counts_whatever_the_answer(tmp_path):
    outcome = verify_function("istockist", clients.resends_a_refused_write, examples=1, timeout=15,
                              scenario_dir=tmp_path)
    assert "bounded-retries" in broken(outcome)
    assert "409" in " ".join(v.message for v in outcome.failure.violations if v.property == "bounded-retries")
    messages = [v.message for v in outcome.failure.violations]
    assert len(messages) == len(set(messages))  # no line twice


def test_a_client_that_fails_the_fault_free_run_fails_at_once(tmp_path):
    outcome = verify_function("istockist", clients.fails_without_faults, examples=5, scenario_dir=tmp_path)
    assert outcome.runs == 1
    assert broken(outcome) == {"works-without-faults"}
    assert "no fault injected at all" in outcome.failure.violations[0].message


def test_the_coverage_phase_finds_a_variant_chance_may_miss(tmp_path):
    outcome = verify_function("istockist", clients.ignores_retry_after_on_503, examples=1, timeout=10,
                              scenario_dir=tmp_path)
    assert "waits-as-told" in broken(outcome)
    [fault] = outcome.failure.run.schedule.faults
    assert (fault.code, fault.retry_after) in {("unavailable", 1), ("unavailable", 2)}
    assert outcome.coverage_runs >= 3 and outcome.shrink_runs == 0  # found by the deterministic phase
    assert ("istockist", "listProducts", "server_error", "unavailable", 0) in outcome.exercised


def test_a_written_scenario_replays_a_body_ending_in_braces(tmp_path):
    outcome = verify_function("istockist", clients.creates_a_customer_and_calls_a_5xx_success, examples=1,
                              timeout=10, scenario_dir=tmp_path)
    assert outcome.scenario is not None, outcome.failure and outcome.failure.violations
    sent = next(c.body for c in outcome.failure.run.calls if c.operation == "createCustomer")
    assert sent.endswith("}}")
    scenario = load_scenario(outcome.scenario)
    [replayed] = [compile_template(s["request"])({"saved": {}})["body"] for s in scenario.steps]
    assert replayed == sent
    check = subprocess.run([MOCKS, "scenarios", "--check", str(outcome.scenario)], capture_output=True, text=True,
                           check=False, timeout=60)
    assert check.returncode == 0, check.stdout + check.stderr
    assert yaml.safe_load(outcome.scenario.read_text())["api"] == "istockist"


def test_shrinking_keeps_to_the_broken_property_and_cuts_each_step_short(tmp_path):
    outcome = verify_function("istockist", clients.malformed_then_hangs_on_two_failing_operations, examples=25,
                              seed=1, timeout=3, scenario_dir=tmp_path, shrink_seconds=6)
    assert outcome.failure is not None, "two failing operations were never drawn together"
    first = {v.property for v in outcome.original}
    assert {"conforms-to-contract", "finishes-in-time"} <= first
    assert "conforms-to-contract" in broken(outcome)  # the property shrunk towards, decidable at once
    run = outcome.failure.run
    assert run.decided and not run.timed_out  # stopped once the request broke it, not after the budget
    assert 2 <= len(run.schedule) <= 3
    assert "conforms-to-contract" in DECIDED_EARLY


def test_shrinking_a_pure_hang_cuts_each_step_at_the_silence_and_confirms_the_result_once(tmp_path):
    outcome = verify_function("istockist", clients.hangs_on_two_failing_operations, examples=25, seed=1,
                              timeout=6, scenario_dir=tmp_path, shrink_seconds=20)
    assert outcome.failure is not None, "two failing operations were never drawn together"
    assert {v.property for v in outcome.original} == {"finishes-in-time"}  # a pure hang: nothing decides early
    assert broken(outcome) == {"finishes-in-time"}
    run = outcome.failure.run
    assert run.timed_out and run.hung is None  # the reported failure ran the whole budget: confirmed, no guess
    assert len(run.schedule) == 2
    assert outcome.hangs_cut >= 1  # shrink steps that hung ended at the silence ...
    assert outcome.shrink_waited <= 2  # ... and hardly any waited out the budget (the confirmation does)
    text = failure_text(outcome)
    assert "it was stopped after 6 s (time budget)" in text and "taken to hang" not in text
    assert "ends within the time budget" in text
