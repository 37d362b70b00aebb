"""Konducter over HTTP: bare-status errors, orders on the cloud and local views of one state,
rate-limit headers, the forward-only order lifecycle, incoming webhooks and the subscription.

Every response goes through the `konducter` fixture's client, which checks it against the contract.
"""

from __future__ import annotations

import uuid

import pytest

DOC_SITE = "00000000-0000-0000-0000-000000000000"          # documentation-public's default site
HARBOUR_SITE = "5a000000-0000-4000-8000-000000000001"      # documentation-public and courier-public
NORTHWIND_SITE = "5a000000-0000-4000-8000-000000000002"    # northwind-private's default site
NORTHWIND_AIRPORT = "5a000000-0000-4000-8000-000000000003"
DOC_BRAND = "00000000-0000-0000-0000-000000000000"
HARBOUR_BRAND = "b1000000-0000-4000-8000-000000000001"
NORTHWIND_BRAND = "b1000000-0000-4000-8000-000000000002"
DOC_APP = "00000000-0000-0000-0000-000000000000"
NORTHWIND_APP = "a1000000-0000-4000-8000-000000000001"
COURIER_APP = "a1000000-0000-4000-8000-000000000002"
SEEDED_DOC_ORDER = "00000000-0000-0000-0000-000000000000"  # inProgress, site DOC_SITE
SEEDED_HARBOUR_ORDER = "0d000000-0000-4000-8000-000000000011"
SEEDED_NORTHWIND_ORDER = "0d000000-0000-4000-8000-000000000021"

RATE_HEADERS = ("x-ratelimit-limit-second", "x-ratelimit-remaining-second",
                "x-ratelimit-limit-minute", "x-ratelimit-remaining-minute")


def new_order_body(external_id: str = "POS-1", **extra) -> dict:
    return {"externalId": external_id, "channel": "inStore",
            "items": [{"name": "Classic Burger", "quantity": 2, "modifiers": ["No onions"]}], **extra}


def create_cloud_order(konducter, site: str = DOC_SITE, principal: str | None = None, **body) -> dict:
    response = konducter.client.post(f"/sites/{site}/orders", json=new_order_body(**body),
                                     headers=konducter.auth_headers(principal))
    assert response.status_code == 201, response.text
    return response.json()


def assert_bare(response, status: int) -> None:
    """Konducter errors are a status code only: no body and no content type."""
    assert response.status_code == status
    assert response.content == b""
    assert "content-type" not in response.headers


def set_rate_limits(handle, enabled: bool) -> None:
    """Switch every declared rate-limit policy on or off through the admin API."""
    for policy in handle.admin.limits():
        response = handle.admin.http.post("/__mock/limits", json={"policy": policy["name"], "enabled": enabled})
        assert response.status_code == 200, response.text


@pytest.fixture(autouse=True)
def _cloud_limits_off_unless_a_test_switches_them_on(konducter):
    """Tests here send more than 10 cloud requests a second; the rate-limit tests switch limits back on."""
    set_rate_limits(konducter, False)


@pytest.fixture
def local(konducter, mock_api):
    """The local listener (port 22288 in the sandbox) of the same Konducter state as `konducter`."""
    return mock_api("konducter", listener="local", api=konducter.api)


# ------------------------------------------------------------------------------- authentication

@pytest.mark.parametrize("headers", [
    {},
    {"AccessKey": "12345"},
    {"AccessSecret": "12345"},
    {"AccessKey": "12345", "AccessSecret": "wrong"},
    {"AccessKey": "wrong", "AccessSecret": "12345"},
    {"AccessKey": "12345", "AccessSecret": "nw-sandbox-access-secret-0001"},  # halves of two applications
    {"AccessKey": "", "AccessSecret": ""},
], ids=["none", "key-only", "secret-only", "wrong-secret", "wrong-key", "mixed-pair", "empty"])
def test_both_key_headers_are_needed_and_a_wrong_pair_is_a_bare_401(konducter, local, headers):
    for client, path in ((konducter.client, f"/sites/{DOC_SITE}/orders"), (local.client, "/orders")):
        assert_bare(client.get(path, headers=headers), 401)
    assert_bare(konducter.client.post(f"/sites/{DOC_SITE}/orders", json=new_order_body(), headers=headers), 401)
    assert konducter.client.get(f"/sites/{DOC_SITE}/orders", headers=konducter.auth_headers()).status_code == 200


