"""Replay a scenario's steps against an API and judge what each step saw (`mocks scenarios --check`, the console).

httpx and the in-process transport are imported inside the functions: the console imports this
module, and `mocks serve` must not load httpx until a replay is asked for.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mocks.scenarios.apply import apply_clock, apply_scenario
from mocks.scenarios.model import Scenario


@dataclass(slots=True)
class StepOutcome:
    index: int
    request: str
    passed: bool
    detail: str


def run_steps(scenario: Scenario, api, clients: dict[str, Any]) -> list[StepOutcome]:
    """Replay the scenario's steps with httpx clients (one per listener name); what each step saw.

    A `clock` step moves the API's clock; `save` keeps response fields for later steps, which
    use them as `{saved.NAME}` in their path, query, headers and bodies.
    """
    import httpx

    from mocks.credentials import auth_headers
    from mocks.templates import compile_template, lookup

    outcomes = []
    saved: dict[str, Any] = {}
    for index, step in enumerate(scenario.steps):
        if "clock" in step:
            apply_clock(api.clock, step["clock"])
            outcomes.append(StepOutcome(index, f"clock {step['clock']}", True, "clock moved"))
            continue
        request = compile_template(step["request"])({"saved": saved})
        expect = step.get("expect") or {}
        method = request.get("method", "GET").upper()
        headers = {}
        if request.get("as") is not None or request.get("scope") is not None:
            headers.update(auth_headers(api, request.get("as"), request.get("scope")))
        headers.update({k: str(v) for k, v in (request.get("headers") or {}).items()})
        client = clients[request.get("listener") or api.primary_listener]
        label = f"{method} {request['path']}"
        for _ in range(int(request.get("repeat", 1))):
            try:
                response = client.request(method, request["path"], headers=headers, params=request.get("query"),
                                          json=request.get("json"),
                                          content=request.get("body").encode() if request.get("body") else None)
            except httpx.TransportError as exc:
                response, dropped = None, f"{type(exc).__name__}"
            else:
                dropped = None
        outcome = StepOutcome(index, label, *_judge(expect, response, dropped))
        if step.get("save") and response is not None:
            answer = {"body": _json_or_text(response), "headers": dict(response.headers),
                      "status": response.status_code}
            for name, where in step["save"].items():
                saved[name] = lookup(answer, where)
                if saved[name] is None:
                    outcome = StepOutcome(index, label, False, f"{outcome.detail}; nothing at {where} to save")
        outcomes.append(outcome)
    return outcomes


def _json_or_text(response) -> Any:
    try:
        return response.json() if response.content else None
    except ValueError:
        return response.text


def _judge(expect: dict[str, Any], response, dropped: str | None) -> tuple[bool, str]:
    if expect.get("dropped"):
        return (dropped is not None, "connection dropped" if dropped else f"answered {response.status_code}")
    if response is None:
        return False, f"connection failed: {dropped}"
    problems = []
    if "status" in expect and response.status_code != int(expect["status"]):
        problems.append(f"status {response.status_code}, expected {expect['status']}")
    for name, wanted in (expect.get("headers") or {}).items():
        have = response.headers.get(name)
        if have is None or (wanted is not True and str(wanted) != have):
            problems.append(f"header {name}: {have!r}, expected {'present' if wanted is True else wanted!r}")
    if "body" in expect:
        body = _json_or_text(response)
        if not _contains(body, expect["body"]):
            problems.append(f"body {str(body)[:200]} does not contain {expect['body']}")
    detail = "; ".join(problems) or f"{response.status_code} as expected"
    return not problems, detail


def _contains(have: Any, wanted: Any) -> bool:
    if isinstance(wanted, dict):
        return isinstance(have, dict) and all(k in have and _contains(have[k], v) for k, v in wanted.items())
    if isinstance(wanted, list):
        return isinstance(have, list) and len(have) == len(wanted) and all(map(_contains, have, wanted))
    return have == wanted


def check_scenario(scenario: Scenario) -> list[StepOutcome]:
    """Apply a scenario to a fresh in-process API and replay its steps."""
    from mocks.asgi import MockApp
    from mocks.inprocess import in_process_client
    from mocks.registry import load_api

    api = load_api(scenario.api)
    apply_scenario(scenario, {api.name: api})
    clients = {name: in_process_client(MockApp(api, name)) for name in api.contract.listeners}
    try:
        return run_steps(scenario, api, clients)
    finally:
        for client in clients.values():
            client.close()
