"""Resource events: what changed, for webhook delivery and server-sent event streams."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from mocks.state import Dropped
from mocks.types import Event

if TYPE_CHECKING:
    from mocks.state.protocol import Store


class History:
    """The bus's recent events, as the store keeps them (iterate, count, clear)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def __iter__(self) -> Iterator[Event]:
        return iter(self.store.events())

    def __len__(self) -> int:
        return len(self.store.events())

    def clear(self) -> None:
        self.store.clear_events()


class EventBus:
    """Publishes into the store's bounded history; subscribers (event streams) and listeners (the
    webhook dispatcher) are this process's and hear what this process publishes."""

    def __init__(self, history: int = 500, store: Store | None = None) -> None:
        if store is None:
            from mocks.state.memory import MemoryStore  # a bus of its own (unit tests, tools)

            store = MemoryStore()
        self.store = store
        self.keep = history
        self.history = History(store)
        self._subscribers: set[asyncio.Queue[Event]] = set()
        self.listeners: list[Any] = []  # callables taking an Event (webhook dispatcher)
        self.dropped = Dropped()  # events of a change already made that the store could not keep

    def publish(self, event: Event) -> None:
        with self.dropped.unless_store_down(f"event {event.type}"):
            self.store.publish(event, self.keep)
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
