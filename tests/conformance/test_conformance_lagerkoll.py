"""Lagerkoll: webhooks, login, features and stores, and the link-driven stateful phase.

Authenticated as the API key of store 1001 with `store: 1001` (both through Schemathesis'
`[auth.openapi]`: the `store` header is the `Store` security scheme, `x-mock-scope`).
"""

from __future__ import annotations

from conformancekit import (
    Pin,
    conformance_schema,
    fail_load,
    load_or_report,
    some_of,
    stateful_test_case,
)


def _pins(api, credential):
    # The login accepts a schema-valid body only with a real user's username and password.
    user = next(c for c in api.fixtures.credentials if c.grant)
    visible = [w for w in api.fixtures.resources["webhook"]
               if w["storeId"] == credential.principal.default_scope or w["enableForGroup"]
               and w["storeGroupId"] == api.fixtures.tenant_attributes(credential.principal.default_scope)["storeGroupId"]]
    return [
        # Outside the stateful phase: lists of features that have webhooks the store can see, and
        # executions and deletions of those webhooks (every case starts from the fixtures; deliveries
        # stay in-process, see conformancekit.keep_webhooks_in_process).
        Pin("path", "id", some_of(sorted({w["featureId"] for w in visible})), ("getWebhooksForFeature",),
            stateful=False),
        Pin("path", "id", some_of([w["guid"] for w in visible]), ("executeWebhook",), stateful=False),
        Pin("path", "id", some_of([w["id"] for w in visible]), ("deleteWebhook",), stateful=False),
        Pin("body", "/username", user.grant["username"], ("login",)),
        Pin("body", "/password", user.grant["password"], ("login",)),
    ]


LAGERKOLL, ERROR = load_or_report(lambda: conformance_schema("lagerkoll", pins=_pins))

if LAGERKOLL is None:
    test_lagerkoll_loads = fail_load("lagerkoll", ERROR)
else:
    schema = LAGERKOLL.schema

    @schema.parametrize()
    def test_lagerkoll(case):
        LAGERKOLL.call_and_validate(case)

    TestLagerkollStateful = stateful_test_case(LAGERKOLL)

    def test_lagerkoll_reached_business_logic():
        LAGERKOLL.reached_business_logic()
