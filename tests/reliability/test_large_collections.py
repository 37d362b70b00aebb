"""Lists over thousands of records keep their declared order, filters and cursors (issue 9, item 11).

Each test serves one API on a real port (`mock_server`), empties it, seeds many records straight into
its store (fast), then pages through the list over HTTP with the contract's own parameters, the
responses checked against the contract. Expected pages come from the seeding order: oldest-first
lists serve creation order, newest-first lists the reverse.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from mocks.pytest_plugin import MockHandle

MANY = 1500


def seed_many(handle: MockHandle, name: str, scope: str | None, count: int,
              vary: Callable[[int], dict[str, Any]]) -> list[Any]:
    """Insert `count` records made from the API's first fixture of `name`; their ids, in creation order."""
    api, resource = handle.api, handle.api.resources[name]
    template = {k: v for k, v in api.fixtures.resources[name][0].items() if k != "_scope"}
    for generated in (resource.id_field, *resource.also):
        template.pop(generated, None)
    ids = []
    for n in range(count):
        data = {**copy.deepcopy(template), **vary(n)}
        record = resource.new_record(data, scope, api.group_of(resource, scope), api.store, api.clock.now())
        api.store.insert(name, resource.key(record["data"]), record, resource.index(record["data"]))
        ids.append(record["data"][resource.id_field])
    return ids


@pytest.fixture
def served(mock_server) -> Callable[[str], MockHandle]:
    def serve(name: str) -> MockHandle:
        handle = mock_server(name)
        handle.admin.reset(seed=False)
        return handle

    return serve


def get(handle: MockHandle, path: str, principal: str, **params: Any) -> dict:
    response = handle.client.get(path, params=params, headers=handle.auth_headers(principal))
    assert response.status_code == 200, response.text
    return response.json()


# ------------------------------------------------------------------------------------ iStockist

KAURI, HARBOURSIDE = "11111111-aaaa-4aaa-8aaa-000000000001", "22222222-bbbb-4bbb-8bbb-000000000002"


def istockist_pages(shop: MockHandle, path: str, **params: Any) -> list[str]:
    served, after = [], None
    while True:
        body = get(shop, path, "kauri-roasters", limit=100, **params, **({"starting_after": after} if after else {}))
        served += [item["id"] for item in body["data"]]
        if not body["has_more"]:
            return served
        after = served[-1]


def test_istockist_products_page_newest_first_by_cursor_in_both_directions(served):
    shop = served("istockist")
    mine = seed_many(shop, "product", KAURI, MANY, lambda n: {"name": f"Product {n}", "sku": f"SKU-{n}"})
    theirs = seed_many(shop, "product", HARBOURSIDE, 40, lambda n: {"name": f"Theirs {n}"})  # never listed to Kauri
    newest_first = mine[::-1]
    assert istockist_pages(shop, "/v1/products") == newest_first
    third = get(shop, "/v1/products", "kauri-roasters", limit=100, starting_after=newest_first[199])
    assert [p["id"] for p in third["data"]] == newest_first[200:300] and third["has_more"] is True
    second = get(shop, "/v1/products", "kauri-roasters", limit=100, ending_before=newest_first[200])
    assert [p["id"] for p in second["data"]] == newest_first[100:200] and second["has_more"] is True
    first = get(shop, "/v1/products", "kauri-roasters", limit=5, ending_before=newest_first[5])
    assert [p["id"] for p in first["data"]] == newest_first[:5] and first["has_more"] is False
    last = get(shop, "/v1/products", "kauri-roasters", limit=100, starting_after=newest_first[-3])
    assert [p["id"] for p in last["data"]] == newest_first[-2:] and last["has_more"] is False
    for cursor in (str(uuid.uuid4()), theirs[0]):  # unknown, or another account's: the contract's 404
        response = shop.client.get("/v1/products", params={"starting_after": cursor},
                                   headers=shop.auth_headers("kauri-roasters"))
        assert response.status_code == 404, response.text
        assert response.json()["error"]["param"] == "starting_after"


