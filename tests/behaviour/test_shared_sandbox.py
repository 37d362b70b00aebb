"""`mocks serve --store redis://…`: several processes on one Redis and namespace are one sandbox (issue 12).

Real processes over real sockets on a real Redis (`redis_url`: see tests/rediskit.py), never a fake.
"""

from __future__ import annotations

import time

import pytest
from rediskit import free_port
from servekit import start_serve


@pytest.mark.parametrize(("store", "says"), [
    ("http://127.0.0.1:6379", "unknown store"),
    ("redis://127.0.0.1:6379/zero", "the database is a number"),
    ("redis://127.0.0.1:{free}/0", "does not answer"),
])
def test_a_bad_store_url_or_an_unreachable_redis_exits_2_at_start_up(store: str, says: str) -> None:
    served = start_serve("istockist", "--port", "istockist=0", "--store", store.format(free=free_port()),
                         expect_table=False)
    assert served.process.wait(timeout=30) == 2
    deadline = time.monotonic() + 5
    while not served.stderr and time.monotonic() < deadline:  # the reader thread collects it
        time.sleep(0.05)
    assert any(says in line for line in served.stderr), served.stderr
