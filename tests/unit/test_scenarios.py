"""mocks/scenarios.py: a scenario file that cannot be loaded says which file, line and field."""

from __future__ import annotations

import re
import textwrap

import pytest

from mocks.scenarios import Scenario, ScenarioError, load_scenario, parse_scenario


def parse(text: str) -> Scenario:
    return parse_scenario(textwrap.dedent(text).lstrip("\n"), "qa/burst.yaml", "burst")


def error_of(text: str) -> str:
    with pytest.raises(ScenarioError) as info:
        parse(text)
    return str(info.value)


VALID = """
    api: konducter
    description: |
      Cloud answers 503 twice, then recovers.
      Clients should retry.
    reset: false
    limits:
      - {rate: 5/min}
    clock:
      - {freeze: true}
      - {advance: 30}
    faults:
      - {respond: 503, times: 2, path: "/v1/*"}
    steps:
      - request: {method: GET, path: /v1/orders, as: documentation-public, repeat: 2}
        expect: {status: 503}
      - request: {path: /v1/orders}
        expect: {status: 200, headers: {X-Request-Id: true}}
        note: recovered
    """


def test_a_valid_scenario_parses():
    scenario = parse(VALID)
    assert (scenario.name, scenario.api, scenario.source, scenario.reset) == (
        "burst", "konducter", "qa/burst.yaml", False)
    assert scenario.summary == "Cloud answers 503 twice, then recovers."
    assert scenario.limits == [{"rate": "5/min"}]
    assert scenario.clock == [{"freeze": True}, {"advance": 30}]
    assert scenario.faults == [{"respond": 503, "times": 2, "path": "/v1/*"}]
    assert [s["request"]["path"] for s in scenario.steps] == ["/v1/orders", "/v1/orders"]
    assert scenario.steps[1]["note"] == "recovered"


def test_round_trips_through_yaml():
    scenario = parse(VALID)
    again = parse_scenario(scenario.to_yaml(), "again.yaml", "again")
    assert (again.api, again.description, again.reset, again.faults, again.steps) == (
        scenario.api, scenario.description, scenario.reset, scenario.faults, scenario.steps)


def test_expect_is_an_alias_for_steps():
    scenario = parse("""
        api: konducter
        description: x
        expect:
          - request: {path: /v1/orders}
        """)
    assert scenario.steps == [{"request": {"path": "/v1/orders"}}]


def test_unknown_top_level_key_names_file_line_and_key():
    message = error_of("""
        api: konducter
        description: x
        reset: true
        fautls: []
        """)
    assert message.startswith("qa/burst.yaml:4: fautls: unknown field")
    assert "faults" in message  # the known keys are listed


def test_bad_fault_names_its_index_and_line():
    message = error_of("""
        api: konducter
        description: x
        faults:
          - {respond: 503}
          - {drop: sideways}
        """)
    assert message.startswith("qa/burst.yaml:5: faults[1]: ")
    assert "drop" in message


def test_unknown_fault_field_names_the_field():
    message = error_of("""
        api: konducter
        description: x
        faults:
          - respond: 503
            ratio: 0.5
        """)
    assert message.startswith("qa/burst.yaml:4: faults[0]: ")
    assert "ratio" in message


def test_unknown_api_names_its_line():
    message = error_of("""
        description: x
        api: shopify
        """)
    assert message.startswith("qa/burst.yaml:2: api: unknown API 'shopify'")
    assert "konducter" in message


@pytest.mark.parametrize("missing", ["api", "description"])
def test_required_keys(missing):
    document = {"api": "api: konducter\n", "description": "description: x\n"}
    del document[missing]
    assert error_of("".join(document.values())) == f"qa/burst.yaml:1: '{missing}' is required"


@pytest.mark.parametrize(
    ("section", "line", "field"),
    [
        ("limits:\n  - {rate: 5/min}\n  - {rate: 5/min, burst: 2}\n", 5, "limits[1]"),
        ("limits:\n  - {policy: rpm}\n", 4, "limits[0]"),
        ("clock:\n  - {freeze: true}\n  - {rewind: 5}\n", 5, "clock[1]"),
        ("clock:\n  - {}\n", 4, "clock[0]"),
        ("steps:\n  - request: {path: /x}\n  - {expect: {status: 200}}\n", 5, "steps[1]"),
        ("steps:\n  - request: {path: /x, verb: GET}\n", 4, "steps[0].request"),
        ("steps:\n  - request: {method: GET}\n", 4, "steps[0].request"),
        ("steps:\n  - request: {path: /x}\n    expect: {code: 200}\n", 4, "steps[0].expect"),
    ],
)
def test_section_errors_name_line_and_field(section, line, field):
    message = error_of("api: konducter\ndescription: x\n" + section)
    assert message.startswith(f"qa/burst.yaml:{line}: {field}: "), message


def test_invalid_yaml_names_the_line():
    message = error_of("api: konducter\ndescription: x\nfaults: [\n")
    assert message.startswith("qa/burst.yaml:4: not valid YAML")


def test_a_scenario_must_be_a_mapping():
    assert error_of("- just\n- a list\n").startswith("qa/burst.yaml:1: a scenario is a mapping")


def test_description_of_the_wrong_type_names_its_line():
    message = error_of("api: konducter\nreset: true\ndescription: [a, b]\n")
    assert message.startswith("qa/burst.yaml:3: description: ")


@pytest.mark.parametrize(
    ("section", "field"),
    [("faults: 5\n", "faults"), ("steps:\n  - request: null\n", "steps[0]"),
     ("steps:\n  - request: {path: /x}\n    expect: 5\n", "steps[0].expect"), ("seed: 5\n", "seed")],
    ids=["faults-scalar", "request-null", "expect-scalar", "seed-scalar"],
)
def test_sections_of_the_wrong_shape_are_scenario_errors(section, field):
    with pytest.raises(ScenarioError, match=rf"qa/burst\.yaml:\d+: {re.escape(field)}"):
        parse("api: konducter\ndescription: x\n" + section)


def test_load_scenario_reads_a_file_and_names_unknown_ones(tmp_path):
    (tmp_path / "burst.yaml").write_text("api: konducter\ndescription: x\n\nbogus: 1\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"burst\.yaml:4: bogus"):
        load_scenario("burst", tmp_path)
    (tmp_path / "fine.yaml").write_text("api: konducter\ndescription: fine\n", encoding="utf-8")
    assert load_scenario("fine", tmp_path).description == "fine"
    with pytest.raises(ScenarioError, match=r"no scenario 'nope' \(known: burst, fine\)"):
        load_scenario("nope", tmp_path)
