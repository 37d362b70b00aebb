"""`GET /__mock/state?collection=&scope=&limit=&cursor=`: one page of one collection, in creation order.

The cursor is the position of the last record served (opaque to callers), so paging goes on correctly
while records are created or deleted in between: nothing is served twice, nothing that stays is missed.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from mocks.state import Slice, Store

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000


class PageRequestError(ValueError):
    """A query that names no known collection or carries a malformed limit or cursor."""


def whole_number(name: str, text: str | None) -> int | None:
    if text is None:
        return None
    if not text.isdigit() or len(text) > 18:
        raise PageRequestError(f"'{name}' must be a whole number")
    return int(text)


def state_page(store: Store, collections: Collection[str], collection: str | None, scope: str | None,
               limit: str | None, cursor: str | None) -> dict[str, Any]:
    if collection is None:
        raise PageRequestError("paging the state needs 'collection' (one of: " + ", ".join(sorted(collections)) + ")")
    if collection not in collections:
        raise PageRequestError(f"no collection '{collection}' (one of: {', '.join(sorted(collections))})")
    size = whole_number("limit", limit)
    size = DEFAULT_LIMIT if size is None else size
    if not 1 <= size <= MAX_LIMIT:
        raise PageRequestError(f"'limit' must be between 1 and {MAX_LIMIT}")
    after = whole_number("cursor", cursor)
    where = Slice.everywhere() if scope is None else Slice(scope)
    chosen = store.page(collection, where, after=after, limit=size + 1)
    items = []
    for _, key in chosen[:size]:
        record = store.get(collection, key)
        if record is not None:
            items.append({"scope": record["scope"], **record["data"]})
    more = len(chosen) > size
    return {"collection": collection, "scope": scope, "total": store.count(collection, where), "limit": size,
            "items": items, "next_cursor": str(chosen[size - 1][0]) if more else None}
