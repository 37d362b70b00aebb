"""The admin API under /__mock/: inspect and steer a running sandbox (state, journal, clock, faults)."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from mocks.clock import LATEST, RANGE
from mocks.faults import FaultError
from mocks.media import MAX_ADMIN_BODY_BYTES, dump_json, load_json
from mocks.routing import Router
from mocks.state import Slice
from mocks.state_pages import PageRequestError, state_page
from mocks.types import MockRequest, MockResponse
from mocks.urls import origin_of

if TYPE_CHECKING:
    from mocks.app import MockApp

Handler = Callable[["MockApp", MockRequest, dict[str, str]], Awaitable[MockResponse] | MockResponse]
_router: Router[Handler] = Router()
_registered: list[tuple[str, str]] = []  # every route, those of other modules (console, HAR, snapshot) too


class AdminError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def route(method: str, path: str):
    def register(function: Handler) -> Handler:
        _router.add(method, "/__mock" + path, function)
        _registered.append((method, path))
        return function
    return register


def json_response(status: int, value: Any) -> MockResponse:
    return MockResponse(status, dump_json(value), "application/json")


async def handle(app: MockApp, request: MockRequest) -> MockResponse:
    match = _router.match(request.method, request.path)
    if match is None:
        return json_response(404, {"error": f"no admin route {request.path}", "routes": routes()})
    if match.target is None:
        return json_response(405, {"error": f"{request.method} not allowed", "allow": list(match.allowed)})
    try:
        result = match.target(app, request, match.params)
        if hasattr(result, "__await__"):
            result = await result
        return result
    except AdminError as exc:
        return json_response(exc.status, {"error": str(exc)})
    except FaultError as exc:
        return json_response(400, {"error": str(exc)})


def routes() -> list[str]:
    return sorted({f"{method} {path}" for method, path in [*_ROUTES, *_registered]})


def body_of(request: MockRequest) -> Any:
    if not request.body:
        return {}
    try:
        return load_json(request.body, max_bytes=MAX_ADMIN_BODY_BYTES)
    except ValueError as exc:
        raise AdminError(400, f"request body is not acceptable JSON: {exc}") from None


def whole_number(text: str) -> bool:
    """ASCII digits only, and few enough that int() neither refuses them nor takes long."""
    return text.isascii() and text.isdigit() and len(text) <= 18


def query(request: MockRequest, name: str) -> str | None:
    values = request.query.get(name)
    return values[0] if values else None


def base_urls(app: MockApp, request: MockRequest) -> dict[str, str]:
    urls = dict(app.api.base_urls)
    if not urls:
        host = request.header("host") or "localhost"
        urls[app.listener] = f"{request.scheme}://{host}{app.api.contract.prefix}"
    return urls


def credentials_table(api) -> list[dict[str, Any]]:
    return [
        {"principal": c.principal.id, "description": c.description, "scopes": list(c.principal.scopes),
         "schemes": c.schemes, **({"grant": c.grant} if c.grant else {})}
        for c in api.fixtures.credentials
    ]


_ROUTES = [
    ("GET", "/info"), ("POST", "/reset"), ("POST", "/seed"), ("GET", "/state"), ("GET", "/journal"),
    ("DELETE", "/journal"), ("GET", "/openapi.json"), ("GET", "/clock"), ("POST", "/clock"),
    ("GET", "/faults"), ("POST", "/faults"), ("DELETE", "/faults"), ("DELETE", "/faults/{id}"),
    ("GET", "/limits"), ("POST", "/limits"), ("GET", "/events"), ("GET", "/deliveries"),
    ("GET", "/scenarios"), ("POST", "/scenarios/{name}"),
]


@route("GET", "/info")
def info(app: MockApp, request: MockRequest, params: dict[str, str]) -> MockResponse:
    api = app.api
    return json_response(200, {
        "api": api.name,
        "title": api.contract.title,
        "base_urls": base_urls(app, request),
        "tenants": [{"scope": scope, "name": t.get("name"), "attributes": t.get("attributes") or {}}
                    for scope, t in api.fixtures.tenants.items()],
        "credentials": credentials_table(api),
        "operations": len(api.operations),
        "admin_routes": routes(),
    })


@route("POST", "/reset")
def reset(app: MockApp, request: MockRequest, params: dict[str, str]) -> MockResponse:
    seed = query(request, "seed") != "false"
    app.api.reset(seed=seed)
    return json_response(200, {"reset": True, "seeded": seed})


@route("POST", "/seed")
def seed(app: MockApp, request: MockRequest, params: dict[str, str]) -> MockResponse:
    app.api.seed()
    store = app.api.store
    return json_response(200, {"seeded": True, "resources": {
        name: store.count(name, Slice.everywhere()) for name in app.api.resources}})


@route("GET", "/state")
def state(app: MockApp, request: MockRequest, params: dict[str, str]) -> MockResponse:
    paging = {name: query(request, name) for name in ("collection", "scope", "limit", "cursor")}
    if any(value is not None for value in paging.values()):
        try:
            return json_response(200, state_page(app.api.store, app.api.resources, **paging))
        except PageRequestError as exc:
            raise AdminError(400, str(exc)) from None
    snapshot = app.api.store.snapshot()
    return json_response(200, {name: [{"scope": r["scope"], **r["data"]} for r in records]
                               for name, records in snapshot.items()})


@route("GET", "/journal")
def journal(app: MockApp, request: MockRequest, params: dict[str, str]) -> MockResponse:
    def number(name: str) -> int | None:
        value = query(request, name)
        if value is None:
            return None
        if not whole_number(value):
            raise AdminError(400, f"'{name}' must be a whole number (at most 18 digits)")
        return int(value)

    entries = app.api.journal.entries(operation=query(request, "operation"), status=number("status"),
                                      principal=query(request, "principal"), since=number("since") or 0,
                                      limit=number("limit"))
    return json_response(200, {"entries": entries})


@route("DELETE", "/journal")
def clear_journal(app: MockApp, request: MockRequest, params: dict[str, str]) -> MockResponse:
    app.api.journal.clear()
    return json_response(200, {"cleared": True})


@route("GET", "/openapi.json")
def openapi(app: MockApp, request: MockRequest, params: dict[str, str]) -> MockResponse:
    return json_response(200, served_document(app))


def served_document(app: MockApp) -> dict[str, Any]:
    """The contract with each local-mock server entry pointing at the port this sandbox actually bound."""
    listeners = app.api.contract.listeners
    # in-process (the pytest plugin) nothing is bound: the contract is served as written
    bound = {str(spec.get("port")): app.api.base_urls.get(name) for name, spec in listeners.items()}

    def rewrite(servers: list[dict[str, Any]]) -> list[dict[str, Any]]:
        out = []
        for server in servers:
            declared = urlsplit(server.get("url", ""))
            url = bound.get(str(declared.port)) if server.get("x-mock-server") else None
            if url is not None:
                server = {**server, "url": origin_of(url) + declared.path}
            out.append(server)
        return out

    document = dict(app.api.contract.document)
    document["servers"] = rewrite(document.get("servers") or [])
    document["paths"] = {path: {**item, "servers": rewrite(item["servers"])} if item.get("servers") else item
                         for path, item in (document.get("paths") or {}).items()}
    return document


@route("GET", "/clock")
def read_clock(app: MockApp, request: MockRequest, params: dict[str, str]) -> MockResponse:
    return json_response(200, app.api.clock.describe())


@route("POST", "/clock")
def steer_clock(app: MockApp, request: MockRequest, params: dict[str, str]) -> MockResponse:
    """{"freeze": true} | {"freeze": false} | {"set": <unix seconds>} | {"advance": <seconds>} | {"reset": true}"""
    body = body_of(request)
    clock = app.api.clock
    known = {"freeze", "set", "advance", "reset"}
    if not isinstance(body, dict) or not body or set(body) - known:
        raise AdminError(400, "clock takes {freeze: bool}, {set: unix seconds}, {advance: seconds} or {reset: true}")
    for name in ("freeze", "reset"):
        if name in body and not isinstance(body[name], bool):
            raise AdminError(400, f"clock '{name}' is true or false, not {json.dumps(body[name])}")
    for name in ("set", "advance"):
        if name in body and (isinstance(body[name], bool) or not isinstance(body[name], int | float)):
            raise AdminError(400, f"clock '{name}' is a number of seconds, not {json.dumps(body[name])}")
    if body.get("advance", 0) < 0:
        raise AdminError(400, "the clock only moves forward: advance takes seconds >= 0")
    try:
        # check the moment the clock would reach before changing anything: a refused call changes nothing
        start = body["set"] if "set" in body else time.time() if body.get("reset") else clock.now()
        clock.check(float(start))
        if not math.isfinite(body.get("advance", 0)):
            raise ValueError(f"clock 'advance' is a finite number of seconds, not {body['advance']}")
        if float(start) + body.get("advance", 0) > LATEST:
            raise ValueError(f"advancing by {body['advance']} s would pass the clock's range ({RANGE})")
        if body.get("reset"):
            clock.reset()
        if "freeze" in body:
            clock.freeze() if body["freeze"] else clock.unfreeze()
        if "set" in body:
            clock.set(float(body["set"]))
        if "advance" in body:
            clock.advance(float(body["advance"]))
    except (ValueError, OverflowError) as exc:
        raise AdminError(400, str(exc)) from None
    return json_response(200, clock.describe())


@route("GET", "/faults")
def list_faults(app: MockApp, request: MockRequest, params: dict[str, str]) -> MockResponse:
    return json_response(200, {"faults": app.api.faults.list()})


@route("POST", "/faults")
def add_faults(app: MockApp, request: MockRequest, params: dict[str, str]) -> MockResponse:
    body = body_of(request)
    specs = body if isinstance(body, list) else [body]
    added = [app.api.add_fault(spec).describe() for spec in specs]
    return json_response(201, {"faults": added})


@route("DELETE", "/faults")
def clear_faults(app: MockApp, request: MockRequest, params: dict[str, str]) -> MockResponse:
    return json_response(200, {"cleared": app.api.faults.clear()})


@route("DELETE", "/faults/{id}")
def clear_fault(app: MockApp, request: MockRequest, params: dict[str, str]) -> MockResponse:
    if not whole_number(params["id"]):
        raise AdminError(400, "fault ids are whole numbers")
    cleared = app.api.faults.clear(int(params["id"]))
    if not cleared:
        raise AdminError(404, f"no fault {params['id']}")
    return json_response(200, {"cleared": cleared})


@route("GET", "/limits")
def list_limits(app: MockApp, request: MockRequest, params: dict[str, str]) -> MockResponse:
    return json_response(200, {"policies": [p.describe() for p in app.api.limiter.policies]})


@route("POST", "/limits")
def set_limits(app: MockApp, request: MockRequest, params: dict[str, str]) -> MockResponse:
    """{"rate": "5/min", "policy": "name"?} or {"policy": "name", "enabled": false}"""
    body = body_of(request)
    if not isinstance(body, dict) or not ({"rate", "enabled"} & set(body)):
        raise AdminError(400, "limits take {rate: '5/min', policy?: name} or {policy: name, enabled: bool}")
    if not all(isinstance(body.get(name, ""), str) for name in ("rate", "policy")) \
            or not isinstance(body.get("enabled", True), bool):
        raise AdminError(400, "a limit's 'rate' is a string like '5/min', 'policy' a name and 'enabled' true or false")
    try:
        chosen = app.api.configure_limit(body.get("rate"), body.get("policy"), body.get("enabled"))
    except KeyError:
        raise AdminError(404, f"no rate-limit policy '{body.get('policy')}'") from None
    except ValueError as exc:
        raise AdminError(400, str(exc)) from None
    return json_response(200, {"policies": [p.describe() for p in chosen]})


@route("GET", "/events")
def events(app: MockApp, request: MockRequest, params: dict[str, str]) -> MockResponse:
    return json_response(200, {"events": [e.describe() for e in app.api.events.history]})


@route("GET", "/deliveries")
def deliveries(app: MockApp, request: MockRequest, params: dict[str, str]) -> MockResponse:
    return json_response(200, {"deliveries": app.api.webhooks.describe(), "counts": app.api.webhooks.summary(),
                               "retry": {"max_attempts": app.api.webhooks.retry.max_attempts,
                                         "horizon_seconds": app.api.webhooks.retry.horizon}})


@route("GET", "/scenarios")
def scenarios(app: MockApp, request: MockRequest, params: dict[str, str]) -> MockResponse:
    from mocks.scenarios import list_scenarios

    problems: list[str] = []
    found = [{"name": s.name, "api": s.api, "summary": s.summary}
             for s in list_scenarios(problems=problems) if s.api == app.api.name]
    return json_response(200, {"scenarios": found, "unreadable": problems})


@route("POST", "/scenarios/{name}")
def load_scenario(app: MockApp, request: MockRequest, params: dict[str, str]) -> MockResponse:
    from mocks.scenarios import ScenarioError, apply_scenario

    scenario = scenario_of(app, params["name"])
    try:
        return json_response(200, apply_scenario(scenario, {app.api.name: app.api}))
    except ScenarioError as exc:
        raise AdminError(400, str(exc)) from None


def scenario_of(app: MockApp, name: str):
    """The named scenario of this API, or the admin error that says why not."""
    from mocks.scenarios import ScenarioError, load_scenario

    if not name.replace("-", "").replace("_", "").isalnum():
        raise AdminError(400, "scenario names are letters, digits, '-' and '_'")
    try:
        scenario = load_scenario(name)
    except ScenarioError as exc:
        raise AdminError(404 if str(exc).startswith("no scenario") else 400, str(exc)) from None
    if scenario.api != app.api.name:
        raise AdminError(400, f"scenario '{scenario.name}' is for {scenario.api}, not {app.api.name}")
    return scenario


# Admin routes that live in modules of their own register themselves when imported.
import mocks.console.routes
import mocks.console.stream
import mocks.har
import mocks.snapshot  # noqa: F401  (each import binds `mocks`; all four register routes)
