"""Outgoing webhooks: real HTTP POSTs, signed, retried with exponential backoff on the mock clock.

At-least-once: a delivery is retried on a non-2xx answer or a connection error until it succeeds
or its attempts run out, so a receiver that comes back within the retry horizon loses nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx

from mocks.media import dump_json
from mocks.outbound import guarded_transport
from mocks.templates import compile_template

if TYPE_CHECKING:
    from mocks.engine import Api
    from mocks.events import Event

log = logging.getLogger("mocks.webhooks")
TICK = 0.02  # seconds between looks at the queue: retries are due on the mock clock, not by sleeping


@dataclass(slots=True)
class RetryPolicy:
    max_attempts: int = 8
    initial: float = 1.0
    multiplier: float = 2.0
    max_interval: float = 600.0

    @classmethod
    def declare(cls, spec: dict[str, Any] | None) -> RetryPolicy:
        spec = spec or {}
        return cls(int(spec.get("max-attempts", 8)), float(spec.get("initial-interval", 1)),
                   float(spec.get("multiplier", 2)), float(spec.get("max-interval", 600)))

    def delay(self, attempt: int) -> float:
        """Wait after the `attempt`-th failure (1-based)."""
        return min(self.initial * self.multiplier ** (attempt - 1), self.max_interval)

    @property
    def horizon(self) -> float:
        return sum(self.delay(n) for n in range(1, self.max_attempts))


@dataclass(slots=True)
class Delivery:
    id: str
    url: str
    body: bytes
    headers: dict[str, str]
    created_at: float
    next_at: float
    event_id: str | None = None
    event_type: str | None = None
    source: str = ""
    state: str = "pending"  # pending | delivered | failed
    attempts: list[dict[str, Any]] = field(default_factory=list)

    def describe(self) -> dict[str, Any]:
        return {"id": self.id, "url": self.url, "state": self.state, "event_id": self.event_id,
                "event_type": self.event_type, "source": self.source, "created_at": self.created_at,
                "next_attempt_at": self.next_at if self.state == "pending" else None,
                "attempts": self.attempts, "headers": self.headers,
                "body": self.body.decode("utf-8", "replace")}


def sign(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class WebhookDispatcher:
    def __init__(self, api: Api) -> None:
        self.api = api
        spec = api.contract.extension("webhooks") or {}
        self.spec = spec
        self.retry = RetryPolicy.declare(spec.get("retry"))
        self.envelope = compile_template(spec.get("envelope", "{event.data}"))
        signature = spec.get("signature") or {}
        self.signature_header = signature.get("header")
        self.signature_secret = compile_template(signature.get("secret", ""))
        self.signature_format = compile_template(signature.get("format", "{signature}"))
        self.event_id_header = spec.get("event-id-header")
        self.deliveries: list[Delivery] = []
        self._task: asyncio.Task | None = None
        self._wake: asyncio.Event | None = None
        self.timeout = 5.0
        # where deliveries go: real HTTP by default; tests and fuzzers hand in an httpx transport
        # (e.g. httpx.MockTransport) so that generated handler URLs are never contacted
        self.transport: httpx.AsyncBaseTransport | None = None
        if "subscriptions" in spec:
            api.events.listeners.append(self.on_event)

    # producing ---------------------------------------------------------------------------------
    def on_event(self, event: Event) -> None:
        subscriptions = self.spec["subscriptions"]
        resource = subscriptions["resource"]
        owner = subscriptions.get("owner") or {}
        for record in self.api.store.scan(resource):
            data = record["data"]
            url = data.get(subscriptions.get("url-field", "url"))
            wanted = data.get(subscriptions.get("events-field", "events")) or []
            if not url or event.type not in wanted:
                continue
            principal = self._owner(owner, data)
            if principal is None or (event.scope is not None and event.scope not in principal.scopes):
                continue
            context = {"event": event.describe(), "principal": {**principal.attributes, "id": principal.id},
                       "now": self.api.clock.iso(), "now_unix": int(self.api.clock.now())}
            body = dump_json(self.envelope(context))
            self.enqueue(url, body, self.signed_headers(body, context, event.id),
                         event_id=event.id, event_type=event.type, source=f"{resource}:{principal.id}")

    def _owner(self, owner: dict[str, Any], data: dict[str, Any]):
        if not owner:
            return None
        value = data.get(owner["field"])
        return next((c.principal for c in self.api.fixtures.credentials
                     if str(c.principal.attributes.get(owner["attribute"])) == str(value)), None)

    def signed_headers(self, body: bytes, context: dict[str, Any], event_id: str | None) -> dict[str, str]:
        headers = {"Content-Type": "application/json", "User-Agent": f"{self.api.name}-mock-webhooks/1"}
        if self.event_id_header and event_id:
            headers[self.event_id_header] = event_id
        if self.signature_header:
            secret = self.signature_secret(context) or ""
            headers[self.signature_header] = self.signature_format({"signature": sign(str(secret), body)})
        return headers

    def enqueue(self, url: str, body: bytes, headers: dict[str, str], **about: Any) -> Delivery:
        now = self.api.clock.now()
        delivery = Delivery(str(uuid.uuid4()), url, body, headers, now, now, **about)
        self.deliveries.append(delivery)
        self._ensure_running()
        if self._wake is not None:
            self._wake.set()
        return delivery

    # delivering --------------------------------------------------------------------------------
    def _ensure_running(self) -> None:
        if self._task is not None and not self._task.done():
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # no loop yet: the server's start-up starts the worker
        self._wake = asyncio.Event()
        self._task = loop.create_task(self._work())

    async def start(self) -> None:
        self._ensure_running()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _work(self) -> None:
        # an injected transport never touches the network; the real one refuses the sandbox's own ports
        async with httpx.AsyncClient(timeout=self.timeout, transport=self.transport or guarded_transport()) as client:
            while True:
                now = self.api.clock.now()
                due = [d for d in self.deliveries if d.state == "pending" and d.next_at <= now]
                if due:
                    await asyncio.gather(*(self._attempt(client, d) for d in due))
                    continue
                self._wake.clear()
                try:
                    await asyncio.wait_for(self._wake.wait(), TICK)
                except TimeoutError:
                    pass

    async def _attempt(self, client: httpx.AsyncClient, delivery: Delivery) -> None:
        attempt: dict[str, Any] = {"at": self.api.clock.now(), "number": len(delivery.attempts) + 1}
        try:
            response = await client.post(delivery.url, content=delivery.body, headers=delivery.headers)
            attempt["status"] = response.status_code
            ok = 200 <= response.status_code < 300
        except httpx.HTTPError as exc:
            attempt["error"] = f"{type(exc).__name__}: {exc}"
            ok = False
        delivery.attempts.append(attempt)
        if ok:
            delivery.state = "delivered"
        elif len(delivery.attempts) >= self.retry.max_attempts:
            delivery.state = "failed"
        else:
            delivery.next_at = self.api.clock.now() + self.retry.delay(len(delivery.attempts))

    def describe(self) -> list[dict[str, Any]]:
        return [d.describe() for d in self.deliveries]

    def clear(self) -> None:
        self.deliveries.clear()
