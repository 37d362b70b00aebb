"""A small resilient HTTP session over httpx, shared by the example clients.

What a well-behaved client of a commerce API does, in one place:

- retries dropped connections, 5xx and 429 a bounded number of times, backing off exponentially;
- waits as long as Retry-After (or a rate-limit reset) says, and gives up when that is longer than
  its time budget (MOCKS_TIMEOUT);
- keeps one Idempotency-Key per logical write across all its retries;
- before re-sending a write whose answer was lost, asks `lookup` whether it went through;
- on a 401 with a renewable token, fetches a new token once and retries.

The planted bugs of the buggy variants are switched on by name (`bugs`), each marked `# BUG(name)`.
"""

from __future__ import annotations

import json
import os
import random
import sys
import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx

MAX_ATTEMPTS = 5
FIRST_BACKOFF = 0.1
MAX_BACKOFF = 2.0
AMBIGUOUS = (500, 502, 504)  # the server may have acted before failing


class Refused(Exception):
    """The API said no (a 4xx other than 401/429): retrying the same request will not help."""

    def __init__(self, response: httpx.Response) -> None:
        super().__init__(f"{response.request.method} {response.request.url.path} -> {response.status_code} "
                         f"{response.text[:200]}")
        self.response = response
        self.status = response.status_code


class GiveUp(Exception):
    """Retries or time ran out."""


class Token:
    """A renewable credential: `fetch()` returns the headers to send; `renew()` fetches new ones."""

    def __init__(self, fetch: Callable[[], dict[str, str]]) -> None:
        self._fetch = fetch
        self.headers: dict[str, str] | None = None

    def current(self) -> dict[str, str]:
        if self.headers is None:
            self.headers = self._fetch()
        return self.headers

    def renew(self) -> dict[str, str]:
        self.headers = None
        return self.current()


class Session:
    def __init__(self, base_url: str, headers: dict[str, str] | None = None, *, token: Token | None = None,
                 bugs: frozenset[str] | set[str] = frozenset(), budget: float | None = None) -> None:
        self.http = httpx.Client(base_url=base_url, headers=headers or {}, timeout=5.0)
        self.token = token
        self.bugs = frozenset(bugs)
        budget = budget if budget is not None else float(os.environ.get("MOCKS_TIMEOUT", "30"))
        self.deadline = time.monotonic() + budget * 0.8

    def close(self) -> None:
        self.http.close()

    def call(self, method: str, path: str, *, json_body: Any = None, params: dict | None = None,
             idempotent: bool = False, lookup: Callable[[], Any] | None = None, headers: dict | None = None) -> Any:
        """Send one logical request until it succeeds; its JSON answer (or what `lookup` found)."""
        key = str(uuid.uuid4()) if idempotent else None
        renewed = False
        attempt = 0
        while True:
            attempt += 1
            if "new-key-per-retry" in self.bugs and idempotent:
                key = str(uuid.uuid4())  # BUG(new-key-per-retry): a fresh key for every attempt of one write
            body = json_body
            if "malformed-body-after-retry" in self.bugs and attempt > 1 and isinstance(body, dict):
                body = _mangled(body)  # BUG(malformed-body-after-retry): the retry's body breaks the schema
            send_headers = {**(self.token.current() if self.token else {}), **(headers or {})}
            if key:
                send_headers["Idempotency-Key"] = key
            try:
                response = self.http.request(method, path, json=body, params=params, headers=send_headers)
            except httpx.TransportError as exc:
                self._pause(attempt, None, f"{method} {path}: {type(exc).__name__}")
                if lookup is not None and key is None:
                    found = lookup()
                    if found is not None:
                        return found
                continue
            status = response.status_code
            if status < 300:
                return response.json() if response.content else None
            if status == 401 and self.token is not None:
                if "never-refreshes-token" in self.bugs:
                    self._pause(attempt, None, "401")  # BUG(never-refreshes-token): same token again
                    continue
                if renewed:
                    raise Refused(response)
                renewed = True
                self.token.renew()
                continue
            if status == 429 or status == 503 or status in AMBIGUOUS:
                self._pause(attempt, response, f"{method} {path}: {status}")
                if status in AMBIGUOUS and lookup is not None and key is None:
                    found = lookup()
                    if found is not None:
                        return found
                continue
            raise Refused(response)

    def _pause(self, attempt: int, response: httpx.Response | None, what: str) -> None:
        if "gives-up-at-once" in self.bugs:
            raise GiveUp(f"{what}")  # BUG(gives-up-at-once): one failure and the whole job is abandoned
        if attempt >= MAX_ATTEMPTS and "retries-forever" not in self.bugs:
            raise GiveUp(f"{what}: still failing after {attempt} attempts")
        if "retries-forever" in self.bugs:
            time.sleep(0.1)  # BUG(retries-forever): no attempt limit, no deadline
            return
        wait = min(MAX_BACKOFF, FIRST_BACKOFF * 2 ** (attempt - 1)) * random.uniform(1.0, 1.3)
        if "no-backoff" in self.bugs:
            wait = 0.0  # BUG(no-backoff): retries at once, a hot loop against a failing server
        told = _retry_after(response) if response is not None else None
        if told is not None and "ignores-retry-after" not in self.bugs:
            wait = max(wait, told)  # the API knows best: never sooner than Retry-After
        # BUG(ignores-retry-after): with that bug, the line above is skipped and the short back-off wins
        if time.monotonic() + wait > self.deadline:
            raise GiveUp(f"{what}: asked to wait {wait:.1f} s, beyond the time budget")
        time.sleep(wait)


