"""Buggy Konducter handler: recognises a redelivery by its bytes instead of its event id.

A byte-identical retry is caught, but a duplicate (the same event re-sent with a new envelope
timestamp, hence new bytes and a new signature) is applied a second time.

    uvicorn --app-dir examples/webhook_handlers konducter_dedupes_by_body:app --port 9000
"""

from __future__ import annotations

import hashlib
from typing import Any

from konducter_handler import SECRET, OrderBook, create_app


class BodyHashOrderBook(OrderBook):
    def __init__(self, secret: str) -> None:
        super().__init__(secret)
        self.seen_bodies: set[str] = set()

    def is_new(self, event: dict[str, Any], body: bytes) -> bool:
        # BUG: de-duplicates on a hash of the raw body, not on eventId.
        digest = hashlib.sha256(body).hexdigest()
        if digest in self.seen_bodies:
            return False
        self.seen_bodies.add(digest)
        return True


app = create_app(BodyHashOrderBook(SECRET))