def test_a_rejected_credential_creates_nothing(konducter):
    before = konducter.client.get(f"/sites/{DOC_SITE}/orders", headers=konducter.auth_headers()).json()["total"]
    bad = {"AccessKey": "12345", "AccessSecret": "nope"}
    assert_bare(konducter.client.post(f"/sites/{DOC_SITE}/orders", json=new_order_body(), headers=bad), 401)
    after = konducter.client.get(f"/sites/{DOC_SITE}/orders", headers=konducter.auth_headers()).json()["total"]
    assert after == before


@pytest.mark.parametrize("method, path", [
    ("GET", f"/sites/{NORTHWIND_SITE}"),
    ("GET", f"/sites/{NORTHWIND_SITE}/orders"),
    ("POST", f"/sites/{NORTHWIND_SITE}/orders"),
    ("GET", f"/sites/{NORTHWIND_SITE}/orders/{SEEDED_NORTHWIND_ORDER}"),
    ("PATCH", f"/sites/{NORTHWIND_SITE}/orders/{SEEDED_NORTHWIND_ORDER}"),
])
def test_another_applications_site_is_a_bare_403(konducter, method, path):
    body = new_order_body() if method == "POST" else {"status": "completed"} if method == "PATCH" else None
    response = konducter.client.request(method, path, json=body, headers=konducter.auth_headers("documentation-public"))
    assert_bare(response, 403)
    owner = konducter.auth_headers("northwind-private")
    order = konducter.client.get(f"/sites/{NORTHWIND_SITE}/orders/{SEEDED_NORTHWIND_ORDER}", headers=owner).json()
    assert order["status"] == "ready"  # the refused PATCH changed nothing


def test_unknown_order_is_a_bare_404(konducter, local):
    headers = konducter.auth_headers()
    unknown = str(uuid.uuid4())
    assert_bare(konducter.client.get(f"/sites/{DOC_SITE}/orders/{unknown}", headers=headers), 404)
    assert_bare(konducter.client.patch(f"/sites/{DOC_SITE}/orders/{unknown}", json={"status": "accepted"},
                                       headers=headers), 404)
    assert_bare(local.client.get(f"/orders/{unknown}", headers=headers), 404)


def test_an_order_is_found_only_under_its_own_site(konducter, local):
    """Both sites are the caller's, but a Harbour order does not exist under the Documentation site."""
    headers = konducter.auth_headers("documentation-public")
    harbour = konducter.client.get(f"/sites/{HARBOUR_SITE}/orders/{SEEDED_HARBOUR_ORDER}", headers=headers)
    assert harbour.status_code == 200
    assert_bare(konducter.client.get(f"/sites/{DOC_SITE}/orders/{SEEDED_HARBOUR_ORDER}", headers=headers), 404)
    assert_bare(local.client.get(f"/orders/{SEEDED_HARBOUR_ORDER}", headers=headers), 404)  # local = default site


def test_unknown_path_and_case_sensitive_paths_are_bare_404(konducter):
    headers = konducter.auth_headers()
    assert_bare(konducter.client.get("/nothing/here", headers=headers), 404)
    assert_bare(konducter.client.get(f"/Sites/{DOC_SITE}/orders", headers=headers), 404)


# ------------------------------------------------------------------------------- bad input

@pytest.mark.parametrize("body", [
    {"channel": "inStore", "items": [{"name": "x", "quantity": 1}]},                     # externalId missing
    {"externalId": "A", "channel": "inStore", "items": []},                               # no items
    {"externalId": "A", "channel": "inStore", "items": [{"name": "x", "quantity": 0}]},   # quantity 0
    {"externalId": "A", "channel": "drone", "items": [{"name": "x", "quantity": 1}]},     # unknown channel
    {"externalId": "A", "channel": "inStore", "items": [{"name": "x", "quantity": 1}], "status": "completed"},
    {"externalId": "", "channel": "inStore", "items": [{"name": "x", "quantity": 1}]},
    ["not", "an", "object"],
], ids=["no-externalId", "no-items", "quantity-0", "bad-channel", "extra-field", "empty-externalId", "array"])
def test_an_invalid_order_body_is_a_bare_400_and_creates_nothing(konducter, body):
    headers = konducter.auth_headers()
    before = konducter.client.get(f"/sites/{DOC_SITE}/orders", headers=headers).json()["total"]
    assert_bare(konducter.client.post(f"/sites/{DOC_SITE}/orders", json=body, headers=headers), 400)
    assert konducter.client.get(f"/sites/{DOC_SITE}/orders", headers=headers).json()["total"] == before


