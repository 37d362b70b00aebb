"""Projection onto a response schema: what a closed schema does not declare is dropped, nothing else."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from mocks.rendering import compile_projector

NAMES = st.sampled_from(["id", "name", "items", "meta", "x"])
LEAF = st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.text(max_size=3))


def _object(properties: st.SearchStrategy) -> st.SearchStrategy:
    return st.builds(lambda props, closed: {"type": "object", "properties": props,
                                            **({"additionalProperties": False} if closed else {})},
                     st.dictionaries(NAMES, properties, min_size=1, max_size=3), st.booleans())


SCHEMAS = st.recursive(st.just({"type": "string"}),
                       lambda inner: st.one_of(_object(inner), st.builds(lambda s: {"type": "array", "items": s}, inner)),
                       max_leaves=6)
VALUES = st.recursive(LEAF, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                    st.dictionaries(NAMES, inner, max_size=4)), max_leaves=10)


def reference(schema: dict[str, Any], value: Any) -> Any:
    """The rule, written plainly: a new copy of every object and array the schema describes."""
    properties = schema.get("properties")
    if properties:
        if not isinstance(value, dict):
            return value
        closed = schema.get("additionalProperties") is False
        return {k: reference(properties[k], v) if k in properties else v
                for k, v in value.items() if not closed or k in properties}
    if isinstance(schema.get("items"), dict):
        return [reference(schema["items"], v) for v in value] if isinstance(value, list) else value
    return value


@settings(max_examples=300, deadline=None)
@given(schema=SCHEMAS, value=VALUES)
def test_projection_drops_exactly_what_the_schema_closes_off_and_never_changes_its_input(schema, value):
    before = copy.deepcopy(value)
    projected = compile_projector(schema)(value)
    expected = reference(schema, value)
    assert projected == expected, f"schema {schema}, value {value}: {projected} != {expected}"
    assert value == before, f"schema {schema}: the input {before} was changed to {value}"
    if expected == value:  # nothing to drop: the value itself, no copy (the common case of a stored record)
        assert projected is value, f"schema {schema}, value {value}: copied though nothing was dropped"


def test_a_closed_schema_copies_only_the_object_that_loses_a_property():
    project = compile_projector({"type": "object", "additionalProperties": False, "properties": {
        "a": {"type": "object", "additionalProperties": False, "properties": {"b": {}}},
        "c": {"type": "object", "properties": {"d": {}}},
    }})
    kept = {"d": 1, "extra": 2}
    value = {"a": {"b": 1, "secret": 2}, "c": kept}
    projected = project(value)
    assert projected == {"a": {"b": 1}, "c": {"d": 1, "extra": 2}}
    assert projected["c"] is kept and value["a"] == {"b": 1, "secret": 2}
