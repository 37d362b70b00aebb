"""mocks/validation.py: parameters and bodies checked against a tiny inline contract."""

from __future__ import annotations

from typing import Any

import pytest

from mocks.contract import Contract
from mocks.types import MockError, MockRequest
from mocks.validation import RequestValidator

ITEM = {
    "type": "object",
    "required": ["name", "address"],
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string", "minLength": 1},
        "qty": {"type": "integer", "minimum": 1, "default": 1},
        "address": {"type": "object", "required": ["city"], "properties": {"city": {"type": "string"}}},
    },
}


def validator(parameters: list[dict[str, Any]] | None = None, body: dict[str, Any] | None = None,
              path: str = "/items") -> RequestValidator:
    operation: dict[str, Any] = {"operationId": "op", "parameters": parameters or [],
                                 "responses": {"200": {"description": "ok"}}}
    if body is not None:
        operation["requestBody"] = body
    contract = Contract({"x-mock-api": {"name": "unit"}, "paths": {path: {"post": operation}},
                         "components": {"schemas": {"Item": ITEM}}})
    return RequestValidator(contract, contract.operation("op"))


def request(query: dict[str, list[str]] | None = None, headers: dict[str, str] | None = None,
            body: bytes = b"") -> MockRequest:
    return MockRequest("POST", "/items", query or {}, headers or {}, body)


