"""Hostile bodies over real HTTP: each is the API's own 4xx, stores nothing, and leaves every list,
`/__mock/state` and the admin API answering (issue 9, items 6, 8, 9 and 14)."""

from __future__ import annotations

import pytest
from reliabilitykit import ACME_NORDIC, DOC_SITE, admin, headers_for, serving

LONE_SURROGATE = b'"\\ud800"'  # a JSON escape no text encoding can represent
ENCODED_SURROGATE = b'"\xed\xa0\x80"'  # the same code point as (invalid) UTF-8 bytes


@pytest.fixture(scope="module")
def served():
    yield from serving()


# one create per API: (api, listener, path of the create, body with NAME to replace, path of the list)
CREATES = {
    "istockist": ("api", "/v1/products", b'{"name": NAME, "unit_amount": 100, "currency": "nzd"}', "/v1/products"),
    "plggr": ("api", f"/companies/{ACME_NORDIC}/customers", b'{"name": NAME}', f"/companies/{ACME_NORDIC}/customers"),
    "konducter": ("local", "/orders", (b'{"externalId": "S-1", "channel": "kiosk", "items": [{"name": NAME, '
                                       b'"quantity": 1}]}'), f"/sites/{DOC_SITE}/orders"),
}


def _create_list(served, api: str, name: bytes):
    listener, create_path, template, list_path = CREATES[api]
    headers = {**headers_for(served, api), "Content-Type": "application/json"}
    with served.client(api, listener) as client, served.client(api, "cloud" if api == "konducter" else "api") as lists:
        before = lists.get(list_path, headers=headers)
        created = client.post(create_path, headers=headers, content=template.replace(b"NAME", name))
        after = lists.get(list_path, headers=headers)
    return before, created, after


@pytest.mark.parametrize("api", list(CREATES))
@pytest.mark.parametrize("name", [LONE_SURROGATE, ENCODED_SURROGATE], ids=["escaped", "utf8-bytes"])
def test_a_string_that_cannot_be_encoded_is_refused_and_nothing_is_stored(served, api, name):
    before, created, after = _create_list(served, api, name)
    assert created.status_code == 400, created.text
    if api != "konducter":  # Konducter's errors carry a status only
        assert "surrogate" in created.text or "UTF-8" in created.text
    assert after.status_code == 200 and before.status_code == 200
    assert after.content == before.content  # nothing was stored
    with admin(served, api) as http:
        assert http.get("/state").status_code == 200
        assert http.get("/journal").status_code == 200


def test_a_valid_surrogate_pair_is_stored_and_listed(served):
    _before, created, after = _create_list(served, "istockist", b'"\\ud83d\\ude00 beans"')
    assert created.status_code == 200 and created.json()["name"] == "\U0001F600 beans"
    assert after.status_code == 200 and "\U0001F600 beans" in after.text


def test_non_utf8_percent_escapes_in_parameters_do_not_break_lists(served):
    headers = headers_for(served, "istockist")
    with served.client("istockist", checked=False) as client:
        odd = client.get("/v1/products/%ED%A0%80", headers=headers)
        listed = client.get("/v1/products?starting_after=%ED%B2%80", headers=headers)
        assert odd.status_code in (400, 404) and listed.status_code in (200, 400)
        assert client.get("/v1/products", headers=headers).status_code == 200


DEEP = b"[" * 100_000 + b"]" * 100_000


@pytest.mark.parametrize("route", ["/clock", "/faults"])
def test_a_deeply_nested_admin_body_is_a_400_that_says_so(served, route):
    with admin(served, "istockist") as http:
        response = http.post(route, content=DEEP, headers={"Content-Type": "application/json"})
        assert response.status_code == 400
        assert "nested deeper than 64 levels" in response.json()["error"]
        assert http.get("/clock").status_code == 200


def test_a_deeply_nested_contract_body_is_the_apis_400(served):
    headers = {**headers_for(served, "istockist"), "Content-Type": "application/json"}
    with served.client("istockist", checked=False) as client:
        response = client.post("/v1/products", headers=headers, content=b'{"name": ' + DEEP + b"}")
        assert response.status_code == 400
        assert response.json()["error"]["type"] == "invalid_request_error"
        assert "nested deeper than 64 levels" in response.json()["error"]["message"]


