"""What the console tests share: the sandbox they drive, its credentials, and the HAR 1.2 schema."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import jsonschema_rs
from servekit import Served

HAR_SCHEMA = jsonschema_rs.Draft202012Validator(
    json.loads((Path(__file__).with_name("har-1.2.schema.json")).read_text()), validate_formats=True)
SERVED_APIS = ("lagerkoll", "konducter", "--port", "lagerkoll=0", "--port", "konducter=0",
               "--port", "konducter.local=0")
STORE_1002 = "key-store-1002"


def har_problems(document: Any) -> list[str]:
    return [f"{'/'.join(map(str, e.instance_path))}: {e.message}" for e in HAR_SCHEMA.iter_errors(document)]


def lagerkoll(served: Served) -> httpx.Client:
    """A client of the Lagerkoll port that authenticates as store 1002 (its printed credentials)."""
    pairs, scopes = served.credential("lagerkoll", STORE_1002)
    client = served.client("lagerkoll", checked=False)
    client.headers.update({"api_key": pairs["ApiKey"], "store": scopes[0]})
    return client


def create_webhook(client: httpx.Client, url: str) -> dict[str, Any]:
    response = client.post("/v1/webhooks/", json={"featureId": "customerorders", "featureMethod": "created",
                                                  "url": url})
    assert response.status_code == 200, response.text
    return response.json()


def webhook_urls(client: httpx.Client) -> set[str]:
    response = client.get("/v1/webhooks/customerorders")
    assert response.status_code == 200, response.text
    return {hook["url"] for hook in response.json()["webhooks"]}