JSON_BODY = {"required": True, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Item"}}}}


def test_missing_required_query_parameter_is_named():
    check = validator([{"name": "limit", "in": "query", "required": True, "schema": {"type": "integer"}}])
    values, problems = check.parameters_of(request(), {})
    assert [p.field for p in problems] == ["limit"]
    assert "missing required query parameter 'limit'" in problems[0].message
    assert values["query"] == {}


def test_optional_parameter_may_be_absent_and_defaults_are_not_invented():
    check = validator([{"name": "limit", "in": "query", "schema": {"type": "integer", "default": 10}}])
    values, problems = check.parameters_of(request(), {})
    assert problems == []
    assert "limit" not in values["query"]


@pytest.mark.parametrize(
    ("kind", "raw", "expected"),
    [("integer", "42", 42), ("integer", "-3", -3), ("number", "2.5", 2.5), ("boolean", "true", True),
     ("boolean", "false", False), ("string", "007", "007")],
)
def test_query_values_are_coerced_to_the_schema_type(kind, raw, expected):
    check = validator([{"name": "p", "in": "query", "schema": {"type": kind}}])
    values, problems = check.parameters_of(request({"p": [raw]}), {})
    assert problems == []
    assert values["query"]["p"] == expected
    assert type(values["query"]["p"]) is type(expected)


@pytest.mark.parametrize(
    ("kind", "raw", "says"),
    [("integer", "4.5", "not an integer"), ("integer", "ten", "not an integer"),
     ("number", "abc", "not a number"), ("boolean", "True", "not true or false"),
     ("boolean", "1", "not true or false")],
)
def test_coercion_errors_name_the_parameter(kind, raw, says):
    check = validator([{"name": "p", "in": "query", "schema": {"type": kind}}])
    values, problems = check.parameters_of(request({"p": [raw]}), {})
    assert [p.field for p in problems] == ["p"]
    assert says in problems[0].message
    assert "query parameter 'p'" in problems[0].message
    assert "p" not in values["query"]


@pytest.mark.parametrize(("kind", "raw"), [("integer", "1_000"), ("integer", " 7 "), ("integer", "+5"),
                                         ("integer", "٣"), ("number", "nan"), ("number", "inf")])
def test_coercion_is_strict(kind, raw):
    check = validator([{"name": "p", "in": "query", "schema": {"type": kind}}])
    _, problems = check.parameters_of(request({"p": [raw]}), {})
    assert [p.field for p in problems] == ["p"]


@pytest.mark.parametrize(("kind", "raw"), [("integer", "7\n"), ("number", "1_000"), ("number", " 2 ")],
                         ids=["integer-newline", "number-underscore", "number-spaces"])
def test_coercion_is_strict_about_whitespace_and_underscores(kind, raw):
    check = validator([{"name": "p", "in": "query", "schema": {"type": kind}}])
    _, problems = check.parameters_of(request({"p": [raw]}), {})
    assert [p.field for p in problems] == ["p"]


def test_schema_constraints_apply_after_coercion():
    check = validator([{"name": "limit", "in": "query", "schema": {"type": "integer", "maximum": 100}}])
    _, problems = check.parameters_of(request({"limit": ["101"]}), {})
    assert [p.field for p in problems] == ["limit"]
    assert "100" in problems[0].message


def test_scalar_given_twice_is_a_problem():
    check = validator([{"name": "p", "in": "query", "schema": {"type": "string"}}])
    _, problems = check.parameters_of(request({"p": ["a", "b"]}), {})
    assert "more than once" in problems[0].message


def test_exploded_array_collects_repeated_query_values():
    check = validator([{"name": "ids", "in": "query", "schema": {"type": "array", "items": {"type": "integer"}}}])
    values, problems = check.parameters_of(request({"ids": ["1", "2", "3"]}), {})
    assert problems == []
    assert values["query"]["ids"] == [1, 2, 3]


def test_exploded_array_does_not_split_commas():
    check = validator([{"name": "ids", "in": "query", "schema": {"type": "array", "items": {"type": "integer"}}}])
    _, problems = check.parameters_of(request({"ids": ["1,2"]}), {})
    assert [p.field for p in problems] == ["ids"]


def test_unexploded_array_splits_commas():
    check = validator([{"name": "ids", "in": "query", "explode": False,
                        "schema": {"type": "array", "items": {"type": "integer"}}}])
    values, problems = check.parameters_of(request({"ids": ["1,2", "3"]}), {})
    assert problems == []
    assert values["query"]["ids"] == [1, 2, 3]


def test_header_array_defaults_to_simple_style():
    check = validator([{"name": "X-Ids", "in": "header", "schema": {"type": "array", "items": {"type": "integer"}}}])
    values, problems = check.parameters_of(request(headers={"x-ids": "1,2"}), {})
    assert problems == []
    assert values["header"]["X-Ids"] == [1, 2]


def test_path_parameter_is_always_required_and_coerced():
    check = validator([{"name": "id", "in": "path", "schema": {"type": "integer"}}], path="/items/{id}")
    values, problems = check.parameters_of(request(), {"id": "12"})
    assert problems == [] and values["path"] == {"id": 12}
    _, problems = check.parameters_of(request(), {})
    assert [p.field for p in problems] == ["id"]


def test_header_parameters_are_read_case_insensitively_and_content_headers_ignored():
    check = validator([
        {"name": "X-Version", "in": "header", "required": True, "schema": {"type": "integer"}},
        {"name": "Content-Type", "in": "header", "required": True, "schema": {"type": "string"}},
    ])
    values, problems = check.parameters_of(request(headers={"x-version": "2"}), {})
    assert problems == []
    assert values["header"] == {"X-Version": 2}


def test_cookie_parameter():
    check = validator([{"name": "session", "in": "cookie", "required": True, "schema": {"type": "string"}}])
    values, problems = check.parameters_of(request(headers={"cookie": "a=1; session=abc"}), {})
    assert problems == [] and values["cookie"] == {"session": "abc"}


def test_valid_body_passes_and_defaults_are_not_invented():
    check = validator(body=JSON_BODY)
    value, media_type, problems = check.body_of(
        request(headers={"content-type": "application/json; charset=utf-8"},
                body=b'{"name": "a", "address": {"city": "Oslo"}}'))
    assert problems == []
    assert media_type == "application/json"
    assert value == {"name": "a", "address": {"city": "Oslo"}}  # no qty=1 added


def test_required_body_missing_is_a_problem_named_body():
    value, media_type, problems = validator(body=JSON_BODY).body_of(request())
    assert (value, media_type) == (None, None)
    assert [p.field for p in problems] == ["body"]


def test_optional_body_may_be_absent():
    optional = {**JSON_BODY, "required": False}
    assert validator(body=optional).body_of(request()) == (None, None, [])


def test_missing_content_type_assumes_the_first_declared():
    value, media_type, problems = validator(body=JSON_BODY).body_of(
        request(body=b'{"name": "a", "address": {"city": "x"}}'))
    assert media_type == "application/json" and problems == []
    assert value == {"name": "a", "address": {"city": "x"}}


def test_undeclared_content_type_is_415():
    with pytest.raises(MockError) as info:
        validator(body=JSON_BODY).body_of(request(headers={"content-type": "text/plain"}, body=b"name=a"))
    assert info.value.code == "unsupported_media_type"
    assert "text/plain" in str(info.value)


def test_required_property_diagnostic_names_the_property():
    _, _, problems = validator(body=JSON_BODY).body_of(request(body=b'{"address": {}}'))
    fields = sorted(p.field for p in problems)
    assert fields == ["address.city", "name"]


def test_wrong_type_diagnostic_names_the_nested_field():
    _, _, problems = validator(body=JSON_BODY).body_of(
        request(body=b'{"name": "a", "qty": "two", "address": {"city": "x"}}'))
    assert [p.field for p in problems] == ["qty"]
    assert problems[0].message.startswith("qty: ")


def test_unexpected_property_diagnostic_names_it():
    _, _, problems = validator(body=JSON_BODY).body_of(
        request(body=b'{"name": "a", "address": {"city": "x"}, "colour": "red"}'))
    assert [p.field for p in problems] == ["colour"]


def test_body_of_the_wrong_root_type_names_body():
    _, _, problems = validator(body=JSON_BODY).body_of(request(body=b"[1]"))
    assert [p.field for p in problems] == ["body"]


def test_unparseable_body_raises_invalid_request():
    with pytest.raises(MockError) as info:
        validator(body=JSON_BODY).body_of(request(body=b"{"))
    assert info.value.code == "invalid_request"


def test_xml_and_form_bodies_are_parsed_and_typed_by_their_schema():
    schema = {"type": "object", "required": ["qty"], "properties": {"qty": {"type": "integer"}}}
    body = {"content": {"application/xml": {"schema": schema},
                        "application/x-www-form-urlencoded": {"schema": schema}}}
    check = validator(body=body)
    xml = check.body_of(request(headers={"content-type": "application/xml"}, body=b"<r><qty>3</qty></r>"))
    form = check.body_of(request(headers={"content-type": "application/x-www-form-urlencoded"}, body=b"qty=4"))
    assert xml == ({"qty": 3}, "application/xml", [])
    assert form == ({"qty": 4}, "application/x-www-form-urlencoded", [])


def test_operation_without_body_ignores_one():
    assert validator().body_of(request(body=b"garbage")) == (None, None, [])
