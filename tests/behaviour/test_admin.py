"""The /__mock/ admin API over HTTP: info, reset/seed/state, journal, contract, clock, limits, scenarios,
and its protection (admin token, refusal of an open admin API on a non-loopback host, switching it off)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import httpx
import pytest
import yaml

from mocks.control import auth_headers
from mocks.engine import Api
from mocks.fixtures import load_fixtures
from mocks.registry import load_contract
from mocks.server import Sandbox
from mocks.state import open_store


def _load_yaml(text: str):
    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


ROOT = Path(__file__).resolve().parents[2]
PRODUCT = {"name": "Admin probe", "unit_amount": 100, "currency": "nzd"}
BURST = "konducter-cloud-5xx-burst"
SITE = "00000000-0000-0000-0000-000000000000"


def basic_from(scheme_value: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(scheme_value.encode()).decode()}


# ------------------------------------------------------------------------------------------ info
def test_info_names_the_api_and_its_credentials_per_tenant(istockist):
    info = istockist.admin.info()
    assert info["api"] == "istockist"
    assert info["base_urls"] == {"api": "http://mock.test"}
    fixture = _load_yaml((ROOT / "fixtures" / "istockist" / "sandbox.yaml").read_text())
    assert {t["scope"] for t in info["tenants"]} == {t["scope"] for t in fixture["tenants"]}
    assert {c["principal"] for c in info["credentials"]} == {c["principal"] for c in fixture["credentials"]}
    for tenant in info["tenants"]:
        assert any(tenant["scope"] in c["scopes"] for c in info["credentials"]), tenant
    for credential in info["credentials"]:  # every published credential really works
        response = istockist.client.get("/v1/products", headers=basic_from(credential["schemes"]["BasicAuth"]))
        assert response.status_code == 200, credential["principal"]


def test_info_publishes_oauth_grants(plggr):
    credentials = plggr.admin.info()["credentials"]
    assert all("grant" in c for c in credentials)
    grant = credentials[0]["grant"]
    token = plggr.client.post("/oauth/token", json={**grant, "audience": "https://api.plggr.net",
                                                     "grant_type": "client_credentials"})
    assert token.status_code == 200


def test_info_lists_every_listener_on_real_ports(mock_server):
    konducter = mock_server("konducter")
    urls = konducter.admin.info()["base_urls"]
    assert set(urls) == {"cloud", "local"}
    assert urls["cloud"] != urls["local"]
    headers = konducter.auth_headers("documentation-public")
    local = httpx.get(f"{urls['local']}/orders", headers=headers, timeout=10)
    cloud = httpx.get(f"{urls['cloud']}/sites/{SITE}/orders", headers=headers, timeout=10)
    assert (local.status_code, cloud.status_code) == (200, 200)


def test_unknown_admin_route_is_404_listing_the_routes(istockist):
    response = istockist.admin.http.get("/__mock/nothing-here")
    assert response.status_code == 404
    assert "GET /info" in response.json()["routes"]


# ---------------------------------------------------------------------------- reset, seed, state
def test_state_shows_what_the_api_stored(istockist):
    created = istockist.client.post("/v1/products", headers=istockist.auth_headers(), json=PRODUCT).json()
    stored = next(p for p in istockist.admin.state()["product"] if p["id"] == created["id"])
    assert stored["name"] == PRODUCT["name"]
    assert stored["scope"] == "11111111-aaaa-4aaa-8aaa-000000000001"


def test_reset_restores_the_fixtures(istockist):
    seeded = {p["id"] for p in istockist.admin.state()["product"]}
    istockist.client.post("/v1/products", headers=istockist.auth_headers(), json=PRODUCT)
    istockist.client.delete("/v1/products/d1000000-0000-4000-8000-000000000001", headers=istockist.auth_headers())
    istockist.admin.add_fault(operation="listStores", respond=500)
    response = istockist.admin.http.post("/__mock/reset")
    assert response.status_code == 200 and response.json()["seeded"] is True
    assert {p["id"] for p in istockist.admin.state()["product"]} == seeded
    assert istockist.admin.journal() == []
    assert istockist.admin.http.get("/__mock/faults").json()["faults"] == []
    assert istockist.client.get("/v1/stores", headers=istockist.auth_headers()).status_code == 200


def test_reset_without_seed_then_seed(istockist):
    istockist.admin.reset(seed=False)
    assert all(not records for records in istockist.admin.state().values())
    empty = istockist.client.get("/v1/products", headers=istockist.auth_headers())
    assert empty.status_code == 200 and empty.json()["data"] == []
    seeded = istockist.admin.http.post("/__mock/seed")
    assert seeded.status_code == 200 and seeded.json()["resources"]["product"] == 7
    assert len(istockist.client.get("/v1/products", headers=istockist.auth_headers()).json()["data"]) == 3


# --------------------------------------------------------------------------------------- journal
def test_journal_records_and_filters(istockist):
    client = istockist.client
    client.get("/v1/products", headers=istockist.auth_headers("kauri-roasters"))
    client.get("/v1/products", headers=istockist.auth_headers("alpine-botanicals"))
    client.get("/v1/products")  # 401, no principal
    client.post("/v1/products", headers=istockist.auth_headers("alpine-botanicals"), json=PRODUCT | {"currency": "gbp"})
    client.get("/v1/orders/a1000000-0000-4000-8000-000000000009", headers=istockist.auth_headers())  # 404

    everything = istockist.admin.journal()
    assert [(e["method"], e["path"], e["status"]) for e in everything] == [
        ("GET", "/v1/products", 200), ("GET", "/v1/products", 200), ("GET", "/v1/products", 401),
        ("POST", "/v1/products", 200), ("GET", "/v1/orders/a1000000-0000-4000-8000-000000000009", 404)]
    assert [e["seq"] for e in everything] == sorted(e["seq"] for e in everything)

    by_operation = istockist.admin.journal(operation="listProducts")
    assert [e["status"] for e in by_operation] == [200, 200, 401]
    assert [e["principal"] for e in istockist.admin.journal(status=401)] == [None]
    alpine = istockist.admin.journal(principal="alpine-botanicals")
    assert [e["operation"] for e in alpine] == ["listProducts", "createProduct"]
    assert json.loads(alpine[1]["request_body"])["name"] == PRODUCT["name"]
    both = istockist.admin.journal(principal="alpine-botanicals", status=200, operation="createProduct")
    assert len(both) == 1
    assert [e["status"] for e in istockist.admin.journal(limit=2)] == [200, 404]
    assert istockist.admin.journal(since=everything[3]["seq"])[0]["status"] == 404
    assert istockist.admin.http.get("/__mock/journal", params={"status": "ok"}).status_code == 400

    assert istockist.admin.http.delete("/__mock/journal").status_code == 200
    assert istockist.admin.journal() == []


def test_journal_is_a_ring_buffer(mock_api, mocks_store, store_namespace):
    # The bound is a constructor setting (default 2000); a small one keeps the test fast.
    store = open_store(mocks_store, namespace=store_namespace, api="istockist")
    api = Api(load_contract("istockist"), load_fixtures("istockist"), store, journal_size=5)
    handle = mock_api("istockist", api=api)
    for n in range(8):
        handle.client.get("/v1/products", headers=handle.auth_headers(), params={"limit": n + 1})
    entries = handle.admin.journal()
    assert len(entries) == 5
    assert [e["query"]["limit"] for e in entries] == [[str(n)] for n in range(4, 9)]
    assert [e["seq"] for e in entries] == list(range(4, 9))


# ------------------------------------------------------------------------------------------ contract
@pytest.mark.parametrize("name", ["istockist", "pingnetwork"])
def test_openapi_json_is_the_contract(mock_api, name):
    handle = mock_api(name)
    served = handle.admin.http.get("/__mock/openapi.json")
    assert served.status_code == 200
    assert served.headers["content-type"].startswith("application/json")
    expected = json.loads(json.dumps(_load_yaml((ROOT / "contracts" / f"{name}.yaml").read_text())))
    assert served.json() == expected


# ------------------------------------------------------------------------------------------- clock
def test_clock_read_freeze_set_advance(istockist):
    admin = istockist.admin
    now = admin.clock()
    assert now["frozen"] is False and isinstance(now["now"], float) and now["iso"].endswith("Z")
    frozen = admin.freeze()
    assert frozen["frozen"] is True
    assert admin.clock()["now"] == admin.clock()["now"] == frozen["now"]
    assert admin.clock(set=1_700_000_000)["now"] == 1_700_000_000
    assert admin.clock()["iso"] == "2023-11-14T22:13:20.000Z"
    assert admin.advance(90)["now"] == 1_700_000_090
    created = istockist.client.post("/v1/products", headers=istockist.auth_headers(), json=PRODUCT).json()
    assert created["created"] == 1_700_000_090
    entry = admin.journal(operation="createProduct")[-1]
    assert entry["time"] == 1_700_000_090
    thawed = admin.clock(freeze=False)
    assert thawed["frozen"] is False and thawed["now"] >= 1_700_000_090


def test_bad_clock_changes_are_400(istockist):
    before = istockist.admin.freeze()["now"]
    for body in ({"advance": -5}, {"warp": 10}, {"set": "yesterday"}, {}):
        response = istockist.admin.http.post("/__mock/clock", json=body)
        assert response.status_code == 400, body
        assert response.json()["error"]
        assert istockist.admin.clock()["now"] == before


# ------------------------------------------------------------------------------------------ limits
def test_limits_list_and_change_at_once(istockist):
    policies = istockist.admin.limits()
    assert [p["name"] for p in policies] == ["account-per-second"]
    assert (policies[0]["limit"], policies[0]["window"]) == (25, 1.0)
    istockist.admin.freeze()
    headers = istockist.auth_headers()
    assert istockist.client.get("/v1/products", headers=headers).headers["X-RateLimit-Limit"] == "25"

    changed = istockist.admin.set_limit("3/min", policy="account-per-second")
    assert (changed[0]["limit"], changed[0]["window"]) == (3, 60.0)
    assert istockist.admin.limits()[0]["limit"] == 3
    answers = [istockist.client.get("/v1/products", headers=headers) for _ in range(3)]
    assert [r.status_code for r in answers] == [200, 200, 429]  # the earlier request counts too
    assert answers[0].headers["X-RateLimit-Limit"] == "3"
    assert answers[2].json()["error"]["code"] == "rate_limited"
    assert int(answers[2].headers["Retry-After"]) == 60

    off = istockist.admin.http.post("/__mock/limits", json={"policy": "account-per-second", "enabled": False})
    assert off.status_code == 200 and off.json()["policies"][0]["enabled"] is False
    free = istockist.client.get("/v1/products", headers=headers)
    assert free.status_code == 200 and "x-ratelimit-limit" not in free.headers


def test_bad_limit_changes(istockist):
    for body, status in (({"rate": "3/min", "policy": "no-such-policy"}, 404), ({"rate": "fast"}, 400),
                         ({"policy": "account-per-second"}, 400)):
        response = istockist.admin.http.post("/__mock/limits", json=body)
        assert response.status_code == status, body
        assert response.json()["error"]
        assert istockist.admin.limits()[0]["limit"] == 25


# --------------------------------------------------------------------------------------- scenarios
def test_scenarios_are_listed_per_api(konducter, istockist):
    listed = konducter.admin.http.get("/__mock/scenarios").json()["scenarios"]
    assert BURST in {s["name"] for s in listed}
    assert all(s["api"] == "konducter" and s["summary"] for s in listed)
    others = istockist.admin.http.get("/__mock/scenarios").json()["scenarios"]
    assert all(s["api"] == "istockist" for s in others)


def test_loading_a_scenario_applies_its_faults(konducter):
    headers = konducter.auth_headers("documentation-public")
    assert konducter.client.get(f"/sites/{SITE}/orders", headers=headers).status_code == 200
    loaded = konducter.admin.http.post(f"/__mock/scenarios/{BURST}")
    assert loaded.status_code == 200
    assert loaded.json()["scenario"] == BURST
    codes = [konducter.client.get(f"/sites/{SITE}/orders", headers=headers).status_code for _ in range(4)]
    assert codes == [503, 503, 503, 200]


def test_unknown_or_foreign_scenarios_are_refused(istockist):
    unknown = istockist.admin.http.post("/__mock/scenarios/no-such-scenario")
    assert unknown.status_code == 404 and "no-such-scenario" in unknown.json()["error"]
    foreign = istockist.admin.http.post(f"/__mock/scenarios/{BURST}")
    assert foreign.status_code == 400 and "konducter" in foreign.json()["error"]
    assert istockist.admin.http.post("/__mock/scenarios/..%2Fetc").status_code in (400, 404)


# --------------------------------------------------------------------------------- admin protection
@pytest.fixture
def guarded():
    sandbox = Sandbox.create(["istockist"], ports={"istockist": 0}, admin_token="s3cret-admin-token")
    sandbox.start()
    try:
        yield sandbox.apis["istockist"]
    finally:
        sandbox.shutdown()


def test_admin_token_is_required(guarded):
    base = guarded.base_urls["api"]
    with httpx.Client(base_url=base, timeout=10) as client:
        missing = client.get("/__mock/info")
        assert missing.status_code == 401
        assert "Bearer" in missing.json()["error"]
        wrong = client.post("/__mock/reset", headers={"Authorization": "Bearer guess"})
        assert wrong.status_code == 401
        ok = client.get("/__mock/info", headers={"Authorization": "Bearer s3cret-admin-token"})
        assert ok.status_code == 200 and ok.json()["api"] == "istockist"
        api_call = client.get("/v1/products", headers=auth_headers(guarded))
        assert api_call.status_code == 200  # the token guards the admin API only


def test_admin_api_can_be_switched_off():
    sandbox = Sandbox.create(["istockist"], ports={"istockist": 0}, admin=False)
    sandbox.start()
    try:
        base = sandbox.apis["istockist"].base_urls["api"]
        response = httpx.get(f"{base}/__mock/info", timeout=10)
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "resource_missing"  # the API's own 404, no admin
    finally:
        sandbox.shutdown()


def test_open_admin_api_on_a_non_loopback_host_is_refused():
    sandbox = Sandbox.create(["istockist"], host="0.0.0.0", ports={"istockist": 0})
    try:
        with pytest.raises(ValueError, match="--admin-token"):
            sandbox.bind()
        assert sandbox.listeners == []  # nothing was opened
    finally:
        sandbox.close()


def test_events_lists_what_changed_in_order(konducter):
    site = "00000000-0000-0000-0000-000000000000"
    headers = konducter.auth_headers("documentation-public")
    created = konducter.client.post(f"/sites/{site}/orders", headers=headers, json={
        "externalId": "EVT-1", "channel": "online", "items": [{"name": "Fries", "quantity": 1}]})
    assert created.status_code == 201, created.text
    order = created.json()["id"]
    moved = konducter.client.patch(f"/sites/{site}/orders/{order}", headers=headers, json={"status": "cancelled"})
    assert moved.status_code == 200, moved.text

    events = [e for e in konducter.admin.events() if e["data"]["id"] == order]
    assert [e["type"] for e in events] == ["order.created", "order.updated", "order.statusChanged", "order.cancelled"]
    assert {e["scope"] for e in events} == {site} and {e["principal"] for e in events} == {"documentation-public"}
    assert events[-1]["data"]["status"] == "cancelled"

    konducter.admin.reset()
    assert konducter.admin.events() == []
