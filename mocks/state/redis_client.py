"""What every module of the Redis store shares: the client, key escaping, float text, the retry bound."""

from __future__ import annotations

import redis

RETRIES = 1000  # a WATCHed transaction runs again while other writers change what it watches


def connect(url: str) -> redis.Redis:
    """A client for `url` (redis://, rediss://, unix://): calls give up after seconds, not minutes."""
    return redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=2, decode_responses=True)


def escape(part: str) -> str:
    """A key part that cannot move the hash tag or collide with another part's text."""
    return part.replace("%", "%25").replace("{", "%7B").replace("}", "%7D").replace(":", "%3A")


def float_text(number: float) -> str:
    return repr(float(number))  # the shortest text that reads back as the same double, in Lua too
