"""A write the store refuses after the request acted is counted and logged, never raised; anything else is raised."""

from __future__ import annotations

import asyncio

import pytest

from mocks.journal import Journal, JournalEntry
from mocks.state import Dropped, StoreUnavailable
from mocks.types import MockRequest, MockResponse


def test_a_store_down_error_is_counted_and_swallowed(caplog):
    dropped = Dropped()
    with dropped.unless_store_down("a journal entry"):
        raise StoreUnavailable("connection refused")
    with dropped.unless_store_down("an event"):
        pass
    assert dropped.count == 1
    assert "a journal entry dropped: the store is unavailable (connection refused)" in caplog.text


@pytest.mark.parametrize("error", [KeyError("x"), ValueError("bad"), asyncio.CancelledError(), KeyboardInterrupt()])
def test_any_other_error_goes_through_uncounted(error):
    dropped = Dropped()
    with pytest.raises(type(error)), dropped.unless_store_down("a journal entry"):
        raise error
    assert dropped.count == 0


class _RefusingStore:
    """A store whose journal refuses every entry with `error`."""

    def __init__(self, error: BaseException) -> None:
        self.error = error

    def journal_append(self, entry, keep):
        raise self.error


def _entry() -> JournalEntry:
    return JournalEntry(time=1.0, arrived=1.0, request=MockRequest("GET", "/x", {}, {}), response=MockResponse(200),
                        operation=None, principal=None, fault=None, duration=0.0)


def test_the_journal_drops_and_counts_an_entry_the_store_is_down_for(caplog):
    journal = Journal(store=_RefusingStore(StoreUnavailable("connection refused")))
    journal.record(_entry())
    assert journal.dropped.count == 1 and "a journal entry dropped" in caplog.text


@pytest.mark.parametrize("error", [KeyError("x"), asyncio.CancelledError()])
def test_the_journal_raises_any_other_error_of_its_store(error):
    journal = Journal(store=_RefusingStore(error))
    with pytest.raises(type(error)):
        journal.record(_entry())
    assert journal.dropped.count == 0
