"""`mocks verify-client` as a user runs it: clients as commands, exit status, summary, JUnit, scenarios."""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from clientkit import EXAMPLES, ROOT

from mocks.registry import load_api
from mocks.scenarios import load_scenario
from mocks.scenarios.apply import apply_scenario
from mocks.verify.client import verify
from mocks.verify.client.runner import CommandLauncher

MOCKS = str(Path(sys.executable).with_name("mocks"))


def verify_client(*args: str, timeout: float = 240) -> subprocess.CompletedProcess:
    return subprocess.run([MOCKS, "verify-client", *args], capture_output=True, text=True, timeout=timeout, cwd=ROOT,
                          check=False)


def test_a_curl_client_passes_and_ci_gets_junit(tmp_path):
    junit = tmp_path / "verify.xml"
    done = verify_client("pingnetwork", "--examples", "2", "--seed", "5", "--timeout", "15", "--junit", str(junit),
                         "--scenario-dir", str(tmp_path), "--", "bash", str(EXAMPLES / "pingnetwork_sessions.sh"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "probe" in done.stdout and "cover   1" in done.stdout and "example   1" in done.stdout
    assert "Faults exercised" in done.stdout and "server_error 503 unavailable Retry-After 0" in done.stdout
    assert "PASSED: pingnetwork" in done.stdout
    assert "every request conforms to the contract" in done.stdout
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite.get("failures") == "0" and int(suite.get("tests")) == 12
    assert not list(tmp_path.glob("*.yaml"))


def test_a_buggy_client_fails_with_a_replayable_scenario(tmp_path):
    junit = tmp_path / "verify.xml"
    done = verify_client("istockist", "--examples", "30", "--seed", "2", "--timeout", "15", "--junit", str(junit),
                         "--scenario-dir", str(tmp_path), "--", sys.executable, str(EXAMPLES / "istockist_client.py"),
                         "--bug", "treats-402-as-success")
    assert done.returncode == 1, done.stdout + done.stderr
    out = done.stdout
    assert "FAILED: istockist" in out
    assert "Minimal fault schedule (1 fault):" in out
    assert "payOrder (POST /v1/orders/{id}/pay), every call: declined: 402 card_declined" in out
    assert "x exit status tells the truth: the client exited 0" in out
    assert "--seed 2" in out

    failures = ET.parse(junit).getroot().findall(".//testcase/failure")
    assert [f.get("type") for f in failures] == ["truthful-exit"]
    assert "Minimal fault schedule" in failures[0].text

    [path] = tmp_path.glob("verify-istockist-*.yaml")
    assert f"mocks serve istockist --scenario {path}" in out
    check = subprocess.run([MOCKS, "scenarios", "--check", str(path)], capture_output=True, text=True, cwd=ROOT,
                           check=False)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "402 as expected" in check.stdout

    scenario = load_scenario(path)
    api = load_api("istockist")
    applied = apply_scenario(scenario, {"istockist": api})
    assert [f["respond"] for f in applied["faults"]] == [{"code": "card_declined"}]
    assert "exit status tells the truth" in scenario.description


def test_usage_errors_exit_2():
    assert verify_client("istockist").returncode == 2
    silent = verify_client("istockist", "--timeout", "5", "--", sys.executable, "-c", "pass")
    assert silent.returncode == 2
    assert "made no request" in silent.stdout


def test_a_client_that_hangs_is_stopped_at_the_time_budget(tmp_path):
    launcher = CommandLauncher([sys.executable, "-c", "import time; time.sleep(60)"])
    outcome = verify("konducter", launcher, examples=3, seed=1, timeout=1, scenario_dir=tmp_path)
    assert outcome.failure is not None
    assert outcome.failure.run.timed_out
    assert [v.property for v in outcome.failure.violations] == ["finishes-in-time"]
    assert outcome.elapsed < 10


@pytest.mark.parametrize("script", sorted(p.name for p in EXAMPLES.glob("*_client.py")))
def test_example_clients_run_as_commands_need_the_environment(script):
    done = subprocess.run([sys.executable, str(EXAMPLES / script)], capture_output=True, text=True, timeout=60,
                          env={"PATH": "/usr/bin:/bin"}, cwd=ROOT, check=False)
    assert done.returncode != 0 and "MOCKS_BASE_URL" in done.stderr
