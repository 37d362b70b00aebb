"""Plggr over HTTP: the OAuth token endpoint on the mock clock, tenant scoping, page lists, three limits."""

from __future__ import annotations

import threading

import httpx

ACME_NORDIC = "1a000000-0000-4000-8000-000000000001"
ACME_BENELUX = "1a000000-0000-4000-8000-000000000002"
BOREALIS_OY = "2b000000-0000-4000-8000-000000000001"
GRANT = {"client_id": "sandbox-acme-client-id", "client_secret": "sandbox-acme-client-secret",
         "audience": "https://api.plggr.net", "grant_type": "client_credentials"}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def get_token(client: httpx.Client, **override) -> str:
    response = client.post("/oauth/token", json={**GRANT, **override})
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


# ---------------------------------------------------------------------------------------- tokens
def test_token_endpoint_issues_bearer_tokens_from_json(plggr):
    response = plggr.client.post("/oauth/token", json=GRANT)
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 86400
    assert body["access_token"]
    companies = plggr.client.get("/companies", headers=bearer(body["access_token"]))
    assert companies.status_code == 200
    assert {c["id"] for c in companies.json()["data"]} == {ACME_NORDIC, ACME_BENELUX}


def test_token_endpoint_accepts_form_bodies(plggr):
    response = plggr.client.post("/oauth/token", data=GRANT)
    assert response.status_code == 200
    assert response.json()["expires_in"] == 86400
    listed = plggr.client.get(f"/companies/{ACME_NORDIC}/products", headers=bearer(response.json()["access_token"]))
    assert listed.status_code == 200


def test_every_token_is_new(plggr):
    assert get_token(plggr.client) != get_token(plggr.client)


def test_token_is_valid_86400_seconds_on_the_mock_clock(plggr):
    plggr.admin.freeze()
    token = get_token(plggr.client)
    plggr.admin.advance(86399)
    assert plggr.client.get("/companies", headers=bearer(token)).status_code == 200
    plggr.admin.advance(2)
    expired = plggr.client.get("/companies", headers=bearer(token))
    assert expired.status_code == 401
    assert expired.json()["error"] == "unauthorized"
    assert expired.json()["message"]
    assert plggr.client.get("/companies", headers=bearer(get_token(plggr.client))).status_code == 200


def test_wrong_client_credentials_are_401_in_auth0_shape(plggr):
    for override in ({"client_secret": "wrong-secret"}, {"client_id": "no-such-client"},
                     {"client_id": "sandbox-borealis-client-id"}):  # another client's id with Acme's secret
        response = plggr.client.post("/oauth/token", json={**GRANT, **override})
        assert response.status_code == 401, override
        assert response.json() == {"error": "access_denied", "error_description": "Unauthorized"}


def test_a_token_request_missing_a_field_is_400_in_auth0_shape(plggr):
    response = plggr.client.post("/oauth/token", json={k: v for k, v in GRANT.items() if k != "client_secret"})
    assert response.status_code == 400
    body = response.json()
    assert set(body) == {"error", "error_description"}
    assert body["error"] == "invalid_request"


def test_unknown_or_missing_token_is_401_in_hub_shape(plggr):
    for headers in ({}, bearer("not-a-token"), {"Authorization": "sandbox-token-acme"}):
        response = plggr.client.get("/companies", headers=headers)
        assert response.status_code == 401, headers
        body = response.json()
        assert set(body) == {"error", "message"}
        assert body["error"] == "unauthorized"


def test_another_tenants_company_is_403(plggr):
    headers = plggr.auth_headers("acme-integration")
    for path in (f"/companies/{BOREALIS_OY}", f"/companies/{BOREALIS_OY}/products",
                 f"/companies/{BOREALIS_OY}/orders/2b0000ee-0000-4000-8000-000000000001"):
        response = plggr.client.get(path, headers=headers)
        assert response.status_code == 403, path
        assert response.json()["error"] == "forbidden"
    created = plggr.client.post(f"/companies/{BOREALIS_OY}/customers", headers=headers, json={"name": "Intruder"})
    assert created.status_code == 403
    names = [c["name"] for c in plggr.admin.state()["customer"]]
    assert "Intruder" not in names


def test_an_unknown_company_is_403_not_404(plggr):
    response = plggr.client.get("/companies/9f000000-0000-4000-8000-000000000009/products",
                                headers=plggr.auth_headers())
    assert response.status_code == 403
    assert response.json()["error"] == "forbidden"