@pytest.mark.parametrize("number", [b"1e999", b"-1e999", b"NaN", b"Infinity"])
def test_numbers_that_are_not_finite_are_refused(served, number):
    headers = {**headers_for(served, "istockist"), "Content-Type": "application/json"}
    with served.client("istockist", checked=False) as client:
        response = client.post("/v1/products", headers=headers,
                               content=b'{"name": "n", "unit_amount": ' + number + b', "currency": "nzd"}')
        assert response.status_code == 400


def _lagerkoll_webhook(served, body: bytes):
    headers = {**headers_for(served, "lagerkoll"), "Content-Type": "application/xml", "Accept": "application/json"}
    with served.client("lagerkoll", checked=False) as client:
        return client.post("/v1/webhooks/", headers=headers, content=body)


def test_many_repeated_xml_elements_are_refused(served):
    response = _lagerkoll_webhook(served, b"<webhook>" + b"<q/>" * 260_000 + b"</webhook>")
    assert response.status_code == 400
    assert "more than 50000 elements" in response.json()["errorMessage"]


def test_deeply_nested_xml_is_refused(served):
    response = _lagerkoll_webhook(served, b"<a>" * 1000 + b"</a>" * 1000)
    assert response.status_code == 400
    assert "nested deeper than 64 levels" in response.json()["errorMessage"]


def test_many_repeated_xml_elements_under_the_bound_parse(served):
    # 40,000 repeats took 2.6 s before (a list rebuilt per repeat); the request is still answered normally
    response = _lagerkoll_webhook(served, b"<webhook>" + b"<q>1</q>" * 40_000 + b"</webhook>")
    assert response.status_code == 400  # a body the schema refuses, not a parser failure
    assert "XML" not in response.json()["errorMessage"]


@pytest.mark.parametrize("api", ["istockist", "lagerkoll", "konducter"])
def test_a_content_type_that_is_no_media_type_is_the_apis_415(served, api):
    listener, path, body = {"istockist": ("api", "/v1/products", b'{"name": "x"}'),
                            "lagerkoll": ("api", "/v1/webhooks/", b"{}"),
                            "konducter": ("local", "/orders", b"{}")}[api]
    with served.client(api, listener, checked=False) as client:
        response = client.post(path, headers={**headers_for(served, api), "Content-Type": ";;;=/"}, content=body)
        assert response.status_code == 415
        if api != "konducter":
            assert "';;;=/' is not a media type" in response.text


def test_a_body_without_content_type_follows_the_contracts_decision(served):
    # iStockist declares `missing-content-type: refuse`; Konducter `first-declared` (its JSON)
    with served.client("istockist", checked=False) as client:
        refused = client.post("/v1/products", headers=headers_for(served, "istockist"),
                              content=b'{"name": "untyped", "unit_amount": 1, "currency": "nzd"}')
        assert refused.status_code == 415 and "needs a Content-Type" in refused.text
    with served.client("konducter", "local", checked=False) as client:
        accepted = client.post("/orders", headers=headers_for(served, "konducter"),
                               content=b'{"externalId": "U-1", "channel": "kiosk", "items": '
                                       b'[{"name": "Fries", "quantity": 1}]}')
        assert accepted.status_code == 201


@pytest.mark.parametrize("value", [b"&#xD800;", b"\xed\xa0\x80"], ids=["char-ref", "utf8-bytes"])
def test_a_surrogate_in_xml_is_the_apis_400(served, value):
    response = _lagerkoll_webhook(served, b"<webhook><url>" + value + b"</url></webhook>")
    assert response.status_code == 400 and "not acceptable XML" in response.json()["errorMessage"]
    with admin(served, "lagerkoll") as http:
        assert http.get("/state").status_code == 200


def test_a_surrogate_in_a_form_body_is_refused_without_a_500(served):
    with served.client("plggr", checked=False) as client:
        response = client.post("/oauth/token", content=b"grant_type=client_credentials&client_id=%ED%A0%80"
                                                        b"&client_secret=x",
                               headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert 400 <= response.status_code < 500
    with admin(served, "plggr") as http:
        assert http.get("/state").status_code == 200 and http.get("/journal").status_code == 200
