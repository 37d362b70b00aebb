"""`mocks serve` end to end: a real process, its printed table, real sockets, and SIGTERM.

Every listener is given port 0 (`--port API=0`, `--port API.LISTENER=0`), so the sandbox binds free
ports and the printed table names the real ones; the tests read the table like a person would.
"""

from __future__ import annotations

import base64
import queue
import signal
import time
from collections.abc import Iterator

import httpx
import pytest
from servekit import ALL_PORTS_FREE, CREDENTIAL_LINE, DOC_SITE, Served, end, start_serve


@pytest.fixture(scope="module")
def with_options() -> Iterator[Served]:
    """One process for the option tests: two of the five APIs, a scenario, a limit and no admin API."""
    served = start_serve("konducter", "lagerkoll", "--port", "konducter=0", "--port", "konducter.local=0",
                         "--port", "lagerkoll=0", "--scenario", "konducter-cloud-5xx-burst",
                         "--limit", "lagerkoll=2/min", "--no-admin")
    yield served
    end(served)


def stop(served: Served) -> tuple[int, float]:
    started = time.monotonic()
    served.process.send_signal(signal.SIGTERM)
    code = served.process.wait(timeout=15)
    return code, time.monotonic() - started


# ------------------------------------------------------------------------------- all five

def test_serve_all_five_apis_on_real_sockets_and_stop_on_sigterm(serve):
    served = serve(*ALL_PORTS_FREE)
    assert set(served.urls) == {("konducter", "cloud"), ("konducter", "local"), ("lagerkoll", "api"),
                                ("istockist", "api"), ("pingnetwork", "api"), ("plggr", "api")}
    ports = [int(url.rsplit(":", 1)[1]) for url in served.urls.values()]
    assert len(set(ports)) == 6 and 0 not in ports

    keys, scopes = served.credential("konducter", "documentation-public")
    konducter = {"AccessKey": keys["AccessKey"], "AccessSecret": keys["AccessSecret"]}
    assert scopes[0] == DOC_SITE
    with served.client("konducter", "cloud") as cloud, served.client("konducter", "local") as local:
        orders = cloud.get(f"/sites/{scopes[0]}/orders", headers=konducter)
        assert orders.status_code == 200 and orders.json()["total"] == 3
        assert orders.headers["x-ratelimit-limit-second"] == "10"
        created = local.post("/orders", headers=konducter, json={
            "externalId": "E2E-1", "channel": "kiosk", "items": [{"name": "Fries", "quantity": 1}]})
        assert created.status_code == 201
        assert cloud.get(f"/sites/{DOC_SITE}/orders/{created.json()['id']}", headers=konducter).status_code == 200

    keys, scopes = served.credential("lagerkoll", "key-store-1001")
    with served.client("lagerkoll") as lagerkoll:
        stores = lagerkoll.get("/v1/stores/", headers={"api_key": keys["ApiKey"], "store": scopes[0]})
        assert stores.status_code == 200 and stores.json()["stores"][0]["storeId"] == 1001

    keys, _ = served.credential("istockist", "kauri-roasters")
    basic = "Basic " + base64.b64encode(keys["BasicAuth"].encode()).decode()
    with served.client("istockist") as istockist:
        products = istockist.get("/v1/products", headers={"Authorization": basic})
        assert products.status_code == 200 and products.json()["object"] == "list" and products.json()["data"]

    keys, _ = served.credential("pingnetwork", "acme-primary")
    with served.client("pingnetwork") as ping:
        zones = ping.get("/customer/v2/zones", headers={"Authorization": keys["ApiKeyAuth"]})
        assert zones.status_code == 200 and "x-ratelimit-remaining" in zones.headers

    keys, scopes = served.credential("plggr", "acme-integration")
    with served.client("plggr") as plggr:
        companies = plggr.get("/companies", headers={"Authorization": f"Bearer {keys['PlggrOAuth']}"})
        assert companies.status_code == 200
        assert {c["id"] for c in companies.json()["data"]} == set(scopes)

    for api, link in served.admin_links.items():
        info = httpx.get(link, timeout=10)
        assert info.status_code == 200, link
        assert info.json()["api"] == api
        primary = next(url for (name, _), url in served.urls.items() if name == api)
        assert primary in info.json()["base_urls"].values()
    assert set(served.admin_links) == {"konducter", "lagerkoll", "istockist", "pingnetwork", "plggr"}

    code, seconds = stop(served)
    assert code == 0, served.stderr
    assert seconds < 5
    with pytest.raises(httpx.ConnectError):
        httpx.get(served.urls[("lagerkoll", "api")] + "/v1/stores/", timeout=2)


# ------------------------------------------------------------------------------- options

