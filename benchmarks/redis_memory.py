"""Redis memory per stored resource: `python -m benchmarks.redis_memory [--records N] [--redis URL]`.

On a `redis-server` of its own (or the one given: `--redis URL` / REDIS_URL, whose `bench-*`
namespaces are deleted at the end), each of the five APIs gets a namespace of its own, seeded as
`mocks serve` seeds it. Then N records of every resource kind the fixtures seed are created through
the sandbox's own create path (`Runtime.create`: ids minted, defaults, unique and ordered indexes,
events), N tokens are issued on Plggr, and N GETs by id and N POSTs with an `Idempotency-Key` go
through iStockist's whole pipeline (journal entries, idempotency keys). What each kind of key holds
is read with `MEMORY USAGE key SAMPLES 0` (every element counted) and divided by what it holds.
A benchmark reports; it never fails a test.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import uuid
from collections import defaultdict
from dataclasses import dataclass

import redis

from benchmarks.redisserver import BenchRedis, bench_redis
from benchmarks.routes import istockist_routes
from benchmarks.run import call
from mocks.app import MockApp
from mocks.catalog import API_NAMES
from mocks.engine import Api
from mocks.registry import load_api
from mocks.state.redis_client import escape

INDEX_KINDS = ("slice", "pos", "mem", "keyidx", "uniq")  # a record's places in its ordered and unique indexes


@dataclass(frozen=True)
class Row:
    api: str
    item: str  # what one unit is: "customer record", "customer index entries", "journal entry, GET by id", ...
    count: int  # how many were measured
    bytes_each: float


def key(api: Api, *parts: str) -> str:
    """The name of one of the API's keys in Redis (as `RedisStore` names it)."""
    return api.store.prefix + ":".join(escape(part) for part in parts)


def usage_by_key(client: redis.Redis, api: Api) -> dict[tuple[str, str], int]:
    """Bytes by (kind, collection or ""), e.g. ("rec", "customer"), over every key of the API's namespace."""
    prefix = api.store.prefix
    pattern = "".join(f"\\{c}" if c in "*?[]\\" else c for c in prefix) + "*"
    found: dict[tuple[str, str], int] = defaultdict(int)
    for name in client.scan_iter(match=pattern, count=1000):
        parts = name[len(prefix):].split(":")
        found[(parts[0], parts[1] if len(parts) > 1 else "")] += client.memory_usage(name, samples=0) or 0
    return found


def create_records(api: Api, records: int) -> list[str]:
    """`records` new records of every resource kind the fixtures seed, each like a seeded one of its kind."""
    runtime, now = api.runtime, api.clock.now()
    kinds = []
    for name in api.fixtures.resources:
        resource = api.resources[name]
        model = api.store.scan(name)[0]
        scope = None if resource.scope_field == resource.id_field else model["scope"]  # a site is its own scope
        for _ in range(records):
            runtime.create(resource, dict(model["data"]), scope, None, now)
        kinds.append(name)
    return kinds


def issue_tokens(api: Api, tokens: int) -> None:
    """Tokens as Plggr's token endpoint issues them (each kept until it has expired and newer ones come)."""
    scheme = next(name for name, spec in api.contract.security_schemes.items() if spec.get("type") == "oauth2")
    principal = next(iter(api.fixtures.principals.values()))
    for _ in range(tokens):
        now = api.clock.now()
        api.auth.issue({scheme: secrets.token_urlsafe(32)}, principal, now + 86400, now)


async def journal_rows(api: Api, requests: int) -> list[Row]:
    """N GETs by id, then N POSTs with an `Idempotency-Key`, through the whole pipeline: a journal entry of each."""
    app, routes = MockApp(api, api.primary_listener), istockist_routes()
    api.configure_limit("100000000/s")  # the limiter counts every request and never refuses
    client, journal, rows = api.store.client, key(api, "journal"), []
    for item, request, fresh_key in (("journal entry, GET by id", routes.get, False),
                                      ("journal entry, POST create", routes.post, True)):
        api.journal.clear()
        for _ in range(requests):
            headers = {**request.headers, "Idempotency-Key": str(uuid.uuid4())} if fresh_key else request.headers
            status = await call(app, request.method, request.path, headers, request.body.encode())
            if status != 200:
                raise RuntimeError(f"{request.method} {request.path} answered {status}")
        held = client.xlen(journal)  # the journal keeps its last 2,000 entries
        rows.append(Row(api.name, item, held, (client.memory_usage(journal, samples=0) or 0) / held))
    return rows


def measure(store: BenchRedis, records: int) -> list[Row]:
    rows: list[Row] = []
    client = redis.Redis.from_url(store.url, decode_responses=True)
    for name in API_NAMES:
        api = load_api(name, store=store.url, namespace=store.new_namespace())
        before = client.info("memory")["used_memory"]
        kinds = create_records(api, records)
        if name == "plggr":
            issue_tokens(api, records)
        if name == "istockist":
            rows += asyncio.run(journal_rows(api, records))
        usage = usage_by_key(client, api)
        for kind in kinds:
            held = client.hlen(key(api, "rec", kind))
            index = sum(size for (key_kind, of), size in usage.items() if key_kind in INDEX_KINDS and of == kind)
            rows += [Row(name, f"{kind} record", held, usage[("rec", kind)] / held),
                     Row(name, f"{kind} index entries", held, index / held)]
        for space, item in (("idempotency", "idempotency key (its stored response)"),
                            ("issued-credentials", "issued token")):
            if held := client.hlen(key(api, "val", space)):  # with its entry in the space's expiry index
                rows.append(Row(name, item, held, (usage[("val", space)] + usage[("val-ends", space)]) / held))
        if held := client.xlen(key(api, "events")):
            rows.append(Row(name, "event", held, usage[("events", "")] / held))
        created = records * len(kinds)
        rows.append(Row(name, "everything it stored, per record created (INFO used_memory)", created,
                        (client.info("memory")["used_memory"] - before) / created))
    client.close()
    return rows


def report(rows: list[Row], records: int, version: str) -> None:
    print(f"\nRedis memory per stored item ({records} of each kind; MEMORY USAGE … SAMPLES 0, redis {version}):")
    print(f"  {'API':<12} {'item':<58} {'count':>7} {'bytes each':>11}")
    for row in rows:
        print(f"  {row.api:<12} {row.item:<58} {row.count:>7} {row.bytes_each:>11,.0f}")


def main(records: int, given: str | None) -> None:
    with bench_redis(given) as store:
        if isinstance(store, str):
            print(f"Redis memory skipped: {store}")
            return
        version = redis.Redis.from_url(store.url).info("server")["redis_version"]
        report(measure(store, records), records, version)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1000, help="records of each resource kind (default 1000)")
    parser.add_argument("--redis", default=os.environ.get("REDIS_URL"), metavar="URL",
                        help="the Redis to measure on (default: REDIS_URL, else a redis-server of its own)")
    options = parser.parse_args()
    main(options.records, options.redis)
