"""The sandbox over real HTTP beside other servers on the same two routes, side by side in one run.

    make bench                 # the sandbox against its HTTP layer alone and bare Starlette (uvloop + httptools)
    make bench ANCHORS=1       # ... and against WireMock (journal on and off) and Prism
    make bench ARGS="--redis redis://HOST:PORT/0"   # the Redis rows on that Redis (default: one of its own)
    .venv/bin/python -m benchmarks.http --anchors --seconds 3 --rounds 1 --soak 10   # a quick look

First every server is started cold once per round (order alternating between rounds): seconds
until its GET answers, and its memory a second later; the sandbox serving all five APIs too.
Then all of them run at once, each is warmed up, and every round loads each server in turn with
wrk (32 connections) on the GET, then each on the POST, alternating the order between rounds, so
a burst of load from elsewhere on the machine hits every server alike; memory is read again at
the end. The report shows medians over rounds and each server's ratio to the sandbox. Last, the
sandbox alone: its memory sampled over a long GET load. A benchmark reports; it never fails.

Beside the sandbox runs its own server answering a fixed response (`benchmarks/fixed_answer.py`): the
report splits a request's time on the serving core (1 / req/s) into serving HTTP and the pipeline,
and sets both beside what the WireMock targets allow.

The sandbox runs on the memory store and, beside it in the same rounds, on the Redis store with 1 and
2 workers (`--store redis://… --workers N`), on a `redis-server` the run starts on a free port (or the
one given with --redis / REDIS_URL); without one, those rows are skipped and the reason printed. Their
memory is the sandbox's processes (parent and workers), not Redis'.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks import anchors
from benchmarks.loadgen import CONNECTIONS, Request, wrk
from benchmarks.processes import Probe, Running, free_port, launch
from benchmarks.redisserver import BenchRedis, bench_redis
from benchmarks.routes import Routes, istockist_routes
from mocks.registry import API_NAMES, load_contract

ROOT = Path(__file__).resolve().parents[1]
MOCKS = [str(Path(sys.executable).with_name("mocks"))]
SANDBOX = "this sandbox (iStockist)"
BARE = "bare Starlette (uvloop, httptools)"
HTTP_LAYER = "sandbox HTTP layer, fixed answer"
WIREMOCK = "WireMock 3 (journal on)"
WIREMOCK_NO_JOURNAL = "WireMock 3 --no-request-journal"
NO_LIMIT = ["--limit", "istockist=100000000/s"]  # the limiter still runs on every request; it never says no


@dataclass
class Server:
    name: str
    command: Callable[[int], list[str]]
    samples: dict[str, list[float]] = field(default_factory=dict)
    failed: int = 0

    def add(self, key: str, value: float) -> None:
        self.samples.setdefault(key, []).append(value)

    def median(self, key: str) -> float:
        return statistics.median(self.samples[key])


def sandbox_command(port: int) -> list[str]:
    return [*MOCKS, "serve", "istockist", "--port", f"istockist={port}", *NO_LIMIT]


def redis_row(workers: int) -> str:
    return f"sandbox on Redis, {workers} worker{'s' if workers > 1 else ''}"


def redis_command(redis: BenchRedis, workers: int) -> Callable[[int], list[str]]:
    """The sandbox on the Redis store; a namespace of its own per start, so every cold start seeds."""
    return lambda port: [*sandbox_command(port), "--store", redis.url, "--namespace", redis.new_namespace(),
                         "--workers", str(workers)]


def servers(routes: Routes, with_anchors: bool, redis: BenchRedis | None) -> list[Server]:
    chosen = [Server(SANDBOX, sandbox_command)]
    if redis is not None:
        chosen += [Server(redis_row(n), redis_command(redis, n)) for n in (1, 2)]
    chosen += [Server(HTTP_LAYER, lambda port: [sys.executable, "-m", "benchmarks.fixed_answer", str(port), routes.get.path]),
               Server(BARE,
                      lambda port: [sys.executable, "-m", "benchmarks.serve", str(port), json.dumps(routes.customer)])]
    if with_anchors:
        anchors.install()
        contract = ROOT / "contracts" / "istockist.yaml"
        chosen += [Server(WIREMOCK, lambda port: anchors.wiremock_command(port, routes, journal=True)),
                   Server(WIREMOCK_NO_JOURNAL,
                          lambda port: anchors.wiremock_command(port, routes, journal=False)),
                   Server("Prism 5 mock", lambda port: anchors.prism_command(port, contract))]
    return chosen


def launch_server(server: Server, routes: Routes) -> Running:
    port = free_port()
    return launch(server.name, server.command(port), port, [(port, Probe(routes.get.path, routes.get.headers))],
                  cwd=ROOT)


def start_up(server: Server, routes: Routes) -> None:
    """One cold start: seconds until the GET answers, then the idle memory."""
    running = launch_server(server, routes)
    try:
        server.add("startup", running.startup)
        time.sleep(1.0)
        server.add("rss idle", running.rss_mb())
    finally:
        running.stop()


def load(server: Server, running: Running, case: str, request: Request, seconds: float) -> None:
    result = wrk(running.port, request, seconds)
    server.failed += result.failed
    server.add(f"{case} rps", result.rps)
    server.add(f"{case} p50", result.p50_ms)
    server.add(f"{case} p99", result.p99_ms)


def in_turn(chosen: list[Server], index: int) -> list[Server]:
    return chosen if index % 2 == 0 else chosen[::-1]


def startup_all_five() -> float:
    ports = {f"{api}.{listener}": free_port() for api in API_NAMES for listener in load_contract(api).listeners}
    command = [*MOCKS, "serve", *(f"--port={name}={port}" for name, port in ports.items())]
    running = launch("all five APIs", command, 0, [(port, Probe("/__mock/none", {}, 404)) for port in ports.values()],
                     cwd=ROOT)
    running.stop()
    return running.startup


def soak(routes: Routes, seconds: float) -> list[tuple[float, float]]:
    """The sandbox's memory while wrk loads its GET for `seconds`: (elapsed s, RSS MB) samples."""
    running = launch_server(Server(SANDBOX, sandbox_command), routes)
    samples = [(0.0, running.rss_mb())]
    done = threading.Event()

    def sample() -> None:
        started = time.perf_counter()
        while not done.wait(max(1.0, seconds / 12)):
            samples.append((time.perf_counter() - started, running.rss_mb()))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        wrk(running.port, routes.get, seconds)
    finally:
        done.set()
        sampler.join()
        samples.append((seconds, running.rss_mb()))
        running.stop()
    return samples