def test_the_local_view_changes_the_status_only(konducter, local):
    headers = konducter.auth_headers()
    path = f"/orders/{SEEDED_DOC_ORDER}"
    assert_bare(local.client.patch(path, json={"notes": "from the kitchen"}, headers=headers), 400)
    assert_bare(local.client.patch(path, json={"status": "ready", "notes": "x"}, headers=headers), 400)
    assert local.client.get(path, headers=headers).json()["status"] == "inProgress"


def test_unparseable_or_missing_bodies_and_bad_parameters_are_bare_400(konducter):
    headers = konducter.auth_headers()
    json_headers = {**headers, "Content-Type": "application/json"}
    assert_bare(konducter.client.post(f"/sites/{DOC_SITE}/orders", content=b"{not json", headers=json_headers), 400)
    assert_bare(konducter.client.post(f"/sites/{DOC_SITE}/orders", content=b"", headers=json_headers), 400)
    assert_bare(konducter.client.patch(f"/sites/{DOC_SITE}/orders/{SEEDED_DOC_ORDER}", json={},
                                       headers=headers), 400)  # minProperties: 1
    assert_bare(konducter.client.patch(f"/sites/{DOC_SITE}/orders/{SEEDED_DOC_ORDER}", json={"status": "done"},
                                       headers=headers), 400)
    assert_bare(konducter.client.get(f"/sites/{DOC_SITE}/orders/not-a-uuid", headers=headers), 400)
    assert_bare(konducter.client.get(f"/sites/{DOC_SITE}/orders", params={"pageSize": 0}, headers=headers), 400)
    assert_bare(konducter.client.get(f"/sites/{DOC_SITE}/orders", params={"status": "lost"}, headers=headers), 400)


@pytest.mark.parametrize("content_type", ["text/plain", "application/xml", "application/x-www-form-urlencoded"])
def test_a_body_that_is_not_json_is_a_bare_415(konducter, local, content_type):
    headers = {**konducter.auth_headers(), "Content-Type": content_type}
    assert_bare(konducter.client.post(f"/sites/{DOC_SITE}/orders", content=b"externalId=A", headers=headers), 415)
    assert_bare(local.client.post("/orders", content=b"externalId=A", headers=headers), 415)
    assert_bare(konducter.client.patch(f"/sites/{DOC_SITE}/orders/{SEEDED_DOC_ORDER}", content=b"status=ready",
                                       headers=headers), 415)


@pytest.mark.parametrize("listener, method, path, allowed", [
    ("cloud", "DELETE", f"/sites/{DOC_SITE}/orders/{SEEDED_DOC_ORDER}", {"GET", "PATCH"}),
    ("cloud", "PUT", f"/sites/{DOC_SITE}/orders", {"GET", "POST"}),
    ("cloud", "POST", f"/sites/{DOC_SITE}", {"GET"}),
    ("cloud", "DELETE", f"/applications/{DOC_APP}/subscription", {"GET", "PUT"}),
    ("local", "DELETE", "/orders", {"GET", "POST"}),
    ("local", "PUT", f"/orders/{SEEDED_DOC_ORDER}", {"GET", "PATCH"}),
])
def test_a_wrong_method_is_a_bare_405_with_allow(konducter, local, listener, method, path, allowed):
    client = konducter.client if listener == "cloud" else local.client
    response = client.request(method, path, headers=konducter.auth_headers())
    assert_bare(response, 405)
    implied = {"HEAD"} if "GET" in allowed else set()   # a resource that answers GET answers HEAD (RFC 9110)
    assert {m.strip() for m in response.headers["allow"].split(",")} == allowed | implied


# ------------------------------------------------------------------------------- orders (cloud)

