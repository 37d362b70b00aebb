"""Resource events: what changed, for webhook delivery and server-sent event streams."""

from __future__ import annotations

import asyncio
import uuid
from collections import deque
from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class Event:
    type: str
    resource: str
    data: dict[str, Any]
    scope: str | None
    principal: str | None
    timestamp: float
    id: str = field(default_factory=lambda: str(uuid.uuid4()))

    def describe(self) -> dict[str, Any]:
        return {"id": self.id, "type": self.type, "resource": self.resource, "scope": self.scope,
                "principal": self.principal, "timestamp": self.timestamp, "data": self.data}


class EventBus:
    def __init__(self, history: int = 500) -> None:
        self._subscribers: set[asyncio.Queue[Event]] = set()
        self.history: deque[Event] = deque(maxlen=history)
        self.listeners: list[Any] = []  # callables taking an Event (webhook dispatcher)

    def publish(self, event: Event) -> None:
        self.history.append(event)
        for queue in list(self._subscribers):
            queue.put_nowait(event)
        for listener in self.listeners:
            listener(event)

    def subscribe(self) -> asyncio.Queue[Event]:
        queue: asyncio.Queue[Event] = asyncio.Queue()
        self._subscribers.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[Event]) -> None:
        self._subscribers.discard(queue)
