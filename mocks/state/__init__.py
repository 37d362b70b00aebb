"""State stores: everything the mock remembers, behind one small protocol."""

from mocks.state.memory import MemoryStore
from mocks.state.ordered import Slice
from mocks.state.protocol import Record, Store

__all__ = ["MemoryStore", "Record", "Slice", "Store", "open_store"]


def open_store(kind: str = "memory") -> Store:
    if kind == "memory":
        return MemoryStore()
    raise ValueError(f"unknown store '{kind}' (available: memory)")