def test_order_create_read_list_update_on_the_cloud(konducter):
    headers = konducter.auth_headers()
    konducter.admin.freeze()
    created = create_cloud_order(konducter, external_id="POS-777", notes="Table 9")
    uuid.UUID(created["id"])
    assert created["status"] == "new"
    assert created["siteId"] == DOC_SITE
    assert created["brandId"] == DOC_BRAND  # the site's brand
    assert created["externalId"] == "POS-777" and created["notes"] == "Table 9"
    assert created["items"] == [{"name": "Classic Burger", "quantity": 2, "modifiers": ["No onions"]}]
    assert created["createdAt"] == created["updatedAt"]

    read = konducter.client.get(f"/sites/{DOC_SITE}/orders/{created['id']}", headers=headers)
    assert read.status_code == 200 and read.json() == created

    listed = konducter.client.get(f"/sites/{DOC_SITE}/orders", params={"pageSize": 100}, headers=headers).json()
    assert created in listed["items"]
    assert listed["total"] == 4 and listed["hasMore"] is False  # three seeded + this one
    new_only = konducter.client.get(f"/sites/{DOC_SITE}/orders", params={"status": "new"}, headers=headers).json()
    assert created["id"] in [o["id"] for o in new_only["items"]]
    assert all(o["status"] == "new" for o in new_only["items"])
    completed = konducter.client.get(f"/sites/{DOC_SITE}/orders", params={"status": "completed"},
                                     headers=headers).json()
    assert created["id"] not in [o["id"] for o in completed["items"]]

    konducter.admin.advance(30)
    patched = konducter.client.patch(f"/sites/{DOC_SITE}/orders/{created['id']}",
                                     json={"notes": "Table 12", "externalId": "POS-778"}, headers=headers)
    assert patched.status_code == 200
    body = patched.json()
    assert body["notes"] == "Table 12" and body["externalId"] == "POS-778" and body["status"] == "new"
    assert body["createdAt"] == created["createdAt"] and body["updatedAt"] > created["updatedAt"]
    assert konducter.client.get(f"/sites/{DOC_SITE}/orders/{created['id']}", headers=headers).json() == body


def test_server_owned_fields_cannot_be_patched(konducter):
    order = create_cloud_order(konducter)
    response = konducter.client.patch(f"/sites/{DOC_SITE}/orders/{order['id']}",
                                      json={"siteId": HARBOUR_SITE}, headers=konducter.auth_headers())
    assert_bare(response, 400)
    again = konducter.client.get(f"/sites/{DOC_SITE}/orders/{order['id']}", headers=konducter.auth_headers()).json()
    assert again["siteId"] == DOC_SITE


def test_orders_are_listed_in_creation_order_one_page_at_a_time(konducter):
    headers = konducter.auth_headers()
    ids = [create_cloud_order(konducter, site=HARBOUR_SITE, external_id=f"P-{n}")["id"] for n in range(3)]
    seen = []
    for page in (1, 2, 3, 4, 5):
        body = konducter.client.get(f"/sites/{HARBOUR_SITE}/orders", params={"page": page, "pageSize": 2},
                                    headers=headers).json()
        assert body["page"] == page and body["pageSize"] == 2 and body["total"] == 5  # 2 seeded + 3
        assert body["hasMore"] is (page < 3)
        seen += [o["id"] for o in body["items"]]
    assert len(seen) == 5 and seen[-3:] == ids


# ------------------------------------------------------------------------------- local view

def test_an_order_created_on_the_local_view_is_read_on_the_cloud(konducter, local):
    headers = konducter.auth_headers()
    created = local.client.post("/orders", json=new_order_body("LOCAL-1"), headers=headers)
    assert created.status_code == 201
    order = created.json()
    assert order["siteId"] == DOC_SITE and order["brandId"] == DOC_BRAND
    cloud = konducter.client.get(f"/sites/{DOC_SITE}/orders/{order['id']}", headers=headers)
    assert cloud.status_code == 200 and cloud.json() == order


def test_an_order_created_on_the_cloud_is_read_and_moved_on_the_local_view(konducter, local):
    headers = konducter.auth_headers()
    order = create_cloud_order(konducter, external_id="CLOUD-1")
    assert local.client.get(f"/orders/{order['id']}", headers=headers).json() == order
    assert order["id"] in [o["id"] for o in local.client.get("/orders", params={"pageSize": 100},
                                                              headers=headers).json()["items"]]
    moved = local.client.patch(f"/orders/{order['id']}", json={"status": "accepted"}, headers=headers)
    assert moved.status_code == 200 and moved.json()["status"] == "accepted"
    on_cloud = konducter.client.get(f"/sites/{DOC_SITE}/orders/{order['id']}", headers=headers)
    assert on_cloud.json()["status"] == "accepted"


