"""The sandbox's clock state in Redis: every process of one namespace reads and moves the same clock.

One hash per namespace, `{namespace}:clock` (offset, frozen_at: "" while running, version). A move is
`mocks.clock.moved` applied to the stored state under WATCH, written with MULTI/EXEC: two processes
moving the clock at once both apply, one after the other, never one over the other.
"""

from __future__ import annotations

import redis

from mocks.clock import ClockMove, ClockState, moved
from mocks.state.redis_client import RETRIES, connect, escape, float_text

FIELDS = ("offset", "frozen_at")


def clock_state_of(found: list[str | None]) -> ClockState:
    """The state an HMGET of `FIELDS` read (a namespace whose clock never moved: real time)."""
    offset, frozen_at = found
    return ClockState(float(offset or 0.0), float(frozen_at) if frozen_at else None)


class RedisClockState:
    """The `SandboxState` of every process pointed at one Redis and namespace."""

    def __init__(self, client: redis.Redis | str, namespace: str) -> None:
        self.client = connect(client) if isinstance(client, str) else client
        self.key = "{" + escape(namespace) + "}:clock"

    def clock_state(self) -> ClockState:
        return clock_state_of(self.client.hmget(self.key, *FIELDS))

    def move_clock(self, move: ClockMove, real_now: float) -> ClockState:
        """`move` applied to the stored state (ClockRangeError: refused, nothing written)."""
        for _ in range(RETRIES):
            with self.client.pipeline(transaction=True) as pipe:
                try:
                    pipe.watch(self.key)
                    after = moved(clock_state_of(pipe.hmget(self.key, *FIELDS)), move, real_now)
                    pipe.multi()
                    frozen = "" if after.frozen_at is None else float_text(after.frozen_at)
                    pipe.hset(self.key, mapping={"offset": float_text(after.offset), "frozen_at": frozen})
                    pipe.hincrby(self.key, "version", 1)
                    pipe.execute()
                    return after
                except redis.WatchError:
                    continue
        raise RuntimeError(f"a move of {self.key} lost {RETRIES} races in a row")

    def reset(self) -> None:
        """The namespace's clock back to real time."""
        self.client.delete(self.key)
