"""Exact admission under concurrency, over a real socket: of many simultaneous requests, exactly the limit pass."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

SIMULTANEOUS = 40

CASES = {
    # api: (path, principal, policy, rate, limit)
    "lagerkoll": ("/v1/stores/", "key-store-1001", "per-store-credential-minute", "7/min", 7),
    "plggr": ("/companies", "acme-integration", "daily-quota", "9/day", 9),
    "istockist": ("/v1/products", "kauri-roasters", "account-per-second", "5/s", 5),
}


@pytest.mark.parametrize("api", list(CASES))
def test_exactly_the_limit_of_simultaneous_requests_is_admitted(api, mock_server):
    path, principal, policy, rate, limit = CASES[api]
    handle = mock_server(api)
    handle.admin.freeze()  # every request falls in one window, however slow the machine
    for other in handle.admin.limits():
        if other["name"] != policy:
            handle.admin.http.post("/__mock/limits", json={"policy": other["name"], "enabled": False})
    handle.admin.set_limit(rate, policy=policy)
    headers = handle.auth_headers(principal)
    start = threading.Barrier(SIMULTANEOUS)

    def call(_: int) -> int:
        with httpx.Client(base_url=handle.base_url, timeout=20) as client:
            start.wait()
            return client.get(path, headers=headers).status_code

    with ThreadPoolExecutor(SIMULTANEOUS) as pool:
        statuses = list(pool.map(call, range(SIMULTANEOUS)))

    assert statuses.count(200) == limit, statuses
    assert statuses.count(429) == SIMULTANEOUS - limit, statuses
    journal = handle.admin.journal(status=429)
    assert len(journal) == SIMULTANEOUS - limit
    assert all("Retry-After" in entry["response_headers"] or "retry-after" in entry["response_headers"]
               for entry in journal)
