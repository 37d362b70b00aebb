"""iStockist over HTTP: Basic auth, CRUD and cursor lists, idempotency, card declines, versions, CORS, TLS.

Most tests run in-process (`istockist` fixture, every response checked against the contract); the
concurrency and TLS tests use real sockets (`mock_server`, `mocks serve --tls`).
"""

from __future__ import annotations

import base64
import re
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import httpx
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st


def _load_yaml(text: str):
    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


CONTRACT = _load_yaml((Path(__file__).resolve().parents[2] / "contracts" / "istockist.yaml").read_text())
MAGIC = CONTRACT["paths"]["/v1/orders/{id}/pay"]["post"]["x-mock-magic"][0]
CODES = CONTRACT["x-mock-errors"]["codes"]

KAURI = "11111111-aaaa-4aaa-8aaa-000000000001"
ALPINE = "33333333-cccc-4ccc-8ccc-000000000003"
OPEN_ORDER = "a1000000-0000-4000-8000-000000000001"  # Kauri, open
PAID_ORDER = "a1000000-0000-4000-8000-000000000002"  # Kauri, paid
CUSTOMER = "c1000000-0000-4000-8000-000000000001"
PRODUCT = "d1000000-0000-4000-8000-000000000001"


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def card(number: str) -> dict:
    return {"card": {"number": number, "exp_month": 12, "exp_year": 2034, "cvc": "123"}}


def order_body(marker: str) -> dict:
    return {"customer": CUSTOMER, "currency": "nzd", "notes": marker,
            "line_items": [{"product": PRODUCT, "quantity": 2, "unit_amount": 3200}]}


def orders_marked(handle, marker: str) -> list[dict]:
    return [o for o in handle.admin.state().get("order", []) if o.get("notes") == marker]


def no_rate_limit(handle) -> None:
    response = handle.admin.http.post("/__mock/limits", json={"policy": "account-per-second", "enabled": False})
    assert response.status_code == 200, response.text


# ------------------------------------------------------------------------------------------ auth
def test_missing_credentials_are_401_in_the_error_format(istockist):
    response = istockist.client.get("/v1/products")
    assert response.status_code == 401
    error = response.json()["error"]
    assert error["type"] == "authentication_error"
    assert error["code"] == "unauthorized"
    assert error["decline_code"] is None


def test_wrong_credentials_are_401(istockist):
    for headers in (basic("ik_test_kauri_main", "wrong-secret"),        # wrong secret
                    basic("ik_test_nobody", "is_test_kauri_main_secret"),  # unknown key
                    {"Authorization": "Bearer ik_test_kauri_main"},     # not Basic
                    {"Authorization": "Basic not-base64!"}):            # garbage
        response = istockist.client.get("/v1/products", headers=headers)
        assert response.status_code == 401, headers
        assert response.headers["content-type"].startswith("application/json")
        assert response.json()["error"]["code"] == "unauthorized"


def test_basic_auth_with_key_and_secret_reaches_only_the_accounts_objects(istockist):
    response = istockist.client.get("/v1/products", headers=basic("ik_test_alpine", "is_test_alpine_secret"),
                                    params={"limit": 100})
    assert response.status_code == 200
    assert {p["id"] for p in response.json()["data"]} == {
        "d3000000-0000-4000-8000-000000000001", "d3000000-0000-4000-8000-000000000002"}
    other = istockist.client.get(f"/v1/products/{PRODUCT}", headers=istockist.auth_headers("alpine-botanicals"))
    assert other.status_code == 404
    assert other.json()["error"]["code"] == "resource_missing"


