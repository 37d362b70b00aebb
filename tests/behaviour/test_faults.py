"""Fault injection (issue 4) observed over real sockets: every fault kind, firing rule and matcher,
the Prefer header, and the admin API's refusal of faults it cannot honour."""

from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from mocks.control import Admin, conformance_hook
from mocks.pytest_plugin import MockHandle, Namespaces
from mocks.server import Sandbox

OPEN_ORDER = "a1000000-0000-4000-8000-000000000001"
SUCCESS_CARD = {"card": {"number": "4242424242424242", "exp_month": 12, "exp_year": 2034, "cvc": "123"}}
PRODUCT = {"name": "Fault probe", "unit_amount": 100, "currency": "nzd"}


@pytest.fixture(scope="module")
def served(mocks_store):
    """iStockist and Lagerkoll on real ports, started once for this module (what `mock_server` does per test)."""
    namespaces = Namespaces(mocks_store)
    sandbox = Sandbox.create(["istockist", "lagerkoll"], store=mocks_store, namespace=namespaces.new(),
                             ports={"istockist": 0, "lagerkoll": 0})
    sandbox.start()
    handles = {}
    for name, api in sandbox.apis.items():
        base = api.base_urls[api.primary_listener]
        handles[name] = MockHandle(name, api, base,
                                   httpx.Client(base_url=base, timeout=10,
                                                event_hooks={"response": [conformance_hook(name)]}),
                                   Admin(httpx.Client(base_url=base, timeout=10)))
    yield handles
    for handle in handles.values():
        handle.close()
    sandbox.shutdown()
    namespaces.drop()


def fresh(handle: MockHandle) -> MockHandle:
    handle.admin.reset()  # state, journal, faults and rate-limit counters back to the fixtures
    handle.admin.clock(reset=True)
    return handle


@pytest.fixture
def shop(served):
    """iStockist on a real port, fresh state, its per-second limit lifted so bursts of probes are not 429s."""
    api = fresh(served["istockist"])
    api.admin.set_limit("10000/s")
    return api


@pytest.fixture
def lagerkoll_served(served):
    return fresh(served["lagerkoll"])


def products_named(api, name: str) -> list[dict]:
    return [p for p in api.admin.state()["product"] if p["name"] == name]


def statuses(api, count: int, path: str = "/v1/products", principal: str | None = None) -> list[int]:
    return [api.client.get(path, headers=api.auth_headers(principal)).status_code for _ in range(count)]


def add_fault_raw(api, spec) -> httpx.Response:
    return api.admin.http.post("/__mock/faults", json=spec)


# ------------------------------------------------------------------------------------- responses
def test_respond_by_status(shop):
    shop.admin.add_fault(operation="createProduct", respond=503)
    response = shop.client.post("/v1/products", headers=shop.auth_headers(), json=PRODUCT)
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "unavailable"
    assert response.json()["error"]["type"] == "api_error"
    assert int(response.headers["Retry-After"]) >= 1
    assert products_named(shop, PRODUCT["name"]) == []
    entry = shop.admin.journal(operation="createProduct")[-1]
    assert entry["status"] == 503 and entry["fault"]["respond"] == {"status": 503}


def test_respond_by_lagerkoll_vendor_code(lagerkoll_served):
    lagerkoll = lagerkoll_served
    lagerkoll.admin.add_fault(operation="listFeatures", respond="900101")
    response = lagerkoll.client.get("/v1/feature/", headers=lagerkoll.auth_headers())
    assert response.status_code == 400
    assert response.json() == {"errorCode": 900101, "errorMessage": "Common error", "errorField": None,
                               "errorData": None}
    stores = lagerkoll.client.get("/v1/stores/", headers=lagerkoll.auth_headers())
    assert stores.status_code == 200  # only the matched operation is affected


