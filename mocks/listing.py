"""List operations (`x-mock-action: {kind: list}`): filters, declared order and paging over ordered indexes.

A page reads only what it shows: the store keeps every collection in creation order per scope and per
filtered field (`mocks.state.ordered`), the list picks the narrowest slices that hold every visible,
matching record, and walks them from the cursor, so a first and any later page cost O(page + log n).
Visibility and every filter are still checked on each record read, so what is served stays exact
when the slices hold more than the list shows (several filters at once, records shared with a group).
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Iterator
from itertools import islice
from typing import TYPE_CHECKING, Any

from mocks.exchange import Exchange, Result
from mocks.resources import ResourceType
from mocks.state.ordered import Slice, indexed_value
from mocks.templates import compile_template
from mocks.types import MockError

if TYPE_CHECKING:
    from mocks.runtime import Runtime
    from mocks.state.protocol import Record, Store

_CHUNK = 64  # positions read from a slice at a time while walking it


class Filter:
    """`filter`: each field equals the rendered value or is one of a rendered list; null = not applied."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.fields = list(spec)
        self._where = compile_template(spec)

    def wanted(self, context: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in self._where(context).items() if v is not None}

    @staticmethod
    def test(wanted: dict[str, Any]) -> Callable[[dict[str, Any]], bool]:
        accepted = {k: {indexed_value(x) for x in v} if isinstance(v, list) else {indexed_value(v)}
                    for k, v in wanted.items()}
        return lambda data: all(indexed_value(data.get(k)) in values for k, values in accepted.items())


class Selection:
    """The records one request may list: the slices that hold them, and the exact test for each record."""

    def __init__(self, runtime: Runtime, resource: ResourceType, exchange: Exchange, wanted: dict[str, Any]) -> None:
        self.runtime, self.resource, self.store = runtime, resource, runtime.store
        scope, group = exchange.scope, runtime.group_of(resource, exchange.scope)
        matches = Filter.test(wanted)
        self.test: Callable[[Record], bool] = lambda r: resource.visible(r, scope, group) and matches(r["data"])
        bases = [Slice.everywhere()] if scope is None else [Slice(scope), Slice(None)]
        shared = bool(scope is not None and resource.group_flag and group is not None)
        if shared:  # records the group's other members share are in their own scopes' slices
            bases += [Slice(s) for s in runtime.fixtures.tenants if s != scope and runtime.group_of(resource, s) == group]
        sized, narrowed_by = self._narrowest(bases, wanted)
        self.exact = not shared and len(wanted) <= (1 if narrowed_by else 0)
        self.slices = [s for s, size in sized if size]
        self._size = sum(size for _, size in sized)  # the slices' records, counted once per request

    def _narrowest(self, bases: list[Slice], wanted: dict[str, Any]) -> tuple[list[tuple[Slice, int]], str | None]:
        """The smallest choice of slices (with their sizes) and the field that chose it (None: the bases)."""
        best, by = self._sized(bases), None
        for field, value in wanted.items():
            values = {indexed_value(v) for v in (value if isinstance(value, list) else [value])}
            sized = self._sized([base.where(field, v) for base in bases for v in sorted(values)])
            if sum(n for _, n in sized) < sum(n for _, n in best) or by is None:
                best, by = sized, field
        return best, by

    def _sized(self, slices: list[Slice]) -> list[tuple[Slice, int]]:
        return [(s, self.store.count(self.resource.name, s)) for s in slices]

    def total(self) -> int:
        if self.exact:
            return self._size
        return sum(1 for _ in self.walk(after=None, descending=False))

    def walk(self, *, after: int | None, descending: bool, offset: int = 0,
             wanted: int = _CHUNK) -> Iterator[tuple[int, Record]]:
        """(position, record) of every listed record in order, strictly after `after`, skipping `offset`.
        `wanted`: how many the caller means to take, so the first read of each slice is no larger."""
        if offset and self.exact and len(self.slices) == 1:  # the index skips; nothing to test on the way
            after, skipped = self._seek(after, offset, descending), 0
        else:
            skipped = offset
        first = max(1, min(_CHUNK, skipped + wanted))
        streams = [self._stream(s, after, descending, first) for s in self.slices]
        merged = streams[0] if len(streams) == 1 else heapq.merge(*streams, reverse=descending)
        listed = ((p, r) for p, r in merged if self.test(r))
        return islice(listed, skipped, None)

    def _seek(self, after: int | None, offset: int, descending: bool) -> int | None:
        """The position just before the `offset`-th record (so a walk after it starts there)."""
        skipped = self.store.page(self.resource.name, self.slices[0], after=after, offset=offset - 1, limit=1,
                                  descending=descending)
        return skipped[0][0] if skipped else (-1 if descending else math.inf)  # past the end: nothing

    def _stream(self, where: Slice, after: int | None, descending: bool, size: int) -> Iterator[tuple[int, Record]]:
        while True:
            chunk = self.store.page(self.resource.name, where, after=after, limit=size, descending=descending)
            records = self.store.get_many(self.resource.name, [key for _, key in chunk])  # one read per chunk
            yield from ((position, record) for (position, _), record in zip(chunk, records) if record is not None)
            if len(chunk) < size:
                return
            after, size = chunk[-1][0], _CHUNK

    def cursor(self, marker: Any, parameter: str, strict: bool) -> int | None:
        """The position of the object a cursor names; unknown: a 404 or (leniently) None."""
        key = str(marker)
        record = self.store.get(self.resource.name, key)
        position = self.store.position(self.resource.name, key)
        if record is not None and position is not None and self.test(record):
            return position
        if strict:
            raise MockError("not_found", f"no such object: '{marker}'", field=parameter)
        return None


