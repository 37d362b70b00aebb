"""Admin routes that steer the sandbox: clock, faults, limits, and what it sent (events, deliveries); scenarios."""

from __future__ import annotations

import json
import math
import time
from typing import TYPE_CHECKING

from mocks.admin.table import AdminError, body_of, json_response, route, scenario_of, whole_number
from mocks.clock import LATEST, RANGE
from mocks.scenarios import ScenarioError, list_scenarios
from mocks.scenarios.apply import apply_clock, apply_scenario
from mocks.types import MockRequest, MockResponse

if TYPE_CHECKING:
    from mocks.engine import Api


@route("GET", "/clock")
def read_clock(api: Api, listener: str, request: MockRequest, params: dict[str, str]) -> MockResponse:
    return json_response(200, api.clock.describe())


@route("POST", "/clock")
def steer_clock(api: Api, listener: str, request: MockRequest, params: dict[str, str]) -> MockResponse:
    """{"freeze": true} | {"freeze": false} | {"set": <unix seconds>} | {"advance": <seconds>} | {"reset": true}"""
    body = body_of(request)
    clock = api.clock
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
        apply_clock(clock, body)  # freeze, set, advance: in the order a scenario's clock step applies them
    except (ValueError, OverflowError) as exc:
        raise AdminError(400, str(exc)) from None
    return json_response(200, clock.describe())


@route("GET", "/faults")
def list_faults(api: Api, listener: str, request: MockRequest, params: dict[str, str]) -> MockResponse:
    return json_response(200, {"faults": api.faults.list()})


@route("POST", "/faults")
def add_faults(api: Api, listener: str, request: MockRequest, params: dict[str, str]) -> MockResponse:
    body = body_of(request)
    specs = body if isinstance(body, list) else [body]
    added = [api.add_fault(spec).describe() for spec in specs]
    return json_response(201, {"faults": added})


@route("DELETE", "/faults")
def clear_faults(api: Api, listener: str, request: MockRequest, params: dict[str, str]) -> MockResponse:
    return json_response(200, {"cleared": api.faults.clear()})


@route("DELETE", "/faults/{id}")
def clear_fault(api: Api, listener: str, request: MockRequest, params: dict[str, str]) -> MockResponse:
    if not whole_number(params["id"]):
        raise AdminError(400, "fault ids are whole numbers")
    cleared = api.faults.clear(int(params["id"]))
    if not cleared:
        raise AdminError(404, f"no fault {params['id']}")
    return json_response(200, {"cleared": cleared})


@route("GET", "/limits")
def list_limits(api: Api, listener: str, request: MockRequest, params: dict[str, str]) -> MockResponse:
    return json_response(200, {"policies": [p.describe() for p in api.limiter.policies]})


@route("POST", "/limits")
def set_limits(api: Api, listener: str, request: MockRequest, params: dict[str, str]) -> MockResponse:
    """{"rate": "5/min", "policy": "name"?} or {"policy": "name", "enabled": false}"""
    body = body_of(request)
    if not isinstance(body, dict) or not ({"rate", "enabled"} & set(body)):
        raise AdminError(400, "limits take {rate: '5/min', policy?: name} or {policy: name, enabled: bool}")
    if not all(isinstance(body.get(name, ""), str) for name in ("rate", "policy")) \
            or not isinstance(body.get("enabled", True), bool):
        raise AdminError(400, "a limit's 'rate' is a string like '5/min', 'policy' a name and 'enabled' true or false")
    try:
        chosen = api.configure_limit(body.get("rate"), body.get("policy"), body.get("enabled"))
    except KeyError:
        raise AdminError(404, f"no rate-limit policy '{body.get('policy')}'") from None
    except ValueError as exc:
        raise AdminError(400, str(exc)) from None
    return json_response(200, {"policies": [p.describe() for p in chosen]})


@route("GET", "/events")
def events(api: Api, listener: str, request: MockRequest, params: dict[str, str]) -> MockResponse:
    return json_response(200, {"events": [e.describe() for e in api.events.history],
                               "dropped": api.events.dropped.count})


@route("GET", "/deliveries")
def deliveries(api: Api, listener: str, request: MockRequest, params: dict[str, str]) -> MockResponse:
    return json_response(200, {"deliveries": api.webhooks.describe(), "counts": api.webhooks.summary(),
                               "dropped": api.webhooks.dropped.count,
                               "retry": {"max_attempts": api.webhooks.retry.max_attempts,
                                         "horizon_seconds": api.webhooks.retry.horizon}})


@route("GET", "/scenarios")
def scenarios(api: Api, listener: str, request: MockRequest, params: dict[str, str]) -> MockResponse:
    problems: list[str] = []
    found = [{"name": s.name, "api": s.api, "summary": s.summary}
             for s in list_scenarios(problems=problems) if s.api == api.name]
    return json_response(200, {"scenarios": found, "unreadable": problems})


@route("POST", "/scenarios/{name}")
def load_scenario(api: Api, listener: str, request: MockRequest, params: dict[str, str]) -> MockResponse:
    scenario = scenario_of(api, params["name"])
    try:
        return json_response(200, apply_scenario(scenario, {api.name: api}))
    except ScenarioError as exc:
        raise AdminError(400, str(exc)) from None
