"""Stored resources as the contract declares them: ids, scope, defaults, lifecycle, visibility."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from mocks.clock import iso_timestamp
from mocks.ids import random_hex, uuid4_text
from mocks.state.protocol import Record, Store
from mocks.types import MockError

_IMMUTABLE = (str, int, float, type(None))


def _fresh(default: Any) -> Any:
    """A default's value for one new record, never shared with another record: deepcopy costs ~1 us
    each per create, so immutable values are shared and an empty object or list is made anew."""
    if isinstance(default, _IMMUTABLE):
        return default
    if not default and type(default) in (dict, list):
        return type(default)()
    return copy.deepcopy(default)


class UnknownResource(ValueError):
    """Seed data for a resource the contract does not declare."""

    def __init__(self, name: str) -> None:
        super().__init__(f"unknown resource '{name}'")
        self.name = name


@dataclass(slots=True)
class Lifecycle:
    field: str
    initial: str | None
    transitions: dict[str, list[str]]
    invalid: str
    same_state_ok: bool = True

    def sources(self, target: Any) -> frozenset[Any]:
        """Every state `target` may be reached from (itself too, when a same-state change is accepted)."""
        found = {state for state, targets in self.transitions.items() if target in targets}
        return frozenset(found | {target} if self.same_state_ok else found)

    def check(self, current: Any, target: Any) -> None:
        if current == target and self.same_state_ok:
            return
        if target not in self.transitions.get(current, []):
            raise MockError(self.invalid, f"{self.field} cannot change from '{current}' to '{target}'",
                            field=self.field)


@dataclass(slots=True)
class ResourceType:
    name: str
    id_field: str
    id_format: str
    also: dict[str, str] = field(default_factory=dict)
    scope_field: str | None = None
    defaults: dict[str, Any] = field(default_factory=dict)
    timestamps: dict[str, str] = field(default_factory=dict)
    lifecycle: Lifecycle | None = None
    events: dict[str, str] = field(default_factory=dict)
    hidden: frozenset[str] = frozenset()
    group_flag: str | None = None
    group_attribute: str | None = None

    @classmethod
    def declare(cls, name: str, spec: dict[str, Any]) -> ResourceType:
        ident = spec.get("id") or {}
        life = spec.get("lifecycle")
        group = spec.get("shared-with-group") or {}
        return cls(
            name=name,
            id_field=ident.get("field", "id"),
            id_format=ident.get("format", "uuid"),
            also=dict(spec.get("also") or {}),
            scope_field=spec.get("scope-field"),
            defaults=dict(spec.get("defaults") or {}),
            timestamps=dict(spec.get("timestamps") or {}),
            lifecycle=Lifecycle(life["field"], life.get("initial"), life.get("transitions") or {},
                                life.get("invalid", "conflict"), life.get("same-state", "accept") == "accept")
            if life else None,
            events=dict(spec.get("events") or {}),
            hidden=frozenset(spec.get("hidden") or ()),
            group_flag=group.get("flag"),
            group_attribute=group.get("attribute"),
        )

    def mint(self, fmt: str, store: Store) -> Any:
        if fmt == "long":
            candidate = store.next_sequence(self.name, 1000)
            while store.get(self.name, str(candidate)) is not None:  # skip ids the fixtures already use
                candidate = store.next_sequence(self.name, 1000)
            return candidate
        if fmt.startswith("prefix:"):
            return fmt[len("prefix:"):] + random_hex(12)
        return uuid4_text()

    def stamp(self, data: dict[str, Any], now: float, *, created: bool) -> None:
        data.update(self.stamps(now, created=created))

    def stamps(self, now: float, *, created: bool) -> dict[str, Any]:
        """The declared timestamp fields and their values at `now` (an update merges them in)."""
        fmt = self.timestamps.get("format", "iso")
        value: Any = int(now) if fmt == "unix" else iso_timestamp(now)
        out: dict[str, Any] = {}
        if created and "created" in self.timestamps:
            out[self.timestamps["created"]] = value
        if "updated" in self.timestamps:
            out[self.timestamps["updated"]] = value
        return out

    def new_record(self, data: dict[str, Any], scope: str | None, group: Any, store: Store, now: float) -> Record:
        data = {key: value for key, value in data.items() if value is not None or key not in self.defaults}
        for key, value in self.defaults.items():
            if key not in data:
                data[key] = _fresh(value)
        if self.lifecycle and self.lifecycle.initial is not None:
            data.setdefault(self.lifecycle.field, self.lifecycle.initial)
        data[self.id_field] = self.mint(self.id_format, store)
        for name, fmt in self.also.items():
            data[name] = self.mint(fmt, store)
        if self.scope_field and scope is not None:
            data[self.scope_field] = scope
        if self.group_attribute and group is not None:
            data[self.group_attribute] = group
        self.stamp(data, now, created=True)
        return {"scope": scope, "group": group, "data": data}

    def seed_record(self, data: dict[str, Any], scope: str | None, group: Any) -> Record:
        return {"scope": scope, "group": group, "data": copy.deepcopy(data)}

    def key(self, data: dict[str, Any]) -> str:
        return str(data[self.id_field])

    def index(self, data: dict[str, Any]) -> dict[str, str]:
        return {name: str(data[name]) for name in self.also if name in data}

    def visible(self, record: Record, scope: str | None, group: Any) -> bool:
        if scope is None or record["scope"] is None or record["scope"] == scope:
            return True  # a record seeded without a scope (brands, companies) is filtered, not scoped
        if self.group_flag and record["data"].get(self.group_flag) is True:
            return group is not None and record["group"] == group
        return False

    def public(self, record: Record) -> dict[str, Any]:
        data = record["data"]
        if not self.hidden:
            return data
        return {key: value for key, value in data.items() if key not in self.hidden}
