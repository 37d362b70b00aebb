"""mocks/app.py: the ASGI adapter hands the pipeline the request the client sent.

Only the path handling is tested here, with a tiny inline API served in-process.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from mocks.app import MockApp
from mocks.clock import Clock
from mocks.contract import Contract
from mocks.engine import Api
from mocks.errors import ENGINE_CODES
from mocks.fixtures import Fixtures
from mocks.inprocess import in_process_client
from mocks.state.memory import MemoryStore

STATUSES = dict(zip(ENGINE_CODES, [401, 403, 404, 400, 405, 415, 406, 409, 429, 500, 503], strict=True))


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    document = {
        "x-mock-api": {"name": "unit"},
        "x-mock-errors": {"media-types": ["application/json"], "templates": {"default": {"error": "{name}"}},
                          "codes": {code: {"status": status} for code, status in STATUSES.items()}},
        "paths": {"/files/{name}": {"get": {
            "operationId": "getFile",
            "parameters": [{"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}],
            "x-mock-action": {"kind": "static", "response": {"name": "{path.name}"}},
            "responses": {"200": {"description": "ok",
                                  "content": {"application/json": {"schema": {"type": "object"}}}}},
        }}},
    }
    api = Api(Contract(document), Fixtures(), MemoryStore(), Clock())
    with in_process_client(MockApp(api, api.primary_listener)) as http:
        yield http


@pytest.mark.parametrize(("sent", "name"), [("report", "report"), ("a%20b", "a b"), ("%C3%A9t%C3%A9", "été")])
def test_path_params_are_decoded_once(client, sent, name):
    response = client.get(f"/files/{sent}")
    assert response.status_code == 200
    assert response.json() == {"name": name}


@pytest.mark.parametrize(("sent", "name"), [("a%2Fb", "a/b"), ("100%2541", "100%41")], ids=["slash", "percent"])
def test_encoded_slash_and_percent_survive_in_a_param(client, sent, name):
    response = client.get(f"/files/{sent}")
    assert response.status_code == 200
    assert response.json() == {"name": name}