# ------------------------------------------------------------------------------------------ CRUD
def test_product_crud_round_trip(istockist):
    client, headers = istockist.client, istockist.auth_headers("alpine-botanicals")
    created = client.post("/v1/products", headers=headers,
                          json={"name": "Sage balm", "unit_amount": 650, "currency": "gbp", "sku": "AB-SB"})
    assert created.status_code == 200
    product = created.json()
    assert product["object"] == "product" and product["name"] == "Sage balm" and product["active"] is True
    assert "account" not in product

    fetched = client.get(f"/v1/products/{product['id']}", headers=headers)
    assert fetched.status_code == 200 and fetched.json() == product

    updated = client.post(f"/v1/products/{product['id']}", headers=headers, json={"unit_amount": 700})
    assert updated.status_code == 200
    assert updated.json()["unit_amount"] == 700 and updated.json()["name"] == "Sage balm"
    assert client.get(f"/v1/products/{product['id']}", headers=headers).json()["unit_amount"] == 700

    deleted = client.delete(f"/v1/products/{product['id']}", headers=headers)
    assert deleted.status_code == 200
    assert deleted.json() == {"id": product["id"], "object": "product", "deleted": True}
    gone = client.get(f"/v1/products/{product['id']}", headers=headers)
    assert gone.status_code == 404 and gone.json()["error"]["code"] == "resource_missing"


def test_create_order_computes_amounts_and_records_the_store(istockist):
    response = istockist.client.post("/v1/orders", headers=istockist.auth_headers(), json={
        "customer": CUSTOMER, "currency": "nzd", "amount_shipping": 500,
        "line_items": [{"product": PRODUCT, "quantity": 3, "unit_amount": 1000},
                       {"description": "Courier", "quantity": 1, "unit_amount": 900}]})
    assert response.status_code == 200
    order = response.json()
    assert order["status"] == "open"
    assert [line["amount"] for line in order["line_items"]] == [3000, 900]
    assert order["line_items"][0]["description"] == "Single-origin beans 1 kg"
    assert (order["amount_subtotal"], order["amount_total"]) == (3900, 4400)
    assert order["store"] == "e1000000-0000-4000-8000-000000000001"


def test_missing_parameter_is_400_naming_it(istockist):
    response = istockist.client.post("/v1/products", headers=istockist.auth_headers(),
                                     json={"unit_amount": 100, "currency": "nzd"})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert "name" in (error["param"] or "") + error["message"]


# ------------------------------------------------------------------------------------ pagination
def _make_products(istockist, count: int, principal: str = "alpine-botanicals") -> None:
    for n in range(count):
        response = istockist.client.post("/v1/products", headers=istockist.auth_headers(principal),
                                         json={"name": f"Item {n}", "unit_amount": 100 + n, "currency": "gbp"})
        assert response.status_code == 200


def test_cursor_pagination_walks_every_object_once(istockist):
    _make_products(istockist, 5)  # Alpine: 2 seeded + 5 = 7
    client, headers = istockist.client, istockist.auth_headers("alpine-botanicals")
    everything = client.get("/v1/products", headers=headers, params={"limit": 100}).json()
    assert everything["object"] == "list" and everything["has_more"] is False
    assert everything["url"] == "/v1/products"
    all_ids = [p["id"] for p in everything["data"]]
    assert len(all_ids) == 7

    pages, cursor = [], None
    while True:
        params = {"limit": 3} | ({"starting_after": cursor} if cursor else {})
        page = client.get("/v1/products", headers=headers, params=params).json()
        pages.append(page)
        if not page["has_more"]:
            break
        cursor = page["data"][-1]["id"]
    assert [len(p["data"]) for p in pages] == [3, 3, 1]
    assert [p["has_more"] for p in pages] == [True, True, False]
    assert [item["id"] for p in pages for item in p["data"]] == all_ids

    back = client.get("/v1/products", headers=headers,
                      params={"limit": 3, "ending_before": pages[1]["data"][0]["id"]}).json()
    assert [p["id"] for p in back["data"]] == [p["id"] for p in pages[0]["data"]]
    assert back["has_more"] is False
    partial = client.get("/v1/products", headers=headers,
                         params={"limit": 2, "ending_before": pages[1]["data"][0]["id"]}).json()
    assert [p["id"] for p in partial["data"]] == [p["id"] for p in pages[0]["data"][1:]]
    assert partial["has_more"] is True


def test_default_and_bounded_limit(istockist):
    _make_products(istockist, 10)  # 12 for Alpine
    client, headers = istockist.client, istockist.auth_headers("alpine-botanicals")
    page = client.get("/v1/products", headers=headers).json()
    assert len(page["data"]) == 10 and page["has_more"] is True
    for bad in (0, 101, "ten"):
        response = client.get("/v1/products", headers=headers, params={"limit": bad})
        assert response.status_code == 400, bad
        assert response.json()["error"]["param"] == "limit"


