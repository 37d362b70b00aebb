"""Clients of several APIs (one sandbox, one clock, each API's variables by name) and the user's own
postconditions (`--expect FILE`, `expect=` callables), with examples/catalog_sync.py (iStockist -> Plggr)."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import pytest
from clientkit import EXAMPLES, ROOT

from mocks.verify.client import verify_function

catalog_sync = importlib.import_module("catalog_sync")  # examples/, on sys.path by clientkit
MOCKS = str(Path(sys.executable).with_name("mocks"))
EXPECT = EXAMPLES / "catalog_sync.expect.yaml"


def verify_client(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([MOCKS, "verify-client", *args], capture_output=True, text=True, timeout=240, cwd=ROOT,
                          check=False)


def sync(*bugs: str):
    def job(base_urls, credentials):
        return catalog_sync.run(base_urls, credentials, frozenset(bugs))
    job.__qualname__ = f"catalog_sync.run[{','.join(bugs)}]"
    return job


def one_plggr_product_at_the_istockist_price(document: dict) -> None:
    [product] = document["plggr"]["created"]["product"]
    [listed] = [c for c in document["istockist"]["journal"] if c["operation"] == "listProducts" and c["status"] == 200][:1]
    chosen = next(p for p in listed["response"]["data"] if p["active"])
    assert product["price"]["amount"] == chosen["unit_amount"] / 100, f"price {product['price']} for {chosen['id']}"


def test_a_good_client_of_two_apis_passes_with_its_postconditions(tmp_path):
    outcome = verify_function(["istockist", "plggr"], sync(), examples=2, seed=1, timeout=15, scenario_dir=tmp_path,
                              expect=one_plggr_product_at_the_istockist_price)
    assert outcome.passed, outcome.failure and [str(v) for v in outcome.failure.violations]
    faulted = {api for api, *_ in outcome.exercised}
    assert faulted == {"istockist", "plggr"}  # faults drawn across both APIs
    struck = {(kind, code, wait) for api, op, kind, code, wait in outcome.exercised if op == "listProducts"}
    for variant in [("server_error", "unavailable", 0), ("server_error", "unavailable", 1),
                    ("server_error", "unavailable", 2), ("server_error", "bad_gateway", None),
                    ("rate_limited", "rate_limited", 0), ("drop_before", None, None),
                    ("outage", "server_error", None), ("exhausted", "rate_limited", 3600)]:
        assert variant in struck, variant  # the coverage phase: every declared variant, once at least
    assert outcome.tally["meets-expectations"][0] == outcome.runs


def test_a_duplicate_in_one_api_is_judged_by_that_apis_properties(tmp_path):
    outcome = verify_function(["istockist", "plggr"], sync("blind-retry"), examples=1, timeout=15,
                              scenario_dir=tmp_path)
    assert outcome.failure is not None
    [duplicate] = [v for v in outcome.failure.violations if v.property == "no-duplicate-effects"]
    assert duplicate.api == "plggr"
    [fault] = outcome.failure.run.schedule.faults
    assert (fault.api, fault.kind, fault.operation) == ("plggr", "commit_then_drop", "createProduct")
    assert outcome.scenario.name == "verify-plggr-no-duplicate-effects.yaml"


def test_a_client_of_two_apis_that_gives_up_at_once_is_caught(tmp_path):
    outcome = verify_function(["istockist", "plggr"], sync("gives-up-at-once"), examples=1, timeout=15,
                              scenario_dir=tmp_path)
    assert "survives-temporary-faults" in {v.property for v in outcome.failure.violations}
    assert outcome.shrink_runs == 0 and len(outcome.failure.run.schedule) == 1  # from the coverage phase


def test_a_valid_but_wrong_write_is_caught_by_an_expect_file(tmp_path):
    done = verify_client("istockist", "plggr", "--examples", "3", "--seed", "1", "--timeout", "15", "--expect",
                         str(EXPECT), "--scenario-dir", str(tmp_path), "--", sys.executable,
                         str(EXAMPLES / "catalog_sync.py"), "--bug", "price-in-cents")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "x the run leaves what you expect (--expect): the Plggr product carries the iStockist price" in done.stdout
    assert "is 2890, expected 28.9" in done.stdout
    assert f"--expect {EXPECT}" in done.stdout  # the reproduce line repeats it
    assert "istockist GET /v1/products" in done.stdout and "plggr POST /oauth/token" in done.stdout


@pytest.mark.parametrize(("content", "said"), [
    ("- that: 'length(created.product'\n", "is not a JMESPath expression"),
    ("- {that: 'length(state.order)', api: konducter}\n", "api 'konducter' is not verified here"),
    ("expect: 3\n", "expected a list of predicates"),
])
def test_a_bad_expect_file_is_refused_before_any_run(tmp_path, content, said):
    path = tmp_path / "expect.yaml"
    path.write_text(content)
    done = verify_client("istockist", "--expect", str(path), "--", sys.executable, "-c", "pass")
    assert done.returncode == 2
    assert said in done.stderr