def records_in_scope(store: Store, collection: str, scope: str | None) -> list[Record]:
    """Every record of one scope, in creation order, read from that scope's slice alone."""
    found: list[Record] = []
    after: int | None = None
    while chunk := store.page(collection, Slice(scope), after=after, limit=_CHUNK):
        found += [r for r in store.get_many(collection, [key for _, key in chunk]) if r is not None]
        after = chunk[-1][0]
    return found


def compile_list(runtime: Runtime, resource: ResourceType, spec: dict[str, Any], status: int):
    matcher = Filter(spec.get("filter") or {})
    for field in matcher.fields:
        runtime.store.index_field(resource.name, field)
    envelope = compile_template(spec.get("envelope", "{items}"))
    paginate = _paginator(spec.get("pagination") or {"style": "none"},
                          spec.get("order", "oldest-first") == "newest-first")

    async def list_(exchange: Exchange) -> Result:
        selection = Selection(runtime, resource, exchange, matcher.wanted(exchange.context()))
        page, extra = paginate(exchange, selection)
        return Result(status, envelope(exchange.context(items=[resource.public(r) for r in page], **extra)))

    return list_


def _take(records: Iterator[tuple[int, Record]], limit: int) -> tuple[list[Record], bool]:
    """The first `limit` records, and whether there are more."""
    taken = [record for _, record in islice(records, limit + 1)]
    return taken[:limit], len(taken) > limit


def _paginator(spec: dict[str, Any], newest_first: bool):
    style = spec.get("style", "none")
    if style == "cursor":
        return _cursor_pages(spec, newest_first)
    if style == "page":
        return _numbered_pages(spec, newest_first)

    def everything(exchange: Exchange, selection: Selection):
        records = [r for _, r in selection.walk(after=None, descending=newest_first)]
        return records, {"has_more": False, "total": len(records)}

    return everything


def _cursor_pages(spec: dict[str, Any], newest_first: bool):
    limit_name, after, before = spec.get("limit", "limit"), spec.get("after"), spec.get("before")
    default, largest = int(spec.get("default-limit", 10)), int(spec.get("max-limit", 100))
    strict = spec.get("unknown-cursor", "empty") == "not_found"

    def cursor(exchange: Exchange, selection: Selection):
        limit = max(0, min(int(exchange.query.get(limit_name) or default), largest))
        for name, backwards in ((after, False), (before, True)):
            if name and exchange.query.get(name) is not None:
                position = selection.cursor(exchange.query[name], name, strict)
                if position is None:
                    return [], {"has_more": False}
                page, more = _take(selection.walk(after=position, descending=newest_first != backwards,
                                                  wanted=limit + 1), limit)
                return (page[::-1] if backwards else page), {"has_more": more}
        page, more = _take(selection.walk(after=None, descending=newest_first, wanted=limit + 1), limit)
        return page, {"has_more": more}

    return cursor


def _numbered_pages(spec: dict[str, Any], newest_first: bool):
    page_name, size_name = spec.get("page", "page"), spec.get("page-size", "pageSize")
    default, largest = int(spec.get("default-limit", 25)), int(spec.get("max-limit", 100))

    def pages(exchange: Exchange, selection: Selection):
        number = max(1, int(exchange.query.get(page_name) or 1))
        size = min(max(1, int(exchange.query.get(size_name) or default)), largest)
        total = selection.total()
        offset = (number - 1) * size
        chunk = [] if offset >= total else [
            r for _, r in islice(selection.walk(after=None, descending=newest_first, offset=offset, wanted=size), size)]
        return chunk, {"page": number, "page_size": size, "total": total,
                       "total_pages": math.ceil(total / size), "has_more": number * size < total}

    return pages
