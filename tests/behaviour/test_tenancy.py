"""Tenant isolation across all five APIs, as a Hypothesis property over HTTP.

For any sequence of creates by principal A (bodies drawn from generated valid values), a principal B
whose scopes are disjoint from A's never sees A's resources in its lists, gets 403/404 for them, and
cannot change or delete them; A still sees each of them, unchanged.

Each API is described by an `IsolationCase`: how A creates (a strategy of create specs), what B can
list, which probes B sends (with the exact status each must get), and how A reads a resource back.
"""

from __future__ import annotations

import string
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mocks.pytest_plugin import MockHandle, Namespaces, in_process

ALNUM = string.ascii_letters + string.digits
words = st.text(ALNUM, min_size=1, max_size=16)
amounts = st.integers(min_value=0, max_value=99_999)
quantities = st.integers(min_value=1, max_value=999)


@dataclass
class Made:
    """One resource A created: enough to find it again and to compare what A sees later."""

    kind: str
    id: Any
    scope: str
    snapshot: dict[str, Any]
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Probe:
    """A request B sends about A's resource, and the only status it may get."""

    method: str
    path: str
    status: int
    json: Any = None
    listener: str = "main"


class IsolationCase:
    api: str
    owners: tuple[str, ...]   # principals of tenant A (any of them may create; the first sees every scope)
    others: tuple[str, ...]   # principals whose scopes are disjoint from every owner's

    def specs(self) -> st.SearchStrategy:
        raise NotImplementedError

    def create(self, h: Handles, owner: str, spec: Any) -> Made:
        raise NotImplementedError

    def visible_ids(self, h: Handles, principal: str) -> set:
        """Every id the principal sees in its own lists."""
        raise NotImplementedError

    def probes(self, made: Made, other: str) -> list[Probe]:
        raise NotImplementedError

    def other_checks(self, h: Handles, made: Made, other: str) -> None:
        """Checks that do not fit a `Probe` (none by default)."""

    def readers(self, made: Made) -> tuple[str, ...]:
        """The principals of tenant A that must see `made` (by default every owner)."""
        return self.owners

    def read_back(self, h: Handles, reader: str, made: Made) -> dict:
        raise NotImplementedError


@dataclass
class Handles:
    main: MockHandle
    local: MockHandle | None = None

    def call(self, principal: str, method: str, path: str, *, json: Any = None, scope: str | None = None,
             listener: str = "main", params: dict | None = None, headers: dict | None = None):
        handle = self.local if listener == "local" else self.main
        auth = self.main.auth_headers(principal, scope)
        return handle.client.request(method, path, json=json, params=params, headers={**auth, **(headers or {})})

    def ok(self, principal: str, method: str, path: str, status: int = 200, **options) -> Any:
        response = self.call(principal, method, path, **options)
        assert response.status_code == status, f"{method} {path} as {principal}: {response.status_code} {response.text}"
        return response.json() if response.content else None


# ------------------------------------------------------------------------------- Konducter

DOC_SITE, HARBOUR_SITE = "00000000-0000-0000-0000-000000000000", "5a000000-0000-4000-8000-000000000001"
NW_SITES = ["5a000000-0000-4000-8000-000000000002", "5a000000-0000-4000-8000-000000000003"]
SITE_BRANDS = {DOC_SITE: "00000000-0000-0000-0000-000000000000", HARBOUR_SITE: "b1000000-0000-4000-8000-000000000001"}
DOC_APP, NW_APP = "00000000-0000-0000-0000-000000000000", "a1000000-0000-4000-8000-000000000001"
NW_BRAND = "b1000000-0000-4000-8000-000000000002"


