"""Throughput of the mock pipeline against a bare Starlette app, side by side in one run.

    make bench                      # or: .venv/bin/python -m benchmarks.run --requests 5000 --rounds 5

Both apps are called through ASGI in this process (no sockets, no client), so the ratio measures
what the pipeline adds per request: routing, authentication, rate limiting, validation, state and
the journal. The last columns call the sandbox as its HTTP protocol's direct lane does (a
`MockRequest` to `MockApp.answer`, no ASGI): its answer alone, in microseconds per request, first
back to back, then with the CPU's caches evicted before each answer (EVICTED_BYTES of other memory
touched, as a server's own HTTP work and the kernel's network stack touch it between two answers).
The second is what an answer costs inside a server: the gap between the two is memory, not
instructions. Rounds alternate between the apps and the best round of each is kept; the collector
is set as `mocks serve` sets it (`mocks.heap`).
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import time

from benchmarks.routes import Routes, istockist_routes
from benchmarks.serve import bare_app
from mocks.app import MockApp
from mocks.asgi import header_map
from mocks.heap import settle_after_start_up
from mocks.registry import load_api
from mocks.types import MockRequest


def mock_app() -> MockApp:
    api = load_api("istockist")
    api.configure_limit("100000000/s")  # the limiter still runs on every request; it just never says no
    return MockApp(api, api.primary_listener)


def raw_headers(headers: dict[str, str], body: bytes) -> list[tuple[bytes, bytes]]:
    """The request's headers as a server reads them: lower-cased names, Host, and the body's length."""
    return [(k.lower().encode(), v.encode()) for k, v in headers.items()] + [(b"host", b"bench")] \
        + ([(b"content-length", str(len(body)).encode())] if body else [])


async def call(app, method: str, path: str, headers: dict[str, str], body: bytes = b"") -> int:
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
             "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
             "headers": raw_headers(headers, body),
             "client": ("127.0.0.1", 1), "server": ("bench", 80)}
    sent = False
    status = 0

    async def receive():
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message):
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


async def answer(app: MockApp, method: str, path: str, headers: dict[str, str], body: bytes = b"") -> int:
    """As the direct lane (`mocks/direct_lane.py`) asks for an answer: the request read, then `MockApp.answer`."""
    request = MockRequest(method=method, path=path, query={}, headers=header_map(raw_headers(headers, body)), body=body,
                          listener=app.listener, client="127.0.0.1", scheme="http")
    return (await app.answer(request)).status


EVICTED_BYTES = 4 << 20  # beyond a server core's own cache (L2: 0.5 to 2 MB), well within what serving touches


class Evictor:
    """Touches one cache line in every 64 bytes of a buffer larger than a core's cache."""

    def __init__(self, size: int = EVICTED_BYTES) -> None:
        self.buffer = bytearray(size)
        self.zeros = bytes(len(self.buffer[::64]))

    def evict(self) -> None:
        self.buffer[::64] = self.zeros


async def evicted_rate(app: MockApp, method: str, path: str, headers: dict[str, str], body: bytes,
                       requests: int, evictor: Evictor) -> float:
    """Answers per second of answering alone, the caches evicted before each answer (not timed)."""
    spent = 0.0
    for _ in range(requests):
        evictor.evict()
        started = time.perf_counter()
        status = await answer(app, method, path, headers, body)
        spent += time.perf_counter() - started
        if status >= 300:
            raise RuntimeError(f"{method} {path} answered {status}")
    return requests / spent


async def rate(app, method: str, path: str, headers: dict[str, str], body: bytes, requests: int,
               calling=call) -> float:
    started = time.perf_counter()
    for _ in range(requests):
        status = await calling(app, method, path, headers, body)
        if status >= 300:
            raise RuntimeError(f"{method} {path} answered {status}")
    return requests / (time.perf_counter() - started)


async def main(requests: int, rounds: int) -> None:
    routes: Routes = istockist_routes()
    bare, mock = bare_app(routes.customer), mock_app()
    settle_after_start_up()
    evictor = Evictor()
    cases = {name: ((r.method, r.path, r.headers, r.body.encode()),) * 2
             for name, r in (("GET", routes.get), ("POST", routes.post))}
    print(f"python {platform.python_version()} on {platform.machine()}, {requests} requests per round, "
          f"best of {rounds} alternating rounds\n")
    print(f"{'case':<6} {'bare Starlette req/s':>22} {'mock req/s':>12} {'ratio':>7} {'answer alone req/s':>20} "
          f"{'us':>6} {'caches evicted us':>18}")
    for name, (bare_case, mock_case) in cases.items():
        best_bare = best_mock = best_answer = best_evicted = 0.0
        for _ in range(rounds):
            best_bare = max(best_bare, await rate(bare, *bare_case, requests))
            best_mock = max(best_mock, await rate(mock, *mock_case, requests))
            best_answer = max(best_answer, await rate(mock, *mock_case, requests, calling=answer))
            best_evicted = max(best_evicted, await evicted_rate(mock, *mock_case, requests, evictor))
            mock.api.journal.clear()
        print(f"{name:<6} {best_bare:>22,.0f} {best_mock:>12,.0f} {best_mock / best_bare:>7.2f} {best_answer:>20,.0f} "
              f"{1e6 / best_answer:>6.1f} {1e6 / best_evicted:>18.1f}")
    print("\nmock: iStockist, HTTP Basic authenticated, rate limited, validated, tenant scoped, journaled; "
          "POST also stores the customer (a fresh one per request).")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=5)
    options = parser.parse_args()
    asyncio.run(main(options.requests, options.rounds))