def test_respond_by_istockist_decline_code(shop):
    shop.admin.add_fault(operation="payOrder", respond="insufficient_funds", times=1)
    declined = shop.client.post(f"/v1/orders/{OPEN_ORDER}/pay", headers=shop.auth_headers(), json=SUCCESS_CARD)
    assert declined.status_code == 402
    assert declined.json()["error"]["code"] == "card_declined"
    assert declined.json()["error"]["decline_code"] == "insufficient_funds"
    order = shop.client.get(f"/v1/orders/{OPEN_ORDER}", headers=shop.auth_headers()).json()
    assert order["status"] == "open"
    paid = shop.client.post(f"/v1/orders/{OPEN_ORDER}/pay", headers=shop.auth_headers(), json=SUCCESS_CARD)
    assert paid.status_code == 200 and paid.json()["status"] == "paid"


def test_respond_with_retry_after_and_message(shop):
    shop.admin.add_fault(operation="listProducts", respond={"status": 429, "message": "slow down, probe"},
                         retry_after=7)
    response = shop.client.get("/v1/products", headers=shop.auth_headers())
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "7"
    assert response.json()["error"]["message"] == "slow down, probe"
    assert response.json()["error"]["type"] == "rate_limit_error"


# --------------------------------------------------------------------------------- latency, drops
def test_latency_delays_the_response(shop):
    shop.admin.add_fault(operation="listProducts", latency=0.4, times=1)
    started = time.perf_counter()
    response = shop.client.get("/v1/products", headers=shop.auth_headers())
    elapsed = time.perf_counter() - started
    assert response.status_code == 200
    assert elapsed >= 0.4
    assert shop.client.get("/v1/products", headers=shop.auth_headers()).status_code == 200
    delayed, prompt = shop.admin.journal(operation="listProducts")
    assert delayed["duration_ms"] >= 400 and delayed["fault"]["latency"] == 0.4
    assert prompt["duration_ms"] < 400 and prompt["fault"] is None  # times=1: only the first was delayed


def test_a_request_keeps_its_one_clock_reading_while_a_latency_holds_it(shop):
    """Every mock-clock time of one request is on the reading it arrived with: a clock moved during a
    fault's latency shows from the next request on."""
    shop.admin.clock(freeze=True, set=1_900_000_000)
    shop.admin.add_fault(operation="createCustomer", latency=2.0, times=1)
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = pool.submit(shop.client.post, "/v1/customers", json={"name": "Held Deli"},
                              headers=shop.auth_headers())
        deadline = time.monotonic() + 10
        while not any(f["fired"] for f in shop.admin.faults()):  # struck: the request is in its latency
            assert time.monotonic() < deadline and not pending.done()
            time.sleep(0.01)
        shop.admin.advance(3600)
        held = pending.result()
    assert held.status_code == 200 and held.json()["created"] == 1_900_000_000
    entry = shop.admin.journal(operation="createCustomer")[-1]
    assert entry["arrived"] == entry["time"] == 1_900_000_000
    later = shop.client.post("/v1/customers", json={"name": "Later Deli"}, headers=shop.auth_headers())
    assert later.json()["created"] == 1_900_003_600
    assert shop.admin.journal(operation="createCustomer")[-1]["time"] == 1_900_003_600


def test_latency_then_respond(shop):
    shop.admin.add_fault(operation="listProducts", latency=0.3, respond=504, times=1)
    started = time.perf_counter()
    response = shop.client.get("/v1/products", headers=shop.auth_headers())
    assert time.perf_counter() - started >= 0.3
    assert response.status_code == 504 and response.json()["error"]["code"] == "gateway_timeout"


def test_drop_before_responding_stores_nothing(shop):
    shop.admin.add_fault(operation="createProduct", drop="before", times=1)
    with pytest.raises(httpx.TransportError):
        shop.client.post("/v1/products", headers=shop.auth_headers(), json=PRODUCT)
    assert products_named(shop, PRODUCT["name"]) == []
    entry = shop.admin.journal(operation="createProduct")[-1]
    assert entry["dropped"] is True and entry["status"] is None
    again = shop.client.post("/v1/products", headers=shop.auth_headers(), json=PRODUCT)
    assert again.status_code == 200
    assert len(products_named(shop, PRODUCT["name"])) == 1


