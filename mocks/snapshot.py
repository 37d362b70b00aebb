"""Snapshots: one API's whole situation as one JSON document, to download, hand over and restore.

A snapshot holds the resources, issued credentials, idempotency records, id sequences, the clock,
the faults with their counts, the rate-limit policies and what their budgets hold. It does not hold
the journal, events or webhook deliveries: those are history, not situation.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jsonschema_rs

from mocks.admin.table import AdminError, body_of, json_response, route
from mocks.auth import ISSUED
from mocks.faults import FaultError
from mocks.idempotency import SPACE as IDEMPOTENCY
from mocks.state.changes import LimitSetting
from mocks.types import MockRequest, MockResponse

if TYPE_CHECKING:
    from mocks.engine import Api

FORMAT = "mocks-snapshot"
VERSION = 1
SPACES = (ISSUED, IDEMPOTENCY)
_NUMBER = {"type": "number"}
_SCHEMA = jsonschema_rs.Draft202012Validator({
    "type": "object",
    "required": ["format", "version", "api", "clock", "resources", "sequences", "values", "limits", "faults",
                 "rate_usage"],
    "properties": {
        "format": {"const": FORMAT},
        "version": {"type": "integer"},
        "api": {"type": "string"},
        "clock": {"type": "object", "required": ["now", "frozen"],
                  "properties": {"now": _NUMBER, "frozen": {"type": "boolean"}}},
        "resources": {"type": "object", "additionalProperties": {"type": "array", "items": {
            "type": "object", "required": ["scope", "data"],
            "properties": {"scope": {"type": ["string", "null"]}, "data": {"type": "object"}}}}},
        "sequences": {"type": "object", "additionalProperties": {"type": "integer"}},
        "values": {"type": "object", "additionalProperties": {"type": "array", "items": {
            "type": "array", "prefixItems": [{"type": "string"}, {}, {"type": ["number", "null"]}],
            "minItems": 3, "maxItems": 3}}},
        "limits": {"type": "array", "items": {
            "type": "object", "required": ["name", "limit", "window", "enabled"],
            "properties": {"name": {"type": "string"}, "limit": {"type": "integer", "minimum": 0},
                           "window": {"type": "number", "exclusiveMinimum": 0}, "enabled": {"type": "boolean"}}}},
        "faults": {"type": "array", "items": {"type": "object"}},
        "rate_usage": {"type": "object", "properties": {
            "sliding": {"type": "object", "additionalProperties": {"type": "array", "items": _NUMBER}},
            "fixed": {"type": "object", "additionalProperties": {
                "type": "array", "prefixItems": [_NUMBER, {"type": "integer"}], "minItems": 2, "maxItems": 2}}}},
    },
})


class SnapshotError(ValueError):
    """A snapshot this API cannot take as its situation: says why."""


def take_snapshot(api: Api) -> dict[str, Any]:
    store = api.store
    usage = store.rate_usage()
    return {
        "format": FORMAT,
        "version": VERSION,
        "api": api.name,
        "taken_at": api.clock.iso(),
        "clock": {"now": api.clock.now(), "frozen": api.clock.frozen},
        "resources": store.snapshot(),
        "sequences": store.sequences(),
        "values": {space: [list(item) for item in store.values(space)] for space in SPACES},
        "limits": [{"name": p.name, "limit": p.limit, "window": p.window, "enabled": p.enabled}
                   for p in api.limiter.policies],
        "faults": api.faults.list(),
        "rate_usage": {"sliding": usage["sliding"], "fixed": usage["fixed"]},
    }


def restore_snapshot(api: Api, document: Any) -> dict[str, Any]:
    """Make `document` the API's situation, or refuse it and leave the API as it was."""
    check_snapshot(document, api.name)
    before = take_snapshot(api)
    try:
        _apply(api, document)
    except (SnapshotError, FaultError, KeyError, ValueError, TypeError) as exc:
        _apply(api, before)
        raise SnapshotError(f"this snapshot does not fit {api.name} as it is served now: {exc}") from None
    return {"restored": True, "api": api.name, "taken_at": document.get("taken_at"),
            "resources": {name: len(records) for name, records in document["resources"].items()},
            "faults": len(document["faults"]), "clock": api.clock.describe()}


