"""Every key of every schema object is a JSON Schema 2020-12 or OpenAPI 3.1 keyword, or an `x-`
extension: a YAML slip (an unquoted comma in a flow mapping) otherwise turns prose into a key
that tools silently ignore."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from contractkit import pointer

JSON_SCHEMA_2020_12 = frozenset({
    # core
    "$schema", "$id", "$ref", "$anchor", "$dynamicRef", "$dynamicAnchor", "$vocabulary", "$comment", "$defs",
    # applicator
    "prefixItems", "items", "contains", "additionalProperties", "properties", "patternProperties",
    "dependentSchemas", "propertyNames", "if", "then", "else", "allOf", "anyOf", "oneOf", "not",
    # unevaluated
    "unevaluatedItems", "unevaluatedProperties",
    # validation
    "type", "enum", "const", "multipleOf", "maximum", "exclusiveMaximum", "minimum", "exclusiveMinimum",
    "maxLength", "minLength", "pattern", "maxItems", "minItems", "uniqueItems", "maxContains", "minContains",
    "maxProperties", "minProperties", "required", "dependentRequired",
    # meta-data, format, content
    "title", "description", "default", "deprecated", "readOnly", "writeOnly", "examples",
    "format", "contentEncoding", "contentMediaType", "contentSchema",
})
OPENAPI_3_1_SCHEMA = frozenset({"discriminator", "xml", "externalDocs", "example"})
KNOWN = JSON_SCHEMA_2020_12 | OPENAPI_3_1_SCHEMA

_SCHEMA_MAPS = ("properties", "patternProperties", "$defs", "dependentSchemas")
_SCHEMA_LISTS = ("allOf", "anyOf", "oneOf", "prefixItems")
_SCHEMA_ONE = ("items", "additionalProperties", "not", "if", "then", "else", "contains", "propertyNames",
               "unevaluatedItems", "unevaluatedProperties", "contentSchema")
# where OpenAPI puts a schema (Parameter, Header, Media Type objects; components) or this project does
_SCHEMA_HOLDERS = ("schema", "x-mock-event-frame")
_DATA = ("example", "examples", "default", "const", "enum")  # instance data, not schemas


def schema_roots(node: Any, tokens: list[Any]) -> Iterator[tuple[list[Any], dict]]:
    """Every schema object the document declares (not those inside examples or x-mock-* data)."""
    if isinstance(node, dict):
        for key, value in node.items():
            here = [*tokens, key]
            if key in _DATA or (isinstance(key, str) and key.startswith("x-") and key not in _SCHEMA_HOLDERS):
                continue
            if key in _SCHEMA_HOLDERS and isinstance(value, dict):
                yield here, value
            elif tokens == ["components"] and key == "schemas" and isinstance(value, dict):
                yield from ((([*here, name]), schema) for name, schema in value.items() if isinstance(schema, dict))
            else:
                yield from schema_roots(value, here)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from schema_roots(value, [*tokens, index])


def subschemas(schema: dict, tokens: list[Any]) -> Iterator[tuple[list[Any], dict]]:
    yield tokens, schema
    for key in _SCHEMA_MAPS:
        for name, sub in (schema.get(key) or {}).items():
            if isinstance(sub, dict):
                yield from subschemas(sub, [*tokens, key, name])
    for key in _SCHEMA_LISTS:
        for index, sub in enumerate(schema.get(key) or []):
            if isinstance(sub, dict):
                yield from subschemas(sub, [*tokens, key, index])
    for key in _SCHEMA_ONE:
        if isinstance(schema.get(key), dict):
            yield from subschemas(schema[key], [*tokens, key])


def unknown_schema_keys(doc: Any) -> list[str]:
    problems = []
    for root_tokens, root in schema_roots(doc, []):
        for tokens, schema in subschemas(root, root_tokens):
            for key in schema:
                if key not in KNOWN and not (isinstance(key, str) and key.startswith("x-")):
                    problems.append(f"{pointer(*tokens)}: {key!r} is neither a JSON Schema 2020-12 / OpenAPI "
                                    "keyword nor an x- extension")
    return problems


def test_schema_objects_hold_only_keywords_and_extensions(load, contract_name):
    c = load(contract_name)
    problems = unknown_schema_keys(c.doc)
    assert not problems, "\n".join(problems)


def test_the_check_sees_keys_nested_deep_in_schemas():
    """The walk reaches the places a slip hides: a property's schema inside allOf, a parameter's schema."""
    doc = {
        "components": {"schemas": {"OrderList": {"allOf": [{"properties": {
            "total": {"type": "integer", "description": "Number of orders matching", "over all pages.": None}}}]}}},
        "paths": {"/a": {"get": {"parameters": [{"name": "q", "in": "query", "schema": {"tpye": "string"}}],
                                 "responses": {"200": {"content": {"application/json": {
                                     "schema": {"type": "object"}, "example": {"schema": {"bogus": 1}}}}}}}}},
    }
    problems = unknown_schema_keys(doc)
    assert len(problems) == 2, problems
    assert "'over all pages.'" in problems[0] and "/components/schemas/OrderList/allOf/0/properties/total" in problems[0]
    assert "'tpye'" in problems[1]