def _retry_after(response: httpx.Response) -> float | None:
    """Retry-After; on a 429 without it, the rate-limit reset (seconds until the window frees)."""
    names = ("retry-after", "x-ratelimit-reset") if response.status_code == 429 else ("retry-after",)
    for name in names:
        value = response.headers.get(name)
        if value is not None:
            try:
                return max(0.0, float(value))
            except ValueError:
                return None
    return None


def _mangled(body: dict[str, Any]) -> dict[str, Any]:
    """Numbers become strings: what a careless re-serialisation after an error might send."""
    def walk(value: Any) -> Any:
        if isinstance(value, bool) or value is None:
            return value
        if isinstance(value, (int, float)):
            return str(value)
        if isinstance(value, dict):
            return {k: walk(v) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v) for v in value]
        return value
    return walk(body)


def environment() -> tuple[str, dict[str, Any]]:
    """The base URL and the credentials the verifier (or you) put in the environment."""
    base_url = os.environ.get("MOCKS_BASE_URL")
    if not base_url:
        sys.exit("MOCKS_BASE_URL is not set: run me under `mocks verify-client` or set it by hand")
    return base_url, json.loads(os.environ.get("MOCKS_CREDENTIALS") or "{}")


def bugs_from_argv(argv: list[str], known: set[str]) -> frozenset[str]:
    """`--bug NAME` (repeatable) switches on planted bugs, for the verifier's own tests."""
    chosen = {argv[i + 1] for i, arg in enumerate(argv[:-1]) if arg == "--bug"}
    unknown = chosen - known
    if unknown:
        sys.exit(f"unknown bug(s) {', '.join(sorted(unknown))}; known: {', '.join(sorted(known))}")
    return frozenset(chosen)


def main(job: Callable[[str, dict[str, Any], frozenset[str]], Any], bugs: set[str]) -> int:
    """Run a job as a command: exit 0 when done, 1 when the API refused or retries ran out."""
    base_url, credentials = environment()
    try:
        result = job(base_url, credentials, bugs_from_argv(sys.argv[1:], bugs))
    except (Refused, GiveUp) as exc:
        print(f"failed: {exc}", file=sys.stderr)
        return 1
    print(result if isinstance(result, str) else json.dumps(result))
    return 0
