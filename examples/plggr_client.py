"""Plggr: fetch an OAuth token, push a product from the ERP into the PIM, submit the draft orders.

    mocks verify-client plggr -- python examples/plggr_client.py
    mocks verify-client plggr -- python examples/plggr_client.py --bug never-refreshes-token

The token is fetched once and renewed when a call answers 401 (it expires after 24 h, or earlier
when revoked). Reads MOCKS_BASE_URL and MOCKS_CREDENTIALS (client id and secret, company).
"""

from __future__ import annotations

import sys
import uuid
from typing import Any

from resilient import Session, Token, main

BUGS = {"never-refreshes-token", "retries-forever", "ignores-retry-after"}


def run(base_url: str, credentials: dict[str, Any], bugs: frozenset[str] = frozenset()) -> dict[str, Any]:
    grant = credentials["grant"]
    auth = Session(base_url, bugs=bugs)

    def fetch_token() -> dict[str, str]:
        answer = auth.call("POST", "/oauth/token", json_body={
            "client_id": grant["client_id"], "client_secret": grant["client_secret"],
            "audience": "https://api.plggr.net", "grant_type": "client_credentials"})
        return {"Authorization": f"Bearer {answer['access_token']}"}

    hub = Session(base_url, token=Token(fetch_token), bugs=bugs)
    company = f"/companies/{credentials['scope']}"
    sku = f"ERP-{uuid.uuid4().hex[:12]}"

    def all_pages(path: str) -> list[dict[str, Any]]:
        items, page = [], 1
        while True:
            listing = hub.call("GET", path, params={"page": page, "pageSize": 100})
            items += listing["data"]
            if not listing["hasMore"]:
                return items
            page += 1

    def find_product() -> dict[str, Any] | None:
        return next((p for p in all_pages(f"{company}/products") if p["sku"] == sku), None)

    try:
        product = hub.call("POST", f"{company}/products", lookup=find_product, json_body={
            "sku": sku, "name": "Monitor arm, dual", "status": "active",
            "price": {"amount": 899.0, "currency": "SEK"}})
        submitted = []
        for order in all_pages(f"{company}/orders"):
            if order["status"] == "draft":
                hub.call("PATCH", f"{company}/orders/{order['id']}", json_body={"status": "submitted"})
                submitted.append(order["id"])
        return {"product": product["id"], "submitted": submitted}
    finally:
        hub.close()
        auth.close()


if __name__ == "__main__":
    sys.exit(main(run, BUGS))