def test_local_and_cloud_list_the_same_orders_of_the_default_site(konducter, local):
    headers = konducter.auth_headers()
    create_cloud_order(konducter, external_id="A")
    local.client.post("/orders", json=new_order_body("B"), headers=headers)
    create_cloud_order(konducter, site=HARBOUR_SITE, external_id="C")  # another site: not on local
    on_cloud = konducter.client.get(f"/sites/{DOC_SITE}/orders", params={"pageSize": 100}, headers=headers).json()
    on_local = local.client.get("/orders", params={"pageSize": 100}, headers=headers).json()
    assert on_local == on_cloud
    assert "C" not in [o["externalId"] for o in on_local["items"]]


def test_the_local_view_answers_for_the_credentials_default_site(konducter, local):
    headers = konducter.auth_headers("northwind-private")
    created = local.client.post("/orders", json=new_order_body("NW-LOCAL"), headers=headers).json()
    assert created["siteId"] == NORTHWIND_SITE and created["brandId"] == NORTHWIND_BRAND
    assert konducter.client.get(f"/sites/{NORTHWIND_SITE}/orders/{created['id']}", headers=headers).status_code == 200
    assert_bare(konducter.client.get(f"/sites/{NORTHWIND_AIRPORT}/orders/{created['id']}", headers=headers), 404)
    local_ids = [o["id"] for o in local.client.get("/orders", headers=konducter.auth_headers()).json()["items"]]
    assert created["id"] not in local_ids  # documentation-public's local view is another site


def test_cloud_only_paths_are_not_served_on_the_local_listener(konducter, local, mock_api):
    headers = konducter.auth_headers()
    assert_bare(local.client.get(f"/sites/{DOC_SITE}/orders", headers=headers), 404)
    # The response checker knows paths, not listeners: it would hold /orders to listLocalOrders' responses.
    cloud_unchecked = mock_api("konducter", api=konducter.api, validate=False)
    assert_bare(cloud_unchecked.client.get("/orders", headers=headers), 404)


# ------------------------------------------------------------------------------- rate limits

def test_the_cloud_carries_exact_rate_limit_headers_and_429s_without_body(konducter):
    set_rate_limits(konducter, True)
    konducter.admin.freeze()
    headers = konducter.auth_headers()
    for n in range(1, 11):
        response = konducter.client.get(f"/sites/{DOC_SITE}/orders", headers=headers)
        assert response.status_code == 200
        assert response.headers["x-ratelimit-limit-second"] == "10"
        assert response.headers["x-ratelimit-limit-minute"] == "300"
        assert response.headers["x-ratelimit-remaining-second"] == str(10 - n)
        assert response.headers["x-ratelimit-remaining-minute"] == str(300 - n)
    over = konducter.client.get(f"/sites/{DOC_SITE}/orders", headers=headers)
    assert_bare(over, 429)
    assert int(over.headers["retry-after"]) == 1
    assert over.headers["x-ratelimit-remaining-second"] == "0"

    konducter.admin.advance(1)
    again = konducter.client.get(f"/sites/{DOC_SITE}/orders", headers=headers)
    assert again.status_code == 200
    assert again.headers["x-ratelimit-remaining-second"] == "9"
    assert again.headers["x-ratelimit-remaining-minute"] == "289"  # the refused request was not counted


def test_every_cloud_endpoint_shares_one_budget_per_access_key(konducter):
    set_rate_limits(konducter, True)
    konducter.admin.freeze()
    doc, northwind = konducter.auth_headers("documentation-public"), konducter.auth_headers("northwind-private")
    konducter.client.get(f"/sites/{DOC_SITE}", headers=doc)
    konducter.client.get(f"/brands/{DOC_BRAND}", headers=doc)
    created = konducter.client.post(f"/sites/{HARBOUR_SITE}/orders", json=new_order_body(), headers=doc)
    assert created.headers["x-ratelimit-remaining-second"] == "7"
    assert created.headers["x-ratelimit-remaining-minute"] == "297"
    forbidden = konducter.client.get(f"/sites/{NORTHWIND_SITE}", headers=doc)  # counted though refused
    assert forbidden.status_code == 403 and forbidden.headers["x-ratelimit-remaining-second"] == "6"
    other = konducter.client.get(f"/sites/{NORTHWIND_SITE}", headers=northwind)
    assert other.headers["x-ratelimit-remaining-second"] == "9"  # another AccessKey, its own budget


