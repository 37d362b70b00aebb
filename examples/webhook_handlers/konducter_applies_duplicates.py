"""Buggy Konducter handler: applies a redelivered event again.

    uvicorn --app-dir examples/webhook_handlers konducter_applies_duplicates:app --port 9000
"""

from __future__ import annotations

from typing import Any

from konducter_handler import SECRET, OrderBook, create_app


class ForgetfulOrderBook(OrderBook):
    def is_new(self, event: dict[str, Any], body: bytes) -> bool:
        # BUG: no de-duplication: every retry and duplicate of an event is applied once more.
        return True


app = create_app(ForgetfulOrderBook(SECRET))
