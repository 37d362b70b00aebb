"""Lagerkoll: log in, register a webhook for new customer orders, then execute it once.

    mocks verify-client lagerkoll -- python examples/lagerkoll_client.py
    mocks verify-client lagerkoll -- python examples/lagerkoll_client.py --bug never-refreshes-token

The user token from the login is renewed when a call answers 401. Webhooks have no idempotency key:
when the answer to a create is lost, the client looks for its webhook (same feature, same url)
before creating it again. Reads MOCKS_BASE_URL and MOCKS_CREDENTIALS (login and store); the
receiver's url comes from LAGERKOLL_HOOK_URL (default: a local port nothing listens on).
"""

from __future__ import annotations

import os
import sys
import uuid
from typing import Any

from resilient import Session, Token, main

BUGS = {"never-refreshes-token", "ignores-retry-after", "retries-forever", "malformed-body-after-retry"}
FEATURE, METHOD = "customerorders", "created"


def run(base_url: str, credentials: dict[str, Any], bugs: frozenset[str] = frozenset()) -> dict[str, Any]:
    login = credentials["login"]
    store = credentials["scope"]
    hook_url = os.environ.get("LAGERKOLL_HOOK_URL", "http://127.0.0.1:9/hooks/lagerkoll/orders")
    hook_url += f"?subscription={uuid.uuid4().hex[:8]}"  # ours, recognisable among the store's webhooks
    auth = Session(base_url, bugs=bugs)

    def log_in() -> dict[str, str]:
        user = auth.call("POST", "/v1/mobile/login", json_body={
            "username": login["username"], "password": login["password"], "deviceType": "server"})
        return {"user_id": str(user["user_id"]), "user_token": user["user_token"]}

    api = Session(base_url, {"store": str(store), "Accept": "application/json"}, token=Token(log_in), bugs=bugs)

    def find_webhook() -> dict[str, Any] | None:
        listing = api.call("GET", f"/v1/webhooks/{FEATURE}")
        return next((w for w in listing["webhooks"] if w["url"] == hook_url and w["featureMethod"] == METHOD), None)

    try:
        features = api.call("GET", "/v1/feature/")["features"]
        if not any(f["id"] == FEATURE and METHOD in f["methods"] for f in features):
            raise SystemExit(f"feature {FEATURE}.{METHOD} is not offered")
        webhook = api.call("POST", "/v1/webhooks/", lookup=find_webhook,
                           json_body={"featureId": FEATURE, "featureMethod": METHOD, "url": hook_url})
        executed = api.call("POST", f"/v1/webhooks/{webhook['guid']}", json_body={
            "type": "customerorder", "action": "created", "orderId": 4711, "storeId": int(store)})
        return {"webhook": webhook["id"], "guid": webhook["guid"], "delivery": executed["deliveryId"]}
    finally:
        api.close()
        auth.close()


if __name__ == "__main__":
    sys.exit(main(run, BUGS))