def test_requests_rejected_as_unauthenticated_are_not_counted(konducter):
    set_rate_limits(konducter, True)
    konducter.admin.freeze()
    for _ in range(12):
        assert_bare(konducter.client.get(f"/sites/{DOC_SITE}", headers={"AccessKey": "12345", "AccessSecret": "x"}),
                    401)
    ok = konducter.client.get(f"/sites/{DOC_SITE}", headers=konducter.auth_headers())
    assert ok.status_code == 200 and ok.headers["x-ratelimit-remaining-second"] == "9"


def test_the_local_view_is_not_rate_limited(konducter, local):
    set_rate_limits(konducter, True)
    konducter.admin.freeze()
    headers = konducter.auth_headers()
    for n in range(40):
        response = local.client.get("/orders", headers=headers) if n % 2 else \
            local.client.post("/orders", json=new_order_body(f"L-{n}"), headers=headers)
        assert response.status_code in (200, 201)
        assert not {h for h in RATE_HEADERS if h in response.headers}
    # and it did not spend the cloud budget of the same key
    cloud = konducter.client.get(f"/sites/{DOC_SITE}", headers=headers)
    assert cloud.headers["x-ratelimit-remaining-second"] == "9"


def test_incoming_webhooks_have_their_own_budget_per_application_and_brand(konducter):
    set_rate_limits(konducter, True)
    konducter.admin.freeze()
    headers = konducter.auth_headers()
    body = {**new_order_body("HOOK-1"), "siteId": DOC_SITE}
    first = konducter.client.post(f"/webhooks/{DOC_APP}/brands/{DOC_BRAND}/orders", json=body, headers=headers)
    assert first.status_code == 201
    assert first.headers["x-ratelimit-limit-second"] == "25"
    assert first.headers["x-ratelimit-limit-minute"] == "1000"
    assert first.headers["x-ratelimit-remaining-second"] == "24"
    second = konducter.client.post(f"/webhooks/{DOC_APP}/brands/{DOC_BRAND}/orders", json=body, headers=headers)
    assert second.headers["x-ratelimit-remaining-second"] == "23"
    other_brand = konducter.client.post(f"/webhooks/{DOC_APP}/brands/{HARBOUR_BRAND}/orders",
                                        json={**body, "siteId": HARBOUR_SITE}, headers=headers)
    assert other_brand.status_code == 201 and other_brand.headers["x-ratelimit-remaining-second"] == "24"
    cloud = konducter.client.get(f"/sites/{DOC_SITE}", headers=headers)
    assert cloud.headers["x-ratelimit-remaining-second"] == "9"  # the cloud API budget is untouched


# ------------------------------------------------------------------------------- lifecycle

FORWARD = ["new", "accepted", "inProgress", "ready", "completed"]


def test_an_order_walks_its_whole_lifecycle_forward(konducter):
    headers = konducter.auth_headers()
    order = create_cloud_order(konducter)
    path = f"/sites/{DOC_SITE}/orders/{order['id']}"
    for status in FORWARD[1:]:
        moved = konducter.client.patch(path, json={"status": status}, headers=headers)
        assert moved.status_code == 200 and moved.json()["status"] == status
    assert konducter.client.get(path, headers=headers).json()["status"] == "completed"
    for status in ("new", "accepted", "inProgress", "ready", "cancelled"):
        assert_bare(konducter.client.patch(path, json={"status": status}, headers=headers), 409)
    assert konducter.client.get(path, headers=headers).json()["status"] == "completed"


@pytest.mark.parametrize("start, target", [
    ("new", "inProgress"), ("new", "ready"), ("new", "completed"),
    ("accepted", "new"), ("accepted", "ready"),
    ("inProgress", "accepted"), ("inProgress", "completed"),
    ("ready", "inProgress"), ("ready", "new"),
])
def test_status_never_moves_backward_or_skips_ahead(konducter, local, start, target):
    headers = konducter.auth_headers()
    order = create_cloud_order(konducter)
    path = f"/sites/{DOC_SITE}/orders/{order['id']}"
    for status in FORWARD[1:FORWARD.index(start) + 1]:
        assert konducter.client.patch(path, json={"status": status}, headers=headers).status_code == 200
    assert_bare(konducter.client.patch(path, json={"status": target}, headers=headers), 409)
    assert_bare(local.client.patch(f"/orders/{order['id']}", json={"status": target}, headers=headers), 409)
    assert konducter.client.get(path, headers=headers).json()["status"] == start