def report(chosen: list[Server], all_five: list[float], memory: list[tuple[float, float]]) -> None:
    sandbox = chosen[0]
    print(f"\n{'server':<36} {'GET req/s':>10} {'POST req/s':>11} {'GET p50/p99 ms':>15} {'POST p50/p99 ms':>16} "
          f"{'startup s':>10} {'RSS idle/after MB':>18} {'sandbox GET x':>14} {'POST x':>7}")
    for server in chosen:
        m = server.median
        print(f"{server.name:<36} {m('GET rps'):>10,.0f} {m('POST rps'):>11,.0f} "
              f"{m('GET p50'):>7.1f} / {m('GET p99'):<5.1f} {m('POST p50'):>8.1f} / {m('POST p99'):<5.1f} "
              f"{m('startup'):>10.2f} {m('rss idle'):>9.0f} / {m('rss after'):<6.0f} "
              f"{sandbox.median('GET rps') / m('GET rps'):>14.2f} {sandbox.median('POST rps') / m('POST rps'):>7.2f}"
              + (f"  ({server.failed} failed requests)" if server.failed else ""))
    five = statistics.median(all_five)
    growth = memory[-1][1] - memory[len(memory) // 4][1]
    print(f"\nsandbox start-up serving all five APIs: {five:.2f} s (median of {len(all_five)})")
    print(f"sandbox RSS over {memory[-1][0]:.0f} s of GET load: " + ", ".join(f"{mb:.0f}" for _, mb in memory)
          + f" MB (growth after the first quarter: {growth:+.1f} MB)")
    by_name = {s.name: s for s in chosen}
    if (one := by_name.get(redis_row(1))) and (two := by_name.get(redis_row(2))):
        print(f"Redis store, req/s of 1 worker to memory: GET {one.median('GET rps') / sandbox.median('GET rps'):.2f}, "
              f"POST {one.median('POST rps') / sandbox.median('POST rps'):.2f}; of 2 workers to 1 worker: "
              f"GET {two.median('GET rps') / one.median('GET rps'):.2f}, "
              f"POST {two.median('POST rps') / one.median('POST rps'):.2f}")
    print("\ntargets (measured; beside a ratio to WireMock, what bare Starlette, doing nothing per request, "
          "scores in the same run):")
    rps = {s.name: (s.median("GET rps"), s.median("POST rps")) for s in chosen}

    def times(name: str, case: int, of: str = SANDBOX) -> float:
        return rps[of][case] / rps[name][case]

    checks = [
        ("GET >= 0.5x bare Starlette", times(BARE, 0) >= 0.5, f"{times(BARE, 0):.2f}x"),
        (f"GET p99 <= 10 ms at {CONNECTIONS} connections", sandbox.median("GET p99") <= 10,
         f"{sandbox.median('GET p99'):.1f} ms"),
        (f"POST p99 <= 15 ms at {CONNECTIONS} connections", sandbox.median("POST p99") <= 15,
         f"{sandbox.median('POST p99'):.1f} ms"),
        ("start-up <= 0.4 s for one API", sandbox.median("startup") <= 0.4, f"{sandbox.median('startup'):.2f} s"),
        ("start-up <= 1 s for all five", five <= 1.0, f"{five:.2f} s"),
        ("idle RSS <= 60 MB for one API", sandbox.median("rss idle") <= 60, f"{sandbox.median('rss idle'):.0f} MB"),
        ("RSS flat over the GET load (< 5 MB growth after the first quarter)", growth < 5, f"{growth:+.1f} MB"),
    ]
    if WIREMOCK in rps:
        checks[:0] = [
            (f"{case} >= {target}x {name}", times(name, index) >= target,
             f"{times(name, index):.2f}x; bare Starlette {times(name, index, BARE):.2f}x")
            for case, index, target, name in (("GET", 0, 2.0, WIREMOCK), ("POST", 1, 1.5, WIREMOCK),
                                              ("GET", 0, 1.0, WIREMOCK_NO_JOURNAL))]
    for text, met, measured in checks:
        print(f"  {'met    ' if met else 'NOT met'}  {text}: {measured}")
    if HTTP_LAYER in rps:
        time_per_request(rps)


def time_per_request(rps: dict[str, tuple[float, float]]) -> None:
    """Where a request's time goes. One core serves the sandbox's requests one at a time, so 1 / req/s is
    the time each takes there; the fixed-answer server's share is serving HTTP, the rest the pipeline's."""
    def micros(name: str, case: int, times: float = 1.0) -> float:
        return 1e6 / (rps[name][case] * times)

    rows: list[tuple[str, float, float | None]] = [
        ("this sandbox", micros(SANDBOX, 0), micros(SANDBOX, 1)),
        (HTTP_LAYER, micros(HTTP_LAYER, 0), micros(HTTP_LAYER, 1)),
        ("so the pipeline", micros(SANDBOX, 0) - micros(HTTP_LAYER, 0), micros(SANDBOX, 1) - micros(HTTP_LAYER, 1)),
    ]
    if WIREMOCK in rps:
        rows += [("what 2.0x WireMock's GETs, 1.5x its POSTs allow", micros(WIREMOCK, 0, 2.0), micros(WIREMOCK, 1, 1.5)),
                 ("what 1.0x WireMock's GETs without journal allow", micros(WIREMOCK_NO_JOURNAL, 0), None)]
    print(f"\ntime per request on the serving core (1 / req/s)     {'GET us':>7} {'POST us':>8}")
    for text, get, post in rows:
        print(f"  {text:<50} {get:>7.1f} {'' if post is None else f'{post:.1f}':>8}")


def main(seconds: float, rounds: int, warmup: float, soak_seconds: float, with_anchors: bool,
         redis_url: str | None) -> None:
    if shutil.which("wrk") is None:
        print("wrk is not installed: skipping the HTTP benchmark (apt-get install wrk)")
        return
    with bench_redis(redis_url) as redis:
        if isinstance(redis, str):
            print(f"Redis store rows skipped: {redis}")
        compare(seconds, rounds, warmup, soak_seconds, with_anchors, redis if isinstance(redis, BenchRedis) else None)


def compare(seconds: float, rounds: int, warmup: float, soak_seconds: float, with_anchors: bool,
            redis: BenchRedis | None) -> None:
    routes = istockist_routes()
    chosen = servers(routes, with_anchors, redis)
    print(f"\n{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the start (the machine may be shared)")
    print(f"over HTTP: wrk -t1 -c{CONNECTIONS}, {seconds:g} s per route, server and round after {warmup:g} s of "
          f"warm-up, medians of {rounds} rounds, server order alternating between rounds;\n"
          f"GET {routes.get.path}, POST {routes.post.path}", flush=True)
    all_five = []
    for index in range(rounds):
        print(f"  start-up round {index + 1}", flush=True)
        for server in in_turn(chosen, index):
            start_up(server, routes)
        all_five.append(startup_all_five())
    running = {server.name: launch_server(server, routes) for server in chosen}
    try:
        for server in chosen:
            for request in (routes.get, routes.post):
                wrk(running[server.name].port, request, warmup)
        for index in range(rounds):
            print(f"  load round {index + 1}", flush=True)
            for case, request in (("GET", routes.get), ("POST", routes.post)):
                for server in in_turn(chosen, index):
                    load(server, running[server.name], case, request, seconds)
        for server in chosen:
            server.add("rss after", running[server.name].rss_mb())
    finally:
        for process in running.values():
            process.stop()
    print(f"  sandbox memory over {soak_seconds:g} s of GET load", flush=True)
    report(chosen, all_five, soak(routes, soak_seconds))
    print(f"\nload average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--anchors", action="store_true", help="also run WireMock and Prism (npm, Java 17)")
    parser.add_argument("--seconds", type=float, default=8, help="wrk seconds per route and round (default 8)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds, alternating server order (default 3)")
    parser.add_argument("--warmup", type=float, default=3,
                        help="warm-up seconds per route, for the JVM's JIT above all (default 3)")
    parser.add_argument("--soak", type=float, default=60, help="seconds of GET load for the RSS samples (default 60)")
    parser.add_argument("--redis", default=os.environ.get("REDIS_URL"), metavar="URL",
                        help="the Redis for the Redis-store rows (default: REDIS_URL, else a redis-server of its own)")
    options = parser.parse_args()
    main(options.seconds, options.rounds, options.warmup, options.soak, options.anchors, options.redis)
