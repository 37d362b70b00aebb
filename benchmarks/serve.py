"""The bare Starlette floor under uvicorn on uvloop and httptools: `python -m benchmarks.serve PORT CUSTOMER_JSON`.

It imports nothing of the sandbox, so its start-up and memory are Starlette's and uvicorn's own.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


def bare_app(customer: dict[str, Any]) -> Starlette:
    """The same two routes answered from a dict, with no checks at all."""
    store = {customer["id"]: customer}

    async def get_customer(request: Request) -> JSONResponse:
        return JSONResponse(store[request.path_params["id"]])

    async def create_customer(request: Request) -> JSONResponse:
        item = {**customer, **await request.json(), "id": f"c{len(store) + 1}"}
        store[item["id"]] = item
        return JSONResponse(item)

    return Starlette(routes=[Route("/v1/customers/{id}", get_customer),
                             Route("/v1/customers", create_customer, methods=["POST"])])


if __name__ == "__main__":
    uvicorn.run(bare_app(json.loads(sys.argv[2])), host="127.0.0.1", port=int(sys.argv[1]), loop="uvloop",
                http="httptools", log_level="warning", access_log=False)
