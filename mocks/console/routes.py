"""Admin routes the console needs beside the admin API's own: contract facts, scenario checks, usage."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from mocks.admin.table import base_urls, credentials_table, json_response, route, scenario_of
from mocks.console.links import console_links
from mocks.scenarios.replay import check_scenario as replay
from mocks.types import MockRequest, MockResponse

if TYPE_CHECKING:
    from mocks.engine import Api


@route("GET", "/console")
def console_facts(api: Api, listener: str, request: MockRequest, params: dict[str, str]) -> MockResponse:
    """What the console's forms are built from: operations, declared errors, credentials, sibling APIs,
    and the collections and tenant scopes the State panel pages through (it never asks for the whole dump)."""
    return json_response(200, {
        "api": api.name,
        "title": api.contract.title,
        "base_urls": base_urls(api, listener, request),
        "consoles": console_links(api),
        "credentials": [{**row, "headers": _headers_of(api, row["principal"])} for row in credentials_table(api)],
        "example": _example_operation(api),
        "operations": [_operation_facts(api, compiled.operation) for compiled in api.operations.values()],
        "errors": [{"code": code, "status": int(entry["status"])} for code, entry in api.errors.codes.items()],
        "collections": sorted(api.resources),
        "tenants": _tenant_scopes(api),
    })


@route("POST", "/scenarios/{name}/check")
async def check_scenario(api: Api, listener: str, request: MockRequest, params: dict[str, str]) -> MockResponse:
    """Replay a scenario's steps on a fresh in-process copy of the API: the running sandbox is untouched."""
    scenario = scenario_of(api, params["name"])
    outcomes = await asyncio.to_thread(replay, scenario)
    steps = [{"step": o.index + 1, "request": o.request, "passed": o.passed, "detail": o.detail} for o in outcomes]
    return json_response(200, {"scenario": scenario.name, "passed": all(s["passed"] for s in steps),
                               "steps": steps})


@route("GET", "/limits/usage")
def limit_usage(api: Api, listener: str, request: MockRequest, params: dict[str, str]) -> MockResponse:
    """Each policy with what its budgets hold now: requests in the current window, per key."""
    now = api.clock.now()
    usage = api.store.rate_usage()
    policies = []
    for policy in api.limiter.policies:
        budgets = []
        for key, times in usage["sliding"].items():
            if key.startswith(policy.name + "|"):
                used = sum(1 for t in times if t > now - policy.window)
                budgets.append({"key": key.partition("|")[2], "used": used})
        for key, (start, used) in usage["fixed"].items():
            if key.startswith(policy.name + "|") and start <= now < start + policy.window:
                budgets.append({"key": key.partition("|")[2], "used": used})
        for key, used in usage["in_flight"].items():
            if key.startswith(policy.name + "|"):
                budgets.append({"key": key.partition("|")[2], "used": used})
        policies.append({**policy.describe(), "budgets": [b for b in budgets if b["used"]]})
    return json_response(200, {"policies": policies})


def _tenant_scopes(api: Api) -> list[str]:
    """Every scope the fixtures name: their tenants and what the sandbox principals may reach."""
    scopes = set(api.fixtures.tenants)
    for credential in api.fixtures.credentials:
        scopes.update(str(scope) for scope in credential.principal.scopes)
    return sorted(scopes)


def _headers_of(api: Api, principal: str) -> dict[str, str]:
    from mocks.credentials import auth_headers

    try:
        return auth_headers(api, principal)
    except KeyError:
        return {}


def _example_operation(api: Api) -> dict[str, str] | None:
    """A read without path parameters: what a ready-made curl calls."""
    for compiled in api.operations.values():
        op = compiled.operation
        if op.method == "GET" and "{" not in op.path and op.security:
            return {"method": op.method, "path": op.path, "operation": op.id}
    return None


def _operation_facts(api: Api, op: Any) -> dict[str, Any]:
    responses = []
    for status, response in op.responses.items():
        if not status.isdigit():
            continue
        examples: list[str] = []
        for media in (api.contract.resolve(response).get("content") or {}).values():
            examples += [name for name in (media.get("examples") or {}) if name not in examples]
        responses.append({"status": int(status), "examples": examples})
    return {"id": op.id, "method": op.method, "path": op.path, "summary": op.spec.get("summary", ""),
            "responses": responses}