def test_a_refused_transition_changes_no_other_field_either(konducter):
    headers = konducter.auth_headers()
    order = create_cloud_order(konducter, notes="keep me")
    path = f"/sites/{DOC_SITE}/orders/{order['id']}"
    assert_bare(konducter.client.patch(path, json={"status": "completed", "notes": "changed"}, headers=headers), 409)
    assert konducter.client.get(path, headers=headers).json() == order


@pytest.mark.parametrize("steps", [0, 1, 2, 3])
def test_any_open_order_can_be_cancelled_and_cancelled_is_final(konducter, steps):
    headers = konducter.auth_headers()
    order = create_cloud_order(konducter)
    path = f"/sites/{DOC_SITE}/orders/{order['id']}"
    for status in FORWARD[1:1 + steps]:
        assert konducter.client.patch(path, json={"status": status}, headers=headers).status_code == 200
    cancelled = konducter.client.patch(path, json={"status": "cancelled"}, headers=headers)
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    for status in FORWARD:
        assert_bare(konducter.client.patch(path, json={"status": status}, headers=headers), 409)


def test_setting_the_current_status_again_is_not_a_change(konducter):
    headers = konducter.auth_headers()
    path = f"/sites/{DOC_SITE}/orders/{SEEDED_DOC_ORDER}"
    same = konducter.client.patch(path, json={"status": "inProgress"}, headers=headers)
    assert same.status_code == 200 and same.json()["status"] == "inProgress"


# ------------------------------------------------------------------------------- incoming webhooks

def test_an_incoming_webhook_creates_an_order_for_the_bodys_site(konducter, local):
    headers = konducter.auth_headers("documentation-public")
    body = {"siteId": HARBOUR_SITE, "externalId": "FOODHUB-1", "channel": "delivery",
            "items": [{"name": "Fish Burger", "quantity": 1}]}
    response = konducter.client.post(f"/webhooks/{DOC_APP}/brands/{HARBOUR_BRAND}/orders", json=body,
                                     headers=headers)
    assert response.status_code == 201
    order = response.json()
    assert order["siteId"] == HARBOUR_SITE and order["brandId"] == HARBOUR_BRAND and order["status"] == "new"
    assert order["externalId"] == "FOODHUB-1" and order["channel"] == "delivery"
    on_site = konducter.client.get(f"/sites/{HARBOUR_SITE}/orders/{order['id']}", headers=headers)
    assert on_site.status_code == 200 and on_site.json() == order
    # courier-public shares the Harbour site: it sees the order too; the Documentation site does not have it
    courier = konducter.auth_headers("courier-public")
    assert konducter.client.get(f"/sites/{HARBOUR_SITE}/orders/{order['id']}", headers=courier).status_code == 200
    assert_bare(konducter.client.get(f"/sites/{DOC_SITE}/orders/{order['id']}", headers=headers), 404)
    assert_bare(local.client.get(f"/orders/{order['id']}", headers=headers), 404)


def test_an_incoming_webhook_for_a_site_that_is_not_the_callers_is_a_bare_403(konducter):
    headers = konducter.auth_headers("documentation-public")
    body = {"siteId": NORTHWIND_SITE, "externalId": "X", "channel": "delivery", "items": [{"name": "n", "quantity": 1}]}
    assert_bare(konducter.client.post(f"/webhooks/{DOC_APP}/brands/{DOC_BRAND}/orders", json=body,
                                      headers=headers), 403)
    listed = konducter.client.get(f"/sites/{NORTHWIND_SITE}/orders", params={"pageSize": 100},
                                  headers=konducter.auth_headers("northwind-private")).json()
    assert "X" not in [o["externalId"] for o in listed["items"]]


def test_an_incoming_webhook_on_another_applications_path_is_refused(konducter):
    set_rate_limits(konducter, True)
    konducter.admin.freeze()
    body = {**new_order_body("FOREIGN"), "siteId": DOC_SITE}
    refused = konducter.client.post(f"/webhooks/{NORTHWIND_APP}/brands/{NORTHWIND_BRAND}/orders", json=body,
                                    headers=konducter.auth_headers("documentation-public"))
    assert refused.status_code in (403, 404) and refused.content == b""
    listed = konducter.client.get(f"/sites/{DOC_SITE}/orders", params={"pageSize": 100},
                                  headers=konducter.auth_headers()).json()
    assert "FOREIGN" not in [o["externalId"] for o in listed["items"]]
    own = konducter.client.post(f"/webhooks/{NORTHWIND_APP}/brands/{NORTHWIND_BRAND}/orders",
                                json={**body, "siteId": NORTHWIND_SITE},
                                headers=konducter.auth_headers("northwind-private"))
    assert own.status_code == 201 and own.headers["x-ratelimit-remaining-second"] == "24"


