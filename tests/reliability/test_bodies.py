"""Bodies over the cap are refused while they arrive, not after; the journal keeps a bounded prefix of
every body with its full size (issue 9, item 10)."""

from __future__ import annotations

import copy
import json

import pytest
from rawsocket import connect, read_reply, request_bytes
from reliabilitykit import admin, headers_for, serving

TWENTY_MB = 20_000_000
CAP = 1 << 20
PREFIX = 64 * 1024


@pytest.fixture(scope="module")
def served():
    yield from serving()


@pytest.fixture
def journal(served):
    with admin(served, "istockist") as http:
        http.delete("/journal")
        yield lambda: http.get("/journal").json()["entries"]


def test_large_bodies_are_answered_before_they_are_sent(served, journal):
    """Five 20 MB POSTs: each gets the API's 400 (iStockist declares no 413) after its first 64 KiB."""
    url = served.urls[("istockist", "api")]
    headers = {**headers_for(served, "istockist"), "Content-Type": "application/json"}
    for _ in range(5):
        with connect(url) as sock:
            sock.sendall(request_bytes("POST", "/no/such", headers, b"x" * PREFIX, content_length=TWENTY_MB))
            reply = read_reply(sock, timeout=10)  # the other 19.9 MB are never sent
        assert reply.status == 400 and reply.headers["connection"] == "close"
        error = reply.json()["error"]
        assert error["type"] == "invalid_request_error" and f"larger than the {CAP}-byte cap" in error["message"]
    entries = journal()
    assert [e["request_body_bytes"] for e in entries] == [TWENTY_MB] * 5
    assert all(len(e["request_body"]) <= PREFIX + 1 for e in entries)


def test_a_chunked_body_is_cut_off_at_the_cap(served, journal):
    """No Content-Length to judge by: reading stops once the cap is passed, before the body ends."""
    url = served.urls[("istockist", "api")]
    headers = {**headers_for(served, "istockist"), "Content-Type": "application/json",
               "Transfer-Encoding": "chunked"}
    chunk = b"%x\r\n" % PREFIX + b"y" * PREFIX + b"\r\n"
    with connect(url) as sock:
        sock.sendall(request_bytes("POST", "/v1/products", headers))
        for _ in range(CAP // PREFIX + 2):  # a little over the cap, and no final zero-length chunk
            sock.sendall(chunk)
        reply = read_reply(sock, timeout=10)
    assert reply.status == 400 and "cap" in reply.json()["error"]["message"]
    (entry,) = journal()
    assert entry["request_body_bytes"] > CAP and entry["request_body"].endswith("…")


def test_the_journal_keeps_a_prefix_of_a_body_under_the_cap_and_its_size(served, journal):
    with served.client("istockist", checked=False) as client:
        body = b'{"pad": "' + b"z" * 300_000 + b'"}'
        response = client.post("/no/such", headers=headers_for(served, "istockist"), content=body)
        assert response.status_code == 404
    (entry,) = journal()
    assert entry["request_body_bytes"] == len(body)
    assert entry["request_body"] == body[:PREFIX].decode() + "…"


def test_the_admin_api_takes_a_snapshot_over_the_contract_cap_and_refuses_one_over_its_own(served):
    """A large sandbox's snapshot is one admin body: the admin cap is 64 MiB, the contract cap 1 MiB."""
    with admin(served, "istockist") as http:
        snapshot = http.get("/snapshot").json()
        padded = {**snapshot, "padding": "p" * (2 * CAP)}  # unknown top-level keys are ignored by restore
        restored = http.post("/snapshot", json=padded)
        assert restored.status_code == 200, restored.text
    url = served.urls[("istockist", "api")]
    with connect(url) as sock:
        sock.sendall(request_bytes("POST", "/__mock/snapshot", {"Content-Type": "application/json"}, b"{",
                                   content_length=65 << 20))
        reply = read_reply(sock, timeout=10)
    assert reply.status == 413 and f"larger than the {64 << 20}-byte cap" in reply.json()["error"]


def test_an_integer_beyond_64_bits_in_an_admin_body_keeps_every_digit(served):
    """Admin bodies are read as the standard library reads them: a restored snapshot lists a 22-digit
    group id as it was sent, not rounded to a float (orjson, the fast reader, would round it)."""
    big = 2**70 + 1
    with admin(served, "lagerkoll") as http:
        original = http.get("/snapshot").json()
        changed = copy.deepcopy(original)
        changed["resources"]["webhook"][0]["data"]["storeGroupId"] = big
        try:
            assert http.post("/snapshot", content=json.dumps(changed).encode()).status_code == 200
            listed = http.get("/snapshot")
            assert f'"storeGroupId":{big},' in listed.text
            assert listed.json()["resources"]["webhook"][0]["data"]["storeGroupId"] == big
        finally:
            assert http.post("/snapshot", json=original).status_code == 200