class KonducterCase(IsolationCase):
    api = "konducter"
    owners = ("documentation-public",)
    others = ("northwind-private",)   # courier-public shares Harbour Street with documentation-public

    def specs(self):
        items = st.lists(st.fixed_dictionaries({"name": words, "quantity": quantities}), min_size=1, max_size=3)
        return st.fixed_dictionaries({
            "via": st.sampled_from(["cloud", "local", "incoming"]),
            "site": st.sampled_from([DOC_SITE, HARBOUR_SITE]),
            "body": st.fixed_dictionaries({"externalId": words, "items": items,
                                           "channel": st.sampled_from(["inStore", "kiosk", "delivery"])}),
        })

    def create(self, h, owner, spec):
        body, site = spec["body"], spec["site"]
        if spec["via"] == "cloud":
            order = h.ok(owner, "POST", f"/sites/{site}/orders", 201, json=body)
        elif spec["via"] == "local":
            order = h.ok(owner, "POST", "/orders", 201, json=body, listener="local")   # the default site
        else:
            order = h.ok(owner, "POST", f"/webhooks/{DOC_APP}/brands/{SITE_BRANDS[site]}/orders", 201,
                         json={**body, "siteId": site})
        return Made("order", order["id"], order["siteId"], order)

    def visible_ids(self, h, principal):
        sites = NW_SITES if principal == "northwind-private" else [DOC_SITE, HARBOUR_SITE]
        ids = {o["id"] for s in sites
               for o in h.ok(principal, "GET", f"/sites/{s}/orders", params={"pageSize": 100})["items"]}
        return ids | {o["id"] for o in h.ok(principal, "GET", "/orders", params={"pageSize": 100},
                                            listener="local")["items"]}

    def probes(self, made, other):
        own, theirs = f"/sites/{made.scope}/orders/{made.id}", f"/sites/{NW_SITES[0]}/orders/{made.id}"
        return [
            Probe("GET", own, 403), Probe("GET", theirs, 404),
            Probe("GET", f"/orders/{made.id}", 404, listener="local"),
            Probe("PATCH", own, 403, {"status": "cancelled"}), Probe("PATCH", theirs, 404, {"status": "cancelled"}),
            Probe("PATCH", f"/orders/{made.id}", 404, {"status": "cancelled"}, listener="local"),
            Probe("GET", f"/sites/{made.scope}/orders", 403),
            Probe("POST", f"/webhooks/{NW_APP}/brands/{NW_BRAND}/orders", 403, {
                "siteId": made.scope, "externalId": "X", "channel": "delivery",
                "items": [{"name": "x", "quantity": 1}]}),
        ]

    def read_back(self, h, owner, made):
        return h.ok(owner, "GET", f"/sites/{made.scope}/orders/{made.id}")


# ------------------------------------------------------------------------------- Lagerkoll

FEATURES = ["customerorders", "articles", "stocktaking", "purchaseorders"]
LAGERKOLL_STORES = {"user-anna": ["1001", "1002"], "key-store-1001": ["1001"], "key-store-1002": ["1002"],
                    "user-bertil": ["2001", "2002"], "key-store-2001": ["2001"], "key-store-2002": ["2002"]}


class LagerkollCase(IsolationCase):
    api = "lagerkoll"
    owners = ("user-anna", "key-store-1001", "key-store-1002")        # store group 10
    others = ("user-bertil", "key-store-2001", "key-store-2002")      # store group 20

    def specs(self):
        return st.fixed_dictionaries({
            "store_index": st.integers(0, 1), "group": st.booleans(),
            "body": st.fixed_dictionaries({
                "featureId": st.sampled_from(FEATURES), "featureMethod": st.sampled_from(["created", "updated"]),
                "url": words.map(lambda w: f"https://hooks.example.com/{w}")}),
        })

    def create(self, h, owner, spec):
        stores = LAGERKOLL_STORES[owner]
        store = stores[spec["store_index"] % len(stores)]
        webhook = h.ok(owner, "POST", "/v1/webhooks/", json=spec["body"], scope=store,
                       params={"enable_for_group": str(spec["group"]).lower()})
        return Made("webhook", webhook["id"], store, webhook, {"group": spec["group"]})

    def visible_ids(self, h, principal):
        return {w["id"] for store in LAGERKOLL_STORES[principal] for feature in FEATURES
                for w in h.ok(principal, "GET", f"/v1/webhooks/{feature}", scope=store)["webhooks"]}

    def probes(self, made, other):
        return [Probe("POST", f"/v1/webhooks/{made.snapshot['guid']}", 404, {"orderId": 1}),
                Probe("DELETE", f"/v1/webhooks/{made.id}", 404)]

    def other_checks(self, h, made, other):
        """B presenting A's store with its own credential: credentials don't match."""
        for method, path in (("GET", f"/v1/webhooks/{made.snapshot['featureId']}"),
                             ("DELETE", f"/v1/webhooks/{made.id}")):
            response = h.call(other, method, path, scope=made.scope)
            assert response.status_code == 401 and response.json()["errorCode"] == 900001

    def readers(self, made):
        """Its own store's principals; with enable_for_group, every principal of the group."""
        return tuple(p for p in self.owners if made.extra["group"] or made.scope in LAGERKOLL_STORES[p])

    def read_back(self, h, reader, made):
        stores = LAGERKOLL_STORES[reader]
        store = made.scope if made.scope in stores else stores[0]
        listed = h.ok(reader, "GET", f"/v1/webhooks/{made.snapshot['featureId']}", scope=store)["webhooks"]
        return next((w for w in listed if w["id"] == made.id), {})


# ------------------------------------------------------------------------------- iStockist

KAURI_CUSTOMER, KAURI_PRODUCT = "c1000000-0000-4000-8000-000000000001", "d1000000-0000-4000-8000-000000000001"


