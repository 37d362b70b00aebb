"""Put an API into a scenario's situation: reset, seed, limits, clock, faults (through `Api`'s steering)."""

from __future__ import annotations

from typing import Any

from mocks.faults import FaultError
from mocks.resources import UnknownResource
from mocks.scenarios.model import Scenario, ScenarioError


def apply_scenario(scenario: Scenario, apis: dict[str, Any]) -> dict[str, Any]:
    """Put the scenario's API into the scenario's situation; what was done."""
    api = apis.get(scenario.api)
    if api is None:
        raise ScenarioError(f"{scenario.source}: scenario is for {scenario.api}, which is not being served")
    if scenario.reset:
        api.reset()
        api.clock.reset()
    try:
        api.seed(scenario.seed.get("resources") or {})
    except UnknownResource as exc:
        raise ScenarioError(f"{scenario.source}: seed.resources.{exc.name}: {scenario.api} has no resource "
                            f"'{exc.name}'") from None
    for spec in scenario.limits:
        try:
            api.configure_limit(spec.get("rate"), spec.get("policy"), spec.get("enabled"))
        except KeyError:
            raise ScenarioError(f"{scenario.source}: limits: no policy '{spec.get('policy')}' in {api.name}") from None
    for step in scenario.clock:
        apply_clock(api.clock, step)
    installed = []
    for spec in scenario.faults:
        try:
            installed.append(api.add_fault(spec).describe())
        except FaultError as exc:
            raise ScenarioError(f"{scenario.source}: faults: {exc}") from None
    return {"scenario": scenario.name, "api": api.name, "description": scenario.description,
            "faults": installed, "limits": [p.describe() for p in api.limiter.policies], "clock": api.clock.describe()}


def apply_clock(clock, step: dict[str, Any]) -> None:
    if "freeze" in step:
        clock.freeze() if step["freeze"] else clock.unfreeze()
    if "set" in step:
        clock.set(float(step["set"]))
    if "advance" in step:
        clock.advance(float(step["advance"]))
