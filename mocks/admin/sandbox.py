"""Admin routes over the sandbox's data: info, reset, seed, state, journal, the served OpenAPI document."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from mocks.admin.table import (
    AdminError,
    base_urls,
    credentials_table,
    json_response,
    query,
    route,
    routes,
    whole_number,
)
from mocks.state import Slice
from mocks.state_pages import PageRequestError, state_page
from mocks.types import MockRequest, MockResponse
from mocks.urls import origin_of

if TYPE_CHECKING:
    from mocks.engine import Api


@route("GET", "/info")
def info(api: Api, listener: str, request: MockRequest, params: dict[str, str]) -> MockResponse:
    return json_response(200, {
        "api": api.name,
        "title": api.contract.title,
        "base_urls": base_urls(api, listener, request),
        "tenants": [{"scope": scope, "name": t.get("name"), "attributes": t.get("attributes") or {}}
                    for scope, t in api.fixtures.tenants.items()],
        "credentials": credentials_table(api),
        "operations": len(api.operations),
        "admin_routes": routes(),
        "worker": {"pid": os.getpid()},  # which process answered: `mocks serve --workers N` runs several
    })


@route("POST", "/reset")
def reset(api: Api, listener: str, request: MockRequest, params: dict[str, str]) -> MockResponse:
    seed = query(request, "seed") != "false"
    api.reset(seed=seed)
    return json_response(200, {"reset": True, "seeded": seed})


@route("POST", "/seed")
def seed(api: Api, listener: str, request: MockRequest, params: dict[str, str]) -> MockResponse:
    api.seed()
    store = api.store
    return json_response(200, {"seeded": True, "resources": {
        name: store.count(name, Slice.everywhere()) for name in api.resources}})


@route("GET", "/state")
def state(api: Api, listener: str, request: MockRequest, params: dict[str, str]) -> MockResponse:
    paging = {name: query(request, name) for name in ("collection", "scope", "limit", "cursor")}
    if any(value is not None for value in paging.values()):
        try:
            return json_response(200, state_page(api.store, api.resources, **paging))
        except PageRequestError as exc:
            raise AdminError(400, str(exc)) from None
    snapshot = api.store.snapshot()
    return json_response(200, {name: [{"scope": r["scope"], **r["data"]} for r in records]
                               for name, records in snapshot.items()})


@route("GET", "/journal")
def journal(api: Api, listener: str, request: MockRequest, params: dict[str, str]) -> MockResponse:
    def number(name: str) -> int | None:
        value = query(request, name)
        if value is None:
            return None
        if not whole_number(value):
            raise AdminError(400, f"'{name}' must be a whole number (at most 18 digits)")
        return int(value)

    entries = api.journal.entries(operation=query(request, "operation"), status=number("status"),
                                      principal=query(request, "principal"), since=number("since") or 0,
                                      limit=number("limit"))
    return json_response(200, {"entries": entries, "dropped": api.journal.dropped.count})


@route("DELETE", "/journal")
def clear_journal(api: Api, listener: str, request: MockRequest, params: dict[str, str]) -> MockResponse:
    api.journal.clear()
    return json_response(200, {"cleared": True})


@route("GET", "/openapi.json")
def openapi(api: Api, listener: str, request: MockRequest, params: dict[str, str]) -> MockResponse:
    return json_response(200, served_document(api))


def served_document(api: Api) -> dict[str, Any]:
    """The contract with each local-mock server entry pointing at the port this sandbox actually bound."""
    listeners = api.contract.listeners
    # in-process (the pytest plugin) nothing is bound: the contract is served as written
    bound = {str(spec.get("port")): api.base_urls.get(name) for name, spec in listeners.items()}

    def rewrite(servers: list[dict[str, Any]]) -> list[dict[str, Any]]:
        out = []
        for server in servers:
            declared = urlsplit(server.get("url", ""))
            url = bound.get(str(declared.port)) if server.get("x-mock-server") else None
            if url is not None:
                server = {**server, "url": origin_of(url) + declared.path}
            out.append(server)
        return out

    document = dict(api.contract.document)
    document["servers"] = rewrite(document.get("servers") or [])
    document["paths"] = {path: {**item, "servers": rewrite(item["servers"])} if item.get("servers") else item
                         for path, item in (document.get("paths") or {}).items()}
    return document
