"""The installed faults of one API: a view over the store, which keeps each fault's spec and counters."""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any

from mocks.faults import Fault, parse_fault
from mocks.types import MockRequest, Principal

if TYPE_CHECKING:
    from mocks.state.changes import FaultList
    from mocks.state.protocol import Store

_SPEC_FIELDS = ("operation", "method", "path", "principal", "respond", "latency", "drop", "times", "after",
                "probability", "seed", "retry_after", "expire_credentials")


class FaultBook:
    """The installed faults: a view over the store, which keeps each fault's spec and counters.

    Matching a request is pure (on the spec); counting it is the store's atomic `strike`, whose
    probability draw is a function of (seed, seen), so every process serving the sandbox agrees.
    """

    def __init__(self, store: Store | None = None) -> None:
        if store is None:
            from mocks.state.memory import MemoryStore  # a book of its own (unit tests, tools)

            store = MemoryStore()
        self.store = store
        self._version = -1
        self._known: dict[int, Fault] = {}  # the store's faults as Fault objects, in order

    def add(self, spec: dict[str, Any]) -> Fault:
        fault = parse_fault(spec)
        stored = {name: getattr(fault, name) for name in _SPEC_FIELDS}
        stored["draw_seed"] = fault.seed if fault.seed is not None else random.getrandbits(32)
        fault.id = self.store.add_fault(stored)
        self._sync(self.store.faults())
        self._known[fault.id] = fault
        return fault

    def clear(self, fault_id: int | None = None) -> int:
        return self.store.clear_faults(fault_id)

    def list(self) -> list[dict[str, Any]]:
        return [self._refreshed(state).describe() for state in self.store.faults()]

    def restore_counts(self, fault: Fault, seen: int, fired: int) -> None:
        """A restored snapshot's counters for `fault`."""
        self.store.set_fault_counts(fault.id, seen, fired)
        fault.seen, fault.fired = seen, fired

    def pick(self, operation_id: str, request: MockRequest, principal: Principal | None,
             faults: FaultList | None = None) -> Fault | None:
        """The fault that strikes this request, if any. `faults`: the list the request read with the clock
        (`Store.glance`); else read now."""
        faults = self.store.faults() if faults is None else faults
        if not faults.items:  # the tuple itself: no __bool__ call per request
            return None
        candidates = [f.id for f in self._sync(faults) if f.matches(operation_id, request, principal)]
        struck = self.store.strike(candidates) if candidates else None
        if struck is None:
            return None
        fault = self._known[struck.id]
        fault.seen, fault.fired = struck.seen, struck.fired
        return fault

    def _sync(self, faults: FaultList) -> list[Fault]:
        """The Fault objects of the store's faults; rebuilt only when one was added or cleared."""
        if faults.version != self._version:
            self._known = {state.id: self._known.get(state.id) or _fault_of(state) for state in faults}
            self._version = faults.version
        return list(self._known.values())

    def _refreshed(self, state: Any) -> Fault:
        fault = self._known.get(state.id) or _fault_of(state)
        fault.seen, fault.fired = state.seen, state.fired
        return fault


def _fault_of(state: Any) -> Fault:
    spec = state.spec
    return Fault(id=state.id, seen=state.seen, fired=state.fired, **{name: spec[name] for name in _SPEC_FIELDS})
