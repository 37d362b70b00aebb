"""The console of a sandbox whose state lives in Redis (`mocks serve --store redis://...`), in a real browser."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import redis
from browserkit import CHROMIUM, NO_CHROMIUM, chromium
from consolekit import create_webhook, lagerkoll

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason=NO_CHROMIUM)
WAIT_MS = 10_000  # bounded waits for what the page shows


@pytest.fixture
def browser() -> Iterator:
    with chromium() as launched:
        yield launched


def test_the_console_drives_a_redis_backed_sandbox(browser, serve, redis_url: str) -> None:
    namespace = f"test-{uuid.uuid4().hex}"
    served = serve("lagerkoll", "--port", "lagerkoll=0", "--store", redis_url, "--namespace", namespace)
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("console", lambda message: message.type == "error" and not message.text.startswith(
        "Failed to load resource: the server responded") and problems.append(message.text))  # a 4xx is no error
    page.goto(served.urls[("lagerkoll", "api")] + "/__mock/ui/")
    page.locator("article[data-principal=key-store-1002]").wait_for()

    def panel(name: str) -> None:
        page.click(f"#tabs button[data-panel={name}]")
        page.wait_for_selector(f"#{name}:not([hidden])")

    with lagerkoll(served) as client:
        panel("scenarios")
        page.locator("article[data-scenario=lagerkoll-server-error-900101]").wait_for()
        panel("clock")
        page.locator("#clock-state", has_text="running").wait_for()
        panel("limits")
        page.locator("#limits-table tbody tr[data-policy=per-store-credential-minute]").wait_for()

        panel("faults")
        page.select_option("#fault-operation", "listStores")
        page.select_option("#fault-respond", "code:unavailable")
        page.fill("#fault-times", "1")
        page.click("#add-fault")
        page.locator("#faults-table tbody tr").filter(has_text="listStores").wait_for()
        assert client.get("/v1/stores/").status_code == 503
        assert client.get("/v1/stores/").status_code == 200

        panel("journal")
        page.locator("#journal-table tbody tr.struck").filter(has_text="listStores").wait_for()
        create_webhook(client, "http://127.0.0.1:9/kept-in-redis")
        page.locator("#journal-table tbody tr").filter(has_text="createWebhook").wait_for()

        panel("state")
        page.locator("#state-table tbody tr").filter(has_text="kept-in-redis").wait_for()
        page.select_option("#state-tenant", "1002")
        page.locator("#state-page", has_text=" record(s)").wait_for()
        page.locator("#state-table tbody tr").filter(has_text="kept-in-redis").wait_for()

        client.post("/__mock/limits", json={"rate": "1000/min"}).raise_for_status()
        created = [create_webhook(client, f"http://127.0.0.1:9/paged/{n:02d}")["url"] for n in range(25)]
        page.locator("#state-page", has_text="page 1 of 2").wait_for()  # the panel re-reads its page
        first = page.locator("#state-table tbody tr").all_inner_texts()
        page.click("#state-next")
        page.locator("#state-page", has_text="page 2 of 2").wait_for()
        rows = first + page.locator("#state-table tbody tr").all_inner_texts()
        assert [sum(url in row for row in rows) for url in created] == [1] * len(created)

        panel("deliveries")
        panel("snapshot")
        with page.expect_download() as download:
            page.click("#snapshot-take")
        assert "http://127.0.0.1:9/kept-in-redis" in download.value.path().read_text()
    assert redis.Redis.from_url(redis_url).keys("{" + namespace + ":lagerkoll}:*")  # the state is in Redis
    assert page.inner_text("#status") == "connected"
    context.close()
    assert problems == [], "the page reported errors"
