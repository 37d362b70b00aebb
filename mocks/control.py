"""A client for one running mock: its API base URL, credentials, and the admin API (faults, clock, journal)."""

from __future__ import annotations

import time
from typing import Any

import httpx

from mocks.catalog import load_contract
from mocks.conformance import ResponseChecker
from mocks.credentials import auth_headers  # noqa: F401  (re-exported: tests and users import it here)


class ContractViolation(AssertionError):
    """A mock response that its contract does not allow."""


class Admin:
    """The /__mock/ admin API, over HTTP: what QA scripts and tests use alike."""

    def __init__(self, http: httpx.Client) -> None:
        self.http = http
        # the admin API takes writes only as JSON (a browser cannot send that cross-origin unasked)
        self.http.headers["Content-Type"] = "application/json"

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.http.request(method, f"/__mock{path}", **kwargs)
        if response.status_code >= 400:
            raise RuntimeError(f"admin {method} {path} -> {response.status_code}: {response.text}")
        return response.json()

    def info(self) -> dict[str, Any]:
        return self._call("GET", "/info")

    def reset(self, seed: bool = True) -> None:
        self._call("POST", "/reset", params={} if seed else {"seed": "false"})

    def state(self) -> dict[str, Any]:
        return self._call("GET", "/state")

    def journal(self, **filters: Any) -> list[dict[str, Any]]:
        return self._call("GET", "/journal", params={k: v for k, v in filters.items() if v is not None})["entries"]

    def add_fault(self, **spec: Any) -> dict[str, Any]:
        return self._call("POST", "/faults", json=spec)["faults"][0]

    def faults(self) -> list[dict[str, Any]]:
        return self._call("GET", "/faults")["faults"]

    def wait_until_fired(self, fault_id: int, timeout: float = 5.0) -> None:
        """Block until the server has picked the fault (a slow request is then inside the pipeline)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(f["id"] == fault_id and f["fired"] >= 1 for f in self.faults()):
                return
            time.sleep(0.01)
        raise AssertionError(f"fault {fault_id} never fired within {timeout} s")

    def clear_faults(self) -> None:
        self._call("DELETE", "/faults")

    def clock(self, **change: Any) -> dict[str, Any]:
        return self._call("POST", "/clock", json=change) if change else self._call("GET", "/clock")

    def advance(self, seconds: float) -> dict[str, Any]:
        return self.clock(advance=seconds)

    def freeze(self) -> dict[str, Any]:
        return self.clock(freeze=True)

    def set_limit(self, rate: str, policy: str | None = None) -> list[dict[str, Any]]:
        return self._call("POST", "/limits", json={"rate": rate, **({"policy": policy} if policy else {})})["policies"]

    def limits(self) -> list[dict[str, Any]]:
        return self._call("GET", "/limits")["policies"]

    def scenario(self, name: str) -> dict[str, Any]:
        return self._call("POST", f"/scenarios/{name}")

    def events(self) -> list[dict[str, Any]]:
        return self._call("GET", "/events")["events"]

    def deliveries(self) -> list[dict[str, Any]]:
        return self._call("GET", "/deliveries")["deliveries"]


def conformance_hook(api_name: str, listener: str | None = None):
    """An httpx response hook failing loudly when a mock answers something its contract does not allow."""
    checker = ResponseChecker(load_contract(api_name), listener)

    def check(response: httpx.Response) -> None:
        response.read()
        problems = checker.check(response.request.method, response.request.url.path, response.status_code,
                                 dict(response.headers), response.content)
        if problems:
            raise ContractViolation(f"{response.request.method} {response.request.url.path}: "
                                    + "; ".join(map(str, problems)))

    return check
