"""A write the store refuses after the request acted is counted and logged, never raised; anything else is raised."""

from __future__ import annotations

import asyncio

import pytest

from mocks.state import Dropped, StoreUnavailable


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