def test_istockist_orders_filtered_by_customer_and_status_keep_order_and_cursors(served):
    shop = served("istockist")
    customers = [str(uuid.uuid4()) for _ in range(3)]
    statuses = ["open", "paid", "fulfilled", "cancelled"]
    ids = seed_many(shop, "order", KAURI, MANY, lambda n: {"customer": customers[n % 3], "status": statuses[n % 4]})
    expected = [i for n, i in enumerate(ids) if n % 3 == 1 and n % 4 == 2][::-1]
    assert istockist_pages(shop, "/v1/orders", customer=customers[1], status="fulfilled") == expected
    only_customer = [i for n, i in enumerate(ids) if n % 3 == 0][::-1]
    assert istockist_pages(shop, "/v1/orders", customer=customers[0]) == only_customer
    assert istockist_pages(shop, "/v1/orders", status="paid") == [i for n, i in enumerate(ids) if n % 4 == 1][::-1]
    response = shop.client.get("/v1/orders", params={"status": "paid", "starting_after": expected[0]},
                               headers=shop.auth_headers("kauri-roasters"))  # a fulfilled order: not in this list
    assert response.status_code == 404


# ------------------------------------------------------------------------------------ Konducter

DOC_SITE = "00000000-0000-0000-0000-000000000000"


