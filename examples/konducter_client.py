"""Konducter: put a POS order into a site, advance it to the kitchen, then sync the site's new orders.

    mocks verify-client konducter -- python examples/konducter_client.py
    mocks verify-client konducter -- python examples/konducter_client.py --bug retries-create-blindly

Konducter has no idempotency keys: when the answer to a create is lost, the client looks the order
up by its own reference (externalId) before sending it again. Reads MOCKS_BASE_URL, MOCKS_CREDENTIALS.
"""

from __future__ import annotations

import sys
import uuid
from typing import Any

from resilient import Session, main

BUGS = {"retries-create-blindly", "ignores-retry-after", "retries-forever"}


def run(base_url: str, credentials: dict[str, Any], bugs: frozenset[str] = frozenset()) -> dict[str, Any]:
    site = credentials["scope"]
    session = Session(base_url, {"AccessKey": credentials["schemes"]["AccessKey"],
                                 "AccessSecret": credentials["schemes"]["AccessSecret"]}, bugs=bugs)
    orders = f"/sites/{site}/orders"
    reference = f"pos-{uuid.uuid4()}"

    def find_order() -> dict[str, Any] | None:
        """Did the lost create go through? Look for our reference among the site's orders."""
        page = 1
        while True:
            listing = session.call("GET", orders, params={"page": page, "pageSize": 100})
            found = next((o for o in listing["items"] if o["externalId"] == reference), None)
            if found is not None or not listing["hasMore"]:
                return found
            page += 1

    try:
        order = session.call("POST", orders, json_body={
            "externalId": reference, "channel": "inStore",
            "items": [{"name": "Flat white", "quantity": 2}, {"name": "Banana bread", "quantity": 1}],
        }, lookup=None if "retries-create-blindly" in bugs else find_order)
        # BUG(retries-create-blindly): without the lookup, a create whose answer was lost is sent again
        for status in ("accepted", "inProgress"):
            order = session.call("PATCH", f"{orders}/{order['id']}", json_body={"status": status})
        waiting = session.call("GET", orders, params={"status": "new", "pageSize": 100})
        return {"order": order["id"], "status": order["status"], "new_orders": waiting["total"]}
    finally:
        session.close()


if __name__ == "__main__":
    sys.exit(main(run, BUGS))
