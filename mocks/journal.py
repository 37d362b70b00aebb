"""Record: a bounded journal of every exchange, for the admin API and client verification."""

from __future__ import annotations

import itertools
import threading
from collections import deque
from typing import Any

MAX_BODY_CHARS = 4096


class Journal:
    def __init__(self, size: int = 2000) -> None:
        self._entries: deque[dict[str, Any]] = deque(maxlen=size)
        self._sequence = itertools.count(1)
        self._lock = threading.Lock()

    def record(self, entry: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            entry["seq"] = next(self._sequence)
            self._entries.append(entry)
        return entry

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def entries(self, *, operation: str | None = None, status: int | None = None, principal: str | None = None,
                since: int = 0, limit: int | None = None) -> list[dict[str, Any]]:
        with self._lock:
            chosen = [
                e for e in self._entries
                if e["seq"] > since
                and (operation is None or e.get("operation") == operation)
                and (status is None or e.get("status") == status)
                and (principal is None or e.get("principal") == principal)
            ]
        return chosen[-limit:] if limit else chosen


def text_of(body: bytes) -> str:
    text = body[:MAX_BODY_CHARS].decode("utf-8", "replace")
    return text + ("…" if len(body) > MAX_BODY_CHARS else "")
