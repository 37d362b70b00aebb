"""The console's server side over real HTTP: its files, HAR export, snapshots, the journal stream."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
from consolekit import SERVED_APIS, create_webhook, har_problems, lagerkoll, webhook_urls
from servekit import Served, end, start_serve


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    process = start_serve(*SERVED_APIS)
    yield process
    end(process)


@pytest.fixture
def client(served: Served) -> Iterator[httpx.Client]:
    with lagerkoll(served) as http:
        http.post("/__mock/reset", json={}).raise_for_status()
        yield http


def test_console_files_are_served_with_their_types_and_a_strict_policy(client: httpx.Client) -> None:
    for path, media_type in (("/__mock/ui/", "text/html"), ("/__mock/ui/console.js", "text/javascript"),
                             ("/__mock/ui/console.css", "text/css")):
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.headers["content-type"].startswith(media_type)
        assert response.headers["content-security-policy"].startswith("default-src 'self'")
        assert response.headers["x-content-type-options"] == "nosniff"
    assert "console.js" in client.get("/__mock/ui/").text
    moved = client.get("/__mock/ui")
    assert (moved.status_code, moved.headers["location"]) == (308, "/__mock/ui/")
    for outside in ("/__mock/ui/..%2Fadmin.py", "/__mock/ui/__init__.py", "/__mock/ui/missing.js"):
        assert client.get(outside).status_code == 404, outside


def test_console_facts_link_every_api_of_the_sandbox(served: Served, client: httpx.Client) -> None:
    facts = client.get("/__mock/console").json()
    assert facts["api"] == "lagerkoll"
    assert facts["consoles"] == {"lagerkoll": served.urls[("lagerkoll", "api")] + "/__mock/ui/",
                                 "konducter": served.urls[("konducter", "cloud")] + "/__mock/ui/"}
    assert "createWebhook" in {op["id"] for op in facts["operations"]}
    assert {"code": "900101", "status": 400} in facts["errors"]
    store = next(c for c in facts["credentials"] if c["principal"] == "key-store-1002")
    assert store["headers"] == {"api_key": client.headers["api_key"], "store": "1002"}
    assert (facts["collections"], facts["tenants"]) == (["webhook"], ["1001", "1002", "2001", "2002"])


def test_journal_exports_as_valid_har_with_faults_and_drops(served: Served, client: httpx.Client) -> None:
    client.delete("/__mock/journal")
    create_webhook(client, "http://127.0.0.1:9/ok")
    client.post("/__mock/faults", json={"operation": "createWebhook", "respond": {"code": "900101"}, "times": 1})
    assert client.post("/v1/webhooks/", json={"featureId": "articles", "featureMethod": "updated",
                                              "url": "http://127.0.0.1:9/x"}).status_code == 400
    client.post("/__mock/faults", json={"operation": "listStores", "drop": "before", "times": 1})
    with pytest.raises(httpx.TransportError):
        client.get("/v1/stores/", params={"page": "1"})

    har = client.get("/__mock/journal.har")
    assert har.status_code == 200
    assert har.headers["content-disposition"] == 'attachment; filename="lagerkoll-journal.har"'
    document = har.json()
    assert har_problems(document) == []
    ok, struck, dropped = document["log"]["entries"]
    base = served.urls[("lagerkoll", "api")]
    assert (ok["request"]["method"], ok["request"]["url"], ok["response"]["status"]) == \
        ("POST", f"{base}/v1/webhooks/", 200)
    assert json.loads(ok["request"]["postData"]["text"])["url"] == "http://127.0.0.1:9/ok"
    assert ok["response"]["content"]["mimeType"].startswith("application/json")
    assert struck["response"]["status"] == 400 and struck["_fault"]["respond"] == {"code": "900101"}
    assert dropped["response"]["status"] == 0 and dropped["request"]["queryString"] == [{"name": "page",
                                                                                          "value": "1"}]


def test_snapshot_restores_resources_faults_limits_and_clock(client: httpx.Client) -> None:
    create_webhook(client, "http://127.0.0.1:9/before")
    client.post("/__mock/faults", json={"operation": "listStores", "respond": 503, "times": 3})
    client.get("/v1/stores/")  # the fault fires once: two are left
    client.post("/__mock/clock", json={"freeze": True})
    usage = client.get("/__mock/limits/usage").json()["policies"]
    snapshot = client.get("/__mock/snapshot")
    assert snapshot.headers["content-disposition"].startswith('attachment; filename="lagerkoll-snapshot-')
    taken = snapshot.json()
    assert (taken["format"], taken["version"], taken["api"]) == ("mocks-snapshot", 1, "lagerkoll")

    create_webhook(client, "http://127.0.0.1:9/after")
    client.delete("/__mock/faults")
    client.post("/__mock/limits", json={"rate": "1/min"})
    client.post("/__mock/clock", json={"advance": 86400})

    restored = client.post("/__mock/snapshot", json=taken)
    assert restored.status_code == 200, restored.text
    assert client.get("/__mock/limits/usage").json()["policies"] == usage  # budgets as spent at the snapshot
    assert "http://127.0.0.1:9/before" in webhook_urls(client)
    assert "http://127.0.0.1:9/after" not in webhook_urls(client)
    faults = client.get("/__mock/faults").json()["faults"]
    assert [(f["operation"], f["times"], f["fired"]) for f in faults] == [("listStores", 3, 1)]
    assert client.get("/__mock/limits").json()["policies"][0]["limit"] == 200
    assert client.get("/__mock/clock").json() == {**taken["clock"], "iso": client.get("/__mock/clock").json()["iso"]}
    again = create_webhook(client, "http://127.0.0.1:9/next")  # ids go on from the snapshot's, never reused
    assert again["id"] not in {hook["data"]["id"] for hook in taken["resources"]["webhook"]}


@pytest.mark.parametrize(("change", "message"), [
    ({"api": "konducter"}, "this snapshot is of 'konducter', not lagerkoll"),
    ({"version": 0}, "snapshot format version 0 is not supported"),
    ({"format": "something-else"}, "not a sandbox snapshot"),
    ({"resources": {"webhook": [{"scope": "1001"}]}}, "malformed snapshot: resources/webhook/0"),
    ({"faults": [{"operation": "noSuchOperation", "respond": 500}]}, "no operation 'noSuchOperation'"),
])
def test_foreign_or_broken_snapshots_are_refused_and_change_nothing(client: httpx.Client, change: dict,
                                                                    message: str) -> None:
    taken = client.get("/__mock/snapshot").json()
    create_webhook(client, "http://127.0.0.1:9/kept")
    refused = client.post("/__mock/snapshot", json={**taken, **change})
    assert refused.status_code == 400
    assert message in refused.json()["error"]
    assert "http://127.0.0.1:9/kept" in webhook_urls(client)


def test_serve_starts_from_a_snapshot_file(client: httpx.Client, serve, tmp_path) -> None:
    create_webhook(client, "http://127.0.0.1:9/from-file")
    client.post("/__mock/faults", json={"operation": "listStores", "respond": 503})
    file = tmp_path / "lagerkoll.json"
    file.write_bytes(client.get("/__mock/snapshot").content)

    started = serve("lagerkoll", "--port", "lagerkoll=0", "--snapshot", str(file))
    with lagerkoll(started) as fresh:
        assert "http://127.0.0.1:9/from-file" in webhook_urls(fresh)
        assert fresh.get("/v1/stores/").status_code == 503


def test_serve_refuses_a_snapshot_of_an_api_it_does_not_serve(client: httpx.Client, tmp_path) -> None:
    file = tmp_path / "lagerkoll.json"
    file.write_bytes(client.get("/__mock/snapshot").content)
    process = start_serve("konducter", "--port", "konducter=0", "--port", "konducter.local=0",
                          "--snapshot", str(file), expect_table=False)
    try:
        assert process.process.wait(timeout=30) == 2
    finally:
        end(process)
    assert any("it is a snapshot of lagerkoll, which is not being served" in line for line in process.stderr)


def test_journal_stream_sends_each_new_exchange(client: httpx.Client) -> None:
    since = client.get("/__mock/journal").json()["entries"]
    last = since[-1]["seq"] if since else 0
    with client.stream("GET", "/__mock/journal/stream", params={"since": last},
                       timeout=httpx.Timeout(10, read=5)) as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        client.get("/v1/stores/")
        for line in stream.iter_lines():
            if line.startswith("data: "):
                entry = json.loads(line.removeprefix("data: "))
                break
    assert (entry["operation"], entry["principal"]) == ("listStores", "key-store-1002")
    assert entry["seq"] > last
    assert client.get("/__mock/journal/stream", params={"since": "soon"}).status_code == 400


def test_scenario_check_runs_on_a_copy_and_reports_each_step(client: httpx.Client) -> None:
    report = client.post("/__mock/scenarios/lagerkoll-server-error-900101/check", json={}).json()
    assert report["passed"] is True
    assert [step["step"] for step in report["steps"]] == list(range(1, len(report["steps"]) + 1))
    assert client.get("/__mock/faults").json()["faults"] == []  # the running sandbox was not touched
    assert client.post("/__mock/scenarios/no-such-scenario/check", json={}).status_code == 404
    assert client.post("/__mock/scenarios/konducter-foreign-site/check", json={}).status_code == 400


def test_limit_usage_counts_the_requests_in_the_window(client: httpx.Client) -> None:
    client.post("/__mock/clock", json={"freeze": True})
    for _ in range(3):
        client.get("/v1/stores/")
    (policy,) = client.get("/__mock/limits/usage").json()["policies"]
    assert policy["budgets"] == [{"key": policy["budgets"][0]["key"], "used": 3}]
    client.post("/__mock/clock", json={"advance": policy["window"]})
    (policy,) = client.get("/__mock/limits/usage").json()["policies"]
    assert policy["budgets"] == []


def test_with_an_admin_token_the_page_loads_but_the_admin_api_wants_the_token(serve) -> None:
    started = serve("lagerkoll", "--port", "lagerkoll=0", "--admin-token", "s3cret")
    with httpx.Client(base_url=started.urls[("lagerkoll", "api")], timeout=10) as http:
        assert http.get("/__mock/ui/").status_code == 200
        assert http.get("/__mock/console").status_code == 401
        assert http.get("/__mock/console", headers={"Authorization": "Bearer s3cret"}).status_code == 200
        assert http.get("/__mock/snapshot").status_code == 401


def test_a_snapshot_upload_that_is_not_json_is_refused(client: httpx.Client) -> None:
    refused = client.post("/__mock/snapshot", content=b"{not json", headers={"Content-Type": "application/json"})
    assert refused.status_code == 400
    assert "not acceptable JSON" in refused.json()["error"]
