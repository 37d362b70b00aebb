"""The console in a real browser: a person clicking through it while a client sends requests."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from browserkit import CHROMIUM, NO_CHROMIUM, chromium
from consolekit import SERVED_APIS, create_webhook, har_problems, lagerkoll, webhook_urls
from servekit import Served, end, start_serve

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason=NO_CHROMIUM)
WAIT_MS = 10_000  # bounded waits for what the page shows


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    process = start_serve(*SERVED_APIS)
    yield process
    end(process)


@pytest.fixture(scope="module")
def browser() -> Iterator:
    with chromium() as launched:
        yield launched


@pytest.fixture
def client(served: Served) -> Iterator[httpx.Client]:
    with lagerkoll(served) as http:
        http.post("/__mock/reset", json={}).raise_for_status()
        yield http


@pytest.fixture
def page(browser, served: Served, client: httpx.Client) -> Iterator:
    context = browser.new_context(accept_downloads=True, viewport={"width": 1280, "height": 860})
    opened = context.new_page()
    opened.set_default_timeout(WAIT_MS)
    problems: list[str] = []
    opened.on("pageerror", lambda error: problems.append(str(error)))
    opened.on("console", lambda message: message.type == "error" and not message.text.startswith(
        "Failed to load resource: the server responded") and problems.append(message.text))  # a 4xx is no error
    opened.goto(served.urls[("lagerkoll", "api")] + "/__mock/ui/")
    opened.wait_for_selector("#credentials article")
    yield opened
    context.close()
    assert problems == [], "the page reported errors (a CSP violation shows here too)"


def panel(page, name: str) -> None:
    page.click(f"#tabs button[data-panel={name}]")
    page.wait_for_selector(f"#{name}:not([hidden])")


def test_overview_shows_credentials_curl_and_links_to_the_other_apis(page, served: Served) -> None:
    card = page.locator("article[data-principal=key-store-1002]")
    pairs, _ = served.credential("lagerkoll", "key-store-1002")
    assert pairs["ApiKey"] in card.inner_text()
    curl = card.locator("pre.curl").inner_text()
    assert curl.startswith(f"curl -i '{served.urls[('lagerkoll', 'api')]}/")
    assert f"-H 'api_key: {pairs['ApiKey']}'" in curl
    assert page.get_attribute("#peers a", "href") == served.urls[("konducter", "cloud")] + "/__mock/ui/"


def test_loading_a_scenario_lists_its_faults_and_its_check_passes(page, client: httpx.Client) -> None:
    panel(page, "scenarios")
    card = page.locator("article[data-scenario=lagerkoll-server-error-900101]")
    card.locator("button[data-action=load]").click()
    card.locator(".scenario-faults li").filter(has_text="createWebhook").wait_for()
    assert [f["operation"] for f in client.get("/__mock/faults").json()["faults"]] == ["createWebhook"]
    panel(page, "faults")
    page.locator("#faults-table tbody tr").filter(has_text="createWebhook").wait_for()

    panel(page, "scenarios")
    card.locator("button[data-action=check]").click()
    card.locator("p.pass", has_text="Every step passed").wait_for()
    assert card.locator("ol.steps li.pass").count() >= 3


def test_a_request_appears_in_the_live_journal_with_its_details(page, client: httpx.Client) -> None:
    panel(page, "journal")
    create_webhook(client, "http://127.0.0.1:9/seen-in-the-journal")
    row = page.locator("#journal-table tbody tr").filter(has_text="createWebhook")
    row.wait_for()
    assert "key-store-1002" in row.inner_text() and "200" in row.inner_text()
    row.click()
    assert "seen-in-the-journal" in page.inner_text("#detail-request-body")
    assert page.inner_text("#detail-curl").startswith("curl -i -X POST 'http://")
    assert "--data-raw" in page.inner_text("#detail-curl")

    page.select_option("#filter-operation", "listStores")
    assert page.locator("#journal-table tbody tr").count() == 0


def test_a_fault_added_in_the_form_strikes_the_next_request(page, client: httpx.Client) -> None:
    panel(page, "faults")
    page.select_option("#fault-operation", "listStores")
    page.select_option("#fault-respond", "code:unavailable")
    page.fill("#fault-times", "1")
    page.click("#add-fault")
    page.locator("#faults-table tbody tr").filter(has_text="listStores").wait_for()
    assert page.locator("#faults-table td.left").inner_text() == "1"

    assert client.get("/v1/stores/").status_code == 503
    assert client.get("/v1/stores/").status_code == 200
    panel(page, "journal")
    struck = page.locator("#journal-table tbody tr.struck").filter(has_text="listStores")
    struck.wait_for()
    assert "503" in struck.inner_text()


def test_the_clock_advances_by_a_day(page, client: httpx.Client) -> None:
    panel(page, "clock")
    page.click("#clock-freeze")
    page.locator("#clock-state", has_text="frozen").wait_for()
    before = client.get("/__mock/clock").json()
    page.click("button[data-advance='86400']")
    a_day_later_ms = round(datetime.fromisoformat(before["iso"]).timestamp() * 1000) + 86_400_000
    page.wait_for_function("(wanted) => Date.parse(document.querySelector('#clock-now').textContent) === wanted",
                           arg=a_day_later_ms)
    assert client.get("/__mock/clock").json()["now"] == pytest.approx(before["now"] + 86400)
    page.click("#clock-reset")
    page.locator("#clock-state", has_text="running").wait_for()


def test_the_exported_har_is_valid_har_12(page, client: httpx.Client) -> None:
    create_webhook(client, "http://127.0.0.1:9/har")
    panel(page, "journal")
    page.locator("#journal-table tbody tr").filter(has_text="createWebhook").wait_for()
    with page.expect_download() as download:
        page.click("#export-har")
    assert download.value.suggested_filename == "lagerkoll-journal.har"
    document = json.loads(download.value.path().read_text())
    assert har_problems(document) == []
    assert [e["_operation"] for e in document["log"]["entries"]] == ["createWebhook"]


def test_a_restored_snapshot_brings_the_old_state_back(page, client: httpx.Client) -> None:
    create_webhook(client, "http://127.0.0.1:9/in-the-snapshot")
    panel(page, "snapshot")
    with page.expect_download() as download:
        page.click("#snapshot-take")
    snapshot = download.value.path()
    assert json.loads(snapshot.read_text())["api"] == "lagerkoll"

    create_webhook(client, "http://127.0.0.1:9/after-the-snapshot")
    page.set_input_files("#snapshot-file", str(snapshot))
    page.click("#snapshot-restore")
    page.locator("#snapshot-result", has_text="Restored").wait_for()
    assert "http://127.0.0.1:9/in-the-snapshot" in webhook_urls(client)
    assert "http://127.0.0.1:9/after-the-snapshot" not in webhook_urls(client)

    panel(page, "state")
    page.locator("#state-table tbody tr").filter(has_text="in-the-snapshot").wait_for()
    assert page.locator("#state-table tbody tr").filter(has_text="after-the-snapshot").count() == 0


def test_limits_show_usage_and_change_and_switch_off(page, client: httpx.Client) -> None:
    client.get("/v1/stores/")
    panel(page, "limits")
    row = page.locator("#limits-table tbody tr[data-policy=per-store-credential-minute]")
    row.locator(".usage", has_text="1002|key-store-1002: ").wait_for()
    row.locator("input.rate").fill("2/min")
    row.locator("button[type=submit]").click()
    row.locator(".rate-now", has_text="2 per 60s").wait_for()
    row.locator("input[type=checkbox]").uncheck()
    page.wait_for_function("() => !document.querySelector('#limits-table input[type=checkbox]').checked")
    assert client.get("/__mock/limits").json()["policies"][0]["enabled"] is False


def test_the_page_asks_for_the_admin_token_once(browser, serve) -> None:
    started = serve("lagerkoll", "--port", "lagerkoll=0", "--admin-token", "s3cret")
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    page.goto(started.urls[("lagerkoll", "api")] + "/__mock/ui/")
    page.fill("#token-input", "s3cret")
    page.click("#token-form button")
    page.locator("#credentials article").first.wait_for()
    page.reload()
    page.locator("#credentials article").first.wait_for()  # kept for the tab: not asked again
    assert not page.is_visible("#token-dialog")
    context.close()


def test_deliveries_show_each_attempt_and_the_next_one(page, client: httpx.Client) -> None:
    hook = create_webhook(client, "http://127.0.0.1:9/nobody-listens")  # loopback, closed: every attempt fails
    assert client.post(f"/v1/webhooks/{hook['guid']}", json={"order": 1}).status_code == 202
    panel(page, "deliveries")
    card = page.locator("#delivery-list article").filter(has_text="127.0.0.1:9/nobody-listens")
    card.locator("ol.timeline li.fail").first.wait_for()
    assert "#1 " in card.locator("ol.timeline li.fail").first.inner_text()
    assert card.locator(".badge").inner_text() == "pending"
    assert card.locator("ol.timeline li.next").inner_text().startswith("next ")


def test_a_fault_the_sandbox_refuses_is_explained_on_the_form(page, client: httpx.Client) -> None:
    panel(page, "faults")
    page.select_option("#fault-respond", "")  # no response, no drop, no latency: a fault that does nothing
    page.click("#add-fault")
    page.locator("#fault-result.error", has_text="a fault needs at least one of respond").wait_for()
    assert client.get("/__mock/faults").json()["faults"] == []


def test_the_state_panel_pages_on_the_server_and_shows_every_record_once(page, client: httpx.Client) -> None:
    client.post("/__mock/limits", json={"rate": "1000/min"}).raise_for_status()  # 45 writes in a row
    created = [create_webhook(client, f"http://127.0.0.1:9/paged/{n:02d}")["url"] for n in range(45)]
    total = client.get("/__mock/state", params={"collection": "webhook", "limit": 1}).json()["total"]
    assert total == 45 + 5  # the five seeded webhooks too: three pages of 20
    asked: list[dict[str, list[str]]] = []
    page.on("request", lambda request: urlsplit(request.url).path == "/__mock/state"
            and asked.append(parse_qs(urlsplit(request.url).query)))

    panel(page, "state")
    pages: list[list[str]] = []
    for number in (1, 2, 3):
        page.locator("#state-page", has_text=f"page {number} of 3 · {total} record(s)").wait_for()
        pages.append(page.locator("#state-table tbody tr").all_inner_texts())
        if number < 3:
            page.click("#state-next")
    assert page.is_disabled("#state-next")
    assert [len(rows) for rows in pages] == [20, 20, 10]
    rows = [row for rows in pages for row in rows]
    assert [sum(url in row for row in rows) for url in created] == [1] * len(created)
    assert len(set(rows)) == total

    page.click("#state-previous")
    page.locator("#state-page", has_text="page 2 of 3").wait_for()
    assert page.locator("#state-table tbody tr").all_inner_texts() == pages[1]

    assert asked and all(query["collection"] == ["webhook"] and query["limit"] == ["20"] for query in asked)
    assert len({query["cursor"][0] for query in asked if "cursor" in query}) == 2  # pages 2 and 3

    page.select_option("#state-tenant", "1002")
    in_1002 = client.get("/__mock/state", params={"collection": "webhook", "scope": "1002"}).json()["total"]
    page.locator("#state-page", has_text=f"page 1 of 3 · {in_1002} record(s)").wait_for()
    assert asked[-1]["scope"] == ["1002"] and "cursor" not in asked[-1]  # a new filter starts at page 1
    assert all("1002" in row for row in page.locator("#state-table tbody tr").all_inner_texts())