class IstockistCase(IsolationCase):
    api = "istockist"
    owners = ("kauri-roasters", "kauri-warehouse-app")                # two keys of one account
    others = ("alpine-botanicals", "harbourside-homewares")

    def specs(self):
        return st.one_of(
            st.tuples(st.just("product"), st.fixed_dictionaries({
                "name": words, "unit_amount": amounts, "currency": st.just("nzd"), "sku": words})),
            st.tuples(st.just("customer"), st.fixed_dictionaries({
                "name": words, "email": words.map(lambda w: f"{w}@example.com")})),
            st.tuples(st.just("store"), st.fixed_dictionaries({"name": words, "currency": st.just("nzd")})),
            st.tuples(st.just("order"), st.fixed_dictionaries({
                "customer": st.just(KAURI_CUSTOMER), "currency": st.just("nzd"),
                "line_items": st.lists(st.fixed_dictionaries({
                    "product": st.just(KAURI_PRODUCT), "quantity": quantities, "unit_amount": amounts}),
                    min_size=1, max_size=2)})),
        )

    def create(self, h, owner, spec):
        kind, body = spec
        made = h.ok(owner, "POST", f"/v1/{kind}s", json=body)
        return Made(kind, made["id"], "kauri", made)

    def visible_ids(self, h, principal):
        return {item["id"] for kind in ("product", "customer", "store", "order")
                for item in h.ok(principal, "GET", f"/v1/{kind}s", params={"limit": 100})["data"]}

    def probes(self, made, other):
        path = f"/v1/{made.kind}s/{made.id}"
        change = {"product": {"unit_amount": 1}, "customer": {"name": "Mine now"}, "store": {"active": False},
                  "order": {"notes": "mine now"}}[made.kind]
        probes = [Probe("GET", path, 404), Probe("POST", path, 404, change)]
        if made.kind in ("product", "customer"):
            probes.append(Probe("DELETE", path, 404))
        if made.kind == "order":
            card = {"card": {"number": "4242424242424242", "exp_month": 12, "exp_year": 2034, "cvc": "123"}}
            probes += [Probe("POST", f"{path}/pay", 404, card), Probe("POST", f"{path}/cancel", 404),
                       Probe("POST", f"{path}/fulfill", 404)]
        if made.kind == "customer":   # nor can B order on A's customer's account
            probes.append(Probe("POST", "/v1/orders", 404, {"customer": made.id, "currency": "nzd", "line_items": [
                {"description": "Anything", "quantity": 1, "unit_amount": 1}]}))
        return probes

    def read_back(self, h, owner, made):
        return h.ok(owner, "GET", f"/v1/{made.kind}s/{made.id}")


# ------------------------------------------------------------------------------- Ping Network

class PingNetworkCase(IsolationCase):
    api = "pingnetwork"
    owners = ("acme-primary", "acme-ci")                               # two tokens of one customer
    others = ("globex-primary", "initech-primary")

    def specs(self):
        return st.fixed_dictionaries({
            "version": st.sampled_from(["v1", "v2"]), "client_id": words,
            "zone": st.sampled_from(["de", "nl-ams", "us-nyc"]), "reusable": st.booleans()})

    def create(self, h, owner, spec):
        body = {"client_id": spec["client_id"], "connection_type": "vless", "zone": spec["zone"]}
        if spec["version"] == "v2":
            body["reusable"] = spec["reusable"]
        session = h.ok(owner, "POST", f"/customer/{spec['version']}/sessions", 201, json=body)
        return Made("session", session["id"], "cus_acme", session, {"version": spec["version"]})

    def visible_ids(self, h, principal):
        return {s["id"] for version in ("v1", "v2")
                for s in h.ok(principal, "GET", f"/customer/{version}/sessions", params={"limit": 100})["data"]}

    def probes(self, made, other):
        probes = []
        for version in ("v1", "v2"):
            base = f"/customer/{version}/sessions/{made.id}"
            probes += [Probe("GET", base, 404), Probe("GET", f"{base}/status", 404), Probe("DELETE", base, 404)]
        return probes + [Probe("PATCH", f"/customer/v2/sessions/{made.id}/pause", 404),
                         Probe("PATCH", f"/customer/v2/sessions/{made.id}/resume", 404)]

    def read_back(self, h, owner, made):
        return h.ok(owner, "GET", f"/customer/{made.extra['version']}/sessions/{made.id}")


# ------------------------------------------------------------------------------- Plggr

ACME_COMPANIES = ["1a000000-0000-4000-8000-000000000001", "1a000000-0000-4000-8000-000000000002"]
OTHER_COMPANIES = {"borealis-integration": ["2b000000-0000-4000-8000-000000000001",
                                            "2b000000-0000-4000-8000-000000000002"],
                   "cobalt-integration": ["3c000000-0000-4000-8000-000000000001",
                                          "3c000000-0000-4000-8000-000000000002"]}
PLGGR_KINDS = {"product": "products", "customer": "customers", "order": "orders"}


