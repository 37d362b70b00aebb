"""Buggy Konducter handler: crashes (500) on an event for an order it has not seen created.

    uvicorn --app-dir examples/webhook_handlers konducter_fails_out_of_order:app --port 9000
"""

from __future__ import annotations

from typing import Any

from konducter_handler import SECRET, OrderBook, create_app


class StrictOrderBook(OrderBook):
    def apply(self, event: dict[str, Any]) -> None:
        order = event["data"]
        if event["eventType"] != "order.created":
            # BUG: assumes order.created always arrives first; an update of an unknown order raises
            # KeyError, which Starlette turns into a 500: the sender retries, and the event is lost.
            self.orders[order["id"]].update(order)
        else:
            self.orders[order["id"]] = order
        self.applied.append(event["eventId"])


app = create_app(StrictOrderBook(SECRET))