def test_list_filters_orders_by_status(istockist):
    response = istockist.client.get("/v1/orders", headers=istockist.auth_headers(), params={"status": "paid"})
    assert response.status_code == 200
    assert [o["id"] for o in response.json()["data"]] == [PAID_ORDER]
    assert response.json()["url"] == "/v1/orders"


def test_lists_are_newest_first(istockist):
    istockist.admin.freeze()
    headers = istockist.auth_headers("alpine-botanicals")
    first = istockist.client.post("/v1/products", headers=headers,
                                  json={"name": "Older", "unit_amount": 1, "currency": "gbp"}).json()
    istockist.admin.advance(10)
    second = istockist.client.post("/v1/products", headers=headers,
                                   json={"name": "Newer", "unit_amount": 1, "currency": "gbp"}).json()
    data = istockist.client.get("/v1/products", headers=headers).json()["data"]
    created = [p["created"] for p in data]
    assert created == sorted(created, reverse=True)
    assert [p["id"] for p in data[:2]] == [second["id"], first["id"]]


def test_unknown_cursor_is_404(istockist):
    response = istockist.client.get("/v1/products", headers=istockist.auth_headers(),
                                    params={"starting_after": str(uuid.uuid4())})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "resource_missing"
    assert response.json()["error"]["param"] == "starting_after"


# ----------------------------------------------------------------------------------- idempotency
def test_first_response_is_replayed_for_a_retry(istockist):
    key, body = str(uuid.uuid4()), order_body("replay")
    headers = {**istockist.auth_headers(), "Idempotency-Key": key}
    first = istockist.client.post("/v1/orders", headers=headers, json=body)
    assert first.status_code == 200
    assert "idempotent-replayed" not in first.headers
    retry = istockist.client.post("/v1/orders", headers=headers, json=body)
    assert retry.status_code == 200
    assert retry.headers["idempotent-replayed"] == "true"
    assert retry.content == first.content
    assert len(orders_marked(istockist, "replay")) == 1


def test_an_error_response_is_replayed_too(istockist):
    key = str(uuid.uuid4())
    headers = {**istockist.auth_headers(), "Idempotency-Key": key}
    body = {**order_body("missing-customer"), "customer": str(uuid.uuid4())}
    first = istockist.client.post("/v1/orders", headers=headers, json=body)
    assert first.status_code == 404 and first.json()["error"]["param"] == "customer"
    retry = istockist.client.post("/v1/orders", headers=headers, json=body)
    assert (retry.status_code, retry.content) == (404, first.content)
    assert retry.headers["idempotent-replayed"] == "true"


def test_same_key_with_other_parameters_is_409(istockist):
    key = str(uuid.uuid4())
    headers = {**istockist.auth_headers(), "Idempotency-Key": key}
    assert istockist.client.post("/v1/orders", headers=headers, json=order_body("one")).status_code == 200
    other = istockist.client.post("/v1/orders", headers=headers, json=order_body("two"))
    assert other.status_code == 409
    assert other.json()["error"]["type"] == "idempotency_error"
    assert other.json()["error"]["code"] == "idempotency_key_reused"
    assert orders_marked(istockist, "two") == []


def test_keys_belong_to_the_caller(istockist):
    key, body = str(uuid.uuid4()), order_body("per-account")
    mine = istockist.client.post("/v1/orders", headers={**istockist.auth_headers(), "Idempotency-Key": key},
                                 json=body)
    body_alpine = {**body, "customer": "c3000000-0000-4000-8000-000000000001",
                   "line_items": [{"description": "Soap", "quantity": 1, "unit_amount": 5}]}
    theirs = istockist.client.post("/v1/orders", json=body_alpine,
                                   headers={**istockist.auth_headers("alpine-botanicals"), "Idempotency-Key": key})
    assert (mine.status_code, theirs.status_code) == (200, 200)
    assert "idempotent-replayed" not in theirs.headers
    assert mine.json()["id"] != theirs.json()["id"]