class PlggrCase(IsolationCase):
    api = "plggr"
    owners = ("acme-integration",)
    others = ("borealis-integration", "cobalt-integration")

    def specs(self):
        company = st.integers(0, 1)
        return st.one_of(
            st.tuples(st.just("product"), company, st.fixed_dictionaries({
                "sku": words, "name": words, "status": st.sampled_from(["draft", "active"])})),
            st.tuples(st.just("customer"), company, st.fixed_dictionaries({"name": words})),
            st.tuples(st.just("order"), company, st.fixed_dictionaries({
                "customerId": st.uuids().map(str), "currency": st.just("SEK"),
                "lines": st.lists(st.fixed_dictionaries({"productId": st.uuids().map(str), "quantity": quantities,
                                                         "unitPrice": amounts}), min_size=1, max_size=2)})),
        )

    def create(self, h, owner, spec):
        kind, company_index, body = spec
        company = ACME_COMPANIES[company_index]
        made = h.ok(owner, "POST", f"/companies/{company}/{PLGGR_KINDS[kind]}", 201, json=body)
        return Made(kind, made["id"], company, made)

    def visible_ids(self, h, principal):
        companies = OTHER_COMPANIES.get(principal, ACME_COMPANIES)
        return {item["id"] for company in companies for kind in PLGGR_KINDS.values()
                for item in h.ok(principal, "GET", f"/companies/{company}/{kind}", params={"pageSize": 100})["data"]}

    def probes(self, made, other):
        kind = PLGGR_KINDS[made.kind]
        own = f"/companies/{made.scope}/{kind}/{made.id}"
        theirs = f"/companies/{OTHER_COMPANIES[other][0]}/{kind}/{made.id}"
        change = {"product": {"name": "Mine"}, "customer": {"name": "Mine"}, "order": {"notes": "Mine"}}[made.kind]
        return [Probe("GET", own, 403), Probe("GET", theirs, 404), Probe("PATCH", own, 403, change),
                Probe("PATCH", theirs, 404, change), Probe("DELETE", own, 403), Probe("DELETE", theirs, 404),
                Probe("GET", f"/companies/{made.scope}/{kind}", 403)]

    def read_back(self, h, owner, made):
        return h.ok(owner, "GET", f"/companies/{made.scope}/{PLGGR_KINDS[made.kind]}/{made.id}")


CASES = {case.api: case for case in (KonducterCase(), LagerkollCase(), IstockistCase(), PingNetworkCase(),
                                     PlggrCase())}


# ------------------------------------------------------------------------------- the property

@pytest.fixture(scope="module")
def tenancy_handles(mocks_store) -> Iterator[dict[str, Handles]]:
    """One in-process mock per API for the module (Hypothesis examples reset it through the admin API)."""
    handles: dict[str, Handles] = {}
    namespaces = Namespaces(mocks_store)
    for name in CASES:
        main = in_process(name, store=mocks_store, namespace=namespaces.new())
        local = in_process(name, listener="local", api=main.api) if name == "konducter" else None
        handles[name] = Handles(main, local)
    yield handles
    for pair in handles.values():
        pair.main.close()
        if pair.local is not None:
            pair.local.close()
    namespaces.drop()


@pytest.mark.parametrize("api", list(CASES))
@settings(max_examples=8, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_another_tenant_never_sees_changes_or_deletes_what_a_tenant_created(tenancy_handles, api, data):
    case, h = CASES[api], tenancy_handles[api]
    h.main.admin.reset()  # a reset restores the start-up limits: switch them off again
    for policy in h.main.admin.limits():
        response = h.main.admin.http.post("/__mock/limits", json={"policy": policy["name"], "enabled": False})
        assert response.status_code == 200, response.text
    other = data.draw(st.sampled_from(case.others), label="other tenant")
    before = case.visible_ids(h, other)
    made: list[Made] = []
    for spec in data.draw(st.lists(case.specs(), min_size=1, max_size=4), label="creates by A"):
        owner = data.draw(st.sampled_from(case.owners), label="creating principal")
        made.append(case.create(h, owner, spec))

    created_ids = {m.id for m in made}
    assert len(created_ids) == len(made)
    assert case.visible_ids(h, other) == before, "B's lists changed when A created"
    for resource in made:
        for probe in case.probes(resource, other):
            response = h.call(other, probe.method, probe.path, json=probe.json, listener=probe.listener)
            assert response.status_code == probe.status, (
                f"{other} {probe.method} {probe.path}: {response.status_code} {response.text}")
        case.other_checks(h, resource, other)

    assert case.visible_ids(h, other) == before
    assert created_ids <= case.visible_ids(h, case.owners[0]), "A no longer lists what it created"
    for resource in made:
        for reader in case.readers(resource):
            assert case.read_back(h, reader, resource) == resource.snapshot, f"{reader}: {resource.kind} changed"