def check_snapshot(document: Any, api_name: str | None = None) -> None:
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise SnapshotError(f"not a sandbox snapshot: expected an object with \"format\": \"{FORMAT}\"")
    if document.get("version") != VERSION:
        raise SnapshotError(f"snapshot format version {document.get('version')!r} is not supported; "
                            f"this sandbox reads version {VERSION} (take the snapshot again with it)")
    if api_name is not None and document.get("api") != api_name:
        raise SnapshotError(f"this snapshot is of {document.get('api')!r}, not {api_name}: "
                            f"restore it on {document.get('api')}'s port")
    problems = [f"{'/'.join(map(str, e.instance_path)) or '(top)'}: {e.message}" for e in _SCHEMA.iter_errors(document)]
    if problems:
        raise SnapshotError("malformed snapshot: " + "; ".join(problems[:5]))


def _apply(api: Api, document: dict[str, Any]) -> None:
    api.reset(seed=False)
    store = api.store
    for name, records in document["resources"].items():
        resource = api.resources.get(name)
        if resource is None:
            raise SnapshotError(f"{api.name} has no resource '{name}'")
        for record in records:
            record = {"scope": record["scope"], "group": record.get("group"), "data": record["data"]}
            store.insert(name, resource.key(record["data"]), record, resource.index(record["data"]))
    for name, value in document["sequences"].items():
        store.set_sequence(name, value)
    for space, items in document["values"].items():
        if space not in SPACES:
            raise SnapshotError(f"unknown value space '{space}' (known: {', '.join(SPACES)})")
        for key, value, expires_at in items:
            store.write(space, key, value, expires_at)
    store.restore_rate_usage(document["rate_usage"])
    policies = {p.name for p in api.limiter.policies}
    settings: dict[str, LimitSetting] = {}
    for limit in document["limits"]:
        if limit["name"] not in policies:
            raise SnapshotError(f"{api.name} has no rate-limit policy '{limit['name']}'")
        settings[limit["name"]] = LimitSetting(int(limit["limit"]), float(limit["window"]), bool(limit["enabled"]))
    store.set_limits(settings)
    if api.limiter.policies:
        api.configure_limit(None)  # changes nothing itself: lets every operation pick up the restored policies
    for described in document["faults"]:
        spec = {k: v for k, v in described.items() if k not in ("id", "seen", "fired")}
        fault = api.add_fault(spec)
        api.faults.restore_counts(fault, int(described.get("seen", 0)), int(described.get("fired", 0)))
    api.clock.reset()
    if document["clock"]["frozen"]:
        api.clock.freeze(at=float(document["clock"]["now"]))
    else:
        api.clock.set(float(document["clock"]["now"]))


def restore_files(paths: list[str], apis: dict[str, Api]) -> None:
    """`mocks serve --snapshot FILE`: each file names its API; at most one file per API."""
    restored: dict[str, str] = {}
    for path in paths:
        try:
            document = json.loads(Path(path).read_text(encoding="utf-8"))
        except OSError as exc:
            raise SnapshotError(f"--snapshot {path}: cannot read it: {exc.strerror}") from None
        except ValueError as exc:
            raise SnapshotError(f"--snapshot {path}: not JSON: {exc}") from None
        try:
            check_snapshot(document)
        except SnapshotError as exc:
            raise SnapshotError(f"--snapshot {path}: {exc}") from None
        name = document["api"]
        if name not in apis:
            raise SnapshotError(f"--snapshot {path}: it is a snapshot of {name}, which is not being served "
                                f"(serving: {', '.join(apis)})")
        if name in restored:
            raise SnapshotError(f"--snapshot {path}: {name} already starts from {restored[name]}; "
                                "give one snapshot per API")
        try:
            restore_snapshot(apis[name], document)
        except SnapshotError as exc:
            raise SnapshotError(f"--snapshot {path}: {exc}") from None
        restored[name] = path


@route("GET", "/snapshot")
def download_snapshot(api: Api, listener: str, request: MockRequest, params: dict[str, str]) -> MockResponse:
    response = json_response(200, take_snapshot(api))
    stamp = api.clock.iso().replace(":", "").replace("-", "").split(".")[0]
    response.add_header("Content-Disposition", f'attachment; filename="{api.name}-snapshot-{stamp}.json"')
    return response


@route("POST", "/snapshot")
def upload_snapshot(api: Api, listener: str, request: MockRequest, params: dict[str, str]) -> MockResponse:
    try:
        return json_response(200, restore_snapshot(api, body_of(request)))
    except SnapshotError as exc:
        raise AdminError(400, str(exc)) from None
