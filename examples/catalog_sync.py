"""A client of two APIs: copy the first active iStockist product into the Plggr PIM.

    mocks verify-client istockist plggr --expect examples/catalog_sync.expect.yaml \
        -- python examples/catalog_sync.py
    mocks verify-client istockist plggr -- python examples/catalog_sync.py --bug blind-retry
    mocks verify-client istockist plggr --expect examples/catalog_sync.expect.yaml \
        -- python examples/catalog_sync.py --bug price-in-cents

Reads each API's variables by name: MOCKS_ISTOCKIST_BASE_URL and MOCKS_ISTOCKIST_CREDENTIALS
(Basic auth), MOCKS_PLGGR_BASE_URL and MOCKS_PLGGR_CREDENTIALS (OAuth client, company). Plggr
products have no idempotency key: when the answer to the create is lost, the client looks the
product up by its SKU before creating it again.

The planted bugs, each marked `# BUG(name)` below or in resilient.py:
- blind-retry: re-sends the create after a lost answer without looking first (a duplicate product);
- price-in-cents: sends iStockist's amount in cents as Plggr's amount in units (valid, but wrong:
  only the user's own postcondition, `--expect`, can tell);
- gives-up-at-once: one failure and the whole job is abandoned.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

from resilient import GiveUp, Refused, Session, Token, bugs_from_argv

BUGS = {"blind-retry", "price-in-cents", "gives-up-at-once"}
APIS = ("istockist", "plggr")


def run(base_urls: dict[str, str], credentials: dict[str, dict[str, Any]],
        bugs: frozenset[str] = frozenset()) -> dict[str, Any]:
    shop_bugs = bugs & {"gives-up-at-once"}
    shop = Session(base_urls["istockist"], {"Authorization": credentials["istockist"]["basic"]["header"],
                                            "Accept": "application/json"}, bugs=shop_bugs)
    grant = credentials["plggr"]["grant"]
    auth = Session(base_urls["plggr"], bugs=shop_bugs)

    def fetch_token() -> dict[str, str]:
        answer = auth.call("POST", "/oauth/token", json_body={
            "client_id": grant["client_id"], "client_secret": grant["client_secret"],
            "audience": "https://api.plggr.net", "grant_type": "client_credentials"})
        return {"Authorization": f"Bearer {answer['access_token']}"}

    pim = Session(base_urls["plggr"], token=Token(fetch_token), bugs=shop_bugs)
    company = f"/companies/{credentials['plggr']['scope']}"
    try:
        products = shop.call("GET", "/v1/products", params={"limit": 10})["data"]
        product = next(p for p in products if p["active"])
        sku = f"IST-{product['sku']}"
        amount = product["unit_amount"] / 100
        if "price-in-cents" in bugs:
            amount = product["unit_amount"]  # BUG(price-in-cents): cents sent where Plggr wants units

        def find_product() -> dict[str, Any] | None:
            listing = pim.call("GET", f"{company}/products", params={"page": 1, "pageSize": 100})
            return next((p for p in listing["data"] if p["sku"] == sku), None)

        lookup = None if "blind-retry" in bugs else find_product  # BUG(blind-retry): never looks before resending
        created = pim.call("POST", f"{company}/products", lookup=lookup, json_body={
            "sku": sku, "name": product["name"], "status": "active",
            "price": {"amount": amount, "currency": product["currency"].upper()}})
        return {"istockist": product["id"], "plggr": created["id"], "sku": sku}
    finally:
        pim.close()
        auth.close()
        shop.close()


def main() -> int:
    names = [name for name in APIS if f"MOCKS_{name.upper()}_BASE_URL" not in os.environ]
    if names:
        print(f"MOCKS_{names[0].upper()}_BASE_URL is not set: run me under "
              f"`mocks verify-client istockist plggr -- ...`", file=sys.stderr)
        return 2
    urls = {name: os.environ[f"MOCKS_{name.upper()}_BASE_URL"] for name in APIS}
    credentials = {name: json.loads(os.environ.get(f"MOCKS_{name.upper()}_CREDENTIALS") or "{}") for name in APIS}
    try:
        print(json.dumps(run(urls, credentials, bugs_from_argv(sys.argv[1:], BUGS))))
    except (Refused, GiveUp) as exc:
        print(f"failed: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