def test_keys_are_shared_by_the_keys_of_one_account(istockist):
    key, body = str(uuid.uuid4()), order_body("shared-account")
    first = istockist.client.post("/v1/orders", json=body,
                                  headers={**istockist.auth_headers("kauri-roasters"), "Idempotency-Key": key})
    retry = istockist.client.post("/v1/orders", json=body,
                                  headers={**istockist.auth_headers("kauri-warehouse-app"), "Idempotency-Key": key})
    assert first.status_code == retry.status_code == 200
    assert retry.headers.get("idempotent-replayed") == "true"
    assert len(orders_marked(istockist, "shared-account")) == 1


def test_keys_expire_after_24_hours_on_the_mock_clock(istockist):
    istockist.admin.freeze()
    key, body = str(uuid.uuid4()), order_body("expiry")
    headers = {**istockist.auth_headers(), "Idempotency-Key": key}
    first = istockist.client.post("/v1/orders", headers=headers, json=body)
    istockist.admin.advance(86399)
    still = istockist.client.post("/v1/orders", headers=headers, json=body)
    assert still.headers.get("idempotent-replayed") == "true"
    assert still.json()["id"] == first.json()["id"]
    assert len(orders_marked(istockist, "expiry")) == 1

    istockist.admin.advance(2)  # 86401 s after the first request
    again = istockist.client.post("/v1/orders", headers=headers, json=body)
    assert again.status_code == 200
    assert "idempotent-replayed" not in again.headers
    assert again.json()["id"] != first.json()["id"]
    assert len(orders_marked(istockist, "expiry")) == 2
    other = istockist.client.post("/v1/orders", headers=headers, json=order_body("expiry-new-params"))
    assert other.status_code == 409  # the key now belongs to the new request


def test_idempotency_key_must_be_a_uuid(istockist):
    response = istockist.client.post("/v1/orders", json=order_body("bad-key"),
                                     headers={**istockist.auth_headers(), "Idempotency-Key": "retry-1"})
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "Idempotency-Key"


def _post_in_thread(client: httpx.Client, headers: dict, body: dict, out: list) -> threading.Thread:
    def run() -> None:
        try:
            out.append(client.post("/v1/orders", headers=headers, json=body))
        except httpx.HTTPError as exc:  # reported by the test, never swallowed
            out.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_concurrent_requests_with_one_key_have_one_effect(mock_server):
    api = mock_server("istockist")
    fault = api.admin.add_fault(operation="createOrder", latency=0.6, times=1)
    key, body = str(uuid.uuid4()), order_body("concurrent")
    headers = {**api.auth_headers(), "Idempotency-Key": key}
    first: list = []
    slow = _post_in_thread(api.client, headers, body, first)
    api.admin.wait_until_fired(fault["id"])  # the first request now holds the key, inside its latency
    second = api.client.post("/v1/orders", headers=headers, json=body)
    slow.join(10)
    assert second.status_code == 409
    assert second.json()["error"]["code"] == "idempotency_in_flight"
    assert second.json()["error"]["type"] == "idempotency_error"
    assert isinstance(first[0], httpx.Response) and first[0].status_code == 200
    assert len(orders_marked(api, "concurrent")) == 1
    later = api.client.post("/v1/orders", headers=headers, json=body)
    assert later.status_code == 200 and later.headers["idempotent-replayed"] == "true"
    assert later.json()["id"] == first[0].json()["id"]