def test_a_token_from_the_endpoint_is_scoped_to_its_tenant(plggr):
    token = get_token(plggr.client, client_id="sandbox-borealis-client-id",
                      client_secret="sandbox-borealis-client-secret")
    assert plggr.client.get(f"/companies/{BOREALIS_OY}/products", headers=bearer(token)).status_code == 200
    assert plggr.client.get(f"/companies/{ACME_NORDIC}/products", headers=bearer(token)).status_code == 403


# ----------------------------------------------------------------------------------------- pages
def test_page_based_lists(plggr):
    headers = plggr.auth_headers()
    for n in range(5):
        response = plggr.client.post(f"/companies/{ACME_NORDIC}/customers", headers=headers,
                                     json={"name": f"Customer {n}"})
        assert response.status_code == 201
    total = 2 + 5
    pages = [plggr.client.get(f"/companies/{ACME_NORDIC}/customers", headers=headers,
                              params={"page": n, "pageSize": 3}).json() for n in (1, 2, 3, 4)]
    assert [len(p["data"]) for p in pages] == [3, 3, 1, 0]
    assert [p["page"] for p in pages] == [1, 2, 3, 4]
    assert all(p["pageSize"] == 3 and p["total"] == total for p in pages)
    assert [p["hasMore"] for p in pages] == [True, True, False, False]
    ids = [c["id"] for p in pages for c in p["data"]]
    assert len(ids) == len(set(ids)) == total
    default = plggr.client.get(f"/companies/{ACME_NORDIC}/customers", headers=headers).json()
    assert (default["page"], default["pageSize"], len(default["data"])) == (1, 25, total)


def test_bad_page_parameters_are_400(plggr):
    for params in ({"page": 0}, {"pageSize": 0}, {"pageSize": 101}, {"page": "x"}):
        response = plggr.client.get(f"/companies/{ACME_NORDIC}/products", headers=plggr.auth_headers(),
                                    params=params)
        assert response.status_code == 400, params
        assert response.json()["error"] == "invalid_request"


def test_companies_list_only_the_tenants_own(plggr):
    response = plggr.client.get("/companies", headers=plggr.auth_headers("cobalt-integration"))
    assert response.status_code == 200
    assert {c["tenantId"] for c in response.json()["data"]} == {"33333333-3333-4333-8333-333333333333"}
    assert response.json()["total"] == 2


# ---------------------------------------------------------------------------------------- limits
def _policies(plggr) -> dict[str, dict]:
    return {p["name"]: p for p in plggr.admin.limits()}


def test_three_limit_policies_are_listed(plggr):
    policies = _policies(plggr)
    assert {p["algorithm"] for p in policies.values()} == {"sliding", "fixed", "concurrency"}
    assert len({p["error"] for p in policies.values()}) == 3


def _hit_limit(plggr, policy: str, rate: str) -> httpx.Response:
    plggr.admin.freeze()
    plggr.admin.set_limit(rate, policy=policy)
    headers = plggr.auth_headers()
    for _ in range(2):
        assert plggr.client.get("/companies", headers=headers).status_code == 200
    response = plggr.client.get("/companies", headers=headers)
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) >= 1
    return response


def test_request_window_limit(plggr):
    name = next(n for n, p in _policies(plggr).items() if p["algorithm"] == "sliding")
    response = _hit_limit(plggr, name, "2/min")
    assert response.json()["error"] == "too_many_requests"
    assert response.headers["X-RateLimit-Limit"] == "2"
    assert response.headers["X-RateLimit-Remaining"] == "0"
    assert int(response.headers["Retry-After"]) == 60
    plggr.admin.advance(60)
    assert plggr.client.get("/companies", headers=plggr.auth_headers()).status_code == 200


def test_daily_quota(plggr):
    name = next(n for n, p in _policies(plggr).items() if p["algorithm"] == "fixed")
    response = _hit_limit(plggr, name, "2/day")
    assert response.json()["error"] == "quota_exceeded"
    assert response.headers["X-Quota-Limit"] == "2"
    assert response.headers["X-Quota-Remaining"] == "0"
    # the quota belongs to the tenant: a fresh token of the same client does not reset it
    fresh = plggr.client.get("/companies", headers=bearer(get_token(plggr.client)))
    assert fresh.status_code == 429 and fresh.json()["error"] == "quota_exceeded"
    other_tenant = plggr.client.get("/companies", headers=plggr.auth_headers("borealis-integration"))
    assert other_tenant.status_code == 200


