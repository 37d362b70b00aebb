"""Small iStockist clients, each with one defect that verify-client must catch (marked `# DEFECT`).

Each is a function `(base_url, credentials)` for `verify_function` / the pytest helper: returning
is exit 0, `SystemExit(1)` is giving up. They call few operations, so their coverage phase is short.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx

ORDER_BODY = {"customer": "c1000000-0000-4000-8000-000000000001", "currency": "nzd",
              "line_items": [{"description": "Beans", "quantity": 1, "unit_amount": 100}]}
CARD = {"number": "4242424242424242", "exp_month": 12, "exp_year": 2034, "cvc": "123"}
PAID_ORDER = "a1000000-0000-4000-8000-000000000002"  # a seeded order of the first account, paid already
TRANSIENT = (429, 500, 502, 503, 504)


def _http(base_url: str, credentials: dict[str, Any], timeout: float = 5.0) -> httpx.Client:
    return httpx.Client(base_url=base_url, timeout=timeout,
                        headers={"Authorization": credentials["basic"]["header"], "Accept": "application/json"})


def _send(http: httpx.Client, method: str, path: str, *, honour_503: bool = True, attempts: int = 4,
          **kwargs: Any) -> httpx.Response:
    """A careful retry loop: bounded, backing off, waiting as Retry-After says."""
    for attempt in range(attempts):
        try:
            response = http.request(method, path, **kwargs)
        except httpx.TransportError:
            time.sleep(0.1 * 2 ** attempt)
            continue
        if response.status_code not in TRANSIENT:
            return response
        wait = 0.1 * 2 ** attempt
        told = response.headers.get("retry-after")
        if told is not None and (honour_503 or response.status_code != 503):
            wait = max(wait, float(told))
        if wait > 10:
            raise SystemExit(1)
        time.sleep(wait)
    raise SystemExit(1)


def lists_customers(base_url: str, credentials: dict[str, Any]) -> None:
    """A good client: one read."""
    with _http(base_url, credentials) as http:
        if _send(http, "GET", "/v1/customers", params={"limit": 1}).status_code != 200:
            raise SystemExit(1)


def leaves_a_write_in_flight(base_url: str, credentials: dict[str, Any]) -> None:
    """Sends a create through a short timeout and exits before its answer (the run's last request)."""
    with _http(base_url, credentials, timeout=0.2) as http:
        try:
            http.post("/v1/orders", json=ORDER_BODY, headers={"Idempotency-Key": str(uuid.uuid4())})
        except httpx.TimeoutException:
            pass  # DEFECT (for run isolation): the request is still in flight when the client exits


def changes_body_under_one_key(base_url: str, credentials: dict[str, Any]) -> None:
    key = str(uuid.uuid4())
    with _http(base_url, credentials) as http:
        for attempt in range(4):
            body = {**ORDER_BODY, "notes": f"attempt {attempt + 1}"}  # DEFECT: the retry's body changes, key kept
            try:
                response = http.post("/v1/orders", json=body, headers={"Idempotency-Key": key})
            except httpx.TransportError:
                time.sleep(0.2)
                continue
            if response.status_code < 300:
                return
            if response.status_code not in TRANSIENT:
                raise SystemExit(1)
            time.sleep(max(0.2, float(response.headers.get("retry-after", 0))))
        raise SystemExit(1)


def resends_a_refused_write(base_url: str, credentials: dict[str, Any]) -> None:
    key = str(uuid.uuid4())
    with _http(base_url, credentials) as http:
        for _ in range(40):  # DEFECT: a write refused with 409 is resent again and again
            response = http.post(f"/v1/orders/{PAID_ORDER}/pay", json={"card": CARD}, headers={"Idempotency-Key": key})
            if response.status_code < 300:
                return
            time.sleep(0.1)
        raise SystemExit(1)


def fails_without_faults(base_url: str, credentials: dict[str, Any]) -> None:
    with _http(base_url, credentials) as http:
        _send(http, "GET", "/v1/customers", params={"limit": 1})
        # DEFECT: pays an order that is paid already: refused (409) even when nothing goes wrong
        response = http.post(f"/v1/orders/{PAID_ORDER}/pay", json={"card": CARD},
                             headers={"Idempotency-Key": str(uuid.uuid4())})
        if response.status_code >= 300:
            raise SystemExit(1)


def ignores_retry_after_on_503(base_url: str, credentials: dict[str, Any]) -> None:
    with _http(base_url, credentials) as http:
        # DEFECT: honours Retry-After on 429 but not on 503
        if _send(http, "GET", "/v1/products", honour_503=False, params={"limit": 5}).status_code != 200:
            raise SystemExit(1)


def creates_a_customer_and_calls_a_5xx_success(base_url: str, credentials: dict[str, Any]) -> None:
    """Its body ends in `}}` (a nested object last), which a scenario step must replay as sent."""
    with _http(base_url, credentials) as http:
        http.post("/v1/customers", json={"name": "Braces Ltd", "email": "ops@example.com",
                                         "metadata": {"ref": "a}}b"}})
        # DEFECT: any answer, even a 500, is taken as done (exit 0)


def _reads_two_lists(http: httpx.Client) -> set[str]:
    """Reads customers and products, retrying as told; the paths that failed at least once."""
    failed: set[str] = set()
    for path in ("/v1/customers", "/v1/products"):
        for attempt in range(4):
            try:
                response = http.get(path, params={"limit": 1})
            except httpx.TransportError:
                failed.add(path)
                time.sleep(0.1)
                continue
            if response.status_code == 200:
                break
            failed.add(path)
            if response.status_code not in TRANSIENT or attempt == 3 or response.headers.get("retry-after") == "3600":
                raise SystemExit(1)
            time.sleep(max(0.1, float(response.headers.get("retry-after", 0))))
    return failed


def hangs_on_two_failing_operations(base_url: str, credentials: dict[str, Any]) -> None:
    """Fine under any one fault; once two different operations failed it hangs, sending nothing."""
    with _http(base_url, credentials) as http:
        if len(_reads_two_lists(http)) >= 2:
            time.sleep(60)  # DEFECT: a pure hang: only "finishes-in-time" breaks


def malformed_then_hangs_on_two_failing_operations(base_url: str, credentials: dict[str, Any]) -> None:
    """Fine under any one fault; once two different operations failed it sends a malformed order and hangs."""
    with _http(base_url, credentials) as http:
        failed = _reads_two_lists(http)
        if len(failed) >= 2:
            http.post("/v1/orders", json={**ORDER_BODY, "currency": 5})  # DEFECT: a malformed request ...
            time.sleep(60)  # DEFECT: ... and then it hangs
