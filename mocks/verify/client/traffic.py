"""What a client sent: journal entries as typed calls, grouped into logical requests.

A *logical request* is one thing the client meant to do, however many attempts it took: reads
are grouped by operation, path and query; writes by operation and path, joined when two attempts
carry the same idempotency key or the same body.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

TRANSIENT_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})


@dataclass(frozen=True, slots=True)
class Call:
    """One journaled exchange, on the mock clock (`arrived` and `answered` in seconds)."""

    seq: int
    arrived: float
    answered: float
    method: str
    path: str
    query: tuple[tuple[str, str], ...]
    operation: str | None
    principal: str | None
    listener: str
    headers: dict[str, str]
    body: str
    status: int | None
    dropped: bool
    response_headers: dict[str, str]
    response_body: str
    fault: dict[str, Any] | None
    api: str = ""  # which API answered (a client of several APIs)

    @classmethod
    def from_entry(cls, entry: dict[str, Any], api: str = "") -> Call:
        answered = float(entry["time"])
        # The journal stamps an exchange when it ends; its duration gives the arrival.
        arrived = float(entry.get("arrived", answered - float(entry.get("duration_ms") or 0) / 1000))
        query = tuple(sorted((k, v) for k, values in (entry.get("query") or {}).items() for v in values))
        return cls(
            seq=int(entry["seq"]), arrived=arrived, answered=answered, method=entry["method"], path=entry["path"],
            query=query, operation=entry.get("operation"), principal=entry.get("principal"),
            listener=entry.get("listener") or "",
            headers={k.lower(): str(v) for k, v in (entry.get("request_headers") or {}).items()},
            body=entry.get("request_body") or "", status=entry.get("status"), dropped=bool(entry.get("dropped")),
            response_headers={k.lower(): str(v) for k, v in (entry.get("response_headers") or {}).items()},
            response_body=entry.get("response_body") or "", fault=entry.get("fault"), api=api,
        )

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    @property
    def transient_failure(self) -> bool:
        """Dropped, or answered with a status that invites a retry."""
        return self.dropped or self.status in TRANSIENT_STATUSES

    @property
    def is_read(self) -> bool:
        return self.method in ("GET", "HEAD", "OPTIONS")

    @property
    def json(self) -> Any:
        try:
            return json.loads(self.body) if self.body else None
        except ValueError:
            return None

    @property
    def replayed(self) -> bool:
        return self.response_headers.get("idempotent-replayed", "").lower() == "true"

    @property
    def committed_then_dropped(self) -> bool:
        return self.dropped and (self.fault or {}).get("drop") == "after"

    @property
    def outcome(self) -> str:
        if self.dropped:
            return "connection dropped" + (" after the effect was committed" if self.committed_then_dropped else "")
        return str(self.status)

    def label(self) -> str:
        query = "&".join(f"{k}={v}" for k, v in self.query)
        return f"{self.method} {self.path}" + (f"?{query}" if query else "")

    def wait_asked(self) -> float | None:
        """Seconds the answer told the client to wait: Retry-After, else a rate-limit reset on a 429."""
        if self.status not in (429, 503):
            return None
        value = _seconds(self.response_headers.get("retry-after"))
        if value is None and self.status == 429:
            resets = [_seconds(v) for k, v in self.response_headers.items() if k.endswith("reset")]
            resets = [r if r < 1e9 else r - self.answered for r in resets if r is not None]
            value = max(resets) if resets else None
        return value


@dataclass(slots=True)
class Logical:
    """The attempts of one logical request, in the order the client sent them."""

    operation: str | None
    method: str
    path: str
    calls: list[Call] = field(default_factory=list)

    @property
    def first(self) -> Call:
        return self.calls[0]

    @property
    def last(self) -> Call:
        return self.calls[-1]

    @property
    def succeeded(self) -> bool:
        return any(c.ok for c in self.calls)

    def label(self) -> str:
        return f"{self.operation or 'undeclared'} ({self.method} {self.path})"


def calls_of(entries: list[dict[str, Any]], api: str = "") -> list[Call]:
    return sorted((Call.from_entry(e, api) for e in entries), key=lambda c: c.seq)


def logical_requests(calls: list[Call], idempotency_header: str | None = None) -> list[Logical]:
    """Group attempts into logical requests (see the module's docstring), in order of first attempt."""
    header = (idempotency_header or "idempotency-key").lower()
    groups: list[Logical] = []
    reads: dict[tuple, Logical] = {}
    by_key: dict[tuple, Logical] = {}
    for call in calls:
        if call.is_read:
            key = (call.operation, call.method, call.path, call.query)
            group = reads.get(key)
            if group is None:
                group = reads[key] = Logical(call.operation, call.method, call.path)
                groups.append(group)
            group.calls.append(call)
            continue
        where = (call.operation, call.method, call.path)
        token = call.headers.get(header)
        group = by_key.get((*where, "key", token)) if token else None
        if group is None:
            group = by_key.get((*where, "body", call.body))
        if group is None:
            group = Logical(call.operation, call.method, call.path)
            groups.append(group)
        group.calls.append(call)
        by_key[(*where, "body", call.body)] = group
        if token:
            by_key[(*where, "key", token)] = group
    return groups


def retry_chains(group: Logical) -> list[list[Call]]:
    """Runs of consecutive attempts where every attempt but the last went unanswered or was refused.

    Every repeated attempt counts, whatever the answer (a write resent after 409s is retried as
    surely as one resent after 503s); only a success ends a chain.
    """
    chains: list[list[Call]] = []
    current: list[Call] = []
    for call in group.calls:
        current.append(call)
        if call.ok:
            chains.append(current)
            current = []
    if current:
        chains.append(current)
    return [chain for chain in chains if len(chain) > 1 or not chain[0].ok]


def _seconds(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        number = float(value.strip())
    except ValueError:
        return None
    return number if math.isfinite(number) and number >= 0 else None
