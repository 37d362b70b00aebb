"""Limit: each API's declared rate-limit, quota and concurrency policies on the mock clock."""

from __future__ import annotations

import math
import re
from typing import Any

from mocks.contract import Contract, Operation
from mocks.state import Dropped
from mocks.state.changes import LimitSetting, LimitSettings
from mocks.state.protocol import Hit, Outcome, Store
from mocks.templates import compile_template
from mocks.types import Headers, MockError

_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*(s|sec|second|m|min|minute|h|hour|d|day)?\s*$", re.ASCII)
_HAS_WINDOW = re.compile(r"/\s*(\d|[a-z])")
MAX_LIMIT = 1_000_000_000
MAX_WINDOW = 366 * 86400.0
_UNITS = {"s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60, "h": 3600, "hour": 3600,
          "d": 86400, "day": 86400}


class Policy:
    """A declared policy; its settings (limit, window, enabled) are the store's, read and written here."""

    __slots__ = ("algorithm", "error", "headers", "key", "name", "retry_after", "selector", "store")

    def __init__(self, name: str, algorithm: str, key: Any, headers: dict[str, str], retry_after: bool,
                 error: str, selector: Any, store: Store) -> None:
        self.name, self.algorithm, self.key, self.headers = name, algorithm, key, headers
        self.retry_after, self.error, self.selector, self.store = retry_after, error, selector, store

    @property
    def setting(self) -> LimitSetting:
        return self.store.limit_settings().settings[self.name]

    def _change(self, **values: Any) -> None:
        current = self.setting
        setting = LimitSetting(values.get("limit", current.limit), values.get("window", current.window),
                               values.get("enabled", current.enabled))
        self.store.set_limits({self.name: setting})

    limit = property(lambda self: self.setting.limit, lambda self, value: self._change(limit=int(value)))
    window = property(lambda self: self.setting.window, lambda self, value: self._change(window=float(value)))
    enabled = property(lambda self: self.setting.enabled, lambda self, value: self._change(enabled=bool(value)))

    def applies_to(self, operation: Operation) -> bool:
        if self.selector in ("all", None) or not self.selector:
            return True
        if operation.id in self.selector.get("operations", ()):
            return True
        return bool(set(self.selector.get("tags", ())) & set(operation.tags))

    def describe(self) -> dict[str, Any]:
        setting = self.setting
        return {"name": self.name, "algorithm": self.algorithm, "limit": setting.limit, "window": setting.window,
                "enabled": setting.enabled, "error": self.error}


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
    """The contract's policies; their settings and the baseline a reset returns to live in the store."""

    def __init__(self, contract: Contract, store: Store) -> None:
        self.store = store
        self.unreleased = Dropped()  # slots the store could not take back: they free when their lease ends
        declared = contract.extension("rate-limits") or []
        self.policies = [
            Policy(name=p["name"], algorithm=p.get("algorithm", "sliding"),
                   key=compile_template(p.get("key", ["{principal.id}"])), headers=dict(p.get("headers") or {}),
                   retry_after=p.get("retry-after", True), error=p.get("error", "rate_limited"),
                   selector=p.get("applies-to") or "all", store=store)
            for p in declared
        ]
        store.declare_limits({p["name"]: LimitSetting(int(p["limit"]), float(p.get("window", 1)), True)
                              for p in declared})
        self._by_operation: dict[str, list[Policy]] = {
            op.id: [p for p in self.policies if p.applies_to(op)] for op in contract.operations
        }

    def keep_as_baseline(self) -> None:
        """What `restore` goes back to: the contract's values, or the start-up overrides (--limit)."""
        self.store.set_limits({}, baseline=True)

    def restore(self) -> None:
        self.store.restore_limits()

    def for_operation(self, operation_id: str) -> list[Policy]:
        """The policies the contract applies to the operation; which are enabled is `check`'s to read, per
        request, so a policy enabled or disabled through any process holds in every process at once."""
        return list(self._by_operation.get(operation_id, ()))

    def configure(self, rate: str, policy: str | None = None) -> list[Policy]:
        """Change the limit (and window) of one named policy, or of every windowed policy."""
        limit, window = parse_rate(rate)
        chosen = [p for p in self.policies if p.name == policy] if policy else \
            [p for p in self.policies if p.algorithm != "concurrency"] or self.policies
        if not chosen:
            raise KeyError(policy)
        settings = self.store.limit_settings()
        self.store.set_limits({p.name: LimitSetting(
            limit, window if window is not None and p.algorithm != "concurrency" else settings.settings[p.name].window,
            settings.settings[p.name].enabled) for p in chosen})
        return chosen

    def check(self, policies: list[Policy], context: dict[str, Any], now: float, fallback_key: str,
              current: LimitSettings | None = None) -> tuple[Headers, list[str]]:
        """Count the request; headers for the response, and the concurrency keys to release after it.
        `current`: the settings the request read with the clock (`Store.glance`); else read now."""
        if not policies:
            return [], []
        current = current if current is not None else self.store.limit_settings()
        settings = current.settings
        if current.some_disabled:
            policies = [p for p in policies if settings[p.name].enabled]
            if not policies:
                return [], []
        hits = [Hit(self._key(p, context, fallback_key), p.algorithm, settings[p.name].limit, settings[p.name].window, now)
                for p in policies]
        admitted, outcomes = self.store.admit(hits)
        headers: Headers = []
        releases: list[str] = []
        for policy, hit, outcome in zip(policies, hits, outcomes):
            headers += _headers(policy, hit.limit, outcome, now)
            if hit.algorithm == "concurrency":
                releases.append(hit.key)
        if not admitted:
            policy, outcome = next((p, o) for p, o in zip(policies, outcomes) if not o.admitted)
            if policy.retry_after:
                headers.append(("Retry-After", str(_seconds_until(outcome.reset_at, now))))
            raise MockError(policy.error, headers=headers)
        return headers, releases

    def release(self, keys: list[str]) -> None:
        for key in keys:
            with self.unreleased.unless_store_down("a concurrency slot's release"):
                self.store.release(key)

    def _key(self, policy: Policy, context: dict[str, Any], fallback: str) -> str:
        parts = policy.key(context)
        texts = ["" if p is None else str(p) for p in parts] if isinstance(parts, list) else \
            ["" if parts is None else str(parts)]
        if not any(texts):  # every part missing (None) or empty: the client's own key
            texts = [fallback]
        return f"{policy.name}|" + "|".join(texts)


def _headers(policy: Policy, limit: int, outcome: Outcome, now: float) -> Headers:
    names = policy.headers
    out: Headers = []
    if "limit" in names:
        out.append((names["limit"], str(limit)))
    if "remaining" in names:
        out.append((names["remaining"], str(max(0, limit - outcome.used))))
    if "reset" in names and outcome.reset_at is not None:
        out.append((names["reset"], str(_seconds_until(outcome.reset_at, now))))
    return out


def _seconds_until(moment: float | None, now: float) -> int:
    """Whole seconds to wait: a client that waits this long is admitted (never rounds down)."""
    if moment is None:
        return 1
    return max(1, math.ceil(moment - now - 1e-9))
