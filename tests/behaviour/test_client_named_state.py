"""What clients name is forgotten once it has passed, over HTTP on both stores.

Idempotency keys and log-in tokens are made by clients, one per request if a client likes: each is
kept for its declared lifetime on the mock clock, then forgotten as new ones arrive (a snapshot stops
listing it), so a client cannot grow the sandbox's memory for ever. Enough keys are sent for either
store to sweep (memory: once a table has doubled past 1,024 keys; Redis: 4 passed keys per new one).
"""

from __future__ import annotations

import uuid

KEYS_A_CLIENT_MAKES = 2100
A_DAY = 86400
PLGGR_GRANT = {"client_id": "sandbox-acme-client-id", "client_secret": "sandbox-acme-client-secret",
               "audience": "https://api.plggr.net", "grant_type": "client_credentials"}


def limits_off_clock_frozen(handle) -> None:
    for policy in handle.admin.limits():
        handle.admin.http.post("/__mock/limits", json={"policy": policy["name"], "enabled": False})
    handle.admin.freeze()


def kept(handle, space: str, names: set[str]) -> set[str]:
    """Which of `names` the sandbox's snapshot still holds in one keyed-value space."""
    stored = handle.admin.http.get("/__mock/snapshot").json()["values"][space]
    return {name for name in names if any(name in entry[0] for entry in stored)}


def test_idempotency_keys_are_forgotten_once_they_expire_and_a_live_one_still_replays(istockist):
    limits_off_clock_frozen(istockist)
    auth = istockist.auth_headers()

    def post_with_new_keys(count: int) -> set[str]:
        keys = {str(uuid.uuid4()) for _ in range(count)}
        for key in keys:
            created = istockist.client.post("/v1/customers", json={"name": "Keyed"},
                                            headers={**auth, "Idempotency-Key": key})
            assert created.status_code == 200, created.text
        return keys

    earlier = post_with_new_keys(KEYS_A_CLIENT_MAKES)
    assert kept(istockist, "idempotency", earlier) == earlier
    istockist.admin.advance(A_DAY + 1)
    alive = post_with_new_keys(1)
    later = post_with_new_keys(KEYS_A_CLIENT_MAKES)
    assert kept(istockist, "idempotency", earlier) == set()
    assert kept(istockist, "idempotency", later | alive) == later | alive
    (key,) = alive
    retry = istockist.client.post("/v1/customers", json={"name": "Keyed"}, headers={**auth, "Idempotency-Key": key})
    assert retry.headers["idempotent-replayed"] == "true"


def test_log_in_tokens_are_forgotten_once_they_expire_and_a_live_one_still_works(plggr):
    limits_off_clock_frozen(plggr)

    def log_in(times: int) -> set[str]:
        tokens = set()
        for _ in range(times):
            issued = plggr.client.post("/oauth/token", json=PLGGR_GRANT)
            assert issued.status_code == 200, issued.text
            tokens.add(issued.json()["access_token"])
        return tokens

    earlier = log_in(KEYS_A_CLIENT_MAKES)
    assert kept(plggr, "issued-credentials", earlier) == earlier
    plggr.admin.advance(A_DAY + 1)
    later = log_in(KEYS_A_CLIENT_MAKES)
    assert kept(plggr, "issued-credentials", earlier) == set()
    assert kept(plggr, "issued-credentials", later) == later
    companies = {token: plggr.client.get("/companies", headers={"Authorization": f"Bearer {token}"}).status_code
                 for token in (next(iter(later)), next(iter(earlier)))}
    assert list(companies.values()) == [200, 401]
