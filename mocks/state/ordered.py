"""Ordered indexes: each collection's records in creation order, per scope and per indexed field value.

A record has a position (its creation sequence number, kept when it is overwritten or updated). It
sits in the slice of every scope (`Slice.everywhere()`), of its own scope, and for each indexed field
of the collection in the slices (every scope | its scope, field, value). A slice is a sorted list of
positions, so counting it, seeking a position and reading a page are O(log n + page).
"""

from __future__ import annotations

from typing import Any, NamedTuple

from sortedcontainers import SortedList


class Slice(NamedTuple):
    """Some records of a collection: those of one scope (None: seeded without one) or of every scope,
    optionally only those whose `field` (as text) is `value`."""

    scope: str | None
    every_scope: bool = False
    field: str | None = None
    value: str | None = None

    @classmethod
    def everywhere(cls, field: str | None = None, value: str | None = None) -> Slice:
        return _EVERY_RECORD if field is None and value is None else cls(None, True, field, value)

    def where(self, field: str, value: str) -> Slice:
        return self._replace(field=field, value=value)


_EVERY_RECORD = Slice(None, True)  # made once: every insert asks for it, and a NamedTuple is slow to build


def indexed_value(value: Any) -> str:
    """The text a field is indexed (and filtered) by: what `str()` makes of it, as list filters compare."""
    return str(value)


class OrderedIndex:
    def __init__(self) -> None:
        self.fields: dict[str, set[str]] = {}  # collection -> indexed fields; survives a reset of the data
        self.clear()

    def clear(self) -> None:
        self._next: dict[str, int] = {}
        self._positions: dict[str, dict[str, int]] = {}  # collection -> key -> position
        self._keys: dict[str, dict[int, str]] = {}  # collection -> position -> key
        self._slices: dict[tuple[str, Slice], SortedList] = {}
        self._memberships: dict[tuple[str, str], tuple[Slice, ...]] = {}
        # one object per distinct slice: a record's memberships then add one tuple to the heap, not a
        # new Slice per slice (objects the garbage collector would walk for as long as the record lives)
        self._interned: dict[Slice, Slice] = {}

    def declare(self, collection: str, field: str, records: dict[str, dict[str, Any]]) -> None:
        if field in self.fields.setdefault(collection, set()):
            return
        self.fields[collection].add(field)
        for key, record in records.items():
            self.place(collection, key, record)

    def _slices_of(self, collection: str, record: dict[str, Any]) -> tuple[Slice, ...]:
        scope = record["scope"]
        # plain tuples: equal to (and hashed as) the Slice each stands for, and several times cheaper
        # to build than a NamedTuple on every insert; interned, the first one seen is kept
        found = [_EVERY_RECORD, (scope, False, None, None)]
        fields = self.fields.get(collection)
        if fields:
            data = record["data"]
            for field in fields:
                value = indexed_value(data.get(field))
                found += [(None, True, field, value), (scope, False, field, value)]
        interned = self._interned
        return tuple([interned.setdefault(where, where) for where in found])  # type: ignore[misc]

    def place(self, collection: str, key: str, record: dict[str, Any]) -> None:
        """Insert or re-slot `key` after its record changed; a new key goes last in the order."""
        positions = self._positions.setdefault(collection, {})
        position = positions.get(key)
        if position is None:
            position = self._next.get(collection, 0)
            self._next[collection] = position + 1
            positions[key] = position
            self._keys.setdefault(collection, {})[position] = key
        before = self._memberships.get((collection, key))
        after = self._slices_of(collection, record)
        slices = self._slices
        if before is None:  # a new record: in every one of its slices, out of none
            for new in after:
                found = slices.get((collection, new))
                if found is None:
                    found = slices[(collection, new)] = SortedList()
                found.add(position)
        elif before != after:
            for gone in set(before) - set(after):
                slices[(collection, gone)].remove(position)
            for new in set(after) - set(before):
                slices.setdefault((collection, new), SortedList()).add(position)
        self._memberships[(collection, key)] = after

    def remove(self, collection: str, key: str) -> None:
        position = self._positions.get(collection, {}).pop(key, None)
        if position is None:
            return
        del self._keys[collection][position]
        for where in self._memberships.pop((collection, key), ()):
            self._slices[(collection, where)].remove(position)

    def position(self, collection: str, key: str) -> int | None:
        return self._positions.get(collection, {}).get(key)

    def count(self, collection: str, where: Slice) -> int:
        return len(self._slices.get((collection, where), ()))

    def page(self, collection: str, where: Slice, *, after: int | None, offset: int, limit: int,
             descending: bool) -> list[tuple[int, str]]:
        positions = self._slices.get((collection, where))
        if not positions or limit <= 0:
            return []
        if descending:
            end = len(positions) if after is None else positions.bisect_left(after)
            chosen = positions.islice(max(0, end - offset - limit), max(0, end - offset), reverse=True)
        else:
            start = 0 if after is None else positions.bisect_right(after)
            chosen = positions.islice(start + offset, start + offset + limit)
        keys = self._keys[collection]
        return [(position, keys[position]) for position in chosen]
