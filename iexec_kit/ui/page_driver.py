"""Driving the demo page in a real browser (Playwright over Debian's chromium): load it, press
every step's button in order and check what each shows. Used by tests/ui/test_page_browser.py
and benchmarks/bench_page.py; Playwright is theirs to import (``page`` is a Playwright page).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

CHROMIUM = Path(os.environ.get("IEXEC_KIT_CHROMIUM", "/usr/bin/chromium"))  # Debian's package
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
READY_JS = (
    "() => { const b = document.querySelector('button.iexec-page-button-orders');"
    " return !!b && !b.disabled; }"
)


def wait_ready(page, timeout: float = LOAD_MS) -> None:
    """Wait until the page is ready: the progress line shown and Step 0's button enabled."""
    page.wait_for_function(READY_JS, timeout=timeout)


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
    orders_button = page.locator("button.iexec-page-button-orders")
    wait_ready(page)
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


__all__ = [
    "CHROMIUM",
    "CHROMIUM_FLAGS",
    "click_through",
    "launch",
    "screenshot_whole",
    "wait_ready",
]
