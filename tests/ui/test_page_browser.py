"""The demo page in a real browser: Voilà serves notebooks/page/demo_page.ipynb on 127.0.0.1 (a
free port, stopped at the end), Debian's headless chromium driven by Playwright loads it and
clicks every step's button in order, checking what each shows: the storage token, the orders'
signers, a deal id, the watcher's consensus marker, the result image with the digest check. A
screenshot of the whole page goes to .sandbox/screenshots/demo_page.png.

Playwright's own browser download cannot work offline: the test uses /usr/bin/chromium (Debian's
chromium package, ``make sysdeps``) and is skipped, saying why, without it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from iexec_kit.ui.page_driver import CHROMIUM, LOAD_MS, click_through, launch, wait_progress
from iexec_kit.ui.voila_server import MAKE_PAGE_PREHEAT

REPO = Path(__file__).resolve().parents[2]
SHOTS = REPO / ".sandbox" / "screenshots"

pytestmark = pytest.mark.slow


@pytest.fixture
def voila():
    if not CHROMIUM.exists():
        reason = (
            f"{CHROMIUM} is absent: install Debian's chromium "
            "(apt-get install chromium, or make sysdeps)"
        )
        print("SKIPPED:", reason)
        pytest.skip(reason)
    pytest.importorskip(
        "playwright.sync_api",
        reason="Playwright for Python is not installed (pip install -e .[dev])",
    )
    pytest.importorskip("voila", reason="Voilà is not installed (pip install -e .[dev])")
    from iexec_kit.ui.voila_server import VoilaServer

    server = VoilaServer(preheat=MAKE_PAGE_PREHEAT).start()  # as make page serves it
    try:
        yield server
    finally:
        server.stop()
        print(f"voila log: {server.log}")


def test_demo_page_clicked_through_in_chromium(voila):
    from playwright.sync_api import sync_playwright

    (SHOTS / "demo_page_failure.png").unlink(missing_ok=True)
    with sync_playwright() as pw:
        browser = launch(pw)
        page = browser.new_page(viewport={"width": 1300, "height": 1000})
        try:
            times = click_through(page, voila.url, shot=SHOTS / "demo_page.png")
            print(
                f"page ready in {times['load']:.1f} s, clicked through in "
                f"{times['click_through']:.1f} s; deal {times['dealid']}; "
                f"screenshot: {SHOTS / 'demo_page.png'}"
            )
            # Start again: a fresh sandbox, the progress back at 0
            page.locator("button.iexec-page-restart").click()
            wait_progress(page, "0/6 done", LOAD_MS)
            assert page.locator(".iexec-page-buy .iexec-deal-id").count() == 0
        except Exception:
            page.screenshot(path=str(SHOTS / "demo_page_failure.png"), full_page=True)
            print(f"failure screenshot: {SHOTS / 'demo_page_failure.png'}\n{voila.tail()}")
            raise
        finally:
            browser.close()
