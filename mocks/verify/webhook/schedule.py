"""Delivery schedules: which event is delivered how, in which order; drawn and shrunk by Hypothesis.

A schedule is a list of steps `(event, kind)`. Order in the list is order on the wire, so an
update listed before its create is a reordering; an event listed twice with `deliver` is a
byte-identical retry; `duplicate` re-sends it as a new message; the bad kinds carry a bad
signature. Hypothesis shrinks a failing schedule by dropping steps, moving to lower event numbers
and to simpler kinds, which yields schedules of one to three deliveries for real bugs.

The sender delivers every event at least once with a valid signature (at-least-once delivery),
so `complete` appends a good delivery for each event in play that the drawn steps never delivered
well, and brings in the events that come before one (the create of an order that is updated).
"""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import strategies as st

from mocks.verify.webhook.events import (
    BAD,
    DELIVER,
    DUPLICATE,
    GOOD,
    TAMPERED,
    UNSIGNED,
    WRONG_SECRET,
    SampleEvent,
)


@dataclass(frozen=True)
class DeliveryStep:
    event: int
    kind: str
    added: bool = False  # appended by `complete`, not drawn

    @property
    def good(self) -> bool:
        return self.kind in GOOD


def schedules(events: int, kinds: tuple[str, ...]) -> st.SearchStrategy[list[DeliveryStep]]:
    step = st.builds(DeliveryStep, st.integers(0, events - 1), st.sampled_from(kinds))
    return st.lists(step, min_size=1, max_size=max(4, 2 * events))


def complete(steps: list[DeliveryStep], events: list[SampleEvent]) -> list[DeliveryStep]:
    in_play: set[int] = set()
    for step in steps:
        in_play.add(step.event)
        in_play.update(events[step.event].predecessors)
    delivered = {s.event for s in steps if s.good}
    return list(steps) + [DeliveryStep(e, DELIVER, added=True) for e in sorted(in_play - delivered)]


def describe(step: DeliveryStep, events: list[SampleEvent], before: list[DeliveryStep], signature_header: str | None) -> str:
    """One step in plain words, given the steps that came before it."""
    event = events[step.event]
    earlier = [s for s in before if s.event == step.event]
    if step.kind == DELIVER:
        if any(s.kind == DELIVER for s in earlier):
            text = f"{event.describe()} again, byte for byte (a retry: the sender missed the acknowledgement)"
        else:
            text = f"{event.describe()}" + (", correctly signed" if signature_header else "")
            if step.added:
                text += " (the sender's eventual delivery)"
    elif step.kind == DUPLICATE:
        text = (f"{event.describe()} again as a new message: same event id, new timestamp and signature "
                "(a duplicate)" if signature_header else
                f"{event.describe()} again, the same payload serialized differently (a duplicate)")
    elif step.kind == WRONG_SECRET:
        text = f"{event.describe()} signed with the wrong secret"
    elif step.kind == TAMPERED:
        text = f"{event.describe()} with its body changed after signing (the signature no longer matches)"
    elif step.kind == UNSIGNED:
        text = f"{event.describe()} without the {signature_header} header"
    else:
        text = f"{event.describe()} ({step.kind})"
    if step.good:
        delivered = {s.event for s in before if s.good}
        missing = [p for p in event.predecessors if p not in delivered]
        if missing:
            text += " -- out of order: before " + ", ".join(events[p].describe() for p in missing)
    return text


def is_bad(kind: str) -> bool:
    return kind in BAD