def test_commit_then_drop_leaves_exactly_one_effect(shop):
    shop.admin.add_fault(operation="createOrder", drop="after", times=1)
    key, marker = str(uuid.uuid4()), f"committed-{uuid.uuid4()}"
    body = {"customer": "c1000000-0000-4000-8000-000000000001", "currency": "nzd", "notes": marker,
            "line_items": [{"description": "Beans", "quantity": 1, "unit_amount": 100}]}
    headers = {**shop.auth_headers(), "Idempotency-Key": key}
    with pytest.raises(httpx.TransportError):
        shop.client.post("/v1/orders", headers=headers, json=body)
    committed = [o for o in shop.admin.state()["order"] if o["notes"] == marker]
    assert len(committed) == 1
    retry = shop.client.post("/v1/orders", headers=headers, json=body)  # the client's safe retry
    assert retry.status_code == 200
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert retry.json()["id"] == committed[0]["id"]
    assert len([o for o in shop.admin.state()["order"] if o["notes"] == marker]) == 1


# --------------------------------------------------------------------------------- firing rules
def test_times_fires_n_times_then_stops(shop):
    fault = shop.admin.add_fault(operation="listProducts", respond=500, times=2)
    assert statuses(shop, 4) == [500, 500, 200, 200]
    listed = {f["id"]: f for f in shop.admin.http.get("/__mock/faults").json()["faults"]}
    assert listed[fault["id"]]["fired"] == 2


def test_after_lets_n_matching_requests_through_first(shop):
    shop.admin.add_fault(operation="listProducts", respond=502, after=2, times=1)
    shop.client.get("/v1/stores", headers=shop.auth_headers())  # not matching: does not count
    assert statuses(shop, 4) == [200, 200, 502, 200]


def test_probability_with_a_seed_is_deterministic(shop):
    def pattern(seed: int) -> list[int]:
        shop.admin.clear_faults()
        shop.admin.add_fault(operation="listProducts", respond=503, probability=0.5, seed=seed)
        return statuses(shop, 10)

    first, again, other = pattern(42), pattern(42), pattern(7)
    assert first == again
    assert set(first) == {200, 503}
    assert other != first


def test_probability_zero_never_fires_and_one_always_does(shop):
    shop.admin.add_fault(operation="listProducts", respond=503, probability=0.0)
    assert statuses(shop, 5) == [200] * 5
    shop.admin.clear_faults()
    shop.admin.add_fault(operation="listProducts", respond=503, probability=1.0)
    assert statuses(shop, 3) == [503] * 3


# -------------------------------------------------------------------------------------- matchers
def test_match_by_operation(shop):
    shop.admin.add_fault(operation="getProduct", respond=500)
    assert shop.client.get("/v1/products", headers=shop.auth_headers()).status_code == 200
    product = "d1000000-0000-4000-8000-000000000001"
    assert shop.client.get(f"/v1/products/{product}", headers=shop.auth_headers()).status_code == 500


def test_match_by_method(shop):
    shop.admin.add_fault(method="POST", respond=503)
    assert shop.client.get("/v1/customers", headers=shop.auth_headers()).status_code == 200
    assert shop.client.post("/v1/customers", headers=shop.auth_headers(), json={"name": "X"}).status_code == 503
    assert shop.client.post("/v1/products", headers=shop.auth_headers(), json=PRODUCT).status_code == 503


def test_match_by_path_glob(shop):
    shop.admin.add_fault(path="/v1/customers*", respond=500)
    assert shop.client.get("/v1/customers", headers=shop.auth_headers()).status_code == 500
    customer = "c1000000-0000-4000-8000-000000000001"
    assert shop.client.get(f"/v1/customers/{customer}", headers=shop.auth_headers()).status_code == 500
    assert shop.client.get("/v1/products", headers=shop.auth_headers()).status_code == 200


