"""Resource events: what changed, for webhook delivery and server-sent event streams."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from mocks.state import Dropped
from mocks.types import Event

if TYPE_CHECKING:
    from mocks.state.protocol import Store

log = logging.getLogger("mocks.events")
FOLLOW_WAIT = 1.0  # seconds one follow call waits in its thread: a reader without subscribers ends within it
FOLLOWER_BACKLOG = 1000  # events queued for one follower; one that falls further behind is ended


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
    """Publishes into the store's bounded history; listeners (the webhook dispatcher) hear what this process
    publishes, subscribers (event streams) hear what every process serving the sandbox publishes.

    One reader per bus and process follows the store (`events_after`, in a thread: it blocks) while anyone
    subscribes, and hands each event to every subscriber's queue: a thousand followers cost a thousand
    queues, not a thousand threads or store connections. When the store stops answering, every
    subscriber's queue gets `None` (its stream ends) and the next subscriber starts a new reader.
    """

    def __init__(self, history: int = 500, store: Store | None = None) -> None:
        if store is None:
            from mocks.state.memory import MemoryStore  # a bus of its own (unit tests, tools)

            store = MemoryStore()
        self.store = store
        self.keep = history
        self.history = History(store)
        self._subscribers: set[asyncio.Queue[Event | None]] = set()
        self._reader: asyncio.Task | None = None
        self.listeners: list[Any] = []  # callables taking an Event (webhook dispatcher)
        self.dropped = Dropped()  # events of a change already made that the store could not keep

    def publish(self, event: Event) -> None:
        kept = False
        with self.dropped.unless_store_down(f"event {event.type}"):
            self.store.publish(event, self.keep)
            kept = True
        if not kept:  # the change was made: this process's followers hear it, though no store carries it further
            for queue in list(self._subscribers):
                self._hand(queue, event)
        for listener in self.listeners:
            listener(event)

    def subscribe(self) -> asyncio.Queue[Event | None]:
        """A queue of the events published from now on, anywhere; `None` in it: the follow ended.

        Raises what the store raises when it does not answer (the caller's request is then a 503)."""
        if self._reader is None or self._reader.done():
            cursor = self.store.events_cursor()
            self._reader = asyncio.get_running_loop().create_task(self._follow(cursor))
        queue: asyncio.Queue[Event | None] = asyncio.Queue(FOLLOWER_BACKLOG)
        self._subscribers.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[Event | None]) -> None:
        self._subscribers.discard(queue)

    async def stop(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader

    async def _follow(self, cursor: str) -> None:
        try:
            while self._subscribers:  # the last one gone: this reader ends within one FOLLOW_WAIT
                cursor, events = await asyncio.to_thread(self.store.events_after, cursor, FOLLOW_WAIT)
                for event in events:
                    for queue in list(self._subscribers):
                        self._hand(queue, event)
        except Exception as exc:  # noqa: BLE001 - whatever stops the follow ends the streams, never the server
            log.warning("the event stream stopped following the store: %s: %s", type(exc).__name__, exc)
        finally:
            for queue in list(self._subscribers):
                self._end(queue)

    def _hand(self, queue: asyncio.Queue[Event | None], event: Event) -> None:
        try:
            queue.put_nowait(event)
        except asyncio.QueueFull:  # a follower that stopped reading: end its stream rather than grow without end
            self._end(queue)

    def _end(self, queue: asyncio.Queue[Event | None]) -> None:
        self._subscribers.discard(queue)
        while queue.full():
            queue.get_nowait()  # make room for the end mark: an ended stream needs no backlog
        queue.put_nowait(None)
