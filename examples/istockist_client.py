"""iStockist: create a wholesale order for a customer and pay it, safely retried with Idempotency-Key.

    mocks verify-client istockist -- python examples/istockist_client.py
    mocks verify-client istockist -- python examples/istockist_client.py --bug treats-402-as-success

Reads MOCKS_BASE_URL and MOCKS_CREDENTIALS (API key and secret as HTTP Basic).
"""

from __future__ import annotations

import sys
from typing import Any

from resilient import Refused, Session, main

BUGS = {"ignores-retry-after", "new-key-per-retry", "treats-402-as-success", "retries-forever",
        "malformed-body-after-retry"}
TEST_CARD = {"number": "4242424242424242", "exp_month": 12, "exp_year": 2034, "cvc": "123"}


def run(base_url: str, credentials: dict[str, Any], bugs: frozenset[str] = frozenset()) -> dict[str, Any]:
    basic = credentials["basic"]
    session = Session(base_url, {"Authorization": basic["header"], "Accept": "application/json"}, bugs=bugs)
    try:
        customer = session.call("GET", "/v1/customers", params={"limit": 1})["data"][0]
        products = session.call("GET", "/v1/products", params={"limit": 10})["data"]
        product = next(p for p in products if p["active"])
        order = session.call("POST", "/v1/orders", idempotent=True, json_body={
            "customer": customer["id"], "currency": product["currency"],
            "line_items": [{"product": product["id"], "quantity": 2, "unit_amount": product["unit_amount"]}],
            "notes": "Weekly restock",
        })
        try:
            order = session.call("POST", f"/v1/orders/{order['id']}/pay", idempotent=True,
                                 json_body={"card": TEST_CARD})
        except Refused as refused:
            if refused.status == 402 and "treats-402-as-success" in bugs:
                return {"order": order["id"], "status": "paid"}  # BUG(treats-402-as-success): a decline is not a payment
            raise
        return {"order": order["id"], "status": order["status"], "total": order["amount_total"]}
    finally:
        session.close()


if __name__ == "__main__":
    sys.exit(main(run, BUGS))