def test_konducter_orders_page_by_number_with_totals_and_a_status_filter(served):
    konducter = served("konducter")
    statuses = ["new", "accepted", "ready"]
    ids = seed_many(konducter, "order", DOC_SITE, MANY,
                    lambda n: {"externalId": f"POS-{n}", "status": statuses[n % 3]})
    path = f"/sites/{DOC_SITE}/orders"
    page = get(konducter, path, "documentation-public", page=4, pageSize=100)
    assert [o["id"] for o in page["items"]] == ids[300:400]
    assert page["total"] == MANY and page["hasMore"] is True
    ready = [i for n, i in enumerate(ids) if n % 3 == 2]
    collected = []
    for number in range(1, len(ready) // 100 + 2):
        body = get(konducter, path, "documentation-public", status="ready", page=number, pageSize=100)
        assert body["total"] == len(ready) and body["hasMore"] == (number * 100 < len(ready))
        collected += [o["id"] for o in body["items"]]
    assert collected == ready
    beyond = get(konducter, path, "documentation-public", status="ready", page=99, pageSize=100)
    assert beyond["items"] == [] and beyond["total"] == len(ready) and beyond["hasMore"] is False


# ------------------------------------------------------------------------------------ Lagerkoll

def test_lagerkoll_feature_webhooks_list_own_and_group_shared_in_creation_order(served):
    lagerkoll = served("lagerkoll")
    orders = {"featureId": "customerorders", "featureMethod": "created"}
    expected = []
    for _ in range(300):  # interleaved: own, group-shared, group-private, another group's shared, other feature
        expected += seed_many(lagerkoll, "webhook", "1001", 1, lambda n: {**orders, "enableForGroup": False})
        expected += seed_many(lagerkoll, "webhook", "1002", 1, lambda n: {**orders, "enableForGroup": True})
        seed_many(lagerkoll, "webhook", "1002", 1, lambda n: {**orders, "enableForGroup": False})
        seed_many(lagerkoll, "webhook", "2001", 1, lambda n: {**orders, "enableForGroup": True})
        seed_many(lagerkoll, "webhook", "1001", 1, lambda n: {**orders, "featureId": "articles"})
    body = get(lagerkoll, "/v1/webhooks/customerorders", "key-store-1001")
    assert [w["id"] for w in body["webhooks"]] == expected


# ------------------------------------------------------------------------------------ Ping Network

def test_pingnetwork_sessions_page_oldest_first_by_client_and_cursor(served):
    ping = served("pingnetwork")
    ids = seed_many(ping, "session", "cus_acme", MANY, lambda n: {"client_id": f"device-{n % 4}"})
    seed_many(ping, "session", "cus_globex", 30, lambda n: {"client_id": "device-1"})
    collected, after = [], None
    while True:
        body = get(ping, "/customer/v1/sessions", "acme-primary", limit=100, client_id="device-1",
                   **({"after": after} if after else {}))
        collected += [s["id"] for s in body["data"]]
        if not body["has_more"]:
            break
        after = collected[-1]
    assert collected == [i for n, i in enumerate(ids) if n % 4 == 1]
    unknown = get(ping, "/customer/v1/sessions", "acme-primary", after=str(uuid.uuid4()))
    assert unknown["data"] == [] and unknown["has_more"] is False  # no unknown-cursor rule: an empty page


# ------------------------------------------------------------------------------------ Plggr

ACME_COMPANY, ACME_TENANT = "1a000000-0000-4000-8000-000000000001", "11111111-1111-4111-8111-111111111111"


def test_plggr_products_and_tenant_companies_page_by_number(served):
    plggr = served("plggr")
    ids = seed_many(plggr, "product", ACME_COMPANY, MANY, lambda n: {"sku": f"SKU-{n}", "name": f"Item {n}"})
    path = f"/companies/{ACME_COMPANY}/products"
    last = get(plggr, path, "acme-integration", page=15, pageSize=100)
    assert [p["id"] for p in last["data"]] == ids[1400:1500] and last["total"] == MANY and last["hasMore"] is False
    middle = get(plggr, path, "acme-integration", page=8, pageSize=100)
    assert [p["id"] for p in middle["data"]] == ids[700:800] and middle["hasMore"] is True
    tenants = [ACME_TENANT, "22222222-2222-4222-8222-222222222222"]
    companies = seed_many(plggr, "company", None, 600, lambda n: {"tenantId": tenants[n % 2], "name": f"Co {n}"})
    acme = [c for n, c in enumerate(companies) if n % 2 == 0]
    second = get(plggr, "/companies", "acme-integration", page=2, pageSize=100)
    assert [c["id"] for c in second["data"]] == acme[100:200] and second["total"] == len(acme)


# ------------------------------------------------------------------------------------ cost of a page

class CountingStore:
    """The API's store, counting the records a request reads (what a page costs, without a clock)."""

    def __init__(self, store: Any) -> None:
        self._store, self.read = store, 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def get(self, collection: str, key: str) -> Any:
        self.read += 1
        return self._store.get(collection, key)

    def get_many(self, collection: str, keys: list[str]) -> list:
        self.read += len(keys)
        return self._store.get_many(collection, keys)

    def scan(self, collection: str) -> list:
        found = self._store.scan(collection)
        self.read += len(found)
        return found


def test_a_page_reads_records_in_proportion_to_its_size_not_to_the_collection(served):
    shop = served("istockist")
    ids = seed_many(shop, "product", KAURI, 5000, lambda n: {"name": f"Product {n}"})[::-1]
    counting = shop.api.store = CountingStore(shop.api.store)
    for params in ({"limit": 10}, {"limit": 10, "starting_after": ids[2500]}, {"limit": 10, "ending_before": ids[4000]}):
        counting.read = 0
        body = get(shop, "/v1/products", "kauri-roasters", **params)
        assert len(body["data"]) == 10 and counting.read <= 2 * 10 + 2, (params, counting.read)


# ------------------------------------------------------------------------------------ /__mock/state

def state_page(handle: MockHandle, **params: Any) -> dict:
    response = handle.admin.http.get("/__mock/state", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_the_admin_state_pages_one_collection_by_cursor_with_its_total(served):
    shop = served("istockist")
    kauri = seed_many(shop, "product", KAURI, 900, lambda n: {"name": f"K{n}"})
    harbourside = seed_many(shop, "product", HARBOURSIDE, 300, lambda n: {"name": f"H{n}"})
    first = state_page(shop, collection="product", limit=250)
    assert first["total"] == 1200 and [p["id"] for p in first["items"]] == kauri[:250]
    assert {p["scope"] for p in first["items"]} == {KAURI}
    deleted = kauri[300]  # a record deleted between two pages is simply not served
    assert shop.client.delete(f"/v1/products/{deleted}", headers=shop.auth_headers("kauri-roasters")).status_code == 200
    collected, cursor = [p["id"] for p in first["items"]], first["next_cursor"]
    while cursor is not None:
        body = state_page(shop, collection="product", limit=250, cursor=cursor)
        collected += [p["id"] for p in body["items"]]
        cursor = body["next_cursor"]
    assert collected == [i for i in kauri + harbourside if i != deleted]
    theirs = state_page(shop, collection="product", scope=HARBOURSIDE, limit=1000)
    assert theirs["total"] == 300 and [p["id"] for p in theirs["items"]] == harbourside
    assert theirs["next_cursor"] is None and state_page(shop, collection="order")["items"] == []
    assert set(shop.admin.state()) >= {"product"}  # without paging parameters: the whole dump, as before


def test_the_admin_state_refuses_a_bad_page_request_with_a_400_that_says_why(served):
    shop = served("istockist")
    for params in [{"collection": "nope"}, {"limit": "10"}, {"collection": "product", "limit": "0"},
                   {"collection": "product", "limit": "1001"}, {"collection": "product", "limit": "x"},
                   {"collection": "product", "cursor": "-1"}, {"collection": "product", "cursor": "9" * 40}]:
        response = shop.admin.http.get("/__mock/state", params=params)
        assert response.status_code == 400, (params, response.text)
        assert any(word in response.json()["error"] for word in ("collection", "limit", "cursor")), params
