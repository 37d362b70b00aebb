"""Plggr: every operation (token endpoint included) and the link-driven stateful phase."""

from __future__ import annotations

from conformancekit import (
    Pin,
    bearer_enforced,
    conformance_schema,
    fail_load,
    load_or_report,
    seeded,
    some_of,
    stateful_test_case,
)


def _pins(api, credential):
    company = credential.principal.scopes[0]
    return [
        # Positive cases stay inside the token's tenant: its first company.
        Pin("path", "companyId", company),
        # Outside the stateful phase, ids are often the company's seeded records (every case starts
        # from the fixtures): read, updated (orders through their lifecycle) and deleted.
        *(Pin("path", f"{resource}Id", some_of(seeded(api, resource, company)),
              (f"get{resource.title()}", f"update{resource.title()}", f"delete{resource.title()}"), stateful=False)
          for resource in ("product", "customer", "order")),
        # The token endpoint accepts a schema-valid grant only with a real client id and secret.
        Pin("body", "/client_id", credential.grant["client_id"], ("getToken",)),
        Pin("body", "/client_secret", credential.grant["client_secret"], ("getToken",)),
    ]


def _build():
    return conformance_schema("plggr", pins=_pins)


PLGGR, ERROR = load_or_report(_build)

if PLGGR is None:
    test_plggr_loads = fail_load("plggr", ERROR)
else:
    schema = PLGGR.schema

    # Schemathesis' `ignored_auth` cannot see the `oauth2` scheme; this does its job (see conformancekit).
    OAUTH2_IGNORED_AUTH = bearer_enforced({"PlggrOAuth"})

    @schema.parametrize()
    def test_plggr(case):
        PLGGR.call_and_validate(case, additional_checks=[OAUTH2_IGNORED_AUTH])

    TestPlggrStateful = stateful_test_case(PLGGR)

    def test_plggr_reached_business_logic():
        PLGGR.reached_business_logic()
