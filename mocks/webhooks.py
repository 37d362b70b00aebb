"""Outgoing webhooks: real HTTP POSTs, signed, retried with exponential backoff on the mock clock.

At-least-once: a delivery is retried on a non-2xx answer or any error of its attempt until it
succeeds or its attempts run out, so a receiver that comes back within the retry horizon loses
nothing. This module turns events into deliveries; `mocks.delivery_worker` sends them and
`mocks.deliveries` keeps their bounded log.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import TYPE_CHECKING, Any

from mocks.deliveries import Delivery, RetryPolicy, StoredDeliveries
from mocks.delivery_worker import LEASE, DeliveryWorker
from mocks.ids import uuid4_text
from mocks.media import dump_json
from mocks.state import Dropped
from mocks.templates import compile_template

if TYPE_CHECKING:
    import httpx

    from mocks.events import Event
    from mocks.runtime import Runtime

__all__ = ["Delivery", "RetryPolicy", "WebhookDispatcher", "sign"]


def sign(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class WebhookDispatcher:
    def __init__(self, runtime: Runtime, *, lease: float = LEASE) -> None:
        self.runtime = runtime
        spec = runtime.contract.extension("webhooks") or {}
        self.spec = spec
        self.retry = RetryPolicy.declare(spec.get("retry"))
        self.envelope = compile_template(spec.get("envelope", "{event.data}"))
        signature = spec.get("signature") or {}
        self.signature_header = signature.get("header")
        self.signature_secret = compile_template(signature.get("secret", ""))
        self.signature_format = compile_template(signature.get("format", "{signature}"))
        self.event_id_header = spec.get("event-id-header")
        self.deliveries = StoredDeliveries(runtime.store)
        self.dropped = Dropped()  # deliveries of a change already made that the store could not queue
        self.timeout = 5.0
        # where deliveries go: real HTTP by default; tests and fuzzers hand in an httpx transport
        # (e.g. httpx.MockTransport) so that generated handler URLs are never contacted
        self.transport: httpx.AsyncBaseTransport | None = None
        self.worker = DeliveryWorker(self.deliveries, runtime.clock, self.retry, self.client, lease=lease)
        if "subscriptions" in spec:
            runtime.events.listeners.append(self.on_event)

    # producing ---------------------------------------------------------------------------------
    def on_event(self, event: Event) -> None:
        with self.dropped.unless_store_down(f"the webhook deliveries of event {event.type}"):
            self._enqueue_for(event)

    def _enqueue_for(self, event: Event) -> None:
        subscriptions = self.spec["subscriptions"]
        resource = subscriptions["resource"]
        owner = subscriptions.get("owner") or {}
        for record in self.runtime.store.scan(resource):
            data = record["data"]
            url = data.get(subscriptions.get("url-field", "url"))
            wanted = data.get(subscriptions.get("events-field", "events")) or []
            if not url or event.type not in wanted:
                continue
            principal = self._owner(owner, data)
            if principal is None or (event.scope is not None and event.scope not in principal.scopes):
                continue
            context = {"event": event.describe(), "principal": {**principal.attributes, "id": principal.id},
                       "now": self.runtime.clock.iso(), "now_unix": int(self.runtime.clock.now())}
            body = dump_json(self.envelope(context))
            self.enqueue(url, body, self.signed_headers(body, context, event.id),
                         event_id=event.id, event_type=event.type, source=f"{resource}:{principal.id}")

    def _owner(self, owner: dict[str, Any], data: dict[str, Any]):
        if not owner:
            return None
        value = data.get(owner["field"])
        return next((c.principal for c in self.runtime.fixtures.credentials
                     if str(c.principal.attributes.get(owner["attribute"])) == str(value)), None)

    def signed_headers(self, body: bytes, context: dict[str, Any], event_id: str | None) -> dict[str, str]:
        headers = {"Content-Type": "application/json", "User-Agent": f"{self.runtime.name}-mock-webhooks/1"}
        if self.event_id_header and event_id:
            headers[self.event_id_header] = event_id
        if self.signature_header:
            secret = self.signature_secret(context) or ""
            headers[self.signature_header] = self.signature_format({"signature": sign(str(secret), body)})
        return headers

    def enqueue(self, url: str, body: bytes, headers: dict[str, str], **about: Any) -> Delivery:
        now = self.runtime.clock.now()
        delivery = Delivery(uuid4_text(), url, body, headers, now, now, **about)
        self.deliveries.add(delivery)
        self.worker.schedule(delivery)
        return delivery

    def client(self) -> httpx.AsyncClient:
        """The one place the outbound HTTP client for deliveries is made."""
        # an injected transport never touches the network; the real one refuses the sandbox's own ports
        import httpx  # here, not at the top: ~50 ms of start-up (it pulls in click and rich) until a first delivery

        from mocks.outbound_transport import guarded_transport

        return httpx.AsyncClient(timeout=self.timeout, transport=self.transport or guarded_transport())

    async def start(self) -> None:
        # in every process: with a shared store, deliveries queued elsewhere (or taken over) are due here too
        self.worker.ensure_running()

    async def stop(self) -> None:
        await self.worker.stop()

    def describe(self) -> list[dict[str, Any]]:
        return self.deliveries.describe()

    def summary(self) -> dict[str, Any]:
        return self.deliveries.summary()

    def clear(self) -> None:
        self.deliveries.clear()
        self.worker.clear()
