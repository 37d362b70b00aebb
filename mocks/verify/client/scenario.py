"""Write a failure as a QA scenario: `mocks serve --scenario PATH` puts a sandbox into the same faults.

The file holds the minimal schedule's faults (and tightened limit), a description in plain words,
and steps that replay the client's calls to the faulted operations, expecting each fault to strike
where it struck for the client, so `mocks scenarios --check PATH` shows the schedule at work.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from mocks.scenarios import load_scenario
from mocks.verify.client.explore import Exploration, Verdict
from mocks.verify.client.facts import ApiFacts
from mocks.verify.client.report import explain
from mocks.verify.client.traffic import Call


def write_scenario(outcome: Exploration, directory: str | Path) -> Path:
    """The failure's scenario (for a client of several APIs: of the API whose property broke first)."""
    failure = outcome.failure
    assert failure is not None
    facts = outcome.facts.for_api(failure.violations[0].api or outcome.api.split()[0])
    verdict = Verdict(failure.run.view(facts.name), failure.violations)
    slug = re.sub(r"[^a-z0-9]+", "-", verdict.violations[0].property.lower()).strip("-")
    path = Path(directory) / f"verify-{facts.name}-{slug}.yaml"
    description = (f"Found by mocks verify-client (seed {outcome.seed}): {verdict.violations[0].title}.\n"
                   f"Client: {outcome.client}\n\n" + explain(failure, outcome.facts, outcome.original) + "\n")
    document: dict[str, Any] = {"api": facts.name, "description": description, "reset": True}
    schedule = verdict.run.schedule
    if schedule.limits():
        document["limits"] = schedule.limits()
    if schedule.faults:
        document["faults"] = schedule.specs()
    steps = [] if schedule.throttle else replay_steps(verdict, facts)
    if steps:
        document["steps"] = steps
    path.parent.mkdir(parents=True, exist_ok=True)
    header = (f"# Written by `mocks verify-client {facts.name}`. Replay: mocks serve {facts.name} --scenario {path}\n"
              f"# Check that the faults strike as recorded: mocks scenarios --check {path}\n")
    path.write_text(header + yaml.dump(document, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=110),
                    encoding="utf-8")
    load_scenario(path)  # what we write must load
    return path


def replay_steps(verdict: Verdict, facts: ApiFacts) -> list[dict[str, Any]]:
    """The client's calls to faulted operations that reached the fault stage, up to the last strike."""
    run = verdict.run
    targeted = {fault.operation for fault in run.schedule.faults}
    calls = [c for c in run.calls if c.operation in targeted and _reached_faults(c)]
    struck = [i for i, c in enumerate(calls) if c.fault]
    if not struck:
        return []
    steps = []
    for call in calls[: struck[-1] + 1]:
        request = _request(call, facts)
        if request is None:
            return []
        step: dict[str, Any] = {"request": request}
        expect = _expectation(call, facts)
        if expect.get("dropped") and call.fault.get("drop") == "after" and facts.operations[call.operation].id_param:
            step["note"] = ("the fault strikes here; it drops the connection only if the resource exists, which "
                            "the client had created earlier in its run (replayed alone, the call may answer 404)")
        elif expect:
            step["expect"] = expect
            step["note"] = "the client's call that the fault struck"
        steps.append(step)
    return steps


def _reached_faults(call: Call) -> bool:
    """Authentication and rate limits come before faults: calls they refused were not counted."""
    return call.fault is not None or call.status not in (401, 429)


def _request(call: Call, facts: ApiFacts) -> dict[str, Any] | None:
    api = facts.api
    principal = _static_principal(api, call)
    if principal is None:
        return None
    request: dict[str, Any] = {"method": call.method, "path": _literal(call.path), "as": principal}
    scope_headers = [name for kind, name in api.auth.scope_names()]
    scope = next((call.headers[h] for h in scope_headers if h in call.headers), None)
    if scope is not None:
        request["scope"] = _literal(scope)
    if call.query:
        query: dict[str, list[str]] = {}
        for name, value in call.query:
            query.setdefault(_literal(name), []).append(_literal(value))
        request["query"] = query
    if call.body and not call.body.endswith("…"):
        request["body"] = _literal(call.body)
        if "content-type" in call.headers:
            request["headers"] = {"Content-Type": _literal(call.headers["content-type"])}
    if call.listener and call.listener != api.primary_listener:
        request["listener"] = call.listener
    return request


def _literal(text: str) -> str:
    """A step's strings are templates (`{saved.id}`): double every brace so the client's text replays as sent."""
    return text.replace("{", "{{").replace("}", "}}")


def _static_principal(api, call: Call) -> str | None:
    """A sandbox principal with static credentials that may act where the client acted."""
    credentials = [c for c in api.fixtures.credentials if c.schemes]
    own = next((c for c in credentials if c.principal.id == call.principal), None)
    if own is not None:
        return own.principal.id
    wanted = next((call.headers[h] for _, h in api.auth.scope_names() if h in call.headers), None)
    for credential in credentials:
        if wanted is None or wanted in credential.principal.scopes:
            return credential.principal.id
    return None


def _expectation(call: Call, facts: ApiFacts) -> dict[str, Any]:
    fault = call.fault or {}
    if not fault:
        return {}
    if fault.get("drop"):
        return {"dropped": True}
    respond = fault.get("respond") or {}
    if respond.get("code") in facts.codes:
        return {"status": facts.codes[respond["code"]]}
    if respond.get("status"):
        return {"status": int(respond["status"])}
    return {}


class _Dumper(yaml.SafeDumper):
    pass


def _text(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _text)
