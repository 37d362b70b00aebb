"""The scenario model: parse, load and list scenario files, checked against the API's contract.

Nothing here changes an API (`scenarios.apply`) or sends a request (`scenarios.replay`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mocks.errors import ErrorCatalog
from mocks.faults import FaultError, check_fault, parse_fault
from mocks.fixtures import FIXTURES_DIR

if TYPE_CHECKING:
    import yaml

SCENARIOS_DIR = FIXTURES_DIR / "scenarios"
_TOP = {"api", "description", "reset", "seed", "limits", "clock", "faults", "steps", "expect"}
_STEP = {"request", "expect", "note", "save", "clock"}
_REQUEST = {"method", "path", "as", "scope", "headers", "json", "body", "query", "listener", "repeat"}
_EXPECT = {"status", "headers", "body", "dropped"}
_CLOCK = {"freeze", "set", "advance"}


class ScenarioError(ValueError):
    """A scenario file that cannot be loaded: names the file, the line and the field."""


@dataclass(slots=True)
class Scenario:
    name: str
    api: str
    description: str
    source: str
    reset: bool = True
    seed: dict[str, Any] = field(default_factory=dict)
    limits: list[dict[str, Any]] = field(default_factory=list)
    clock: list[dict[str, Any]] = field(default_factory=list)
    faults: list[dict[str, Any]] = field(default_factory=list)
    steps: list[dict[str, Any]] = field(default_factory=list)

    @property
    def summary(self) -> str:
        return self.description.strip().splitlines()[0] if self.description.strip() else ""

    def to_yaml(self) -> str:
        document = {"api": self.api, "description": self.description, "reset": self.reset}
        for key in ("seed", "limits", "clock", "faults", "steps"):
            if getattr(self, key):
                document[key] = getattr(self, key)
        import yaml  # see parse_scenario

        return yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100)


def scenario_path(name: str, directory: Path | None = None) -> Path:
    path = Path(name)
    if path.suffix in (".yaml", ".yml") and path.exists():
        return path
    return (directory or SCENARIOS_DIR) / f"{name}.yaml"


def list_scenarios(directory: Path | None = None, problems: list[str] | None = None) -> list[Scenario]:
    """Every loadable scenario; with `problems`, broken files are reported there instead of raising."""
    found = []
    for path in sorted((directory or SCENARIOS_DIR).glob("*.yaml")):
        try:
            found.append(load_scenario(path))
        except ScenarioError as exc:
            if problems is None:
                raise
            problems.append(str(exc))
    return found


def load_scenario(name: str | Path, directory: Path | None = None) -> Scenario:
    path = scenario_path(str(name), directory)
    if not path.exists():
        known = ", ".join(p.stem for p in sorted((directory or SCENARIOS_DIR).glob("*.yaml")))
        raise ScenarioError(f"no scenario '{name}' (known: {known})")
    text = path.read_text(encoding="utf-8")
    return parse_scenario(text, str(path), path.stem)


def parse_scenario(text: str, source: str, name: str) -> Scenario:
    # PyYAML is imported here, not with the module: the admin routes import this module, and a
    # serving sandbox whose contracts come from the YAML cache (`mocks.yamlfile`) starts ~30 ms
    # sooner without it
    import yaml

    try:
        node = yaml.compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark else ""
        raise ScenarioError(f"{source}{line}: not valid YAML: {getattr(exc, 'problem', exc)}") from None
    if node is None or not isinstance(node, yaml.MappingNode):
        raise ScenarioError(f"{source}:1: a scenario is a mapping with at least 'api' and 'description'")
    check = _Checker(source)
    data = check.mapping(node, "", _TOP)
    for required in ("api", "description"):
        if required not in data:
            raise ScenarioError(f"{source}:1: '{required}' is required")
    if not isinstance(data["description"], str):
        check.fail(check.child(node, "description"), "description", "must be text")
    for section, kind, word in (("faults", list, "a list"), ("limits", list, "a list"), ("clock", list, "a list"),
                                ("steps", list, "a list"), ("expect", list, "a list"), ("seed", dict, "a mapping")):
        if data.get(section) is not None and not isinstance(data[section], kind):
            check.fail(check.child(node, section), section, f"must be {word}")
    from mocks.catalog import API_NAMES

    if data["api"] not in API_NAMES:
        check.fail(check.child(node, "api"), "api", f"unknown API '{data['api']}' (known: {', '.join(API_NAMES)})")
    for index, spec in enumerate(data.get("faults") or []):
        try:
            parse_fault(spec)
        except FaultError as exc:
            check.fail(check.item(node, "faults", index), f"faults[{index}]", str(exc))
    if "reset" in data and not isinstance(data["reset"], bool):
        check.fail(check.child(node, "reset"), "reset", "must be true or false")
    api = _api_facts(data["api"])
    for index, spec in enumerate(data.get("faults") or []):
        problem = api.fault_problem(spec)
        if problem:
            check.fail(check.item(node, "faults", index), f"faults[{index}]", problem)
    for index, spec in enumerate(data.get("limits") or []):
        where = check.item(node, "limits", index)
        if (not isinstance(spec, dict) or not {"rate", "enabled"} & set(spec)
                or set(spec) - {"rate", "policy", "enabled"}):
            check.fail(where, f"limits[{index}]", "takes {rate: '5/min', policy?: name} or {policy: name, enabled: bool}")
        problem = api.limit_problem(spec)
        if problem:
            check.fail(where, f"limits[{index}]", problem)
    for index, spec in enumerate(data.get("clock") or []):
        problem = _clock_problem(spec)
        if problem:
            check.fail(check.item(node, "clock", index), f"clock[{index}]", problem)
    steps = data.get("steps") or data.get("expect") or []
    for index, step in enumerate(steps):
        where = check.item(node, "steps" if "steps" in data else "expect", index)
        if isinstance(step, dict) and set(step) <= {"clock", "note"} and "clock" in step:
            problem = _clock_problem(step["clock"])
            if problem:
                check.fail(where, f"steps[{index}].clock", problem)
            continue
        if not isinstance(step, dict) or set(step) - _STEP or "request" not in step:
            check.fail(where, f"steps[{index}]", "a step is {request: {...}, expect?: {...}, save?: {...}, "
                                                 "note?: text}, or {clock: {advance: seconds}}")
        if step.get("save") is not None and (not isinstance(step["save"], dict)
                                             or not all(isinstance(v, str) for v in step["save"].values())):
            check.fail(where, f"steps[{index}].save", "maps names to response fields, e.g. {token: body.access_token}")
        if isinstance(step["request"], dict) and step["request"].get("as") is not None \
                and str(step["request"]["as"]) not in api.principals:
            check.fail(where, f"steps[{index}].request.as",
                       f"no sandbox principal '{step['request']['as']}' in {data['api']} "
                       f"(known: {', '.join(api.principals)})")
        if not isinstance(step["request"], dict):
            check.fail(where, f"steps[{index}].request", "must be a mapping with at least 'path'")
        if step.get("expect") is not None and not isinstance(step["expect"], dict):
            check.fail(where, f"steps[{index}].expect", "must be a mapping")
        if set(step["request"]) - _REQUEST or "path" not in step["request"]:
            check.fail(where, f"steps[{index}].request", f"takes {', '.join(sorted(_REQUEST))}; 'path' is required")
        if set(step.get("expect") or {}) - _EXPECT:
            check.fail(where, f"steps[{index}].expect", f"takes {', '.join(sorted(_EXPECT))}")
    return Scenario(
        name=name, api=data["api"], description=data["description"], source=source,
        reset=bool(data.get("reset", True)), seed=data.get("seed") or {}, limits=data.get("limits") or [],
        clock=data.get("clock") or [], faults=data.get("faults") or [], steps=steps,
    )


def _clock_problem(spec: Any) -> str | None:
    if not isinstance(spec, dict) or not spec or set(spec) - _CLOCK:
        return "takes {freeze: bool}, {set: unix seconds} or {advance: seconds}"
    for key in ("set", "advance"):
        if key in spec and (isinstance(spec[key], bool) or not isinstance(spec[key], (int, float))):
            return f"{key} takes a number of seconds, got {spec[key]!r}"
    if "advance" in spec and spec["advance"] < 0:
        return "the clock only moves forward: advance takes seconds >= 0"
    return None


@dataclass(slots=True)
class _ApiFacts:
    """What a scenario may name in one API: operations, error codes, limit policies, principals."""

    name: str
    operations: list[str]
    errors: ErrorCatalog
    policies: set[str]
    principals: list[str]

    def fault_problem(self, spec: Any) -> str | None:
        try:
            check_fault(spec, self.operations, self.errors, self.name)
        except FaultError as exc:
            return str(exc)
        return None

    def limit_problem(self, spec: dict[str, Any]) -> str | None:
        from mocks.ratelimit import parse_rate

        if spec.get("policy") is not None and spec["policy"] not in self.policies:
            return f"no policy '{spec['policy']}' (known: {', '.join(sorted(self.policies))})"
        if spec.get("rate") is not None:
            try:
                parse_rate(str(spec["rate"]))
            except ValueError as exc:
                return str(exc)
        if "enabled" in spec and not isinstance(spec["enabled"], bool):
            return "enabled must be true or false"
        return None


def _api_facts(name: str) -> _ApiFacts:
    from mocks.catalog import load_contract
    from mocks.fixtures import load_fixtures

    contract = load_contract(name)
    return _ApiFacts(name, [op.id for op in contract.operations], ErrorCatalog(contract),
                     {p["name"] for p in contract.extension("rate-limits") or []},
                     [c.principal.id for c in load_fixtures(name).credentials])


class _Checker:
    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, node: yaml.Node, field: str, message: str):
        raise ScenarioError(f"{self.source}:{node.start_mark.line + 1}: {field}: {message}")

    def mapping(self, node: yaml.MappingNode, prefix: str, allowed: set[str]) -> dict[str, Any]:
        for key, _ in node.value:
            if key.value not in allowed:
                self.fail(key, prefix + key.value, f"unknown field (known: {', '.join(sorted(allowed))})")
        import yaml  # see parse_scenario

        return yaml.safe_load(yaml.serialize(node))

    def child(self, node: yaml.MappingNode, name: str) -> yaml.Node:
        return next((value for key, value in node.value if key.value == name), node)

    def item(self, node: yaml.MappingNode, name: str, index: int) -> yaml.Node:
        import yaml  # see parse_scenario

        sequence = self.child(node, name)
        if isinstance(sequence, yaml.SequenceNode) and index < len(sequence.value):
            return sequence.value[index]
        return sequence
