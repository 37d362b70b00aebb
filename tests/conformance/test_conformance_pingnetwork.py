"""Ping Network: zones, sessions (v1 and v2), the session event stream and the limits.

Authenticated with Acme's API token (the whole `Authorization` value, `ApiKeyAuth`); the tenant
is the principal, so there is no scope parameter to pin.
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

SESSION_BY_ID = ("getSessionV1", "getSessionV2", "getSessionStatusV1", "getSessionStatusV2",
                 "pauseSessionV2", "resumeSessionV2", "deleteSessionV1", "deleteSessionV2")


def _pins(api, credential):
    # Outside the stateful phase, session ids are often the customer's seeded sessions (ended,
    # connected, paused: every state is rendered, paused and resumed); the rest stay generated (404).
    sessions = seeded(api, "session", credential.principal.default_scope)
    return [Pin("path", "id", some_of(sessions), SESSION_BY_ID, stateful=False)]


PING, ERROR = load_or_report(lambda: conformance_schema("pingnetwork", pins=_pins))

if PING is None:
    test_pingnetwork_loads = fail_load("pingnetwork", ERROR)
else:
    schema = PING.schema

    @schema.parametrize()
    def test_pingnetwork(case):
        PING.call_and_validate(case)

    TestPingnetworkStateful = stateful_test_case(PING)

    def test_pingnetwork_reached_business_logic():
        PING.reached_business_logic()
