"""`Prefer: code=... / example=...` picks a declared response only after authentication, rate limits,
validation and the tenant scope have passed, and is journaled as `preferred`, not as a fault
(issue 9, item 4). Over HTTP to a real `mocks serve istockist`.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from securitykit import JSON, admin_client, istockist_headers
from servekit import Served, end, start_serve

OTHER_TENANTS_PRODUCT = "d2000000-0000-4000-8000-000000000001"  # Harbourside's; the caller is Kauri
OWN_PRODUCT = "d1000000-0000-4000-8000-000000000001"
PREFERENCES = ["code=200", "code=503", "example=no-such-example", "code=402, example=expired_card"]


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Served]:
    served = start_serve("istockist", "--port", "istockist=0", "--limit", "istockist=100000/s")
    yield served
    end(served)


@pytest.fixture
def client(sandbox) -> Iterator[httpx.Client]:
    with sandbox.client("istockist", checked=False) as client:
        yield client


def both(client: httpx.Client, prefer: str, method: str, path: str, **options) -> tuple[httpx.Response, ...]:
    plain = client.request(method, path, **options)
    headers = {**options.pop("headers", {}), "Prefer": prefer}
    return plain, client.request(method, path, headers=headers, **options)


@pytest.mark.parametrize("prefer", PREFERENCES)
def test_without_credentials_prefer_gets_the_same_401(client, prefer):
    plain, preferred = both(client, prefer, "GET", "/v1/products")
    assert plain.status_code == preferred.status_code == 401


@pytest.mark.parametrize("prefer", PREFERENCES)
def test_another_tenants_resource_is_not_revealed_by_prefer(sandbox, client, prefer):
    plain, preferred = both(client, prefer, "GET", f"/v1/products/{OTHER_TENANTS_PRODUCT}",
                            headers=istockist_headers(sandbox))
    assert plain.status_code == 404
    assert preferred.status_code == 404 and preferred.json() == plain.json()


@pytest.mark.parametrize("prefer", PREFERENCES)
def test_an_invalid_request_with_prefer_gets_its_400(sandbox, client, prefer):
    plain, preferred = both(client, prefer, "POST", "/v1/orders", headers=istockist_headers(sandbox),
                            json={"currency": 12})
    assert plain.status_code == preferred.status_code == 400
    assert preferred.json()["error"]["type"] == plain.json()["error"]["type"]


def test_a_rate_limited_request_with_prefer_gets_its_429(sandbox, client):
    with admin_client(sandbox, "istockist") as admin:
        assert admin.post("/__mock/limits", json={"rate": "1/min"}).status_code == 200
        try:
            headers = {**istockist_headers(sandbox, "alpine-botanicals"), "Prefer": "code=200"}
            assert client.get("/v1/products", headers=headers).status_code == 200
            assert client.get("/v1/products", headers=headers).status_code == 429
        finally:
            admin.post("/__mock/reset", headers=JSON)


def test_a_valid_request_gets_the_preferred_response_journaled_as_preferred_not_as_a_fault(sandbox, client):
    response = client.get(f"/v1/products/{OWN_PRODUCT}", headers={**istockist_headers(sandbox), "Prefer": "code=503"})
    assert response.status_code == 503 and response.json()["error"]["code"] == "unavailable"
    with admin_client(sandbox, "istockist") as admin:
        entry = admin.get("/__mock/journal", params={"limit": 1}).json()["entries"][0]
    assert entry["status"] == 503
    assert entry["fault"] is None
    assert entry["preferred"] == {"status": 503}
