"""`text/event-stream` responses as OpenAPI 3.1 tools read them: `schema` applies to the whole body,
so it is a string; the schema of one event sits beside it under `x-mock-event-frame`, and every
example stream is text whose events are valid frames."""

from __future__ import annotations

import json

from contractkit import errors_of, media_content, ref_pointer, resolve, validator_at

EVENT_STREAM = "text/event-stream"


def events_of(text: str) -> list[dict[str, str]]:
    """The events an SSE parser reads from `text` (a frame without `data` is no event)."""
    events = []
    for block in text.split("\n\n"):
        fields: dict[str, str] = {}
        for line in block.splitlines():
            if line and not line.startswith(":"):
                name, _, value = line.partition(":")
                fields[name] = value.removeprefix(" ")
        if "data" in fields:
            events.append(fields)
    return events


def test_event_streams_declare_a_string_schema_and_the_frame_beside_it(load, contract_name):
    c = load(contract_name)
    problems = []
    for where, media, obj in media_content(c.doc):
        if media != EVENT_STREAM or "/responses/" not in where:
            continue
        schema = resolve(c.doc, obj.get("schema") or {})
        if schema.get("type") != "string":
            problems.append(f"{where}: the stream's schema is {schema.get('type')!r}, 3.1 tools need 'string'")
        frame = resolve(c.doc, obj.get("x-mock-event-frame") or {})
        if frame.get("type") != "object":
            problems.append(f"{where}: no x-mock-event-frame object schema beside the stream's string schema")
    assert not problems, "\n".join(problems)


def test_example_streams_are_text_of_valid_frames(load, contract_name):
    c = load(contract_name)
    checked, problems = 0, []
    for where, media, obj in media_content(c.doc):
        if media != EVENT_STREAM or "x-mock-event-frame" not in obj:
            continue
        stream = validator_at(c.registry, c.uri, ref_pointer(c.doc, obj["schema"], f"{where}/schema"))
        frame = validator_at(c.registry, c.uri,
                             ref_pointer(c.doc, obj["x-mock-event-frame"], f"{where}/x-mock-event-frame"))
        for name, example in (obj.get("examples") or {}).items():
            text = resolve(c.doc, example)["value"]
            problems += [f"{where} example {name}: {e}" for e in errors_of(stream, text)]
            for event in events_of(text):
                json.loads(event["data"])
                problems += [f"{where} example {name}: {e}" for e in errors_of(frame, event)]
                checked += 1
    assert not problems, "\n".join(problems)
    if contract_name == "pingnetwork":
        assert checked >= 3, "Ping Network's example streams hold no events"
