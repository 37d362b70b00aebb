"""The Ping Network event stream across processes (issue 12): a follower of one `mocks serve` hears
sessions created through another on the same Redis and namespace.

Real processes, real sockets, a real Redis (`redis_url`, or a `redis-server` of the test's own where
it is stopped mid-stream). Whether followers share one reader is read from Redis itself: each reader
is one client blocked in XREAD (`blocked_clients`).
"""

from __future__ import annotations

import contextlib
import json
import queue
import shutil
import socket
import threading
from collections.abc import Callable, Iterator

import httpx
import pytest
import redis
from rediskit import MISSING, namespace, redis_server
from servekit import Served

from mocks.credentials import auth_headers
from mocks.registry import load_api

STREAM = "/customer/v2/sessions/events"


@pytest.fixture(scope="module")
def headers() -> dict[str, str]:
    return auth_headers(load_api("pingnetwork"), "initech-primary")  # Initech has no sessions yet


class Follower:
    """An EventSource-like client of one stream, read in a thread: frames as they come, and how it ended."""

    def __init__(self, url: str, headers: dict[str, str]) -> None:
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.opened, self.status, self.error = threading.Event(), 0, None
        self.socket: socket.socket | None = None
        self.client = httpx.Client(timeout=httpx.Timeout(10, read=60))
        self.thread = threading.Thread(target=self._read, args=(url, headers), daemon=True)
        self.thread.start()
        assert self.opened.wait(15), "the stream did not open"

    def _read(self, url: str, headers: dict[str, str]) -> None:
        try:
            with self.client.stream("GET", url, headers={**headers, "Accept": "text/event-stream"}) as response:
                self.status = response.status_code
                self.socket = response.extensions["network_stream"].get_extra_info("socket")
                self.opened.set()
                for line in response.iter_lines():
                    self.lines.put(line)
        except httpx.HTTPError as exc:
            self.error = exc
        finally:
            self.opened.set()
            self.lines.put(None)  # the stream ended

    def frame(self) -> dict:
        """The next event frame (keep-alives and the retry line skipped); bounded: a missing one fails."""
        fields: dict[str, str] = {}
        while True:
            line = self.lines.get(timeout=15)
            assert line is not None, f"the stream ended ({self.error!r}) before the next frame"
            if line == "" and "event" in fields:
                return {"event": fields["event"], "data": json.loads(fields["data"])}
            name, _, value = line.partition(": ")
            if name in ("event", "data"):
                fields[name] = value

    def ends(self) -> list[str]:
        """Every line left until the stream ends (bounded)."""
        rest = []
        while (line := self.lines.get(timeout=20)) is not None:
            rest.append(line)
        return rest

    def close(self) -> None:
        """Leave as a browser tab closing does: the connection goes, whatever the reading thread is doing."""
        if self.socket is not None:
            with contextlib.suppress(OSError):
                self.socket.shutdown(socket.SHUT_RDWR)
        self.thread.join(10)
        self.client.close()


@pytest.fixture
def followers() -> Iterator[Callable[[str, dict[str, str]], Follower]]:
    made: list[Follower] = []

    def follow(url: str, headers: dict[str, str]) -> Follower:
        made.append(Follower(url, headers))
        return made[-1]

    yield follow
    for follower in made:
        follower.close()


def base(served: Served) -> str:
    return served.urls[("pingnetwork", "api")].split("/customer")[0]


def pingnetwork(serve, store: str, ns: str) -> Served:
    return serve("pingnetwork", "--port", "pingnetwork=0", "--store", store, "--namespace", ns)


def wait_until(condition: Callable[[], object], timeout: float, what: str) -> None:
    pause = threading.Event()
    for _ in range(int(timeout / 0.05)):
        if condition():
            return
        pause.wait(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def test_a_follower_of_one_process_hears_sessions_created_and_ended_through_the_other(
        serve, redis_url, headers, followers):
    ns = namespace()
    one, two = pingnetwork(serve, redis_url, ns), pingnetwork(serve, redis_url, ns)
    follower = followers(base(one) + STREAM, headers)
    assert follower.status == 200
    with httpx.Client(base_url=base(two), headers=headers, timeout=10) as other:
        created = other.post("/customer/v2/sessions",
                             json={"client_id": "across-1", "connection_type": "vless", "zone": "us"})
        assert created.status_code == 201, created.text
        started = follower.frame()
        assert started["event"] == "session_start"
        assert (started["data"]["session_id"], started["data"]["client_id"]) == (created.json()["id"], "across-1")
        assert other.delete(f"/customer/v1/sessions/{created.json()['id']}").status_code == 204
        ended = follower.frame()
        assert (ended["event"], ended["data"]["session_id"]) == ("session_end", created.json()["id"])


def test_followers_of_one_process_share_one_reader_which_ends_soon_after_the_last_leaves(
        serve, redis_url, headers, followers):
    ns = namespace()
    one, two = pingnetwork(serve, redis_url, ns), pingnetwork(serve, redis_url, ns)
    watched = redis.Redis.from_url(redis_url)
    wait_until(lambda: watched.info("clients")["blocked_clients"] == 0, 10, "no reader before the test")
    crowd = [followers(base(one) + STREAM, headers) for _ in range(12)]
    wait_until(lambda: watched.info("clients")["blocked_clients"] == 1, 10, "the process's one reader")
    with httpx.Client(base_url=base(two), headers=headers, timeout=10) as other:
        created = other.post("/customer/v2/sessions",
                             json={"client_id": "crowd", "connection_type": "vless", "zone": "us"})
        assert created.status_code == 201, created.text
    for follower in crowd:  # every follower hears it through the one reader
        assert follower.frame()["data"]["session_id"] == created.json()["id"]
    assert watched.info("clients")["blocked_clients"] == 1  # twelve followers, still one XREAD
    for follower in crowd:
        follower.close()
    wait_until(lambda: watched.info("clients")["blocked_clients"] == 0, 5, "the reader to end after the last follower")


def test_a_stream_ends_cleanly_when_redis_goes_away_and_a_new_one_is_answered_503(serve, headers, followers):
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip(MISSING)
    with redis_server(binary) as url:
        served = pingnetwork(serve, url, namespace())
        follower = followers(base(served) + STREAM, headers)
        assert follower.status == 200
        redis.Redis.from_url(url).shutdown(nosave=True)  # Redis goes away mid-stream
        left = follower.ends()  # bounded: a stream that hangs on fails here
        assert follower.error is None, follower.error  # a clean end of the chunked body, not a cut
        assert not any(line.startswith("event:") for line in left)
        refused = httpx.get(base(served) + STREAM, headers={**headers, "Accept": "text/event-stream"}, timeout=10)
        assert refused.status_code == 503, refused.text
        assert refused.json()["error"]["code"] == "service_unavailable" and int(refused.headers["Retry-After"]) >= 1
