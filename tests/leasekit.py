"""A Plggr concurrency slot held by a process the test then kills, and what the survivors answer.

`mocks serve plggr --limit plggr.concurrent-requests=1 --concurrency-lease S` on a shared store:
`hold_a_slot` starts a request that stays inside the process (a latency fault), so it holds Acme's
one slot; after the test kills that process, `refused_then_admitted` checks the others refuse with
Plggr's own 429 while the lease runs and admit once it has ended.
"""

from __future__ import annotations

import threading
import time

import httpx

from mocks.control import auth_headers
from mocks.registry import load_api

ACME = auth_headers(load_api("plggr"), "acme-integration")


def hold_a_slot(admin: httpx.Client, client: httpx.Client) -> threading.Thread:
    """A request of Acme's client held (a 60 s latency fault) inside the process `client` talks to."""
    added = admin.post("/__mock/faults", json={"operation": "listCompanies", "latency": 60, "times": 1})
    fault = added.json()["faults"][0]["id"]

    def held() -> None:
        try:
            client.get("/companies", headers=ACME, timeout=70)
        except httpx.HTTPError:
            pass  # its process is killed under it

    thread = threading.Thread(target=held, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not any(f["fired"] for f in admin.get("/__mock/faults").json()["faults"] if f["id"] == fault):
        assert time.monotonic() < deadline, "the slow request never started"
        time.sleep(0.02)
    return thread


def refused_then_admitted(client: httpx.Client, lease: float) -> None:
    """The killed process's slot: refused with Plggr's own 429 while its lease runs, admitted after."""
    crowded = client.get("/companies", headers=ACME)
    assert crowded.status_code == 429 and crowded.json()["error"] == "too_many_concurrent_requests", crowded.text
    deadline = time.monotonic() + lease + 15  # well short of the default 30 s lease
    while (answer := client.get("/companies", headers=ACME)).status_code == 429:
        assert time.monotonic() < deadline, f"still refused {lease + 15:.0f} s after a {lease:g} s lease"
        time.sleep(0.25)
    assert answer.status_code == 200, answer.text