def test_match_by_principal(shop):
    shop.admin.add_fault(principal="alpine-botanicals", respond=503)
    assert statuses(shop, 1, principal="alpine-botanicals") == [503]
    assert statuses(shop, 1, principal="kauri-roasters") == [200]
    assert statuses(shop, 1, principal="harbourside-homewares") == [200]


def test_clearing_one_fault(shop):
    kept = shop.admin.add_fault(operation="listStores", respond=500)
    dropped = shop.admin.add_fault(operation="listProducts", respond=500)
    assert shop.admin.http.delete(f"/__mock/faults/{dropped['id']}").status_code == 200
    assert [f["id"] for f in shop.admin.http.get("/__mock/faults").json()["faults"]] == [kept["id"]]
    assert statuses(shop, 1) == [200]
    assert statuses(shop, 1, path="/v1/stores") == [500]
    shop.admin.clear_faults()
    assert statuses(shop, 1, path="/v1/stores") == [200]


# ---------------------------------------------------------------------------------------- Prefer
def test_prefer_code_picks_a_declared_status(shop):
    response = shop.client.get("/v1/products", headers={**shop.auth_headers(), "Prefer": "code=503"})
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "unavailable"
    assert shop.client.get("/v1/products", headers=shop.auth_headers()).status_code == 200


def test_prefer_example_picks_a_named_example(shop):
    response = shop.client.post(f"/v1/orders/{OPEN_ORDER}/pay", json=SUCCESS_CARD,
                                headers={**shop.auth_headers(), "Prefer": "code=402, example=expired_card"})
    assert response.status_code == 402
    assert response.json()["error"]["code"] == "expired_card"
    assert response.json()["error"]["decline_code"] == "expired_card"
    order = shop.client.get(f"/v1/orders/{OPEN_ORDER}", headers=shop.auth_headers()).json()
    assert order["status"] == "open"


def test_prefer_example_of_the_success_response(shop):
    contract = shop.admin.http.get("/__mock/openapi.json").json()
    example = contract["paths"]["/v1/orders"]["post"]["responses"]["200"]["content"]["application/json"][
        "examples"]["created"]["value"]
    response = shop.client.post("/v1/orders", headers={**shop.auth_headers(), "Prefer": "example=created"},
                                json={"customer": "c1000000-0000-4000-8000-000000000001", "currency": "nzd",
                                      "line_items": [{"description": "x", "quantity": 1, "unit_amount": 1}]})
    assert response.status_code == 200
    assert response.json() == example


def test_prefer_unknown_example_is_an_error_not_a_crash(shop):
    response = shop.client.get("/v1/products", headers={**shop.auth_headers(), "Prefer": "example=no-such-example"})
    assert response.status_code == 400
    assert "no-such-example" in response.json()["error"]["message"]


# ------------------------------------------------------------------------------------ bad faults
@pytest.mark.parametrize("spec,words", [
    ({"operation": "listProducts", "respond": 503, "bogus": 1}, ["unknown", "bogus"]),
    ({"operation": "listProducts", "respond": "no_such_code"}, ["no_such_code"]),
    ({"operation": "noSuchOperation", "respond": 503}, ["noSuchOperation"]),
    ({"operation": "listProducts", "drop": "sideways"}, ["drop"]),
    ({"operation": "listProducts", "respond": 503, "probability": 2}, ["probability"]),
    ({"operation": "listProducts"}, ["respond", "latency", "drop"]),
    ({"operation": "listProducts", "respond": 503, "times": "often"}, ["often"]),
], ids=["unknown-field", "unknown-code", "unknown-operation", "bad-drop", "bad-probability", "no-effect",
        "bad-times"])
def test_bad_fault_is_400_with_a_clear_message(shop, spec, words):
    response = add_fault_raw(shop, spec)
    assert response.status_code == 400
    message = response.json()["error"]
    for word in words:
        assert word in message, (word, message)
    assert shop.admin.http.get("/__mock/faults").json()["faults"] == []


def test_fault_with_an_undeclared_status_is_refused(shop):
    response = add_fault_raw(shop, {"operation": "listProducts", "respond": 599})
    assert response.status_code == 400
    assert "599" in response.json()["error"]
