"""mocks/errors.py: every failure in the API's own error format, from an inline x-mock-errors."""

from __future__ import annotations

import json
from typing import Any

import pytest

from mocks.contract import Contract, ContractError
from mocks.errors import ENGINE_CODES, ErrorCatalog
from mocks.media import parse_xml
from mocks.types import MockError

STATUSES = {"unauthorized": 401, "forbidden": 403, "not_found": 404, "invalid_request": 400,
            "method_not_allowed": 405, "unsupported_media_type": 415, "not_acceptable": 406, "conflict": 409,
            "rate_limited": 429, "server_error": 500, "unavailable": 503}


def catalog(media_types: list[str] | None = None, extra: dict[str, Any] | None = None,
            drop: str | None = None, **declared: Any) -> ErrorCatalog:
    codes = {name: {"status": status, "error": name, "message": f"{name} happened"}
             for name, status in STATUSES.items() if name != drop}
    codes.update(extra or {})
    errors: dict[str, Any] = {"templates": {"default": {"error": "{error}", "message": "{message}",
                                                        "field": "{field}"},
                                            "short": {"code": "{name}"}},
                              "codes": codes, **declared}
    if media_types is not None:
        errors["media-types"] = media_types
    return ErrorCatalog(Contract({"x-mock-api": {"name": "unit"}, "x-mock-errors": errors}, "unit.yaml"))


def test_engine_codes_are_the_ones_the_tests_declare():
    assert set(ENGINE_CODES) == set(STATUSES)


@pytest.mark.parametrize("missing", ["rate_limited", "unavailable"])
def test_missing_engine_code_is_a_contract_error(missing):
    with pytest.raises(ContractError, match=rf"unit.yaml: x-mock-errors.codes lacks {missing}"):
        catalog(drop=missing)


def test_code_for_a_name_or_a_status():
    errors = catalog(extra={"quota_exceeded": {"status": 429, "error": "quota"}})
    assert errors.code_for("quota_exceeded") == "quota_exceeded"
    assert errors.code_for("429") == "rate_limited"  # the first code declared with that status
    assert errors.code_for(503) == "unavailable"
    assert errors.status_of("quota_exceeded") == 429
    with pytest.raises(KeyError):
        errors.code_for(418)
    with pytest.raises(KeyError):
        errors.code_for("teapot")


def test_json_error_body_from_the_default_template():
    response = catalog().response(MockError("invalid_request", "limit must be an integer", field="limit"))
    assert response.status == 400
    assert response.media_type == "application/json"
    assert json.loads(response.body) == {"error": "invalid_request", "message": "limit must be an integer",
                                         "field": "limit"}


def test_message_falls_back_to_the_codes_own():
    response = catalog().response(MockError("not_found"))
    assert json.loads(response.body)["message"] == "not_found happened"


def test_code_and_call_site_templates():
    errors = catalog(extra={"declined": {"status": 402, "error": "declined", "template": "short"}})
    assert json.loads(errors.response(MockError("declined")).body) == {"code": "declined"}
    assert json.loads(errors.response(MockError("not_found"), template="short").body) == {"code": "not_found"}


def test_error_named_by_status_and_headers_carried():
    response = catalog().response(MockError("503", headers=[("Retry-After", "30")]))
    assert response.status == 503
    assert response.header("Retry-After") == "30"


def test_xml_when_accept_prefers_it():
    errors = catalog(["application/json", "application/xml"], **{"xml-root": "Error"})
    response = errors.response(MockError("conflict", "already shipped", field="status"),
                               accept="application/json;q=0.5, application/xml")
    assert response.status == 409
    assert response.media_type == "application/xml"
    assert response.body.startswith(b'<?xml version="1.0" encoding="UTF-8"?><Error>')
    assert parse_xml(response.body, {}) == {"error": "conflict", "message": "already shipped", "field": "status"}


def test_first_media_type_when_accept_offers_nothing_we_have():
    errors = catalog(["application/xml", "application/json"])
    response = errors.response(MockError("not_found"), accept="text/html")
    assert response.media_type == "application/xml"
    assert b"<error>" in response.body  # the default root


def test_no_body_when_media_types_is_empty():
    response = catalog([]).response(MockError("rate_limited", "slow down", headers=[("Retry-After", "2")]))
    assert response.status == 429
    assert response.body == b""
    assert response.media_type is None
    assert response.headers == [("Retry-After", "2")]


def test_json_is_the_default_media_type():
    assert catalog().media_types == ["application/json"]
