"""iStockist: products, customers, stores, orders and the order actions, and the stateful phase.

Authenticated with HTTP Basic (API key as user name, secret as password) as the Kauri Coffee
Roasters account; the tenant is the principal, so there is no scope parameter to pin.
"""

from __future__ import annotations

from conformancekit import (
    Pin,
    conformance_schema,
    fail_load,
    fresh_uuids,
    load_or_report,
    seeded,
    some_of,
    stateful_test_case,
)

BY_ID = {
    "product": ("getProduct", "updateProduct", "deleteProduct"),
    "customer": ("getCustomer", "updateCustomer", "deleteCustomer"),
    "store": ("getStore", "updateStore"),
    "order": ("getOrder", "updateOrder", "payOrder", "cancelOrder", "fulfillOrder"),
}


def _pins(api, credential):
    scope = credential.principal.scopes[0]
    customer = next(c["id"] for c in api.fixtures.resources["customer"] if c["account"] == scope)
    product = next(p["id"] for p in api.fixtures.resources["product"] if p["account"] == scope and p["active"])
    return [
        # One key per request: Schemathesis draws keys from a small space (its examples, shrunk UUIDs),
        # and a key seen before with other parameters is (rightly) 409 idempotency_key_reused.
        Pin("header", "Idempotency-Key", fresh_uuids()),
        # An order names a customer and products of the account; any other id is (rightly) 404.
        Pin("body", "/customer", customer, ("createOrder",)),
        Pin("body", "/line_items/*/product", product, ("createOrder",)),
        # Outside the stateful phase, ids are often the account's seeded records (every case starts
        # from the fixtures): reads render real objects, updates, deletes and order actions act on them.
        *(Pin("path", "id", some_of(seeded(api, resource, scope)), operations, stateful=False)
          for resource, operations in BY_ID.items()),
    ]


ISTOCKIST, ERROR = load_or_report(lambda: conformance_schema("istockist", pins=_pins))

if ISTOCKIST is None:
    test_istockist_loads = fail_load("istockist", ERROR)
else:
    schema = ISTOCKIST.schema

    @schema.parametrize()
    def test_istockist(case):
        ISTOCKIST.call_and_validate(case)

    TestIstockistStateful = stateful_test_case(ISTOCKIST)

    def test_istockist_reached_business_logic():
        ISTOCKIST.reached_business_logic()
