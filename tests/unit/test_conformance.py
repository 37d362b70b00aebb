"""mocks/conformance.py: ResponseChecker finds every way a response can stray from its contract."""

from __future__ import annotations

import json

import pytest

from mocks.conformance import Problem, ResponseChecker
from mocks.contract import Contract

ORDER = {"type": "object", "required": ["id", "total"],
         "properties": {"id": {"type": "string"}, "total": {"type": "integer", "minimum": 0}}}

DOCUMENT = {
    "x-mock-api": {"name": "unit"},
    "servers": [{"url": "https://sandbox.example/api", "x-mock-server": True}],
    "paths": {
        "/orders/{id}": {
            "get": {
                "operationId": "getOrder",
                "responses": {
                    "200": {
                        "description": "ok",
                        "headers": {"X-Request-Id": {"$ref": "#/components/headers/RequestId"},
                                    "X-Optional": {"schema": {"type": "string"}}},
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Order"}},
                                    "application/xml": {"schema": {"$ref": "#/components/schemas/Order"}}},
                    },
                    "4XX": {"description": "client error",
                            "content": {"application/json": {"schema": {"type": "object",
                                                                        "required": ["error"]}}}},
                },
            },
            "delete": {"operationId": "deleteOrder", "responses": {"204": {"description": "gone"}}},
        },
        "/ping": {"get": {"operationId": "ping", "responses": {"default": {"description": "any"}}}},
    },
    "components": {"schemas": {"Order": ORDER},
                   "headers": {"RequestId": {"required": True, "schema": {"type": "string"}}}},
}

GOOD_HEADERS = {"content-type": "application/json", "x-request-id": "r1"}


def check(method: str, path: str, status: int, headers: dict[str, str], body: bytes) -> list[Problem]:
    return ResponseChecker(Contract(DOCUMENT)).check(method, path, status, headers, body)


def messages(problems: list[Problem]) -> list[str]:
    return [p.message for p in problems]


def test_a_conforming_response_has_no_problems():
    assert check("GET", "/api/orders/1", 200, GOOD_HEADERS, json.dumps({"id": "1", "total": 5}).encode()) == []
    assert check("delete", "/api/orders/1", 204, {}, b"") == []


def test_undocumented_status():
    problems = check("GET", "/api/orders/1", 500, {"content-type": "application/json"}, b"{}")
    assert problems == [Problem("getOrder", 500, "status 500 is not documented")]
    assert str(problems[0]) == "getOrder -> 500: status 500 is not documented"


def test_range_and_default_responses_are_documented():
    assert check("GET", "/api/orders/1", 404, {"content-type": "application/json"}, b'{"error": "x"}') == []
    assert check("GET", "/api/ping", 418, {}, b"") == []


def test_missing_required_header():
    headers = {"content-type": "application/json"}
    problems = check("GET", "/api/orders/1", 200, headers, b'{"id": "1", "total": 5}')
    assert messages(problems) == ["required header X-Request-Id is missing"]


def test_header_names_compare_case_insensitively():
    headers = {"Content-Type": "application/json", "X-REQUEST-ID": "r1"}
    assert check("GET", "/api/orders/1", 200, headers, b'{"id": "1", "total": 5}') == []


def test_wrong_content_type():
    headers = {**GOOD_HEADERS, "content-type": "text/plain"}
    problems = check("GET", "/api/orders/1", 200, headers, b'{"id": "1", "total": 5}')
    assert len(problems) == 1
    assert "content type 'text/plain' is not one of" in problems[0].message


def test_schema_violation_names_where():
    problems = check("GET", "/api/orders/1", 200, GOOD_HEADERS, b'{"id": 1, "total": -2}')
    found = messages(problems)
    assert len(found) == 2
    assert any(m.startswith("body at '/id'") for m in found)
    assert any(m.startswith("body at '/total'") for m in found)


def test_missing_required_property():
    problems = check("GET", "/api/orders/1", 200, GOOD_HEADERS, b'{"id": "1"}')
    assert len(problems) == 1
    assert "total" in problems[0].message


def test_body_that_does_not_parse():
    problems = check("GET", "/api/orders/1", 200, GOOD_HEADERS, b"{not json")
    assert len(problems) == 1
    assert problems[0].message.startswith("body does not parse as application/json")


def test_body_where_none_is_documented():
    problems = check("DELETE", "/api/orders/1", 204, {}, b'{"deleted": true}')
    assert len(problems) == 1
    assert problems[0].message.startswith("no body is documented but one was sent")


def test_documented_body_missing():
    problems = check("GET", "/api/orders/1", 200, GOOD_HEADERS, b"")
    assert messages(problems) == ["a body is documented but none was sent"]


def test_xml_body_must_parse_but_is_not_schema_checked():
    headers = {**GOOD_HEADERS, "content-type": "application/xml"}
    assert check("GET", "/api/orders/1", 200, headers, b"<order><id>1</id></order>") == []
    assert messages(check("GET", "/api/orders/1", 200, headers, b"<order>"))[0].startswith(
        "body does not parse as application/xml")


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/api/nowhere"), ("POST", "/api/orders/1"), ("GET", "/orders/1"), ("GET", "/__mock/faults")],
)
def test_unknown_routes_and_admin_paths_are_not_judged(method, path):
    assert check(method, path, 599, {}, b"anything") == []
