"""Fixtures every test folder may use; `tests/` is on sys.path, so kits here import by name."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from rediskit import redis_url  # noqa: F401  (a real Redis, never a fake: see rediskit.py)
from servekit import Served, end, start_serve


@pytest.fixture
def serve() -> Iterator:
    """Factory: `serve(ARGS...)` -> a started `mocks serve`; every process is ended after the test."""
    started: list[Served] = []

    def start(*args: str, **options) -> Served:
        served = start_serve(*args, **options)
        started.append(served)
        return served

    yield start
    for served in started:
        end(served)
