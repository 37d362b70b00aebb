"""The sandbox's HTTP layer alone: `python -m benchmarks.fixed_answer PORT GET_PATH`.

`mocks serve istockist` as it is (uvloop, httptools, the connection guard, the direct lane, one
write per response), except that every API request is answered with a copy of the first successful
answer the pipeline made to GET_PATH, instead of going through the pipeline. Beside the sandbox in
one run, it splits a request's time in two: what serving HTTP costs, and what the pipeline
(credentials, limits, validation, state, rendering, the journal) adds to it."""

from __future__ import annotations

import sys
from dataclasses import replace

from mocks import engine
from mocks.cli import main
from mocks.types import MockRequest, MockResponse


def serve_fixed_answer(port: int, get_path: str) -> int:
    made: list[MockResponse] = []
    pipeline_handle = engine.Api.handle

    async def fixed(api: engine.Api, request: MockRequest) -> MockResponse:
        if made:
            response = made[0]
        else:  # the first GET the pipeline answers with success (the benchmark's start-up probe) is kept
            response = await pipeline_handle(api, replace(request, method="GET", path=get_path, body=b""))
            if 200 <= response.status < 300:
                made.append(response)
        return MockResponse(response.status, response.body, response.media_type, list(response.headers))

    engine.Api.handle = fixed
    return main(["serve", "istockist", "--port", f"istockist={port}"])


if __name__ == "__main__":
    sys.exit(serve_fixed_answer(int(sys.argv[1]), sys.argv[2]))
