"""Seeding, one rule: fixtures at start-up and on reset, a scenario's `seed.resources`, admin `POST /seed`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from mocks.resources import UnknownResource
from mocks.runtime import Runtime


def seed(runtime: Runtime, items_by_resource: Mapping[str, Iterable[dict[str, Any]]]) -> int:
    """Store every item as a record of its resource; its scope is `_scope`, else its scope field (a
    falsy `_scope` such as 0 is still a scope). Raises UnknownResource. Returns how many were stored."""
    count = 0
    for name, items in items_by_resource.items():
        resource = runtime.resources.get(name)
        if resource is None:
            raise UnknownResource(name)
        for item in items:
            item = dict(item)
            scope = item.pop("_scope", None)
            if scope is None and resource.scope_field:
                scope = item.get(resource.scope_field)
            record = resource.seed_record(item, None if scope is None else str(scope), runtime.group_of(resource, scope))
            runtime.store.insert(name, resource.key(record["data"]), record, resource.index(record["data"]))
            count += 1
    return count