def test_an_incoming_webhook_for_a_brand_the_application_is_not_enabled_for_is_a_bare_403(konducter):
    body = {**new_order_body("WRONG-BRAND"), "siteId": DOC_SITE}
    assert_bare(konducter.client.post(f"/webhooks/{DOC_APP}/brands/{NORTHWIND_BRAND}/orders", json=body,
                                      headers=konducter.auth_headers("documentation-public")), 403)


def test_an_incoming_webhook_without_a_site_is_a_bare_400(konducter):
    body = {"externalId": "X", "channel": "delivery", "items": [{"name": "n", "quantity": 1}]}
    assert_bare(konducter.client.post(f"/webhooks/{DOC_APP}/brands/{DOC_BRAND}/orders", json=body,
                                      headers=konducter.auth_headers()), 400)


# ------------------------------------------------------------------------------- subscription

def test_the_subscription_is_read_and_replaced_by_its_own_application(konducter):
    headers = konducter.auth_headers("documentation-public")
    path = f"/applications/{DOC_APP}/subscription"
    current = konducter.client.get(path, headers=headers)
    assert current.status_code == 200
    assert current.json()["applicationId"] == DOC_APP and current.json()["handlerUrl"] is None
    wanted = {"handlerUrl": "https://integrator.example.com/hooks", "eventTriggers": ["order.created"]}
    put = konducter.client.put(path, json=wanted, headers=headers)
    assert put.status_code == 200
    assert put.json()["handlerUrl"] == wanted["handlerUrl"] and put.json()["eventTriggers"] == ["order.created"]
    assert konducter.client.get(path, headers=headers).json() == put.json()
    off = konducter.client.put(path, json={"handlerUrl": None, "eventTriggers": []}, headers=headers)
    assert off.status_code == 200 and off.json()["handlerUrl"] is None and off.json()["eventTriggers"] == []


@pytest.mark.parametrize("other_app", [NORTHWIND_APP, COURIER_APP, str(uuid.uuid4())])
def test_another_applications_subscription_is_a_bare_404_for_reading_and_writing(konducter, other_app):
    headers = konducter.auth_headers("documentation-public")
    path = f"/applications/{other_app}/subscription"
    assert_bare(konducter.client.get(path, headers=headers), 404)
    hijack = {"handlerUrl": "https://attacker.example.com/", "eventTriggers": ["order.created"]}
    assert_bare(konducter.client.put(path, json=hijack, headers=headers), 404)
    if other_app == NORTHWIND_APP:
        own = konducter.client.get(path, headers=konducter.auth_headers("northwind-private")).json()
        assert own["handlerUrl"] is None
        assert own["eventTriggers"] == ["order.created", "order.statusChanged", "order.cancelled"]


@pytest.mark.parametrize("body", [
    {"handlerUrl": "https://x.example.com/", "eventTriggers": ["order.exploded"]},
    {"handlerUrl": "https://x.example.com/"},
    {"handlerUrl": "not a url", "eventTriggers": []},
    {"handlerUrl": "https://x.example.com/", "eventTriggers": ["order.created", "order.created"]},
])
def test_an_invalid_subscription_is_a_bare_400_and_keeps_the_old_one(konducter, body):
    headers = konducter.auth_headers()
    path = f"/applications/{DOC_APP}/subscription"
    before = konducter.client.get(path, headers=headers).json()
    assert_bare(konducter.client.put(path, json=body, headers=headers), 400)
    assert konducter.client.get(path, headers=headers).json() == before


def test_applications_and_brands_are_visible_only_to_their_own_application(konducter):
    doc = konducter.auth_headers("documentation-public")
    assert konducter.client.get(f"/applications/{DOC_APP}", headers=doc).json()["id"] == DOC_APP
    assert_bare(konducter.client.get(f"/applications/{NORTHWIND_APP}", headers=doc), 404)
    assert konducter.client.get(f"/brands/{HARBOUR_BRAND}", headers=doc).status_code == 200
    assert_bare(konducter.client.get(f"/brands/{NORTHWIND_BRAND}", headers=doc), 404)
