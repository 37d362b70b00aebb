"""Buggy Konducter handler: trusts every delivery, signed or not.

    uvicorn --app-dir examples/webhook_handlers konducter_accepts_bad_signatures:app --port 9000
"""

from __future__ import annotations

from konducter_handler import SECRET, OrderBook, create_app


class TrustingOrderBook(OrderBook):
    def verify(self, body: bytes, signature: str | None) -> bool:
        # BUG: the signature is never checked, so anyone can post (or alter) an order event.
        return True


app = create_app(TrustingOrderBook(SECRET))
