"""Headers that authenticate as a sandbox principal, from the fixtures' static credentials."""

from __future__ import annotations

import base64
from typing import Any


def auth_headers(api: Any, principal: str | None = None, scope: str | None = None) -> dict[str, str]:
    """Headers that authenticate as a sandbox principal with its static credentials from the fixtures.

    `api` is anything with the API's `name`, `contract` and `fixtures` (an `Api`, a `Runtime`)."""
    credentials = api.fixtures.credentials
    credential = credentials[0] if principal is None else next(
        (c for c in credentials if c.principal.id == principal), None)
    if credential is None:
        raise KeyError(f"{api.name} has no sandbox principal '{principal}'")
    headers: dict[str, str] = {}
    for name, value in credential.schemes.items():
        scheme = api.contract.security_schemes[name]
        if scheme.get("type") == "apiKey" and scheme.get("in") == "header":
            headers[scheme["name"]] = str(value)
        elif scheme.get("type") == "http" and scheme.get("scheme", "").lower() == "basic":
            headers["Authorization"] = "Basic " + base64.b64encode(str(value).encode()).decode()
        else:
            headers["Authorization"] = f"Bearer {value}"
    for scheme in api.contract.security_schemes.values():
        if scheme.get("x-mock-scope"):
            headers[scheme["name"]] = str(scope or credential.principal.default_scope or "")
    return headers
