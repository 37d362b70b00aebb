"""mocks/clock.py: freeze, set, advance and unfreeze never make the clock jump."""

from __future__ import annotations

from mocks.clock import Clock, iso_timestamp


class Source:
    """A hand-driven time source standing in for time.time."""

    def __init__(self, at: float = 1000.0) -> None:
        self.at = at

    def __call__(self) -> float:
        return self.at


def test_unfrozen_clock_follows_its_source():
    source = Source()
    clock = Clock(source=source)
    assert clock.now() == 1000.0
    source.at += 5
    assert clock.now() == 1005.0
    assert not clock.frozen


def test_freeze_stops_time_at_now():
    source = Source()
    clock = Clock(source=source)
    clock.freeze()
    source.at += 60
    assert clock.now() == 1000.0
    assert clock.frozen


def test_freeze_at_a_given_moment():
    clock = Clock(source=Source())
    clock.freeze(at=5.0)
    assert clock.now() == 5.0


def test_unfreeze_continues_from_the_frozen_moment():
    source = Source()
    clock = Clock(source=source)
    clock.freeze()
    source.at += 100  # real time passes while frozen
    clock.unfreeze()
    assert clock.now() == 1000.0
    source.at += 3
    assert clock.now() == 1003.0


def test_set_and_advance_while_running_keep_ticking():
    source = Source()
    clock = Clock(source=source)
    clock.set(50.0)
    assert clock.now() == 50.0
    source.at += 2
    assert clock.now() == 52.0
    clock.advance(10)
    assert clock.now() == 62.0
    source.at += 1
    assert clock.now() == 63.0


def test_set_and_advance_while_frozen_stay_frozen():
    source = Source()
    clock = Clock(source=source)
    clock.freeze()
    clock.set(200.0)
    clock.advance(30)
    source.at += 999
    assert clock.now() == 230.0
    assert clock.frozen
    clock.unfreeze()
    assert clock.now() == 230.0
    source.at += 1
    assert clock.now() == 231.0


def test_freeze_unfreeze_cycles_accumulate_no_drift():
    source = Source()
    clock = Clock(source=source)
    for _ in range(5):
        clock.freeze()
        source.at += 7
        clock.advance(1)
        clock.unfreeze()
        source.at += 2
    assert clock.now() == 1000.0 + 5 * (1 + 2)


def test_freezing_twice_keeps_the_first_moment_unless_told():
    source = Source()
    clock = Clock(source=source)
    clock.freeze()
    source.at += 10
    clock.freeze()
    assert clock.now() == 1000.0


def test_unfreeze_when_running_changes_nothing():
    source = Source()
    clock = Clock(source=source)
    clock.advance(5)
    clock.unfreeze()
    assert clock.now() == 1005.0


def test_reset_returns_to_the_source():
    source = Source()
    clock = Clock(source=source)
    clock.freeze(at=1.0)
    clock.reset()
    assert clock.now() == 1000.0 and not clock.frozen


def test_iso_and_describe():
    clock = Clock(source=Source(0.0))
    clock.freeze(at=1_700_000_000.25)
    assert clock.iso() == "2023-11-14T22:13:20.250Z"
    assert iso_timestamp(0) == "1970-01-01T00:00:00.000Z"
    assert clock.describe() == {"now": 1_700_000_000.25, "iso": "2023-11-14T22:13:20.250Z", "frozen": True}
