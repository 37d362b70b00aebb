"""Webhook events shaped by the contract, and every way of delivering one (good and bad).

The contract says what a delivery looks like: the `webhooks:` section (event types and example
bodies) and `x-mock-webhooks` (envelope template, signature header and format, event-id header).

- Konducter declares an envelope and a signature: an event is `{eventId, eventType, timestamp,
  applicationId, brandId, siteId, data}`, signed `X-Konducter-Signature: sha256=<hex>` (HMAC-SHA256
  of the raw body with the application's AccessSecret), with `X-Konducter-Event-Id`. Its identity
  is the event id.
- Lagerkoll declares neither: a callback is the executed webhook's JSON payload as is, shaped
  `{type, action, <ids>, storeId, storeGroupId, timestamp}`. Having no id, its identity is the
  payload itself (compared as a JSON value).

Ids and timestamps are fresh for every schedule, so one handler can be driven by many schedules
without being reset in between.
"""

from __future__ import annotations

import copy
import json
import random
import re
import string
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from mocks.contract import Contract
from mocks.fixtures import Fixtures
from mocks.media import dump_json
from mocks.templates import compile_template
from mocks.webhooks import RetryPolicy, sign

# How an event can be delivered. The first ones are good deliveries, the rest carry a bad signature.
DELIVER = "deliver"  # the event's canonical delivery; sent again it is a byte-identical retry
DUPLICATE = "duplicate"  # the same event sent anew: new envelope timestamp (new bytes, new signature)
WRONG_SECRET = "wrong-secret"  # signed with another secret
TAMPERED = "tampered"  # the body was changed after it was signed
UNSIGNED = "unsigned"  # no signature header at all
GOOD = (DELIVER, DUPLICATE)
BAD = (WRONG_SECRET, TAMPERED, UNSIGNED)

# Fields naming the tenant, kept as the example has them; other `id`/`...Id` fields are minted anew.
_TENANT_FIELDS = frozenset({"storeId", "storeGroupId", "siteId", "brandId", "applicationId", "companyId"})
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


@dataclass
class SampleEvent:
    index: int
    type: str
    subject: str  # "order A": what the event is about, in plain words
    data: dict[str, Any]
    at: datetime  # when it happened; envelopes rendered later (duplicates) carry later timestamps
    id: str | None = None  # the event id, when the API has one
    key: str = ""  # identity used to recognise the event in the handler's state report
    predecessors: list[int] = field(default_factory=list)  # events about the same subject that come first

    def describe(self) -> str:
        return f"event #{self.index} ({self.type}, {self.subject})"


@dataclass
class Request:
    body: bytes
    headers: dict[str, str]


