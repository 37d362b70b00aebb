"""verify-webhook-handler against the reference handlers in examples/webhook_handlers/, on real ports.

The correct handlers pass; every buggy one is caught, with a minimal schedule in plain words.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import random
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema_rs
import pytest

from mocks.cli import main
from mocks.fixtures import load_fixtures
from mocks.registry import load_contract
from mocks.verify.webhook import ACKNOWLEDGES, ONCE, REJECTS, HandlerOptions, verify_webhook_handler
from mocks.verify.webhook.events import BAD, DELIVER, DUPLICATE, TAMPERED, UNSIGNED, WRONG_SECRET, EventSource
from mocks.webhooks import sign

ROOT = Path(__file__).resolve().parents[2]
HANDLERS = ROOT / "examples" / "webhook_handlers"
PATHS = {"konducter": "/webhooks/konducter", "lagerkoll": "/callbacks/lagerkoll"}


def _serving():
    spec = importlib.util.spec_from_file_location("verify_apps_serving", Path(__file__).parent / "apps" / "serving.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.serve


serve = _serving()


@pytest.fixture
def handler(monkeypatch):
    """`handler("konducter_handler")` -> (url, state_url) of that example app served on a free port."""
    monkeypatch.syspath_prepend(str(HANDLERS))
    stack = []

    def start(name: str, app=None):
        module = importlib.import_module(name)
        api = name.split("_")[0]
        context = serve(app or module.app)
        base = context.__enter__()
        stack.append(context)
        return base + PATHS[api], base + "/state"

    yield start
    for context in reversed(stack):
        context.__exit__(None, None, None)


def run(api: str, url: str, state_url: str | None, **options):
    options = {"seed": 20250425, "examples": 15, "events": 4, **options}
    return verify_webhook_handler(HandlerOptions(api, url, state_url, **options))


def test_the_correct_konducter_handler_passes(handler):
    report = run("konducter", *handler("konducter_handler"), examples=25)
    assert report.passed, report.render()
    assert [verdict for _, verdict in report.properties()] == ["PASS", "PASS", "PASS"]
    # The schedules really exercised what the handler has to survive.
    for kind in ("first", "retry", "duplicate", "bad", "out of order"):
        assert report.deliveries[kind] > 0, (kind, report.deliveries)


def test_the_correct_lagerkoll_handler_passes_and_signatures_are_not_applicable(handler):
    report = run("lagerkoll", *handler("lagerkoll_handler"))
    assert report.passed, report.render()
    verdicts = dict(report.properties())
    assert verdicts[REJECTS].startswith("SKIP") and verdicts[ONCE] == "PASS"
    assert report.deliveries["bad"] == 0 and report.deliveries["duplicate"] > 0


BUGS = [
    # module, the property it breaks, words the report must use
    ("konducter_accepts_bad_signatures", REJECTS, "signed with the wrong secret"),
    ("konducter_applies_duplicates", ONCE, "has been applied 2 times"),
    ("konducter_fails_out_of_order", ACKNOWLEDGES, "out of order: before event #0"),
    ("konducter_dedupes_by_body", ONCE, "(a duplicate)"),
    ("lagerkoll_applies_duplicates", ONCE, "has been applied 2 times"),
]


@pytest.mark.parametrize(("module", "broken", "words"), BUGS, ids=[b[0] for b in BUGS])
def test_every_buggy_handler_is_caught_with_a_minimal_schedule(handler, module, broken, words):
    report = run(module.split("_")[0], *handler(module))
    assert not report.passed
    assert {p.property for p in report.failure.problems} == {broken}, report.render()
    assert len(report.failure.deliveries) <= 3, report.render()  # shrunk
    text = report.render()
    assert words in text
    assert f"FAIL {broken}" in text and "Reproduce by hand" in text and "--seed 20250425" in text


def test_the_cli_reports_in_plain_words_and_junit(handler, tmp_path, capsys):
    url, state = handler("konducter_applies_duplicates")
    junit = tmp_path / "handler.xml"
    code = main(["verify-webhook-handler", "konducter", "--url", url, "--state-url", state,
                 "--events", "3", "--examples", "10", "--seed", "7", "--junit", str(junit)])
    out = capsys.readouterr().out
    assert code == 1
    assert "minimal schedule" in out and "byte for byte (a retry" in out and "curl -sS -i -X POST" in out
    suite = ET.parse(junit).getroot().find("testsuite")
    assert (suite.get("tests"), suite.get("failures")) == ("3", "1")
    failed = [c.get("name") for c in suite.findall("testcase") if c.find("failure") is not None]
    assert failed == [ONCE]

    url, state = handler("konducter_handler")
    assert main(["verify-webhook-handler", "konducter", "--url", url, "--state-url", state,
                 "--examples", "5", "--seed", "7", "--junit", str(junit)]) == 0
    assert "PASSED" in capsys.readouterr().out
    assert ET.parse(junit).getroot().find("testsuite").get("failures") == "0"


def test_the_signing_secret_can_be_given(handler, monkeypatch):
    monkeypatch.syspath_prepend(str(HANDLERS))
    good = importlib.import_module("konducter_handler")
    url, state = handler("konducter_handler", good.create_app(good.OrderBook("app-secret-from-the-portal")))
    assert run("konducter", url, state, secret="app-secret-from-the-portal").passed
    # With the sandbox's secret instead, every good delivery is (rightly) refused with 401.
    report = run("konducter", url, state)
    assert {p.property for p in report.failure.problems} == {ACKNOWLEDGES}
    assert "answered 401 to a good delivery" in report.render()


def test_without_a_state_endpoint_only_acknowledgements_are_checked(handler):
    url, _ = handler("konducter_applies_duplicates")
    report = run("konducter", url, None)
    assert report.passed, report.render()
    assert dict(report.properties())[ONCE].startswith("SKIP: no --state-url")


def test_a_state_endpoint_that_breaks_the_contract_stops_the_run(handler):
    url, _ = handler("konducter_handler")
    report = run("konducter", url, url)  # the webhook route answers GET with 405, not {"applied": [...]}
    assert not report.passed and report.failure is None
    assert '{"applied": [...]}' in report.error and "405" in report.error


def test_an_unreachable_handler_is_an_error(capsys):
    code = main(["verify-webhook-handler", "konducter", "--url", "http://127.0.0.1:9/hooks", "--examples", "1"])
    assert code == 1
    assert "cannot reach the handler" in capsys.readouterr().out


def test_deliveries_are_shaped_and_signed_as_the_contract_says():
    contract = load_contract("konducter")
    source = EventSource(contract, load_fixtures("konducter"))
    schemas = {}
    for item in contract.document["webhooks"].values():
        post = item["post"]
        schema = post["requestBody"]["content"]["application/json"]["schema"]
        schemas[post["x-mock-event"]] = jsonschema_rs.validator_for(contract.rooted(schema), validate_formats=True)
    events = source.events(8, random.Random(1))
    assert [e.type for e in events[:4]] == list(schemas)
    for event in events:
        for kind in (DELIVER, DUPLICATE, *BAD):
            request = source.render(event, kind, 0)
            body = json.loads(request.body)
            schemas[event.type].validate(body)
            assert body["eventId"] == event.id == request.headers["X-Konducter-Event-Id"]
            valid = request.headers.get("X-Konducter-Signature") == "sha256=" + sign("12345", request.body)
            assert valid == (kind not in BAD), kind
    assert UNSIGNED in source.kinds and WRONG_SECRET in source.kinds and TAMPERED in source.kinds

    lagerkoll = EventSource(load_contract("lagerkoll"), load_fixtures("lagerkoll"))
    payload = json.loads(lagerkoll.render(lagerkoll.events(3, random.Random(1))[1], DELIVER).body)
    assert set(payload) == {"type", "action", "orderId", "storeId", "storeGroupId", "timestamp"}
    assert (payload["action"], payload["storeId"], payload["storeGroupId"]) == ("updated", 1001, 10)
