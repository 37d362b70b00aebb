"""A Plggr "provider" that breaks its contract in three planted places.

Everything not planted is answered by the Plggr mock itself (which conforms), so verify-provider
must name exactly these problems and nothing else:

1. GET  /companies/{companyId}/customers?pageSize=100  -> 500 (a server error on valid input)
2. GET  /companies/{companyId}/products/{productId}     -> the product without its required `sku`
3. DELETE /companies/{companyId}/orders/{orderId}       -> 200 with a body (only 204 is documented)
4. DELETE /companies/{companyId}/customers/{customerId} -> 204, but the customer is still there

Each bug is marked `# BUG` below.
"""

from __future__ import annotations

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route

from mocks.app import MockApp
from mocks.registry import load_api

PLANTED = {
    "GET /companies/{companyId}/customers": "not_a_server_error",
    "GET /companies/{companyId}/products/{productId}": "response_schema_conformance",
    "DELETE /companies/{companyId}/orders/{orderId}": "status_code_conformance",
    "DELETE /companies/{companyId}/customers/{customerId}": "use_after_free",
}


def create_app() -> Starlette:
    api = load_api("plggr")
    api.configure_limit("100000/s")  # the fuzzer should find the bugs, not the rate limit
    mock = MockApp(api, api.primary_listener, admin=False)

    async def forward(request: Request, method: str | None = None) -> httpx.Response:
        # The path exactly as received (still percent-encoded), so odd generated ids reach the mock intact.
        target = request.scope["raw_path"].decode("ascii") + (f"?{request.url.query}" if request.url.query else "")
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=mock), base_url="http://plggr") as client:
            return await client.request(method or request.method, target, content=await request.body(),
                                        headers=[(k, v) for k, v in request.headers.items() if k != "host"])

    def relay(answer: httpx.Response, content: bytes | None = None) -> Response:
        headers = {k: v for k, v in answer.headers.items() if k not in ("content-length", "content-encoding")}
        return Response(answer.content if content is None else content, answer.status_code, headers)

    async def list_customers(request: Request) -> Response:
        if request.query_params.get("pageSize") == "100":
            # BUG: the documented maximum page size crashes the handler.
            return PlainTextResponse("Internal Server Error", status_code=500)
        return relay(await forward(request))

    async def get_product(request: Request) -> Response:
        answer = await forward(request)
        if answer.status_code != 200:
            return relay(answer)
        product = answer.json()
        # BUG: `sku` is required by the contract's Product schema but left out of the response.
        product.pop("sku", None)
        return JSONResponse(product, headers=_limit_headers(answer))

    async def delete_order(request: Request) -> Response:
        answer = await forward(request)
        if answer.status_code != 204:
            return relay(answer)
        # BUG: answers 200 with a body; the contract documents only 204 (no content).
        return JSONResponse({"deleted": True}, status_code=200)

    async def delete_customer(request: Request) -> Response:
        answer = await forward(request, method="GET")
        if answer.status_code != 200:
            return relay(answer)
        # BUG: acknowledges the delete without deleting: the customer can still be read afterwards.
        return Response(status_code=204, headers=_limit_headers(answer))

    return Starlette(routes=[
        Route("/companies/{companyId}/customers", list_customers, methods=["GET"]),
        Route("/companies/{companyId}/products/{productId}", get_product, methods=["GET"]),
        Route("/companies/{companyId}/orders/{orderId}", delete_order, methods=["DELETE"]),
        Route("/companies/{companyId}/customers/{customerId}", delete_customer, methods=["DELETE"]),
        Mount("", app=mock),
    ])


def _limit_headers(answer: httpx.Response) -> dict[str, str]:
    return {k: v for k, v in answer.headers.items() if k.lower().startswith(("x-ratelimit", "x-quota"))}