class EventSource:
    """Makes the events of one schedule and renders their deliveries."""

    def __init__(self, contract: Contract, fixtures: Fixtures, secret: str | None = None) -> None:
        self.contract = contract
        self.fixtures = fixtures
        spec = contract.extension("webhooks") or {}
        self.envelope = spec.get("envelope")
        self._envelope = compile_template(self.envelope) if self.envelope is not None else None
        signature = spec.get("signature") or {}
        self.signature_header: str | None = signature.get("header")
        self._signature_format = compile_template(signature.get("format", "{signature}"))
        self.event_id_header: str | None = spec.get("event-id-header")
        self.id_field = _field_of(self.envelope, "{event.id}")
        self.principal = _principal(fixtures)
        declared = compile_template(signature.get("secret", ""))({"principal": self.principal})
        self.secret = str(secret if secret is not None else declared or "")
        self.kinds = GOOD + (BAD if self.signature_header else ())
        retry = RetryPolicy.declare(spec.get("retry"))
        self.retry_text = f"up to {retry.max_attempts} attempts over {_duration(retry.horizon)}"
        self.types = _event_examples(contract)
        if not self.types:
            raise ValueError(f"{contract.name} declares no webhooks to deliver")

    @property
    def signed(self) -> bool:
        return self.signature_header is not None

    # events ---------------------------------------------------------------------------------------
    def events(self, count: int, rng: random.Random) -> list[SampleEvent]:
        """`count` events: chains of the contract's event types (created, updated, ...) per subject."""
        chain = list(self.types)
        events: list[SampleEvent] = []
        subjects: dict[int, dict[str, Any]] = {}
        start = datetime.now(UTC).replace(microsecond=0)
        for index in range(count):
            number, step = divmod(index, len(chain))
            event_type, example = chain[step]
            subject = subjects.setdefault(number, self._new_subject(example, rng))
            when = start + timedelta(seconds=index)
            data = self._data(example, subject, step, when)
            label = f"{subject['noun']} {_letters(number)}"
            event = SampleEvent(index, event_type, label, data, when,
                          predecessors=[index - s for s in range(step, 0, -1)])
            if self.id_field is not None:
                event.id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
                event.key = event.id
            else:
                event.key = canonical(data)
            events.append(event)
        return events

    def _new_subject(self, example: dict[str, Any], rng: random.Random) -> dict[str, Any]:
        data = example.get("data") if self.envelope is not None else example
        ids: dict[str, Any] = {}
        for name, value in (data or {}).items():
            if name in _TENANT_FIELDS or not (name == "id" or name.endswith("Id")):
                continue
            if isinstance(value, int) and not isinstance(value, bool):
                ids[name] = rng.randrange(10**8, 10**9)
            elif isinstance(value, str) and _UUID.fullmatch(value):
                ids[name] = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        noun = (data or {}).get("type") or str(example.get("eventType", "subject")).split(".")[0]
        return {"ids": ids, "noun": str(noun)}

    def _data(self, example: dict[str, Any], subject: dict[str, Any], step: int, when: datetime) -> dict[str, Any]:
        stamp = when.strftime("%Y-%m-%dT%H:%M:%SZ")
        if self.envelope is None:  # the payload is the whole body (Lagerkoll)
            payload = {**copy.deepcopy(example), **subject["ids"]}
            store = payload.get("storeId")  # callbacks name the store's group too (APIS.md, public docs)
            if store is not None and "storeGroupId" not in payload:
                group = self.fixtures.tenant_attributes(str(store)).get("storeGroupId")
                if group is not None:
                    payload["storeGroupId"] = group
            payload["timestamp"] = stamp
            return payload
        data = copy.deepcopy(example.get("data") or {})
        data.update(subject["ids"])
        if "createdAt" in data:
            data["createdAt"] = (when - timedelta(seconds=step)).strftime("%Y-%m-%dT%H:%M:%SZ")
        if "updatedAt" in data:
            data["updatedAt"] = stamp
        return data

    # deliveries -----------------------------------------------------------------------------------
    def render(self, event: SampleEvent, kind: str, copy_number: int = 0) -> Request:
        """The request of one delivery. `copy_number` makes each DUPLICATE distinct (a later envelope)."""
        if kind == DUPLICATE:
            body = self._body(event, copy_number + 1)
        else:
            body = self._body(event, 0)
        headers = {"Content-Type": "application/json", "User-Agent": f"{self.contract.name}-verify-webhook-handler/1"}
        if self.event_id_header and event.id:
            headers[self.event_id_header] = event.id
        if self.signature_header and kind != UNSIGNED:
            secret = self.secret + "-not-the-secret" if kind == WRONG_SECRET else self.secret
            headers[self.signature_header] = self._signature_format({"signature": sign(secret, body)})
            if kind == TAMPERED:
                body = self._body(event, 0, tampered=True)
        return Request(body, headers)

    def _body(self, event: SampleEvent, copy_number: int, tampered: bool = False) -> bytes:
        if self._envelope is None:
            data = event.data
            if copy_number:  # the same payload, serialized another way: keys in reverse order
                data = dict(reversed(list(data.items())))
            return dump_json(data)
        now = event.at + timedelta(seconds=copy_number * 30)
        if tampered:  # the body that was signed, changed afterwards (its timestamp moved by a second)
            now += timedelta(seconds=1)
        context = {"event": {"id": event.id, "type": event.type, "data": event.data},
                   "principal": self.principal, "now": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
                   "now_unix": int(now.timestamp())}
        return dump_json(self._envelope(context))

    def key_of(self, entry: Any) -> str | None:
        """The event an entry of the handler's `applied` list names (None: not one of ours)."""
        if isinstance(entry, str):
            return entry
        if isinstance(entry, dict):
            if self.id_field is not None:
                value = entry.get(self.id_field)
                return value if isinstance(value, str) else None
            return canonical(entry)
        return None


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _event_examples(contract: Contract) -> list[tuple[str, dict[str, Any]]]:
    """(event type, example body) of each webhook in the contract, in declared order."""
    out = []
    for name, item in (contract.document.get("webhooks") or {}).items():
        operation = contract.resolve(item).get("post") or {}
        content = (contract.resolve(operation.get("requestBody") or {}).get("content") or {})
        media = content.get("application/json") or next(iter(content.values()), {})
        examples = [contract.resolve(e).get("value") for e in (media.get("examples") or {}).values()]
        example = next((e for e in examples if isinstance(e, dict)), None)
        if example is None:
            continue
        event_type = operation.get("x-mock-event") or _lagerkoll_type(example) or name
        out.append((event_type, example))
    if len(out) == 1 and out[0][1].get("action") is not None:  # one callback shape, several actions
        event_type, example = out[0]
        noun = example.get("type", "subject")
        out = [(f"{noun}.{action}", {**example, "action": action}) for action in ("created", "updated", "deleted")]
    return out


def _lagerkoll_type(example: dict[str, Any]) -> str | None:
    if "type" in example and "action" in example:
        return f"{example['type']}.{example['action']}"
    return None


def _field_of(envelope: Any, placeholder: str) -> str | None:
    if isinstance(envelope, dict):
        return next((k for k, v in envelope.items() if v == placeholder), None)
    return None


def _principal(fixtures: Fixtures) -> dict[str, Any]:
    if not fixtures.credentials:
        return {}
    principal = fixtures.credentials[0].principal
    return {**principal.attributes, "id": principal.id}


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _letters(number: int) -> str:
    letters = string.ascii_uppercase
    return letters[number] if number < len(letters) else f"{letters[number % len(letters)]}{number // len(letters)}"
