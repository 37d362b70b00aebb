"""Limit: each API's declared rate-limit, quota and concurrency policies on the mock clock."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from mocks.contract import Contract, Operation
from mocks.state.protocol import Hit, Outcome, Store
from mocks.templates import compile_template
from mocks.types import Headers, MockError

_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*(s|sec|second|m|min|minute|h|hour|d|day)?\s*$", re.ASCII)
_HAS_WINDOW = re.compile(r"/\s*(\d|[a-z])")
MAX_LIMIT = 1_000_000_000
MAX_WINDOW = 366 * 86400.0
_UNITS = {"s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60, "h": 3600, "hour": 3600,
          "d": 86400, "day": 86400}


@dataclass(slots=True)
class Policy:
    name: str
    algorithm: str
    limit: int
    window: float
    key: Any
    headers: dict[str, str]
    retry_after: bool
    error: str
    selector: dict[str, Any] = field(default_factory=dict)
    enabled: bool = True

    def applies_to(self, operation: Operation) -> bool:
        if self.selector in ("all", None) or not self.selector:
            return True
        if operation.id in self.selector.get("operations", ()):
            return True
        return bool(set(self.selector.get("tags", ())) & set(operation.tags))

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "algorithm": self.algorithm, "limit": self.limit, "window": self.window,
                "enabled": self.enabled, "error": self.error}


def parse_rate(text: str) -> tuple[int, float | None]:
    """`5/min` -> (5, 60); `3/10s` -> (3, 10); `4` -> (4, None): a limit that keeps its window."""
    match = _RATE.match(text) if _HAS_WINDOW.search(text) else None
    if match is None:
        if text.strip().isascii() and text.strip().isdigit():
            return _count(text, text), None
        raise ValueError(f"'{text}' is not a rate like 5/min, 100/10s or 3")
    count, multiple, unit = match.groups()
    window = float(multiple or 1) * _UNITS[unit or "s"]
    if not 0 < window <= MAX_WINDOW:
        raise ValueError(f"'{text}': a window is longer than zero and at most {MAX_WINDOW:.0f} s (a year)")
    return _count(count, text), window


def _count(digits: str, text: str) -> int:
    if len(digits.strip()) > 10 or int(digits) > MAX_LIMIT:
        raise ValueError(f"'{text}': a limit is at most {MAX_LIMIT}")
    return int(digits)


class Limiter:
    def __init__(self, contract: Contract, store: Store) -> None:
        self.store = store
        self.policies = [
            Policy(
                name=p["name"], algorithm=p.get("algorithm", "sliding"), limit=int(p["limit"]),
                window=float(p.get("window", 1)), key=compile_template(p.get("key", ["{principal.id}"])),
                headers=dict(p.get("headers") or {}), retry_after=p.get("retry-after", True),
                error=p.get("error", "rate_limited"), selector=p.get("applies-to") or "all",
            )
            for p in contract.extension("rate-limits") or []
        ]
        self._baseline = [(p.limit, p.window, p.enabled) for p in self.policies]
        self._by_operation: dict[str, list[Policy]] = {
            op.id: [p for p in self.policies if p.applies_to(op)] for op in contract.operations
        }

    def keep_as_baseline(self) -> None:
        """What `restore` goes back to: the contract's values, or the start-up overrides (--limit)."""
        self._baseline = [(p.limit, p.window, p.enabled) for p in self.policies]

    def restore(self) -> None:
        for policy, (limit, window, enabled) in zip(self.policies, self._baseline, strict=True):
            policy.limit, policy.window, policy.enabled = limit, window, enabled

    def for_operation(self, operation_id: str) -> list[Policy]:
        return [p for p in self._by_operation.get(operation_id, ()) if p.enabled]

    def configure(self, rate: str, policy: str | None = None) -> list[Policy]:
        """Change the limit (and window) of one named policy, or of every windowed policy."""
        limit, window = parse_rate(rate)
        chosen = [p for p in self.policies if p.name == policy] if policy else \
            [p for p in self.policies if p.algorithm != "concurrency"] or self.policies
        if not chosen:
            raise KeyError(policy)
        for p in chosen:
            p.limit = limit
            if window is not None and p.algorithm != "concurrency":
                p.window = window
        return chosen

    def check(self, policies: list[Policy], context: dict[str, Any], now: float, fallback_key: str) -> tuple[Headers, list[str]]:
        """Count the request; headers for the response, and the concurrency keys to release after it."""
        if not policies:
            return [], []
        hits = [Hit(self._key(p, context, fallback_key), p.algorithm, p.limit, p.window, now) for p in policies]
        admitted, outcomes = self.store.admit(hits)
        headers = [h for p, o in zip(policies, outcomes) for h in _headers(p, o, now)]
        if not admitted:
            policy, outcome = next((p, o) for p, o in zip(policies, outcomes) if not o.admitted)
            if policy.retry_after:
                headers.append(("Retry-After", str(_seconds_until(outcome.reset_at, now))))
            raise MockError(policy.error, headers=headers)
        return headers, [h.key for h in hits if h.algorithm == "concurrency"]

    def release(self, keys: list[str]) -> None:
        for key in keys:
            self.store.release(key)

    def _key(self, policy: Policy, context: dict[str, Any], fallback: str) -> str:
        parts = policy.key(context)
        parts = parts if isinstance(parts, list) else [parts]
        if all(part in (None, "") for part in parts):
            parts = [fallback]
        return f"{policy.name}|" + "|".join("" if p is None else str(p) for p in parts)


def _headers(policy: Policy, outcome: Outcome, now: float) -> Headers:
    names = policy.headers
    out: Headers = []
    if "limit" in names:
        out.append((names["limit"], str(policy.limit)))
    if "remaining" in names:
        out.append((names["remaining"], str(max(0, policy.limit - outcome.used))))
    if "reset" in names and outcome.reset_at is not None:
        out.append((names["reset"], str(_seconds_until(outcome.reset_at, now))))
    return out


def _seconds_until(moment: float | None, now: float) -> int:
    """Whole seconds to wait: a client that waits this long is admitted (never rounds down)."""
    if moment is None:
        return 1
    return max(1, math.ceil(moment - now - 1e-9))
