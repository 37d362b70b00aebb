"""Konducter: the cloud listener (cloud + incoming-webhooks operations) and the local listener.

Each listener is its own ASGI app (`MockApp(api, "cloud" | "local")`, what `build_app("konducter",
listener=...)` returns); each serves only its own tags, so each gets the operations of those tags.
"""

from __future__ import annotations

from conformancekit import (
    Pin,
    conformance_schema,
    fail_load,
    load_or_report,
    seeded,
    some_of,
    stateful_test_case,
)


def _pins(api, credential):
    principal = credential.principal
    site = principal.scopes[0]
    return [
        # The tenant scope of the cloud paths: one of the application's own sites.
        Pin("path", "SiteId", site),
        # Only the calling application's own record and subscription are visible (else 404).
        Pin("path", "ApplicationId", principal.attributes["application_id"]),
        # Brands the application is enabled for (getBrand; the incoming webhook's brand).
        Pin("path", "BrandId", principal.attributes["brand_ids"][0]),
        # An incoming webhook names the site in its body; it must be one of the caller's (else 403).
        Pin("body", "/siteId", site, ("receiveIncomingOrder",)),
        # Outside the stateful phase, order ids are often the site's seeded orders (in every status;
        # the local server answers for the same, default, site), read and moved through the lifecycle.
        Pin("path", "OrderId", some_of(seeded(api, "order", site)),
            ("getOrder", "updateOrder", "getLocalOrder", "updateLocalOrder"), stateful=False),
    ]


CLOUD, CLOUD_ERROR = load_or_report(
    lambda: conformance_schema("konducter", listener="cloud", tags=["cloud", "incoming-webhooks"], pins=_pins))
LOCAL, LOCAL_ERROR = load_or_report(
    lambda: conformance_schema("konducter", listener="local", tags=["local"], pins=_pins))

if CLOUD is None:
    test_konducter_cloud_loads = fail_load("konducter (cloud)", CLOUD_ERROR)
else:
    cloud = CLOUD.schema

    @cloud.parametrize()
    def test_konducter_cloud(case):
        CLOUD.call_and_validate(case)

    TestKonducterCloudStateful = stateful_test_case(CLOUD)

    def test_konducter_cloud_reached_business_logic():
        CLOUD.reached_business_logic()

if LOCAL is None:
    test_konducter_local_loads = fail_load("konducter (local)", LOCAL_ERROR)
else:
    local = LOCAL.schema

    @local.parametrize()
    def test_konducter_local(case):
        LOCAL.call_and_validate(case)

    TestKonducterLocalStateful = stateful_test_case(LOCAL)

    def test_konducter_local_reached_business_logic():
        LOCAL.reached_business_logic()