def _burst(client: httpx.Client, headers: dict, body: dict, size: int) -> list:
    """`size` requests released together (1 = a plain sequential retry); their responses or errors."""
    barrier = threading.Barrier(size)
    out: list = []

    def send() -> None:
        barrier.wait(5)
        try:
            out.append(client.post("/v1/orders", headers=headers, json=body))
        except httpx.HTTPError as exc:
            out.append(exc)

    threads = [threading.Thread(target=send) for _ in range(size)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    return out


@settings(max_examples=12, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(rounds=st.lists(st.integers(min_value=1, max_value=4), min_size=1, max_size=4))
def test_any_interleaving_of_retries_creates_exactly_one_order(istockist, rounds):
    """Each round sends 1 (a sequential retry) to 4 (concurrent) requests with the same key and body.

    The fixture is shared by the examples (hence the suppressed health check); each example uses its
    own key and marker, so examples do not see each other's orders.
    """
    if istockist.admin.limits()[0]["enabled"]:  # the first example on this fixture sets it up
        no_rate_limit(istockist)
        istockist.admin.add_fault(operation="createOrder", latency=0.05)  # widen the in-flight window
    key = str(uuid.uuid4())
    marker = f"prop-{key}"
    headers = {**istockist.auth_headers(), "Idempotency-Key": key}
    body = order_body(marker)
    responses: list = []
    for size in rounds:
        responses += _burst(istockist.client, headers, body, size)
    assert all(isinstance(r, httpx.Response) for r in responses), responses
    assert {r.status_code for r in responses} <= {200, 409}
    conflicts = [r.json()["error"]["code"] for r in responses if r.status_code == 409]
    assert set(conflicts) <= {"idempotency_in_flight"}
    successes = [r for r in responses if r.status_code == 200]
    assert successes, "the request that took the key must succeed"
    assert len({r.content for r in successes}) == 1  # replays are byte-identical to the first answer
    assert sum("idempotent-replayed" not in r.headers for r in successes) == 1
    assert len(orders_marked(istockist, marker)) == 1
    final = istockist.client.post("/v1/orders", headers=headers, json=body)
    assert final.status_code == 200 and final.headers["idempotent-replayed"] == "true"
    assert final.content == successes[0].content


# --------------------------------------------------------------------------------------- declines
def test_magic_card_numbers_decline_with_their_code(istockist):
    observed = set()
    for number, code in sorted(MAGIC["values"].items()):
        response = istockist.client.post(f"/v1/orders/{OPEN_ORDER}/pay", headers=istockist.auth_headers(),
                                         json=card(number))
        assert response.status_code == 402, number
        error = response.json()["error"]
        assert error["type"] == "card_error"
        assert error["code"] == CODES[code]["code"]
        assert error["decline_code"] == CODES[code]["decline_code"]
        assert error["message"] == CODES[code]["message"]
        order = istockist.client.get(f"/v1/orders/{OPEN_ORDER}", headers=istockist.auth_headers()).json()
        assert order["status"] == "open", number  # a declined payment leaves the order payable
        assert "card" not in order
        observed.add(error["decline_code"])
    assert observed == {"generic_decline", "insufficient_funds", "expired_card", "incorrect_cvc",
                        "processing_error"}  # one number per decline code, as in Stripe's test mode


@pytest.mark.parametrize("number", MAGIC["success"])
def test_the_documented_success_number_pays(istockist, number):
    response = istockist.client.post(f"/v1/orders/{OPEN_ORDER}/pay", headers=istockist.auth_headers(),
                                     json=card(number))
    assert response.status_code == 200
    assert response.json()["status"] == "paid"
    assert "card" not in response.json()
    stored = istockist.client.get(f"/v1/orders/{OPEN_ORDER}", headers=istockist.auth_headers()).json()
    assert stored["status"] == "paid"


def test_a_declined_order_can_be_paid_afterwards(istockist):
    headers = istockist.auth_headers()
    declined = istockist.client.post(f"/v1/orders/{OPEN_ORDER}/pay", headers=headers,
                                     json=card(next(iter(MAGIC["values"]))))
    assert declined.status_code == 402
    paid = istockist.client.post(f"/v1/orders/{OPEN_ORDER}/pay", headers=headers, json=card(MAGIC["success"][0]))
    assert paid.status_code == 200 and paid.json()["status"] == "paid"


def test_paying_twice_is_409(istockist):
    headers = istockist.auth_headers()
    success = MAGIC["success"][0]
    assert istockist.client.post(f"/v1/orders/{OPEN_ORDER}/pay", headers=headers, json=card(success)).status_code == 200
    again = istockist.client.post(f"/v1/orders/{OPEN_ORDER}/pay", headers=headers, json=card(success))
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "order_status_invalid"
    seeded_paid = istockist.client.post(f"/v1/orders/{PAID_ORDER}/pay", headers=headers, json=card(success))
    assert seeded_paid.status_code == 409


def test_paying_a_cancelled_order_is_409(istockist):
    headers = istockist.auth_headers("harbourside-homewares")
    response = istockist.client.post("/v1/orders/a2000000-0000-4000-8000-000000000002/pay", headers=headers,
                                     json=card(MAGIC["success"][0]))
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "order_status_invalid"
    order = istockist.client.get("/v1/orders/a2000000-0000-4000-8000-000000000002", headers=headers).json()
    assert order["status"] == "cancelled"


# --------------------------------------------------------------------------------------- versions
def test_unknown_version_is_400(istockist):
    response = istockist.client.get("/v1/products",
                                    headers={**istockist.auth_headers(), "iStockist-Version": "2022-01-01"})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_version"
    assert error["param"] == "iStockist-Version"


def test_requested_version_is_stated_in_the_response(istockist):
    for version in CONTRACT["x-mock-versions"]["known"]:
        response = istockist.client.get("/v1/products",
                                        headers={**istockist.auth_headers("harbourside-homewares"),
                                                 "iStockist-Version": version})
        assert response.status_code == 200
        assert response.headers["iStockist-Version"] == version


def test_account_default_version_applies_without_the_header(istockist):
    pinned = istockist.client.get("/v1/products", headers=istockist.auth_headers("harbourside-homewares"))
    assert pinned.headers["iStockist-Version"] == "2020-08-27"
    current = istockist.client.get("/v1/products", headers=istockist.auth_headers("kauri-roasters"))
    assert current.headers["iStockist-Version"] == CONTRACT["x-mock-versions"]["current"]
    error = istockist.client.get(f"/v1/orders/{uuid.uuid4()}", headers=istockist.auth_headers("harbourside-homewares"))
    assert error.status_code == 404 and error.headers["iStockist-Version"] == "2020-08-27"


# ------------------------------------------------------------------------------------------- CORS
def test_cors_preflight(istockist):
    response = istockist.client.options("/v1/orders", headers={
        "Origin": "https://buyer.example", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "Authorization, Content-Type, Idempotency-Key"})
    assert response.status_code == 204
    assert response.content == b""
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    allowed = {h.strip().lower() for h in response.headers["Access-Control-Allow-Headers"].split(",")}
    assert {"authorization", "content-type", "idempotency-key", "istockist-version"} <= allowed
    assert "POST" in response.headers["Access-Control-Allow-Methods"]
    assert response.headers["Access-Control-Max-Age"] == "600"


def test_cors_headers_on_normal_and_error_responses(istockist):
    ok = istockist.client.get("/v1/products", headers={**istockist.auth_headers(), "Origin": "https://buyer.example"})
    assert ok.status_code == 200
    assert ok.headers["Access-Control-Allow-Origin"] == "*"
    exposed = {h.strip().lower() for h in ok.headers["Access-Control-Expose-Headers"].split(",")}
    assert {"retry-after", "istockist-version", "idempotent-replayed"} <= exposed
    denied = istockist.client.get("/v1/products", headers={"Origin": "https://buyer.example"})
    assert denied.status_code == 401 and denied.headers["Access-Control-Allow-Origin"] == "*"
    plain = istockist.client.get("/v1/products", headers=istockist.auth_headers())
    assert "access-control-allow-origin" not in plain.headers


# -------------------------------------------------------------------------------------------- TLS
@pytest.fixture
def tls_server(tmp_path):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key),
                    "-out", str(cert), "-days", "1", "-subj", "/CN=localhost"],
                   check=True, capture_output=True, timeout=60)
    process = subprocess.Popen(
        [sys.executable, "-m", "mocks.cli", "serve", "istockist", "--tls", str(cert), str(key),
         "--port", "istockist=0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        url = None
        deadline = time.monotonic() + 20
        while url is None and time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            found = re.search(r"istockist \(api\)\s+(\S+)", line)
            url = found.group(1) if found else None
        assert url is not None, process.stderr.read() if process.poll() is not None else "no URL printed"
        yield url
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
        process.stdout.close()
        process.stderr.close()


def test_tls_serves_https_and_refuses_plain_http(tls_server):
    assert tls_server.startswith("https://")
    port = tls_server.rsplit(":", 1)[1]
    auth = ("ik_test_kauri_main", "is_test_kauri_main_secret")
    deadline = time.monotonic() + 10
    while True:
        try:
            response = httpx.get(f"{tls_server}/v1/products", auth=auth, verify=False, timeout=5)
            break
        except httpx.ConnectError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
    assert response.status_code == 200
    assert response.json()["object"] == "list"
    with pytest.raises(httpx.TransportError):
        httpx.get(f"http://localhost:{port}/v1/products", auth=auth, timeout=5)
