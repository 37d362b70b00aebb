"""A real Redis for the tests, never a fake: `REDIS_URL` if set, else a `redis-server` of our own.

The server this starts listens on a free port of 127.0.0.1, keeps nothing on disk (`--save ""
--appendonly no`, a temporary dir) and is stopped when the test session ends. The machine's own
Redis (6379) is used only when `REDIS_URL` names it. Each test namespaces its keys (`test-<uuid>`),
so tests sharing one server never see each other's state.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

MISSING = "no Redis: set REDIS_URL or install redis-server (apt-get install redis-server) to run these tests"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def answers(url: str, timeout: float = 0.5) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout).ping())
    except (redis.ConnectionError, redis.TimeoutError, OSError):
        return False


@contextmanager
def redis_server(binary: str, *options: str, wait: float = 10.0) -> Iterator[str]:
    """A `redis-server` on a free port, answering PING, for the duration of the block.

    `options` are more of its command-line options, e.g. "--maxmemory", "2mb"."""
    with tempfile.TemporaryDirectory(prefix="mocks-redis-") as folder:
        port = free_port()
        process = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                    "--appendonly", "no", "--dir", folder, *options],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        url = f"redis://127.0.0.1:{port}/0"
        try:
            deadline = time.monotonic() + wait
            while not answers(url):
                if process.poll() is not None:
                    raise RuntimeError(f"redis-server exited {process.returncode}: {process.stderr.read().decode()}")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"redis-server on port {port} did not answer within {wait} s")
                time.sleep(0.05)
            yield url
        finally:
            process.terminate()
            try:
                process.wait(5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            process.stderr.close()


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """The URL of a Redis every test of the session may use (see the module's docstring); skips without one."""
    if url := os.environ.get("REDIS_URL"):
        if not answers(url, timeout=2):
            pytest.fail(f"REDIS_URL={url} does not answer PING")
        yield url
        return
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip(MISSING)
    with redis_server(binary) as url:
        yield url


def namespace() -> str:
    return f"test-{uuid.uuid4().hex[:12]}"
