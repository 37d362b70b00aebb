"""The store protocol: every read-modify-write is one atomic operation of the store.

That is what lets a shared backend keep rate limits, idempotency and lifecycles exact when
several workers serve one sandbox.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple, Protocol, TypedDict


class Hit(NamedTuple):
    """One request against one budget: `sliding` and `fixed` windows, or `concurrency`."""

    key: str
    algorithm: str
    limit: int
    window: float
    now: float


class Outcome(NamedTuple):
    admitted: bool
    used: int  # requests counted in the window (or in flight), this one included when admitted
    reset_at: float | None  # when the window next frees a slot


class Record(TypedDict):
    scope: str | None
    group: Any
    data: dict[str, Any]


class Store(Protocol):
    # resources
    def insert(self, collection: str, key: str, record: Record, index: dict[str, str]) -> None: ...
    def get(self, collection: str, key: str) -> Record | None: ...
    def find(self, collection: str, field: str, value: str) -> Record | None: ...
    def update(self, collection: str, key: str, change: Callable[[Record], Record]) -> Record | None: ...
    def delete(self, collection: str, key: str) -> Record | None: ...
    def scan(self, collection: str) -> list[Record]: ...
    def next_sequence(self, name: str, start: int) -> int: ...

    # keyed values with expiry (issued credentials, idempotency keys)
    def put_if_absent(self, space: str, key: str, value: Any, expires_at: float | None, now: float) -> Any: ...
    def read(self, space: str, key: str, now: float) -> Any: ...
    def write(self, space: str, key: str, value: Any, expires_at: float | None) -> None: ...
    def remove(self, space: str, key: str) -> None: ...

    # rate limiting
    def admit(self, hits: list[Hit]) -> tuple[bool, list[Outcome]]: ...
    def release(self, key: str) -> None: ...

    def reset(self) -> None: ...
    def snapshot(self) -> dict[str, Any]: ...
