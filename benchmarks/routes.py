"""The two benchmark routes, taken from iStockist: an authenticated GET by id and a validated POST.

Every server in the comparison answers the same two requests: the sandbox through its whole
pipeline, bare Starlette with a dict, WireMock with stub mappings, Prism from the contract.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

from benchmarks.loadgen import Request
from mocks.registry import load_api

NEW_CUSTOMER = {"name": "Bench Roasters Ltd", "email": "orders@bench.example", "phone": "+64 4 555 0100"}

# iStockist's CustomerCreate with its references written out (WireMock's matcher takes one document)
CUSTOMER_CREATE_SCHEMA = {
    "type": "object", "additionalProperties": False, "required": ["name"],
    "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 250},
        "email": {"type": ["string", "null"], "format": "email", "maxLength": 254},
        "phone": {"type": ["string", "null"], "maxLength": 30},
        "store": {"type": ["string", "null"], "format": "uuid"},
        "address": {"type": ["object", "null"]},
        "metadata": {"type": "object", "additionalProperties": {"type": "string"}},
    },
}


@dataclass(frozen=True)
class Routes:
    get: Request
    post: Request
    customer: dict[str, Any]  # what the GET answers (the stubs answer it to both)


def istockist_routes() -> Routes:
    api = load_api("istockist")
    credential = api.fixtures.credentials[0]
    scope = credential.principal.default_scope
    record = next(r for r in api.store.scan("customer") if r["scope"] == scope)
    customer = api.resources["customer"].public(record)
    authorization = {"Authorization": "Basic " + base64.b64encode(str(credential.schemes["BasicAuth"]).encode()).decode()}
    return Routes(
        get=Request("GET", f"/v1/customers/{customer['id']}", authorization),
        post=Request("POST", "/v1/customers", authorization | {"Content-Type": "application/json"},
                     json.dumps(NEW_CUSTOMER)),
        customer=customer,
    )

