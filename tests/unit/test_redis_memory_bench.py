"""`python -m benchmarks.redis_memory`, run tiny on a real Redis as `make bench` runs it: every kind of
stored item is reported with positive bytes, and the run leaves nothing behind in the Redis it was given."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import redis

ROOT = Path(__file__).resolve().parents[2]
ROW = re.compile(r"^  (\w+)\s+(.+?)\s+(\d+)\s+([\d,]+)$")


def run(redis_url: str, records: int) -> list[tuple[str, str, int, int]]:
    done = subprocess.run([sys.executable, "-m", "benchmarks.redis_memory", "--records", str(records),
                           "--redis", redis_url], check=False, cwd=ROOT, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert any(f"Redis memory per stored item ({records} of each kind" in line for line in lines), done.stdout
    return [(m[1], m[2], int(m[3]), int(m[4].replace(",", ""))) for m in map(ROW.match, lines) if m]


def test_the_report_names_every_kind_of_item_with_positive_bytes(redis_url) -> None:
    rows = run(redis_url, 20)
    assert {api for api, *_ in rows} == {"istockist", "konducter", "lagerkoll", "pingnetwork", "plggr"}
    items = {item for _, item, *_ in rows}
    for expected in ("customer record", "customer index entries", "journal entry, GET by id",
                     "journal entry, POST create", "idempotency key (its stored response)", "issued token", "event",
                     "everything it stored, per record created (INFO used_memory)"):
        assert expected in items, sorted(items)
    assert all(count >= 20 and size > 0 for _, _, count, size in rows), rows
    assert not list(redis.Redis.from_url(redis_url).scan_iter(match="{bench-*")), "the run deletes its namespaces"
