"""A Redis for the benchmark's Redis-store rows: the one given (`--redis URL` or REDIS_URL), else a
`redis-server` of its own on a free port (mirrors tests/rediskit.py; a benchmark never imports tests).

The server it starts keeps nothing on disk and is stopped at the end. Every sandbox the benchmark
starts gets a namespace of its own, `bench-<run>-<n>` (so each cold start seeds), and the run deletes
them at the end, so a Redis that was given is left as it was found.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import count

from benchmarks.processes import free_port


class BenchRedis:
    """One Redis URL and the namespaces handed out on it."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.run = uuid.uuid4().hex[:8]
        self._numbers = count(1)
        self._handed_out: list[str] = []

    def new_namespace(self) -> str:
        self._handed_out.append(f"bench-{self.run}-{next(self._numbers)}")
        return self._handed_out[-1]

    def forget(self) -> None:
        """Delete every key of the namespaces handed out (the store's own `drop_namespace` knows the layout)."""
        from mocks.state import drop_namespace

        for namespace in self._handed_out:
            drop_namespace(self.url, namespace)


def answers(url: str, timeout: float = 0.5) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout).ping())
    except (redis.ConnectionError, redis.TimeoutError, OSError):
        return False


@contextmanager
def bench_redis(given: str | None) -> Iterator[BenchRedis | str]:
    """A `BenchRedis`, or (when there is none to be had) the reason, as a string, to print."""
    if given:
        if not answers(given, timeout=2):
            yield f"the Redis at {given} does not answer PING"
            return
        found = BenchRedis(given)
        try:
            yield found
        finally:
            found.forget()
        return
    binary = shutil.which("redis-server")
    if binary is None:
        yield "no redis-server binary (apt-get install redis-server) and no --redis URL or REDIS_URL"
        return
    with tempfile.TemporaryDirectory(prefix="bench-redis-") as folder:
        port = free_port()
        process = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                    "--appendonly", "no", "--dir", folder],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        url = f"redis://127.0.0.1:{port}/0"
        try:
            deadline = time.monotonic() + 10
            while not answers(url):
                if process.poll() is not None or time.monotonic() > deadline:
                    yield f"redis-server on port {port} did not start"
                    return
                time.sleep(0.05)
            yield BenchRedis(url)
        finally:
            process.terminate()
            try:
                process.wait(5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