def _crowd(plggr, *during: tuple[str, str]) -> tuple[httpx.Response | Exception, list[httpx.Response]]:
    """One slow request of Acme's client (a 0.6 s latency fault) and, while it runs, the `during`
    requests ((principal, path) pairs), one after the other."""
    fault = plggr.admin.add_fault(operation="listCompanies", latency=0.6, times=1)
    slow: list = []

    def call() -> None:
        try:
            slow.append(plggr.client.get("/companies", headers=plggr.auth_headers("acme-integration")))
        except httpx.HTTPError as exc:
            slow.append(exc)

    thread = threading.Thread(target=call)
    thread.start()
    plggr.admin.wait_until_fired(fault["id"])  # the slow request now holds its concurrency slot
    answers = [plggr.client.get(path, headers=plggr.auth_headers(principal)) for principal, path in during]
    thread.join(10)
    return slow[0], answers


def test_concurrency_limit_on_a_real_port(mock_server):
    plggr = mock_server("plggr")
    name = next(n for n, p in _policies(plggr).items() if p["algorithm"] == "concurrency")
    plggr.admin.set_limit("1", policy=name)
    slow, (crowded, other_client) = _crowd(plggr, ("acme-integration", f"/companies/{ACME_NORDIC}/products"),
                                           ("borealis-integration", "/companies"))
    assert crowded.status_code == 429
    assert crowded.json()["error"] == "too_many_concurrent_requests"
    assert int(crowded.headers["Retry-After"]) >= 1
    assert other_client.status_code == 200  # the cap is per client
    assert isinstance(slow, httpx.Response) and slow.status_code == 200
    after = plggr.client.get("/companies", headers=plggr.auth_headers())
    assert after.status_code == 200  # the slot was released


def test_the_three_429s_have_distinct_errors_and_messages(mock_server):
    plggr = mock_server("plggr")
    policies = {p["algorithm"]: p["name"] for p in plggr.admin.limits()}
    headers = plggr.auth_headers()
    bodies = {}

    plggr.admin.set_limit("1", policy=policies["concurrency"])
    slow, (crowded,) = _crowd(plggr, ("acme-integration", "/companies"))
    assert isinstance(slow, httpx.Response) and slow.status_code == 200
    assert crowded.status_code == 429
    bodies["concurrency"] = crowded.json()
    plggr.admin.set_limit("5", policy=policies["concurrency"])

    plggr.admin.reset()
    plggr.admin.set_limit("1/min", policy=policies["sliding"])
    assert plggr.client.get("/companies", headers=headers).status_code == 200
    bodies["window"] = plggr.client.get("/companies", headers=headers).json()
    plggr.admin.set_limit("120/min", policy=policies["sliding"])

    plggr.admin.reset()
    plggr.admin.set_limit("1/day", policy=policies["fixed"])
    assert plggr.client.get("/companies", headers=headers).status_code == 200
    bodies["quota"] = plggr.client.get("/companies", headers=headers).json()

    assert {b["error"] for b in bodies.values()} == {
        "too_many_concurrent_requests", "too_many_requests", "quota_exceeded"}
    assert len({b["message"] for b in bodies.values()}) == 3


def test_limit_headers_count_down_exactly(plggr):
    plggr.admin.freeze()
    headers = plggr.auth_headers()
    seen = [plggr.client.get("/companies", headers=headers).headers for _ in range(3)]
    assert [h["X-RateLimit-Remaining"] for h in seen] == ["119", "118", "117"]
    assert [h["X-Quota-Remaining"] for h in seen] == ["9999", "9998", "9997"]
    assert all(h["X-RateLimit-Reset"] == "60" for h in seen)
    plggr.admin.advance(20)
    later = plggr.client.get("/companies", headers=headers).headers
    assert later["X-RateLimit-Reset"] == "40"
    assert later["X-RateLimit-Remaining"] == "116"


def test_token_requests_are_not_counted(plggr):
    plggr.admin.freeze()
    plggr.admin.set_limit("1/min", policy="requests-per-minute")
    for _ in range(3):
        assert plggr.client.post("/oauth/token", json=GRANT).status_code == 200
    assert plggr.client.get("/companies", headers=plggr.auth_headers()).status_code == 200
