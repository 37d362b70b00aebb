"""Non-ASCII and undecodable credentials are each API's own 401, never a 500 (issue 9, item 7)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from servekit import ALL_PORTS_FREE, Served, end, start_serve

DOC_SITE = "00000000-0000-0000-0000-000000000000"
# (api, listener, method, path, credential headers besides the hostile one)
PROTECTED = [
    ("istockist", "api", "GET", "/v1/products", {}),
    ("konducter", "cloud", "GET", f"/sites/{DOC_SITE}/orders", {"AccessSecret": "12345"}),
    ("lagerkoll", "api", "GET", "/v1/webhooks/articles", {"store": "1001"}),
    ("pingnetwork", "api", "GET", "/customer/v1/zones", {}),
    ("plggr", "api", "GET", "/companies", {}),
]
HOSTILE = {
    "basic-ff": {"Authorization": b"Basic \xff"},
    "basic-not-base64": {"Authorization": b"Basic !!!not-base64!!!"},
    "basic-not-utf8": {"Authorization": b"Basic /w=="},  # base64 of the byte 0xff
    "bearer-non-ascii": {"Authorization": "Bearer j\u00e4rn".encode()},
    "bearer-latin1": {"Authorization": b"Bearer \xe9t\xe9"},
    "raw-non-ascii": {"Authorization": b"\xff\xfe\xfd"},
    "api-keys-non-ascii": {"AccessKey": b"\xff", "api_key": "\u00fc\u00f1\u00ee".encode(), "user_id": b"\xc3"},
}


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Served]:
    served = start_serve(*ALL_PORTS_FREE)
    yield served
    end(served)


@pytest.mark.parametrize("hostile", HOSTILE.values(), ids=HOSTILE.keys())
@pytest.mark.parametrize(("api", "listener", "method", "path", "others"), PROTECTED, ids=[p[0] for p in PROTECTED])
def test_a_hostile_credential_is_the_apis_own_401(sandbox, api, listener, method, path, others, hostile):
    with sandbox.client(api, listener) as client:
        response = client.request(method, path, headers={**others, **hostile})
    assert response.status_code == 401, response.text
    assert "mock defect" not in response.text


def test_a_hostile_basic_header_on_plggrs_token_endpoint_is_its_401(sandbox):
    with sandbox.client("plggr") as client:
        response = client.post("/oauth/token", headers={"Authorization": b"Basic \xff"},
                               data={"grant_type": "client_credentials"})
    assert response.status_code in (400, 401), response.text
    assert "mock defect" not in response.text
