"""The demo page in a real browser: Voilà serves notebooks/page/demo_page.ipynb on 127.0.0.1 (a
free port, stopped at the end), Debian's headless chromium driven by Playwright loads it and
clicks every step's button in order, checking what each shows: the storage token, the orders'
signers, a deal id, the watcher's consensus marker, the result image with the digest check. A
screenshot of the whole page goes to .sandbox/screenshots/demo_page.png.

Playwright's own browser download cannot work offline: the test uses /usr/bin/chromium (Debian's
chromium package, ``make sysdeps``) and is skipped, saying why, without it.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("IEXEC_KIT_CHROMIUM", "/usr/bin/chromium"))
SHOTS = REPO / ".sandbox" / "screenshots"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
LOAD_MS = 120_000  # a kernel's start, the kit's imports and a sandbox (about 10 s here)
RUN_MS = 180_000  # Step 3: three workers run the app and reach a consensus

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

    server = VoilaServer().start()
    try:
        yield server
    finally:
        server.stop()
        print(f"voila log: {server.log}")


def wait_progress(page, text: str, timeout: float = 30_000) -> None:
    """Wait for the progress line to say ``text`` (the kernel's updates arrive in turn)."""
    page.wait_for_function(
        "t => document.querySelector('.iexec-page-progress-line')?.textContent.includes(t)",
        arg=text,
        timeout=timeout,
    )


def click_through(page, url: str, *, shot: Path | None = None) -> dict:
    """Load the demo page and press every step's button in order, checking what each shows.
    Returns the seconds each part took (used by benchmarks/bench_page.py too)."""
    times = {}
    t0 = time.monotonic()
    page.goto(url, timeout=LOAD_MS)
    progress = page.locator(".iexec-page-progress-line")
    progress.wait_for(state="visible", timeout=LOAD_MS)
    orders_button = page.locator("button.iexec-page-button-orders")
    page.wait_for_function(
        "() => { const b = document.querySelector('button.iexec-page-button-orders');"
        " return b && !b.disabled; }",
        timeout=LOAD_MS,
    )
    times["load"] = time.monotonic() - t0
    assert "0/6 done" in progress.text_content()
    t1 = time.monotonic()

    # Storage Set-up: the requester signs in; the token shows, the picture goes on IPFS
    storage = page.locator(".iexec-page-storage")
    storage.locator("button", has_text="Sign in to the result proxy").click()
    storage.get_by_text("token kept; the picture is on IPFS").wait_for(timeout=60_000)
    text = storage.text_content()
    assert "token kept for the requester: (none yet)" not in text
    assert "eyJ" in text, text[-800:]  # the JWT's first characters
    wait_progress(page, "1/6 done")

    # Step 0: the orders, each signer the owner the chain names
    orders_button.click()
    signers = page.locator(".iexec-page-orders .iexec-page-signers li")
    signers.nth(1).wait_for(timeout=60_000)
    lines = signers.all_text_contents()
    assert len(lines) == 2 and all("✔ the owner" in x for x in lines), lines
    assert "app_developer" in lines[0] and "scheduler" in lines[1], lines
    assert page.locator(".iexec-page-orders .iexec-signer-ok").count() >= 1

    # Step 1: Buy (enabled now: the storage is set up and the orders inspected)
    buy = page.locator(".iexec-page-buy button", has_text="Buy")
    buy.wait_for(timeout=30_000)
    page.wait_for_function(
        "() => [...document.querySelectorAll('.iexec-page-buy button')]"
        ".some(b => b.textContent.trim() === 'Buy' && !b.disabled)",
        timeout=30_000,
    )
    buy.click()
    deal_id = page.locator(".iexec-page-buy .iexec-deal-id")
    deal_id.wait_for(timeout=60_000)
    dealid = deal_id.text_content().strip()
    assert dealid.startswith("0x") and len(dealid) == 66, dealid

    # Step 2: the deal as the chain records it
    page.locator("button.iexec-page-button-deal").click()
    page.locator(".iexec-page-deal .iexec-panel").wait_for(timeout=60_000)
    wait_progress(page, "4/6 done · next: Step 3")

    # Step 3: the workers at work, until the consensus marker and the end of the run
    page.locator("button.iexec-page-button-execution").click()
    marker = page.locator(".iexec-page-execution .iexec-consensus").first
    marker.wait_for(state="visible", timeout=RUN_MS)
    assert "Consensus reached" in marker.text_content()
    page.wait_for_function(
        "() => { const b = document.querySelector('button.iexec-page-button-finalization');"
        " return b && !b.disabled; }",
        timeout=RUN_MS,
    )

    # Step 4: the result, downloaded and checked; the before/after picture
    page.locator("button.iexec-page-button-finalization").click()
    page.wait_for_function(
        """() => ['img.iexec-before', 'img.iexec-after'].every(sel => {
            const i = document.querySelector(sel);
            return i && i.complete && i.naturalWidth > 0;
        })""",
        timeout=60_000,
    )
    viewer = page.locator(".iexec-page-finalization")
    assert "same digest" in viewer.text_content()
    wait_progress(page, "6/6 done")
    times["click_through"] = time.monotonic() - t1
    body = page.locator("body").text_content()
    assert "Traceback" not in body and "This step did not work" not in body
    if shot is not None:
        screenshot_whole(page, shot)
    times["dealid"] = dealid
    return times


def screenshot_whole(page, path: Path) -> None:
    """The whole page: Voilà's template scrolls inside a box of the window's height, so the
    window is made as tall as the content first."""
    height = page.evaluate(
        "() => Math.max(...[...document.querySelectorAll('*')].map(e => e.scrollHeight))"
    )
    size = page.viewport_size
    page.set_viewport_size({"width": size["width"], "height": min(int(height) + 40, 16_000)})
    page.wait_for_timeout(300)
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=True)
    page.set_viewport_size(size)


def launch(pw):
    return pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS)


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
