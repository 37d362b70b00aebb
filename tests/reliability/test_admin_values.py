"""Admin writes refuse values that would leave the sandbox unable to answer (issue 9, item 8).

Each poison value is sent as raw JSON text (Python's json would not write 1e999 or NaN for us) to a
real `mocks serve istockist`; each is a 400 that says what is wrong, changes nothing, and the API
keeps answering afterwards. NaN, Infinity and numbers past a double are not JSON: the one bounded JSON
reader refuses them before any handler sees them.
"""

from __future__ import annotations

import pytest
from securitykit import JSON, istockist_admin_fixture, istockist_headers, istockist_sandbox_fixture  # noqa: F401 - fixtures, used by name
from servekit import Served

CLOCK_POISON = {
    '{"advance": 1e999}': "out of range for a number",
    '{"advance": NaN}': "not a JSON number",
    '{"advance": Infinity}': "not a JSON number",
    '{"advance": -Infinity}': "not a JSON number",
    '{"advance": -5}': "forward",
    '{"advance": 1e300}': "range",
    '{"set": 1e300}': "9999",
    '{"set": -1e20}': "1970",
    '{"set": -1}': "1970",
    '{"set": NaN}': "not a JSON number",
    '{"set": 1e999}': "out of range for a number",
    '{"set": "1700000000"}': "number",
    '{"set": true}': "number",
    '{"advance": [1]}': "number",
    '{"freeze": "yes"}': "true or false",
    '{"reset": 1}': "true or false",
    '{"set": 100000000000000000000000000000000000000000000000000000}': "1970",
    '{"freeze": true, "advance": 1e999}': "out of range for a number",
}
FAULT_POISON = {
    '{"respond": 503, "latency": 1e999}': "out of range for a number",
    '{"respond": 503, "latency": NaN}': "not a JSON number",
    '{"respond": 503, "latency": -1}': "latency",
    '{"respond": 503, "latency": 86400000}': "latency",
    '{"respond": 503, "times": 1e999}': "out of range for a number",
    '{"respond": 503, "times": 1.5}': "times",
    '{"respond": 503, "after": -3}': "after",
    '{"respond": 503, "after": Infinity}': "not a JSON number",
    '{"respond": 503, "probability": NaN}': "not a JSON number",
    '{"respond": 503, "retry_after": 1e999}': "out of range for a number",
    '{"respond": {"status": 1e999}}': "out of range for a number",
    '{"respond": {"status": "503x"}}': "status",
    '{"respond": {"status": 503, "message": {"a": 1}}}': "message",
    '{"respond": 503, "path": ["/v1/*"]}': "path",
    '{"respond": 503, "method": 7}': "method",
    '{"respond": 503, "seed": [1, 2]}': "seed",
}
LIMIT_POISON = {
    '{"rate": 5}': "rate",
    '{"rate": "5/99999999999999999999999999999999999999999999999999999999999999999999999999999999'
    '99999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999'
    '99999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999'
    '999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999d"}': "window",
    '{"rate": "99999999999999999999999/min"}': "at most",
    '{"rate": "5/min", "enabled": "no"}': "enabled",
    '{"rate": "5/min", "policy": ["account-per-second"]}': "policy",
}


def still_answers(sandbox: Served) -> None:
    with sandbox.client("istockist") as client:
        for _ in range(2):
            response = client.get("/v1/products", headers=istockist_headers(sandbox))
            assert response.status_code == 200, response.text


POISON = [("/__mock/clock", body, says) for body, says in CLOCK_POISON.items()] + \
    [("/__mock/faults", body, says) for body, says in FAULT_POISON.items()] + \
    [("/__mock/limits", body, says) for body, says in LIMIT_POISON.items()]


@pytest.mark.parametrize(("path", "body", "says"), POISON, ids=[f"{p[9:]}-{n}" for n, (p, _, _) in enumerate(POISON)])
def test_a_poisoned_admin_value_is_400_changes_nothing_and_the_api_keeps_answering(istockist_sandbox, istockist_admin, path, body, says):
    istockist_admin.post("/__mock/clock", json={"freeze": True})  # so that reading the clock back is stable
    before = istockist_admin.get(path).json()
    response = istockist_admin.post(path, content=body, headers=JSON)
    assert response.status_code == 400, response.text
    assert says in response.json()["error"]
    assert istockist_admin.get(path).json() == before
    still_answers(istockist_sandbox)


def test_a_refused_set_names_the_valid_range(istockist_admin):
    error = istockist_admin.post("/__mock/clock", content=b'{"set": 1e300}', headers=JSON).json()["error"]
    assert "0 (1970-01-01)" in error and "253402300799 (9999-12-31T23:59:59Z)" in error


def test_the_edges_of_the_range_are_accepted_and_answerable(istockist_sandbox, istockist_admin):
    for moment in (0, 253402300799):
        response = istockist_admin.post("/__mock/clock", json={"freeze": True, "set": moment})
        assert response.status_code == 200 and response.json()["now"] == moment
        still_answers(istockist_sandbox)
    refused = istockist_admin.post("/__mock/clock", json={"advance": 1})
    assert refused.status_code == 400 and "range" in refused.json()["error"]


@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/__mock/journal?since=" + "9" * 5000), ("GET", "/__mock/journal?limit=" + "1" * 5000),
    ("GET", "/__mock/journal?status=%D9%A1"), ("DELETE", "/__mock/faults/" + "7" * 5000),
    ("DELETE", "/__mock/faults/%D9%A1"),
])
def test_a_number_too_long_or_not_ascii_in_an_admin_url_is_400(istockist_sandbox, istockist_admin, method, path):
    response = istockist_admin.request(method, path, headers=JSON)
    assert response.status_code == 400, response.text
    assert "whole number" in response.json()["error"]
    still_answers(istockist_sandbox)
