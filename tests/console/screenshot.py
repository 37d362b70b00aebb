"""Take the README's screenshot of the console: `python tests/console/screenshot.py docs/console.png`.

Starts a sandbox, sends a few requests (one struck by a scenario's fault) and photographs the live
journal with one exchange opened, in the same headless Chromium the browser tests use.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path[:0] = [str(Path(__file__).parent), str(Path(__file__).parents[1])]

from browserkit import chromium
from consolekit import SERVED_APIS, create_webhook, lagerkoll
from servekit import end, start_serve


def main(target: str) -> None:
    served = start_serve(*SERVED_APIS)
    try:
        with lagerkoll(served) as client, chromium() as browser:
            page = browser.new_page(viewport={"width": 1280, "height": 720})
            page.goto(served.urls[("lagerkoll", "api")] + "/__mock/ui/#journal")
            page.wait_for_selector("#journal:not([hidden])")
            client.post("/__mock/scenarios/lagerkoll-server-error-900101", json={})
            for url in ("http://127.0.0.1:9/orders", "http://127.0.0.1:9/orders", "http://127.0.0.1:9/orders"):
                client.post("/v1/webhooks/", json={"featureId": "customerorders", "featureMethod": "created",
                                                   "url": url})
            create_webhook(client, "http://127.0.0.1:9/articles")
            client.get("/v1/stores/")
            client.get("/v1/webhooks/customerorders")
            page.locator("#journal-table tbody tr.struck").first.click()
            page.wait_for_selector("#journal-detail:not([hidden])")
            page.screenshot(path=target)
    finally:
        end(served)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "docs/console.png")
