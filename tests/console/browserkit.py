"""Debian's Chromium driven by Playwright for Python: one headless browser, nothing downloaded.

Playwright's own browsers are never installed (`playwright install` needs the internet); it drives
the system's `/usr/bin/chromium`, which `.ci/run` installs with apt-get when it is missing.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

CHROMIUM = Path(os.environ.get("MOCKS_CHROMIUM", "/usr/bin/chromium"))
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
NO_CHROMIUM = f"no Chromium at {CHROMIUM}: install it with `apt-get install -y chromium` (.ci/run does)"


@contextmanager
def chromium() -> Iterator:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield browser
        finally:
            browser.close()
