"""Idempotent requests: the first response to a key is stored and replayed for its retries."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from mocks.state import Dropped
from mocks.state.protocol import Store
from mocks.types import MockError, MockRequest, MockResponse

SPACE = "idempotency"


@dataclass(slots=True)
class Reservation:
    key: str
    fingerprint: str


class Idempotency:
    def __init__(self, spec: dict[str, Any], store: Store) -> None:
        self.header = spec.get("header", "Idempotency-Key").lower()
        self.methods = {m.upper() for m in spec.get("methods", ["POST"])}
        self.ttl = float(spec.get("ttl", 86400))
        self.mismatch = spec.get("mismatch", "conflict")
        self.in_flight = spec.get("in-flight", "conflict")
        self.replayed_header = spec.get("replayed-header")
        self.store = store
        self.unfinished = Dropped()  # keys left 'running' (until they expire): the store was down after acting

    def begin(self, request: MockRequest, owner: str | None, now: float) -> Reservation | MockResponse | None:
        """None: not idempotent; a Reservation to complete; or the stored response to replay.

        Keys belong to the tenant (an account's keys share them), not to one credential.
        """
        value = request.headers.get(self.header)
        if value is None or request.method not in self.methods:
            return None
        key = f"{owner}|{value}"
        fingerprint = hashlib.sha256(f"{request.method} {request.path}\n".encode() + request.body).hexdigest()
        existing = self.store.put_if_absent(SPACE, key, {"state": "running", "fingerprint": fingerprint},
                                            now + self.ttl, now)
        if existing is None:
            return Reservation(key, fingerprint)
        if existing["fingerprint"] != fingerprint:
            raise MockError(self.mismatch, "this idempotency key was used with other parameters",
                            field=self.header)
        if existing["state"] == "running":
            raise MockError(self.in_flight, "a request with this idempotency key is still being processed",
                            field=self.header)
        stored = existing["response"]
        response = MockResponse(stored["status"], bytes.fromhex(stored["body"]), stored["media_type"],
                                [tuple(h) for h in stored["headers"]])
        if self.replayed_header:
            response.add_header(self.replayed_header, "true")
        return response

    def finish(self, reservation: Reservation, response: MockResponse | None, now: float) -> None:
        """Keep the response for replays; forget the key if the request never really ran.

        A store that went down in between leaves the key 'running' until it expires: retries are then
        refused as in flight, never acted on twice, and the answer already made still goes out."""
        with self.unfinished.unless_store_down("an idempotency key's completion"):
            self._finish(reservation, response, now)

    def _finish(self, reservation: Reservation, response: MockResponse | None, now: float) -> None:
        if response is None or response.status >= 500 or response.status == 429:
            self.store.remove(SPACE, reservation.key)
            return
        stored = {"status": response.status, "body": response.body.hex(), "media_type": response.media_type,
                  "headers": [list(h) for h in response.headers if h[0].lower() != "retry-after"]}
        # compare-and-set: only our own reservation, still running (after it expired, a newer one may hold the key)
        self.store.complete(SPACE, reservation.key, {"state": "running", "fingerprint": reservation.fingerprint},
                            {"state": "done", "fingerprint": reservation.fingerprint, "response": stored},
                            now + self.ttl)
