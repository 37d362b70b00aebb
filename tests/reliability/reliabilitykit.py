"""Shared by the tests/reliability/ files: one `mocks serve` per module, and credentials read from
the table it prints (as a person would copy them)."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import httpx
from servekit import Served, end, start_serve

from mocks.control import Admin

FIVE_APIS_ON_FREE_PORTS = ["--port", "konducter=0", "--port", "konducter.local=0", "--port", "lagerkoll=0",
                           "--port", "istockist=0", "--port", "pingnetwork=0", "--port", "plggr=0"]
DOC_SITE = "00000000-0000-0000-0000-000000000000"  # Konducter's documentation site
ACME_NORDIC = "1a000000-0000-4000-8000-000000000001"  # a Plggr company of acme-integration


def serving(*args: str) -> Iterator[Served]:
    """Body of a module-scoped fixture: `yield from serving(ARGS...)`."""
    served = start_serve(*FIVE_APIS_ON_FREE_PORTS, *args)
    try:
        yield served
    finally:
        end(served)


def headers_for(served: Served, api: str) -> dict[str, str]:
    """Credentials of the first printed principal of `api`, as request headers."""
    principal = {"istockist": "kauri-roasters", "plggr": "acme-integration", "konducter": "documentation-public",
                 "lagerkoll": "key-store-1001", "pingnetwork": "acme-primary"}[api]
    keys, scopes = served.credential(api, principal)
    if api == "istockist":
        return {"Authorization": "Basic " + base64.b64encode(keys["BasicAuth"].encode()).decode()}
    if api == "plggr":
        return {"Authorization": f"Bearer {keys['PlggrOAuth']}"}
    if api == "konducter":
        return {"AccessKey": keys["AccessKey"], "AccessSecret": keys["AccessSecret"]}
    if api == "lagerkoll":
        return {"api_key": keys["ApiKey"], "store": scopes[0]}
    return {"Authorization": keys["ApiKeyAuth"]}


def admin(served: Served, api: str) -> httpx.Client:
    """An httpx client for `api`'s admin API: paths are relative to /__mock/; writes are JSON, as the gate wants."""
    return httpx.Client(base_url=served.admin_links[api].removesuffix("/info"), timeout=10,
                        headers={"Content-Type": "application/json"})


def steering(served: Served, api: str) -> Admin:
    """The admin client the sandbox ships (mocks.control.Admin) on `api`'s port."""
    return Admin(httpx.Client(base_url=served.admin_links[api].removesuffix("/__mock/info"), timeout=10))
