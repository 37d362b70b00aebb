"""The admin API's table: the router under /__mock/, `route` to register a handler, and the helpers handlers share.

A handler takes `(api, listener, request, params)`: the API it steers, the listener name the
request came in on, the request and the path parameters. No handler sees the ASGI adapter.
Route modules (`admin.sandbox`, `admin.steer`, `console.*`, `har`, `snapshot`) register
themselves when imported; `mocks.app` imports every one of them.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from mocks.faults import FaultError
from mocks.media import MAX_ADMIN_BODY_BYTES, dump_json, load_json
from mocks.routing import Router
from mocks.scenarios import Scenario, ScenarioError, load_scenario
from mocks.state import STORE_RETRY_AFTER, store_down
from mocks.types import MockRequest, MockResponse

if TYPE_CHECKING:
    from mocks.engine import Api

Handler = Callable[["Api", str, MockRequest, dict[str, str]], Awaitable[MockResponse] | MockResponse]
_router: Router[Handler] = Router()
_registered: list[tuple[str, str]] = []  # every route, in the order its module registered it
log = logging.getLogger("mocks")


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


async def handle(api: Api, listener: str, request: MockRequest) -> MockResponse:
    match = _router.match(request.method, request.path)
    if match is None:
        return json_response(404, {"error": f"no admin route {request.path}", "routes": routes()})
    if match.target is None:
        return json_response(405, {"error": f"{request.method} not allowed", "allow": list(match.allowed)})
    try:
        result = match.target(api, listener, request, match.params)
        if hasattr(result, "__await__"):
            result = await result
        return result
    except AdminError as exc:
        return json_response(exc.status, {"error": str(exc)})
    except FaultError as exc:
        return json_response(400, {"error": str(exc)})
    except Exception as exc:
        if not store_down(exc):
            raise
        # as the pipeline's: the shared store is down, full or read-only; soon again (the console too)
        log.warning("store unavailable while handling %s %s: %s", request.method, request.path, exc)
        response = json_response(503, {"error": "the sandbox's store is unavailable; retry shortly"})
        response.headers.append(("Retry-After", STORE_RETRY_AFTER))
        return response


def routes() -> list[str]:
    return sorted({f"{method} {path}" for method, path in _registered})


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


def base_urls(api: Api, listener: str, request: MockRequest) -> dict[str, str]:
    urls = dict(api.base_urls)
    if not urls:
        host = request.header("host") or "localhost"
        urls[listener] = f"{request.scheme}://{host}{api.contract.prefix}"
    return urls


def credentials_table(api) -> list[dict[str, Any]]:
    return [
        {"principal": c.principal.id, "description": c.description, "scopes": list(c.principal.scopes),
         "schemes": c.schemes, **({"grant": c.grant} if c.grant else {})}
        for c in api.fixtures.credentials
    ]


def scenario_of(api: Api, name: str) -> Scenario:
    """The named scenario of this API, or the admin error that says why not."""
    if not name.replace("-", "").replace("_", "").isalnum():
        raise AdminError(400, "scenario names are letters, digits, '-' and '_'")
    try:
        scenario = load_scenario(name)
    except ScenarioError as exc:
        raise AdminError(404 if str(exc).startswith("no scenario") else 400, str(exc)) from None
    if scenario.api != api.name:
        raise AdminError(400, f"scenario '{scenario.name}' is for {scenario.api}, not {api.name}")
    return scenario
