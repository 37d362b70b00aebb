"""QA scenarios: YAML files that put a sandbox API into a documented error situation.

A scenario seeds state, changes limits, steps the clock and installs faults; its `steps` say
what a client should see, and are replayed by the test suite and by `mocks scenarios --check`.
Three modules, three layers: `model` (parse, load, list; checked against the contract),
`apply` (steering an API into the situation) and `replay` (the steps against an API). This
package re-exports the model only, so importing it never reaches the engine.
"""

from mocks.scenarios.model import (
    SCENARIOS_DIR,
    Scenario,
    ScenarioError,
    list_scenarios,
    load_scenario,
    parse_scenario,
    scenario_path,
)

__all__ = ["SCENARIOS_DIR", "Scenario", "ScenarioError", "list_scenarios", "load_scenario", "parse_scenario",
           "scenario_path"]