def test_serve_only_the_named_apis(with_options):
    assert set(with_options.urls) == {("konducter", "cloud"), ("konducter", "local"), ("lagerkoll", "api")}
    assert {m[1] for m in map(CREDENTIAL_LINE.match, with_options.lines) if m} == {"konducter", "lagerkoll"}


def test_serve_with_a_scenario_loads_it(with_options):
    headers = {"AccessKey": "12345", "AccessSecret": "12345"}
    with with_options.client("konducter", "cloud") as cloud, with_options.client("konducter", "local") as local:
        for _ in range(3):
            failed = cloud.get(f"/sites/{DOC_SITE}/orders", headers=headers)
            assert failed.status_code == 503 and failed.content == b""
        assert local.get("/orders", headers=headers).status_code == 200   # the local view still works
        assert cloud.get(f"/sites/{DOC_SITE}/orders", headers=headers).status_code == 200


def test_serve_with_a_limit_makes_the_third_call_429(with_options):
    keys, scopes = with_options.credential("lagerkoll", "key-store-2001")
    headers = {"api_key": keys["ApiKey"], "store": scopes[0]}
    with with_options.client("lagerkoll") as lagerkoll:
        assert [lagerkoll.get("/v1/stores/", headers=headers).status_code for _ in range(2)] == [200, 200]
        third = lagerkoll.get("/v1/stores/", headers=headers)
        assert third.status_code == 429
        assert third.json()["errorCode"] == 900429 and int(third.headers["retry-after"]) >= 1


def test_serve_without_admin_answers_404_under_the_admin_prefix(with_options):
    assert with_options.admin_links == {}
    keys, scopes = with_options.credential("lagerkoll", "key-store-1001")
    with with_options.client("lagerkoll", checked=False) as lagerkoll:
        for path in ("/__mock/info", "/__mock/state", "/__mock/journal"):
            hidden = lagerkoll.get(path)
            assert hidden.status_code == 404 and hidden.json()["errorCode"] == 902101
        assert lagerkoll.post("/__mock/reset").status_code in (404, 405)
        assert lagerkoll.get("/v1/stores/", headers={"api_key": keys["ApiKey"], "store": scopes[0]}).status_code == 200
    with with_options.client("konducter", "cloud", checked=False) as cloud:
        hidden = cloud.get("/__mock/info")
        assert hidden.status_code == 404 and hidden.content == b""


def test_serve_with_options_still_stops_cleanly_on_sigterm(with_options):
    code, seconds = stop(with_options)
    assert code == 0 and seconds < 5, with_options.stderr


# ------------------------------------------------------------------------------- bad input

def run_until_exit_or_serving(serve, *args: str, timeout: float = 20.0) -> tuple[int | None, str]:
    """Exit code and stderr; (None, ...) when the process went on to serve instead of exiting."""
    served = serve(*args, expect_table=False)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if served.process.poll() is not None:
            time.sleep(0.05)  # let the reader thread take the rest of stderr
            return served.process.returncode, "\n".join(served.stderr)
        try:
            line = served.output.get(timeout=0.05)
        except queue.Empty:
            continue
        if line and line.startswith("Serving"):
            return None, "went on to serve"
    return None, f"neither exited nor served within {timeout}s"


@pytest.mark.parametrize("option, value, message", [
    ("--port", "konducter=abc", "--port konducter: 'abc' is not a port number"),
    ("--port", "konducter", "--port takes NAME=VALUE, got 'konducter'"),
    ("--port", "konducter=-1", "is not a port number"),
    ("--concurrency-lease", "0", "--concurrency-lease: '0' must be above 0 and at most 3600"),
    ("--concurrency-lease", "3601", "--concurrency-lease: '3601' must be above 0 and at most 3600"),
    ("--concurrency-lease", "nan", "--concurrency-lease: 'nan' must be above 0 and at most 3600"),
    ("--concurrency-lease", "soon", "--concurrency-lease: 'soon' is not a number"),
])
def test_a_bad_option_value_exits_2_with_a_clear_message(serve, option, value, message):
    code, stderr = run_until_exit_or_serving(serve, "konducter", option, value)
    assert code == 2
    assert message in stderr and "error:" in stderr.splitlines()[-1]
    assert "Traceback" not in stderr


def test_a_port_out_of_range_exits_2_with_a_clear_message(serve):
    code, stderr = run_until_exit_or_serving(serve, "konducter", "--port", "konducter=99999")
    assert code == 2 and "Traceback" not in stderr and "99999" in stderr


@pytest.mark.parametrize("value", ["konducer=0", "konducter.locl=0"])
def test_a_port_for_an_unknown_api_or_listener_exits_2(serve, value):
    code, stderr = run_until_exit_or_serving(serve, "konducter", "--port", "konducter=0",
                                             "--port", "konducter.local=0", "--port", value, timeout=8)
    assert code == 2 and value.split("=")[0] in stderr

