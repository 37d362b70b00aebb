"""Did a write happen? Read the final state for the effect of a logical write request.

`effect_present` answers True or False when the contract says what the operation does (create,
update, transition, delete) and None when it cannot tell (handlers, non-JSON bodies).
"""

from __future__ import annotations

from typing import Any

from mocks.verify.client.facts import ApiFacts
from mocks.verify.client.traffic import Logical

Snapshot = dict[str, list[dict[str, Any]]]


def new_records(facts: ApiFacts, resource: str, before: Snapshot, after: Snapshot) -> list[dict[str, Any]]:
    """Data of the records of `resource` that the run added."""
    id_field = facts.api.resources[resource].id_field
    known = {str(r["data"].get(id_field)) for r in before.get(resource, [])}
    return [r["data"] for r in after.get(resource, []) if str(r["data"].get(id_field)) not in known]


def created_copies(group: Logical, facts: ApiFacts, before: Snapshot, after: Snapshot) -> int | None:
    """How many new records match the body of a create request (None: cannot tell)."""
    op = facts.operations.get(group.operation or "")
    body = _json_object(group)
    if op is None or not op.creates or body is None:
        return None
    return sum(1 for data in new_records(facts, op.resource, before, after) if agrees(data, body))


def effect_present(group: Logical, facts: ApiFacts, before: Snapshot, after: Snapshot) -> bool | None:
    op = facts.operations.get(group.operation or "")
    if op is None or op.resource is None:
        return None
    if op.creates:
        copies = created_copies(group, facts, before, after)
        return None if copies is None else copies > 0
    if op.kind not in ("update", "transition", "delete") or not op.id_param:
        return None
    key = _path_param(facts, group, op.id_param)
    if key is None:
        return None
    record = next((r["data"] for r in after.get(op.resource, []) if str(r["data"].get(op.match_field)) == key), None)
    if op.kind == "delete":
        return record is None
    if record is None:
        return False
    if op.kind == "transition":
        life = facts.api.resources[op.resource].lifecycle
        return life is not None and record.get(life.field) in _reachable(life.transitions, op.to)
    body = _json_object(group)
    return None if body is None else agrees(record, body)


def agrees(have: Any, want: Any) -> bool:
    """`have` shows what `want` asked for: fields it stores compare equal; unknown fields are ignored."""
    if isinstance(want, dict):
        if not isinstance(have, dict):
            return False
        shared = [k for k in want if k in have]
        return (bool(shared) or not want) and all(agrees(have[k], want[k]) for k in shared)
    if isinstance(want, list):
        return isinstance(have, list) and len(have) == len(want) and all(map(agrees, have, want))
    return have == want or (have is not None and str(have) == str(want))


def _json_object(group: Logical) -> dict[str, Any] | None:
    for call in group.calls:
        value = call.json
        if isinstance(value, dict):
            return value
    return None


def _path_param(facts: ApiFacts, group: Logical, name: str) -> str | None:
    api = facts.api
    router = api.routers.get(group.first.listener) or api.routers[api.primary_listener]
    match = router.match(group.method, group.path)
    return None if match is None or match.target is None else match.params.get(name)


def _reachable(transitions: dict[str, list[str]], start: str | None) -> set[str]:
    seen: set[str] = set()
    todo = [start] if start is not None else []
    while todo:
        state = todo.pop()
        if state not in seen:
            seen.add(state)
            todo.extend(transitions.get(state, []))
    return seen
